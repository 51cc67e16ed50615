/**
 * The ABNF of RFC 9112 and RFC 3986 that the parser checks byte by byte:
 * request-target forms (§3.2), chunk extensions (§7.1.1) and the Host
 * field (§3.2, RFC 3986 §3.2.2). Each check takes a byte range and answers
 * with a value; the parser decides the status. Tables are made once.
 */

import { sameCaseless, skipOws } from './ows.js';
import { ASCII_CASE_BIT, CLOSE_BRACKET, COLON, OPEN_BRACKET, PERCENT, QUESTION, SLASH } from './bytes.js';

const table = (test: (byte: number) => boolean): Uint8Array => {
  const result = new Uint8Array(256);
  for (let byte = 0; byte < 256; byte += 1) result[byte] = test(byte) ? 1 : 0;
  return result;
};
const isAlpha = (byte: number): boolean => (byte >= 0x41 && byte <= 0x5a) || (byte >= 0x61 && byte <= 0x7a);
const isDigit = (byte: number): boolean => byte >= 0x30 && byte <= 0x39;
const inSet = (chars: string) => (byte: number): boolean => chars.includes(String.fromCharCode(byte));

/** RFC 3986 unreserved: ALPHA DIGIT - . _ ~ */
const isUnreserved = (byte: number): boolean => isAlpha(byte) || isDigit(byte) || inSet('-._~')(byte);
/** RFC 3986 sub-delims. */
const isSubDelim = inSet("!$&'()*+,;=");

/** pchar without pct-encoded (checked apart: "%" HEXDIG HEXDIG). */
const PCHAR = table((byte) => isUnreserved(byte) || isSubDelim(byte) || byte === 0x3a || byte === 0x40); // ":" and "@"
/** query = *( pchar / "/" / "?" ); a path also takes "/". */
const PATH_OR_QUERY = table((byte) => PCHAR[byte] === 1 || byte === 0x2f || byte === 0x3f);
/** reg-name = *( unreserved / pct-encoded / sub-delims ) */
const REG_NAME = table((byte) => isUnreserved(byte) || isSubDelim(byte));
/** Inside an IP-literal's brackets: IPv6 (hex, ":" and "." of an embedded IPv4) or IPvFuture. */
const IP_LITERAL = table((byte) => isUnreserved(byte) || isSubDelim(byte) || byte === 0x3a);
const HEX = table((byte) => isDigit(byte) || (byte >= 0x41 && byte <= 0x46) || (byte >= 0x61 && byte <= 0x66));
/** RFC 9110 tchar. */
export const TOKEN = table((byte) => isAlpha(byte) || isDigit(byte) || inSet("!#$%&'*+-.^_`|~")(byte));
/** qdtext: HTAB, SP, 0x21, 0x23-0x5B, 0x5D-0x7E, obs-text. */
const QDTEXT = table((byte) => byte === 0x09 || byte === 0x20 || byte === 0x21 || (byte >= 0x23 && byte <= 0x5b) || (byte >= 0x5d && byte <= 0x7e) || byte >= 0x80);
/** What may follow a backslash in a quoted-pair: HTAB, SP, VCHAR, obs-text. */
const QUOTED_PAIR = table((byte) => byte === 0x09 || byte === 0x20 || (byte >= 0x21 && byte <= 0x7e) || byte >= 0x80);

const SEMICOLON = 0x3b;
const EQUALS = 0x3d;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;
/** The default ports of http and https (RFC 9110 4.2.1, 4.2.2): `a:80` is `a` to an http URI. */
const DEFAULT_PORT_HTTP = '80';
const DEFAULT_PORT_HTTPS = '443';
/** "http" and "https": the byte after "http" tells them apart, and "://" comes before the authority. */
const HTTP_SCHEME_SIZE = 4;
const AUTHORITY_PREFIX_SIZE = 3;
const DIGIT_ZERO = 0x30;

/** The forms of request-target (RFC 9112 §3.2), and INVALID. */
export const TARGET_INVALID = 0;
export const TARGET_ORIGIN = 1;
export const TARGET_ABSOLUTE = 2;
export const TARGET_AUTHORITY = 3;
export const TARGET_ASTERISK = 4;

/** True when bytes[start..end) are bytes of `allowed` and pct-encodings ("%" HEXDIG HEXDIG). */
function pathChars(bytes: Uint8Array, start: number, end: number, allowed: Uint8Array): boolean {
  for (let index = start; index < end; index += 1) {
    const byte = bytes[index]!;
    if (allowed[byte] === 1) continue;
    if (byte !== PERCENT || index + 2 >= end) return false;
    if (HEX[bytes[index + 1]!] === 0 || HEX[bytes[index + 2]!] === 0) return false;
    index += 2;
  }
  return true;
}

/**
 * origin-form = absolute-path [ "?" query ]: starts with "/", then pchars,
 * "/" and pct-encodings up to an optional "?", then the query (which may
 * hold "?" and "/" too). No "#", no space, no byte above 0x7E.
 */
function isOriginForm(bytes: Uint8Array, start: number, end: number): boolean {
  return end > start && bytes[start] === SLASH && pathChars(bytes, start, end, PATH_OR_QUERY);
}

/**
 * uri-host [ ":" port ] (RFC 3986 §3.2.2): an IP-literal in brackets, or a
 * reg-name (IPv4 literals are reg-names by their characters), then an
 * optional port of digits. `userinfo@` is refused: RFC 9110 §4.2.4 forbids
 * it in http(s) URIs. An empty range is an authority (the empty Host of
 * RFC 9112 §3.2), but a port without a host (`:80`) is not: it makes an
 * http(s) URI with an empty host, which RFC 9110 §4.2.1 says a recipient
 * MUST reject.
 */
export function isAuthority(bytes: Uint8Array, start: number, end: number): boolean {
  let index = start;
  if (index < end && bytes[index] === OPEN_BRACKET) {
    const close = bytes.indexOf(CLOSE_BRACKET, index);
    if (close === -1 || close >= end || close === index + 1) return false;
    for (let inner = index + 1; inner < close; inner += 1) if (IP_LITERAL[bytes[inner]!] === 0) return false;
    index = close + 1;
  } else {
    while (index < end && bytes[index] !== COLON) {
      const byte = bytes[index]!;
      if (byte === PERCENT) {
        if (index + 2 >= end || HEX[bytes[index + 1]!] === 0 || HEX[bytes[index + 2]!] === 0) return false;
        index += 3;
        continue;
      }
      if (REG_NAME[byte] === 0) return false; // "@" (userinfo), "/", space, controls, obs-text
      index += 1;
    }
  }
  if (index === end) return true;
  if (bytes[index] !== COLON || index === start) return false;
  for (index += 1; index < end; index += 1) if (!isDigit(bytes[index]!)) return false;
  return true;
}

/** "http://" or "https://" (scheme case-insensitive) at `start`; the length of the prefix, or 0. */
function httpSchemeLength(bytes: Uint8Array, start: number, end: number): number {
  const lower = (index: number): number => bytes[index]! | 0x20;
  if (end - start < 7 || lower(start) !== 0x68 || lower(start + 1) !== 0x74 || lower(start + 2) !== 0x74 || lower(start + 3) !== 0x70) return 0;
  let index = start + 4;
  if (lower(index) === 0x73) index += 1;
  if (end - index < 3 || bytes[index] !== COLON || bytes[index + 1] !== SLASH || bytes[index + 2] !== SLASH) return 0;
  return index + 3 - start;
}

/** Slots of targetForm's `parts` for absolute-form: where the authority starts, and where the path starts (and the authority ends). */
export const TARGET_AUTHORITY_START = 0;
export const TARGET_PATH_START = 1;

/**
 * The form of bytes[start..end) as a request-target. For absolute-form,
 * `parts` receives where its authority and its path start (the slots
 * above).
 */
export function targetForm(bytes: Uint8Array, start: number, end: number, parts: Int32Array): number {
  if (end - start === 1 && bytes[start] === 0x2a) return TARGET_ASTERISK;
  if (bytes[start] === SLASH) return isOriginForm(bytes, start, end) ? TARGET_ORIGIN : TARGET_INVALID;
  const scheme = httpSchemeLength(bytes, start, end);
  if (scheme > 0) {
    const authorityStart = start + scheme;
    let pathStart = authorityStart;
    while (pathStart < end && bytes[pathStart] !== SLASH && bytes[pathStart] !== QUESTION) pathStart += 1;
    if (pathStart === authorityStart || !isAuthority(bytes, authorityStart, pathStart)) return TARGET_INVALID;
    // path-abempty [ "?" query ]
    if (!pathChars(bytes, pathStart, end, PATH_OR_QUERY)) return TARGET_INVALID;
    parts[TARGET_AUTHORITY_START] = authorityStart;
    parts[TARGET_PATH_START] = pathStart;
    return TARGET_ABSOLUTE;
  }
  const colon = bytes.indexOf(COLON, start);
  return colon !== -1 && colon < end && isAuthority(bytes, start, end) ? TARGET_AUTHORITY : TARGET_INVALID;
}

/**
 * The last Host value found valid. A keep-alive client sends the same Host
 * on every request, and the parser hands over the same string when the
 * bytes repeat: checking it once spares a Buffer and a scan per request.
 */
let validHost = '';

/** A Host field value: uri-host [ ":" port ], possibly empty (RFC 9112 §3.2). */
export function isHostValue(value: string): boolean {
  if (value === validHost) return true;
  const bytes = Buffer.from(value, 'latin1');
  if (!isAuthority(bytes, 0, bytes.length)) return false;
  validHost = value;
  return true;
}

/** token / quoted-string starting at `index`; returns the index after it, or -1. */
function extensionValue(bytes: Uint8Array, index: number, end: number): number {
  if (index < end && bytes[index] === QUOTE) {
    for (index += 1; index < end; index += 1) {
      const byte = bytes[index]!;
      if (byte === QUOTE) return index + 1;
      if (byte === BACKSLASH) {
        if (index + 1 >= end || QUOTED_PAIR[bytes[index + 1]!] === 0) return -1;
        index += 1;
      } else if (QDTEXT[byte] === 0) {
        return -1;
      }
    }
    return -1; // no closing quote
  }
  const tokenStart = index;
  while (index < end && TOKEN[bytes[index]!] === 1) index += 1;
  return index === tokenStart ? -1 : index;
}

/**
 * chunk-ext = *( BWS ";" BWS chunk-ext-name [ BWS "=" BWS chunk-ext-val ] )
 * over bytes[start..end), the part of a chunk line after its size.
 * Whitespace is allowed only next to ";" and "=" (so "5 " alone is not a
 * chunk line), names are tokens, values tokens or complete quoted-strings.
 */
export function isChunkExtensions(bytes: Uint8Array, start: number, end: number): boolean {
  let index = start;
  while (index < end) {
    index = skipOws(bytes, index, end);
    if (index >= end || bytes[index] !== SEMICOLON) return false;
    index = skipOws(bytes, index + 1, end);
    const nameStart = index;
    while (index < end && TOKEN[bytes[index]!] === 1) index += 1;
    if (index === nameStart) return false;
    const afterName = skipOws(bytes, index, end);
    if (afterName < end && bytes[afterName] === EQUALS) {
      index = extensionValue(bytes, skipOws(bytes, afterName + 1, end), end);
      if (index === -1) return false;
    }
    // The next extension starts with BWS ";"; anything else is checked by the loop.
  }
  return true;
}

/** Where the host of an authority (valid, from `start`) ends: after an IP-literal's bracket, else at its port's colon or the end. */
function hostEnd(authority: string, start: number): number {
  const mark = authority.indexOf(authority.charCodeAt(start) === OPEN_BRACKET ? ']' : ':', start);
  if (mark === -1) return authority.length;
  return authority.charCodeAt(mark) === CLOSE_BRACKET ? mark + 1 : mark;
}

/**
 * Where the port of an authority whose host ends at `end` starts, its
 * leading zeros skipped (`080` is port 80); `authority.length` when it has
 * none, an empty one (`a:`, RFC 3986 §6.2.3) or `defaultPort`.
 */
function portStart(authority: string, end: number, defaultPort: string): number {
  if (end === authority.length) return end;
  let start = end + 1; // after the colon
  while (start < authority.length - 1 && authority.charCodeAt(start) === DIGIT_ZERO) start += 1;
  return start === authority.length || sameCaseless(authority, start, authority.length, defaultPort) ? authority.length : start;
}

/** Whether a[aStart..aEnd) and b[bStart..bEnd) are the same, ASCII letters in any case. */
function sameFolded(a: string, aStart: number, aEnd: number, b: string, bStart: number, bEnd: number): boolean {
  if (aEnd - aStart !== bEnd - bStart) return false;
  for (let index = 0; index < aEnd - aStart; index += 1) {
    const left = a.charCodeAt(aStart + index);
    const right = b.charCodeAt(bStart + index);
    if (left !== right && (!isAlpha(left) || (left | ASCII_CASE_BIT) !== (right | ASCII_CASE_BIT))) return false;
  }
  return true;
}

/**
 * Whether a Host value names the same authority as an absolute-form
 * target (`target`: its scheme and authority, `http://a:80`; both already
 * valid). Host names compare ASCII case-insensitively, and a port equal to
 * the scheme's default is the same as none (RFC 9110 §4.2.3).
 */
export function sameAuthority(target: string, host: string): boolean {
  const secure = target.charCodeAt(HTTP_SCHEME_SIZE) !== COLON;
  const start = HTTP_SCHEME_SIZE + (secure ? 1 : 0) + AUTHORITY_PREFIX_SIZE;
  const defaultPort = secure ? DEFAULT_PORT_HTTPS : DEFAULT_PORT_HTTP;
  const targetHostEnd = hostEnd(target, start);
  const hostHostEnd = hostEnd(host, 0);
  if (!sameFolded(target, start, targetHostEnd, host, 0, hostHostEnd)) return false;
  const targetPort = portStart(target, targetHostEnd, defaultPort);
  const hostPort = portStart(host, hostHostEnd, defaultPort);
  return sameFolded(target, targetPort, target.length, host, hostPort, host.length);
}
