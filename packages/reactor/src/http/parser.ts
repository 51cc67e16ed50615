/**
 * A strict, incremental HTTP/1.1 request parser. Bytes arrive in any split;
 * each complete request is handed to `onRequest`. Anything ambiguous or
 * malformed throws an HttpParseError carrying the status to answer with
 * (400, 413, 414, 417, 431, 501, 505); the connection is then closed.
 *
 * Strict on purpose (RFC 9112): CRLF line ends only (a bare LF is 400),
 * no whitespace before a header colon, no obsolete line folding, token
 * characters in methods and field names, no control characters in values,
 * OWS of SP and HTAB only (ows.ts), Content-Length digits only and at most
 * once, never Content-Length with Transfer-Encoding, chunked the only
 * transfer coding, Host at most once (required in 1.1) and a valid uri-host
 * [":" port], request-targets in origin-, absolute- or (for OPTIONS)
 * asterisk-form with RFC 3986 characters only, chunk lines of exactly
 * chunk-size [chunk-ext], CONNECT refused with 501 (no tunnels), a request
 * line over its limit answered 414 (lines.ts checks each line, grammar.ts
 * holds the ABNF). This file is the state machine: lines, bodies and
 * chunks, and the limits on each; request-head.ts reads a head into the
 * request's strings.
 */
import { CHUNK_LINE_SIZE_MAX, resolveLimits, type HttpLimits, type ResolvedHttpLimits } from './limits.js';
import { HttpRequest } from './request.js';
import type { ParserCallbacks } from './parser-callbacks.js';
import { HttpParseError } from './parse-error.js';
import { readChunkSize } from './lines.js';
import { RequestHead } from './request-head.js';
import { CR, LF } from './bytes.js';

export type { ParserCallbacks } from './parser-callbacks.js';
export { HttpParseError } from './parse-error.js';

const enum State {
  RequestLine,
  Headers,
  Body,
  ChunkSize,
  ChunkData,
  ChunkDataEnd,
  Trailers,
}

/**
 * The strict, incremental HTTP/1.1 request parser (see above): feed it
 * bytes with execute() in any split, and it calls `callbacks.onRequest`
 * per complete request; a malformed request throws an HttpParseError.
 */
export class RequestParser {
  /**
   * The limits in force, defaults filled in.
   * @internal
   */
  readonly limits: ResolvedHttpLimits;
  /** Whom requests go to (rebind(): a server's parsers serve one connection after another). */
  private callbacks: ParserCallbacks;
  private state: State;
  /** Bytes of an unfinished line, carried to the next chunk (copied). */
  private partial: Buffer | null;
  /** Bytes of the header section (or the trailers) so far, against headersSizeMax. */
  private headerBytes: number;
  /**
   * The head being read: its strings, fields and framing facts
   * (request-head.ts). Made at the first request line, so a connection
   * that has sent nothing holds none; every later state follows a request
   * line, so there it is never null.
   */
  private head: RequestHead | null;
  /** A request the server gave back (its handler is done with it): the next request reuses it and its headers array. */
  private spare: HttpRequest | null;
  private request: HttpRequest | null;
  private remaining: number;
  /** A collected body's parts (null until the first body: most requests have none). */
  private bodyParts: Buffer[] | null;
  private bodySize: number;
  private paused: boolean;
  private saved: Buffer | null;
  /** Where the bytes being executed end (the chunk they lie in is longer). */
  private end: number;

  /**
   * A parser waiting for the first request line; `limits` as the server's options.
   * @throws TypeError `ERR_INVALID_ARG_TYPE` when a limit is not a number.
   * @throws RangeError `ERR_OUT_OF_RANGE` when a limit is not a positive safe integer.
   */
  constructor(callbacks: ParserCallbacks, limits?: HttpLimits) {
    this.limits = resolveLimits(limits);
    this.callbacks = callbacks;
    this.state = State.RequestLine;
    this.partial = null;
    this.headerBytes = 0;
    this.head = null;
    this.spare = null;
    this.request = null;
    this.remaining = 0;
    this.bodyParts = null;
    this.bodySize = 0;
    this.paused = false;
    this.saved = null;
    this.end = 0;
  }

  /** True between two requests: no byte of a next request has arrived. */
  get idle(): boolean {
    return this.state === State.RequestLine && this.partial === null && this.saved === null;
  }

  /**
   * True while a request head is partly in and the parser is waiting for
   * the client (not paused behind a response): the span a headers timeout
   * bounds.
   */
  get inHead(): boolean {
    return !this.paused && (this.state === State.Headers || (this.state === State.RequestLine && this.partial !== null));
  }

  /** True while a request is partly in (head or body) and the parser is waiting for the client. */
  get inRequest(): boolean {
    return !this.paused && !(this.state === State.RequestLine && this.partial === null);
  }

  /**
   * Parses data[0..length) (which may be reused by the caller after this
   * returns). Stops early when a callback pauses; the rest is kept for
   * resume().
   */
  execute(data: Uint8Array, length: number = data.byteLength): void {
    // The reactor's reads are already Buffers (its pool chunk and a length): no wrapper per read.
    const bytes = data instanceof Buffer ? data : Buffer.from(data.buffer, data.byteOffset, data.byteLength);
    if (this.paused) {
      const rest = bytes.subarray(0, length);
      this.saved = this.saved === null ? Buffer.from(rest) : Buffer.concat([this.saved, rest]);
      return;
    }
    const previousEnd = this.end;
    this.end = length;
    try {
      let offset = 0;
      while (offset < length && !this.paused) offset = this.step(bytes, offset);
      if (offset < length) this.saved = Buffer.from(bytes.subarray(offset, length));
    } finally {
      this.end = previousEnd; // resume() runs execute() from inside a callback of an outer one
    }
  }

  /**
   * Between requests, with nothing kept and nothing paused: the parser
   * can go to another connection (rebind()) as it is.
   * @internal
   */
  get resting(): boolean {
    return this.state === State.RequestLine && this.partial === null && this.saved === null && !this.paused;
  }

  /**
   * Requests go to `callbacks` from now on (a resting parser given to
   * another connection of the same server: same limits, same kind of callbacks).
   * @internal
   */
  rebind(callbacks: ParserCallbacks): void {
    this.callbacks = callbacks;
  }

  /**
   * The server is done with `request` (its handler returned, its response
   * is complete, nothing holds it): the next request is written into it.
   */
  recycle(request: HttpRequest): void {
    this.spare = request;
  }

  /** Stops handing out requests (a response is pending); bytes that arrive are kept. */
  pause(): void {
    this.paused = true;
  }

  /** Continues with the bytes kept while paused. */
  resume(): void {
    if (!this.paused) return;
    this.paused = false;
    const saved = this.saved;
    this.saved = null;
    if (saved !== null) this.execute(saved);
  }

  /**
   * The bytes kept while paused, taken out (null when none): a connection
   * that switches protocols hands them to its new handler.
   * @internal
   */
  takeSaved(): Buffer | null {
    const saved = this.saved;
    this.saved = null;
    return saved;
  }

  private step(bytes: Buffer, offset: number): number {
    switch (this.state) {
      case State.RequestLine:
      case State.Headers:
      case State.ChunkSize:
      case State.ChunkDataEnd:
      case State.Trailers:
        return this.lineStep(bytes, offset);
      case State.Body:
        return this.bodyStep(bytes, offset);
      case State.ChunkData:
        return this.chunkDataStep(bytes, offset);
    }
  }

  /** Collects one CRLF-ended line (bounded), then interprets it. */
  private lineStep(bytes: Buffer, offset: number): number {
    const dataEnd = this.end;
    // A loop, not indexOf: the bytes read end before the chunk they lie in
    // (indexOf would scan stale bytes past dataEnd), and lines are short.
    let newline = offset;
    while (newline < dataEnd && bytes[newline] !== LF) newline += 1;
    if (newline === dataEnd) newline = -1;
    const available = newline === -1 ? dataEnd : newline;
    const size = (this.partial?.length ?? 0) + (available - offset);
    this.checkLineSize(size);
    if (newline === -1) {
      const rest = bytes.subarray(offset, dataEnd);
      this.partial = this.partial === null ? Buffer.from(rest) : Buffer.concat([this.partial, rest]);
      return dataEnd;
    }
    // The common case reads the line in place (no view, no copy): only a
    // line split across chunks is joined first.
    let line = bytes;
    let start = offset;
    let end: number = newline;
    if (this.partial !== null) {
      line = Buffer.concat([this.partial, bytes.subarray(offset, newline)]);
      this.partial = null;
      start = 0;
      end = line.length;
    }
    if (end === start || line[end - 1] !== CR) throw new HttpParseError(400, 'line ended with a bare LF (CRLF required)');
    this.line(line, start, end - 1);
    return newline + 1;
  }

  private checkLineSize(size: number): void {
    const limits = this.limits;
    switch (this.state) {
      case State.RequestLine:
        // RFC 9112 3: a request-target longer than the server parses is 414 (URI Too Long).
        if (size > limits.requestLineSizeMax + 1) throw new HttpParseError(414, `request line over ${limits.requestLineSizeMax} bytes`);
        return;
      case State.Headers:
      case State.Trailers:
        if (this.headerBytes + size > limits.headersSizeMax + 1) throw new HttpParseError(431, `header section over ${limits.headersSizeMax} bytes`);
        return;
      default:
        if (size > CHUNK_LINE_SIZE_MAX) throw new HttpParseError(400, 'chunk-size line too long');
    }
  }

  /** Interprets line[start..end) (CRLF already removed). */
  private line(line: Buffer, start: number, end: number): void {
    const empty = end === start;
    switch (this.state) {
      case State.RequestLine:
        if (empty) return; // RFC 9112 2.2: ignore empty lines before a request line
        // A request given back (recycle) lends its headers array: written over in place.
        (this.head ??= new RequestHead(this.limits.headersCountMax)).requestLine(line, start, end, this.spare === null ? null : (this.spare.headers as string[]));
        this.headerBytes = 0;
        this.state = State.Headers;
        return;
      case State.Headers:
        if (empty) {
          this.headersDone();
          return;
        }
        this.headerBytes += end - start + 2;
        this.head!.field(line, start, end);
        return;
      case State.ChunkSize:
        this.chunkSize(line, start, end);
        return;
      case State.ChunkDataEnd:
        if (!empty) throw new HttpParseError(400, 'chunk data longer than its size');
        this.state = State.ChunkSize;
        return;
      case State.Trailers:
        if (empty) {
          this.finish();
          return;
        }
        this.headerBytes += end - start + 2;
        this.head!.trailer(line, start, end); // validated, then dropped: trailers carry nothing we use
        return;
      default:
        throw new Error('unreachable: line() is only called from line states');
    }
  }

  private headersDone(): void {
    const head = this.head!;
    const facts = head.complete();
    const { contentLength, chunked } = facts;
    let request = this.spare;
    if (request === null) {
      request = new HttpRequest(head.method, head.target, head.versionMinor, head.headers, facts.keepAlive, facts.expectContinue);
    } else {
      this.spare = null;
      request.reuse(head.method, head.target, head.versionMinor, head.headers, facts.keepAlive, facts.expectContinue);
    }
    this.request = request;
    if (this.bodyParts !== null && this.bodyParts.length > 0) this.bodyParts.length = 0;
    this.bodySize = 0;
    // Streaming: the handler gets the head now; a body follows as it arrives.
    const streaming = this.callbacks.onBodyData !== undefined;
    if (streaming) request.hasBody = chunked || contentLength > 0;
    if (chunked) {
      this.expectBody(request);
      this.state = State.ChunkSize;
      return;
    }
    if (contentLength > 0) {
      // Streaming, the handler sees the head and may answer (as node-server lets an app): the limit then
      // fails the body when it is crossed. Asked to confirm first (100-continue), 413 now spares the upload.
      if (contentLength > this.limits.bodySizeMax && (!streaming || request.expectContinue)) throw new HttpParseError(413, `body of ${contentLength} bytes over ${this.limits.bodySizeMax}`);
      this.expectBody(request);
      this.remaining = contentLength;
      this.state = State.Body;
      return;
    }
    this.finish();
  }

  private expectBody(request: HttpRequest): void {
    if (request.expectContinue) this.callbacks.onContinue?.(request);
    if (this.callbacks.onBodyData !== undefined) this.callbacks.onRequest(request); // the head, before its body
  }

  /** A piece of body: collected, or handed over when streaming. Copied either way: the caller reuses its buffer. */
  private bodyPart(bytes: Buffer, start: number, end: number): void {
    const part = Buffer.from(bytes.subarray(start, end));
    if (this.callbacks.onBodyData !== undefined) this.callbacks.onBodyData(part);
    else (this.bodyParts ??= []).push(part);
  }

  private bodyStep(bytes: Buffer, offset: number): number {
    const take = Math.min(this.remaining, this.end - offset);
    if (this.bodySize + take > this.limits.bodySizeMax) throw new HttpParseError(413, `body over ${this.limits.bodySizeMax} bytes`);
    this.bodyPart(bytes, offset, offset + take);
    this.bodySize += take;
    this.remaining -= take;
    if (this.remaining === 0) this.finish();
    return offset + take;
  }

  private chunkSize(line: Buffer, start: number, lineEnd: number): void {
    const size = readChunkSize(line, start, lineEnd, this.limits.bodySizeMax);
    if (size === 0) {
      this.headerBytes = 0;
      this.state = State.Trailers;
      return;
    }
    if (this.bodySize + size > this.limits.bodySizeMax) throw new HttpParseError(413, `chunked body over ${this.limits.bodySizeMax} bytes`);
    this.remaining = size;
    this.state = State.ChunkData;
  }

  private chunkDataStep(bytes: Buffer, offset: number): number {
    const take = Math.min(this.remaining, this.end - offset);
    this.bodyPart(bytes, offset, offset + take);
    this.bodySize += take;
    this.remaining -= take;
    if (this.remaining === 0) this.state = State.ChunkDataEnd;
    return offset + take;
  }

  private finish(): void {
    const request = this.request;
    if (request === null) throw new Error('unreachable: finish() follows headersDone()');
    const parts = this.bodyParts;
    if (parts !== null && parts.length > 0) {
      request.body = parts.length === 1 ? parts[0]! : Buffer.concat(parts, this.bodySize);
      parts.length = 0; // the parts are in request.body now
    }
    this.request = null;
    this.state = State.RequestLine;
    // Streaming: a request with a body was handed out at its head; one without is handed out now.
    if (request.hasBody) this.callbacks.onBodyEnd!();
    else this.callbacks.onRequest(request);
  }
}
