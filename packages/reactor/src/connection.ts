/**
 * A connection as its users and protocol layers see it: the lifecycle
 * (open, half-close, idle, destroy, exactly one close, the handler's
 * failures) and the public API. What the backend, the scheduler and the
 * turn loop call on it is its Registration's (registration.ts), which
 * turns events into read turns, flushes and handler calls; reading is its
 * Reader's (reader.ts), the write side its Writer's (writer.ts), what the
 * kernel is asked the backend's (backend/). No line here names the mode.
 * A view passed to `write()` must not change until written (as with Node's
 * socket.write); pooled views are held for you.
 */
import { asError, invalidArgValue, ZepollError } from './errors.js';
import type { Writer } from './writer.js';
import type { WriteData } from './write-arguments.js';
import type { Reactor } from './reactor.js';
import { coreOf, type Core, type IdleTracked, type Served } from './core.js';
import type { Reader } from './reader.js';
import { Lease } from './buffer-pool.js';
import { peerAddress, localAddress, type SocketAddress } from './backend/address.js';
import { callSafely } from './safe-call.js';
import { Registration, watch } from './registration.js';
import { HIGH_WATER_MARK_DEFAULT, MAX_QUEUED_BYTES_DEFAULT, routeError, type ConnectionHandler, type ConnectionOptions, type ErrorFallback } from './handler.js';

export type { ConnectionHandler, ConnectionOptions, ErrorFallback } from './handler.js';
export type { WriteData } from './write-arguments.js';

/**
 * A TCP connection (or another stream socket) registered with a reactor:
 * accepted by a Server, made by connect() or lent by a ConnectionPool. Its
 * handler is told what happens to it; write(), end() and destroy() act on
 * it. The `data` onData gets is a pooled view, valid until the handler
 * returns unless leased (lease()) or copied.
 */
// No `implements` clause: IdleTracked and Served are internal (stripped
// from the published types with their members), so a published clause
// would name members users cannot see. The structure is checked below.
export class Connection {
  /** The socket's fd, owned by zepoll and closed with the connection. */
  readonly fd: number;
  /** The reactor the connection is registered with. */
  readonly reactor: Reactor;
  /** Replaceable (an outbound pool hands a connection from one user to the next). */
  handler: ConnectionHandler;
  /** Queued bytes from which write() returns false (the `highWaterMark` option). */
  readonly highWaterMark: number;
  /**
   * Queued bytes beyond which the connection is destroyed with
   * `ERR_ZEPOLL_WRITE_QUEUE_FULL`: its peer does not read (the `maxQueuedBytes` option).
   */
  readonly maxQueuedBytes: number;
  /** Milliseconds without traffic before onTimeout; 0 never times out (the `idleTimeoutMs` option). */
  readonly idleTimeoutMs: number;
  /** Writing may go on after the peer ended; false ends this side too (the `allowHalfOpen` option). */
  readonly allowHalfOpen: boolean;
  /**
   * Relayed: the peer's FIN does not end this side (the relay passes it on).
   * @internal
   */
  relayHalfOpen: boolean;
  /**
   * When bytes last moved in or out, in `performance.now()` milliseconds:
   * the idle timeout counts from it.
   */
  lastActivity: number;
  /** Bytes read from this connection (bytes a relay splices are not counted). */
  bytesIn: number;
  /** Bytes written to this connection, taken by the kernel (bytes a relay splices are not counted). */
  bytesOut: number;
  /** Free for the owner (protocol state): set once here so the shape never changes. */
  context: unknown;
  /** Runs on writability when no queued bytes are waiting (a relay draining its pipe). */
  writableHook: (() => void) | null;
  /** Registered and handed to onOpen at some point (false when epoll_ctl refused it in open()). Read-only outside. */
  opened: boolean;
  /** Set by the owner (a server's onError) before open(); used when the handler has no onError. */
  errorFallback: ErrorFallback | null;
  /** Set by the owner (a server keeping its set) before open(): runs after onClose. */
  closeListener: ((connection: Connection) => void) | null;
  private closed: boolean;
  private readonly core: Core;
  /**
   * The owner its backend holds, which everything below the connection calls (registration.ts).
   * @internal
   */
  readonly registration: Registration;
  /**
   * Its reading (quota, chunks, pause); a relay sets `reader.hook` to splice instead.
   * @internal
   */
  readonly reader: Reader;
  private readonly writer: Writer;
  /**
   * What a rejected promise or a late throw of a handler calls: made the
   * first time it is needed, then kept (not per call; and not per
   * connection, most of which never need one).
   */
  private onRejected: ((error: unknown) => void) | null;

  /**
   * Wraps `fd`, a connected stream socket zepoll owns, for `handler`;
   * nothing is registered until open(). Servers, connect() and
   * ConnectionPool make connections; an fd of your own (socketPair(), or
   * one handed over with adoptFd()) can be wrapped too. `options` are used
   * as given, not checked: a missing one takes its default.
   */
  constructor(reactor: Reactor, fd: number, handler: ConnectionHandler, options: ConnectionOptions = {}) {
    const core = coreOf(reactor);
    this.fd = fd;
    this.reactor = reactor;
    this.handler = handler;
    this.highWaterMark = options.highWaterMark ?? HIGH_WATER_MARK_DEFAULT;
    this.maxQueuedBytes = options.maxQueuedBytes ?? MAX_QUEUED_BYTES_DEFAULT;
    this.idleTimeoutMs = options.idleTimeoutMs ?? 0;
    this.allowHalfOpen = options.allowHalfOpen ?? false;
    this.relayHalfOpen = false;
    this.lastActivity = core.now;
    this.bytesIn = 0;
    this.bytesOut = 0;
    this.context = undefined;
    this.writableHook = null;
    this.opened = false;
    this.errorFallback = null;
    this.closeListener = null;
    this.closed = false;
    this.core = core;
    const registration = new Registration(core, this);
    this.registration = registration;
    this.reader = registration.reader;
    this.writer = registration.writer;
    this.onRejected = null;
  }

  /** A handler's failure reported late (a rejected promise, a callback outside a turn): as onRejected. */
  get failLate(): (error: unknown) => void {
    return (this.onRejected ??= (error: unknown): void => {
      // Already closed: nothing to destroy and onClose came last, so the reactor's onError gets it.
      if (!this.closed) this.core.failOwner(this, error);
      else this.core.reportUnhandled(error, false);
    });
  }

  /**
   * Registers with the reactor and calls onOpen.
   * @throws ZepollError `ERR_ZEPOLL_REACTOR_CLOSED` when the reactor is
   *   closed, or a ZepollSystemError when epoll_ctl refuses the fd (ENOMEM,
   *   ENOSPC): the fd is closed then and no handler is called. A throw from
   *   onOpen is passed on too, the connection still open.
   */
  open(): void {
    const core = this.core;
    const metrics = core.metrics;
    metrics.connectionsTotal += 1;
    try {
      core.open(this.registration, 'stream');
    } catch (error) {
      // epoll_ctl refused it (ENOMEM, ENOSPC): closed before it opened, no
      // handler called, and the counters still balance (total = closed + open).
      this.closed = true;
      core.backend.closeFd(this.fd);
      metrics.connectionsClosed += 1;
      throw error;
    }
    metrics.connectionsOpen += 1;
    this.opened = true;
    if (this.idleTimeoutMs > 0) core.trackIdle(this);
    watch(this, this.handler.onOpen?.(this));
  }

  /**
   * Gives the connection to a new handler and runs its onOpen (an outbound
   * pool handing a connection to its next user). A throw or rejection of
   * onOpen fails this connection, as inside a turn.
   */
  handOver(handler: ConnectionHandler): void {
    this.handler = handler;
    callSafely(handler.onOpen ?? noop, handler, this, undefined, this.failLate);
  }

  /** True until the connection closes (destroy(), an error, or both sides done); still true while ending. */
  get isOpen(): boolean {
    return !this.closed;
  }

  /** Bytes accepted by write() and not yet taken by the kernel. */
  get queuedBytes(): number {
    return this.writer.bytes;
  }

  /**
   * The peer's address and port (getpeername), asked of the kernel on each call.
   * @throws ZepollSystemError when getpeername fails.
   */
  remoteAddress(): SocketAddress {
    return peerAddress(this.fd);
  }

  /**
   * This end's address and port (getsockname), asked of the kernel on each call.
   * @throws ZepollSystemError when getsockname fails.
   */
  localAddress(): SocketAddress {
    return localAddress(this.fd);
  }

  /**
   * Sends `data`: at once outside a turn; inside one, when the event being
   * handled is done (its writes to a connection go out in one writev). Returns false once the
   * queue is above the high-water mark; onDrain follows when it empties.
   * A queue over `maxQueuedBytes` (or the reactor's `maxQueuedBytesTotal`)
   * destroys the connection with `ERR_ZEPOLL_WRITE_QUEUE_FULL` instead, and
   * write() returns false. A pooled view (onData's `data`) may be passed:
   * it holds its chunk until written.
   * @throws TypeError `ERR_INVALID_ARG_TYPE` when `data` is not a string or bytes;
   *   `ERR_ZEPOLL_CONNECTION_CLOSED`/`ERR_ZEPOLL_WRITE_AFTER_END`. Nothing is queued then.
   *   In poison mode, `ERR_ZEPOLL_LEASE_RELEASED` for a pooled view kept past its onData.
   */
  write(data: WriteData): boolean {
    return this.writer.write(data);
  }

  /**
   * Sends several buffers as one write: they go out together (one writev),
   * in or outside a turn. Same return value and rules as write(); every
   * part is checked before the first is queued (all or nothing).
   * @throws TypeError `ERR_INVALID_ARG_TYPE` when `parts` is not an array or
   *   a part is not a string or bytes; the closed/ended errors of write().
   */
  writeMany(parts: readonly WriteData[]): boolean {
    return this.writer.writeMany(parts);
  }

  /**
   * Sends `length` bytes of the file `fileFd` from `offset` with sendfile,
   * in order with write(): the bytes never enter JavaScript. Resolves with
   * the bytes sent once all are with the kernel; rejects if the connection
   * closes first or the file is shorter than `length`. The fd stays yours.
   * @throws TypeError/RangeError (`ERR_INVALID_ARG_TYPE`, `ERR_OUT_OF_RANGE`)
   *   for a bad argument, and the closed/ended errors of write(), at once.
   */
  sendFile(fileFd: number, offset: number, length: number): Promise<number> {
    return this.writer.sendFile(fileFd, offset, length);
  }

  /** Asks for one writableHook call when the socket can take bytes again. */
  awaitWritable(): void {
    if (!this.closed) this.writer.arm();
  }

  /** Half-close: no more writes; the queue is flushed, then the write side is shut down. */
  end(): void {
    if (!this.closed) this.writer.end();
  }

  /**
   * For a server shutting down: what is queued goes out, then the write side
   * closes; bytes still arriving are dropped unread by the handler, and the
   * connection closes when the peer ends too.
   */
  closeGracefully(): void {
    this.reader.discard();
    this.end();
  }

  /**
   * Closes now: queued bytes are dropped. `error` goes to onError (or the
   * server's onError), then onClose. No callback follows onClose.
   */
  destroy(error?: Error): void {
    this.close(error, false);
  }

  private close(error: Error | undefined, handlerFailed: boolean): void {
    if (this.closed) return;
    this.closed = true;
    const core = this.core;
    const metrics = core.metrics;
    core.backend.release(this.registration);
    metrics.connectionsOpen -= 1;
    metrics.connectionsClosed += 1;
    if (this.idleTimeoutMs > 0) core.untrackIdle(this);
    this.writer.clear(error ?? new ZepollError('ERR_ZEPOLL_CONNECTION_CLOSED', 'the connection closed before the file was sent'));
    this.reader.release();
    this.writer.wakeDrainWaiters();
    if (error !== undefined) routeError(this, error, handlerFailed, core);
    // onClose runs whoever called destroy (a timer, a promise, another
    // connection's handler): its throw or rejection is reported, never passed up.
    const onClose = this.handler.onClose;
    if (onClose !== undefined) callSafely(onClose, this.handler, this, error, core.reportLate);
    this.closeListener?.(this);
  }

  /** Stops reading (backpressure from the owner); resume() starts again. */
  pause(): void {
    if (this.closed || this.reader.isPaused) return;
    this.reader.pause();
    this.registration.interestChanged();
  }

  /** Reads again after pause(); after the peer's FIN there is nothing to read. */
  resume(): void {
    if (this.closed) return;
    this.reader.resume();
  }

  /**
   * Pauses reading until `target` has drained its write queue (forward()
   * uses it). A target that closes wakes its waiters too.
   */
  pauseUntilDrained(target: Connection): void {
    if (this.closed || target.closed) return;
    this.pause();
    target.writer.waitForDrain(this);
  }

  /**
   * Keeps a pooled view (from onData, during that call) past its callback; release the lease when done.
   * `lease.bytes` is the view, valid until `lease.release()`; the chunk
   * stays out of the pool until then.
   * @throws TypeError `ERR_INVALID_ARG_VALUE` when `data` is not the view
   *   passed to onData, or onData has returned.
   */
  lease(data: Uint8Array): Lease {
    // Only during onData: after it, the chunk may hold another connection's bytes.
    const pool = this.core.pool;
    const chunk = pool.chunkOf(data);
    if (chunk < 0 || chunk !== this.reader.chunk) throw invalidArgValue('data', 'must be the view passed to onData, during that call', typeof data);
    pool.retain(chunk);
    return new Lease(pool, chunk, data);
  }

  /** end() was called: nothing more may be written. */
  get writableEnded(): boolean {
    return this.closed || this.writer.isEnded;
  }

  /**
   * The idle sweep's call to idleExpired() threw (onTimeout): as a handler throw.
   * @internal
   */
  expiryFailed(error: unknown): void {
    this.fail(error);
  }

  /**
   * A handler threw (or its promise rejected) while this connection was
   * served: the connection closes and the error is reported, never
   * rethrown. The caller has counted it (the reactor's failOwner).
   * @internal
   */
  fail(error: unknown): void {
    const reason = asError(error);
    const reactorClosed = reason instanceof ZepollError && reason.code === 'ERR_ZEPOLL_REACTOR_CLOSED';
    this.close(reason, !reactorClosed);
  }

  /**
   * The idle sweep found no traffic for idleTimeoutMs: onTimeout, else destroy with `ERR_ZEPOLL_IDLE_TIMEOUT` (IdleTracked).
   * @internal
   */
  idleExpired(): void {
    if (this.closed) return;
    if (this.handler.onTimeout !== undefined) {
      this.lastActivity = performance.now(); // the handler decides; the next expiry is a full timeout away
      watch(this, this.handler.onTimeout(this));
      return;
    }
    this.destroy(new ZepollError('ERR_ZEPOLL_IDLE_TIMEOUT', `no traffic for ${this.idleTimeoutMs} ms`));
  }
}

function noop(): void {}

// The internal roles a Connection plays, checked here since the class cannot name them (a compile error if one is missing).
void (true satisfies Connection extends IdleTracked & Served ? true : never);
