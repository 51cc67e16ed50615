/**
 * Bytes the request parser looks at, and the comparisons it makes without
 * making strings: a keep-alive client repeats its method, target and
 * fields, so equal bytes reuse the previous request's strings.
 */
export const LF = 10;
export const CR = 13;
export const SP = 32;
export const HTAB = 9;
export const COLON = 58;

/** Field values: visible characters, space, tab and obs-text; no other control bytes. */
export const VALUE = new Uint8Array(256);
for (let byte = 0; byte < 256; byte += 1) VALUE[byte] = byte === HTAB || (byte >= SP && byte !== 127) ? 1 : 0;
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
    if (byte >= 65 && byte <= 90) byte += 32;
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

