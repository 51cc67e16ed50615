/**
 * The Sec-WebSocket-Extensions field (RFC 6455 §9.1), read and written:
 *
 * ```
 * Sec-WebSocket-Extensions = extension-list
 * extension-list  = 1#extension
 * extension       = extension-token *( ";" extension-param )
 * extension-token = registered-token = token
 * extension-param = token [ "=" (token | quoted-string) ]
 *     ; the value of a quoted-string, unescaped, MUST be a token
 * ```
 *
 * with RFC 9110's list rules: OWS (SP and HTAB, nothing else) around
 * elements, ";" and "=", empty elements skipped, and several field lines
 * read as one list. Names are compared ASCII-case-insensitively and kept
 * in lower case. Anything else (a parameter without a name, a quoted value
 * that is not a token, a stray character) makes the whole field malformed:
 * the handshake is refused with 400, as `ws` does.
 */
import { TOKEN } from '../http/grammar.js';
import { isOws } from '../http/ows.js';
import { ASCII_CASE_BIT, UPPER_A, UPPER_Z } from '../http/bytes.js';
import { WebSocketHandshakeError } from './handshake-error.js';

/** One parameter of an extension offer: a value, or null for a parameter given without one. */
export interface ExtensionParam {
  /** The parameter's name, in lower case. */
  readonly name: string;
  /** Its value (a quoted value unescaped), or null when it had none. */
  readonly value: string | null;
}

/** One element of a Sec-WebSocket-Extensions list: an extension and its parameters, in the order sent. */
export interface ExtensionOffer {
  /** The extension's name, in lower case ('permessage-deflate'). */
  readonly name: string;
  /** Its parameters, in the order sent (duplicates kept: whether they are allowed is the extension's rule). */
  readonly params: readonly ExtensionParam[];
}

const COMMA = 0x2c;
const SEMICOLON = 0x3b;
const EQUALS = 0x3d;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;
/** Latin-1's end: a field value decoded as latin1 holds nothing past it; a wider character is no token. */
const BYTE_END = 0x100;

const isToken = (code: number): boolean => code < BYTE_END && TOKEN[code] === 1;

/** `text` with ASCII upper-case letters lowered, nothing else folded; `text` itself when it has none. */
export function asciiLower(text: string): string {
  let index = 0;
  while (index < text.length) {
    const code = text.charCodeAt(index);
    if (code >= UPPER_A && code <= UPPER_Z) break;
    index += 1;
  }
  if (index === text.length) return text;
  let lowered = text.slice(0, index);
  for (; index < text.length; index += 1) {
    const code = text.charCodeAt(index);
    lowered += String.fromCharCode(code >= UPPER_A && code <= UPPER_Z ? code | ASCII_CASE_BIT : code);
  }
  return lowered;
}

/** A reader of one field value: a cursor and the grammar's pieces. */
class FieldReader {
  index: number;
  constructor(readonly text: string) {
    this.index = 0;
  }

  get done(): boolean {
    return this.index >= this.text.length;
  }

  /** The code at the cursor, or -1 at the end. */
  peek(): number {
    return this.index < this.text.length ? this.text.charCodeAt(this.index) : -1;
  }

  skipOws(): void {
    while (this.index < this.text.length && isOws(this.text.charCodeAt(this.index))) this.index += 1;
  }

  /** A token at the cursor (moved past it); throws when there is none. */
  token(what: string): string {
    const start = this.index;
    while (this.index < this.text.length && isToken(this.text.charCodeAt(this.index))) this.index += 1;
    if (this.index === start) throw this.malformed(`${what} expected`);
    return this.text.slice(start, this.index);
  }

  /** A quoted-string at the cursor (its opening quote), unescaped; its value must be a token (RFC 6455 §9.1). */
  quoted(): string {
    let value = '';
    this.index += 1; // the opening quote
    for (;;) {
      let code = this.peek();
      if (code === -1) throw this.malformed('unterminated quoted-string');
      this.index += 1;
      if (code === QUOTE) break;
      if (code === BACKSLASH) {
        code = this.peek();
        if (code === -1) throw this.malformed('unterminated quoted-string');
        this.index += 1;
      }
      if (!isToken(code)) throw this.malformed('a quoted parameter value that is not a token');
      value += String.fromCharCode(code);
    }
    if (value === '') throw this.malformed('an empty quoted parameter value');
    return value;
  }

  malformed(why: string): WebSocketHandshakeError {
    return new WebSocketHandshakeError(400, `malformed Sec-WebSocket-Extensions (${why} at ${this.index}): ${JSON.stringify(this.text)}`);
  }
}

/** Reads one extension (the cursor on its name) and its parameters, up to the next "," or the end. */
function readExtension(reader: FieldReader): ExtensionOffer {
  const name = asciiLower(reader.token('an extension name'));
  const params: ExtensionParam[] = [];
  reader.skipOws();
  while (reader.peek() === SEMICOLON) {
    reader.index += 1;
    reader.skipOws();
    const paramName = asciiLower(reader.token('a parameter name'));
    reader.skipOws();
    let value: string | null = null;
    if (reader.peek() === EQUALS) {
      reader.index += 1;
      reader.skipOws();
      value = reader.peek() === QUOTE ? reader.quoted() : reader.token('a parameter value');
      reader.skipOws();
    }
    params.push({ name: paramName, value });
  }
  if (!reader.done && reader.peek() !== COMMA) throw reader.malformed('"," or ";" expected');
  return { name, params };
}

/**
 * The offers in Sec-WebSocket-Extensions field values (one per field line;
 * they read as one list), in the order sent.
 * @throws WebSocketHandshakeError 400 when a value is malformed.
 */
export function parseExtensions(values: readonly string[]): ExtensionOffer[] {
  const offers: ExtensionOffer[] = [];
  for (const text of values) {
    const reader = new FieldReader(text);
    for (;;) {
      reader.skipOws();
      if (reader.done) break;
      if (reader.peek() === COMMA) {
        reader.index += 1; // an empty list element
        continue;
      }
      offers.push(readExtension(reader));
    }
  }
  return offers;
}

/** An offer (or a response's accepted extension) as a Sec-WebSocket-Extensions element: `name; param; param=value`. */
export function formatExtension(offer: ExtensionOffer): string {
  let text = offer.name;
  for (const param of offer.params) text += param.value === null ? `; ${param.name}` : `; ${param.name}=${param.value}`;
  return text;
}
