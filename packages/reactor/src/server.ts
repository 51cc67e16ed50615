/**
 * A listening socket on a reactor: accepts in batches, applies the
 * connection limit, backs off on EMFILE/ENFILE instead of spinning, and
 * closes gracefully (stop accepting, let queued writes finish, force-close
 * after a timeout).
 */
import { ACCEPT_BATCH_MAX } from './limits.js';
import { asError, errnoError, invalidArgType, ZepollError } from './errors.js';
import { callSafely } from './safe-call.js';
import { EAGAIN, ECONNABORTED, EINTR, EMFILE, ENFILE, ENOBUFS, ENOMEM, EPROTO } from './errno.js';
import { listenTcp, noDelayOn, type ListenOptions, type Listener } from './backend/sockets.js';
import { Connection, type ConnectionHandler, type ConnectionOptions } from './connection.js';
import { checkHandler, resolveConnectionOptions, TIMEOUT_MS_MAX, type ResolvedConnectionOptions } from './handler.js';
import { Reactor } from './reactor.js';
import { coreOf, type Core } from './core.js';
import type { Owner, OwnerSlot } from './backend/backend.js';
import { booleanOption, integerOption, integerOrInfinityOption, optionalFunction, optionsObject } from './validate.js';

/** Errors of one accepted connection (it died in the backlog), or of the moment: skip it, keep accepting. */
const ACCEPT_TRANSIENT = new Set([ECONNABORTED, EPROTO, EINTR, ENOBUFS, ENOMEM]);

/**
 * Options of `new Server()`: where to listen (ListenOptions), the options
 * of each connection it accepts (ConnectionOptions) and the server's own.
 * The constructor checks every one.
 */
export interface ServerOptions extends ConnectionOptions, ListenOptions {
  /** Most open connections; further ones are accepted and closed at once (default Infinity). */
  readonly maxConnections?: number;
  /** TCP_NODELAY on accepted sockets (default true: responses are small and latency matters). */
  readonly noDelay?: boolean;
  /** Pause before accepting again after EMFILE/ENFILE (default 100 ms). */
  readonly acceptBackoffMs?: number;
  /** Connections accepted per turn (default 64, at most ACCEPT_BATCH_MAX). */
  readonly acceptBatch?: number;
  /**
   * Errors of this server's connections whose handler has no onError (a
   * handler's throw or rejection, a reset), and accept errors the server
   * cannot skip (with `connection` null). Without it, a handler's failure
   * goes to the reactor's onError (logged by default) and a peer's system
   * error only closes its connection.
   */
  readonly onError?: (error: Error, connection: Connection | null) => void;
}

/** A server's counters, from `server.stats` (a new object per read). */
export interface ServerStats {
  /** Connections accepted since the server began, rejected ones included. */
  readonly accepted: number;
  /** Connections closed as soon as accepted because `maxConnections` were open. */
  readonly rejected: number;
  /** Times the server stopped accepting for `acceptBackoffMs` because the process ran out of fds (EMFILE/ENFILE). */
  readonly acceptBackoffs: number;
  /**
   * Accept errors: transient ones skipped (a connection that died in the
   * backlog, ENOBUFS, ...), connections epoll refused, and errors the server
   * could not skip (reported to onError; the server then backs off).
   */
  readonly acceptErrors: number;
  /**
   * Connections `close()` destroyed at its timeout, with whatever they were
   * still doing (each also got ERR_ZEPOLL_SERVER_CLOSED): what a graceful
   * close could not finish in time.
   */
  readonly closeCut: number;
}

/** The default `acceptBackoffMs`: 100 ms without accepting after EMFILE/ENFILE. */
export const ACCEPT_BACKOFF_MS_DEFAULT = 100;
/** The default `acceptBatch`: 64 connections accepted per turn. */
export const ACCEPT_BATCH_DEFAULT = 64;
/** The default timeout of `server.close()`: 5000 ms before connections still open are destroyed. */
export const CLOSE_TIMEOUT_MS_DEFAULT = 5000;

/**
 * A listening TCP socket on a reactor. It accepts connections in batches,
 * gives each the same handler and connection options, closes those over
 * `maxConnections` at once, backs off when the process runs out of fds, and
 * closes gracefully with `close()`.
 */
// No `implements Owner`: Owner is internal (stripped from the published
// types with its members); the structure is checked below instead.
export class Server {
  /** The reactor the server is registered with. */
  readonly reactor: Reactor;
  /** The handler every accepted connection is given (one object, shared by all). */
  readonly handler: ConnectionHandler;
  /** The listening socket: its fd, the host bound and the port. */
  readonly listener: Listener;
  /** The listening socket's fd. */
  readonly fd: number;
  /**
   * The backend's record of the listener (Owner), set at registration: not part of the public API.
   * @internal
   */
  slot: OwnerSlot | null;
  /**
   * The server's open connections (accepted, not yet closed), kept up to
   * date by the server: read it, do not change it.
   */
  readonly connections: Set<Connection>;
  private readonly core: Core;
  private readonly connectionOptions: ResolvedConnectionOptions;
  private readonly noDelay: boolean;
  private readonly onError: ((error: Error, connection: Connection | null) => void) | undefined;
  private readonly maxConnections: number;
  private readonly acceptBackoffMs: number;
  private readonly acceptBuffer: Int32Array;
  private accepting: boolean;
  private listening: boolean;
  private backoffTimer: NodeJS.Timeout | null;
  private closing: Promise<void> | null;
  private closedResolve: (() => void) | null;
  private acceptedCount: number;
  private rejectedCount: number;
  private backoffCount: number;
  private acceptErrorCount: number;
  private closeCutCount: number;
  private readonly onConnectionClosed: (connection: Connection) => void;
  private readonly connectionFailed: (error: Error, connection: Connection) => void;

  /**
   * Listens at once (127.0.0.1 and a free port unless told otherwise).
   * Every argument and option is checked before the socket is opened.
   * @throws TypeError/RangeError with a `code` for a bad argument or option,
   *   a ZepollSystemError (`listen EADDRINUSE: address already in use
   *   127.0.0.1:8080`) when the address cannot be bound.
   * @throws TypeError `ERR_INVALID_ARG_TYPE` when `reactor` is not a Reactor,
   *   `handler` is not an object or one of its methods not a function, or an
   *   option has the wrong type; `ERR_INVALID_ARG_VALUE` when `host` is not
   *   an IPv4 or IPv6 literal (or 'localhost').
   * @throws RangeError `ERR_OUT_OF_RANGE` for a number out of range (a port,
   *   `acceptBatch`, `acceptBackoffMs`, `idleTimeoutMs`, ...).
   * @throws ZepollError `ERR_ZEPOLL_REACTOR_CLOSED` when the reactor is
   *   closed (the socket is closed again).
   */
  constructor(reactor: Reactor, handler: ConnectionHandler, serverOptions?: ServerOptions) {
    if (!(reactor instanceof Reactor)) throw invalidArgType('reactor', 'an instance of Reactor', reactor);
    checkHandler('handler', handler);
    const options = optionsObject('options', serverOptions);
    this.reactor = reactor;
    this.core = coreOf(reactor);
    this.handler = handler;
    this.connectionOptions = resolveConnectionOptions(options);
    this.noDelay = booleanOption('options.noDelay', options.noDelay, true);
    this.onError = optionalFunction('options.onError', options.onError);
    this.maxConnections = integerOrInfinityOption('options.maxConnections', options.maxConnections, Infinity, 0);
    this.acceptBackoffMs = integerOption('options.acceptBackoffMs', options.acceptBackoffMs, ACCEPT_BACKOFF_MS_DEFAULT, 1, TIMEOUT_MS_MAX);
    const batch = integerOption('options.acceptBatch', options.acceptBatch, ACCEPT_BATCH_DEFAULT, 1, ACCEPT_BATCH_MAX);
    this.acceptBuffer = new Int32Array(batch);
    this.connections = new Set();
    this.slot = null;
    this.accepting = true;
    this.listening = true;
    this.backoffTimer = null;
    this.closing = null;
    this.closedResolve = null;
    this.acceptedCount = 0;
    this.rejectedCount = 0;
    this.backoffCount = 0;
    this.acceptErrorCount = 0;
    this.closeCutCount = 0;
    // The server sees every close (after the handler's onClose), to keep
    // its set and finish a graceful close; the handler is used as given.
    this.onConnectionClosed = (connection): void => {
      this.connections.delete(connection);
      if (this.connections.size === 0 && this.closedResolve !== null) this.closedResolve();
    };
    const onError = this.onError;
    this.connectionFailed = (error, connection): void => onError!(error, connection);
    this.listener = listenTcp(options);
    this.fd = this.listener.fd;
    try {
      this.core.open(this, 'listener');
    } catch (error) {
      this.core.backend.closeFd(this.fd);
      throw error;
    }
  }

  /** The port listened on: the one the kernel picked when `port` was 0 or not given. */
  get port(): number {
    return this.listener.port;
  }

  /** A snapshot of the server's counters (a new object per read). */
  get stats(): ServerStats {
    return { accepted: this.acceptedCount, rejected: this.rejectedCount, acceptBackoffs: this.backoffCount, acceptErrors: this.acceptErrorCount, closeCut: this.closeCutCount };
  }

  /**
   * The listener is readable: accepts a batch (the backend's call, Owner).
   * @internal
   */
  ready(): void {
    if (!this.accepting) return;
    const accepted = this.acceptBuffer;
    const rc = this.core.backend.accept(this.fd, accepted);
    if (rc < 0) {
      if (rc !== EAGAIN) this.acceptFailed(rc); // level-triggered listener: the rest of the backlog is reported again
      return;
    }
    this.core.progress();
    for (let index = 0; index < rc; index += 1) this.adopt(accepted[index]!);
  }

  /**
   * The backend accepted for it: `result` is a new connection's fd (owned,
   * non-blocking) or the errno accept4 would have answered (the backend's
   * call, Owner).
   * @internal
   */
  accepted(result: number): void {
    if (result >= 0) {
      if (!this.accepting) {
        this.core.backend.closeFd(result); // accepted while backing off or closing
        return;
      }
      this.core.progress();
      this.adopt(result);
      return;
    }
    if ((result === EMFILE || result === ENFILE) && !this.accepting) return; // backing off already
    this.acceptFailed(result); // a transient error: the backend arms the accept again after this batch
  }

  /** accept4 failed (readiness or a completion): out of fds backs off, a transient error is counted, anything else throws. */
  private acceptFailed(rc: number): void {
    if (rc === EMFILE || rc === ENFILE) {
      this.backOff();
      return;
    }
    if (ACCEPT_TRANSIENT.has(rc)) {
      this.acceptErrorCount += 1;
      return;
    }
    throw errnoError(rc, 'accept4', this.fd);
  }

  /**
   * The reactor closed, or accept4 failed with an errno the server cannot
   * skip (EBADF, EINVAL...): reported to onError (or the reactor's), and
   * the listener backs off instead of spinning on it. Never rethrown.
   * @internal
   */
  fail(error: unknown): void {
    if (error instanceof ZepollError && error.code === 'ERR_ZEPOLL_REACTOR_CLOSED') {
      this.stopListening();
      return;
    }
    this.acceptErrorCount += 1;
    if (this.onError !== undefined) {
      callSafely(this.onError, null, asError(error), null, this.core.reportLate);
    } else {
      this.core.reportUnhandled(error, true);
    }
    if (this.listening && this.accepting) this.backOff();
  }

  /**
   * Stops accepting, ends every connection once its queued writes are out,
   * and destroys those still open after `timeoutMs`. Resolves when all are closed.
   * A connection whose handler has onServerClose is told through it
   * instead (to answer what it has read, then end()). `timeoutMs` is in
   * milliseconds (default 5000); connections destroyed then get
   * `ERR_ZEPOLL_SERVER_CLOSED`. Calling it again returns the same promise.
   */
  close(timeoutMs: number = CLOSE_TIMEOUT_MS_DEFAULT): Promise<void> {
    if (this.closing !== null) return this.closing;
    this.stopListening();
    this.closing = new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        for (const connection of [...this.connections]) {
          this.closeCutCount += 1;
          connection.destroy(new ZepollError('ERR_ZEPOLL_SERVER_CLOSED', `still open ${timeoutMs} ms after close()`));
        }
      }, timeoutMs);
      this.closedResolve = (): void => {
        clearTimeout(timer);
        resolve();
      };
      if (this.connections.size === 0) this.closedResolve();
      for (const connection of [...this.connections]) {
        if (connection.handler.onServerClose === undefined) {
          connection.closeGracefully();
          continue;
        }
        // A throw or rejection fails that connection only; close() goes on for the others.
        callSafely(connection.handler.onServerClose, connection.handler, connection, undefined, connection.failLate);
      }
    });
    return this.closing;
  }

  private adopt(fd: number): void {
    this.acceptedCount += 1;
    if (this.connections.size >= this.maxConnections) {
      this.rejectedCount += 1;
      this.core.backend.closeFd(fd);
      return;
    }
    if (this.noDelay) noDelayOn(fd); // a socket already reset refuses it: its first read tells
    const connection = new Connection(this.reactor, fd, this.handler, this.connectionOptions);
    connection.closeListener = this.onConnectionClosed;
    if (this.onError !== undefined) connection.errorFallback = this.connectionFailed;
    this.connections.add(connection);
    try {
      connection.open();
    } catch (error) {
      if (!connection.opened) {
        // epoll_ctl refused it (ENOMEM, ENOSPC): closed already, no handler ran; the listener goes on.
        this.connections.delete(connection);
        this.acceptErrorCount += 1;
        return;
      }
      this.core.failOwner(connection, error); // onOpen threw: counted and reported like any handler error, the listener goes on
    }
  }

  /**
   * Out of fds: a level-triggered listener with a backlog would report
   * readable forever, so it leaves the interest list for a while.
   */
  private backOff(): void {
    this.backoffCount += 1;
    this.core.metrics.acceptBackoffs += 1;
    this.accepting = false;
    this.core.backend.setListening(this, false);
    this.backoffTimer = setTimeout(() => {
      this.backoffTimer = null;
      if (!this.listening || this.reactor.isClosed) return;
      this.accepting = true;
      this.core.backend.setListening(this, true);
    }, this.acceptBackoffMs);
  }

  private stopListening(): void {
    if (this.backoffTimer !== null) clearTimeout(this.backoffTimer);
    this.backoffTimer = null;
    if (!this.listening) return;
    this.listening = false;
    this.accepting = false;
    this.core.backend.release(this);
  }
}

// Server plays the Owner role for its backend: checked here, since the class cannot name an internal interface.
void (true satisfies Server extends Owner ? true : never);
