/**
 * A response: status and headers, then a body sent whole (`end(body)`,
 * Content-Length, headers and body in one writev) or streamed (`write()`,
 * chunked in HTTP/1.1, delimited by close in 1.0, or within a declared
 * Content-Length) with backpressure.
 *
 * Every argument is checked before a byte is queued (response-arguments.ts;
 * header names and values in response-headers.ts) and nothing reaches the
 * wire when one is wrong. The bytes around a body, the head and the chunk
 * framing, are made in response-wire.ts.
 */
import { invalidArgType, ZepollError } from '../errors.js';
import type { Connection, ConnectionHandler } from '../connection.js';
import { checkHandler } from '../handler.js';
import { checkSendFileArguments } from '../write-arguments.js';
import { FRAMING_CHUNKED, FRAMING_NONE } from './head-cache.js';
import { bodyBytes, checkSwitchField, LENGTH_UNDECLARED, ResponseHeaders, type HeaderValue } from './response-headers.js';
import { checkFileRange, checkLastPart, checkStatus, checkStreamedPart, checkWholeBody, hasNoContent, jsonText, reasonPhrase, REASON_DEFAULT, refuseContent } from './response-arguments.js';
import { connectionHandling, encodeResponseHead, headOnlyFraming, NOTHING, switchingHead, writeChunks, writePair } from './response-wire.js';
import { ResponseCallbacks } from './response-callbacks.js';

export type { HeaderValue } from './response-headers.js';

const JSON_TYPE = 'application/json; charset=utf-8';

/**
 * What a response reports to: the HTTP exchange of its connection (exchange.ts).
 * Internal to the HTTP layer; not exported.
 */
export interface ResponseOwner {
  /** The response is complete; `keepAlive` says whether the next request may follow. */
  responseDone(response: HttpResponse, keepAlive: boolean): void;
  /** A callback given to onDrain or onClose threw or rejected. */
  callbackFailed(response: HttpResponse, error: unknown): void;
  /** Throws unless `response` may switch protocols now (its request read in full). */
  checkSwitch(response: HttpResponse): void;
  /** `response` answered 101: the connection goes to `handler`, with the bytes read past the request. */
  switched(response: HttpResponse, handler: ConnectionHandler): void;
}

/** How a streamed body is delimited: not streamed (yet), chunks, the connection's close (HTTP/1.0), or a declared Content-Length. */
type Streaming = 'none' | 'chunked' | 'close' | 'length';

/**
 * The response to one request, as a handler gets it: set the status and
 * headers, then send the body whole (`end()`, `json()`, `sendFile()`) or
 * stream it (`write()` with `onDrain()`). Bad arguments throw before a
 * byte is queued. Reused for a later request, of this connection or
 * another, under the reuse rule (docs/http.md).
 */
export class HttpResponse {
  /**
   * The status sent with the head (default 200). A plain field: checked
   * (an integer from 200 to 999) when the head is sent, which then throws
   * TypeError `ERR_INVALID_ARG_TYPE` or RangeError `ERR_OUT_OF_RANGE`.
   */
  statusCode: number;
  /**
   * The reason phrase sent with the status ('' for its usual one, as
   * `STATUS_CODES` has it). A plain field: checked when the head is sent,
   * which then throws TypeError `ERR_INVALID_ARG_TYPE` or
   * `ERR_INVALID_ARG_VALUE` (a control byte, a character past Latin-1).
   */
  statusMessage: string;
  /** The connection the response is written to. */
  readonly connection: Connection;
  /**
   * Whether the request lets the connection stay open after this response
   * (HTTP/1.0 and 1.1 rules); a `Connection: close` header set by the
   * handler closes it anyway.
   */
  readonly keepAlive: boolean;
  private versionMinor: number;
  private headOnly: boolean;
  private owner: ResponseOwner;
  private readonly headers: ResponseHeaders;
  private headersSent: boolean;
  private streaming: Streaming;
  /** Body bytes sent so far within a declared Content-Length. */
  private lengthSent: number;
  private finishedFlag: boolean;
  private closedFlag: boolean;
  /** Head and body, handed to writeMany by end() (one array per response object, not per response). */
  private readonly pair: Uint8Array[];
  /** What onDrain and onClose were given (made at the first: the response is then never reused), or null. */
  private callbacks: ResponseCallbacks | null;

  /**
   * Made by the HTTP layer for each request (`headOnly` for HEAD: the head
   * is sent, never a body).
   * @internal
   */
  constructor(owner: ResponseOwner, connection: Connection, versionMinor: number, keepAlive: boolean, headOnly: boolean) {
    this.statusCode = 200;
    this.statusMessage = REASON_DEFAULT;
    this.owner = owner;
    this.connection = connection;
    this.versionMinor = versionMinor;
    this.keepAlive = keepAlive;
    this.headOnly = headOnly;
    this.headers = new ResponseHeaders();
    this.headersSent = false;
    this.streaming = 'none';
    this.lengthSent = 0;
    this.finishedFlag = false;
    this.closedFlag = false;
    this.pair = [NOTHING, NOTHING];
    this.callbacks = null;
  }

  /**
   * Makes this object the response to a next request, on `connection`
   * (the server's reuse rule, exchange.ts: only after a handler that
   * returned without a promise, with this response complete and no
   * callback given; the object may go to another connection of the server).
   * @internal
   */
  reuse(owner: ResponseOwner, connection: Connection, versionMinor: number, keepAlive: boolean, headOnly: boolean): void {
    this.statusCode = 200;
    this.statusMessage = REASON_DEFAULT;
    this.owner = owner;
    (this as { connection: Connection }).connection = connection; // read-only to handlers
    this.versionMinor = versionMinor;
    (this as { keepAlive: boolean }).keepAlive = keepAlive; // read-only to handlers
    this.headOnly = headOnly;
    this.headers.clear();
    this.headersSent = false;
    this.streaming = 'none';
    this.lengthSent = 0;
    this.finishedFlag = false;
    this.closedFlag = false;
    this.callbacks = null; // given after it came back (code that outlived its handler): never for this request
  }

  /**
   * The connection ends after this response (the server is closing): its
   * head, if not sent yet, says `Connection: close`.
   * @internal
   */
  closeAfter(): void {
    (this as { keepAlive: boolean }).keepAlive = false; // read-only to handlers
  }

  /**
   * No callback was ever given (onDrain, onClose): nothing can reach this
   * object later. A callback already run may still report a rejection, or
   * an onClose given after the close runs in a microtask: either would find
   * the next request's response here.
   * @internal
   */
  get settled(): boolean {
    return this.callbacks === null;
  }

  /** True once end() ran, or sendFile() settled: the response is complete and nothing more may be written. */
  get finished(): boolean {
    return this.finishedFlag;
  }

  /** The head was queued: headers can no longer change. */
  get sent(): boolean {
    return this.headersSent;
  }

  /**
   * Sets a header, replacing one of the same name in any case. Content-Length
   * is checked against the body; Transfer-Encoding may only be 'chunked',
   * Connection only 'close' or 'keep-alive' (the layer writes these itself).
   * @throws TypeError `ERR_INVALID_ARG_TYPE`/`ERR_INVALID_ARG_VALUE` for a bad name or value (CR/LF included).
   * @throws ZepollError `ERR_ZEPOLL_HTTP_RESPONSE` when the head was sent already.
   */
  setHeader(name: string, value: HeaderValue): this {
    this.refuseAfterHead('setHeader()');
    this.headers.set(name, value);
    return this;
  }

  /**
   * A header's value (several as an array), by name in any case.
   * @throws TypeError `ERR_INVALID_ARG_TYPE`/`ERR_INVALID_ARG_VALUE` when `name` is not a valid field name.
   */
  getHeader(name: string): string | string[] | undefined {
    return this.headers.get(name);
  }

  /**
   * Whether a header of that name (any case) is set.
   * @throws TypeError `ERR_INVALID_ARG_TYPE`/`ERR_INVALID_ARG_VALUE` when `name` is not a valid field name.
   */
  hasHeader(name: string): boolean {
    return this.headers.has(name);
  }

  /**
   * Removes a header by name in any case; removing Content-Length,
   * Transfer-Encoding or Connection gives the framing back to the layer.
   * @throws TypeError `ERR_INVALID_ARG_TYPE`/`ERR_INVALID_ARG_VALUE` when `name` is not a valid field name.
   * @throws ZepollError `ERR_ZEPOLL_HTTP_RESPONSE` when the head was sent already.
   */
  removeHeader(name: string): this {
    this.refuseAfterHead('removeHeader()');
    this.headers.delete(name);
    return this;
  }

  /**
   * Sets the status and headers at once.
   * @throws TypeError `ERR_INVALID_ARG_TYPE` when `status` is not a number; RangeError
   *   `ERR_OUT_OF_RANGE` when it is not an integer from 200 to 999; as setHeader() for a header.
   * @throws ZepollError `ERR_ZEPOLL_HTTP_RESPONSE` when the head was sent already.
   */
  writeHead(status: number, headers: Readonly<Record<string, HeaderValue>> = {}): this {
    this.refuseAfterHead('writeHead()');
    this.statusCode = checkStatus('status', status);
    for (const name of Object.keys(headers)) this.headers.set(name, headers[name]!);
    return this;
  }

  /**
   * Sends the rest of the response: with a body when given (Content-Length
   * is set), headers and body in one write.
   * @throws TypeError `ERR_INVALID_ARG_TYPE` when `body` is not a string or bytes;
   *   `ERR_ZEPOLL_HTTP_RESPONSE` when it is called twice or the body
   *   contradicts a declared Content-Length (nothing is sent then).
   */
  end(body?: string | Uint8Array): void {
    if (this.finishedFlag) throw new ZepollError('ERR_ZEPOLL_HTTP_RESPONSE', 'end() called twice');
    const bytes = body === undefined ? undefined : bodyBytes('body', body);
    const length = bytes?.byteLength ?? 0;
    if (length > 0) refuseContent(this.statusCode);
    if (!this.headersSent) checkWholeBody(this.headers.declaredLength, this.headOnly, length);
    else if (this.streaming === 'length') checkLastPart(this.headers.declaredLength, this.lengthSent, length);
    // The connection closed, or the layer ended it (a 500 after a failure, a server closing): nothing more goes out.
    if (this.connection.writableEnded) {
      this.finishedFlag = true;
      return;
    }
    const sendBody = bytes !== undefined && length > 0 && !this.headOnly;
    if (!this.headersSent && hasNoContent(this.statusCode)) {
      this.connection.write(this.head(FRAMING_NONE)); // no body and no framing: the status says there is none
    } else if (!this.headersSent) {
      if (this.headers.chunked && this.versionMinor === 1) {
        this.streaming = 'chunked';
        writeChunks(this.connection, this.head(FRAMING_CHUNKED), sendBody ? bytes : undefined, true, this.headOnly);
      } else {
        const head = this.head(this.headOnly ? headOnlyFraming(this.headers.declaredLength, bytes === undefined ? null : length) : length);
        if (sendBody) writePair(this.connection, this.pair, head, bytes);
        else this.connection.write(head);
      }
    } else if (this.streaming === 'chunked') {
      if (!this.headOnly) writeChunks(this.connection, null, sendBody ? bytes : undefined, true, this.headOnly);
    } else if (sendBody) {
      this.connection.write(bytes);
    }
    this.finishedFlag = true;
    this.owner.responseDone(this, this.effectiveKeepAlive() && this.streaming !== 'close');
  }

  /**
   * Sends `value` as JSON (Content-Type application/json unless one is set).
   * @throws TypeError `ERR_INVALID_ARG_VALUE` when `value` cannot be sent as JSON (a cycle,
   *   a BigInt, undefined); as writeHead() for a bad `status`; as end() otherwise.
   */
  json(value: unknown, status?: number): void {
    const text = jsonText(value);
    if (status !== undefined) this.statusCode = checkStatus('status', status);
    if (!this.headersSent && !this.headers.has('content-type')) this.headers.set('Content-Type', JSON_TYPE);
    this.end(text);
  }

  /**
   * Sends `length` bytes of an open file from `offset` as the body, with
   * sendfile (the bytes never enter JavaScript). Content-Length is set; the
   * response is complete when the promise resolves. The fd stays the
   * caller's to close.
   *
   * Rejects, with nothing sent, with ZepollError `ERR_ZEPOLL_HTTP_RESPONSE`
   * when something was sent already, or `length` contradicts a declared
   * Content-Length or a 204/304 status; TypeError `ERR_INVALID_ARG_TYPE` or
   * RangeError `ERR_OUT_OF_RANGE` for a bad argument; TypeError
   * `ERR_INVALID_ARG_VALUE` when `fd` is not a regular file; RangeError
   * `ERR_OUT_OF_RANGE` when the file is shorter than `offset + length`;
   * a ZepollSystemError when fstat fails (`EBADF`, ...).
   */
  async sendFile(fd: number, offset: number, length: number): Promise<void> {
    if (this.finishedFlag || this.headersSent) throw new ZepollError('ERR_ZEPOLL_HTTP_RESPONSE', 'sendFile() needs a response with nothing sent yet');
    if (this.connection.writableEnded) {
      this.finishedFlag = true;
      return;
    }
    checkSendFileArguments(fd, offset, length); // before the head is queued: a bad argument sends nothing
    checkFileRange(fd, offset, length);
    if (length > 0) refuseContent(this.statusCode);
    checkWholeBody(this.headers.declaredLength, this.headOnly, length);
    this.connection.write(this.head(length));
    try {
      if (!this.headOnly && length > 0) await this.connection.sendFile(fd, offset, length);
    } finally {
      this.finishedFlag = true;
    }
    this.owner.responseDone(this, this.effectiveKeepAlive());
  }

  /**
   * Streams part of the body. Returns false when the connection's queue is
   * over its high-water mark: wait for onDrain before writing more.
   * @throws TypeError `ERR_INVALID_ARG_TYPE` when `chunk` is not a string or bytes;
   *   `ERR_ZEPOLL_HTTP_RESPONSE` after end() or past a declared Content-Length.
   */
  write(chunk: string | Uint8Array): boolean {
    if (this.finishedFlag) throw new ZepollError('ERR_ZEPOLL_HTTP_RESPONSE', 'write() after end()');
    const bytes = bodyBytes('chunk', chunk);
    if (bytes.byteLength > 0) refuseContent(this.statusCode);
    const declared = this.headers.declaredLength;
    checkStreamedPart(declared, this.headOnly, this.lengthSent, bytes.byteLength);
    if (this.connection.writableEnded) return false;
    let head: Buffer | null = null;
    if (!this.headersSent && hasNoContent(this.statusCode)) {
      this.connection.write(this.head(FRAMING_NONE)); // write('') on a 204/304: the head, nothing to stream
    } else if (!this.headersSent) {
      if (declared !== LENGTH_UNDECLARED) this.streaming = 'length';
      else this.streaming = this.versionMinor === 1 ? 'chunked' : 'close';
      const framing = this.streaming === 'length' ? declared : this.streaming === 'chunked' ? FRAMING_CHUNKED : FRAMING_NONE;
      head = this.head(framing);
    }
    if (bytes.byteLength === 0 || this.headOnly) {
      if (head !== null) this.connection.write(head);
      return this.connection.queuedBytes < this.connection.highWaterMark;
    }
    this.lengthSent += bytes.byteLength;
    // The head leaves with the first part, in one write: one system call (one send request with io_uring).
    if (this.streaming === 'chunked') return writeChunks(this.connection, head, bytes, false, this.headOnly);
    return head === null ? this.connection.write(bytes) : this.connection.writeMany([head, bytes]);
  }

  /**
   * Switches the connection to another protocol (RFC 9110 15.2.2; zepoll/ws
   * upgrades to WebSocket with it): answers 101 Switching Protocols with
   * the headers set on this response and `fields` (the protocol's own,
   * names and values alternating: Upgrade, Connection, ...), then the HTTP
   * layer lets go of the connection: `handler` takes it (its onOpen runs
   * now), with the bytes the client sent after the request given to it
   * first (to its onData). No request is read on the connection after.
   * @throws TypeError `ERR_INVALID_ARG_TYPE`/`ERR_INVALID_ARG_VALUE` for a bad handler or field;
   *   ZepollError `ERR_ZEPOLL_HTTP_RESPONSE` when something was sent already, the request is
   *   HTTP/1.0, or its body is still arriving. Nothing is sent then.
   */
  switchProtocols(handler: ConnectionHandler, fields: readonly string[] = []): void {
    if (this.finishedFlag || this.headersSent) throw new ZepollError('ERR_ZEPOLL_HTTP_RESPONSE', 'switchProtocols() needs a response with nothing sent yet');
    checkHandler('handler', handler);
    if (!Array.isArray(fields)) throw invalidArgType('fields', 'an Array of strings', fields);
    for (let index = 0; index < fields.length; index += 2) checkSwitchField(fields[index], fields[index + 1]);
    if (this.versionMinor === 0) throw new ZepollError('ERR_ZEPOLL_HTTP_RESPONSE', 'an HTTP/1.0 request cannot switch protocols');
    this.owner.checkSwitch(this);
    this.headersSent = true;
    this.finishedFlag = true;
    if (this.connection.writableEnded) return; // the connection closed (or is closing): nothing to hand over
    this.connection.write(switchingHead(this.headers.fields, this.headers.count, fields));
    this.owner.switched(this, handler);
  }

  /** Runs `callback` once, when the connection's write queue has drained. */
  onDrain(callback: () => unknown): void {
    (this.callbacks ??= new ResponseCallbacks(this.owner, this)).onDrain(callback);
  }

  /**
   * Runs `callback` once: with false when the response is complete, with
   * true when the connection closed first (the client went away; the
   * request's `signal` aborts too).
   */
  onClose(callback: (aborted: boolean) => unknown): void {
    (this.callbacks ??= new ResponseCallbacks(this.owner, this)).onClose(callback, this.closedFlag);
  }

  /**
   * Called by the HTTP connection when its write queue drained.
   * @internal
   */
  drained(): void {
    this.callbacks?.drained();
  }

  /**
   * Called by the HTTP connection: the response is done with (finished, or its connection closed).
   * @internal
   */
  closed(): void {
    if (this.closedFlag) return;
    this.closedFlag = true;
    this.callbacks?.closed(!this.finishedFlag);
  }

  private refuseAfterHead(call: string): void {
    if (this.headersSent) throw new ZepollError('ERR_ZEPOLL_HTTP_RESPONSE', `${call} after the headers were sent`);
  }

  private effectiveKeepAlive(): boolean {
    return this.keepAlive && !this.headers.close;
  }

  /** The encoded head: `framing` is a Content-Length, FRAMING_CHUNKED or FRAMING_NONE. */
  private head(framing: number): Buffer {
    // statusCode and statusMessage are plain fields: checked here, before they reach the wire or the cache key.
    const status = checkStatus('statusCode', this.statusCode);
    const reason = reasonPhrase(status, this.statusMessage);
    this.headersSent = true;
    const connection = connectionHandling(this.effectiveKeepAlive(), this.streaming === 'close', this.versionMinor);
    return encodeResponseHead(status, reason, this.versionMinor, connection, framing, this.headers);
  }
}
