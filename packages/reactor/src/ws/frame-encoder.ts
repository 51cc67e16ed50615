/**
 * Frame encoding (RFC 6455 §5.2): headers for server frames (unmasked)
 * and client frames (masked with a fresh random key each, §5.3), for data
 * and control frames, with the shortest length encoding (§5.2: "the
 * minimal number of bytes MUST be used").
 *
 * Three ways to send, by what the payload costs to copy:
 * - encodeFrame(): header and payload into a caller's buffer (a pooled
 *   chunk, a staging buffer) at an offset; a client's payload is masked
 *   as it is copied;
 * - header(): a header of its own for a gather write (writev of header
 *   and payload), so a large payload is never copied; a client's payload
 *   is masked in place, so it must be the caller's to change;
 * - frame(): header and payload in one new buffer, encoded once and
 *   written to as many connections as want it (a broadcast): a server
 *   frame is the same bytes for every receiver.
 *
 * Arguments are checked before a byte is written: a bad opcode, a control
 * frame over 125 bytes or fragmented or compressed, RSV1 on a
 * continuation, a range outside its buffer, all throw Node's errors.
 */
import { invalidArgType, invalidArgValue, outOfRange } from '../errors.js';
import { oneOfOption } from '../validate.js';
import { closePayloadSize, writeClosePayload } from './close.js';
import { MASK_WORDS_SIZE_MIN } from './limits.js';
import { maskInto, randomMaskKeys, unmask, writeMaskKey, type MaskKeySource } from './mask.js';
import {
  CONTROL_PAYLOAD_SIZE_MAX,
  FIN_BIT,
  HEADER_BASE_SIZE,
  LENGTH_16_MARKER,
  LENGTH_16_MAX,
  LENGTH_16_SIZE,
  LENGTH_64_MARKER,
  LENGTH_64_SIZE,
  LENGTH_7_MAX,
  MASK_BIT,
  MASK_KEY_SIZE,
  OPCODE_CLOSE,
  OPCODE_CONTINUATION,
  OPCODE_CONTROL_BIT,
  RSV1_BIT,
  WORD_SCALE,
  isControlOpcode,
  isDataOpcode,
  type Opcode,
  type WebSocketRole,
} from './wire.js';

const UINT32_MAX = 0xffff_ffff;
/** Ranges this long are copied through a view (one small object); shorter ones byte by byte. The masking threshold, for the same reason. */
const COPY_VIEW_SIZE_MIN = MASK_WORDS_SIZE_MIN;

/** Bytes of the header of a frame carrying `payloadSize` bytes (2 to 14). */
export function frameHeaderSize(payloadSize: number, masked: boolean): number {
  const extended = payloadSize <= LENGTH_7_MAX ? 0 : payloadSize <= LENGTH_16_MAX ? LENGTH_16_SIZE : LENGTH_64_SIZE;
  return HEADER_BASE_SIZE + extended + (masked ? MASK_KEY_SIZE : 0);
}

/** Throws unless opcode, size and flags make a frame RFC 6455 allows. */
function checkFrame(opcode: number, payloadSize: number, final: boolean, compressed: boolean): void {
  if (typeof opcode !== 'number') throw invalidArgType('opcode', 'of type number', opcode);
  if (!isDataOpcode(opcode) && !isControlOpcode(opcode)) throw invalidArgValue('opcode', 'must be 0x0-0x2 or 0x8-0xA', opcode);
  if (!Number.isSafeInteger(payloadSize) || payloadSize < 0) throw outOfRange('payloadSize', 'a safe integer >= 0', payloadSize);
  if (typeof final !== 'boolean') throw invalidArgType('final', 'of type boolean', final);
  if (typeof compressed !== 'boolean') throw invalidArgType('compressed', 'of type boolean', compressed);
  if ((opcode & OPCODE_CONTROL_BIT) !== 0) {
    if (payloadSize > CONTROL_PAYLOAD_SIZE_MAX) throw outOfRange('payloadSize', `at most ${CONTROL_PAYLOAD_SIZE_MAX} for a control frame`, payloadSize);
    if (!final) throw invalidArgValue('final', 'must be true for a control frame (they are never fragmented)', final);
    if (compressed) throw invalidArgValue('compressed', 'must be false for a control frame', compressed);
  } else if (compressed && opcode === OPCODE_CONTINUATION) {
    throw invalidArgValue('compressed', "must be false for a continuation (RSV1 marks a message's first frame)", compressed);
  }
}

/** Throws unless target[offset..offset + size) lies inside target. */
function checkRoom(target: Uint8Array, offset: number, size: number): void {
  if (!(target instanceof Uint8Array)) throw invalidArgType('target', 'an instance of Uint8Array', target);
  if (!Number.isInteger(offset) || offset < 0 || offset > target.length - size) throw outOfRange('offset', `an integer >= 0 and <= ${target.length - size} (the frame is ${size} bytes)`, offset);
}

/** Throws unless payload[start..end) is a range of a Uint8Array. */
function checkPayload(payload: Uint8Array, start: number, end: number): void {
  if (!(payload instanceof Uint8Array)) throw invalidArgType('payload', 'an instance of Uint8Array', payload);
  if (!Number.isInteger(start) || start < 0 || start > payload.length) throw outOfRange('start', `an integer >= 0 and <= ${payload.length}`, start);
  if (!Number.isInteger(end) || end < start || end > payload.length) throw outOfRange('end', `an integer >= ${start} and <= ${payload.length}`, end);
}

/**
 * Copies source[start..end) to target[offset..): the whole source by the
 * engine, a short range by a loop (no view made), a long one through a view.
 */
function copyInto(source: Uint8Array, start: number, end: number, target: Uint8Array, offset: number): void {
  if (start === 0 && end === source.length) target.set(source, offset);
  else if (end - start >= COPY_VIEW_SIZE_MIN) target.set(source.subarray(start, end), offset);
  else for (let index = start; index < end; index += 1) target[offset + index - start] = source[index]!;
}

/**
 * Writes the header of one frame at target[offset..): FIN when `final`,
 * RSV1 when `compressed`, the shortest length encoding of `payloadSize`,
 * and `maskKey` (a 32-bit number, first wire byte most significant) when
 * not null. Returns the offset after the header, where the payload goes
 * (masked with the same key when there is one).
 * @throws TypeError `ERR_INVALID_ARG_TYPE` / `ERR_INVALID_ARG_VALUE` for a wrong type, an unknown opcode, or flags a frame may not have.
 * @throws RangeError `ERR_OUT_OF_RANGE` for a size that is not a safe integer, a control payload over 125, a key over 32 bits, or no room in target.
 */
export function writeFrameHeader(target: Uint8Array, offset: number, opcode: Opcode, payloadSize: number, final: boolean, compressed: boolean, maskKey: number | null): number {
  checkFrame(opcode, payloadSize, final, compressed);
  if (maskKey !== null && (!Number.isInteger(maskKey) || maskKey < 0 || maskKey > UINT32_MAX)) throw outOfRange('maskKey', `an integer >= 0 and <= ${UINT32_MAX}, or null`, maskKey);
  checkRoom(target, offset, frameHeaderSize(payloadSize, maskKey !== null));
  target[offset] = opcode | (final ? FIN_BIT : 0) | (compressed ? RSV1_BIT : 0);
  const maskBit = maskKey === null ? 0 : MASK_BIT;
  let cursor = offset + HEADER_BASE_SIZE;
  if (payloadSize <= LENGTH_7_MAX) {
    target[offset + 1] = maskBit | payloadSize;
  } else if (payloadSize <= LENGTH_16_MAX) {
    target[offset + 1] = maskBit | LENGTH_16_MARKER;
    target[cursor] = payloadSize >>> 8;
    target[cursor + 1] = payloadSize & 0xff;
    cursor += LENGTH_16_SIZE;
  } else {
    target[offset + 1] = maskBit | LENGTH_64_MARKER;
    const high = Math.floor(payloadSize / WORD_SCALE);
    const low = payloadSize >>> 0; // ToUint32: the size modulo 2^32
    for (let index = 0; index < 4; index += 1) {
      target[cursor + index] = (high >>> (24 - index * 8)) & 0xff;
      target[cursor + 4 + index] = (low >>> (24 - index * 8)) & 0xff;
    }
    cursor += LENGTH_64_SIZE;
  }
  if (maskKey !== null) {
    writeMaskKey(target, cursor, maskKey);
    cursor += MASK_KEY_SIZE;
  }
  return cursor;
}

/**
 * Encodes frames for one end of a connection: unmasked for a server,
 * masked with a key per frame (drawn from a MaskKeySource, by default the
 * pooled RandomMaskKeys) for a client. Keeps no state per frame; one
 * encoder serves any number of connections of its role.
 */
export class FrameEncoder {
  /** True for a client's encoder: every frame is masked. */
  readonly masked: boolean;
  private readonly keys: MaskKeySource;

  /**
   * An encoder for `role`'s frames; `keys` (for a client) is where masking keys come from.
   * @throws TypeError `ERR_INVALID_ARG_VALUE` when role is neither 'server' nor 'client'.
   */
  constructor(role: WebSocketRole, keys: MaskKeySource = randomMaskKeys) {
    this.masked = oneOfOption<WebSocketRole>('role', role, 'server', ['server', 'client']) === 'client';
    if (keys === null || typeof keys !== 'object' || typeof keys.next !== 'function') throw invalidArgType('keys', 'an object with a next() method', keys);
    this.keys = keys;
  }

  /** Bytes of this encoder's header for a `payloadSize`-byte payload. */
  headerSize(payloadSize: number): number {
    return frameHeaderSize(payloadSize, this.masked);
  }

  /** Bytes of a whole frame (header and payload) for a `payloadSize`-byte payload. */
  frameSize(payloadSize: number): number {
    return frameHeaderSize(payloadSize, this.masked) + payloadSize;
  }

  /**
   * Writes a frame of payload[start..end) at target[offset..): header,
   * then the payload (a client's masked as it is copied; `payload` is not
   * changed). Returns the offset after the frame.
   * @throws as writeFrameHeader(), and RangeError `ERR_OUT_OF_RANGE` when start or end is outside payload or the frame does not fit.
   */
  encodeFrame(target: Uint8Array, offset: number, opcode: Opcode, payload: Uint8Array, start: number = 0, end: number = payload.length, final: boolean = true, compressed: boolean = false): number {
    checkPayload(payload, start, end);
    const size = end - start;
    checkFrame(opcode, size, final, compressed);
    checkRoom(target, offset, this.frameSize(size));
    const key = this.masked ? this.keys.next() : null;
    const payloadOffset = writeFrameHeader(target, offset, opcode, size, final, compressed, key);
    if (key !== null) maskInto(payload, start, end, target, payloadOffset, key, 0);
    else copyInto(payload, start, end, target, payloadOffset);
    return payloadOffset + size;
  }

  /**
   * A frame of payload[start..end) in a new buffer of its own, for writing
   * to many connections (a server's broadcast: the same bytes for each).
   * @throws as encodeFrame().
   */
  frame(opcode: Opcode, payload: Uint8Array, start: number = 0, end: number = payload.length, final: boolean = true, compressed: boolean = false): Buffer {
    checkPayload(payload, start, end);
    const frame = Buffer.allocUnsafe(this.frameSize(end - start));
    this.encodeFrame(frame, 0, opcode, payload, start, end, final, compressed);
    return frame;
  }

  /**
   * The header alone, in a new buffer, for a gather write of header and
   * payload[start..end) without copying the payload. A client's payload is
   * masked IN PLACE with the header's key: pass bytes you own and will not
   * reuse unmasked. A server's payload is not touched.
   * @throws as writeFrameHeader(), and RangeError `ERR_OUT_OF_RANGE` when start or end is outside payload.
   */
  header(opcode: Opcode, payload: Uint8Array, start: number = 0, end: number = payload.length, final: boolean = true, compressed: boolean = false): Buffer {
    checkPayload(payload, start, end);
    const size = end - start;
    const header = Buffer.allocUnsafe(this.headerSize(size));
    const key = this.masked ? this.keys.next() : null;
    writeFrameHeader(header, 0, opcode, size, final, compressed, key);
    if (key !== null) unmask(payload, start, end, key, 0);
    return header;
  }

  /**
   * A close frame in a new buffer: `code` and `reason`, or an empty payload
   * when `code` is undefined (the peer then reports 1005).
   * @throws as closePayloadSize(): a code that may not be sent, a reason over 123 bytes, a reason without a code.
   */
  closeFrame(code?: number, reason: string = ''): Buffer {
    const size = closePayloadSize(code, reason);
    const frame = Buffer.allocUnsafe(this.frameSize(size));
    const key = this.masked ? this.keys.next() : null;
    const payloadOffset = writeFrameHeader(frame, 0, OPCODE_CLOSE, size, true, false, key);
    writeClosePayload(frame, payloadOffset, code, reason);
    if (key !== null) unmask(frame, payloadOffset, payloadOffset + size, key, 0);
    return frame;
  }
}
