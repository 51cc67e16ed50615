/**
 * The octets of an RFC 6455 frame (§5.2), named once for the parser and
 * the encoder:
 *
 * ```
 *  0                   1                   2                   3
 *  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 * +-+-+-+-+-------+-+-------------+-------------------------------+
 * |F|R|R|R| opcode|M| Payload len |    Extended payload length    |
 * |I|S|S|S|  (4)  |A|     (7)     |             (16/64)           |
 * |N|V|V|V|       |S|             |   (if payload len==126/127)   |
 * | |1|2|3|       |K|             |                               |
 * +-+-+-+-+-------+-+-------------+ - - - - - - - - - - - - - - - +
 * |     Extended payload length continued, if payload len == 127  |
 * + - - - - - - - - - - - - - - - +-------------------------------+
 * |                               |Masking-key, if MASK set to 1  |
 * +-------------------------------+-------------------------------+
 * | Masking-key (continued)       |          Payload Data         |
 * +-------------------------------- - - - - - - - - - - - - - - - +
 * ```
 */

/** A continuation frame: the next fragment of the message in progress (§5.4). */
export const OPCODE_CONTINUATION = 0x0;
/** The first (or only) frame of a text message: UTF-8 (§5.6). */
export const OPCODE_TEXT = 0x1;
/** The first (or only) frame of a binary message. */
export const OPCODE_BINARY = 0x2;
/** A close frame: an optional 2-byte code and a UTF-8 reason (§5.5.1). */
export const OPCODE_CLOSE = 0x8;
/** A ping: the peer answers with a pong carrying the same payload (§5.5.2). */
export const OPCODE_PING = 0x9;
/** A pong: an answer to a ping, or an unsolicited heartbeat (§5.5.3). */
export const OPCODE_PONG = 0xa;

/** The opcodes a frame may carry: 0x3-0x7 and 0xB-0xF are reserved and fail the connection. */
export type Opcode = typeof OPCODE_CONTINUATION | typeof OPCODE_TEXT | typeof OPCODE_BINARY | typeof OPCODE_CLOSE | typeof OPCODE_PING | typeof OPCODE_PONG;

/** Opcodes with this bit set are control frames (close, ping, pong and the reserved 0xB-0xF). */
export const OPCODE_CONTROL_BIT = 0x8;

/** First byte: the final fragment of a message. */
export const FIN_BIT = 0x80;
/** First byte: RSV1, "compressed" under permessage-deflate (RFC 7692 §6). */
export const RSV1_BIT = 0x40;
/** First byte: RSV2; no extension zepoll speaks defines it. */
export const RSV2_BIT = 0x20;
/** First byte: RSV3; no extension zepoll speaks defines it. */
export const RSV3_BIT = 0x10;
/** First byte: the opcode's four bits. */
export const OPCODE_MASK = 0x0f;
/** Second byte: the payload is masked, with a key after the length. */
export const MASK_BIT = 0x80;
/** Second byte: the 7-bit payload length, or one of the two markers below. */
export const LENGTH_7_MASK = 0x7f;

/** A 7-bit length of 126: the real length follows in 16 bits. */
export const LENGTH_16_MARKER = 126;
/** A 7-bit length of 127: the real length follows in 64 bits (most significant bit 0). */
export const LENGTH_64_MARKER = 127;
/** The largest payload the 7-bit length carries itself. */
export const LENGTH_7_MAX = 125;
/** The largest payload a 16-bit length carries. */
export const LENGTH_16_MAX = 0xffff;

/** Bytes of the two fixed header bytes. */
export const HEADER_BASE_SIZE = 2;
/** Bytes of the 16-bit extended length. */
export const LENGTH_16_SIZE = 2;
/** Bytes of the 64-bit extended length. */
export const LENGTH_64_SIZE = 8;
/** Bytes of a masking key. */
export const MASK_KEY_SIZE = 4;
/** The longest header: 2 + 8 (64-bit length) + 4 (masking key). */
export const HEADER_SIZE_MAX = HEADER_BASE_SIZE + LENGTH_64_SIZE + MASK_KEY_SIZE;

/** A control frame's payload is at most 125 bytes (§5.5), so its length always fits the 7 bits. */
export const CONTROL_PAYLOAD_SIZE_MAX = LENGTH_7_MAX;

/**
 * 2^32: the high word of a 64-bit length is scaled by it. A length whose
 * high word is at or above HIGH_WORD_LIMIT does not fit a double exactly
 * (over 2^53 - 1); it is over every message size limit anyway.
 */
export const WORD_SCALE = 0x1_0000_0000;
/** High words from here on give lengths over Number.MAX_SAFE_INTEGER. */
export const HIGH_WORD_LIMIT = 0x20_0000;

/** True for text, binary and continuation: the data opcodes. */
export const isDataOpcode = (opcode: number): boolean => opcode === OPCODE_TEXT || opcode === OPCODE_BINARY || opcode === OPCODE_CONTINUATION;

/** True for close, ping and pong: the control opcodes RFC 6455 defines. */
export const isControlOpcode = (opcode: number): boolean => opcode === OPCODE_CLOSE || opcode === OPCODE_PING || opcode === OPCODE_PONG;

/**
 * Which end of a connection a codec serves: a server receives masked
 * frames and sends unmasked ones; a client the other way round (§5.1).
 */
export type WebSocketRole = 'server' | 'client';
