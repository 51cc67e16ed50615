/**
 * A parsed request: method, target, version, headers (names in lower case)
 * and the body, whole or streamed.
 *
 * How long it stays as it is (the reuse rule): a handler that returns
 * without a promise and has completed its response by then gets objects
 * the server reuses for a later request (of this connection or another of
 * the server's: they wait in its pool between requests), so keeping no
 * garbage per request and no spare objects per idle connection. Such a handler keeps a request past its return
 * with `retain()`, a copy that never changes. A handler that returns a
 * promise, answers later, streams the body, asked for `signal`, or gave the
 * response an onDrain or onClose callback, gets a request that never
 * changes: the server makes fresh objects after it.
 */
import { ZepollError } from '../errors.js';
import { BodyStream } from './body-stream.js';

/**
 * A parsed request, as a handler gets it: method, target, version,
 * headers (names in lower case) and the body, whole or streamed. When the
 * handler returns without a promise and its response is complete, this
 * object is reused for a later request, of this connection or another:
 * keep it past the return with `retain()` (the reuse rule, docs/http.md).
 */
export class HttpRequest implements AsyncIterable<Buffer> {
  /** The method as sent (case-sensitive, e.g. 'GET'). */
  readonly method: string;
  /** The request-target as sent: origin form (`/path?query`) for most requests. */
  readonly target: string;
  /** 0 for HTTP/1.0, 1 for HTTP/1.1. */
  readonly versionMinor: number;
  /** Field names (lower case) and values, alternating, in the order received. */
  readonly headers: readonly string[];
  /**
   * The whole body (empty when there is none, and for a streamed body:
   * read that with `for await (const part of request)`).
   */
  body: Uint8Array;
  /** Whether the connection stays open after the response (HTTP/1.0 and 1.1 rules). */
  readonly keepAlive: boolean;
  /** The request carried `Expect: 100-continue` (the server sends 100 Continue itself). */
  readonly expectContinue: boolean;
  /** Streaming servers: a body follows the head (Content-Length above 0, or chunked). */
  hasBody: boolean;
  /**
   * Set by the server when the body streams: parts as they arrive, with
   * backpressure. Handlers read it with `for await (const part of request)`.
   * @internal
   */
  stream: BodyStream | null;
  private controller: AbortController | null;
  private abortReason: Error | null;
  private queryParams: URLSearchParams | null;

  /**
   * Made by the parser (RequestParser) for each request; `headers` holds
   * field names (lower case) and values, alternating. Nothing is checked here.
   */
  constructor(method: string, target: string, versionMinor: number, headers: string[], keepAlive: boolean, expectContinue: boolean) {
    this.method = method;
    this.target = target;
    this.versionMinor = versionMinor;
    this.headers = headers;
    this.body = EMPTY;
    this.keepAlive = keepAlive;
    this.expectContinue = expectContinue;
    this.hasBody = false;
    this.stream = null;
    this.controller = null;
    this.abortReason = null;
    this.queryParams = null;
  }

  /**
   * The server's reuse (see the class): this object becomes a next request (of any connection of the server).
   * @internal
   */
  reuse(method: string, target: string, versionMinor: number, headers: string[], keepAlive: boolean, expectContinue: boolean): void {
    const self = this as Reusable;
    self.method = method;
    self.target = target;
    self.versionMinor = versionMinor;
    self.headers = headers;
    self.keepAlive = keepAlive;
    self.expectContinue = expectContinue;
    this.body = EMPTY;
    this.hasBody = false;
    this.stream = null;
    this.queryParams = null;
  }

  /**
   * False once something may hold on to this object beyond its handler: its
   * signal (listeners), a streamed body, an abort.
   * @internal
   */
  get reusable(): boolean {
    return this.controller === null && this.stream === null && this.abortReason === null;
  }

  /**
   * A copy of this request that never changes, for a handler that keeps
   * the request after it returns (a synchronous handler's request object
   * is reused for a later request, of this connection or another). The
   * body is shared (it is never written to); a streamed body stays with
   * the original.
   */
  retain(): HttpRequest {
    const copy = new HttpRequest(this.method, this.target, this.versionMinor, this.headers.slice(), this.keepAlive, this.expectContinue);
    copy.body = this.body;
    copy.hasBody = this.hasBody;
    copy.abortReason = this.abortReason;
    return copy;
  }

  /** The first value of a field (name in any case), or undefined. */
  header(name: string): string | undefined {
    const wanted = name.toLowerCase();
    for (let index = 0; index < this.headers.length; index += 2) if (this.headers[index] === wanted) return this.headers[index + 1];
    return undefined;
  }

  /** Every value of a field (name in any case), in the order received. */
  headerValues(name: string): string[] {
    const wanted = name.toLowerCase();
    const values: string[] = [];
    for (let index = 0; index < this.headers.length; index += 2) if (this.headers[index] === wanted) values.push(this.headers[index + 1]!);
    return values;
  }

  /** The path part of the target, before any `?`. */
  get path(): string {
    const query = this.target.indexOf('?');
    return query === -1 ? this.target : this.target.slice(0, query);
  }

  /** The query string parsed (made on first use; empty when the target has none). */
  get query(): URLSearchParams {
    if (this.queryParams === null) {
      const start = this.target.indexOf('?');
      this.queryParams = new URLSearchParams(start === -1 ? '' : this.target.slice(start + 1));
    }
    return this.queryParams;
  }

  /**
   * Aborted when the peer goes away before the response is complete (a
   * reset, a close, or a FIN while the response is pending unless the
   * server allows half-open), or the server force-closes the connection.
   * Its reason is a ZepollError with code `ERR_ZEPOLL_ABORTED`. Made on
   * first use: a handler that never asks costs nothing.
   */
  get signal(): AbortSignal {
    if (this.controller === null) {
      this.controller = new AbortController();
      if (this.abortReason !== null) this.controller.abort(this.abortReason);
    }
    return this.controller.signal;
  }

  /** True once the peer went away before the response was complete. */
  get aborted(): boolean {
    return this.abortReason !== null;
  }

  /**
   * The body, part by part (Buffers the caller owns). A streamed body
   * arrives as the client sends it; reading slower than it arrives pauses
   * the connection. A buffered body comes as one part. Iterating a body
   * twice, or after the connection closed, throws `ERR_ZEPOLL_ABORTED` or
   * ends at once.
   */
  [Symbol.asyncIterator](): AsyncIterator<Buffer> {
    if (this.stream !== null) return this.stream.iterator();
    return BodyStream.once(this.body).iterator();
  }

  /** The whole body as one Buffer, streamed or not (bounded by the server's bodySizeMax). */
  async bytes(): Promise<Buffer> {
    const parts: Buffer[] = [];
    for await (const part of this) parts.push(part);
    return parts.length === 1 ? parts[0]! : Buffer.concat(parts);
  }

  /** The whole body decoded as UTF-8. */
  async text(): Promise<string> {
    return (await this.bytes()).toString('utf8');
  }

  /**
   * Called by the server: the peer went away before the response was
   * complete. Aborts `signal` and a streamed body with `ERR_ZEPOLL_ABORTED`.
   * @internal
   */
  abort(): void {
    if (this.abortReason !== null) return;
    this.abortReason = new ZepollError('ERR_ZEPOLL_ABORTED', `${this.method} ${this.path}: the client went away before the response was complete`);
    this.stream?.fail(this.abortReason);
    this.controller?.abort(this.abortReason);
  }
}

const EMPTY = new Uint8Array(0);

/** The fields reuse() rewrites: read-only to handlers. */
interface Reusable {
  method: string;
  target: string;
  versionMinor: number;
  headers: readonly string[];
  keepAlive: boolean;
  expectContinue: boolean;
}
