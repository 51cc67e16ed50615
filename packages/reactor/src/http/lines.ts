/**
 * The checks of one request line, field line or chunk-size line (RFC 9112
 * 3, 5, 7.1), made in the bytes: where the parts lie is written to an
 * Int32Array the parser keeps (no object per line); anything malformed is
 * an HttpParseError with the status to answer.
 */
import { HttpParseError } from './parse-error.js';
import { isChunkExtensions, targetForm, TARGET_ASTERISK, TARGET_AUTHORITY, TARGET_INVALID, TOKEN } from './grammar.js';
import { COLON, HEX, SP, VALUE, sameText } from './bytes.js';
import { isOws, owsEnd, skipOws } from './ows.js';

/** Slots of readRequestLine's output: the two spaces, the target's form, the minor version. */
export const FIRST_SPACE = 0;
export const SECOND_SPACE = 1;
export const FORM = 2;
export const VERSION_MINOR = 3;
/** Slots of readFieldLine's output: the colon and the value's bounds (OWS removed: SP and HTAB). */
export const FIELD_COLON = 0;
export const VALUE_START = 1;
export const VALUE_END = 2;
/** Slots each output needs. */
export const LINE_PARTS = 4;

/** METHOD SP request-target SP HTTP-version in line[start..end); `targetParts` as targetForm() fills it. */
export function readRequestLine(line: Buffer, start: number, end: number, out: Int32Array, targetParts: Int32Array): void {
  const first = line.indexOf(SP, start);
  const second = first === -1 || first >= end ? -1 : line.indexOf(SP, first + 1);
  const third = second === -1 ? -1 : line.indexOf(SP, second + 1);
  if (first <= start || first >= end || second === -1 || second >= end || second === first + 1 || (third !== -1 && third < end)) {
    throw new HttpParseError(400, 'request line is not METHOD SP target SP version');
  }
  for (let index = start; index < first; index += 1) if (TOKEN[line[index]!] === 0) throw new HttpParseError(400, 'method has a character outside token');
  // No tunnels: bytes a client sends into what it takes for one would be parsed as requests nothing upstream saw.
  if (sameText(line, start, first, 'CONNECT')) throw new HttpParseError(501, 'CONNECT is not supported (no tunnels)');
  const form = targetForm(line, first + 1, second, targetParts);
  if (form === TARGET_INVALID || form === TARGET_AUTHORITY) throw new HttpParseError(400, 'request target is not origin-form, absolute-form or asterisk-form (RFC 9112 3.2)');
  if (form === TARGET_ASTERISK && !sameText(line, start, first, 'OPTIONS')) throw new HttpParseError(400, 'asterisk-form is only for OPTIONS');
  // HTTP/1.1 and HTTP/1.0 are read from the bytes; a string only for the errors.
  if (end - second - 1 !== 8 || !sameText(line, second + 1, second + 8, 'HTTP/1.') || (line[end - 1] !== 0x31 && line[end - 1] !== 0x30)) {
    const version = line.toString('latin1', second + 1, end);
    if (/^HTTP\/\d\.\d$/.test(version)) throw new HttpParseError(505, `version ${version} not supported`);
    throw new HttpParseError(400, 'malformed HTTP version');
  }
  out[FIRST_SPACE] = first;
  out[SECOND_SPACE] = second;
  out[FORM] = form;
  out[VERSION_MINOR] = line[end - 1] === 0x31 ? 1 : 0;
}

/** field-name ":" OWS field-value OWS in line[start..end): no folding, token names, no control bytes in values. */
export function readFieldLine(line: Buffer, start: number, end: number, out: Int32Array): void {
  if (isOws(line[start]!)) throw new HttpParseError(400, 'obsolete line folding');
  const colon = line.indexOf(COLON, start);
  if (colon <= start || colon >= end) throw new HttpParseError(400, 'header line without a name and colon');
  for (let index = start; index < colon; index += 1) {
    if (TOKEN[line[index]!] === 0) throw new HttpParseError(400, isOws(line[index]!) ? 'whitespace before a header colon' : 'header name has a character outside token');
  }
  // OWS is SP and HTAB only: 0x0B, 0x0C (refused below as controls), 0x85 and 0xA0 (obs-text) stay in the value.
  const valueStart = skipOws(line, colon + 1, end);
  const valueEnd = owsEnd(line, valueStart, end);
  for (let index = valueStart; index < valueEnd; index += 1) if (VALUE[line[index]!] === 0) throw new HttpParseError(400, 'header value has a control character');
  out[FIELD_COLON] = colon;
  out[VALUE_START] = valueStart;
  out[VALUE_END] = valueEnd;
}

/** chunk-size [ chunk-ext ] in line[start..lineEnd) (RFC 9112 7.1): the size, at most `bodySizeMax`. */
export function readChunkSize(line: Buffer, start: number, lineEnd: number, bodySizeMax: number): number {
  // chunk-size = 1*HEXDIG, then chunk-ext (RFC 9112 7.1.1): whitespace only next to ";" or "=".
  let end = start;
  let size = 0;
  for (; end < lineEnd; end += 1) {
    const digit = HEX[line[end]!]!;
    if (digit < 0) break;
    size = size * 16 + digit;
    if (size > bodySizeMax) throw new HttpParseError(413, `chunked body over ${bodySizeMax} bytes`);
  }
  if (end === start) throw new HttpParseError(400, 'chunk size is not hexadecimal');
  if (!isChunkExtensions(line, end, lineEnd)) throw new HttpParseError(400, 'chunk line is not chunk-size [ chunk-ext ] (RFC 9112 7.1)');
  return size;
}
