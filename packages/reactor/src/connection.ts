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
import { errnoError, ZepollError } from './errors.js';
import { BLOCKED, FileSegment, WriteQueue } from './write-queue.js';
import type { Carried, IdleTracked, Pollable, Reactor } from './reactor.js';
import type { Lease } from './buffer-pool.js';
import { Lease as PoolLease } from './buffer-pool.js';
import { peerAddress, localAddress, type SocketAddress } from './address.js';
import { HIGH_WATER_MARK_DEFAULT, MAX_QUEUED_BYTES_DEFAULT, type ConnectionHandler, type ConnectionOptions } from './handler.js';

export { HIGH_WATER_MARK_DEFAULT, MAX_QUEUED_BYTES_DEFAULT } from './handler.js';
export type { ConnectionHandler, ConnectionOptions } from './handler.js';

const EAGAIN = -11;
const { EPOLLIN, EPOLLOUT, EPOLLRDHUP, EPOLLHUP, EPOLLERR } = constants;
/** Flags that mean "a read will tell something": data, end of stream, hang-up or error. */
const READABLE = EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR;
const HANG_UP = EPOLLRDHUP | EPOLLHUP | EPOLLERR;

type State = 'open' | 'closed';

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
    this.handler.onOpen?.(this);
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
  write(data: Uint8Array): boolean {
    const refused = this.refuseWrite('write()');
    if (refused !== null) throw refused;
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
  writeMany(parts: readonly Uint8Array[]): boolean {
    const refused = this.refuseWrite('write()');
    if (refused !== null) throw refused;
    this.holdFlush = true; // one flush once every part is queued
    let ok = true;
    try {
      for (const part of parts) ok = this.write(part) && ok;
    } finally {
      this.holdFlush = false;
    }
    if (this.state === 'open') this.scheduleFlush();
    return ok;
  }

  /**
   * Sends `length` bytes of the file `fileFd` from `offset` with sendfile,
   * in order with write(): the bytes never enter JavaScript. Resolves with
   * the bytes sent once all are with the kernel; rejects if the connection
   * closes first or the file is shorter than `length`. The fd stays yours.
   */
  sendFile(fileFd: number, offset: number, length: number): Promise<number> {
    const refused = this.refuseWrite('sendFile()');
    if (refused !== null) return Promise.reject(refused);
    for (const [name, value] of [['fileFd', fileFd], ['offset', offset], ['length', length]] as const) {
      if (!Number.isSafeInteger(value) || value < 0) {
        return Promise.reject(new ZepollError('ERR_OUT_OF_RANGE', `${name} must be a non-negative integer, received ${value}`));
      }
    }
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

  /** Closes now: queued bytes are dropped. No callback follows onClose. */
  destroy(error?: Error): void {
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
    if (error !== undefined) this.handler.onError?.(this, error);
    this.handler.onClose?.(this, error);
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

  /** Keeps a pooled view (from onData) past its callback; release the lease when done. */
  lease(data: Uint8Array): Lease {
    const pool = this.reactor.pool;
    const chunk = pool.chunkOf(data);
    // Only during its onData call: after it, the chunk may already hold another connection's bytes.
    if (chunk < 0 || chunk !== this.readChunk) throw new ZepollError('ERR_INVALID_ARG_VALUE', 'lease() takes the view passed to onData, during that call');
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

  /** A handler threw while this connection was served. */
  fail(error: unknown): void {
    const reason = error instanceof Error ? error : new Error(String(error));
    if (this.handler.onError === undefined && !(reason instanceof ZepollError && reason.code === 'ERR_ZEPOLL_REACTOR_CLOSED')) {
      // As with an 'error' event nobody listens to: it must not vanish.
      process.nextTick(() => {
        throw reason;
      });
    }
    this.destroy(reason);
  }

  idleExpired(): void {
    if (this.state !== 'open') return;
    if (this.handler.onTimeout !== undefined) {
      this.lastActivity = performance.now(); // the handler decides; the next expiry is a full timeout away
      this.handler.onTimeout(this);
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
        if (!this.discardInput) this.handler.onData?.(this, bytes.subarray(0, rc));
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
    this.handler.onEnd?.(this);
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
    if (rc < 0 && rc !== -107) {
      this.destroy(errnoError(rc, 'shutdown', this.fd)); // ENOTCONN (-107): the peer already reset
      return;
    }
    if (this.peerEnded || rc === -107) this.destroy();
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
      this.handler.onDrain?.(this);
      if (this.state !== 'open') return;
    }
    if (this.ending && queue.isEmpty && !this.corked) this.shutdownWrite();
  }

  private armWritable(): void {
    this.writeArmed = true;
    this.updateInterest();
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
    return this.writeArmed ? interest.write : 0;
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
