/**
 * Chunks a backend received for a connection (Owner.received) that wait
 * for it: it was paused, or past its turn's read quota. Kept in order as
 * (chunk, length) pairs, a length of 0 standing for the end of stream,
 * in an array that never shrinks (no garbage per chunk); and the backlog:
 * receiving stops while PENDING_CHUNKS_MAX wait, until half are served.
 * Readiness backends never fill it: a connection reads itself there.
 */
import type { BufferPool } from './buffer-pool.js';

/** What the quota is counted against: the reactor's turn number and read quota. */
interface QuotaClock {
  readonly turns: number;
  readonly readQuota: number;
}

/**
 * Chunks a connection may have waiting before its receives stop (the
 * kernel's TCP window then holds the rest back); they start again once
 * half are served. Without it, a firehose past its quota would fill the
 * backend's buffer ring with its chunks and starve the others' receives.
 */
export const PENDING_CHUNKS_MAX = 8;

export class ReceivedChunks {
  /** [chunk, length] pairs in pending[head..tail). */
  private readonly pending: number[];
  private head: number;
  private tail: number;
  /** Bytes handed to the connection in the turn `quotaTurn` (received for it, not read by it). */
  quotaUsed: number;
  private quotaTurn: number;
  /** So many chunks wait that receiving stopped (TCP holds the rest back) until half are served. */
  backlogged: boolean;

  constructor() {
    this.pending = [];
    this.head = 0;
    this.tail = 0;
    this.quotaUsed = 0;
    this.quotaTurn = -1;
    this.backlogged = false;
  }

  /**
   * Whether a chunk of `length` bytes may go to the connection in this
   * turn: the first always (a chunk is never split), the next while the
   * turn's total stays within the read quota. A turn can hold several of a
   * connection's receives (the completions its own submission brought back).
   */
  quotaAllows(clock: QuotaClock, length: number): boolean {
    if (this.quotaTurn !== clock.turns) {
      this.quotaTurn = clock.turns;
      this.quotaUsed = 0;
    }
    return this.quotaUsed === 0 || this.quotaUsed + length <= clock.readQuota;
  }

  /** Some wait. */
  get waiting(): boolean {
    return this.head < this.tail;
  }

  /**
   * Keeps `length` bytes of pool chunk `chunk` (length 0, chunk -1: the end
   * of stream) after those waiting. True when that made PENDING_CHUNKS_MAX
   * wait: backlogged now, receiving should stop.
   */
  push(chunk: number, length: number): boolean {
    const pending = this.pending;
    const tail = this.tail;
    if (tail === pending.length) pending.push(chunk, length);
    else {
      pending[tail] = chunk;
      pending[tail + 1] = length;
    }
    this.tail = tail + 2;
    if (this.backlogged || this.tail - this.head < PENDING_CHUNKS_MAX * 2) return false;
    this.backlogged = true;
    return true;
  }

  /** True when a backlog is half served (fewer than half of PENDING_CHUNKS_MAX wait): no longer backlogged, receiving may start again. */
  backlogServed(): boolean {
    if (!this.backlogged || this.tail - this.head >= PENDING_CHUNKS_MAX) return false;
    this.backlogged = false;
    return true;
  }

  /** The first waiting chunk (read it before shift()). */
  get firstChunk(): number {
    return this.pending[this.head]!;
  }

  /** The first waiting chunk's length (0: the end of stream). */
  get firstLength(): number {
    return this.pending[this.head + 1]!;
  }

  /** The first is taken; the queue starts over once empty. */
  shift(): void {
    this.head += 2;
    if (this.head >= this.tail) {
      this.head = 0;
      this.tail = 0;
    }
  }

  /** The connection closed: every waiting chunk goes back to `pool`. */
  releaseAll(pool: BufferPool): void {
    const pending = this.pending;
    for (let index = this.head; index < this.tail; index += 2) if (pending[index + 1]! > 0) pool.release(pending[index]!);
    this.head = 0;
    this.tail = 0;
  }
}
