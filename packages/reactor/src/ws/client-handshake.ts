/**
 * The client's side of the opening handshake (RFC 6455 §4.1): the
 * request it sends, and the checks of the server's answer. The answer
 * must be `101` with `Upgrade: websocket`, `Connection: upgrade` and the
 * Sec-WebSocket-Accept that answers our key; an extension only when we
 * offered permessage-deflate, answered as RFC 7692 allows
 * (deflate-client.ts); a subprotocol only one we offered. Anything else
 * fails the connection (§4.1: "the client MUST _Fail the WebSocket
 * Connection_") with a WebSocketHandshakeError carrying the server's status.
 */
import { randomBytes } from 'node:crypto';
import { ListReader, sameCaseless, trimOws } from '../http/ows.js';
import { acceptDeflateAnswer } from './deflate-client.js';
import type { ResolvedDeflateOptions } from './deflate-options.js';
import { acceptKey, WEBSOCKET_VERSION } from './handshake.js';
import type { PerMessageDeflateAgreement } from './permessage-deflate.js';
import { WebSocketHandshakeError } from './handshake-error.js';

/** Bytes of the server's response head we read at most, as the request head limits of zepoll/http (16 KiB). */
export const RESPONSE_HEAD_SIZE_MAX = 16 * 1024;
/** Random bytes of a Sec-WebSocket-Key (§4.1: a nonce of 16 bytes, base64-encoded). */
const KEY_SIZE = 16;
const HEAD_END = Buffer.from('\r\n\r\n');
const STATUS_LINE = /^HTTP\/1\.[01] (\d{3})(?: [^\r\n]*)?$/;

/** A fresh Sec-WebSocket-Key. */
export function handshakeKey(): string {
  return randomBytes(KEY_SIZE).toString('base64');
}

/**
 * The request head: GET `path` with the upgrade fields, our `protocols`,
 * our `extensions` offer (null: none) and the caller's `headers` (names
 * and values alternating, checked).
 */
export function handshakeRequest(path: string, host: string, key: string, protocols: readonly string[], extensions: string | null, headers: readonly string[]): Buffer {
  let head = `GET ${path} HTTP/1.1\r\nHost: ${host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: ${WEBSOCKET_VERSION}\r\n`;
  if (protocols.length > 0) head += `Sec-WebSocket-Protocol: ${protocols.join(', ')}\r\n`;
  if (extensions !== null) head += `Sec-WebSocket-Extensions: ${extensions}\r\n`;
  for (let index = 0; index + 1 < headers.length; index += 2) head += `${headers[index]!}: ${headers[index + 1]!}\r\n`;
  return Buffer.from(`${head}\r\n`, 'latin1');
}

/** Where the head ends in `bytes` (the index after its blank line), or -1 while it is incomplete. */
export function headEnd(bytes: Buffer): number {
  const at = bytes.indexOf(HEAD_END);
  return at === -1 ? -1 : at + HEAD_END.length;
}

/** What a valid answer chose: the subprotocol and the permessage-deflate terms (each null when none). */
export interface HandshakeAnswer {
  readonly protocol: string | null;
  readonly deflate: PerMessageDeflateAgreement | null;
}

const isName = (name: string, lower: string): boolean => sameCaseless(name, 0, name.length, lower);

/**
 * Checks the server's response head (latin1, up to its blank line);
 * `deflate`: the permessage-deflate options we offered with, or null.
 * @throws WebSocketHandshakeError with the server's status (0 when the status line is malformed) when it does not accept the handshake.
 */
export function checkHandshakeAnswer(head: string, key: string, protocols: readonly string[], deflate: ResolvedDeflateOptions | null = null): HandshakeAnswer {
  const lines = head.split('\r\n');
  const status = STATUS_LINE.exec(lines[0]!);
  if (status === null) throw new WebSocketHandshakeError(0, `malformed status line: ${JSON.stringify(lines[0])}`);
  const code = Number(status[1]);
  if (code !== 101) throw new WebSocketHandshakeError(code, `the server answered ${code}, not 101`);
  const reader = new ListReader();
  let upgrade = false;
  let connection = false;
  let accept: string | null = null;
  let protocol: string | null = null;
  const extensions: string[] = [];
  for (let index = 1; index < lines.length; index += 1) {
    const line = lines[index]!;
    if (line === '') continue;
    const colon = line.indexOf(':');
    if (colon <= 0) throw new WebSocketHandshakeError(code, `malformed header line: ${JSON.stringify(line)}`);
    const name = line.slice(0, colon);
    const value = trimOws(line.slice(colon + 1));
    if (isName(name, 'upgrade')) upgrade ||= isName(value, 'websocket');
    else if (isName(name, 'connection')) connection ||= listHas(reader, value, 'upgrade');
    else if (isName(name, 'sec-websocket-accept')) accept = value;
    else if (isName(name, 'sec-websocket-protocol')) protocol = value;
    else if (isName(name, 'sec-websocket-extensions')) {
      if (deflate === null) throw new WebSocketHandshakeError(code, `the server named an extension we did not offer: ${JSON.stringify(value)}`);
      extensions.push(value);
    }
  }
  if (!upgrade) throw new WebSocketHandshakeError(code, 'the 101 has no Upgrade: websocket');
  if (!connection) throw new WebSocketHandshakeError(code, 'the 101 has no Connection: upgrade');
  if (protocol !== null && !protocols.includes(protocol)) throw new WebSocketHandshakeError(code, `the server chose a subprotocol we did not offer: ${JSON.stringify(protocol)}`);
  if (accept !== acceptKey(key)) throw new WebSocketHandshakeError(code, `Sec-WebSocket-Accept ${JSON.stringify(accept)} does not answer our key`);
  return { protocol, deflate: extensions.length === 0 ? null : acceptDeflateAnswer(extensions, deflate!, code) };
}

function listHas(reader: ListReader, value: string, lower: string): boolean {
  reader.reset(value);
  while (reader.advance()) if (reader.is(lower)) return true;
  return false;
}
