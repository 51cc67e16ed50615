/**
 * Encoded response heads of this second. The same status, version,
 * connection handling, framing and headers make the same bytes, so they are
 * encoded once. Looked up by a number made of everything but the headers,
 * then by comparing the header strings: no key string is built or hashed
 * per response. Cleared when the Date changes and when it grows past its
 * bound (Content-Length makes many keys).
 */
import { STATUS_CODES } from 'node:http';

const CRLF = '\r\n';

/** Framing of a head: a Content-Length (>= 0), chunked, or none (delimited by close). */
export const FRAMING_CHUNKED = -1;
export const FRAMING_NONE = -2;

/** What the Connection header says: nothing (1.1 keep-alive), close, or keep-alive (1.0 asks for it). */
export const CONNECTION_DEFAULT = 0;
export const CONNECTION_CLOSE = 1;
export const CONNECTION_KEEP_ALIVE = 2;

interface CachedHead {
  readonly headers: readonly string[];
  readonly bytes: Buffer;
}

const headCache = new Map<number, CachedHead[]>();
const HEAD_CACHE_ENTRIES_MAX = 256;
/** Heads with the same key and other headers: a few kinds, or headers unique per response. */
const BUCKET_ENTRIES_MAX = 8;
/** Content-Lengths above this are not cached: the numeric key stays exact (below 2^53). */
const FRAMING_CACHED_MAX = 2 ** 40;
let headCacheEntries = 0;
/** The Date header's value this second; null once the second is over. */
let dateText: string | null = null;
const SECOND_MS = 1000;

function expireDate(): void {
  dateText = null;
}

/**
 * The Date header, formatted at most once a second (the head cache follows
 * it). Not a clock read per response (Date.now() makes a heap number): a
 * timer ends the second, as Node's http does. It is unref'd, so it keeps
 * no process alive.
 */
function httpDate(): string {
  if (dateText === null) {
    const now = Date.now();
    dateText = new Date(now).toUTCString();
    headCache.clear();
    headCacheEntries = 0;
    setTimeout(expireDate, SECOND_MS - (now % SECOND_MS)).unref();
  }
  return dateText;
}

/** True when `cached` is exactly headers[0..count). */
function sameHeaders(cached: readonly string[], headers: readonly string[], count: number): boolean {
  if (cached.length !== count) return false;
  for (let index = 0; index < count; index += 1) if (cached[index] !== headers[index]) return false;
  return true;
}

/** The bytes of a head (see encodeHead). */
function headBytes(
  status: number,
  versionMinor: number,
  connection: number,
  reason: string,
  lengthText: string,
  framing: number,
  headers: readonly string[],
  count: number,
  userDate: boolean,
  date: string,
): Buffer {
  let text = `HTTP/1.${versionMinor} ${status} ${reason}${CRLF}`;
  if (!userDate) text += `Date: ${date}${CRLF}`;
  if (framing >= 0) text += `Content-Length: ${lengthText}${CRLF}`;
  else if (framing === FRAMING_CHUNKED) text += `Transfer-Encoding: chunked${CRLF}`;
  for (let index = 0; index < count; index += 2) text += `${headers[index]}: ${headers[index + 1]}${CRLF}`;
  if (connection === CONNECTION_CLOSE) text += `Connection: close${CRLF}`;
  else if (connection === CONNECTION_KEEP_ALIVE) text += `Connection: keep-alive${CRLF}`;
  return Buffer.from(`${text}${CRLF}`, 'latin1');
}

/**
 * The encoded head. headers[0..count) are name/value pairs already checked (no
 * framing or Connection header among them: the caller owns those);
 * `userDate` says one of them is a Date, which then replaces ours. The
 * bytes are shared by every response with this head this second: queued
 * writes never change them. `reason` (a checked reason-phrase) replaces
 * the status's usual one, and `lengthText` (digits, the value of
 * `framing`) is the Content-Length as the handler wrote it: either makes a
 * head that is not cached (rare, and not worth a key).
 */
export function encodeHead(
  status: number,
  versionMinor: number,
  connection: number,
  framing: number,
  headers: readonly string[],
  count: number,
  userDate: boolean,
  reason: string | null = null,
  lengthText: string | null = null,
): Buffer {
  const date = httpDate();
  if (reason !== null || lengthText !== null) return headBytes(status, versionMinor, connection, reason ?? STATUS_CODES[status] ?? 'Unknown', lengthText ?? String(framing), framing, headers, count, userDate, date);
  const key = (((framing + 2) * 4 + connection) * 2 + versionMinor) * 1000 + status;
  let bucket = framing <= FRAMING_CACHED_MAX ? headCache.get(key) : undefined;
  if (bucket !== undefined) {
    for (let index = 0; index < bucket.length; index += 1) if (sameHeaders(bucket[index]!.headers, headers, count)) return bucket[index]!.bytes;
  }
  const bytes = headBytes(status, versionMinor, connection, STATUS_CODES[status] ?? 'Unknown', String(framing), framing, headers, count, userDate, date);
  if (framing > FRAMING_CACHED_MAX || (bucket !== undefined && bucket.length >= BUCKET_ENTRIES_MAX)) return bytes; // per-response headers (ids, ETags): not worth keeping
  if (headCacheEntries >= HEAD_CACHE_ENTRIES_MAX) {
    headCache.clear();
    headCacheEntries = 0;
    bucket = undefined;
  }
  const entry = { headers: headers.slice(0, count), bytes };
  if (bucket === undefined) headCache.set(key, [entry]);
  else bucket.push(entry);
  headCacheEntries += 1;
  return bytes;
}
