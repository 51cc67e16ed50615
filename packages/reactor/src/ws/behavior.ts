/**
 * What a WebSocket server or client is given: the handlers (as uWS.js
 * names them: open, message, drain, close) and the options of its
 * sockets, checked once where the server or client is made.
 */
import { handlerMethods, handlerObject, booleanOption, integerOption, optionalFunction } from '../validate.js';
import { TIMEOUT_MS_MAX } from '../handler.js';
import { MESSAGE_SIZE_MAX } from './limits.js';
import { resolveDeflateOptions, type PerMessageDeflateOptions, type ResolvedDeflateOptions } from './deflate-options.js';
import type { WebSocket } from './socket.js';
import type { WebSocketRole } from './wire.js';

/** What a handler call may return: a promise is watched (its rejection fails the socket like a throw). */
export type WebSocketHandlerResult = unknown;

/**
 * The handlers of a WebSocket server's (or client's) sockets. Each is
 * optional. A handler that throws, or returns a promise that rejects,
 * costs its own socket: it is closed with 1011 (Internal Error), the
 * error reaches the `onError` option (else the reactor's onError) and
 * the reactor's `stats.handlerErrors` counts it.
 */
export interface WebSocketBehavior<T> {
  /** The socket is open (the 101 went out, or came in for a client): it may send at once. */
  open?(ws: WebSocket<T>): WebSocketHandlerResult;
  /**
   * A whole message. `data` is a Buffer: a message that lay whole in one
   * read is a view of pooled memory, valid until this call returns (not
   * across an `await`: copy it with `Buffer.from(data)` to keep it);
   * a message that spanned reads, or came compressed (permessage-deflate),
   * is a Buffer of its own. A text message
   * (`isBinary` false) is valid UTF-8: `data.toString()` decodes it.
   */
  message?(ws: WebSocket<T>, data: Buffer, isBinary: boolean): WebSocketHandlerResult;
  /** The socket's write queue emptied after send() returned SEND_BACKPRESSURE. */
  drain?(ws: WebSocket<T>): WebSocketHandlerResult;
  /**
   * The connection closed: always last, once. `code` and `reason` are
   * those of the close handshake: the peer's close frame when the peer
   * began it, ours when we did (end(), a protocol error, a handler's
   * failure); 1006 (and '') when no close frame went either way (close(),
   * a reset, an idle peer). A throw here is reported, nothing more.
   */
  close?(ws: WebSocket<T>, code: number, reason: string): WebSocketHandlerResult;
}

/** The handler names a behavior may have, each a function when present. */
const BEHAVIOR_METHODS = ['open', 'message', 'drain', 'close'] as const;

/** Options of every socket of a server (or of one client). */
export interface WebSocketOptions<T> {
  /**
   * Bytes of one received message, all its fragments (default 16 MiB,
   * MESSAGE_SIZE_MAX, as Bun). A longer one closes the socket with 1009
   * (Message Too Big) at the header that crosses the bound, before its
   * payload is read. A compressed message is bounded twice: as it arrives
   * and as it inflates (1009 as soon as its inflated bytes cross it).
   */
  readonly maxPayloadLength?: number;
  /**
   * permessage-deflate (RFC 7692): off by default. `true` or options turn
   * it on: a server accepts a client's offer (the `Sec-WebSocket-Extensions`
   * of its 101), a client offers it. Once agreed, messages from
   * `threshold` bytes up are sent compressed (unless send()'s `compress`
   * is false) and compressed messages are inflated before the message
   * handler sees them. Compression runs on the loop thread; what a socket
   * keeps is its windows (see PerMessageDeflateOptions).
   */
  readonly perMessageDeflate?: boolean | PerMessageDeflateOptions;
  /**
   * Bytes a socket may have queued for sending before send() and publish()
   * drop messages to it (default 1 MiB, MAX_BACKPRESSURE_DEFAULT). The
   * policy: a message is dropped (send() returns SEND_DROPPED) when the
   * queue already holds `maxBackpressure` bytes or more, as uWS.js does;
   * so a socket's queue never exceeds maxBackpressure plus one message.
   * With `closeOnBackpressureLimit` the socket is closed instead.
   */
  readonly maxBackpressure?: number;
  /** Close the socket (abruptly: its reader is not reading) instead of dropping a message at maxBackpressure (default false). */
  readonly closeOnBackpressureLimit?: boolean;
  /**
   * Milliseconds to wait for the peer's answer to our close frame (and
   * then for its FIN) before the connection is destroyed (default 5000,
   * CLOSE_TIMEOUT_MS_DEFAULT).
   */
  readonly closeTimeoutMs?: number;
  /**
   * The heartbeat of a socket whose connection has no idle timeout of its
   * own (a hub in an HTTP server without `idleTimeoutMs`, a socket of
   * serve()): a ping after this many milliseconds without traffic, and the
   * connection destroyed after as long again with nothing received
   * (default 0: none). Where the connection has an idle timeout
   * (createWebSocketServer's `idleTimeoutMs`, a client's), that one is the
   * heartbeat and this is not used.
   */
  readonly idleTimeoutMs?: number;
  /**
   * A socket's handler failed (threw or rejected; its socket is closed
   * with 1011), or an upgrade handler failed (`ws` null). Counted in the
   * reactor's `stats.handlerErrors`. Without it the reactor's onError gets
   * the error (logged by default).
   */
  readonly onError?: (error: Error, ws: WebSocket<T> | null) => void;
}

/** The default `maxBackpressure`: 1 MiB queued before messages are dropped. */
export const MAX_BACKPRESSURE_DEFAULT = 1024 * 1024;
/** The default `closeTimeoutMs`: how long a closing handshake may take. */
export const CLOSE_TIMEOUT_MS_DEFAULT = 5000;

/** WebSocketOptions checked, defaults filled in. */
export interface ResolvedWebSocketOptions<T> {
  readonly maxPayloadLength: number;
  /** null: permessage-deflate off. */
  readonly perMessageDeflate: ResolvedDeflateOptions | null;
  readonly maxBackpressure: number;
  readonly closeOnBackpressureLimit: boolean;
  readonly closeTimeoutMs: number;
  /** 0: no heartbeat of the socket's own. */
  readonly idleTimeoutMs: number;
  readonly onError: ((error: Error, ws: WebSocket<T> | null) => void) | undefined;
}

/**
 * Checks a behavior object (each handler a function when present).
 * @throws TypeError `ERR_INVALID_ARG_TYPE` when it is not an object or a handler is not a function.
 */
export function checkBehavior<T>(name: string, behavior: WebSocketBehavior<T>): WebSocketBehavior<T> {
  handlerObject(name, behavior);
  handlerMethods(name, behavior, BEHAVIOR_METHODS);
  return behavior;
}

/**
 * Checks the socket options of `options` (other keys are ignored) for
 * sockets of `role` (the window ranges of permessage-deflate differ).
 * @throws TypeError `ERR_INVALID_ARG_TYPE` for a wrong type; RangeError `ERR_OUT_OF_RANGE` for a number out of range.
 */
export function resolveWebSocketOptions<T>(options: WebSocketOptions<T>, prefix: string, role: WebSocketRole): ResolvedWebSocketOptions<T> {
  return {
    maxPayloadLength: integerOption(`${prefix}.maxPayloadLength`, options.maxPayloadLength, MESSAGE_SIZE_MAX, 1, Number.MAX_SAFE_INTEGER),
    perMessageDeflate: resolveDeflateOptions(`${prefix}.perMessageDeflate`, options.perMessageDeflate, role),
    maxBackpressure: integerOption(`${prefix}.maxBackpressure`, options.maxBackpressure, MAX_BACKPRESSURE_DEFAULT, 1, Number.MAX_SAFE_INTEGER),
    closeOnBackpressureLimit: booleanOption(`${prefix}.closeOnBackpressureLimit`, options.closeOnBackpressureLimit, false),
    closeTimeoutMs: integerOption(`${prefix}.closeTimeoutMs`, options.closeTimeoutMs, CLOSE_TIMEOUT_MS_DEFAULT, 1, TIMEOUT_MS_MAX),
    idleTimeoutMs: integerOption(`${prefix}.idleTimeoutMs`, options.idleTimeoutMs, 0, 0, TIMEOUT_MS_MAX),
    onError: optionalFunction(`${prefix}.onError`, options.onError),
  };
}
