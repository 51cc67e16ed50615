/**
 * The platform `Request` a fetch handler gets, made lazily.
 *
 * Building an undici Request costs more than the rest of a small request's
 * path (its constructor parses the URL, copies the headers into a Headers
 * list and wraps the body), and most handlers read only `method`, `url` and
 * a header or two. So the object handed over is a `Request` by prototype
 * (`instanceof Request` holds) that answers `method`, `url`, `headers` and
 * `signal` itself, and builds the real Request, once, the first time
 * anything else is asked of it (`body`, `text()`, `clone()`, ...), then
 * answers from that. @hono/node-server does the same for the same reason.
 */
import type { HttpRequest } from '../http/request.js';
import type { HttpResponse } from '../http/response.js';

/** The body of a request that has one, as a stream that pulls with backpressure. */
function bodyStream(source: HttpRequest): ReadableStream<Uint8Array> {
  const iterator = source[Symbol.asyncIterator]();
  // highWaterMark 0: nothing is read from the connection until the reader
  // asks, so a slow reader pauses the client (the HTTP layer's backpressure).
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        const next = await iterator.next();
        if (next.done === true) controller.close();
        else controller.enqueue(new Uint8Array(next.value.buffer, next.value.byteOffset, next.value.byteLength));
      },
      async cancel() {
        await iterator.return?.();
      },
    },
    { highWaterMark: 0 },
  );
}

/** A body of no bytes: a stream that is closed from the start. */
function emptyStream(): ReadableStream<Uint8Array> {
  return new ReadableStream<Uint8Array>({
    start(controller) {
      controller.close();
    },
  });
}

const SOURCE = Symbol('zepoll.fetch.source');
const URL_TEXT = Symbol('zepoll.fetch.url');
const HEADERS = Symbol('zepoll.fetch.headers');
const REAL = Symbol('zepoll.fetch.real');
const RESPONSE = Symbol('zepoll.fetch.response');

/** The fields of a lazy request; its prototype chain ends in Request.prototype. */
interface LazyRequest {
  [SOURCE]: HttpRequest;
  [URL_TEXT]: string;
  [HEADERS]: Headers | null;
  [REAL]: Request | null;
  /** The response that answers it: server.upgrade() switches it to WebSocket. */
  [RESPONSE]: HttpResponse;
}

/** The methods whose requests carry no body (a Request refuses one for them). */
const BODYLESS_METHODS: ReadonlySet<string> = new Set(['GET', 'HEAD']);

function headersOf(self: LazyRequest): Headers {
  let headers = self[HEADERS];
  if (headers === null) {
    headers = new Headers();
    const fields = self[SOURCE].headers;
    for (let index = 0; index < fields.length; index += 2) headers.append(fields[index]!, fields[index + 1]!);
    self[HEADERS] = headers;
  }
  return headers;
}

function realOf(self: LazyRequest): Request {
  let real = self[REAL];
  if (real === null) {
    const source = self[SOURCE];
    // Every method but GET and HEAD gets a body stream, empty when none was
    // sent (Content-Length: 0, or no framing): as @hono/node-server, so
    // `await request.text()` on a bodiless POST is '' rather than a null body.
    const withBody = !BODYLESS_METHODS.has(source.method);
    const init: RequestInit & { duplex?: 'half' } = { method: source.method, headers: headersOf(self), signal: source.signal };
    if (withBody) {
      init.body = source.hasBody ? bodyStream(source) : emptyStream();
      init.duplex = 'half'; // a streamed request body (undici requires saying so)
    }
    real = new Request(self[URL_TEXT], init);
    self[REAL] = real;
  }
  return real;
}

/** What the lazy request answers without building the real one. */
const lazyPrototype: object = Object.create(Request.prototype, {
  method: { get(this: LazyRequest) { return this[SOURCE].method; } },
  url: { get(this: LazyRequest) { return this[URL_TEXT]; } },
  headers: { get(this: LazyRequest) { return this[REAL]?.headers ?? headersOf(this); } },
  signal: { get(this: LazyRequest) { return this[SOURCE].signal; } },
});

// Everything else Request has is answered by the real one, built on first use.
for (const name of Object.getOwnPropertyNames(Request.prototype)) {
  if (name === 'constructor' || Object.prototype.hasOwnProperty.call(lazyPrototype, name)) continue;
  const descriptor = Object.getOwnPropertyDescriptor(Request.prototype, name)!;
  if (typeof descriptor.value === 'function') {
    Object.defineProperty(lazyPrototype, name, {
      value(this: LazyRequest, ...args: unknown[]) {
        return (realOf(this) as unknown as Record<string, (...args: unknown[]) => unknown>)[name]!(...args);
      },
    });
  } else if (descriptor.get !== undefined) {
    Object.defineProperty(lazyPrototype, name, { get(this: LazyRequest) { return (realOf(this) as unknown as Record<string, unknown>)[name]; } });
  }
}
Object.defineProperty(lazyPrototype, Symbol.toStringTag, { value: 'Request' });

/** The Request for one HTTP request, at `url` (from requestUrl), answered by `response`. */
export function fetchRequest(source: HttpRequest, url: string, response: HttpResponse): Request {
  const lazy = Object.create(lazyPrototype) as LazyRequest;
  lazy[SOURCE] = source;
  lazy[URL_TEXT] = url;
  lazy[HEADERS] = null;
  lazy[REAL] = null;
  lazy[RESPONSE] = response;
  return lazy as unknown as Request;
}

/** The HTTP request and response behind a Request that fetchRequest() made; null for any other Request. */
export function exchangeOf(request: Request): { readonly source: HttpRequest; readonly response: HttpResponse } | null {
  if (Object.getPrototypeOf(request) !== lazyPrototype) return null;
  const lazy = request as unknown as LazyRequest;
  return { source: lazy[SOURCE], response: lazy[RESPONSE] };
}
