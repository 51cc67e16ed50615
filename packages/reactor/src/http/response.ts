/**
 * A response: status and headers, then a body sent whole (`end(body)`,
 * Content-Length, headers and body in one writev) or streamed (`write()`,
 * chunked in HTTP/1.1, delimited by close in 1.0, or within a declared
 * Content-Length) with backpressure.
 *
 * Every argument is checked before a byte is queued: a body that is not a
 * string or bytes, a header with CR/LF, a body that contradicts a declared
 * Content-Length throw at once and nothing reaches the wire.
 */
import { fstatSync } from 'node:fs';
import { STATUS_CODES } from 'node:http';
import { errnoError, invalidArgType, outOfRange, invalidArgValue, ZepollError, ZepollRangeError } from '../errors.js';
import { callSafely } from '../safe-call.js';
import type { Connection } from '../connection.js';
import { checkSendFileArguments } from '../write-arguments.js';
import { CONNECTION_CLOSE, CONNECTION_DEFAULT, CONNECTION_KEEP_ALIVE, encodeHead, FRAMING_CHUNKED, FRAMING_NONE } from './head-cache.js';
import { bodyBytes, LENGTH_UNDECLARED, ResponseHeaders, type HeaderValue } from './response-headers.js';

export type { HeaderValue } from './response-headers.js';

const CHUNK_END = Buffer.from('\r\n');
const LAST_CHUNK = Buffer.from('0\r\n\r\n');
const JSON_TYPE = 'application/json; charset=utf-8';
const NOTHING = new Uint8Array(0);
/** reason-phrase = *( HTAB / SP / VCHAR / obs-text ) (RFC 9112 4): no CR, LF or other control byte, nothing past Latin-1. */
const REASON_PHRASE = /^[\t\x20-\x7e\x80-\xff]*$/;
/** What statusMessage holds when the status's usual reason phrase is sent. */
const REASON_DEFAULT = '';


/**
 * What a response reports to: the HTTP exchange of its connection (exchange.ts).
 * Internal to the HTTP layer; not exported.
 */
export interface ResponseOwner {
  /** The response is complete; `keepAlive` says whether the next request may follow. */
  responseDone(response: HttpResponse, keepAlive: boolean): void;
  /** A callback given to onDrain or onClose threw or rejected. */
  callbackFailed(response: HttpResponse, error: unknown): void;
}

type Streaming = 'none' | 'chunked' | 'close' | 'length';

/**
 * A final status: 200..999 (1xx are interim responses; this layer sends
 * 100 Continue itself and supports no upgrade).
 */
function checkStatus(name: string, status: unknown): number {
  if (typeof status !== 'number') throw invalidArgType(name, 'of type number', status);
  if (!Number.isInteger(status) || status < 200 || status > 999) throw outOfRange(name, 'an integer >= 200 and <= 999 (a final status)', status);
  return status;
}

/** A statusMessage: a string of reason-phrase characters. */
function checkReason(reason: unknown): string {
  if (typeof reason !== 'string') throw invalidArgType('statusMessage', 'of type string', reason);
  if (!REASON_PHRASE.test(reason)) throw invalidArgValue('statusMessage', 'must hold only tab, space, visible ASCII and Latin-1 characters (RFC 9112 reason-phrase)', reason);
  return reason;
}

/** RFC 9110 6.4.1, 15.3.5, 15.4.5: 204 and 304 responses have no content, and no framing for one. */
function hasNoContent(status: number): boolean {
  return status === 204 || status === 304;
}

/**
 * The file behind `fd` is a regular file holding offset + length bytes:
 * checked before the head is committed, so a bad fd, a directory or a
 * short file fails the handler (a 500) instead of a 200 with a cut body.
 */
function checkFileRange(fd: number, offset: number, length: number): void {
  let size: number;
  try {
    const stats = fstatSync(fd);
    if (!stats.isFile()) throw invalidArgValue('fd', 'is not a regular file', fd);
    size = stats.size;
  } catch (error) {
    const errno = (error as { errno?: number }).errno;
    if (typeof errno === 'number' && errno < 0) throw errnoError(errno, 'fstat', fd);
    throw error;
  }
  if (offset + length > size) throw new ZepollRangeError('ERR_OUT_OF_RANGE', `The file of fd ${fd} has ${size} bytes; offset ${offset} + length ${length} is past its end`);
}

/**
 * The response to one request, as a handler gets it: set the status and
 * headers, then send the body whole (`end()`, `json()`, `sendFile()`) or
 * stream it (`write()` with `onDrain()`). Bad arguments throw before a
 * byte is queued. Reused for the connection's next request under the
 * reuse rule (docs/http.md).
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
  private readonly owner: ResponseOwner;
  private readonly headers: ResponseHeaders;
  private headersSent: boolean;
  private streaming: Streaming;
  /** Body bytes sent so far within a declared Content-Length. */
  private lengthSent: number;
  private finishedFlag: boolean;
  private drainCallback: (() => unknown) | null;
  private closeCallback: ((aborted: boolean) => unknown) | null;
  private closedFlag: boolean;
  /** A callback given to onDrain/onClose failed: the owner treats it as the handler failing (made on first use). */
  private reportCallbackCache: ((error: unknown) => void) | null;
  /** Head and body, handed to writeMany by end() (one array per response object, not per response). */
  private readonly pair: Uint8Array[];
  /** onDrain or onClose was called on this response (it is then never reused). */
  private callbacksGiven: boolean;

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
    this.drainCallback = null;
    this.closeCallback = null;
    this.closedFlag = false;
    this.reportCallbackCache = null;
    this.pair = [NOTHING, NOTHING];
    this.callbacksGiven = false;
  }

  /**
   * Makes this object the response to the connection's next request (the
   * server's reuse rule, exchange.ts: only after a handler that returned
   * without a promise, with this response complete and no callback left).
   * @internal
   */
  reuse(versionMinor: number, keepAlive: boolean, headOnly: boolean): void {
    this.statusCode = 200;
    this.statusMessage = REASON_DEFAULT;
    this.versionMinor = versionMinor;
    (this as { keepAlive: boolean }).keepAlive = keepAlive; // read-only to handlers
    this.headOnly = headOnly;
    this.headers.clear();
    this.headersSent = false;
    this.streaming = 'none';
    this.lengthSent = 0;
    this.finishedFlag = false;
    this.closedFlag = false;
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
    return !this.callbacksGiven;
  }

  private get reportCallback(): (error: unknown) => void {
    this.reportCallbackCache ??= (error: unknown): void => this.owner.callbackFailed(this, error);
    return this.reportCallbackCache;
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
    if (length > 0) this.refuseContent();
    if (!this.headersSent) this.checkWholeBody(length);
    else if (this.streaming === 'length' && this.lengthSent + length !== this.headers.declaredLength) {
      throw new ZepollError('ERR_ZEPOLL_HTTP_RESPONSE', `end() would leave ${this.headers.declaredLength - this.lengthSent - length} bytes of the declared Content-Length unsent`);
    }
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
        this.sendChunks(this.head(FRAMING_CHUNKED), sendBody ? bytes : undefined, true);
      } else {
        const head = this.head(this.headOnly ? this.headOnlyFraming(bytes === undefined ? null : length) : length);
        if (sendBody) this.writePair(head, bytes);
        else this.connection.write(head);
      }
    } else if (this.streaming === 'chunked') {
      if (!this.headOnly) this.sendChunks(null, sendBody ? bytes : undefined, true);
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
    let text: string | undefined;
    try {
      text = JSON.stringify(value);
    } catch (error) {
      // A cycle, a BigInt, a throwing toJSON: coded, with the reason.
      const failure = invalidArgValue('value', `cannot be sent as JSON (${(error as Error).message})`, typeof value);
      (failure as { cause?: unknown }).cause = error;
      throw failure;
    }
    if (text === undefined) throw invalidArgValue('value', 'cannot be sent as JSON', value);
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
    if (length > 0) this.refuseContent();
    this.checkWholeBody(length);
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
    if (bytes.byteLength > 0) this.refuseContent();
    const declared = this.headers.declaredLength;
    if (declared !== LENGTH_UNDECLARED && !this.headOnly && this.lengthSent + bytes.byteLength > declared) {
      throw new ZepollError('ERR_ZEPOLL_HTTP_RESPONSE', `write() past the declared Content-Length of ${declared}`);
    }
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
    if (this.streaming === 'chunked') return this.sendChunks(head, bytes, false);
    return head === null ? this.connection.write(bytes) : this.connection.writeMany([head, bytes]);
  }

  /** Runs `callback` once, when the connection's write queue has drained. */
  onDrain(callback: () => unknown): void {
    this.callbacksGiven = true;
    this.drainCallback = callback;
  }

  /**
   * Runs `callback` once: with false when the response is complete, with
   * true when the connection closed first (the client went away; the
   * request's `signal` aborts too).
   */
  onClose(callback: (aborted: boolean) => unknown): void {
    this.callbacksGiven = true;
    if (this.closedFlag) {
      queueMicrotask(() => callSafely(callback, null, !this.finishedFlag, undefined, this.reportCallback));
      return;
    }
    this.closeCallback = callback;
  }

  /**
   * Called by the HTTP connection when its write queue drained.
   * @internal
   */
  drained(): void {
    const callback = this.drainCallback;
    this.drainCallback = null;
    if (callback !== null) callSafely(callback, null, undefined, undefined, this.reportCallback);
  }

  /**
   * Called by the HTTP connection: the response is done with (finished, or its connection closed).
   * @internal
   */
  closed(): void {
    if (this.closedFlag) return;
    this.closedFlag = true;
    const callback = this.closeCallback;
    this.closeCallback = null;
    if (callback !== null) callSafely(callback, null, !this.finishedFlag, undefined, this.reportCallback);
  }

  /** 204 and 304 carry no content: a body for one is a mistake, never bytes on the wire. */
  private refuseContent(): void {
    if (hasNoContent(this.statusCode)) throw new ZepollError('ERR_ZEPOLL_HTTP_RESPONSE', `a ${this.statusCode} response has no content (RFC 9110); the body was not sent`);
  }

  private refuseAfterHead(call: string): void {
    if (this.headersSent) throw new ZepollError('ERR_ZEPOLL_HTTP_RESPONSE', `${call} after the headers were sent`);
  }

  /** A body sent whole must match a declared Content-Length (a HEAD response sends none). */
  private checkWholeBody(length: number): void {
    const declared = this.headers.declaredLength;
    if (declared === LENGTH_UNDECLARED || this.headOnly || declared === length) return;
    throw new ZepollError('ERR_ZEPOLL_HTTP_RESPONSE', `the body has ${length} bytes but Content-Length was set to ${declared}`);
  }

  /**
   * The Content-Length of a HEAD response: the declared one, else the
   * body's when one was given; with neither, none (RFC 9110 8.6: a HEAD
   * response's Content-Length must be what GET would send, which is not
   * known here).
   */
  private headOnlyFraming(bodyLength: number | null): number {
    const declared = this.headers.declaredLength;
    if (declared !== LENGTH_UNDECLARED) return declared;
    return bodyLength ?? FRAMING_NONE;
  }

  private effectiveKeepAlive(): boolean {
    return this.keepAlive && !this.headers.close;
  }

  /** Head and body as one write. */
  private writePair(head: Uint8Array, body: Uint8Array): void {
    const pair = this.pair;
    pair[0] = head;
    pair[1] = body;
    try {
      this.connection.writeMany(pair);
    } finally {
      pair[0] = NOTHING; // the body is the handler's: not kept alive by this object
      pair[1] = NOTHING;
    }
  }

  /** Queues a chunk (and the last chunk when `last`), with the head when given, in one write. */
  private sendChunks(head: Buffer | null, bytes: Uint8Array | undefined, last: boolean): boolean {
    const parts: Uint8Array[] = [];
    if (head !== null) parts.push(head);
    if (bytes !== undefined && bytes.byteLength > 0 && !this.headOnly) parts.push(Buffer.from(`${bytes.byteLength.toString(16)}\r\n`), bytes, CHUNK_END);
    if (last && !this.headOnly) parts.push(LAST_CHUNK);
    return parts.length === 0 || this.connection.writeMany(parts);
  }

  /** The encoded head: `framing` is a Content-Length, FRAMING_CHUNKED or FRAMING_NONE. */
  private head(framing: number): Buffer {
    // statusCode is a plain field: checked here, before it reaches the wire or the cache key.
    const status = checkStatus('statusCode', this.statusCode);
    // The usual phrase given explicitly (a proxied upstream's 'OK') is the default: the head stays cacheable.
    const message = this.statusMessage;
    const reason = message === REASON_DEFAULT || message === STATUS_CODES[status] ? null : checkReason(message);
    this.headersSent = true;
    const keepAlive = this.effectiveKeepAlive();
    const connection = !keepAlive || (this.streaming === 'close' && this.versionMinor === 0) ? CONNECTION_CLOSE : this.versionMinor === 0 ? CONNECTION_KEEP_ALIVE : CONNECTION_DEFAULT;
    const headers = this.headers;
    const lengthText = framing >= 0 && framing === headers.declaredLength ? headers.declaredText : null;
    return encodeHead(status, this.versionMinor, connection, framing, headers.fields, headers.count, headers.userDate, reason, lengthText);
  }
}
