/**
 * The bytes of a minimal WebSocket client (RFC 6455), for holding tens of
 * thousands of connections in one process at a few hundred bytes each:
 * the opening handshake, masked frames built once, and a reader of the
 * server's frames (never masked, never fragmented by these servers at
 * 1 KiB) that hands back whole frames and keeps a partial one.
 */
import { createHash, randomBytes } from 'node:crypto';

/** RFC 6455 section 1.3: the GUID appended to the key for Sec-WebSocket-Accept. */
const ACCEPT_GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';
/** Opcodes (RFC 6455 section 5.2). */
export const OPCODE_TEXT = 0x1;
export const OPCODE_BINARY = 0x2;
export const OPCODE_CLOSE = 0x8;
export const OPCODE_PING = 0x9;
export const OPCODE_PONG = 0xa;
const FIN = 0x80;
const MASKED = 0x80;
/** Payload lengths: up to 125 in the second byte, 126 for a 16-bit length, 127 for a 64-bit one. */
const LENGTH_7_MAX = 125;
const LENGTH_16 = 126;
const LENGTH_64 = 127;
const MASK_SIZE = 4;
const HEAD_END = Buffer.from('\r\n\r\n');

/** The handshake of one client process: one key for all its connections (servers only echo it back hashed). */
export interface Handshake {
  readonly request: Buffer;
  /** The Sec-WebSocket-Accept value the 101 must carry. */
  readonly accept: string;
}

/** A fresh key, the upgrade request for `host:port`, and the accept value its 101 must carry. */
export function handshake(host: string, port: number): Handshake {
  const key = randomBytes(16).toString('base64');
  const request = Buffer.from(`GET / HTTP/1.1\r\nHost: ${host}:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n\r\n`, 'latin1');
  return { request, accept: createHash('sha1').update(key + ACCEPT_GUID).digest('base64') };
}

/**
 * Where the 101's head ends in `bytes` (the index after its blank line),
 * -1 while incomplete; throws when the response is not a 101 with the
 * expected accept value.
 */
export function responseHeadEnd(bytes: Buffer, accept: string): number {
  const end = bytes.indexOf(HEAD_END);
  if (end < 0) return -1;
  const head = bytes.toString('latin1', 0, end);
  if (!head.startsWith('HTTP/1.1 101 ')) throw new Error(`the upgrade was refused: ${JSON.stringify(head.split('\r\n')[0])}`);
  if (!head.includes(accept)) throw new Error('the 101 has the wrong Sec-WebSocket-Accept');
  return end + HEAD_END.length;
}

/**
 * One masked client frame, FIN set. The mask key is random per frame
 * built; a frame sent many times keeps its key (servers unmask whatever
 * the key is, and must: a zero key would let a server skip the XOR).
 */
export function maskedFrame(opcode: number, payload: Uint8Array): Buffer {
  const length = payload.length;
  const extra = length <= LENGTH_7_MAX ? 0 : length <= 0xffff ? 2 : 8;
  const frame = Buffer.alloc(2 + extra + MASK_SIZE + length);
  frame[0] = FIN | opcode;
  if (extra === 0) frame[1] = MASKED | length;
  else if (extra === 2) {
    frame[1] = MASKED | LENGTH_16;
    frame.writeUInt16BE(length, 2);
  } else {
    frame[1] = MASKED | LENGTH_64;
    frame.writeBigUInt64BE(BigInt(length), 2);
  }
  const maskAt = 2 + extra;
  randomBytes(MASK_SIZE).copy(frame, maskAt);
  for (let index = 0; index < length; index += 1) frame[maskAt + MASK_SIZE + index] = payload[index]! ^ frame[maskAt + (index & 3)]!;
  return frame;
}

/** What readFrames() calls per whole frame: its opcode and its payload (a view, valid for the call). */
export type FrameSink = (opcode: number, payload: Buffer) => void;

/**
 * Calls `sink` for each whole server frame in `bytes`; returns the bytes
 * of a trailing partial frame (to be prepended to the next read), or null.
 * Throws on a masked or fragmented frame: these servers send neither.
 */
export function readFrames(bytes: Buffer, sink: FrameSink): Buffer | null {
  let at = 0;
  while (bytes.length - at >= 2) {
    const first = bytes[at]!;
    const second = bytes[at + 1]!;
    if ((first & FIN) === 0) throw new Error('a fragmented server frame');
    if ((second & MASKED) !== 0) throw new Error('a masked server frame');
    let length = second & 0x7f;
    let headSize = 2;
    if (length === LENGTH_16) {
      if (bytes.length - at < 4) break;
      length = bytes.readUInt16BE(at + 2);
      headSize = 4;
    } else if (length === LENGTH_64) {
      if (bytes.length - at < 10) break;
      length = Number(bytes.readBigUInt64BE(at + 2));
      headSize = 10;
    }
    if (bytes.length - at - headSize < length) break;
    sink(first & 0x0f, bytes.subarray(at + headSize, at + headSize + length));
    at += headSize + length;
  }
  return at === bytes.length ? null : Buffer.from(bytes.subarray(at));
}
