/**
 * A listening socket on a reactor: accepts in batches, applies the
 * connection limit, backs off on EMFILE/ENFILE instead of spinning, and
 * closes gracefully (stop accepting, let queued writes finish, force-close
 * after a timeout).
 */
import { binding, constants } from './native.js';
import { ACCEPT_BATCH_MAX } from './limits.js';
import { errnoError, ZepollError } from './errors.js';
import { listenTcp, type ListenOptions, type Listener } from './sockets.js';
import { Connection, type ConnectionHandler, type ConnectionOptions } from './connection.js';
import type { Pollable, Reactor } from './reactor.js';

const EAGAIN = -11;
const EMFILE = -24;
const ENFILE = -23;
/** Errors of one accepted connection (it died in the backlog): skip it, keep accepting. */
const ACCEPT_TRANSIENT = new Set([-103 /* ECONNABORTED */, -71 /* EPROTO */, -4 /* EINTR */, -105 /* ENOBUFS */, -12 /* ENOMEM */]);

export interface ServerOptions extends ConnectionOptions, ListenOptions {
  /** Most open connections; further ones are accepted and closed at once (default Infinity). */
  readonly maxConnections?: number;
  /** TCP_NODELAY on accepted sockets (default true: responses are small and latency matters). */
  readonly noDelay?: boolean;
  /** Pause before accepting again after EMFILE/ENFILE (default 100 ms). */
  readonly acceptBackoffMs?: number;
  /** Connections accepted per turn (default 64, at most ACCEPT_BATCH_MAX). */
  readonly acceptBatch?: number;
}

export interface ServerStats {
  readonly accepted: number;
  readonly rejected: number;
  readonly acceptBackoffs: number;
  readonly acceptErrors: number;
}

export const ACCEPT_BACKOFF_MS_DEFAULT = 100;
export const ACCEPT_BATCH_DEFAULT = 64;
export const CLOSE_TIMEOUT_MS_DEFAULT = 5000;

export class Server implements Pollable {
  readonly reactor: Reactor;
  readonly handler: ConnectionHandler;
  readonly listener: Listener;
  readonly fd: number;
  generation: number;
  readonly connections: Set<Connection>;
  private readonly options: ServerOptions;
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
  private readonly connectionHandler: ConnectionHandler;

  constructor(reactor: Reactor, handler: ConnectionHandler, options: ServerOptions = {}) {
    this.reactor = reactor;
    this.handler = handler;
    this.options = options;
    this.maxConnections = options.maxConnections ?? Infinity;
    this.acceptBackoffMs = options.acceptBackoffMs ?? ACCEPT_BACKOFF_MS_DEFAULT;
    const batch = options.acceptBatch ?? ACCEPT_BATCH_DEFAULT;
    if (!Number.isInteger(batch) || batch < 1 || batch > ACCEPT_BATCH_MAX) {
      throw new ZepollError('ERR_OUT_OF_RANGE', `acceptBatch must be an integer from 1 to ${ACCEPT_BATCH_MAX}, received ${batch}`);
    }
    this.acceptBuffer = new Int32Array(batch);
    this.connections = new Set();
    this.generation = 0;
    this.accepting = true;
    this.listening = true;
    this.backoffTimer = null;
    this.closing = null;
    this.closedResolve = null;
    this.acceptedCount = 0;
    this.rejectedCount = 0;
    this.backoffCount = 0;
    this.acceptErrorCount = 0;
    // The server sees every close, to keep its set and finish a graceful close.
    this.connectionHandler = {
      ...handler,
      onClose: (connection, error) => {
        this.connections.delete(connection);
        handler.onClose?.(connection, error);
        if (this.connections.size === 0 && this.closedResolve !== null) this.closedResolve();
      },
    };
    this.listener = listenTcp(options);
    this.fd = this.listener.fd;
    try {
      reactor.register(this, constants.EPOLLIN);
    } catch (error) {
      binding.close(this.fd);
      throw error;
    }
  }

  get port(): number {
    return this.listener.port;
  }

  get stats(): ServerStats {
    return { accepted: this.acceptedCount, rejected: this.rejectedCount, acceptBackoffs: this.backoffCount, acceptErrors: this.acceptErrorCount };
  }

  handleEvent(): void {
    if (!this.accepting) return;
    const reactor = this.reactor;
    const accepted = this.acceptBuffer;
    const rc = reactor.poller.accept(this.fd, accepted);
    if (rc < 0) {
      if (rc === EAGAIN) return;
      if (rc === EMFILE || rc === ENFILE) {
        this.backOff();
        return;
      }
      if (ACCEPT_TRANSIENT.has(rc)) {
        this.acceptErrorCount += 1;
        return; // level-triggered listener: the rest of the backlog is reported again
      }
      throw errnoError(rc, 'accept4', this.fd);
    }
    reactor.progress();
    for (let index = 0; index < rc; index += 1) this.adopt(accepted[index]!);
  }

  /** A handler threw inside onOpen; the connection was destroyed, nothing else to undo. */
  fail(error: unknown): void {
    if (error instanceof ZepollError && error.code === 'ERR_ZEPOLL_REACTOR_CLOSED') {
      this.stopListening();
      return;
    }
    process.nextTick(() => {
      throw error;
    });
  }

  /**
   * Stops accepting, ends every connection once its queued writes are out,
   * and destroys those still open after `timeoutMs`. Resolves when all are closed.
   */
  close(timeoutMs: number = CLOSE_TIMEOUT_MS_DEFAULT): Promise<void> {
    if (this.closing !== null) return this.closing;
    this.stopListening();
    this.closing = new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        for (const connection of [...this.connections]) {
          connection.destroy(new ZepollError('ERR_ZEPOLL_SERVER_CLOSED', `still open ${timeoutMs} ms after close()`));
        }
      }, timeoutMs);
      this.closedResolve = (): void => {
        clearTimeout(timer);
        resolve();
      };
      if (this.connections.size === 0) this.closedResolve();
      for (const connection of [...this.connections]) {
        if (connection.handler.onServerClose !== undefined) connection.handler.onServerClose(connection);
        else connection.closeGracefully();
      }
    });
    return this.closing;
  }

  private adopt(fd: number): void {
    const reactor = this.reactor;
    this.acceptedCount += 1;
    if (this.connections.size >= this.maxConnections) {
      this.rejectedCount += 1;
      reactor.closeFd(fd);
      return;
    }
    if (this.options.noDelay ?? true) binding.setOption(fd, constants.OPTION_NO_DELAY, 1);
    const connection = new Connection(reactor, fd, this.connectionHandler, this.options);
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
      connection.fail(error); // onOpen threw: reported like any handler error, the listener goes on
    }
  }

  /**
   * Out of fds: a level-triggered listener with a backlog would report
   * readable forever, so it leaves the interest list for a while.
   */
  private backOff(): void {
    this.backoffCount += 1;
    this.reactor.acceptBackoffs += 1;
    this.accepting = false;
    this.reactor.modify(this, 0);
    this.backoffTimer = setTimeout(() => {
      this.backoffTimer = null;
      if (!this.listening || this.reactor.isClosed) return;
      this.accepting = true;
      this.reactor.modify(this, constants.EPOLLIN);
    }, this.acceptBackoffMs);
  }

  private stopListening(): void {
    if (this.backoffTimer !== null) clearTimeout(this.backoffTimer);
    this.backoffTimer = null;
    if (!this.listening) return;
    this.listening = false;
    this.accepting = false;
    this.reactor.unregister(this);
    this.reactor.closeFd(this.fd);
  }
}
