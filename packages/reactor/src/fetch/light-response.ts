/**
 * A lighter `Response` for fetch handlers, as @hono/node-server installs.
 *
 * On Node 20 every platform Response with a body builds a web
 * ReadableStream in its constructor (undici's extractBody), and each stream
 * is made transferable, which costs more than the rest of a small request
 * on zepoll (measured: 11% of the CPU in makeTransferable alone for a Hono
 * "hello world"). A handler's `new Response('hello')` is usually sent and
 * never read, so this class keeps the body and init as given and builds the
 * platform Response only when something beyond `status`, `ok` and `headers`
 * is asked of it (`body`, `text()`, `clone()`, ...). serve() sends a kept
 * string, bytes, stream or null body directly.
 *
 * Headers given as a Headers object are kept by reference, as
 * @hono/node-server keeps them: Hono passes its context's Headers and
 * middleware may set more after the handler returned (serveStatic's
 * `onFound`), which must go out. A Response given as the init (`new
 * Response(body, parent)`) is read at once, as the platform reads it: a
 * later change to the parent does not reach this one.
 *
 * It is a Response by prototype, and `instanceof Response` holds for it and
 * for platform Responses alike. serve() installs it as the global Response
 * unless told not to (`overrideGlobalObjects: false`).
 */

/** The platform's Response, captured before any override. */
export const PlatformResponse: typeof Response = globalThis.Response;

/** What a Response takes as a body (BodyInit; @types/node 20 has no global name for it). */
export type ResponseBody = ConstructorParameters<typeof Response>[0];
/** What Headers takes (HeadersInit). */
export type HeadersInput = NonNullable<ConstructorParameters<typeof Headers>[0]>;

/**
 * The Content-Type of a body given without one: @hono/node-server's, byte
 * for byte (undici's own is `text/plain;charset=UTF-8`), both in `headers`
 * and on the wire.
 */
export const BODY_CONTENT_TYPE = 'text/plain; charset=UTF-8';

const BODY = Symbol('zepoll.fetch.body');
const INIT = Symbol('zepoll.fetch.init');
const REAL = Symbol('zepoll.fetch.realResponse');
const HEADERS = Symbol('zepoll.fetch.headers');

/** A body serve() sends without a stream. */
export type PlainBody = string | Uint8Array | null;
/** A body serve() sends without the platform Response: plain, or a stream it reads itself. */
export type KeptBody = PlainBody | ReadableStream<Uint8Array>;

/** The kept parts of a light response, for serve(). */
export interface KeptResponse {
  readonly status: number;
  /** The reason phrase given ('' or undefined: the status's usual one). */
  readonly statusText: string | undefined;
  readonly body: KeptBody;
  /** The headers as given (a Headers object once someone asked for `headers`). */
  readonly headers: HeadersInput | undefined;
  readonly kept: true;
}

const isPlain = (body: unknown): body is PlainBody => body === null || body === undefined || typeof body === 'string' || body instanceof Uint8Array;
/** A stream nobody has read yet: the platform would take it as it is. */
const isFreshStream = (body: unknown): body is ReadableStream<Uint8Array> => body instanceof ReadableStream && !body.locked;
/** RFC 9112 reason-phrase, as undici checks a statusText. */
const REASON_PHRASE = /^[\t\x20-\x7e\x80-\xff]*$/;

/** Statuses that may carry no body (the platform Response refuses one). */
const NULL_BODY_STATUSES: ReadonlySet<number> = new Set([204, 205, 304]);
const STATUS_MIN = 200;
const STATUS_MAX = 599;

/** Whether the platform Response must see these arguments now, to throw what it throws (a bad status, a body on a 204). */
function needsPlatformChecks(body: ResponseBody, init: ResponseInit | undefined): boolean {
  if (!isPlain(body) && !isFreshStream(body)) return true;
  const statusText = init?.statusText;
  if (statusText !== undefined && (typeof statusText !== 'string' || !REASON_PHRASE.test(statusText))) return true;
  const status = init?.status;
  if (status === undefined) return false;
  if (!Number.isInteger(status) || status < STATUS_MIN || status > STATUS_MAX) return true;
  return body !== null && body !== undefined && NULL_BODY_STATUSES.has(status);
}

export class LightResponse {
  private [BODY]: ResponseBody;
  private [INIT]: ResponseInit | undefined;
  private [REAL]: Response | null = null;
  private [HEADERS]: Headers | null = null;

  static [Symbol.hasInstance](instance: unknown): boolean {
    return instance instanceof PlatformResponse;
  }

  constructor(body?: ResponseBody, init?: ResponseInit) {
    this[BODY] = body;
    this[INIT] = init instanceof PlatformResponse ? LightResponse.snapshot(init) : init;
    // Built now when not kept, so the platform's own checks (a bad status, a body on a 204) throw here, as they would.
    if (needsPlatformChecks(body, init)) this.real();
  }

  /** The platform Response, built once. */
  real(): Response {
    let real = this[REAL];
    if (real === null) {
      const init = this[INIT];
      const headers = this[HEADERS];
      real = new PlatformResponse(this[BODY], headers === null ? init : { ...init, headers });
      this[REAL] = real;
    }
    return real;
  }

  get status(): number {
    return this[REAL]?.status ?? this[INIT]?.status ?? 200;
  }

  get ok(): boolean {
    const status = this.status;
    return status >= 200 && status < 300;
  }

  get headers(): Headers {
    if (this[REAL] !== null) return this[REAL].headers;
    let headers = this[HEADERS];
    if (headers === null) {
      const given = this[INIT]?.headers;
      if (given instanceof Headers) {
        headers = given; // the caller's object, live (see the file's comment)
      } else {
        headers = new Headers(given);
        if (typeof this[BODY] === 'string' && !headers.has('content-type')) headers.set('content-type', BODY_CONTENT_TYPE);
      }
      this[HEADERS] = headers;
    }
    return headers;
  }

  /** What serve() sends directly, or null when this must go through the platform Response. */
  kept(): KeptResponse | null {
    const body = this[BODY];
    if (this[REAL] !== null || !(isPlain(body) || isFreshStream(body))) return null;
    const init = this[INIT];
    return { status: init?.status ?? 200, statusText: init?.statusText, body: body ?? null, headers: this[HEADERS] ?? init?.headers, kept: true };
  }

  /** A Response given as an init, read now (status, reason and a copy of its headers), as the platform reads it. */
  private static snapshot(parent: Response): ResponseInit {
    const statusText = isLightResponse(parent) ? (parent[REAL]?.statusText ?? parent[INIT]?.statusText) : parent.statusText;
    const headers = new Headers(parent.headers);
    return statusText === undefined ? { status: parent.status, headers } : { status: parent.status, statusText, headers };
  }
}



// The rest of Response, answered by the platform Response.
for (const name of Object.getOwnPropertyNames(PlatformResponse.prototype)) {
  if (name === 'constructor' || Object.prototype.hasOwnProperty.call(LightResponse.prototype, name)) continue;
  const descriptor = Object.getOwnPropertyDescriptor(PlatformResponse.prototype, name)!;
  if (typeof descriptor.value === 'function') {
    Object.defineProperty(LightResponse.prototype, name, {
      value(this: LightResponse, ...args: unknown[]) {
        return (this.real() as unknown as Record<string, (...args: unknown[]) => unknown>)[name]!(...args);
      },
    });
  } else if (descriptor.get !== undefined) {
    Object.defineProperty(LightResponse.prototype, name, { get(this: LightResponse) { return (this.real() as unknown as Record<string, unknown>)[name]; } });
  }
}
Object.setPrototypeOf(LightResponse, PlatformResponse); // Response.json(), .redirect(), .error()
Object.setPrototypeOf(LightResponse.prototype, PlatformResponse.prototype);

/** Whether `response` is a LightResponse (instanceof answers true for platform Responses too). */
export const isLightResponse = (response: unknown): response is LightResponse =>
  typeof response === 'object' && response !== null && Object.getPrototypeOf(response) === LightResponse.prototype;

/** The servers that installed LightResponse and have not closed: the global goes back when the last one closes. */
let installs = 0;
/** The global Response the first install replaced. */
let replaced: typeof Response | null = null;

function setGlobalResponse(value: unknown): void {
  Object.defineProperty(globalThis, 'Response', { value, writable: true, configurable: true, enumerable: false });
}

/**
 * Installs LightResponse as the global Response, for one server; the
 * returned function says that server closed (serve() calls it once, from
 * its once-only close), and the last one to close puts the global back as
 * it found it (unless someone else replaced it meanwhile: theirs is left
 * alone).
 */
export function installLightResponse(): () => void {
  if (installs === 0 && globalThis.Response !== (LightResponse as unknown as typeof Response)) {
    replaced = globalThis.Response;
    setGlobalResponse(LightResponse);
  }
  installs += 1;
  return () => {
    installs -= 1;
    if (installs > 0) return;
    if (replaced !== null && globalThis.Response === (LightResponse as unknown as typeof Response)) setGlobalResponse(replaced);
    replaced = null;
  };
}
