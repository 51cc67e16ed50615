/**
 * The bytes the HTTP layer puts around a body: a response's head (which
 * Connection handling, which framing; head-cache.ts encodes it), the
 * chunked framing of a streamed body (RFC 9112 7.1), and the two
 * responses the layer writes itself: 100 Continue, and the error answer
 * sent before a close.
 */
import { STATUS_CODES } from 'node:http';
import type { Connection } from '../connection.js';
import { CONNECTION_CLOSE, CONNECTION_DEFAULT, CONNECTION_KEEP_ALIVE, encodeHead, FRAMING_NONE } from './head-cache.js';
import { LENGTH_UNDECLARED, type ResponseHeaders } from './response-headers.js';

/** The interim response that asks a client waiting on `Expect: 100-continue` to send its body (RFC 9110 10.1.1). */
export const CONTINUE = Buffer.from('HTTP/1.1 100 Continue\r\n\r\n');
const CHUNK_END = Buffer.from('\r\n');
const LAST_CHUNK = Buffer.from('0\r\n\r\n');
/** What an empty slot of a write's parts holds. */
export const NOTHING = new Uint8Array(0);
/** The reason of an error answer whose status has none in STATUS_CODES. */
const ERROR_REASON_FALLBACK = 'Bad Request';

/**
 * What the Connection header of a head says (head-cache.ts): close when the
 * connection ends after it, or when an HTTP/1.0 body is delimited by the
 * close; keep-alive to an HTTP/1.0 client that keeps it; else nothing
 * (HTTP/1.1 keeps it by default).
 */
export function connectionHandling(keepAlive: boolean, closeDelimited: boolean, versionMinor: number): number {
  if (!keepAlive || (closeDelimited && versionMinor === 0)) return CONNECTION_CLOSE;
  return versionMinor === 0 ? CONNECTION_KEEP_ALIVE : CONNECTION_DEFAULT;
}

/**
 * The encoded head: `framing` is a Content-Length, FRAMING_CHUNKED or
 * FRAMING_NONE; `reason` null for the status's usual phrase. A
 * Content-Length the handler declared goes out as the text it set.
 */
export function encodeResponseHead(status: number, reason: string | null, versionMinor: number, connection: number, framing: number, headers: ResponseHeaders): Buffer {
  const lengthText = framing >= 0 && framing === headers.declaredLength ? headers.declaredText : null;
  return encodeHead(status, versionMinor, connection, framing, headers.fields, headers.count, headers.userDate, reason, lengthText);
}

/**
 * The Content-Length of a HEAD response: the declared one, else the
 * body's when one was given; with neither, none (RFC 9110 8.6: a HEAD
 * response's Content-Length must be what GET would send, which is not
 * known here).
 */
export function headOnlyFraming(declared: number, bodyLength: number | null): number {
  if (declared !== LENGTH_UNDECLARED) return declared;
  return bodyLength ?? FRAMING_NONE;
}

/**
 * Head and body as one write, through `pair` (the response's own two
 * slots: no array per response), emptied afterwards.
 */
export function writePair(connection: Connection, pair: Uint8Array[], head: Uint8Array, body: Uint8Array): void {
  pair[0] = head;
  pair[1] = body;
  try {
    connection.writeMany(pair);
  } finally {
    pair[0] = NOTHING; // the body is the handler's: not kept alive by the response
    pair[1] = NOTHING;
  }
}

/**
 * Queues a chunk (and the last chunk when `last`), with the head when
 * given, in one write; a HEAD response (`headOnly`) sends the head alone.
 * False when the connection's queue is over its high-water mark.
 */
export function writeChunks(connection: Connection, head: Buffer | null, bytes: Uint8Array | undefined, last: boolean, headOnly: boolean): boolean {
  const parts: Uint8Array[] = [];
  if (head !== null) parts.push(head);
  if (bytes !== undefined && bytes.byteLength > 0 && !headOnly) parts.push(Buffer.from(`${bytes.byteLength.toString(16)}\r\n`), bytes, CHUNK_END);
  if (last && !headOnly) parts.push(LAST_CHUNK);
  return parts.length === 0 || connection.writeMany(parts);
}

/**
 * The head of a 101 (Switching Protocols) response: the status line, the
 * handler's own fields (headers[0..count)), then the protocol's `fields`
 * (Upgrade, Connection, ...), names and values alternating, all checked.
 * No Date, no framing: a 101 has no body (RFC 9110 15.2.2).
 */
export function switchingHead(headers: readonly string[], count: number, fields: readonly string[]): Buffer {
  let head = 'HTTP/1.1 101 Switching Protocols\r\n';
  for (let index = 0; index < count; index += 2) head += `${headers[index]!}: ${headers[index + 1]!}\r\n`;
  for (let index = 0; index + 1 < fields.length; index += 2) head += `${fields[index]!}: ${fields[index + 1]!}\r\n`;
  return Buffer.from(`${head}\r\n`, 'latin1');
}

/**
 * The answer the layer sends itself before it closes (a parse error, a
 * timeout, a failed handler): `status`, a plain-text body saying why, and
 * `Connection: close`.
 */
export function errorAnswer(status: number, message: string): Buffer {
  const reason = STATUS_CODES[status] ?? ERROR_REASON_FALLBACK;
  const body = `${status} ${reason}: ${message}\n`;
  return Buffer.from(`HTTP/1.1 ${status} ${reason}\r\nContent-Type: text/plain\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`, 'latin1');
}
