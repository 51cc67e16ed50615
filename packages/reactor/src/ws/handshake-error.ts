/** The error an opening handshake is refused with: the status to answer, then close. */
import { ZepollError } from '../errors.js';

/**
 * Why an upgrade request is not a valid WebSocket opening handshake
 * (code `ERR_ZEPOLL_WS_HANDSHAKE`), with the HTTP status to answer and
 * the header fields that answer needs (RFC 6455 §4.2.1, §4.4): 400 for a
 * malformed request, 405 with `Allow: GET` for another method, 426 with
 * `Sec-WebSocket-Version: 13` for a version zepoll does not speak.
 */
export class WebSocketHandshakeError extends ZepollError {
  /** The status to answer with before closing: 400, 405 or 426. */
  readonly status: number;
  /** Header field names and values, alternating, the answer must carry (empty for 400). */
  readonly headers: readonly string[];
  /** An error with code `ERR_ZEPOLL_WS_HANDSHAKE`, name 'WebSocketHandshakeError', `status` and `headers`. */
  constructor(status: number, message: string, headers: readonly string[] = []) {
    super('ERR_ZEPOLL_WS_HANDSHAKE', message);
    this.name = 'WebSocketHandshakeError';
    this.status = status;
    this.headers = headers;
  }
}
