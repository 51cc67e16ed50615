/**
 * Chunks a backend received for a connection (Owner.received) that wait
 * for it: it was paused, or past its turn's read quota. Kept in order as
 * (chunk, length) pairs, a length of 0 standing for the end of stream,
 * in an array that never shrinks (no garbage per chunk); and the backlog:
 * receiving stops while PENDING_CHUNKS_MAX wait, until half are served.
 * Readiness backends never fill it: a connection reads itself there. A
 * reader takes one from the reactor's free list when a chunk must wait
 * and gives it back once none does (reader.ts).
 */
import type { BufferPool } from './buffer-pool.js';
import type { FreeList } from './free-list.js';

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
  /** So many chunks wait that receiving stopped (TCP holds the rest back) until half are served. */
  backlogged: boolean;

  constructor() {
    this.pending = [];
    this.head = 0;
    this.tail = 0;
    this.backlogged = false;
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

  /** The connection closed: every waiting chunk goes back to `pool`, and the queue is as new. */
  releaseAll(pool: BufferPool): void {
    const pending = this.pending;
    for (let index = this.head; index < this.tail; index += 2) if (pending[index + 1]! > 0) pool.release(pending[index]!);
    this.head = 0;
    this.tail = 0;
    this.backlogged = false;
  }
}

/** Every reader's queue while none waits: empty for ever (ownQueue() gives a reader its own before a push). */
export const NOTHING_RECEIVED = new ReceivedChunks();

/** Where a chunk that must wait goes: `chunks`, or in place of NOTHING_RECEIVED a queue from `free` (or a new one). */
export function ownQueue(chunks: ReceivedChunks, free: FreeList<ReceivedChunks>): ReceivedChunks {
  return chunks !== NOTHING_RECEIVED ? chunks : (free.take() ?? new ReceivedChunks());
}

/** `chunks` while some wait (or it is backlogged); else NOTHING_RECEIVED, and the queue goes back to `free`. */
export function restQueue(chunks: ReceivedChunks, free: FreeList<ReceivedChunks>): ReceivedChunks {
  if (chunks === NOTHING_RECEIVED || chunks.waiting || chunks.backlogged) return chunks;
  free.give(chunks);
  return NOTHING_RECEIVED;
}
