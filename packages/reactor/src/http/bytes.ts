/**
 * Bytes the HTTP layer looks at, and the comparisons the parser makes
 * without making strings: a keep-alive client repeats its method, target
 * and fields, so equal bytes reuse the previous request's strings.
 *
 * The character codes are named here once, for the parser (lines.ts,
 * ows.ts), the RFC 3986 grammar (grammar.ts) and the request URL of the
 * fetch layer (fetch/url.ts): one table, so two files cannot disagree on
 * what a delimiter is.
 */

/** HTAB: with SP, the only whitespace HTTP has (RFC 9110 5.6.3). */
export const HTAB = 0x09;
/** LF: ends a line, after CR (RFC 9112 2.2). */
export const LF = 0x0a;
/** CR: the first byte of a line's CRLF. */
export const CR = 0x0d;
/** SP: separates the request line's parts; OWS with HTAB. */
export const SP = 0x20;
/** "%": starts a pct-encoding (RFC 3986 2.1). */
export const PERCENT = 0x25;
/** "/": starts and separates path segments. */
export const SLASH = 0x2f;
/** ":": ends a field name; separates a host from its port. */
export const COLON = 0x3a;
/** "?": starts a target's query. */
export const QUESTION = 0x3f;
/** "[": opens an IP-literal host (RFC 3986 3.2.2). */
export const OPEN_BRACKET = 0x5b;
/** "]": closes an IP-literal host. */
export const CLOSE_BRACKET = 0x5d;
/** "A" and "Z": the ASCII upper-case letters lie between them, the only letters HTTP folds. */
export const UPPER_A = 0x41;
/** See UPPER_A. */
export const UPPER_Z = 0x5a;
/** The bit that separates an ASCII upper-case letter from its lower case. */
export const ASCII_CASE_BIT = 0x20;

/** Field values: visible characters, space, tab and obs-text; no other control bytes. */
export const VALUE = new Uint8Array(256);
for (let byte = 0; byte < 256; byte += 1) VALUE[byte] = byte === HTAB || (byte >= SP && byte !== 127) ? 1 : 0;
/** A hexadecimal digit's value by byte (either case); -1 for any other byte. */
export const HEX = new Int8Array(256).fill(-1);
for (let digit = 0; digit < 16; digit += 1) {
  HEX['0123456789abcdef'.charCodeAt(digit)] = digit;
  HEX['0123456789ABCDEF'.charCodeAt(digit)] = digit;
}

/** True when line[start..end) holds exactly `text` (latin1). */
export function sameText(line: Buffer, start: number, end: number, text: string): boolean {
  if (text.length !== end - start) return false;
  for (let index = 0; index < text.length; index += 1) if (line[start + index] !== text.charCodeAt(index)) return false;
  return true;
}

/** True when line[start..end), ASCII letters lowered, is `lower` (a field name already lowered). */
export function sameLowered(line: Buffer, start: number, end: number, lower: string): boolean {
  if (lower.length !== end - start) return false;
  for (let index = 0; index < lower.length; index += 1) {
    let byte = line[start + index]!;
    if (byte >= UPPER_A && byte <= UPPER_Z) byte |= ASCII_CASE_BIT;
    if (byte !== lower.charCodeAt(index)) return false;
  }
  return true;
}

/**
 * `line[start..end)` as a string, or `previous` when the bytes are the
 * same: a keep-alive client sends the same method, target, field names and
 * values request after request, and comparing bytes costs less than making
 * a string (a call into C++ and an allocation).
 */
export function latin1(line: Buffer, start: number, end: number, previous: string | undefined): string {
  // typeof: the previous array is the last request's `headers`, which a handler could have written into.
  return typeof previous === 'string' && sameText(line, start, end, previous) ? previous : line.toString('latin1', start, end);
}

