/**
 * A response's header fields. Names are case-insensitive (`setHeader`
 * replaces whatever case was used before) and the fields that frame the
 * message belong to the HTTP layer: Content-Length is checked against the
 * body instead of being sent as given, Transfer-Encoding may only ask for
 * chunked, Connection may only ask for close. No field can be sent twice
 * by accident, and no CR/LF can reach the wire.
 */
import { invalidArgType, invalidArgValue } from '../errors.js';
import { sameCaseless, trimOws } from './ows.js';

/** Header names and values a response may carry: no CR/LF (response splitting). */
const FIELD_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const FIELD_VALUE = /^[\t\x20-\x7e\x80-\xff]*$/;
/**
 * 1*DIGIT (RFC 9110 8.6), leading zeros allowed as the grammar allows them;
 * the value itself must also be a safe integer (checked apart).
 */
const CONTENT_LENGTH = /^\d{1,32}$/;
/** The first code unit past Latin-1: a header value is bytes, and a string goes out as Latin-1. */
const LATIN1_MAX = 0xff;
/**
 * Names (mapped to their lower case) and values that passed the checks
 * above: handlers set the same constants on every response, and a Map or
 * Set lookup costs less than a regular expression. Bounded; cleared when full.
 */
const validNames = new Map<string, string>();
const validValues = new Set<string>();
const VALID_STRINGS_MAX = 1024;

/**
 * Checks one field a protocol switch adds to a 101 response (Upgrade,
 * Connection, Sec-WebSocket-Accept, ...): a valid name, a value without
 * CR, LF or other controls. The framing rules of set() do not apply: a
 * 101 has no body, and its Connection field is `Upgrade`.
 * @throws TypeError `ERR_INVALID_ARG_TYPE`/`ERR_INVALID_ARG_VALUE` for a bad name or value.
 */
export function checkSwitchField(name: unknown, value: unknown): void {
  checkedValue(loweredName(name), value);
}

/** What a value of setHeader may be: a string, a number, or several strings (one field each). */
export type HeaderValue = string | number | readonly string[];

/** No declared Content-Length. */
export const LENGTH_UNDECLARED = -1;
const DIGIT_ZERO = 0x30;
/** What a slot past `count` holds. */
const UNSET = '';

function loweredName(name: unknown): string {
  if (typeof name !== 'string') throw invalidArgType('name', 'of type string', name);
  const known = validNames.get(name);
  if (known !== undefined) return known;
  if (!FIELD_NAME.test(name)) throw invalidArgValue('name', 'is not a valid HTTP header field name', name);
  if (validNames.size >= VALID_STRINGS_MAX) validNames.clear();
  const lower = name.toLowerCase();
  validNames.set(name, lower);
  return lower;
}

function checkedValue(name: string, value: unknown): string {
  if (typeof value !== 'string' && typeof value !== 'number') throw invalidArgType(`value of header "${name}"`, 'of type string, number or an Array of strings', value);
  const text = typeof value === 'string' ? value : String(value);
  if (validValues.has(text)) return text;
  if (!FIELD_VALUE.test(text)) throw invalidArgValue(`value of header "${name}"`, refusedValueReason(text), text);
  if (validValues.size >= VALID_STRINGS_MAX) validValues.clear();
  validValues.add(text);
  return text;
}

/** The first character FIELD_VALUE refuses. */
const REFUSED_CHARACTER = /[^\t\x20-\x7e\x80-\xff]/;

/** Why FIELD_VALUE refused `text`, naming the first character it refused. */
function refusedValueReason(text: string): string {
  const index = text.search(REFUSED_CHARACTER); // found: FIELD_VALUE refused this text
  const code = text.codePointAt(index)!; // a whole code point: an emoji is named as itself, not half a surrogate pair
  const hex = `U+${code.toString(16).toUpperCase().padStart(4, '0')}`;
  if (code > LATIN1_MAX) {
    return `has the character '${String.fromCodePoint(code)}' (${hex}) at index ${index}, which is not Latin-1: header values are bytes; percent-encode it (encodeURIComponent) or send it in the body`;
  }
  return `has the control character ${hex} at index ${index} (CR, LF, NUL and other controls are not allowed in a header)`;
}

export class ResponseHeaders {
  /**
   * Name/value pairs as they go out (names as the handler wrote them), in
   * fields[0..count). The arrays never shrink: a response reused for the
   * next request writes over the same slots (no garbage per response).
   */
  readonly fields: string[];
  /** Slots of `fields` in use (twice the number of fields). */
  count: number;
  /** The lower-case name of each pair, same order (lowered[i] names fields[2i]). */
  private readonly lowered: string[];
  /** Content-Length the handler declared, or LENGTH_UNDECLARED. */
  declaredLength: number;
  /** The declared Content-Length as written when it is not the plain decimal (`00011`), else null: sent as written. */
  declaredText: string | null;
  /** Transfer-Encoding: chunked was asked for. */
  chunked: boolean;
  /** Connection: close was asked for. */
  close: boolean;
  /** A Date field was set: it replaces the layer's. */
  userDate: boolean;

  constructor() {
    this.fields = [];
    this.count = 0;
    this.lowered = [];
    this.declaredLength = LENGTH_UNDECLARED;
    this.declaredText = null;
    this.chunked = false;
    this.close = false;
    this.userDate = false;
  }

  /** Back to no fields, for the next response on the same object. */
  clear(): void {
    // The strings are the handler's: nothing is kept alive (loops: fill() is a call into C++).
    for (let index = 0; index < this.count; index += 1) this.fields[index] = UNSET;
    for (let index = 0; index < this.count >> 1; index += 1) this.lowered[index] = UNSET;
    this.count = 0;
    this.declaredLength = LENGTH_UNDECLARED;
    this.declaredText = null;
    this.chunked = false;
    this.close = false;
    this.userDate = false;
  }

  /** Sets a field, replacing any of the same name in any case. */
  set(name: string, value: HeaderValue): void {
    const lower = loweredName(name);
    if (this.setFraming(lower, name, value)) return;
    if (Array.isArray(value)) {
      const values = value.map((item: unknown) => checkedValue(name, item)); // all checked before any is set
      this.remove(lower);
      for (const text of values) this.append(name, lower, text);
    } else {
      const text = checkedValue(name, value);
      this.remove(lower);
      this.append(name, lower, text);
    }
    if (lower === 'date') this.userDate = true;
  }

  private append(name: string, lower: string, value: string): void {
    const slot = this.count;
    this.fields[slot] = name;
    this.fields[slot + 1] = value;
    this.lowered[slot >> 1] = lower;
    this.count = slot + 2;
  }

  /** The value (several values as an array), or undefined. */
  get(name: string): string | string[] | undefined {
    const lower = loweredName(name);
    const framing = this.framingValue(lower);
    if (framing !== undefined) return framing;
    let found: string[] | undefined;
    const pairs = this.count >> 1;
    for (let index = 0; index < pairs; index += 1) {
      if (this.lowered[index] === lower) (found ??= []).push(this.fields[index * 2 + 1]!);
    }
    return found === undefined ? undefined : found.length === 1 ? found[0] : found;
  }

  has(name: string): boolean {
    return this.get(name) !== undefined;
  }

  /** Removes a field by name in any case (a framing field goes back to the layer's choice). */
  delete(name: string): void {
    const lower = loweredName(name);
    if (lower === 'content-length') {
      this.declaredLength = LENGTH_UNDECLARED;
      this.declaredText = null;
    } else if (lower === 'transfer-encoding') this.chunked = false;
    else if (lower === 'connection') this.close = false;
    else this.remove(lower);
  }

  /** Removes every pair named `lower`, keeping the others in order. */
  private remove(lower: string): void {
    const pairs = this.count >> 1;
    let kept = 0;
    for (let index = 0; index < pairs; index += 1) {
      if (this.lowered[index] === lower) continue;
      if (kept !== index) {
        this.lowered[kept] = this.lowered[index]!;
        this.fields[kept * 2] = this.fields[index * 2]!;
        this.fields[kept * 2 + 1] = this.fields[index * 2 + 1]!;
      }
      kept += 1;
    }
    if (kept !== pairs) {
      for (let index = kept; index < pairs; index += 1) {
        this.fields[index * 2] = UNSET;
        this.fields[index * 2 + 1] = UNSET;
        this.lowered[index] = UNSET;
      }
      this.count = kept * 2;
    }
    if (lower === 'date') this.userDate = false;
  }

  /** Content-Length, Transfer-Encoding and Connection: kept as facts the layer frames with. */
  private setFraming(lower: string, name: string, value: HeaderValue): boolean {
    if (lower !== 'content-length' && lower !== 'transfer-encoding' && lower !== 'connection') return false;
    if (Array.isArray(value)) throw invalidArgValue(`value of header "${name}"`, 'must be a single value (it frames the message)', value.join(', '));
    // OWS around the value is SP and HTAB only, as on requests: `chunked\xA0` is not chunked (ows.ts).
    const text = trimOws(checkedValue(name, value));
    if (lower === 'content-length') {
      const length = Number(text);
      if (!CONTENT_LENGTH.test(text) || !Number.isSafeInteger(length)) throw invalidArgValue('value of header "Content-Length"', 'must be a non-negative integer', value);
      this.declaredLength = length;
      // Digits only, checked above: safe on the wire as written, and the body is still checked against the number.
      this.declaredText = text.length === 1 || text.charCodeAt(0) !== DIGIT_ZERO ? null : text;
    } else if (lower === 'transfer-encoding') {
      if (!sameCaseless(text, 0, text.length, 'chunked')) throw invalidArgValue('value of header "Transfer-Encoding"', "must be 'chunked' (the only coding this layer frames)", value);
      this.chunked = true;
    } else {
      const close = sameCaseless(text, 0, text.length, 'close');
      if (!close && !sameCaseless(text, 0, text.length, 'keep-alive')) throw invalidArgValue('value of header "Connection"', "must be 'close' or 'keep-alive'", value);
      this.close = close;
    }
    return true;
  }

  private framingValue(lower: string): string | undefined {
    if (lower === 'content-length') return this.declaredLength === LENGTH_UNDECLARED ? undefined : (this.declaredText ?? String(this.declaredLength));
    if (lower === 'transfer-encoding') return this.chunked ? 'chunked' : undefined;
    if (lower === 'connection') return this.close ? 'close' : undefined;
    return undefined;
  }
}

/** A body argument of end()/write(): bytes, a UTF-8 string, or a coded TypeError. */
export function bodyBytes(name: string, body: unknown): Uint8Array {
  if (body instanceof Uint8Array) return body;
  if (typeof body === 'string') return Buffer.from(body, 'utf8');
  throw invalidArgType(name, 'of type string or an instance of Buffer or Uint8Array', body);
}
