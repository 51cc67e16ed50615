/**
 * Writes a fetch handler's Response to the HTTP layer's response: status,
 * headers (Set-Cookie kept as separate fields), and the body: nothing, one
 * chunk sent with its Content-Length, a stream written as it comes with the
 * connection's backpressure, or a file range through sendfile.
 */
import { ZepollTypeError } from '../errors.js';
import type { HttpResponse } from '../http/response.js';
import { FILE_BODIES, type FileBody } from './file-response.js';
import { PlatformResponse, STRING_CONTENT_TYPE, isLightResponse, type HeadersInput, type KeptResponse } from './light-response.js';

/** Fields the HTTP layer writes itself from the Set-Cookie list. */
const SET_COOKIE = 'set-cookie';

/** Resolves when the connection can take more (drained) or is gone (closed). */
function writable(out: HttpResponse): Promise<void> {
  return new Promise((resolve) => out.onDrain(resolve));
}

async function sendFile(out: HttpResponse, body: FileBody): Promise<void> {
  try {
    await out.sendFile(body.file.fd, body.offset, body.length);
  } finally {
    await body.file.close();
  }
}

/**
 * Streams `body`: the first chunk alone is sent whole with its length (the
 * common case, a string or bytes body); more are written as they come, each
 * write waiting while the connection's queue is over its high-water mark.
 */
async function sendStream(out: HttpResponse, body: ReadableStream<Uint8Array>): Promise<void> {
  const reader = body.getReader();
  let closedEarly = false;
  out.onClose((aborted) => {
    if (!aborted) return;
    closedEarly = true;
    reader.cancel().catch(() => {}); // the client left: stop producing
  });
  const first = await reader.read();
  if (first.done) {
    out.end();
    return;
  }
  const second = await reader.read();
  if (second.done) {
    out.end(first.value);
    return;
  }
  let more = out.write(first.value);
  more = out.write(second.value) && more;
  for (;;) {
    if (!more) await writable(out);
    if (closedEarly) return;
    const next = await reader.read();
    if (next.done) break;
    more = out.write(next.value);
  }
  out.end();
}

/** Sets headers given as a Headers object, an array of pairs or a record; says whether Content-Type was among them. */
function setGivenHeaders(out: HttpResponse, headers: HeadersInput): boolean {
  let contentType = false;
  if (headers instanceof Headers) {
    for (const [name, value] of headers) if (name !== SET_COOKIE) out.setHeader(name, value);
    const cookies = headers.getSetCookie();
    if (cookies.length > 0) out.setHeader(SET_COOKIE, cookies);
    return headers.has('content-type');
  }
  if (Array.isArray(headers)) {
    const pairs = new Headers(headers); // repeated names combine as the platform combines them
    return setGivenHeaders(out, pairs);
  }
  for (const name in headers) {
    out.setHeader(name, (headers as Record<string, string>)[name]!);
    if (!contentType && name.toLowerCase() === 'content-type') contentType = true;
  }
  return contentType;
}

/** A light response's kept string, bytes or nothing: sent whole, no stream made. */
function sendKept(out: HttpResponse, kept: KeptResponse): void {
  out.statusCode = kept.status;
  const contentType = kept.headers === undefined ? false : setGivenHeaders(out, kept.headers);
  if (typeof kept.body === 'string' && !contentType) out.setHeader('content-type', STRING_CONTENT_TYPE);
  if (kept.body === null) out.end();
  else out.end(kept.body);
}

/**
 * Sends `response` (what the handler returned) on `out`.
 * @throws TypeError `ERR_INVALID_RETURN_VALUE` when it is not a Response.
 */
export async function respond(response: unknown, out: HttpResponse): Promise<void> {
  if (isLightResponse(response)) {
    const kept = response.kept();
    if (kept !== null) return sendKept(out, kept);
  }
  if (!(response instanceof PlatformResponse)) {
    throw new ZepollTypeError('ERR_INVALID_RETURN_VALUE', `Expected the fetch handler to return a Response (or a promise of one), received ${response === null ? 'null' : typeof response}`);
  }
  out.statusCode = response.status;
  const headers = response.headers;
  for (const [name, value] of headers) if (name !== SET_COOKIE) out.setHeader(name, value);
  const cookies = headers.getSetCookie();
  if (cookies.length > 0) out.setHeader(SET_COOKIE, cookies);
  const file = FILE_BODIES.get(response);
  if (file !== undefined) return sendFile(out, file);
  const body = response.body;
  if (body === null) {
    out.end();
    return;
  }
  return sendStream(out, body);
}
