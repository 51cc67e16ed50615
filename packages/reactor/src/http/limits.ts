/** Limits of the HTTP layer, as named options with defaults. */
import { integerOption } from '../validate.js';

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

export const REQUEST_LINE_SIZE_MAX = 8 * 1024;
export const HEADERS_SIZE_MAX = 16 * 1024;
export const HEADERS_COUNT_MAX = 100;
export const BODY_SIZE_MAX = 1024 * 1024;
/** A chunk-size line (hex digits and extensions) longer than this is malformed. */
export const CHUNK_LINE_SIZE_MAX = 1024;

export interface ResolvedHttpLimits {
  readonly requestLineSizeMax: number;
  readonly headersSizeMax: number;
  readonly headersCountMax: number;
  readonly bodySizeMax: number;
}

export function resolveLimits(limits: HttpLimits = {}): ResolvedHttpLimits {
  const max = Number.MAX_SAFE_INTEGER;
  return {
    requestLineSizeMax: integerOption('options.requestLineSizeMax', limits.requestLineSizeMax, REQUEST_LINE_SIZE_MAX, 1, max),
    headersSizeMax: integerOption('options.headersSizeMax', limits.headersSizeMax, HEADERS_SIZE_MAX, 1, max),
    headersCountMax: integerOption('options.headersCountMax', limits.headersCountMax, HEADERS_COUNT_MAX, 1, max),
    bodySizeMax: integerOption('options.bodySizeMax', limits.bodySizeMax, BODY_SIZE_MAX, 1, max),
  };
}
