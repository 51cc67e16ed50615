/**
 * The io_uring backend's provided-buffer ring: pool chunks handed to the
 * kernel for receives (one per completion; onData still gets a pooled
 * view). A chunk a handler keeps (a lease, a queued write) simply stays out
 * of the ring, and a fresh one from the pool takes its place.
 *
 * The ring holds few chunks at first and doubles what it holds each time a
 * receive ends for want of one (ENOBUFS), up to its cap: an idle or quiet
 * reactor keeps RING_BUFFERS_INITIAL chunks out of its pool, not the cap.
 */
import type { NativePoller } from '../native.js';
import type { BufferPool } from '../buffer-pool.js';

/** Chunks the ring holds at first; it doubles (to its cap) each time a receive finds it empty. */
export const RING_BUFFERS_INITIAL = 64;
/** Buffer ids are 16 bits: a pool the ring takes chunks from has at most this many. */
export const RING_POOL_CHUNKS_MAX = 1 << 16;

export class RingBuffers {
  /** Chunks in the ring now. */
  provided: number;
  /** What the ring holds when full now: grows with load up to `cap`. */
  target: number;
  /** The most it may hold: the ring's size, the option, and half the pool (the rest is for writes and leases). */
  readonly cap: number;
  private readonly pool: BufferPool;
  private readonly poller: NativePoller;
  /** Slabs pinned for the kernel: ArrayBuffer → the ring's index for it. */
  private readonly pinned: Map<ArrayBufferLike, number>;
  /** Chunks in the ring now (1 per id). */
  private readonly inRing: Uint8Array;
  private waitingForPool: boolean;
  private readonly onPoolAvailable: () => void;

  /** A ring of up to `cap` chunks of `pool`; `refilled` runs when chunks came back from a dry pool. */
  constructor(poller: NativePoller, pool: BufferPool, cap: number, refilled: () => void) {
    this.poller = poller;
    this.pool = pool;
    this.cap = Math.max(1, Math.min(cap, Math.floor(pool.maxChunks / 2)));
    this.target = Math.min(RING_BUFFERS_INITIAL, this.cap);
    this.provided = 0;
    this.pinned = new Map();
    this.inRing = new Uint8Array(Math.min(pool.maxChunks, RING_POOL_CHUNKS_MAX));
    this.waitingForPool = false;
    this.onPoolAvailable = (): void => {
      this.waitingForPool = false;
      refilled();
    };
  }

  /** The kernel took `chunk` for a receive: it is the owner's (or goes back to the pool) now. */
  taken(chunk: number): void {
    this.inRing[chunk] = 0;
    this.provided -= 1;
  }

  /** A receive found the ring empty: it holds twice as many from now on (to its cap). */
  grow(): void {
    this.target = Math.min(this.cap, this.target * 2);
  }

  /** Fills the ring to its target from the pool; a dry pool calls `refilled` once chunks come back. */
  fill(): void {
    const pool = this.pool;
    while (this.provided < this.target) {
      const chunk = pool.tryAcquire();
      if (chunk < 0) {
        if (!this.waitingForPool) {
          this.waitingForPool = true;
          pool.onAvailable(this.onPoolAvailable);
        }
        return;
      }
      if (chunk >= this.inRing.length) {
        pool.release(chunk); // past 16-bit ids: the pool's bound is checked at construction, so never
        return;
      }
      this.provide(chunk);
    }
  }

  /** The ring closed (its requests cancelled and waited for): every chunk in it goes back to the pool. */
  releaseAll(): void {
    for (let chunk = 0; chunk < this.inRing.length; chunk += 1) {
      if (this.inRing[chunk] === 1) this.pool.release(chunk);
    }
    this.inRing.fill(0);
    this.provided = 0;
  }

  private provide(chunk: number): void {
    const bytes = this.pool.bytes(chunk);
    let slab = this.pinned.get(bytes.buffer);
    if (slab === undefined) {
      slab = this.poller.ringPin(new Uint8Array(bytes.buffer));
      this.pinned.set(bytes.buffer, slab);
    }
    this.poller.ringProvide(slab, bytes.byteOffset, bytes.byteLength, chunk);
    this.inRing[chunk] = 1;
    this.provided += 1;
  }
}
