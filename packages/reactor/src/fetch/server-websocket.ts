/**
 * The socket a `serve({ websocket })` handler gets: Bun's ServerWebSocket
 * in shape (send() answers a number, close(code, reason) is the close
 * handshake, terminate() is abrupt, `data`, `readyState`, `binaryType`,
 * topics), over zepoll/ws's own socket, whose session does the protocol.
 * Nothing here frames, parses or queues: each call is one call of the
 * zepoll/ws socket, and the answer is put in Bun's terms.
 */
import { invalidArgType } from '../errors.js';
import { CLOSE_NORMAL } from '../ws/close.js';
import { SEND_BACKPRESSURE, SEND_SUCCESS, type SendStatus, type WebSocket } from '../ws/socket.js';

/** What Bun's send() answers when the message was queued above the high-water mark: wait for `drain`. */
export const SEND_STATUS_BACKPRESSURE = -1;
/** What Bun's send() answers when the message was dropped (`backpressureLimit` reached, or the socket closing). */
export const SEND_STATUS_DROPPED = 0;

/** readyState (the browser's numbers, as Bun): the close handshake has begun. */
const READY_STATE_CLOSING = 2;
/** readyState: open, messages go out. */
const READY_STATE_OPEN = 1;
/** readyState: the connection is closed. */
const READY_STATE_CLOSED = 3;

/** How a binary message reaches the `message` handler (Bun's `binaryType`): a Buffer, an ArrayBuffer or a Uint8Array. */
export type WebSocketBinaryType = 'nodebuffer' | 'arraybuffer' | 'uint8array';

/** What may be sent: text (a string, sent as UTF-8) or bytes (any ArrayBuffer or view of one). */
export type WebSocketData = string | ArrayBuffer | ArrayBufferView;

/** The readyState values: 1 open, 2 closing (a close frame went one way), 3 closed. */
export type WebSocketReadyState = 1 | 2 | 3;

/** `message` as bytes, or a coded TypeError. */
function bytesOf(name: string, message: ArrayBuffer | ArrayBufferView): Uint8Array {
  if (message instanceof Uint8Array) return message;
  if (message instanceof ArrayBuffer) return new Uint8Array(message);
  if (ArrayBuffer.isView(message)) return new Uint8Array(message.buffer, message.byteOffset, message.byteLength);
  throw invalidArgType(name, 'an instance of ArrayBuffer or an ArrayBuffer view', message);
}

/** The payload of a message: UTF-8 bytes for text (encoded once, here), else the bytes given. */
function payloadOf(name: string, message: WebSocketData, text: boolean): Uint8Array {
  if (typeof message === 'string') return Buffer.from(message, 'utf8');
  if (text) throw invalidArgType(name, 'of type string', message);
  return bytesOf(name, message);
}

/** Bun's number for a publish: the payload's size when at least one subscriber took it, else 0. */
function publishNumber(taken: number, size: number): number {
  return taken > 0 ? size : SEND_STATUS_DROPPED;
}

/** Bun's number for a send: the payload's size when it went, -1 queued above the high-water mark, 0 dropped. */
function sendNumber(status: SendStatus, size: number): number {
  if (status === SEND_SUCCESS) return size;
  return status === SEND_BACKPRESSURE ? SEND_STATUS_BACKPRESSURE : SEND_STATUS_DROPPED;
}

/**
 * A binary message in the form `binaryType` asks for. Always a copy with
 * an ArrayBuffer of its own and of its exact size: the message may be a
 * view of pooled memory, valid only during the call, and Hono's adapters
 * hand `message.buffer` on as the message itself.
 */
export function binaryMessage(type: WebSocketBinaryType, data: Buffer): Buffer | ArrayBuffer | Uint8Array {
  const copy = Buffer.allocUnsafeSlow(data.length); // not from Node's shared pool: its ArrayBuffer is this message alone
  data.copy(copy);
  if (type === 'arraybuffer') return copy.buffer as ArrayBuffer;
  if (type === 'uint8array') return new Uint8Array(copy.buffer, 0, copy.length);
  return copy;
}

/**
 * One WebSocket of a `serve()` server, as its handlers get it: Bun's
 * `ServerWebSocket` (send, sendText, sendBinary, close, terminate, ping,
 * subscribe, publish, cork, data, readyState, remoteAddress, binaryType).
 * Compression arguments are accepted and ignored: permessage-deflate is
 * not negotiated.
 */
export class ServerWebSocket<T = undefined> {
  /** The application's value for this socket: `server.upgrade()`'s `data`; yours to change. */
  data: T;
  /** How binary messages reach `message`: 'nodebuffer' (a Buffer, the default), 'arraybuffer' or 'uint8array'. */
  binaryType: WebSocketBinaryType;
  /** zepoll/ws's socket under this one: set when it opens, before any handler runs. */
  private socket: WebSocket<ServerWebSocket<T>> | null;
  private address: string | null;

  /**
   * Made by server.upgrade() with its `data`.
   * @internal
   */
  constructor(data: T) {
    this.data = data;
    this.binaryType = 'nodebuffer';
    this.socket = null;
    this.address = null;
  }

  /**
   * The socket opened under this one (its open handler runs next).
   * @internal
   */
  attach(socket: WebSocket<ServerWebSocket<T>>): void {
    this.socket = socket;
  }

  /** The zepoll/ws socket: set before a handler can see this one, so never null where it is asked for. */
  private get ws(): WebSocket<ServerWebSocket<T>> {
    return this.socket!;
  }

  /** 1 while open, 2 once a close frame went one way (close(), the peer's close, a failure), 3 once closed. */
  get readyState(): WebSocketReadyState {
    const ws = this.ws;
    if (ws.isOpen) return READY_STATE_OPEN;
    return ws.session.connection.isOpen ? READY_STATE_CLOSING : READY_STATE_CLOSED;
  }

  /** The peer's IP address ('' once the connection is gone and it was never asked). */
  get remoteAddress(): string {
    if (this.address === null) {
      try {
        this.address = this.ws.getRemoteAddress().address;
      } catch {
        return ''; // closed before anyone asked: Bun's answer has no other value to give
      }
    }
    return this.address;
  }

  /**
   * Sends one message: a string as text, bytes as binary.
   * @returns the payload's size in bytes when sent, -1 (SEND_STATUS_BACKPRESSURE) when queued
   *   above the high-water mark (`drain` follows), 0 (SEND_STATUS_DROPPED) when dropped.
   * @throws TypeError `ERR_INVALID_ARG_TYPE` when `data` is neither a string nor bytes.
   */
  send(data: WebSocketData, compress = true): number {
    const text = typeof data === 'string';
    const payload = payloadOf('data', data, text);
    return sendNumber(this.ws.send(payload, !text, compress), payload.length);
  }

  /**
   * Sends a text message; answers as send().
   * @throws TypeError `ERR_INVALID_ARG_TYPE` when `data` is not a string.
   */
  sendText(data: string, compress = true): number {
    const payload = payloadOf('data', data, true);
    return sendNumber(this.ws.send(payload, false, compress), payload.length);
  }

  /**
   * Sends a binary message; answers as send().
   * @throws TypeError `ERR_INVALID_ARG_TYPE` when `data` is not bytes.
   */
  sendBinary(data: ArrayBuffer | ArrayBufferView, compress = true): number {
    const payload = bytesOf('data', data);
    return sendNumber(this.ws.send(payload, true, compress), payload.length);
  }

  /**
   * Begins the close handshake with `code` (default 1000) and `reason`;
   * the `close` handler runs once the peer has answered (or after the
   * close timeout). Does nothing on a socket already closing.
   * @throws RangeError `ERR_OUT_OF_RANGE` / TypeError `ERR_INVALID_ARG_TYPE` for a code that may not
   *   be sent or a reason over 123 bytes of UTF-8.
   */
  close(code: number = CLOSE_NORMAL, reason: string = ''): void {
    this.ws.end(code, reason);
  }

  /** Closes the connection at once, without a close handshake: the `close` handler gets 1006. */
  terminate(): void {
    this.ws.close();
  }

  /**
   * Sends a ping (at most 125 bytes); the peer answers with a pong.
   * @returns the payload's size, or 0 when the socket is closing or closed.
   * @throws RangeError `ERR_OUT_OF_RANGE` for a payload over 125 bytes.
   */
  ping(data: WebSocketData = ''): number {
    const payload = payloadOf('data', data, false);
    return this.ws.ping(payload) ? payload.length : 0;
  }

  /**
   * Subscribes to `topic` (nothing happens when subscribed already, or closed).
   * @throws TypeError `ERR_INVALID_ARG_TYPE` when `topic` is not a string.
   */
  subscribe(topic: string): void {
    this.ws.subscribe(topic);
  }

  /**
   * Unsubscribes from `topic`.
   * @throws TypeError `ERR_INVALID_ARG_TYPE` when `topic` is not a string.
   */
  unsubscribe(topic: string): void {
    this.ws.unsubscribe(topic);
  }

  /**
   * Whether this socket is subscribed to `topic`.
   * @throws TypeError `ERR_INVALID_ARG_TYPE` when `topic` is not a string.
   */
  isSubscribed(topic: string): boolean {
    return this.ws.isSubscribed(topic);
  }

  /** The topics this socket is subscribed to. */
  get subscriptions(): string[] {
    return this.ws.getTopics();
  }

  /**
   * Publishes a message to every other subscriber of `topic` (never to
   * this socket, as Bun's default `publishToSelf: false`), encoded once.
   * @returns the payload's size when at least one subscriber took it, else 0.
   * @throws TypeError `ERR_INVALID_ARG_TYPE` for a wrong type.
   */
  publish(topic: string, data: WebSocketData, compress = true): number {
    const text = typeof data === 'string';
    const payload = payloadOf('data', data, text);
    return publishNumber(this.ws.publish(topic, payload, !text, compress), payload.length);
  }

  /**
   * Publishes a text message; answers as publish().
   * @throws TypeError `ERR_INVALID_ARG_TYPE` for a wrong type.
   */
  publishText(topic: string, data: string, compress = true): number {
    const payload = payloadOf('data', data, true);
    return publishNumber(this.ws.publish(topic, payload, false, compress), payload.length);
  }

  /**
   * Publishes a binary message; answers as publish().
   * @throws TypeError `ERR_INVALID_ARG_TYPE` for a wrong type.
   */
  publishBinary(topic: string, data: ArrayBuffer | ArrayBufferView, compress = true): number {
    const payload = bytesOf('data', data);
    return publishNumber(this.ws.publish(topic, payload, true, compress), payload.length);
  }

  /**
   * Runs `callback` with this socket and returns what it returns. The
   * sends of one turn already leave in one system call (the reactor
   * corks every turn), so there is nothing more to gather: this is here
   * so that code written for Bun runs as it is.
   */
  cork<R>(callback: (ws: ServerWebSocket<T>) => R): R {
    return callback(this);
  }

  /** Bytes queued for sending and not yet taken by the kernel. */
  getBufferedAmount(): number {
    return this.ws.getBufferedAmount();
  }
}
