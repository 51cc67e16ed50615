/**
 * The server's side of the opening handshake (RFC 6455 §4.2): whether an
 * HTTP request is a valid upgrade to WebSocket, and the header fields of
 * the 101 response that accepts it. Plain strings in, plain strings out:
 * the HTTP layer (an HttpRequest has the shape UpgradeRequestHead asks
 * for) or the fetch layer calls it; nothing here reads a socket.
 *
 * A valid request (§4.2.1), checked in the RFC's order:
 * 1. method GET (else 405 with `Allow: GET`), HTTP/1.1 or later (else 400);
 * 2. (Host is the HTTP layer's to require, as for any HTTP/1.1 request);
 * 3. Upgrade lists the token `websocket`, ASCII case-insensitively (400);
 * 4. Connection lists the token `upgrade`, ASCII case-insensitively (400);
 * 5. exactly one Sec-WebSocket-Key, the base64 of 16 bytes: 22 base64
 *    characters, the last with its unused bits zero, then `==` (400);
 * 6. exactly one Sec-WebSocket-Version, `13` (else 426 with
 *    `Sec-WebSocket-Version: 13`, §4.4);
 * 7. Sec-WebSocket-Protocol, when present, distinct tokens (400, §4.1);
 * 8. Sec-WebSocket-Extensions, when present, well-formed (400, extensions.ts).
 * Origin is not checked: it is the application's to judge (§10.2).
 */
import { createHash } from 'node:crypto';
import { invalidArgType, invalidArgValue } from '../errors.js';
import { VALUE } from '../http/bytes.js';
import { TOKEN } from '../http/grammar.js';
import { ListReader, sameCaseless } from '../http/ows.js';
import { parseExtensions, type ExtensionOffer } from './extensions.js';
import { WebSocketHandshakeError } from './handshake-error.js';

/** The GUID a server appends to the key before hashing it (§1.3). */
export const WEBSOCKET_GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';
/** The one protocol version this server speaks (§4.1, the IANA registry). */
export const WEBSOCKET_VERSION = '13';

/**
 * Sec-WebSocket-Key: the base64 of 16 bytes is 22 characters, then "=="
 * (RFC 4648 §4). 16 bytes are 128 bits and 22 characters carry 132, so
 * the 22nd character's low 4 bits are padding and zero in a canonical
 * encoding (RFC 4648 §3.5): it is one of A, Q, g, w.
 */
const KEY = /^[A-Za-z0-9+/]{21}[AQgw]==$/;
const BYTE_END = 0x100;

/** The request fields the handshake reads; an HttpRequest has this shape. */
export interface UpgradeRequestHead {
  /** The method, case-sensitive ('GET'). */
  readonly method: string;
  /** The minor version of HTTP/1.x: 1 for HTTP/1.1. */
  readonly versionMinor: number;
  /** Field names and values, alternating; names in any case, values as sent (latin1), OWS around them removed. */
  readonly headers: readonly string[];
}

/** What a valid upgrade request asks for, and the accept value that answers its key. */
export interface WebSocketUpgrade {
  /** The Sec-WebSocket-Key as sent. */
  readonly key: string;
  /** The Sec-WebSocket-Accept value that answers it (acceptKey(key)). */
  readonly accept: string;
  /** The subprotocols offered (Sec-WebSocket-Protocol), in the client's order of preference; empty when none. */
  readonly protocols: readonly string[];
  /** The extensions offered (Sec-WebSocket-Extensions), in the client's order; empty when none. */
  readonly extensions: readonly ExtensionOffer[];
}

/** The Sec-WebSocket-Accept value for `key`: base64(SHA-1(key + WEBSOCKET_GUID)) (§4.2.2). */
export function acceptKey(key: string): string {
  return createHash('sha1').update(key + WEBSOCKET_GUID, 'latin1').digest('base64');
}

/** True when `key` is a valid Sec-WebSocket-Key: the canonical base64 of 16 bytes. */
export function isValidKey(key: string): boolean {
  return KEY.test(key);
}

/** True when list-valued field `value` has an element equal to `lower` (ASCII case-insensitive). */
function listHas(reader: ListReader, value: string, lower: string): boolean {
  reader.reset(value);
  while (reader.advance()) if (reader.is(lower)) return true;
  return false;
}

/** True when text[start..end) is a token (RFC 9110 5.6.2). */
function isToken(text: string, start: number, end: number): boolean {
  for (let index = start; index < end; index += 1) {
    const code = text.charCodeAt(index);
    if (code >= BYTE_END || TOKEN[code] !== 1) return false;
  }
  return end > start;
}

/** The subprotocols of Sec-WebSocket-Protocol field values: distinct tokens, in order. */
function readProtocols(reader: ListReader, values: readonly string[]): string[] {
  const protocols: string[] = [];
  for (const value of values) {
    reader.reset(value);
    while (reader.advance()) {
      if (!isToken(value, reader.start, reader.end)) throw new WebSocketHandshakeError(400, `Sec-WebSocket-Protocol element is not a token: ${JSON.stringify(value)}`);
      const protocol = value.slice(reader.start, reader.end);
      if (protocols.includes(protocol)) throw new WebSocketHandshakeError(400, `Sec-WebSocket-Protocol names ${protocol} twice`);
      protocols.push(protocol);
    }
  }
  return protocols;
}

const isName = (name: string, lower: string): boolean => sameCaseless(name, 0, name.length, lower);

/** True when `text` is a string a header field value may be (RFC 9110 5.5): no CR, LF or other control. */
function isFieldValue(text: unknown): boolean {
  if (typeof text !== 'string') return false;
  for (let index = 0; index < text.length; index += 1) {
    const code = text.charCodeAt(index);
    if (code >= BYTE_END || VALUE[code] !== 1) return false;
  }
  return true;
}

/**
 * True when `request` asks to switch to WebSocket (Upgrade lists
 * `websocket`): whether to hand it to checkUpgradeRequest() rather than
 * answer it as plain HTTP.
 */
export function isUpgradeRequest(request: UpgradeRequestHead): boolean {
  const reader = new ListReader();
  const headers = request.headers;
  for (let index = 0; index + 1 < headers.length; index += 2) if (isName(headers[index]!, 'upgrade') && listHas(reader, headers[index + 1]!, 'websocket')) return true;
  return false;
}

/**
 * Checks an upgrade request (the list above) and returns what it asks for.
 * @throws WebSocketHandshakeError with the status (400, 405, 426) and header fields to answer with.
 * @throws TypeError `ERR_INVALID_ARG_TYPE` when request is not an object with a string method, a number versionMinor and an array of string headers.
 */
export function checkUpgradeRequest(request: UpgradeRequestHead): WebSocketUpgrade {
  if (request === null || typeof request !== 'object' || typeof request.method !== 'string' || typeof request.versionMinor !== 'number' || !Array.isArray(request.headers)) {
    throw invalidArgType('request', 'an object with method, versionMinor and headers', request);
  }
  if (request.method !== 'GET') throw new WebSocketHandshakeError(405, `an upgrade to WebSocket needs GET, not ${request.method}`, ['Allow', 'GET']);
  if (request.versionMinor < 1) throw new WebSocketHandshakeError(400, 'an upgrade to WebSocket needs HTTP/1.1 or later');
  const reader = new ListReader();
  const headers = request.headers;
  let upgrade = false;
  let connection = false;
  const keys: string[] = [];
  const versions: string[] = [];
  const protocolValues: string[] = [];
  const extensionValues: string[] = [];
  for (let index = 0; index + 1 < headers.length; index += 2) {
    const name = headers[index]!;
    const value = headers[index + 1]!;
    if (typeof name !== 'string' || typeof value !== 'string') throw invalidArgType(`request.headers[${typeof name === 'string' ? index + 1 : index}]`, 'of type string', typeof name === 'string' ? value : name);
    if (isName(name, 'upgrade')) upgrade ||= listHas(reader, value, 'websocket');
    else if (isName(name, 'connection')) connection ||= listHas(reader, value, 'upgrade');
    else if (isName(name, 'sec-websocket-key')) keys.push(value);
    else if (isName(name, 'sec-websocket-version')) versions.push(value);
    else if (isName(name, 'sec-websocket-protocol')) protocolValues.push(value);
    else if (isName(name, 'sec-websocket-extensions')) extensionValues.push(value);
  }
  if (!upgrade) throw new WebSocketHandshakeError(400, 'Upgrade does not list websocket');
  if (!connection) throw new WebSocketHandshakeError(400, 'Connection does not list upgrade');
  if (keys.length !== 1) throw new WebSocketHandshakeError(400, `${keys.length} Sec-WebSocket-Key fields (one is needed)`);
  const key = keys[0]!;
  if (!isValidKey(key)) throw new WebSocketHandshakeError(400, `Sec-WebSocket-Key is not the base64 of 16 bytes: ${JSON.stringify(key)}`);
  if (versions.length !== 1 || versions[0] !== WEBSOCKET_VERSION) {
    throw new WebSocketHandshakeError(426, `Sec-WebSocket-Version ${JSON.stringify(versions.join(', '))} (this server speaks 13)`, ['Sec-WebSocket-Version', WEBSOCKET_VERSION]);
  }
  const protocols = readProtocols(reader, protocolValues);
  const extensions = parseExtensions(extensionValues);
  return { key, accept: acceptKey(key), protocols, extensions };
}

/**
 * The header fields of the 101 (Switching Protocols) response that
 * accepts `upgrade`, names and values alternating: Upgrade, Connection,
 * Sec-WebSocket-Accept, then Sec-WebSocket-Protocol when `protocol` is
 * given (it must be one the client offered, §4.2.2) and
 * Sec-WebSocket-Extensions when `extensions` is (a negotiated value such
 * as PerMessageDeflateAgreement's `header`).
 * @throws TypeError `ERR_INVALID_ARG_VALUE` when `protocol` is not one the client offered, or `extensions` is no field value.
 */
export function upgradeResponseHeaders(upgrade: WebSocketUpgrade, protocol: string | null = null, extensions: string | null = null): string[] {
  const headers = ['Upgrade', 'websocket', 'Connection', 'Upgrade', 'Sec-WebSocket-Accept', upgrade.accept];
  if (protocol !== null) {
    if (!upgrade.protocols.includes(protocol)) throw invalidArgValue('protocol', `must be one the client offered (${upgrade.protocols.join(', ') || 'none'})`, protocol);
    headers.push('Sec-WebSocket-Protocol', protocol);
  }
  if (extensions !== null) {
    if (!isFieldValue(extensions)) throw invalidArgValue('extensions', 'must be a field value (visible characters, SP and HTAB; no CR or LF)', extensions);
    headers.push('Sec-WebSocket-Extensions', extensions);
  }
  return headers;
}
