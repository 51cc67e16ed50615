/**
 * An incremental RFC 6455 frame parser (§5.2). Bytes arrive in any split
 * (a header cut at any byte, a payload over many chunks); results go to a
 * FrameHandler's methods as ranges of the chunk they arrived in, unmasked
 * in place. Nothing is allocated per frame: a header cut between chunks is
 * gathered in a 14-byte buffer, a control payload cut between chunks in a
 * 125-byte one, both made once.
 *
 * What fails the connection (a WebSocketProtocolError with the close code
 * to send), as soon as the offending byte is in:
 * - 1002: RSV2 or RSV3 set; RSV1 set without permessage-deflate, or on a
 *   control or continuation frame (RFC 7692 §6); a reserved opcode
 *   (0x3-0x7, 0xB-0xF); a control frame fragmented or over 125 bytes; a
 *   continuation with no message begun, or a text or binary frame while a
 *   message is unfinished (§5.4; control frames may come between
 *   fragments); a server receiving an unmasked frame or a client a masked
 *   one (§5.1); a 64-bit length with its most significant bit set; a close
 *   payload of 1 byte or with a code that may not travel (close.ts);
 * - 1007: an uncompressed text message that is not UTF-8, failed at the
 *   first invalid byte even in an early fragment (§8.1); a close reason
 *   that is not UTF-8;
 * - 1009: a message whose frames add up to more than `messageSizeMax`,
 *   failed at the header that crosses it, before its payload arrives.
 * Non-minimal length encodings (a 16-bit length under 126) are accepted,
 * as the RFC does not forbid them to a receiver.
 *
 * After a close frame or a failure the parser reads nothing more.
 */
import { invalidArgType } from '../errors.js';
import { booleanOption, handlerObject, integerOption, oneOfOption, optionsObject } from '../validate.js';
import { CLOSE_INVALID_PAYLOAD, CLOSE_MESSAGE_TOO_BIG, CLOSE_PROTOCOL_ERROR, readCloseCode, readCloseReason } from './close.js';
import type { FrameHandler } from './frame-handler.js';
import { MESSAGE_SIZE_MAX } from './limits.js';
import { readMaskKey, unmask } from './mask.js';
import { WebSocketProtocolError } from './protocol-error.js';
import { Utf8Validator } from './utf8.js';
import {
  CONTROL_PAYLOAD_SIZE_MAX,
  FIN_BIT,
  HEADER_BASE_SIZE,
  HEADER_SIZE_MAX,
  HIGH_WORD_LIMIT,
  LENGTH_16_MARKER,
  LENGTH_16_SIZE,
  LENGTH_64_MARKER,
  LENGTH_64_SIZE,
  LENGTH_7_MASK,
  MASK_BIT,
  MASK_KEY_SIZE,
  OPCODE_BINARY,
  OPCODE_CLOSE,
  OPCODE_CONTINUATION,
  OPCODE_CONTROL_BIT,
  OPCODE_MASK,
  OPCODE_PING,
  OPCODE_TEXT,
  RSV1_BIT,
  RSV2_BIT,
  RSV3_BIT,
  WORD_SCALE,
  isControlOpcode,
  type WebSocketRole,
} from './wire.js';

export type { FrameHandler } from './frame-handler.js';

/** How a FrameParser reads: which end it serves, its size limit, whether RSV1 means compressed. */
export interface FrameParserOptions {
  /** 'server': frames come from a client and must be masked; 'client': they must not be. */
  readonly role: WebSocketRole;
  /** Bytes of one message as received, all fragments (default MESSAGE_SIZE_MAX, 16 MiB); more fails with 1009. */
  readonly messageSizeMax?: number;
  /** permessage-deflate was negotiated: RSV1 on a message's first frame marks it compressed (default false). */
  readonly perMessageDeflate?: boolean;
}

const enum State {
  Header,
  Payload,
  ControlPayload,
  Closed,
  Failed,
}

/** The most significant bit of a 64-bit length's high word, which must be 0. */
const HIGH_BIT = 0x8000_0000;
const EMPTY = new Uint8Array(0);
/** The methods a FrameHandler must have. */
const HANDLER_METHODS = ['onMessageStart', 'onMessageData', 'onPing', 'onPong', 'onClose'] as const;

/** Reads a big-endian unsigned 32-bit number at bytes[offset..offset + 4). */
const readUint32 = (bytes: Uint8Array, offset: number): number => ((bytes[offset]! << 24) | (bytes[offset + 1]! << 16) | (bytes[offset + 2]! << 8) | bytes[offset + 3]!) >>> 0;

/**
 * The incremental frame parser (see above): feed it bytes with execute()
 * in any split, and it calls its handler per message piece and control
 * frame; a protocol violation throws a WebSocketProtocolError.
 */
export class FrameParser {
  private readonly handler: FrameHandler;
  private readonly masked: boolean;
  private readonly messageSizeMax: number;
  private readonly perMessageDeflate: boolean;
  private state: State;
  /** A header cut between chunks, gathered; `headerFilled` bytes so far, `headerSize` once known. */
  private readonly header: Uint8Array;
  private headerFilled: number;
  private headerSize: number;
  /** The current frame. */
  private opcode: number;
  private fin: boolean;
  private maskKey: number;
  private maskPhase: number;
  private remaining: number;
  /** A control payload cut between chunks, gathered. */
  private readonly control: Uint8Array;
  private controlFilled: number;
  /** The current message. */
  private inMessage: boolean;
  private messageText: boolean;
  private messageCompressed: boolean;
  private messageSize: number;
  private readonly utf8: Utf8Validator;

  /**
   * A parser waiting for a frame's first byte.
   * @throws TypeError `ERR_INVALID_ARG_TYPE` / `ERR_INVALID_ARG_VALUE` for a handler that is not an object with the five methods, or a bad option.
   * @throws RangeError `ERR_OUT_OF_RANGE` when messageSizeMax is not a positive safe integer.
   */
  constructor(handler: FrameHandler, options: FrameParserOptions) {
    handlerObject('handler', handler);
    for (const method of HANDLER_METHODS) if (typeof handler[method] !== 'function') throw invalidArgType(`handler.${method}`, 'of type function', handler[method]);
    const checked = optionsObject('options', options);
    this.handler = handler;
    this.masked = oneOfOption<WebSocketRole>('options.role', checked.role, 'server', ['server', 'client']) === 'server';
    this.messageSizeMax = integerOption('options.messageSizeMax', checked.messageSizeMax, MESSAGE_SIZE_MAX, 1, Number.MAX_SAFE_INTEGER);
    this.perMessageDeflate = booleanOption('options.perMessageDeflate', checked.perMessageDeflate, false);
    this.state = State.Header;
    this.header = new Uint8Array(HEADER_SIZE_MAX);
    this.headerFilled = 0;
    this.headerSize = HEADER_SIZE_MAX;
    this.opcode = 0;
    this.fin = false;
    this.maskKey = 0;
    this.maskPhase = 0;
    this.remaining = 0;
    this.control = new Uint8Array(CONTROL_PAYLOAD_SIZE_MAX);
    this.controlFilled = 0;
    this.inMessage = false;
    this.messageText = false;
    this.messageCompressed = false;
    this.messageSize = 0;
    this.utf8 = new Utf8Validator();
  }

  /** True once a close frame was read: nothing after it is. */
  get closed(): boolean {
    return this.state === State.Closed;
  }

  /** True once a protocol error was thrown: nothing after it is read. */
  get failed(): boolean {
    return this.state === State.Failed;
  }

  /** True between two frames with no message unfinished: no byte of a next frame has arrived. */
  get idle(): boolean {
    return this.state === State.Header && this.headerFilled === 0 && !this.inMessage;
  }

  /**
   * Parses data[start..end) (default: all of `data`), unmasking payloads
   * in place. The caller may reuse `data` after this returns: what an
   * unfinished header or control frame needs is copied. Not re-entrant:
   * a handler method must not call execute() of its own parser.
   * @throws WebSocketProtocolError on a protocol violation (its closeCode: 1002, 1007, 1009).
   */
  execute(data: Uint8Array, start: number = 0, end: number = data.length): void {
    let offset = start;
    while (offset < end) {
      switch (this.state) {
        case State.Header:
          offset = this.readHeader(data, offset, end);
          break;
        case State.Payload:
          offset = this.readPayload(data, offset, end);
          break;
        case State.ControlPayload:
          offset = this.readControl(data, offset, end);
          break;
        default:
          return; // Closed or Failed: the rest is not read.
      }
    }
  }

  private fail(closeCode: number, message: string): WebSocketProtocolError {
    this.state = State.Failed;
    return new WebSocketProtocolError(closeCode, message);
  }

  private readHeader(data: Uint8Array, offset: number, end: number): number {
    // The common case: the whole header in this chunk, read in place.
    if (this.headerFilled === 0 && end - offset >= HEADER_BASE_SIZE) {
      const size = this.checkStart(data[offset]!, data[offset + 1]!);
      if (end - offset >= size) {
        this.decodeHeader(data, offset);
        return offset + size;
      }
    }
    const header = this.header;
    while (offset < end) {
      header[this.headerFilled] = data[offset]!;
      this.headerFilled += 1;
      offset += 1;
      if (this.headerFilled === HEADER_BASE_SIZE) this.headerSize = this.checkStart(header[0]!, header[1]!);
      if (this.headerFilled === this.headerSize) {
        this.headerFilled = 0;
        this.headerSize = HEADER_SIZE_MAX;
        this.decodeHeader(header, 0);
        break;
      }
    }
    return offset;
  }

  /** Checks a header's first two bytes, the moment they are in; returns the header's whole size. */
  private checkStart(first: number, second: number): number {
    const opcode = first & OPCODE_MASK;
    const length = second & LENGTH_7_MASK;
    const compressed = (first & RSV1_BIT) !== 0;
    if ((first & (RSV2_BIT | RSV3_BIT)) !== 0) throw this.fail(CLOSE_PROTOCOL_ERROR, 'RSV2 or RSV3 set: no extension defines them');
    if ((opcode & OPCODE_CONTROL_BIT) !== 0) {
      if (!isControlOpcode(opcode)) throw this.fail(CLOSE_PROTOCOL_ERROR, `reserved control opcode 0x${opcode.toString(16)}`);
      if ((first & FIN_BIT) === 0) throw this.fail(CLOSE_PROTOCOL_ERROR, 'fragmented control frame');
      if (length > CONTROL_PAYLOAD_SIZE_MAX) throw this.fail(CLOSE_PROTOCOL_ERROR, 'control frame payload over 125 bytes');
      if (compressed) throw this.fail(CLOSE_PROTOCOL_ERROR, 'RSV1 set on a control frame');
    } else if (opcode === OPCODE_CONTINUATION) {
      if (!this.inMessage) throw this.fail(CLOSE_PROTOCOL_ERROR, 'continuation frame with no message begun');
      if (compressed) throw this.fail(CLOSE_PROTOCOL_ERROR, 'RSV1 set on a continuation frame');
    } else if (opcode === OPCODE_TEXT || opcode === OPCODE_BINARY) {
      if (this.inMessage) throw this.fail(CLOSE_PROTOCOL_ERROR, 'new data frame while a fragmented message is unfinished');
      if (compressed && !this.perMessageDeflate) throw this.fail(CLOSE_PROTOCOL_ERROR, 'RSV1 set without permessage-deflate');
    } else {
      throw this.fail(CLOSE_PROTOCOL_ERROR, `reserved data opcode 0x${opcode.toString(16)}`);
    }
    const masked = (second & MASK_BIT) !== 0;
    if (masked !== this.masked) throw this.fail(CLOSE_PROTOCOL_ERROR, masked ? 'masked frame from a server' : 'unmasked frame from a client');
    const extended = length === LENGTH_16_MARKER ? LENGTH_16_SIZE : length === LENGTH_64_MARKER ? LENGTH_64_SIZE : 0;
    return HEADER_BASE_SIZE + extended + (masked ? MASK_KEY_SIZE : 0);
  }

  /** Reads a header checked by checkStart() from bytes[at..), and starts its frame. */
  private decodeHeader(bytes: Uint8Array, at: number): void {
    const first = bytes[at]!;
    const second = bytes[at + 1]!;
    let cursor = at + HEADER_BASE_SIZE;
    let length = second & LENGTH_7_MASK;
    if (length === LENGTH_16_MARKER) {
      length = (bytes[cursor]! << 8) | bytes[cursor + 1]!;
      cursor += LENGTH_16_SIZE;
    } else if (length === LENGTH_64_MARKER) {
      const high = readUint32(bytes, cursor);
      if (high >= HIGH_BIT) throw this.fail(CLOSE_PROTOCOL_ERROR, '64-bit payload length with its most significant bit set');
      // Over 2^53 - 1 is over any messageSizeMax, and a double cannot hold it exactly.
      if (high >= HIGH_WORD_LIMIT) throw this.fail(CLOSE_MESSAGE_TOO_BIG, `message over ${this.messageSizeMax} bytes`);
      length = high * WORD_SCALE + readUint32(bytes, cursor + 4);
      cursor += LENGTH_64_SIZE;
    }
    this.maskKey = this.masked ? readMaskKey(bytes, cursor) : 0;
    this.maskPhase = 0;
    this.opcode = first & OPCODE_MASK;
    this.fin = (first & FIN_BIT) !== 0;
    this.remaining = length;
    if ((this.opcode & OPCODE_CONTROL_BIT) !== 0) {
      this.controlFilled = 0;
      this.state = State.ControlPayload;
      if (length === 0) this.dispatchControl(EMPTY, 0, 0);
      return;
    }
    this.startData(length, (first & RSV1_BIT) !== 0);
  }

  private startData(length: number, compressed: boolean): void {
    const first = this.opcode !== OPCODE_CONTINUATION;
    const messageSize = first ? length : this.messageSize + length;
    if (messageSize > this.messageSizeMax) throw this.fail(CLOSE_MESSAGE_TOO_BIG, `message over ${this.messageSizeMax} bytes`);
    this.messageSize = messageSize;
    this.state = State.Payload;
    if (first) {
      this.inMessage = true;
      this.messageText = this.opcode === OPCODE_TEXT;
      this.messageCompressed = compressed;
      this.utf8.reset();
    }
    if (length === 0) {
      this.state = State.Header;
      if (this.fin) this.finishMessage();
      if (first) this.handler.onMessageStart(!this.messageText, compressed);
      if (this.fin) this.handler.onMessageData(EMPTY, 0, 0, true);
      return;
    }
    if (first) this.handler.onMessageStart(!this.messageText, compressed);
  }

  /** The message's last byte is in: its UTF-8 must be whole. */
  private finishMessage(): void {
    if (this.messageText && !this.messageCompressed && !this.utf8.complete) throw this.fail(CLOSE_INVALID_PAYLOAD, 'text message ends inside a UTF-8 character');
    this.inMessage = false;
  }

  private readPayload(data: Uint8Array, offset: number, end: number): number {
    const stop = offset + Math.min(this.remaining, end - offset);
    if (this.masked) this.maskPhase = unmask(data, offset, stop, this.maskKey, this.maskPhase);
    if (this.messageText && !this.messageCompressed && !this.utf8.write(data, offset, stop)) throw this.fail(CLOSE_INVALID_PAYLOAD, 'text message is not UTF-8');
    this.remaining -= stop - offset;
    const final = this.remaining === 0 && this.fin;
    if (this.remaining === 0) {
      this.state = State.Header;
      if (final) this.finishMessage();
    }
    this.handler.onMessageData(data, offset, stop, final);
    return stop;
  }

  private readControl(data: Uint8Array, offset: number, end: number): number {
    const size = this.remaining;
    // The common case: the whole payload in this chunk, unmasked and handed over in place.
    if (this.controlFilled === 0 && end - offset >= size) {
      if (this.masked) unmask(data, offset, offset + size, this.maskKey, 0);
      this.dispatchControl(data, offset, offset + size);
      return offset + size;
    }
    const control = this.control;
    const stop = offset + Math.min(size - this.controlFilled, end - offset);
    for (let index = offset; index < stop; index += 1) control[this.controlFilled + index - offset] = data[index]!;
    this.controlFilled += stop - offset;
    if (this.controlFilled === size) {
      if (this.masked) unmask(control, 0, size, this.maskKey, 0);
      this.dispatchControl(control, 0, size);
    }
    return stop;
  }

  private dispatchControl(bytes: Uint8Array, start: number, end: number): void {
    this.state = State.Header;
    if (this.opcode === OPCODE_PING) {
      this.handler.onPing(bytes, start, end);
    } else if (this.opcode === OPCODE_CLOSE) {
      // Failed until the payload is read: readCloseCode and readCloseReason throw the close code to answer.
      this.state = State.Failed;
      const code = readCloseCode(bytes, start, end);
      const reason = readCloseReason(bytes, start, end);
      this.state = State.Closed;
      this.handler.onClose(code, reason);
    } else {
      this.handler.onPong(bytes, start, end);
    }
  }
}
