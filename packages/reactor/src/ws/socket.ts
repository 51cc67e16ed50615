/**
 * The WebSocket handlers see: send, close, ping and topics, in the shape
 * uWS.js gives them (send() answers with a status instead of buffering
 * without bound). The protocol itself is its session's (session.ts).
 */
import { invalidArgType } from '../errors.js';
import type { SocketAddress } from '../backend/address.js';
import { CLOSE_NORMAL } from './close.js';
import { OPCODE_BINARY, OPCODE_TEXT, type Opcode } from './wire.js';
import type { WebSocketSession } from './session.js';

/** send(): the message was queued, above the high-water mark: wait for the drain handler before sending more. */
export const SEND_BACKPRESSURE = 0;
/** send(): the message was written (or queued below the high-water mark). */
export const SEND_SUCCESS = 1;
/** send(): the message was dropped: the socket had `maxBackpressure` bytes queued already, or is closing or closed. */
export const SEND_DROPPED = 2;
/** What send() answers: SEND_BACKPRESSURE, SEND_SUCCESS or SEND_DROPPED (the numbers uWS.js uses). */
export type SendStatus = typeof SEND_BACKPRESSURE | typeof SEND_SUCCESS | typeof SEND_DROPPED;

/** What a message may be: text (a string, sent as UTF-8) or bytes. */
export type WebSocketMessage = string | Uint8Array | ArrayBuffer;

/** `message` as a string or bytes. */
function payloadOf(name: string, message: WebSocketMessage): string | Uint8Array {
  if (typeof message === 'string' || message instanceof Uint8Array) return message;
  if (message instanceof ArrayBuffer) return new Uint8Array(message);
  throw invalidArgType(name, 'of type string or an instance of Uint8Array or ArrayBuffer', message);
}

function checkTopic(topic: string): void {
  if (typeof topic !== 'string') throw invalidArgType('topic', 'of type string', topic);
}

function checkCompress(compress: boolean): boolean {
  if (typeof compress !== 'boolean') throw invalidArgType('compress', 'of type boolean', compress);
  return compress;
}

/** The opcode of a message: binary unless `isBinary` is false. */
function opcodeOf(isBinary: boolean): Opcode {
  if (typeof isBinary !== 'boolean') throw invalidArgType('isBinary', 'of type boolean', isBinary);
  return isBinary ? OPCODE_BINARY : OPCODE_TEXT;
}

/**
 * One WebSocket connection, as its handlers get it (server side, after
 * the upgrade; client side, from connect()). `data` is the application's
 * per-socket value, given at the upgrade.
 */
export class WebSocket<T> {
  /** The application's value for this socket (the upgrade's `data`). */
  data: T;
  /**
   * The protocol engine.
   * @internal
   */
  readonly session: WebSocketSession<T>;

  /**
   * Made by the server or client for each connection.
   * @internal
   */
  constructor(session: WebSocketSession<T>, data: T) {
    this.session = session;
    this.data = data;
  }

  /** True until a close frame went out (end(), a protocol error) or the connection closed. */
  get isOpen(): boolean {
    return this.session.isOpen;
  }

  /**
   * Sends one message: text when `isBinary` is false (a string is sent as
   * UTF-8; bytes sent as text must be UTF-8), binary when true (the
   * default for bytes). Bytes are not copied when large: they must not
   * change until written (as with Connection.write()). A pooled view
   * (a message handler's `data`) may be sent back as it is.
   *
   * `compress` (default true) matters only when permessage-deflate was
   * agreed: the message is then compressed in this call, unless it is
   * shorter than the `threshold` or does not get smaller; false sends it
   * as it is (for data that does not compress: images, encrypted bytes).
   * The status is the same either way.
   * @returns SEND_SUCCESS, SEND_BACKPRESSURE (queued; the drain handler follows), or SEND_DROPPED (see `maxBackpressure`).
   * @throws TypeError `ERR_INVALID_ARG_TYPE` when `message` is not a string or bytes, or `isBinary` or `compress` not a boolean.
   */
  send(message: WebSocketMessage, isBinary: boolean = typeof message !== 'string', compress: boolean = true): SendStatus {
    const payload = payloadOf('message', message);
    return this.session.send(opcodeOf(isBinary), payload, checkCompress(compress));
  }

  /**
   * The permessage-deflate terms agreed for this socket (the response's
   * `Sec-WebSocket-Extensions` value), or null when its messages travel
   * uncompressed.
   */
  get extensions(): string | null {
    return this.session.extensions;
  }

  /**
   * Begins the close handshake: a close frame with `code` (default 1000)
   * and `reason`; the connection closes once the peer answers (or after
   * `closeTimeoutMs`). Nothing is sent after it; messages still arriving
   * are dropped. Does nothing on a socket already closing.
   * @throws TypeError `ERR_INVALID_ARG_TYPE` / RangeError `ERR_OUT_OF_RANGE` for a code that may not be sent
   *   (1000-1003, 1007-1014, 3000-4999) or a reason over 123 bytes of UTF-8.
   */
  end(code: number = CLOSE_NORMAL, reason: string = ''): void {
    this.session.startClose(code, reason, false);
  }

  /** Closes the connection at once, without a close handshake: the close handler gets 1006. */
  close(): void {
    this.session.connection.destroy();
  }

  /**
   * Sends a ping (payload at most 125 bytes); the peer answers with a pong.
   * Returns false when the socket is closing or closed.
   * @throws TypeError `ERR_INVALID_ARG_TYPE` for a wrong type; RangeError `ERR_OUT_OF_RANGE` for a payload over 125 bytes.
   */
  ping(message: WebSocketMessage = ''): boolean {
    const payload = payloadOf('message', message);
    return this.session.ping(typeof payload === 'string' ? Buffer.from(payload, 'utf8') : payload);
  }

  /** Bytes queued for sending and not yet taken by the kernel. */
  getBufferedAmount(): number {
    return this.session.connection.queuedBytes;
  }

  /**
   * The peer's address and port.
   * @throws ZepollSystemError when the socket is closed (getpeername fails).
   */
  getRemoteAddress(): SocketAddress {
    return this.session.connection.remoteAddress();
  }

  /**
   * Subscribes to `topic`: messages published to it reach this socket.
   * Returns false when already subscribed or closed.
   * @throws TypeError `ERR_INVALID_ARG_TYPE` when `topic` is not a string.
   */
  subscribe(topic: string): boolean {
    checkTopic(topic);
    const session = this.session;
    if (!session.connection.isOpen || !session.settings.topics.add(topic, session)) return false;
    (session.topics ??= new Set()).add(topic);
    return true;
  }

  /**
   * Unsubscribes from `topic`; false when not subscribed.
   * @throws TypeError `ERR_INVALID_ARG_TYPE` when `topic` is not a string.
   */
  unsubscribe(topic: string): boolean {
    checkTopic(topic);
    const session = this.session;
    if (!session.settings.topics.remove(topic, session)) return false;
    session.topics!.delete(topic);
    return true;
  }

  /**
   * Whether this socket is subscribed to `topic`.
   * @throws TypeError `ERR_INVALID_ARG_TYPE` when `topic` is not a string.
   */
  isSubscribed(topic: string): boolean {
    checkTopic(topic);
    return this.session.topics?.has(topic) ?? false;
  }

  /** The topics this socket is subscribed to. */
  getTopics(): string[] {
    return this.session.topics === null ? [] : [...this.session.topics];
  }

  /**
   * Publishes a message to every subscriber of `topic` except this socket
   * (as uWS.js), encoded once (and compressed once per window size for
   * the subscribers that agreed to permessage-deflate, unless `compress`
   * is false). Returns how many sockets took it: a subscriber
   * over its `maxBackpressure` is skipped (or closed, with
   * `closeOnBackpressureLimit`).
   * @throws TypeError `ERR_INVALID_ARG_TYPE` for a wrong type.
   */
  publish(topic: string, message: WebSocketMessage, isBinary: boolean = typeof message !== 'string', compress: boolean = true): number {
    checkTopic(topic);
    const payload = payloadOf('message', message);
    const opcode = opcodeOf(isBinary);
    return this.session.settings.topics.publish(topic, opcode, typeof payload === 'string' ? Buffer.from(payload, 'utf8') : payload, this.session, checkCompress(compress));
  }
}
