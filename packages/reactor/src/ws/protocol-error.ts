/** The error a WebSocket frame stream fails with: the close code to send, then close. */
import { ZepollError } from '../errors.js';

/**
 * Why a WebSocket connection must be failed (code `ERR_ZEPOLL_WS_PROTOCOL`),
 * with the close code to send before closing (RFC 6455 §7.4.1): 1002 for
 * a framing error, 1007 for a text message or close reason that is not
 * UTF-8, 1009 for a message over the size limit.
 */
export class WebSocketProtocolError extends ZepollError {
  /** The close code to fail the connection with: 1002, 1007 or 1009. */
  readonly closeCode: number;
  /** An error with code `ERR_ZEPOLL_WS_PROTOCOL`, name 'WebSocketProtocolError' and `closeCode`. */
  constructor(closeCode: number, message: string) {
    super('ERR_ZEPOLL_WS_PROTOCOL', message);
    this.name = 'WebSocketProtocolError';
    this.closeCode = closeCode;
  }
}
