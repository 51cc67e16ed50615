/**
 * HTTP's whitespace and lists, defined on octets. OWS is `*( SP / HTAB )`
 * (RFC 9110 5.6.3) and nothing else: `String.prototype.trim()`, `\s` and
 * the other Unicode-aware routines also strip U+0085, U+00A0 and more,
 * which a latin1-decoded field value may hold as obs-text. A value such as
 * `chunked\xA0` is then `chunked` to us and not to the next server on the
 * path: request smuggling. Every OWS decision of the HTTP layer, on
 * request bytes, on strings decoded from them, and on response fields a
 * handler sets, is made here. Case folding is ASCII only, for the same
 * reason. Nothing here allocates.
 */
import { ASCII_CASE_BIT, HTAB, SP, UPPER_A, UPPER_Z } from './bytes.js';

/** The list separator (RFC 9110 5.6.1). */
const COMMA = ',';

/** True for SP and HTAB, the only whitespace HTTP has (RFC 9110 5.6.3). */
export const isOws = (code: number): boolean => code === SP || code === HTAB;

/** The index of the first byte of bytes[start..end) that is not OWS, or `end`. */
export function skipOws(bytes: Uint8Array, start: number, end: number): number {
  let index = start;
  while (index < end && isOws(bytes[index]!)) index += 1;
  return index;
}

/** Where bytes[start..end) ends once its trailing OWS is removed (at least `start`). */
export function owsEnd(bytes: Uint8Array, start: number, end: number): number {
  let index = end;
  while (index > start && isOws(bytes[index - 1]!)) index -= 1;
  return index;
}

/** skipOws for a string (latin1-decoded bytes, or a value a handler set). */
export function skipOwsText(text: string, start: number, end: number): number {
  let index = start;
  while (index < end && isOws(text.charCodeAt(index))) index += 1;
  return index;
}

/** owsEnd for a string. */
export function owsEndText(text: string, start: number, end: number): number {
  let index = end;
  while (index > start && isOws(text.charCodeAt(index - 1))) index -= 1;
  return index;
}

/** `text` without leading and trailing OWS: `text` itself (no copy) when it has none. */
export function trimOws(text: string): string {
  const start = skipOwsText(text, 0, text.length);
  const end = owsEndText(text, start, text.length);
  return start === 0 && end === text.length ? text : text.slice(start, end);
}

/** True when text[start..end), ASCII letters lowered, is `lower` (itself lower case); no other character folds. */
export function sameCaseless(text: string, start: number, end: number, lower: string): boolean {
  if (end - start !== lower.length) return false;
  for (let index = 0; index < lower.length; index += 1) {
    let code = text.charCodeAt(start + index);
    if (code >= UPPER_A && code <= UPPER_Z) code |= ASCII_CASE_BIT;
    if (code !== lower.charCodeAt(index)) return false;
  }
  return true;
}

/**
 * Walks the elements of a list-valued field (RFC 9110 5.6.1, `#element`):
 * the value split at commas, OWS around each element removed, empty
 * elements skipped ("a recipient MUST parse and ignore a reasonable number
 * of empty list elements"; the field's size limit bounds how many). The
 * current element is text[start..end); one reader is reused, so a walk
 * makes no array and no string.
 *
 * Commas inside quoted-strings are not special. Connection options are
 * tokens (a quoted-string there is malformed); a transfer coding or an
 * expectation with a quoted parameter splits into more elements than it
 * has, and Transfer-Encoding (400/501) and Expect (417) refuse any extra
 * element: the split never turns a refusal into an acceptance.
 */
export class ListReader {
  /** The field value being walked. */
  text: string;
  /** The current element's bounds in `text`. */
  start: number;
  end: number;
  /** Where the next element's search begins; past the end once done. */
  private next: number;

  constructor() {
    this.text = '';
    this.start = 0;
    this.end = 0;
    this.next = 1;
  }

  /** Starts a walk over `text`'s elements. */
  reset(text: string): this {
    this.text = text;
    this.start = 0;
    this.end = 0;
    this.next = 0;
    return this;
  }

  /** Moves to the next non-empty element; false when none is left. */
  advance(): boolean {
    const text = this.text;
    while (this.next <= text.length) {
      const comma = text.indexOf(COMMA, this.next);
      const stop = comma === -1 ? text.length : comma;
      this.start = skipOwsText(text, this.next, stop);
      this.end = owsEndText(text, this.start, stop);
      this.next = stop + 1;
      if (this.end > this.start) return true;
    }
    return false;
  }

  /** True when the current element is `lower` (a lower-case token), ASCII letters in any case. */
  is(lower: string): boolean {
    return sameCaseless(this.text, this.start, this.end, lower);
  }
}
