/**
 * Close frames (RFC 6455 §5.5.1, §7.4): an empty payload, or a 2-byte
 * status code (network byte order) and a UTF-8 reason. What may be
 * received and what may be sent are the same set of codes: 1000-1003,
 * 1007-1014 (1012-1014 registered with IANA after the RFC and sent by
 * servers such as `ws` and uWS.js), and 3000-4999 (libraries and
 * applications). 1004 (reserved), 1005 (no status), 1006 (abnormal
 * closure) and 1015 (TLS failure) name situations and never travel;
 * below 1000, 1016-2999 and 5000 and up are unassigned.
 */
import { invalidArgType, outOfRange } from '../errors.js';
import { CLOSE_REASON_SIZE_MAX } from './limits.js';
import { WebSocketProtocolError } from './protocol-error.js';
import { isValidUtf8 } from './utf8.js';

/** 1000: the purpose of the connection was fulfilled. */
export const CLOSE_NORMAL = 1000;
/** 1001: an endpoint is going away (a server shutting down, a page left). */
export const CLOSE_GOING_AWAY = 1001;
/** 1002: the peer broke the protocol (a framing error). */
export const CLOSE_PROTOCOL_ERROR = 1002;
/** 1003: a message of a type the endpoint does not accept (binary to a text-only endpoint). */
export const CLOSE_UNSUPPORTED_DATA = 1003;
/** 1005: the close frame had no status code; reported, never sent. */
export const CLOSE_NO_STATUS = 1005;
/** 1006: the connection ended without a close frame; reported, never sent. */
export const CLOSE_ABNORMAL = 1006;
/** 1007: a text message (or close reason) that is not UTF-8. */
export const CLOSE_INVALID_PAYLOAD = 1007;
/** 1008: a message that violates the endpoint's policy. */
export const CLOSE_POLICY_VIOLATION = 1008;
/** 1009: a message too big to process. */
export const CLOSE_MESSAGE_TOO_BIG = 1009;
/** 1010: (sent by a client) the server did not negotiate an extension the client requires. */
export const CLOSE_MANDATORY_EXTENSION = 1010;
/** 1011: the server met an unexpected condition (a handler threw). */
export const CLOSE_INTERNAL_ERROR = 1011;
/** 1012: the service is restarting. */
export const CLOSE_SERVICE_RESTART = 1012;
/** 1013: try again later (the server is overloaded). */
export const CLOSE_TRY_AGAIN_LATER = 1013;
/** 1014: a gateway or proxy got an invalid response upstream. */
export const CLOSE_BAD_GATEWAY = 1014;
/** 1015: the TLS handshake failed; reported, never sent. */
export const CLOSE_TLS_HANDSHAKE = 1015;

/** The ranges of codes that may travel in a close frame, each inclusive. */
const PROTOCOL_CODES_FIRST = 1000;
const PROTOCOL_CODES_LAST = 1003;
const REGISTERED_CODES_FIRST = 1007;
const REGISTERED_CODES_LAST = 1014;
const PRIVATE_CODES_FIRST = 3000;
const PRIVATE_CODES_LAST = 4999;
/** Bytes of the status code at the start of a close payload. */
export const CLOSE_CODE_SIZE = 2;

const utf8Decoder = new TextDecoder('utf-8');
const utf8Encoder = new TextEncoder();

/** True when `code` may be sent or received in a close frame (the ranges above). */
export function isValidCloseCode(code: number): boolean {
  return (
    Number.isInteger(code) &&
    ((code >= PROTOCOL_CODES_FIRST && code <= PROTOCOL_CODES_LAST) ||
      (code >= REGISTERED_CODES_FIRST && code <= REGISTERED_CODES_LAST) ||
      (code >= PRIVATE_CODES_FIRST && code <= PRIVATE_CODES_LAST))
  );
}

/**
 * The status code of a received close payload bytes[start..end):
 * CLOSE_NO_STATUS (1005) when it is empty.
 * @throws WebSocketProtocolError 1002 when the payload is one byte long or the code may not travel.
 */
export function readCloseCode(bytes: Uint8Array, start: number, end: number): number {
  if (end === start) return CLOSE_NO_STATUS;
  if (end - start < CLOSE_CODE_SIZE) throw new WebSocketProtocolError(CLOSE_PROTOCOL_ERROR, 'close frame with a 1-byte payload');
  const code = (bytes[start]! << 8) | bytes[start + 1]!;
  if (!isValidCloseCode(code)) throw new WebSocketProtocolError(CLOSE_PROTOCOL_ERROR, `close code ${code} may not be sent`);
  return code;
}

/**
 * The reason of a received close payload bytes[start..end) ('' when none).
 * @throws WebSocketProtocolError 1007 when the reason is not UTF-8.
 */
export function readCloseReason(bytes: Uint8Array, start: number, end: number): string {
  const reasonStart = start + CLOSE_CODE_SIZE;
  if (end <= reasonStart) return '';
  if (!isValidUtf8(bytes, reasonStart, end)) throw new WebSocketProtocolError(CLOSE_INVALID_PAYLOAD, 'close reason is not UTF-8');
  return utf8Decoder.decode(bytes.subarray(reasonStart, end));
}

/**
 * Bytes of the close payload for `code` and `reason` (0 without a code).
 * @throws TypeError `ERR_INVALID_ARG_TYPE` when `code` is not a number or `reason` not a string.
 * @throws RangeError `ERR_OUT_OF_RANGE` when the code may not be sent, a reason comes without a code, or the reason is over 123 bytes as UTF-8.
 */
export function closePayloadSize(code: number | undefined, reason: string = ''): number {
  if (typeof reason !== 'string') throw invalidArgType('reason', 'of type string', reason);
  if (code === undefined) {
    if (reason !== '') throw outOfRange('reason', 'empty when no code is given', JSON.stringify(reason));
    return 0;
  }
  if (typeof code !== 'number') throw invalidArgType('code', 'of type number', code);
  if (!isValidCloseCode(code)) throw outOfRange('code', '1000-1003, 1007-1014 or 3000-4999', code);
  const reasonSize = Buffer.byteLength(reason, 'utf8');
  if (reasonSize > CLOSE_REASON_SIZE_MAX) throw outOfRange('reason', `at most ${CLOSE_REASON_SIZE_MAX} bytes as UTF-8`, `${reasonSize} bytes`);
  return CLOSE_CODE_SIZE + reasonSize;
}

/**
 * Writes the close payload for `code` and `reason` at target[offset..),
 * checked as closePayloadSize() checks them; returns the offset after it.
 * A lone surrogate in `reason` is written as U+FFFD, so the bytes are UTF-8.
 * @throws RangeError `ERR_OUT_OF_RANGE` when the payload does not fit target from offset.
 */
export function writeClosePayload(target: Uint8Array, offset: number, code: number | undefined, reason: string = ''): number {
  const size = closePayloadSize(code, reason);
  if (!Number.isInteger(offset) || offset < 0 || offset > target.length - size) throw outOfRange('offset', `an integer >= 0 and <= ${target.length - size}`, offset);
  if (code === undefined) return offset;
  target[offset] = code >>> 8;
  target[offset + 1] = code & 0xff;
  if (reason !== '') utf8Encoder.encodeInto(reason, target.subarray(offset + CLOSE_CODE_SIZE, offset + size));
  return offset + size;
}
