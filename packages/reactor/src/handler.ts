/**
 * What the owner of a connection provides: the handler (plain functions, no
 * EventEmitter on the hot path) and the per-connection options.
 */
import type { Connection } from './connection.js';
import type { Core } from './core.js';
import { callSafely } from './safe-call.js';
import { booleanOption, handlerMethods, handlerObject, integerOption, integerOrInfinityOption } from './validate.js';

/**
 * What a handler call may return: anything. A promise (any thenable) is
 * watched: its rejection fails that connection like a throw does. Other
 * values are ignored, so `(c, d) => c.write(d)` is a valid handler.
 */
export type HandlerResult = unknown;

/**
 * What the owner of a connection is told. Plain functions; no EventEmitter
 * on the hot path. A handler may be a plain object or a class instance (its
 * prototype methods are used as given).
 *
 * The contract: a handler that throws, or returns a promise that rejects,
 * costs its own connection and nothing else. The connection is destroyed,
 * the error reaches `onError` (else the server's `onError`, else the
 * reactor's, which logs by default) and `stats.handlerErrors` counts it.
 */
export interface ConnectionHandler {
  /**
   * The connection is open (accepted, connected, or handed over by a
   * pool): the first call this handler gets for it. It may write at once.
   */
  onOpen?(connection: Connection): HandlerResult;
  /**
   * `data` is a Buffer view of pooled memory, valid until this call
   * returns (not across an `await`): the memory then reads the next
   * bytes, of this or another connection. `connection.lease(data)` keeps
   * it; `Buffer.from(data)` copies it. `data.slice()` and `subarray()` are
   * views of the same memory, not copies. Passing `data` to `write()` is
   * safe: a queued pooled view holds its chunk until written.
   */
  onData?(connection: Connection, data: Buffer): HandlerResult;
  /** The write queue emptied after write() returned false. */
  onDrain?(connection: Connection): HandlerResult;
  /** The peer finished sending (read returned 0). */
  onEnd?(connection: Connection): HandlerResult;
  /**
   * The peer's FIN arrived while reading was paused (pause(), or forward()
   * waiting for a drain): bytes it sent before may still be unread, and
   * onEnd follows once reading resumes and reaches them. Told once. A
   * paused connection still watches for this, so a peer that left is
   * noticed without reading (an HTTP response still being computed).
   */
  onHangUp?(connection: Connection): HandlerResult;
  /**
   * A system-call error (`code` 'ECONNRESET', ...) or a handler's own
   * failure, just before onClose. A throw from here is reported to the
   * reactor's onError.
   */
  onError?(connection: Connection, error: Error): void;
  /** The idle timeout passed; without this handler the connection is destroyed. */
  onTimeout?(connection: Connection): HandlerResult;
  /**
   * The server is closing (Server.close()). A protocol layer answers what it
   * has already received, then calls end(). Without this handler the server
   * calls closeGracefully(): queued bytes go out, later input is dropped.
   */
  onServerClose?(connection: Connection): void;
  /** Always last; no callback follows. `error` is set when it closed on one. */
  onClose?(connection: Connection, error?: Error): void;
}

/**
 * Internal to zepoll's own protocol layers (not exported from the package):
 * a handler with this method gets each read as the pool chunk and the
 * number of bytes read into it, valid during the call only, in place of
 * onData's view. No object is made per read.
 */
export const ON_BYTES: unique symbol = Symbol('zepoll.onBytes');

/** A handler that takes its reads through ON_BYTES. */
export interface BytesReceiver {
  [ON_BYTES](connection: Connection, bytes: Buffer, length: number): void;
}

/** The handler methods a connection calls; each, when present, must be a function. */
export const HANDLER_METHODS = ['onOpen', 'onData', 'onDrain', 'onEnd', 'onHangUp', 'onError', 'onTimeout', 'onServerClose', 'onClose'] as const;

/**
 * Per-connection options: of a Server (for each connection it accepts)
 * or of connect(). Each is checked where it is given.
 */
export interface ConnectionOptions {
  /** Queued bytes above which write() returns false (default 64 KiB). */
  readonly highWaterMark?: number;
  /** Queued bytes at which the connection is destroyed: its peer does not read (default 16 MiB). */
  readonly maxQueuedBytes?: number;
  /** Milliseconds without traffic before onTimeout (0, the default: never). A floor, never early. */
  readonly idleTimeoutMs?: number;
  /** Keep writing after the peer ended (default false: end() follows the peer's end). */
  readonly allowHalfOpen?: boolean;
}

/** The default `highWaterMark`: 64 KiB queued before write() returns false. */
export const HIGH_WATER_MARK_DEFAULT = 64 * 1024;
/** The default `maxQueuedBytes`: 16 MiB queued before the connection is destroyed. */
export const MAX_QUEUED_BYTES_DEFAULT = 16 * 1024 * 1024;
/** setTimeout's bound: a longer timeout is a mistake, not a wish. */
export const TIMEOUT_MS_MAX = 2 ** 31 - 1;

/** ConnectionOptions with every default filled in and every value checked. */
export interface ResolvedConnectionOptions {
  readonly highWaterMark: number;
  readonly maxQueuedBytes: number;
  readonly idleTimeoutMs: number;
  readonly allowHalfOpen: boolean;
}

/**
 * Checks connection options once, where a server or connect() is made:
 * a wrong value throws there, not in a later turn.
 */
export function resolveConnectionOptions(options: ConnectionOptions, prefix = 'options'): ResolvedConnectionOptions {
  return {
    highWaterMark: integerOption(`${prefix}.highWaterMark`, options.highWaterMark, HIGH_WATER_MARK_DEFAULT, 0, Number.MAX_SAFE_INTEGER),
    maxQueuedBytes: integerOrInfinityOption(`${prefix}.maxQueuedBytes`, options.maxQueuedBytes, MAX_QUEUED_BYTES_DEFAULT, 1),
    idleTimeoutMs: integerOption(`${prefix}.idleTimeoutMs`, options.idleTimeoutMs, 0, 0, TIMEOUT_MS_MAX),
    allowHalfOpen: booleanOption(`${prefix}.allowHalfOpen`, options.allowHalfOpen, false),
  };
}

/** A handler object whose methods, where present, are functions. */
export function checkHandler<T extends object>(name: string, handler: T): T {
  handlerObject(name, handler);
  handlerMethods(name, handler, HANDLER_METHODS);
  return handler;
}


/** Where a connection's error goes when its handler has no onError (a server's onError). */
export type ErrorFallback = (error: Error, connection: Connection) => void;

/** The error goes to the handler's onError, else the owner's, else (a handler's own failure) the reactor's. */
export function routeError(connection: Connection, error: Error, handlerFailed: boolean, core: Core): void {
  const handler = connection.handler;
  if (handler.onError !== undefined) callSafely(handler.onError, handler, connection, error, core.reportLate);
  else if (connection.errorFallback !== null) callSafely(connection.errorFallback, null, error, connection, core.reportLate);
  else if (handlerFailed) core.reportUnhandled(error, true);
}
