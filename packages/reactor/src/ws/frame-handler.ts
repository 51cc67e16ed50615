/** What a FrameParser calls as frames are parsed (frame-parser.ts). */

/**
 * The receiver of a FrameParser's results: one object with these methods
 * (a class instance per connection, typically), called in wire order. No
 * closure or object is made per frame: bytes are handed over as the
 * buffer they lie in and a range, already unmasked. A range is valid
 * during the call only: the buffer is the caller's (a pooled chunk), so
 * copy what you keep.
 *
 * A throw from a method leaves execute() with it; the parser must not be
 * used after that (close the connection: 1011 is the code for a handler's
 * failure).
 */
export interface FrameHandler {
  /**
   * A data message begins (its first frame's header is in): `binary` for
   * opcode 0x2, else text; `compressed` when RSV1 was set under
   * permessage-deflate (its bytes, and so its UTF-8, are the inflater's
   * to check).
   */
  onMessageStart(binary: boolean, compressed: boolean): void;
  /**
   * Payload bytes data[start..end) of the current message, in order, any
   * number of calls per frame. An uncompressed text message's bytes are
   * valid UTF-8 so far (a character may continue in the next call).
   * `final` is true on the message's last call, exactly once per message,
   * possibly with an empty range: a message whose first call is final lies
   * whole in `data`, so it can be used without copying.
   */
  onMessageData(data: Uint8Array, start: number, end: number, final: boolean): void;
  /** A ping with payload data[start..end) (at most 125 bytes): answer with a pong of the same bytes. */
  onPing(data: Uint8Array, start: number, end: number): void;
  /** A pong with payload data[start..end) (at most 125 bytes). */
  onPong(data: Uint8Array, start: number, end: number): void;
  /**
   * A close frame: its status code (1005, CLOSE_NO_STATUS, when it had
   * none) and its reason, checked as UTF-8. The parser reads nothing after
   * it (§5.5.1: no data follows a close frame).
   */
  onClose(code: number, reason: string): void;
}
