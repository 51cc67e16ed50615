/**
 * Writes a fetch handler's Response to the HTTP layer's response: status
 * and reason, headers (Set-Cookie kept as separate fields), and the body:
 * nothing, one chunk sent with its Content-Length, a stream written as it
 * comes with the connection's backpressure, or a file range through
 * sendfile. A Response from another implementation (a ponyfill) is taken
 * by its shape (status, headers, body), as @hono/node-server takes it.
 */
import { ZepollTypeError } from '../errors.js';
import type { HttpResponse } from '../http/response.js';
import { sameCaseless } from '../http/ows.js';
import { FILE_BODIES, type FileBody } from './file-response.js';
import { BODY_CONTENT_TYPE, PlatformResponse, isLightResponse, type HeadersInput, type KeptBody } from './light-response.js';
import { sendStream } from './send-stream.js';

/** Fields the HTTP layer writes itself from the Set-Cookie list. */
const SET_COOKIE = 'set-cookie';
const CONTENT_TYPE = 'content-type';
const TRANSFER_ENCODING = 'transfer-encoding';

/** Headers as a Response from another implementation has them: pairs to iterate, maybe getSetCookie(). */
interface HeadersLike extends Iterable<[string, string]> {
  getSetCookie?(): string[];
}

/** What a Response is made of, whatever made it. */
interface ResponseParts {
  readonly status: number;
  readonly statusText: string | undefined;
  readonly headers: HeadersInput | HeadersLike | undefined;
  readonly body: KeptBody;
  /** A light Response's own parts: its stream goes out as it comes, never gathered (node-server's two paths). */
  readonly kept: boolean;
}

async function sendFile(out: HttpResponse, body: FileBody): Promise<void> {
  try {
    await out.sendFile(body.file.fd, body.offset, body.length);
  } finally {
    await body.file.close();
  }
}

/** Sets a Headers object's fields, Set-Cookie as separate fields; says whether Content-Type was among them. */
function setHeaderObject(out: HttpResponse, headers: Headers): boolean {
  for (const [name, value] of headers) if (name !== SET_COOKIE) out.setHeader(name, value);
  const cookies = headers.getSetCookie();
  if (cookies.length > 0) out.setHeader(SET_COOKIE, cookies);
  return headers.has(CONTENT_TYPE);
}

/**
 * Sets headers given as a Headers object, pairs (an array, another
 * implementation's Headers) or a record; says whether Content-Type was
 * among them (known here at no cost: asking the response would build an
 * array per request).
 */
function setGivenHeaders(out: HttpResponse, headers: HeadersInput | HeadersLike): boolean {
  if (headers instanceof Headers) return setHeaderObject(out, headers);
  if (Symbol.iterator in headers) {
    // Repeated names combine as the platform combines them; Set-Cookie stays a list.
    return setHeaderObject(out, new Headers(headers as unknown as HeadersInput)); // undici takes any iterable of pairs
  }
  let contentType = false;
  for (const name in headers) {
    out.setHeader(name, (headers as Record<string, string>)[name]!);
    if (!contentType && sameCaseless(name, 0, name.length, CONTENT_TYPE)) contentType = true;
  }
  return contentType;
}

/** Whether `value` has a Response's shape: a numeric status, headers, and a null or readable body. */
function isResponseLike(value: unknown): value is Response {
  if (typeof value !== 'object' || value === null) return false;
  const candidate = value as { status?: unknown; headers?: unknown; body?: unknown };
  const body = candidate.body;
  return (
    typeof candidate.status === 'number' &&
    typeof candidate.headers === 'object' &&
    candidate.headers !== null &&
    (body === null || (typeof body === 'object' && typeof (body as { getReader?: unknown }).getReader === 'function'))
  );
}

/** A kept (light) Response's parts, else the platform's or a look-alike's, else a coded TypeError. */
function partsOf(response: unknown): ResponseParts {
  if (isLightResponse(response)) {
    const kept = response.kept();
    if (kept !== null) return kept;
  }
  if (response instanceof PlatformResponse || isResponseLike(response)) {
    const answer = response as Response;
    return { status: answer.status, statusText: answer.statusText, headers: answer.headers, body: answer.body, kept: false };
  }
  throw new ZepollTypeError('ERR_INVALID_RETURN_VALUE', `Expected the fetch handler to return a Response (or a promise of one), received ${response === null ? 'null' : typeof response}`);
}

/**
 * Sends `response` (what the handler returned) on `out`.
 * @throws TypeError `ERR_INVALID_RETURN_VALUE` when it is neither a Response nor shaped like one.
 */
export async function respond(response: unknown, out: HttpResponse): Promise<void> {
  const parts = partsOf(response);
  out.statusCode = parts.status;
  const statusText = parts.statusText;
  if (statusText !== undefined && statusText !== '') out.statusMessage = statusText;
  const contentType = parts.headers !== undefined && setGivenHeaders(out, parts.headers);
  const file = FILE_BODIES.get(response as Response);
  if (file !== undefined) return sendFile(out, file);
  const body = parts.body;
  if (body === null) {
    out.end();
    return;
  }
  // As @hono/node-server: a body given without a type is sent as text.
  if (!contentType) out.setHeader(CONTENT_TYPE, BODY_CONTENT_TYPE);
  if (typeof body === 'string' || body instanceof Uint8Array) {
    out.end(body);
    return;
  }
  // node-server gathers what a platform Response's stream has ready (and
  // sends it whole if it ends), but sends its own light Response's stream
  // as it comes: zepoll does the same in both cases, so the framing matches.
  return sendStream(out, body, !parts.kept && !out.hasHeader(TRANSFER_ENCODING));
}
