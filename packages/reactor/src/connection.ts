/**
 * A connection: reads into pooled chunks under the turn's quota, hands the
 * bytes to its handler, queues what the kernel does not take (no copy),
 * corks the writes of a turn into one writev, and closes exactly once.
 *
 * Buffer views passed to `onData` live for the callback; `lease(data)`
 * keeps one longer. A view passed to `write()` must not be changed until it
 * is written (as with Node's socket.write); pooled views are held for you.
 */
import { binding, constants } from './native.js';
import { asError, errnoError, invalidArgType, invalidArgValue, outOfRange, ZepollError } from './errors.js';
import { BLOCKED, FileSegment, WriteQueue } from './write-queue.js';
import type { Carried, IdleTracked, Pollable, Reactor } from './reactor.js';
import type { Lease } from './buffer-pool.js';
import { Lease as PoolLease } from './buffer-pool.js';
import { peerAddress, localAddress, type SocketAddress } from './address.js';
import { callSafely, isThenable } from './safe-call.js';
import { EAGAIN, EINTR, EINTR_RETRIES_MAX, ENOTCONN } from './errno.js';
import { HIGH_WATER_MARK_DEFAULT, MAX_QUEUED_BYTES_DEFAULT, type ConnectionHandler, type ConnectionOptions } from './handler.js';

export { HIGH_WATER_MARK_DEFAULT, MAX_QUEUED_BYTES_DEFAULT } from './handler.js';
export type { ConnectionHandler, ConnectionOptions, HandlerResult } from './handler.js';

const { EPOLLIN, EPOLLOUT, EPOLLRDHUP, EPOLLHUP, EPOLLERR } = constants;
/** Flags that mean "a read will tell something": data, end of stream, hang-up or error. */
const READABLE = EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR;
const HANG_UP = EPOLLRDHUP | EPOLLHUP | EPOLLERR;

type State = 'open' | 'closed';

/** What write() takes: bytes as they are, or a string sent as UTF-8. */
export type WriteData = string | Uint8Array;

const WRITE_DATA_TYPES = 'of type string or an instance of Buffer or Uint8Array';

/** `data` as bytes, or a coded TypeError (thrown before anything is queued). */
function toBytes(name: string, data: unknown): Uint8Array {
  if (data instanceof Uint8Array) return data;
  if (typeof data === 'string') return Buffer.from(data, 'utf8');
  throw invalidArgType(name, WRITE_DATA_TYPES, data);
}

/** sendFile()'s arguments, checked before anything is queued (an HTTP response checks them before its head). */
export function checkSendFileArguments(fileFd: unknown, offset: unknown, length: unknown): void {
  checkFileArgument('fileFd', fileFd, 2 ** 31 - 1);
  checkFileArgument('offset', offset, Number.MAX_SAFE_INTEGER);
  checkFileArgument('length', length, Number.MAX_SAFE_INTEGER);
}

/** A sendFile() argument: a non-negative integer up to `max`. */
function checkFileArgument(name: string, value: unknown, max: number): void {
  if (typeof value !== 'number') throw invalidArgType(name, 'of type number', value);
  if (!Number.isInteger(value) || value < 0 || value > max) throw outOfRange(name, `an integer >= 0 and <= ${max}`, value);
}


/** Where a connection's error goes when its handler has no onError (a server's onError). */
export type ErrorFallback = (error: Error, connection: Connection) => void;

export class Connection implements Pollable, Carried, IdleTracked {
  readonly fd: number;
  readonly reactor: Reactor;
  /** Replaceable (an outbound pool hands a connection from one user to the next). */
  handler: ConnectionHandler;
  readonly highWaterMark: number;
  readonly maxQueuedBytes: number;
  readonly idleTimeoutMs: number;
  readonly allowHalfOpen: boolean;
  generation: number;
  carried: boolean;
  lastActivity: number;
  bytesIn: number;
  bytesOut: number;
  /** Free for the owner (protocol state): set once here so the shape never changes. */
  context: unknown;
  /**
   * Replaces reading (a relay splices instead of reading into memory). Runs
   * wherever a read turn would, under the same quota and carry-over rules.
   */
  readHook: (() => void) | null;
  /** Runs on writability when no queued bytes are waiting (a relay draining its pipe). */
  writableHook: (() => void) | null;
  /**
   * Set when a read turn ended where a new event is guaranteed: EAGAIN, a
   * short read, end of stream, an error, or a carry-over. A readHook sets it
   * itself; the ET debug check reports turns that end without it and leave
   * bytes in the kernel.
   */
  edgeSafe: boolean;
  private state: State;
  private ending: boolean;
  private writeShut: boolean;
  private peerEnded: boolean;
  private readPaused: boolean;
  /**
   * The peer's FIN (or a hang-up) was reported. In ET it is reported once:
   * reads then go on past a short read to reach the end of stream.
   */
  private hangUpSeen: boolean;
  /** onHangUp was called: LT stops asking for EPOLLRDHUP, which would be reported on every wait. */
  private hangUpReported: boolean;
  /** After closeGracefully(): bytes still arriving are read and dropped. */
  private discardInput: boolean;
  private waitingForPool: boolean;
  private needDrain: boolean;
  private corked: boolean;
  /** Inside writeMany: the parts are queued first, flushed once after. */
  private holdFlush: boolean;
  private writeArmed: boolean;
  /** One-shot: inside handleEvent, interest changes wait for the re-arm at its end. */
  private inEvent: boolean;
  private currentInterest: number;
  private readonly queue: WriteQueue;
  private readChunk: number;
  /** Registered and handed to onOpen at some point (false when epoll_ctl refused it in open()). Read-only outside. */
  opened: boolean;
  /** The turn of the last read turn, and whether it ended on the quota. */
  private lastReadTurn: number;
  private quotaUsed: boolean;
  private readonly onPoolAvailable: () => void;
  /** A handler's returned promise rejected: made once, not per call. */
  private readonly onRejected: (error: unknown) => void;
  /** Connections paused by forward() until this one drains. */
  private drainWaiters: Connection[] | null;
  /** Set by the owner (a server's onError) before open(); used when the handler has no onError. */
  errorFallback: ErrorFallback | null;
  /** Set by the owner (a server keeping its set) before open(): runs after onClose. */
  closeListener: ((connection: Connection) => void) | null;

  constructor(reactor: Reactor, fd: number, handler: ConnectionHandler, options: ConnectionOptions = {}) {
    this.fd = fd;
    this.reactor = reactor;
    this.handler = handler;
    this.highWaterMark = options.highWaterMark ?? HIGH_WATER_MARK_DEFAULT;
    this.maxQueuedBytes = options.maxQueuedBytes ?? MAX_QUEUED_BYTES_DEFAULT;
    this.idleTimeoutMs = options.idleTimeoutMs ?? 0;
    this.allowHalfOpen = options.allowHalfOpen ?? false;
    this.generation = 0;
    this.carried = false;
    this.lastActivity = reactor.now;
    this.bytesIn = 0;
    this.bytesOut = 0;
    this.context = undefined;
    this.state = 'open';
    this.ending = false;
    this.writeShut = false;
    this.peerEnded = false;
    this.readPaused = false;
    this.hangUpSeen = false;
    this.hangUpReported = false;
    this.discardInput = false;
    this.waitingForPool = false;
    this.needDrain = false;
    this.corked = false;
    this.holdFlush = false;
    this.writeArmed = false;
    this.inEvent = false;
    this.currentInterest = reactor.interest.read;
    this.queue = new WriteQueue(reactor.pool);
    this.readHook = null;
    this.writableHook = null;
    this.edgeSafe = true;
    this.readChunk = -1;
    this.opened = false;
    this.lastReadTurn = -1;
    this.quotaUsed = false;
    this.onPoolAvailable = (): void => {
      this.waitingForPool = false;
      if (this.state === 'open' && !this.readPaused) this.resumeReading();
    };
    this.onRejected = (error: unknown): void => {
      // Already closed: nothing to destroy and onClose came last, so the reactor's onError gets it.
      if (this.state === 'open') this.reactor.failOwner(this, error);
      else this.reactor.reportUnhandled(error, false);
    };
    this.drainWaiters = null;
    this.errorFallback = null;
    this.closeListener = null;
  }

  /** A handler's failure reported late (a rejected promise, a callback outside a turn): as onRejected. */
  get failLate(): (error: unknown) => void {
    return this.onRejected;
  }

  /** A handler call's result: a returned promise that rejects fails this connection. */
  private watch(result: unknown): void {
    if (isThenable(result)) result.then(undefined, this.onRejected);
  }

  /** Registers with the reactor and calls onOpen. */
  open(): void {
    const reactor = this.reactor;
    reactor.connectionsTotal += 1;
    try {
      reactor.register(this, reactor.interest.read);
    } catch (error) {
      // epoll_ctl refused it (ENOMEM, ENOSPC): closed before it opened, no
      // handler called, and the counters still balance (total = closed + open).
      this.state = 'closed';
      reactor.closeFd(this.fd);
      reactor.connectionsClosed += 1;
      throw error;
    }
    reactor.connectionsOpen += 1;
    this.opened = true;
    if (this.idleTimeoutMs > 0) reactor.trackIdle(this);
    this.watch(this.handler.onOpen?.(this));
  }

  /**
   * Gives the connection to a new handler and runs its onOpen (an outbound
   * pool handing a connection to its next user). A throw or rejection of
   * onOpen fails this connection, as inside a turn.
   */
  handOver(handler: ConnectionHandler): void {
    this.handler = handler;
    try {
      this.watch(handler.onOpen?.(this));
    } catch (error) {
      this.reactor.failOwner(this, error);
    }
  }

  get isOpen(): boolean {
    return this.state === 'open';
  }

  /** Bytes accepted by write() and not yet taken by the kernel. */
  get queuedBytes(): number {
    return this.queue.bytes;
  }

  remoteAddress(): SocketAddress {
    return peerAddress(this.fd);
  }

  localAddress(): SocketAddress {
    return localAddress(this.fd);
  }

  handleEvent(flags: number): void {
    const oneshot = this.reactor.mode === 'oneshot';
    if (oneshot) this.inEvent = true;
    if (flags & HANG_UP) this.hangUpSeen = true;
    if (flags & EPOLLOUT) {
      if (!this.queue.isEmpty) this.flush();
      else if (this.writableHook !== null && this.writeArmed) {
        this.writeArmed = false;
        this.updateInterest();
        this.writableHook();
      }
    }
    if (this.state === 'open' && flags & READABLE) {
      // Hang-up and error are read like data: the read returns 0 or the error.
      if (!this.readPaused && !this.waitingForPool) this.readTurn();
      else if (flags & (EPOLLHUP | EPOLLERR)) this.readTurn(); // else a paused LT socket spins on HUP
      // A FIN that finds (or leaves) reading paused: told once, so a paused owner knows its peer left.
      if (flags & EPOLLRDHUP && this.readPaused && !this.peerEnded && !this.hangUpReported && this.state === 'open') this.reportHangUp();
    }
    if (oneshot) this.rearm();
    else if (this.reactor.debug) this.checkDrained();
  }

  serveCarried(): void {
    if (this.state !== 'open' || this.readPaused || this.waitingForPool) return;
    if (this.lastReadTurn === this.reactor.turns) {
      // Already read this turn (its own event came too): one quota per turn.
      if (this.quotaUsed) this.reactor.scheduler.carry(this);
      return;
    }
    const oneshot = this.reactor.mode === 'oneshot';
    if (oneshot) this.inEvent = true;
    this.readTurn();
    if (oneshot) this.rearm();
    else if (this.reactor.debug) this.checkDrained();
  }

  /**
   * ET debug check: bytes left in the kernel with no carry-over, no pause
   * and no pending pool wait will never be reported again.
   */
  private checkDrained(): void {
    if (this.edgeSafe || this.state !== 'open' || this.carried || this.readPaused || this.waitingForPool || this.peerEnded) return;
    const bytes = binding.bytesReadable(this.fd);
    if (bytes > 0) this.reactor.reportUnread(this.fd, bytes);
  }

  /**
   * Sends `data`: at once outside a turn, at the turn's end inside one
   * (all writes of a turn go out in one writev). Returns false once the
   * queue is above the high-water mark; onDrain follows when it empties.
   */
  write(data: WriteData): boolean {
    const refused = this.refuseWrite('write()');
    if (refused !== null) throw refused;
    return this.queueBytes(toBytes('data', data));
  }

  /** write() after its checks: `data` is bytes and the connection is writable. */
  private queueBytes(data: Uint8Array): boolean {
    const size = data.byteLength;
    const queue = this.queue;
    if (size === 0) return queue.bytes < this.highWaterMark;
    const reactor = this.reactor;
    queue.push(data);
    reactor.queuedBytes += size;
    if (queue.bytes > this.maxQueuedBytes || reactor.queuedBytes > reactor.maxQueuedBytesTotal) {
      const which = queue.bytes > this.maxQueuedBytes ? `${this.maxQueuedBytes} bytes for this connection` : `${reactor.maxQueuedBytesTotal} bytes across the reactor`;
      this.destroy(new ZepollError('ERR_ZEPOLL_WRITE_QUEUE_FULL', `write queue over its cap of ${which}: the peer is not reading`));
      return false;
    }
    this.scheduleFlush();
    if (queue.bytes >= this.highWaterMark) {
      this.needDrain = true;
      return false;
    }
    return true;
  }

  /**
   * Sends several buffers as one write: they go out together (one writev),
   * in or outside a turn. Same return value and rules as write().
   */
  writeMany(parts: readonly WriteData[]): boolean {
    const refused = this.refuseWrite('writeMany()');
    if (refused !== null) throw refused;
    if (!Array.isArray(parts)) throw invalidArgType('parts', 'an instance of Array', parts);
    // Every part is checked before the first is queued: all or nothing.
    const bytes: Uint8Array[] = new Array<Uint8Array>(parts.length);
    for (let index = 0; index < parts.length; index += 1) bytes[index] = toBytes(`parts[${index}]`, parts[index]);
    this.holdFlush = true; // one flush once every part is queued
    let ok = true;
    for (let index = 0; index < bytes.length && this.state === 'open'; index += 1) ok = this.queueBytes(bytes[index]!) && ok;
    this.holdFlush = false;
    if (this.state === 'open') this.scheduleFlush();
    return ok && this.state === 'open';
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
    return new Promise<number>((resolve, reject) => {
      this.queue.pushFile(new FileSegment(fileFd, offset, length, resolve, reject));
      this.scheduleFlush();
    });
  }

  /** The error for a write on a closed or ended connection, or null when writing is allowed. */
  private refuseWrite(call: string): ZepollError | null {
    if (this.state !== 'open') return new ZepollError('ERR_ZEPOLL_CONNECTION_CLOSED', `${call} on a closed connection`);
    if (this.ending) return new ZepollError('ERR_ZEPOLL_WRITE_AFTER_END', `${call} after end()`);
    return null;
  }

  /** Asks for one writableHook call when the socket can take bytes again. */
  awaitWritable(): void {
    if (this.state !== 'open' || this.writeArmed) return;
    this.writeArmed = true;
    this.updateInterest();
  }

  /** Half-close: no more writes; the queue is flushed, then the write side is shut down. */
  end(): void {
    if (this.state !== 'open' || this.ending) return;
    this.ending = true;
    if (this.queue.isEmpty && !this.corked) this.shutdownWrite();
  }

  /**
   * For a server shutting down: what is queued goes out, then the write side
   * closes; bytes still arriving are dropped unread by the handler, and the
   * connection closes when the peer ends too.
   */
  closeGracefully(): void {
    this.discardInput = true;
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
    if (this.state !== 'open') return;
    this.state = 'closed';
    const reactor = this.reactor;
    reactor.unregister(this);
    reactor.closeFd(this.fd);
    reactor.connectionsOpen -= 1;
    reactor.connectionsClosed += 1;
    if (this.idleTimeoutMs > 0) reactor.untrackIdle(this);
    reactor.queuedBytes -= this.queue.bytes;
    this.queue.clear(error ?? new ZepollError('ERR_ZEPOLL_CONNECTION_CLOSED', 'the connection closed before the file was sent'));
    if (this.readChunk >= 0) {
      reactor.pool.release(this.readChunk);
      this.readChunk = -1;
    }
    this.wakeDrainWaiters();
    if (error !== undefined) this.report(error, handlerFailed);
    // onClose runs whoever called destroy (a timer, a promise, another
    // connection's handler): its throw or rejection is reported, never passed up.
    const onClose = this.handler.onClose;
    if (onClose !== undefined) callSafely(onClose, this.handler, this, error, reactor.reportLate);
    this.closeListener?.(this);
  }

  /** The error goes to the handler's onError, else the owner's, else (a handler's own failure) the reactor's. */
  private report(error: Error, handlerFailed: boolean): void {
    const onError = this.handler.onError;
    if (onError !== undefined) callSafely(onError, this.handler, this, error, this.reactor.reportLate);
    else if (this.errorFallback !== null) callSafely(this.errorFallback, null, error, this, this.reactor.reportLate);
    else if (handlerFailed) this.reactor.reportUnhandled(error, true);
  }

  /** Stops reading (backpressure from the owner); resume() starts again. */
  pause(): void {
    if (this.state !== 'open' || this.readPaused) return;
    this.readPaused = true;
    this.updateInterest();
  }

  resume(): void {
    // After the peer's FIN there is nothing to read, and LT would report the EOF forever.
    if (this.state !== 'open' || !this.readPaused || this.peerEnded) return;
    this.readPaused = false;
    this.resumeReading();
  }

  /**
   * Pauses reading until `target` has drained its write queue (forward()
   * uses it). A target that closes wakes its waiters too.
   */
  pauseUntilDrained(target: Connection): void {
    if (this.state !== 'open' || target.state !== 'open') return;
    this.pause();
    if (target.drainWaiters === null) target.drainWaiters = [];
    if (!target.drainWaiters.includes(this)) target.drainWaiters.push(this);
  }

  private wakeDrainWaiters(): void {
    const waiters = this.drainWaiters;
    if (waiters === null) return;
    this.drainWaiters = null;
    for (const waiter of waiters) waiter.resume();
  }

  /** Keeps a pooled view (from onData) past its callback; release the lease when done. */
  lease(data: Uint8Array): Lease {
    const pool = this.reactor.pool;
    const chunk = pool.chunkOf(data);
    // Only during its onData call: after it, the chunk may already hold another connection's bytes.
    if (chunk < 0 || chunk !== this.readChunk) throw invalidArgValue('data', 'must be the view passed to onData, during that call', typeof data);
    pool.retain(chunk);
    return new PoolLease(pool, chunk, data);
  }

  /** end() was called: nothing more may be written. */
  get writableEnded(): boolean {
    return this.ending || this.state !== 'open';
  }

  /** The idle sweep's call to idleExpired() threw (onTimeout): as a handler throw. */
  expiryFailed(error: unknown): void {
    this.fail(error);
  }

  /**
   * A handler threw (or its promise rejected) while this connection was
   * served: the connection closes and the error is reported, never
   * rethrown. The caller has counted it (reactor.failOwner).
   */
  fail(error: unknown): void {
    const reason = asError(error);
    const reactorClosed = reason instanceof ZepollError && reason.code === 'ERR_ZEPOLL_REACTOR_CLOSED';
    this.close(reason, !reactorClosed);
  }

  idleExpired(): void {
    if (this.state !== 'open') return;
    if (this.handler.onTimeout !== undefined) {
      this.lastActivity = performance.now(); // the handler decides; the next expiry is a full timeout away
      this.watch(this.handler.onTimeout(this));
      return;
    }
    this.destroy(new ZepollError('ERR_ZEPOLL_IDLE_TIMEOUT', `no traffic for ${this.idleTimeoutMs} ms`));
  }

  /** End of turn: the corked writes go out together. */
  flushCorked(): void {
    this.corked = false;
    if (this.state !== 'open') return;
    if (!this.writeArmed && !this.queue.isEmpty) this.flush();
    else if (this.ending && this.queue.isEmpty) this.shutdownWrite();
  }

  private readTurn(): void {
    if (this.readHook !== null) {
      this.edgeSafe = false;
      this.readHook();
      return;
    }
    // Every exit below is edge-safe: EAGAIN, short read, end, error, carry,
    // or a pause/pool wait whose resume carries the connection over.
    this.edgeSafe = true;
    const reactor = this.reactor;
    const pool = reactor.pool;
    const poller = reactor.poller;
    const quota = reactor.readQuota;
    // ET with a finite quota stops at a short read (the receive queue was
    // empty, so new data makes a new edge): no EAGAIN read per request.
    // Infinity is the classic drain-until-EAGAIN. A FIN already reported
    // makes no new edge, so after one the reads go on to the end of stream.
    const stopOnShortRead = reactor.mode !== 'et' || (quota !== Infinity && !this.hangUpSeen);
    this.lastReadTurn = reactor.turns;
    this.quotaUsed = false;
    try {
      this.readLoop(stopOnShortRead, quota);
    } finally {
      // The chunk goes back to the pool between turns: a connection waiting
      // for its next bytes (keep-alive, a slow client) holds no 64 KiB of it.
      // Held, 4 096 idle keep-alive connections would drain the default pool
      // and stall every other reader. The free list hands the same chunk
      // back next turn, so this costs a push and a pop.
      if (this.readChunk >= 0) {
        pool.release(this.readChunk);
        this.readChunk = -1;
      }
    }
  }

  private readLoop(stopOnShortRead: boolean, quota: number): void {
    const reactor = this.reactor;
    const pool = reactor.pool;
    const poller = reactor.poller;
    let budget = quota;
    let interrupted = 0;
    for (;;) {
      if (this.readChunk < 0) {
        this.readChunk = pool.acquire();
        if (this.readChunk < 0) {
          this.waitForPool();
          return;
        }
      }
      const bytes = pool.bytes(this.readChunk);
      const size = budget < bytes.length ? budget : bytes.length;
      const rc = poller.read(this.fd, bytes, 0, size);
      if (rc > 0) {
        this.bytesIn += rc;
        reactor.bytesIn += rc;
        reactor.progress();
        this.lastActivity = reactor.now;
        if (!this.discardInput) {
          const view = bytes.subarray(0, rc);
          if (pool.poison) pool.markView(view, this.readChunk);
          this.watch(this.handler.onData?.(this, view));
        }
        if (this.state !== 'open') return;
        if (pool.referencesOf(this.readChunk) > 1) {
          // Leased or queued for writing: hand it over, read into a fresh one.
          pool.release(this.readChunk);
          this.readChunk = -1;
        }
        budget -= rc;
        if (rc < size && stopOnShortRead) return;
        if (budget <= 0) {
          this.quotaUsed = true;
          if (reactor.mode === 'et') reactor.scheduler.carry(this); // no edge will come for what is left
          return;
        }
        if (this.readPaused) return;
        continue;
      }
      if (rc === EAGAIN) return;
      if (rc === EINTR && interrupted < EINTR_RETRIES_MAX) {
        interrupted += 1; // a signal, not the socket: read again
        continue;
      }
      if (rc === 0) {
        this.peerEnd();
        return;
      }
      this.destroy(errnoError(rc, 'read', this.fd));
      return;
    }
  }

  private peerEnd(): void {
    if (this.peerEnded) return;
    this.peerEnded = true;
    this.readPaused = true; // nothing more to read; LT must stop asking
    this.updateInterest();
    this.watch(this.handler.onEnd?.(this));
    if (this.state !== 'open') return;
    if (this.writeShut) {
      this.destroy();
      return;
    }
    if (!this.allowHalfOpen) this.end();
  }

  private shutdownWrite(): void {
    if (this.writeShut) return;
    this.writeShut = true;
    const rc = binding.shutdown(this.fd, constants.SHUT_WR);
    if (rc < 0 && rc !== ENOTCONN) {
      this.destroy(errnoError(rc, 'shutdown', this.fd)); // ENOTCONN: the peer already reset
      return;
    }
    if (this.peerEnded || rc === ENOTCONN) this.destroy();
  }

  /** Outside a turn: write now. Inside one: at the turn's end, with the turn's other writes. */
  private scheduleFlush(): void {
    if (this.holdFlush) return;
    if (this.reactor.inTurn) {
      if (!this.corked) {
        this.corked = true;
        this.reactor.cork(this);
      }
    } else if (!this.writeArmed) {
      this.flush();
    }
  }

  private flush(): void {
    const reactor = this.reactor;
    const queue = this.queue;
    const before = queue.bytes;
    const rc = queue.flush(reactor.poller, this.fd);
    reactor.queuedBytes -= before - queue.bytes;
    if (queue.written > 0) {
      this.bytesOut += queue.written;
      reactor.bytesOut += queue.written;
      reactor.progress();
      this.lastActivity = reactor.clock(); // flushes also run from timers, outside a turn
    }
    if (rc < 0) {
      this.destroy(errnoError(rc, queue.failedSyscall, this.fd));
      return;
    }
    if (rc === BLOCKED) {
      this.armWritable();
      return;
    }
    // FLUSHED: everything is with the kernel.
    this.writeArmed = false;
    this.updateInterest();
    if (this.needDrain) {
      this.needDrain = false;
      this.wakeDrainWaiters();
      // A flush runs outside a turn too (a write from a timer): a throw here fails this connection, not the caller.
      try {
        this.watch(this.handler.onDrain?.(this));
      } catch (error) {
        this.reactor.failOwner(this, error);
      }
      if (this.state !== 'open') return;
    }
    if (this.ending && queue.isEmpty && !this.corked) this.shutdownWrite();
  }

  private armWritable(): void {
    this.writeArmed = true;
    this.updateInterest();
  }

  private reportHangUp(): void {
    this.hangUpReported = true;
    this.updateInterest();
    try {
      this.watch(this.handler.onHangUp?.(this));
    } catch (error) {
      this.reactor.failOwner(this, error);
    }
  }

  private waitForPool(): void {
    if (this.waitingForPool) return;
    this.waitingForPool = true;
    this.updateInterest();
    this.reactor.pool.onAvailable(this.onPoolAvailable);
  }

  private resumeReading(): void {
    this.updateInterest();
    // Data may have arrived while paused: in ET no edge will report it.
    if (this.reactor.mode === 'et') this.reactor.scheduler.carry(this);
  }

  /** What epoll should report for this connection now. */
  private desiredInterest(): number {
    const interest = this.reactor.interest;
    const reading = !this.readPaused && !this.waitingForPool;
    if (reading) return this.writeArmed ? interest.readWrite : interest.read;
    // Paused: still told of the peer's FIN (once), unless it already came.
    if (this.hangUpReported || this.peerEnded) return this.writeArmed ? interest.write : 0;
    return this.writeArmed ? interest.writeHangUp : interest.hangUp;
  }

  /** LT and one-shot: ask epoll for what the connection can use now. ET: registered once, never modified. */
  private updateInterest(): void {
    const reactor = this.reactor;
    if (reactor.mode === 'et' || this.state !== 'open' || this.inEvent) return;
    const interest = this.desiredInterest();
    if (interest === this.currentInterest) return;
    this.currentInterest = interest;
    reactor.modify(this, interest);
  }

  /** One-shot: EPOLLONESHOT disabled the fd after its event; arm it again for what it needs. */
  private rearm(): void {
    this.inEvent = false;
    if (this.state !== 'open') return;
    const interest = this.desiredInterest();
    this.currentInterest = interest;
    this.reactor.modify(this, interest);
  }
}
