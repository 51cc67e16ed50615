/**
 * Small writes copied into one pooled chunk, so that the writes an event
 * makes to a connection (a response head and its body, sixteen pipelined
 * responses) leave with one write(fd, chunk, offset, length): no iovec
 * array to gather, no view object per write. The chunk is held only while
 * the queue is being filled and flushed: a run the kernel did not take
 * whole is moved out to a right-sized copy (writeQueue.settle()), so a
 * slow reader never keeps a 64 KiB chunk away from the readers.
 */
import type { BufferPool } from './buffer-pool.js';

/** Writes up to this size are copied into the staging chunk; larger ones are queued as they are (no copy). */
export const STAGED_WRITE_SIZE_MAX = 1024;

export class WriteStaging {
  /** The chunk runs are copied into, or -1 when none is held. */
  chunk: number;
  /** Its bytes (the pool's view of the chunk), or null. */
  bytes: Buffer | null;
  /** The run being filled: bytes[start..end). Empty when start === end. */
  start: number;
  end: number;
  private readonly pool: BufferPool;

  constructor(pool: BufferPool) {
    this.pool = pool;
    this.chunk = -1;
    this.bytes = null;
    this.start = 0;
    this.end = 0;
  }

  get length(): number {
    return this.end - this.start;
  }

  /**
   * Starts a run in a fresh chunk. The queue opens one only when it is
   * empty, and every flush and clear drops the chunk, so none is held here.
   * False when the pool has no chunk to spare: the caller queues the write
   * as it is.
   */
  open(size: number): boolean {
    if (size > this.pool.chunkSize) return false; // a pool of small chunks: queued as it is
    if (this.chunk >= 0) throw new Error('unreachable: a staging run opened while a chunk is held');
    const chunk = this.pool.tryAcquire();
    if (chunk < 0) return false;
    this.chunk = chunk;
    this.bytes = this.pool.bytes(chunk);
    this.start = 0;
    this.end = 0;
    return true;
  }

  /** Copies `data` to the end of the run; false when it does not fit. */
  append(data: Uint8Array): boolean {
    const bytes = this.bytes!;
    const size = data.byteLength;
    if (this.end + size > bytes.length) return false;
    bytes.set(data, this.end);
    this.end += size;
    return true;
  }

  /** The run's first `count` bytes were written. */
  consumed(count: number): void {
    this.start += count;
  }

  /** Gives the chunk back (views made of it hold their own references). */
  drop(): void {
    if (this.chunk >= 0) this.pool.release(this.chunk);
    this.chunk = -1;
    this.bytes = null;
    this.start = 0;
    this.end = 0;
  }
}
