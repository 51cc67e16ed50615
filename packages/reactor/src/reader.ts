/**
 * A connection's reading: read turns under the reactor's quota into pooled
 * chunks, the policy's short-read rule, carry-over of bytes left after the
 * quota, the pause/resume state, waiting for the pool, and the peer's FIN.
 * The mode is never named here: the backend's policy says what to do.
 */
import { errnoError } from './errors.js';
import { EAGAIN, EINTR, EINTR_RETRIES_MAX } from './errno.js';
import { READY_ERROR, READY_HUNG_UP, READY_PEER_CLOSED, READY_READABLE } from './backend/backend.js';
import { NOTHING_RECEIVED, ownQueue, restQueue, type ReceivedChunks } from './received-chunks.js';
import type { Carried, Core } from './core.js';
import type { Connection } from './connection.js';

/** Readiness that means "a read will tell something": data, end of stream, hang-up or error. */
const READABLE = READY_READABLE | READY_PEER_CLOSED | READY_HUNG_UP | READY_ERROR;
const HANG_UP = READY_PEER_CLOSED | READY_HUNG_UP | READY_ERROR;
/** A read returns it at once (0 or the error), even paused. */
const HUNG_UP_OR_ERROR = READY_HUNG_UP | READY_ERROR;

/** What a read turn reports back to its connection's registration (which the scheduler carries over). */
export interface ReadSink extends Carried {
  /** Bytes read (a pooled view, valid during the call). */
  receivedView(view: Buffer): void;
  /** Bytes read, as bytes[0..length) of the pool chunk (valid during the call); false when the owner wants a view instead. */
  receivedBytes(bytes: Buffer, length: number): boolean;
  /** The peer finished sending (read returned 0). */
  peerEnded(): void;
  /** The peer's FIN arrived while reading was paused. */
  peerHungUp(): void;
  /** Reading state changed: the interest may need to change. */
  interestChanged(): void;
}

export class Reader {
  /** Replaces reading (a relay splices instead): runs wherever a read turn would. */
  hook: (() => void) | null;
  /**
   * Set when a read turn ended where a new event is guaranteed: EAGAIN, a
   * short read, end of stream, an error, or a carry-over. A hook sets it
   * itself; the ET debug check reports turns that end without it.
   */
  edgeSafe: boolean;
  /** The pool chunk being read into, or -1 (released between turns). */
  chunk: number;
  private readonly core: Core;
  private readonly connection: Connection;
  private readonly sink: ReadSink;
  /** The owner paused reading (backpressure, a pending response). */
  private paused: boolean;
  private waitingForPool: boolean;
  /** The peer's FIN (or a hang-up) was reported: in ET once only, so reads then go on to the end of stream. */
  private hangUpSeen: boolean;
  /** The FIN was told to a paused owner: not asked for again (LT would report it on every wait). */
  private hangUpReported: boolean;
  private ended: boolean;
  /** After closeGracefully(): bytes still arriving are read and dropped. */
  private discarding: boolean;
  /**
   * The turn of the last read turn, and whether it ended with the kernel's
   * queue read empty (EAGAIN or a short read): then a new edge reports
   * what arrives next, and nothing needs carrying.
   */
  private lastTurn: number;
  private readEmpty: boolean;
  /** The pool's call when a chunk is free again: made at the first wait (most connections never wait), then kept. */
  private onPoolAvailable: (() => void) | null;
  /**
   * Chunks the backend received for this connection while it was paused or
   * past its quota, in order (and whether receiving stopped for them):
   * NOTHING_RECEIVED while none waits, so most connections hold no queue.
   */
  private chunks: ReceivedChunks;
  /** Bytes the backend received and handed to the connection in the turn `quotaTurn`. */
  private quotaUsed: number;
  private quotaTurn: number;

  constructor(core: Core, connection: Connection, sink: ReadSink) {
    this.core = core;
    this.connection = connection;
    this.sink = sink;
    this.hook = null;
    this.edgeSafe = true;
    this.chunk = -1;
    this.paused = false;
    this.waitingForPool = false;
    this.hangUpSeen = false;
    this.hangUpReported = false;
    this.ended = false;
    this.discarding = false;
    this.lastTurn = -1;
    this.readEmpty = false;
    this.chunks = NOTHING_RECEIVED;
    this.quotaUsed = 0;
    this.quotaTurn = -1;
    this.onPoolAvailable = null;
  }

  /** Epoll should report readability now. */
  get wantsReading(): boolean {
    return !this.paused && !this.waitingForPool && !this.chunks.backlogged;
  }

  /** Paused, epoll should still report the peer's FIN (once). */
  get watchesHangUp(): boolean {
    // Backlogged, the FIN comes through the backend's receive once it is armed again.
    return !this.hangUpReported && !this.ended && !this.chunks.backlogged;
  }

  /** Chunks the backend received wait here, in order, for the quota or a resume. */
  get keepsChunks(): boolean {
    return this.chunks.waiting;
  }

  get isPaused(): boolean {
    return this.paused;
  }

  /** The peer's FIN was read: nothing more will arrive. */
  get isEnded(): boolean {
    return this.ended;
  }

  /**
   * The backend receives this connection's bytes for it (Owner.received):
   * it never reads itself while reading is on. A relay's hook reads itself.
   */
  private get receivedForIt(): boolean {
    return this.hook === null && this.core.backend.policy.receivesForOwners;
  }

  /**
   * The readable part of readiness (READY_* bits): a read turn, or (paused)
   * a hang-up to read or report. A backend that receives for the
   * connection reports only what it cannot receive: a paused socket's FIN
   * or error.
   */
  ready(bits: number): void {
    if (bits & HANG_UP) this.hangUpSeen = true;
    if (!(bits & READABLE)) return;
    // Hang-up and error are read like data: the read returns 0 or the error
    // (else a paused LT socket spins on HUP), after the chunks received before it.
    if (this.wantsReading || (bits & HUNG_UP_OR_ERROR && !this.chunks.waiting)) this.turn();
    this.reportHangUp(bits);
  }

  /** A FIN that finds (or leaves) reading paused: told once, so a paused owner knows its peer left. */
  private reportHangUp(bits: number): void {
    if (bits & READY_PEER_CLOSED && this.paused && !this.ended && !this.hangUpReported && this.connection.isOpen) {
      this.hangUpReported = true;
      this.sink.interestChanged();
      this.sink.peerHungUp();
    }
  }

  /**
   * The backend received for this connection (Owner.received): `result`
   * bytes in pool chunk `chunk`, 0 at the end of stream, or -errno.
   * Delivered now, or kept in order while paused or past the quota (the
   * scheduler serves the rest).
   */
  received(chunk: number, result: number): void {
    const connection = this.connection;
    if (result > 0) {
      if (!connection.isOpen) {
        this.core.pool.release(chunk);
        return;
      }
      if (this.paused || this.chunks.waiting || !this.quotaAllows(result)) {
        this.keep(chunk, result);
        return;
      }
      this.deliver(chunk, result);
      return;
    }
    if (result === 0) {
      if (this.paused || this.chunks.waiting) this.keep(-1, 0); // after the bytes before it
      else this.endOfStream();
      return;
    }
    connection.destroy(errnoError(result, 'recv', connection.fd));
  }

  /** A received chunk may go now: the turn's first always (never split), the next within the quota (several completions can come in a turn). */
  private quotaAllows(length: number): boolean {
    const core = this.core;
    if (this.quotaTurn !== core.turns) {
      this.quotaTurn = core.turns;
      this.quotaUsed = 0;
    }
    return this.quotaUsed === 0 || this.quotaUsed + length <= core.readQuota;
  }

  private keep(chunk: number, length: number): void {
    if (!this.connection.isOpen) return; // the end of stream of a closed connection: nothing to keep it for
    this.chunks = ownQueue(this.chunks, this.core.receivedChunks);
    const backlogged = this.chunks.push(chunk, length);
    if (!this.paused) this.core.scheduler.carry(this.sink); // past the quota: next turn
    if (backlogged) this.sink.interestChanged();
  }

  /** The kept chunks, in order, while the quota allows and reading is not paused. */
  private deliverPending(): void {
    const chunks = this.chunks;
    while (chunks.waiting && !this.paused && this.connection.isOpen) {
      const chunk = chunks.firstChunk;
      const length = chunks.firstLength;
      if (!this.quotaAllows(length)) {
        this.core.scheduler.carry(this.sink);
        return;
      }
      chunks.shift();
      if (length === 0) this.endOfStream();
      else this.deliver(chunk, length);
    }
    if (this.connection.isOpen && chunks.backlogServed()) this.sink.interestChanged(); // half served: receive again
    this.chunks = restQueue(this.chunks, this.core.receivedChunks);
  }

  /** One received chunk to the owner, as a read turn hands it; the chunk goes back unless kept. */
  private deliver(chunk: number, length: number): void {
    const pool = this.core.pool;
    this.quotaUsed += length;
    this.chunk = chunk;
    try {
      this.hand(pool.bytes(chunk), length);
    } finally {
      // A handler that failed the connection had it closed, and release() gave the chunk back already.
      if (this.chunk === chunk) {
        this.chunk = -1;
        pool.release(chunk); // a lease or a queued write keeps its own reference
      }
    }
  }

  /**
   * Bytes read (bytes[0..length) of this.chunk) to the owner, counted: as
   * the chunk and a length when it takes them so, else as a pooled view.
   */
  private hand(bytes: Buffer, length: number): void {
    const core = this.core;
    const pool = core.pool;
    const connection = this.connection;
    connection.bytesIn += length;
    core.metrics.bytesIn += length;
    core.progress();
    connection.lastActivity = core.now;
    if (this.discarding || (!pool.poison && this.sink.receivedBytes(bytes, length))) return;
    const view = bytes.subarray(0, length);
    if (pool.poison) pool.markView(view, this.chunk);
    this.sink.receivedView(view);
  }

  private endOfStream(): void {
    if (this.ended) return;
    this.ended = true;
    this.paused = true; // nothing more to read; LT must stop asking
    this.sink.interestChanged();
    this.sink.peerEnded();
  }

  /** The scheduler's turn for a carried-over connection. False when nothing was read. */
  serveCarried(): boolean {
    if (!this.connection.isOpen) return false;
    if (this.chunks.waiting) {
      if (this.paused) return false;
      this.deliverPending();
      return true;
    }
    if (!this.wantsReading || this.receivedForIt) return false;
    if (this.lastTurn === this.core.turns) {
      // Already read this turn (its own event came too, or it was paused
      // and resumed within it): one read turn per turn, the rest next turn.
      if (!this.readEmpty) this.core.scheduler.carry(this.sink);
      return false;
    }
    this.turn();
    return true;
  }

  pause(): void {
    this.paused = true;
  }

  /** False when reading cannot resume (never paused, or the peer's FIN came: LT would report the EOF forever). */
  resume(): boolean {
    if (!this.paused || this.ended) return false;
    this.paused = false;
    this.resumed();
    return true;
  }

  /** Bytes still arriving are read and dropped (a server closing gracefully). */
  discard(): void {
    this.discarding = true;
  }

  /** The connection closed: its chunk (and any kept ones) go back to the pool. */
  release(): void {
    if (this.chunk >= 0) {
      this.core.pool.release(this.chunk);
      this.chunk = -1;
    }
    this.chunks.releaseAll(this.core.pool);
    this.chunks = restQueue(this.chunks, this.core.receivedChunks);
  }

  private resumed(): void {
    this.sink.interestChanged();
    // Data may have arrived while paused: in ET no edge will report it; chunks received for it wait.
    if (this.core.backend.policy.carryOnResume || this.chunks.waiting) this.core.scheduler.carry(this.sink);
  }

  private turn(): void {
    if (this.hook !== null) {
      this.edgeSafe = false;
      this.hook();
      return;
    }
    // Every exit below is edge-safe: EAGAIN, short read, end, error, carry,
    // or a pause/pool wait whose resume carries the connection over.
    this.edgeSafe = true;
    const core = this.core;
    const quota = core.readQuota;
    this.lastTurn = core.turns;
    this.readEmpty = false;
    try {
      this.loop(core.backend.policy.stopOnShortRead(quota, this.hangUpSeen), quota);
    } finally {
      // The chunk goes back to the pool between turns: a connection waiting
      // for its next bytes (keep-alive, a slow client) holds no 64 KiB of it.
      // Held, 4 096 idle keep-alive connections would drain the default pool
      // and stall every other reader. The free list hands the same chunk
      // back next turn, so this costs a push and a pop.
      this.release();
    }
  }

  private loop(stopOnShortRead: boolean, quota: number): void {
    const core = this.core;
    const pool = core.pool;
    const backend = core.backend;
    const connection = this.connection;
    const fd = connection.fd;
    let budget = quota;
    let interrupted = 0;
    for (;;) {
      if (this.chunk < 0) {
        this.chunk = pool.acquire();
        if (this.chunk < 0) {
          this.waitForPool();
          return;
        }
      }
      const bytes = pool.bytes(this.chunk);
      const size = budget < bytes.length ? budget : bytes.length;
      const rc = backend.receive(fd, bytes, 0, size);
      if (rc > 0) {
        this.hand(bytes, rc);
        if (!connection.isOpen) return;
        if (pool.referencesOf(this.chunk) > 1) {
          // Leased or queued for writing: hand it over, read into a fresh one.
          pool.release(this.chunk);
          this.chunk = -1;
        }
        budget -= rc;
        if (rc < size && stopOnShortRead) {
          this.readEmpty = true;
          return;
        }
        if (budget <= 0) {
          if (backend.policy.carryLeftover) core.scheduler.carry(this.sink); // no edge will come for what is left
          return;
        }
        if (this.paused) return;
        continue;
      }
      if (rc === EAGAIN) {
        this.readEmpty = true;
        return;
      }
      if (rc === EINTR && interrupted < EINTR_RETRIES_MAX) {
        interrupted += 1; // a signal, not the socket: read again
        continue;
      }
      if (rc === 0) {
        this.endOfStream();
        return;
      }
      connection.destroy(errnoError(rc, 'read', fd));
      return;
    }
  }

  private waitForPool(): void {
    if (this.waitingForPool) return;
    this.waitingForPool = true;
    this.sink.interestChanged();
    this.core.pool.onAvailable(
      (this.onPoolAvailable ??= (): void => {
        this.waitingForPool = false;
        if (this.connection.isOpen && !this.paused) this.resumed();
      }),
    );
  }
}
