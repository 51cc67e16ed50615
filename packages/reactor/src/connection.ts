/**
 * A connection: its lifecycle (open, half-close, idle, destroy, exactly
 * one close), the handler contract, and its public write API. Reading is
 * its Reader's (reader.ts), writing its Writer's (writer.ts), what the
 * kernel is asked the backend's (backend/). No line here names the mode.
 * A view passed to `write()` must not change until written (as with Node's
 * socket.write); pooled views are held for you.
 */
import { asError, errnoError, invalidArgType, ZepollError } from './errors.js';
import { ENOTCONN } from './errno.js';
import { FileSegment } from './write-queue.js';
import { Writer, type WriteSink } from './writer.js';
import { checkedParts, checkSendFileArguments, releaseParts, toBytes, type WriteData } from './write-arguments.js';
import type { Reactor } from './reactor.js';
import { coreOf, type Core, type Carried, type Corked, type IdleTracked } from './core.js';
import { READY_WRITABLE, type Owner, type OwnerSlot } from './backend/backend.js';
import { Reader, type ReadSink } from './reader.js';
import type { Lease } from './buffer-pool.js';
import { peerAddress, localAddress, type SocketAddress } from './backend/address.js';
import { callSafely, isThenable } from './safe-call.js';
import { HIGH_WATER_MARK_DEFAULT, MAX_QUEUED_BYTES_DEFAULT, ON_BYTES, routeError, type BytesReceiver, type ConnectionHandler, type ConnectionOptions, type ErrorFallback } from './handler.js';

export type { ConnectionHandler, ConnectionOptions, ErrorFallback } from './handler.js';
export type { WriteData } from './write-arguments.js';

/** The lifecycle: writes are taken while OPEN; end() moves to ENDING, the write side's shutdown to WRITE_SHUT. */
const OPEN = 0;
const ENDING = 1;
const WRITE_SHUT = 2;
const CLOSED = 3;

/**
 * A TCP connection (or another stream socket) registered with a reactor:
 * accepted by a Server, made by connect() or lent by a ConnectionPool. Its
 * handler is told what happens to it; write(), end() and destroy() act on
 * it. The `data` onData gets is a pooled view, valid until the handler
 * returns unless leased (lease()) or copied.
 */
// No `implements` clause: Owner, Carried, Corked, IdleTracked, ReadSink and
// WriteSink are internal (stripped from the published types with their
// members), so a published clause would name members users cannot see. The
// structure is checked where the reactor takes it (satisfies, below).
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
   * The backend's record of this connection (Owner), set at registration: not part of the public API.
   * @internal
   */
  slot: OwnerSlot | null;
  /**
   * Relayed: the peer's FIN does not end this side (the relay passes it on).
   * @internal
   */
  relayHalfOpen: boolean;
  /**
   * Waiting in the scheduler's carry-over queue (Carried).
   * @internal
   */
  carried: boolean;
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
  /** Runs on writability when no queued bytes are waiting, and when the queue has flushed (a relay draining its pipe). */
  writableHook: (() => void) | null;
  /** Registered and handed to onOpen at some point (false when epoll_ctl refused it in open()). Read-only outside. */
  opened: boolean;
  /** Set by the owner (a server's onError) before open(); used when the handler has no onError. */
  errorFallback: ErrorFallback | null;
  /** Set by the owner (a server keeping its set) before open(): runs after onClose. */
  closeListener: ((connection: Connection) => void) | null;
  private state: number;
  private readonly core: Core;
  /**
   * Its reading (quota, chunks, pause); a relay sets `reader.hook` to splice instead.
   * @internal
   */
  readonly reader: Reader;
  private readonly writer: Writer;
  /** A handler's returned promise rejected: made once, not per call. */
  private readonly onRejected: (error: unknown) => void;

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
    this.slot = null;
    this.relayHalfOpen = false;
    this.carried = false;
    this.lastActivity = core.now;
    this.bytesIn = 0;
    this.bytesOut = 0;
    this.context = undefined;
    this.writableHook = null;
    this.opened = false;
    this.errorFallback = null;
    this.closeListener = null;
    this.state = OPEN;
    this.core = core;
    this.reader = new Reader(core, this, this);
    this.writer = new Writer(core, this, this);
    this.onRejected = (error: unknown): void => {
      // Already closed: nothing to destroy and onClose came last, so the reactor's onError gets it.
      if (this.state !== CLOSED) core.failOwner(this, error);
      else core.reportUnhandled(error, false);
    };
  }

  /** A handler's failure reported late (a rejected promise, a callback outside a turn): as onRejected. */
  get failLate(): (error: unknown) => void {
    return this.onRejected;
  }

  /** A handler call's result: a returned promise that rejects fails this connection. */
  private watch(result: unknown): void {
    if (isThenable(result)) result.then(undefined, this.onRejected);
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
      core.open(this, 'stream');
    } catch (error) {
      // epoll_ctl refused it (ENOMEM, ENOSPC): closed before it opened, no
      // handler called, and the counters still balance (total = closed + open).
      this.state = CLOSED;
      core.backend.closeFd(this.fd);
      metrics.connectionsClosed += 1;
      throw error;
    }
    metrics.connectionsOpen += 1;
    this.opened = true;
    if (this.idleTimeoutMs > 0) core.trackIdle(this);
    this.watch(this.handler.onOpen?.(this));
  }

  /**
   * Gives the connection to a new handler and runs its onOpen (an outbound
   * pool handing a connection to its next user). A throw or rejection of
   * onOpen fails this connection, as inside a turn.
   */
  handOver(handler: ConnectionHandler): void {
    this.handler = handler;
    callSafely(handler.onOpen ?? noop, handler, this, undefined, this.onRejected);
  }

  /** True until the connection closes (destroy(), an error, or both sides done); still true while ending. */
  get isOpen(): boolean {
    return this.state !== CLOSED;
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
   * Readiness, as READY_* bits (the backend's call, Owner).
   * @internal
   */
  ready(bits: number): void {
    if (bits & READY_WRITABLE && this.writer.onWritable()) this.writableHook?.();
    if (this.state !== CLOSED) this.reader.ready(bits);
    this.eventDone();
  }

  /**
   * Its bytes may be received for it, unless a relay's hook reads instead (Owner).
   * @internal
   */
  get takesBytes(): boolean {
    return this.reader.hook === null;
  }

  /**
   * The backend received for it: bytes in a pool chunk, 0 at the end, or -errno (Owner).
   * @internal
   */
  received(chunk: number, result: number): void {
    this.reader.received(chunk, result); // on a closed connection, its chunk goes back
  }

  /**
   * A send the backend held is done: bytes sent, or -errno (Owner).
   * @internal
   */
  sent(result: number): void {
    if (this.state !== CLOSED) this.writer.sendCompleted(result);
  }

  /**
   * The scheduler's turn for a carried-over connection (Carried).
   * @internal
   */
  serveCarried(): void {
    const backend = this.core.backend;
    backend.serving(this, true);
    if (this.reader.serveCarried()) this.eventDone();
    else backend.serving(this, false);
  }

  /** The end of an event's handling: a one-shot registration is armed again; ET's debug check runs. */
  private eventDone(): void {
    const core = this.core;
    if (core.backend.policy.rearmAfterEvent) {
      if (this.state === CLOSED) return;
      core.backend.rearm(this, this.reader.wantsReading, this.writer.armed, this.reader.watchesHangUp);
    } else if (core.debug) {
      this.reader.checkDrained();
    }
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
    const refused = this.refuseWrite('write()');
    if (refused !== null) throw refused;
    return this.writer.push(toBytes('data', data));
  }

  /**
   * Sends several buffers as one write: they go out together (one writev),
   * in or outside a turn. Same return value and rules as write(); every
   * part is checked before the first is queued (all or nothing).
   * @throws TypeError `ERR_INVALID_ARG_TYPE` when `parts` is not an array or
   *   a part is not a string or bytes; the closed/ended errors of write().
   */
  writeMany(parts: readonly WriteData[]): boolean {
    const refused = this.refuseWrite('writeMany()');
    if (refused !== null) throw refused;
    if (!Array.isArray(parts)) throw invalidArgType('parts', 'an instance of Array', parts);
    const count = parts.length;
    const checked = checkedParts(parts, count);
    try {
      return this.writer.pushAll(checked, count);
    } finally {
      releaseParts(checked, count);
    }
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
    const refused = this.refuseWrite('sendFile()');
    if (refused !== null) throw refused;
    checkSendFileArguments(fileFd, offset, length);
    if (length === 0) return Promise.resolve(0);
    return new Promise<number>((resolve, reject) => this.writer.pushFile(new FileSegment(fileFd, offset, length, resolve, reject)));
  }

  /** The error for a write on a closed or ended connection, or null when writing is allowed. */
  private refuseWrite(call: string): ZepollError | null {
    if (this.state === CLOSED) return new ZepollError('ERR_ZEPOLL_CONNECTION_CLOSED', `${call} on a closed connection`);
    if (this.state !== OPEN) return new ZepollError('ERR_ZEPOLL_WRITE_AFTER_END', `${call} after end()`);
    return null;
  }

  /** Asks for one writableHook call when the socket can take bytes again. */
  awaitWritable(): void {
    if (this.state !== CLOSED) this.writer.arm();
  }

  /** Half-close: no more writes; the queue is flushed, then the write side is shut down. */
  end(): void {
    if (this.state !== OPEN) return;
    this.state = ENDING;
    if (this.writer.idle) this.shutdownWrite();
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
    if (this.state === CLOSED) return;
    this.state = CLOSED;
    const core = this.core;
    const metrics = core.metrics;
    core.backend.release(this);
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
    if (this.state === CLOSED || this.reader.isPaused) return;
    this.reader.pause();
    this.interestChanged();
  }

  /** Reads again after pause(); after the peer's FIN there is nothing to read. */
  resume(): void {
    if (this.state === CLOSED) return;
    this.reader.resume();
  }

  /**
   * Pauses reading until `target` has drained its write queue (forward()
   * uses it). A target that closes wakes its waiters too.
   */
  pauseUntilDrained(target: Connection): void {
    if (this.state === CLOSED || target.state === CLOSED) return;
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
    return this.reader.lease(data);
  }

  /** end() was called: nothing more may be written. */
  get writableEnded(): boolean {
    return this.state !== OPEN;
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
    if (this.state === CLOSED) return;
    if (this.handler.onTimeout !== undefined) {
      this.lastActivity = performance.now(); // the handler decides; the next expiry is a full timeout away
      this.watch(this.handler.onTimeout(this));
      return;
    }
    this.destroy(new ZepollError('ERR_ZEPOLL_IDLE_TIMEOUT', `no traffic for ${this.idleTimeoutMs} ms`));
  }

  /**
   * End of turn: the corked writes go out together.
   * @internal
   */
  flushCorked(): void {
    if (this.state === CLOSED) return;
    if (this.writer.flushCorked() && this.state === ENDING) this.shutdownWrite();
  }

  /**
   * ReadSink: bytes read, for the handler.
   * @internal
   */
  receivedView(view: Buffer): void {
    this.watch(this.handler.onData?.(this, view));
  }

  /**
   * ReadSink: bytes read, for a handler that takes them without a view (ON_BYTES); false when it does not.
   * @internal
   */
  receivedBytes(bytes: Buffer, length: number): boolean {
    const handler = this.handler as ConnectionHandler & Partial<BytesReceiver>;
    const receive = handler[ON_BYTES];
    if (receive === undefined) return false;
    receive.call(handler, this, bytes, length);
    return true;
  }

  /**
   * ReadSink: the peer finished sending.
   * @internal
   */
  peerEnded(): void {
    this.watch(this.handler.onEnd?.(this));
    if (this.state === CLOSED) return;
    if (this.state === WRITE_SHUT) {
      this.destroy();
      return;
    }
    if (!this.allowHalfOpen && !this.relayHalfOpen) this.end();
  }

  /**
   * ReadSink: the peer's FIN while reading was paused.
   * @internal
   */
  peerHungUp(): void {
    callSafely(this.handler.onHangUp ?? noop, this.handler, this, undefined, this.onRejected);
  }

  /**
   * ReadSink, and writes: ask the backend for what the connection can use now.
   * @internal
   */
  interestChanged(): void {
    if (this.state === CLOSED) return;
    this.core.backend.arm(this, this.reader.wantsReading, this.writer.armed, this.reader.watchesHangUp);
  }

  private shutdownWrite(): void {
    if (this.state !== ENDING) return;
    this.state = WRITE_SHUT;
    const rc = this.core.backend.shutdownWrite(this.fd);
    if (rc < 0 && rc !== ENOTCONN) {
      this.destroy(errnoError(rc, 'shutdown', this.fd)); // ENOTCONN: the peer already reset
      return;
    }
    if (this.reader.isEnded || rc === ENOTCONN) this.destroy();
  }

  /**
   * WriteSink: the queue drained after write() returned false.
   * @internal
   */
  drained(): void {
    this.writer.wakeDrainWaiters();
    // A flush runs outside a turn too (a write from a timer): a failure here fails this connection, not the caller.
    callSafely(this.handler.onDrain ?? noop, this.handler, this, undefined, this.onRejected);
  }

  /**
   * WriteSink: everything queued is with the kernel.
   * @internal
   */
  flushed(): void {
    if (this.state === ENDING) this.shutdownWrite();
    else this.writableHook?.(); // a relay's pipe waits for what was queued before it
  }
}

function noop(): void {}

// The internal roles a Connection plays, checked here since the class cannot name them (a compile error if one is missing).
void (true satisfies Connection extends Owner & Carried & Corked & IdleTracked & ReadSink & WriteSink ? true : never);
