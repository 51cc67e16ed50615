/**
 * A response: status and headers, then a body sent whole (`end(body)`,
 * Content-Length, headers and body in one writev) or streamed (`write()`,
 * chunked in HTTP/1.1, delimited by close in 1.0) with backpressure.
 */
import { STATUS_CODES } from 'node:http';
import { ZepollError } from '../errors.js';
import type { Connection } from '../connection.js';

const CRLF = '\r\n';
const CHUNK_END = Buffer.from('\r\n');
const LAST_CHUNK = Buffer.from('0\r\n\r\n');
/** Header names and values a response may carry: no CR/LF (response splitting). */
const FIELD_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const FIELD_VALUE = /^[\t\x20-\x7e\x80-\xff]*$/;
/**
 * Names and values that passed the checks above: handlers set the same
 * constants on every response, and a Set lookup costs less than a regular
 * expression. Bounded; cleared when full.
 */
const validNames = new Set<string>();
const validValues = new Set<string>();
const VALID_STRINGS_MAX = 1024;

function remember(set: Set<string>, text: string): void {
  if (set.size >= VALID_STRINGS_MAX) set.clear();
  set.add(text);
}

let dateSecond = -1;
let dateText = '';

/** Framing of a head: a Content-Length (>= 0), chunked, or none (delimited by close). */
const FRAMING_CHUNKED = -1;
const FRAMING_NONE = -2;

interface CachedHead {
  readonly headers: readonly string[];
  readonly bytes: Buffer;
}

/**
 * Encoded response heads of this second. The same status, version,
 * connection handling, framing and headers make the same bytes, so they are
 * encoded once. Looked up by a number made of everything but the headers,
 * then by comparing the header strings: no key string is built or hashed
 * per response. Cleared when the Date changes and when it grows past its
 * bound (Content-Length makes many keys).
 */
const headCache = new Map<number, CachedHead[]>();
const HEAD_CACHE_ENTRIES_MAX = 256;
/** Heads with the same key and other headers: a few kinds, or headers unique per response. */
const BUCKET_ENTRIES_MAX = 8;
/** Content-Lengths above this are not cached: the numeric key stays exact (below 2^53). */
const FRAMING_CACHED_MAX = 2 ** 40;
let headCacheEntries = 0;

/** The Date header, formatted at most once a second (the head cache follows it). */
function httpDate(): string {
  const now = Date.now();
  const second = Math.floor(now / 1000);
  if (second !== dateSecond) {
    dateSecond = second;
    dateText = new Date(now).toUTCString();
    headCache.clear();
    headCacheEntries = 0;
  }
  return dateText;
}

function sameHeaders(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false;
  for (let index = 0; index < a.length; index += 1) if (a[index] !== b[index]) return false;
  return true;
}

export interface ResponseOwner {
  /** The response is complete; `keepAlive` says whether the next request may follow. */
  responseDone(response: HttpResponse, keepAlive: boolean): void;
}

export class HttpResponse {
  statusCode: number;
  readonly connection: Connection;
  readonly keepAlive: boolean;
  private readonly versionMinor: number;
  private readonly headOnly: boolean;
  private readonly owner: ResponseOwner;
  private readonly headers: string[];
  private headersSent: boolean;
  private streaming: 'none' | 'chunked' | 'close';
  private finishedFlag: boolean;
  private drainCallback: (() => void) | null;

  constructor(owner: ResponseOwner, connection: Connection, versionMinor: number, keepAlive: boolean, headOnly: boolean) {
    this.statusCode = 200;
    this.owner = owner;
    this.connection = connection;
    this.versionMinor = versionMinor;
    this.keepAlive = keepAlive;
    this.headOnly = headOnly;
    this.headers = [];
    this.headersSent = false;
    this.streaming = 'none';
    this.finishedFlag = false;
    this.drainCallback = null;
  }

  get finished(): boolean {
    return this.finishedFlag;
  }

  get sent(): boolean {
    return this.headersSent;
  }

  /** Adds a header (validated: no CR/LF can reach the wire). */
  setHeader(name: string, value: string | number): this {
    if (this.headersSent) throw new ZepollError('ERR_ZEPOLL_HTTP_RESPONSE', 'setHeader() after the headers were sent');
    const text = String(value);
    if (!validNames.has(name)) {
      if (typeof name !== 'string' || !FIELD_NAME.test(name)) throw new ZepollError('ERR_INVALID_ARG_VALUE', `invalid header name ${JSON.stringify(name)}`);
      remember(validNames, name);
    }
    if (!validValues.has(text)) {
      if (!FIELD_VALUE.test(text)) throw new ZepollError('ERR_INVALID_ARG_VALUE', `invalid value for header ${name}`);
      remember(validValues, text);
    }
    this.headers.push(name, text);
    return this;
  }

  /** Sets the status and headers at once. */
  writeHead(status: number, headers: Record<string, string | number> = {}): this {
    if (!Number.isInteger(status) || status < 100 || status > 999) throw new ZepollError('ERR_OUT_OF_RANGE', `status must be 100..999, received ${status}`);
    this.statusCode = status;
    for (const [name, value] of Object.entries(headers)) this.setHeader(name, value);
    return this;
  }

  /**
   * Sends the rest of the response: with a body when given (Content-Length
   * is set), headers and body in one write.
   */
  end(body?: string | Uint8Array): void {
    if (this.finishedFlag) throw new ZepollError('ERR_ZEPOLL_HTTP_RESPONSE', 'end() called twice');
    const bytes = typeof body === 'string' ? Buffer.from(body) : body;
    if (!this.connection.isOpen) {
      this.finishedFlag = true;
      return;
    }
    if (!this.headersSent) {
      const length = bytes?.byteLength ?? 0;
      const head = this.head(length);
      this.connection.writeMany(bytes === undefined || length === 0 || this.headOnly ? [head] : [head, bytes]);
    } else if (this.streaming === 'chunked') {
      const parts: Uint8Array[] = [];
      if (bytes !== undefined && bytes.byteLength > 0 && !this.headOnly) parts.push(Buffer.from(`${bytes.byteLength.toString(16)}\r\n`), bytes, CHUNK_END);
      if (!this.headOnly) parts.push(LAST_CHUNK);
      if (parts.length > 0) this.connection.writeMany(parts);
    } else if (bytes !== undefined && bytes.byteLength > 0 && !this.headOnly) {
      this.connection.write(bytes);
    }
    this.finishedFlag = true;
    this.owner.responseDone(this, this.keepAlive && this.streaming !== 'close');
  }

  /**
   * Sends `length` bytes of an open file from `offset` as the body, with
   * sendfile (the bytes never enter JavaScript). Content-Length is set; the
   * response is complete when the promise resolves. The fd stays the
   * caller's to close.
   */
  async sendFile(fd: number, offset: number, length: number): Promise<void> {
    if (this.finishedFlag || this.headersSent) throw new ZepollError('ERR_ZEPOLL_HTTP_RESPONSE', 'sendFile() needs a response with nothing sent yet');
    if (!this.connection.isOpen) {
      this.finishedFlag = true;
      return;
    }
    this.connection.write(this.head(length));
    try {
      if (!this.headOnly && length > 0) await this.connection.sendFile(fd, offset, length);
    } finally {
      this.finishedFlag = true;
    }
    this.owner.responseDone(this, this.keepAlive);
  }

  /**
   * Streams part of the body. Returns false when the connection's queue is
   * over its high-water mark: wait for onDrain before writing more.
   */
  write(chunk: string | Uint8Array): boolean {
    if (this.finishedFlag) throw new ZepollError('ERR_ZEPOLL_HTTP_RESPONSE', 'write() after end()');
    const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    if (!this.connection.isOpen) return false;
    if (!this.headersSent) {
      this.streaming = this.versionMinor === 1 ? 'chunked' : 'close';
      this.connection.write(this.head(this.streaming === 'chunked' ? FRAMING_CHUNKED : FRAMING_NONE));
    }
    if (bytes.byteLength === 0 || this.headOnly) return this.connection.queuedBytes < this.connection.highWaterMark;
    if (this.streaming === 'chunked') return this.connection.writeMany([Buffer.from(`${bytes.byteLength.toString(16)}\r\n`), bytes, CHUNK_END]);
    return this.connection.write(bytes);
  }

  /** Runs `callback` once, when the connection's write queue has drained. */
  onDrain(callback: () => void): void {
    this.drainCallback = callback;
  }

  /** Called by the HTTP connection when its write queue drained. */
  drained(): void {
    const callback = this.drainCallback;
    this.drainCallback = null;
    callback?.();
  }

  /** The encoded head: `framing` is a Content-Length, FRAMING_CHUNKED or FRAMING_NONE. */
  private head(framing: number): Buffer {
    const status = this.statusCode;
    // statusCode is a plain field: checked here, before it reaches the wire or the cache key.
    if (!Number.isInteger(status) || status < 100 || status > 999) throw new ZepollError('ERR_OUT_OF_RANGE', `statusCode must be 100..999, received ${status}`);
    this.headersSent = true;
    const date = httpDate();
    // 0: no Connection header, 1: close, 2: keep-alive (HTTP/1.0 asks for it to be said).
    const connection = !this.keepAlive || (this.streaming === 'close' && this.versionMinor === 0) ? 1 : this.versionMinor === 0 ? 2 : 0;
    const key = (((framing + 2) * 4 + connection) * 2 + this.versionMinor) * 1000 + status;
    const headers = this.headers;
    let bucket = framing <= FRAMING_CACHED_MAX ? headCache.get(key) : undefined;
    if (bucket !== undefined) {
      for (let index = 0; index < bucket.length; index += 1) if (sameHeaders(bucket[index]!.headers, headers)) return bucket[index]!.bytes;
    }
    const reason = STATUS_CODES[status] ?? 'Unknown';
    // Date right after the status line; the bytes are shared by every
    // response with this head this second (queued writes never change them).
    let text = `HTTP/1.${this.versionMinor} ${status} ${reason}${CRLF}Date: ${date}${CRLF}`;
    if (framing >= 0) text += `Content-Length: ${framing}${CRLF}`;
    else if (framing === FRAMING_CHUNKED) text += `Transfer-Encoding: chunked${CRLF}`;
    for (let index = 0; index < headers.length; index += 2) text += `${headers[index]}: ${headers[index + 1]}${CRLF}`;
    if (connection === 1) text += `Connection: close${CRLF}`;
    else if (connection === 2) text += `Connection: keep-alive${CRLF}`;
    const bytes = Buffer.from(`${text}${CRLF}`, 'latin1');
    if (framing > FRAMING_CACHED_MAX || (bucket !== undefined && bucket.length >= BUCKET_ENTRIES_MAX)) return bytes; // per-response headers (ids, ETags): not worth keeping
    if (headCacheEntries >= HEAD_CACHE_ENTRIES_MAX) {
      headCache.clear();
      headCacheEntries = 0;
      bucket = undefined;
    }
    const entry = { headers: headers.slice(), bytes };
    if (bucket === undefined) headCache.set(key, [entry]);
    else bucket.push(entry);
    headCacheEntries += 1;
    return bytes;
  }
}
