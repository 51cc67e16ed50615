/** Limits of the HTTP layer, as named options with defaults. */
import { integerOption } from '../validate.js';

/** The HTTP layer's size limits, each optional (its default applies); part of HttpServerOptions. */
export interface HttpLimits {
  /** Bytes of the request line, CRLF excluded (default 8 KiB); over it: 414 (RFC 9112 3). */
  readonly requestLineSizeMax?: number;
  /** Bytes of the header section after the request line (default 16 KiB); over it: 431. */
  readonly headersSizeMax?: number;
  /** Header fields per request (default 100); over it: 431. */
  readonly headersCountMax?: number;
  /** Bytes of a request body (default 1 MiB); over it: 413. */
  readonly bodySizeMax?: number;
}

/** Default `requestLineSizeMax`: bytes of a request line (8 KiB, CRLF excluded). */
export const REQUEST_LINE_SIZE_MAX = 8 * 1024;
/** Default `headersSizeMax`: bytes of a header section (16 KiB). */
export const HEADERS_SIZE_MAX = 16 * 1024;
/** Default `headersCountMax`: header fields per request. */
export const HEADERS_COUNT_MAX = 100;
/** Default `bodySizeMax`: bytes of a request body (1 MiB). */
export const BODY_SIZE_MAX = 1024 * 1024;
/** A chunk-size line (hex digits and extensions) longer than this is malformed. */
export const CHUNK_LINE_SIZE_MAX = 1024;

/** HttpLimits checked, with every default filled in (what resolveLimits() returns). */
export interface ResolvedHttpLimits {
  readonly requestLineSizeMax: number;
  readonly headersSizeMax: number;
  readonly headersCountMax: number;
  readonly bodySizeMax: number;
}

/**
 * What resolveLimits() returned: given again (a server's limits, handed to
 * each connection's parser), they are used as they are, not checked and
 * copied once per connection.
 */
const RESOLVED = new WeakSet<object>();

/**
 * Checks `limits` and fills in the defaults.
 * @throws TypeError `ERR_INVALID_ARG_TYPE` when a limit is not a number.
 * @throws RangeError `ERR_OUT_OF_RANGE` when a limit is not a positive safe integer.
 */
export function resolveLimits(limits: HttpLimits = {}): ResolvedHttpLimits {
  if (RESOLVED.has(limits)) return limits as ResolvedHttpLimits;
  const max = Number.MAX_SAFE_INTEGER;
  const resolved: ResolvedHttpLimits = {
    requestLineSizeMax: integerOption('options.requestLineSizeMax', limits.requestLineSizeMax, REQUEST_LINE_SIZE_MAX, 1, max),
    headersSizeMax: integerOption('options.headersSizeMax', limits.headersSizeMax, HEADERS_SIZE_MAX, 1, max),
    headersCountMax: integerOption('options.headersCountMax', limits.headersCountMax, HEADERS_COUNT_MAX, 1, max),
    bodySizeMax: integerOption('options.bodySizeMax', limits.bodySizeMax, BODY_SIZE_MAX, 1, max),
  };
  RESOLVED.add(resolved);
  return resolved;
}
