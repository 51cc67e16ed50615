/**
 * Fixed-size chunks carved from large ArrayBuffers ("slabs"), bounded by a
 * maximum count. Reads land directly in chunks; a chunk handed to a handler
 * is valid for that callback unless retained. When every chunk is in use the
 * pool says so (acquire returns -1) and the reactor pauses reading instead of
 * allocating without bound; `onAvailable` callbacks run when one is released.
 *
 * Chunks are numbered; each has a reference count and a generation that
 * changes whenever it returns to the pool, so a lease used after release is
 * detected (`Lease.bytes` throws) instead of reading someone else's bytes.
 */
import { outOfRange, ZepollError } from './errors.js';
import { booleanOption, optionsObject } from './validate.js';

/** Options of `new BufferPool()`, or of a reactor's own pool (its `pool` option). */
export interface BufferPoolOptions {
  /** Bytes per chunk (default 64 KiB): the most one read() asks for. */
  readonly chunkSize?: number;
  /** Chunks per slab (default 32): slabs are allocated as the pool grows. */
  readonly chunksPerSlab?: number;
  /** The bound (default 4096 chunks, 256 MiB at the default size). */
  readonly maxChunks?: number;
  /**
   * Debug: fill every chunk that goes back to the pool with POISON_BYTE
   * (default false; on when the environment has ZEPOLL_POISON=1). A handler
   * that kept an onData view past its callback then reads 0xDD bytes in
   * its tests instead of someone else's data later in production. Costs a
   * fill of the chunk per release.
   */
  readonly poison?: boolean;
}

/** What a released chunk is filled with in poison mode: easy to spot in a dump. */
export const POISON_BYTE = 0xdd;

/** A snapshot of a pool's counters, from `pool.stats` (and `reactor.stats.pool`). */
export interface BufferPoolStats {
  /** Bytes per chunk. */
  readonly chunkSize: number;
  /** The bound: the most chunks the pool carves. */
  readonly maxChunks: number;
  /** Chunks carved so far (slabs × chunksPerSlab). */
  readonly allocated: number;
  /** Chunks held now (reads being handled, queued writes, leases). */
  readonly inUse: number;
  /** The most chunks in use at once since the pool began. */
  readonly highWater: number;
  /** Times an acquire found the pool exhausted. */
  readonly waits: number;
}

/** Bytes per chunk unless `chunkSize` says otherwise: 64 KiB. */
export const CHUNK_SIZE_DEFAULT = 64 * 1024;
/** Chunks per slab unless `chunksPerSlab` says otherwise. */
export const CHUNKS_PER_SLAB_DEFAULT = 32;
/** The default bound on chunks: 4096, 256 MiB at the default chunk size. */
export const MAX_CHUNKS_DEFAULT = 4096;
/** One slab is one ArrayBuffer; keep it below V8's comfortable allocation size. */
const SLAB_SIZE_MAX = 256 * 1024 * 1024;

function positiveInteger(name: string, value: number, max: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > max) throw outOfRange(name, `an integer >= 1 and <= ${max}`, value);
  return value;
}

/** A chunk kept past its callback; `release()` gives it back exactly once. */
export class Lease {
  /** The number of the pool chunk this lease holds. */
  readonly index: number;
  private readonly pool: BufferPool;
  private readonly generation: number;
  private readonly view: Uint8Array;
  private released: boolean;

  /**
   * Wraps `view`, bytes of chunk `index` of `pool`. Takes no reference
   * itself: the caller has retained the chunk for the lease. Leases come
   * from `connection.lease(data)`.
   */
  constructor(pool: BufferPool, index: number, view: Uint8Array) {
    this.pool = pool;
    this.index = index;
    this.generation = pool.generationOf(index);
    this.view = view;
    this.released = false;
  }

  /**
   * The retained bytes. Throws once released (the chunk may hold other data by then).
   * @throws ZepollError `ERR_ZEPOLL_LEASE_RELEASED` after `release()`.
   */
  get bytes(): Uint8Array {
    if (this.released || this.pool.generationOf(this.index) !== this.generation) {
      throw new ZepollError('ERR_ZEPOLL_LEASE_RELEASED', 'This pooled buffer was released; copy() it to keep the bytes');
    }
    return this.view;
  }

  /**
   * A copy that outlives the lease.
   * @throws ZepollError `ERR_ZEPOLL_LEASE_RELEASED` after `release()`, as `bytes` does.
   */
  copy(): Uint8Array {
    return Uint8Array.prototype.slice.call(this.bytes);
  }

  /**
   * Gives the chunk back to the pool: the first call drops the lease's
   * reference, later calls do nothing. `bytes` throws from then on.
   */
  release(): void {
    if (this.released) return;
    this.released = true;
    this.pool.release(this.index);
  }
}

/**
 * Fixed-size chunks of memory that reads land in, carved from large
 * ArrayBuffers as needed up to `maxChunks`. A reactor makes its own unless
 * its `pool` option gives one (a pool may be shared by several reactors).
 * A chunk handed to onData is valid until the handler returns, unless
 * retained (a `connection.lease()`, or a queued write of the view).
 */
export class BufferPool {
  /** Bytes per chunk: the most one read asks for. */
  readonly chunkSize: number;
  /** Chunks carved at a time, in one ArrayBuffer (a slab), as the pool grows. */
  readonly chunksPerSlab: number;
  /** The bound: the most chunks the pool carves; acquire() returns -1 once all are in use. */
  readonly maxChunks: number;
  /** Released chunks are filled with POISON_BYTE (debug). */
  readonly poison: boolean;
  /** Poison mode: the generation of each view handed to onData, so a stale one is refused by write(). */
  private readonly viewGenerations: WeakMap<Uint8Array, number> | null;
  private readonly chunks: Buffer[];
  private readonly references: Uint32Array;
  private readonly generations: Uint32Array;
  private readonly free: number[];
  private readonly slabIndex: Map<ArrayBufferLike, number>;
  private readonly waiters: Array<() => void>;
  private inUseCount: number;
  private highWaterCount: number;
  private waitCount: number;
  private notifying: boolean;

  /**
   * Makes an empty pool: slabs are allocated as chunks are first needed.
   * @throws TypeError/RangeError with a `code` for a bad option: TypeError
   *   `ERR_INVALID_ARG_TYPE` when `options` is not an object or `poison` is
   *   not a boolean; RangeError `ERR_OUT_OF_RANGE` when a size is not an
   *   integer of at least 1 (a slab at most 256 MiB, `maxChunks` at most 2^24).
   */
  constructor(poolOptions?: BufferPoolOptions) {
    const options = optionsObject('options', poolOptions);
    this.chunkSize = positiveInteger('options.chunkSize', options.chunkSize ?? CHUNK_SIZE_DEFAULT, SLAB_SIZE_MAX);
    this.chunksPerSlab = positiveInteger('options.chunksPerSlab', options.chunksPerSlab ?? CHUNKS_PER_SLAB_DEFAULT, Math.floor(SLAB_SIZE_MAX / this.chunkSize));
    this.maxChunks = positiveInteger('options.maxChunks', options.maxChunks ?? MAX_CHUNKS_DEFAULT, 1 << 24);
    this.poison = booleanOption('options.poison', options.poison, process.env['ZEPOLL_POISON'] === '1');
    this.viewGenerations = this.poison ? new WeakMap() : null;
    this.chunks = [];
    this.references = new Uint32Array(this.maxChunks);
    this.generations = new Uint32Array(this.maxChunks);
    this.free = [];
    this.slabIndex = new Map();
    this.waiters = [];
    this.inUseCount = 0;
    this.highWaterCount = 0;
    this.waitCount = 0;
    this.notifying = false;
  }

  /** A chunk index with one reference, or -1 when the pool is at its bound. */
  acquire(): number {
    const index = this.tryAcquire();
    if (index < 0) this.waitCount += 1;
    return index;
  }

  /**
   * A chunk index with one reference, or -1 when the pool is at its bound,
   * without counting a wait: for a caller that has another way (a write
   * staged in a chunk is queued as it is instead).
   */
  tryAcquire(): number {
    if (this.free.length === 0 && !this.grow()) return -1;
    const index = this.free.pop()!;
    this.references[index] = 1;
    this.inUseCount += 1;
    if (this.inUseCount > this.highWaterCount) this.highWaterCount = this.inUseCount;
    return index;
  }

  /** The whole chunk's bytes (a view made once, at carving). */
  bytes(index: number): Buffer {
    return this.chunks[index]!;
  }

  /**
   * One more holder of an acquired chunk (a queued write, a lease).
   * @throws ZepollError `ERR_ZEPOLL_LEASE_RELEASED` when the chunk is not in use.
   */
  retain(index: number): void {
    if (this.references[index] === 0) throw new ZepollError('ERR_ZEPOLL_LEASE_RELEASED', `chunk ${index} is not in use`);
    this.references[index] = this.references[index]! + 1;
  }

  /**
   * Drops one holder; the last one returns the chunk to the pool.
   * @throws ZepollError `ERR_ZEPOLL_LEASE_RELEASED` when the chunk has no holder left (released twice).
   */
  release(index: number): void {
    const count = this.references[index]!;
    if (count === 0) throw new ZepollError('ERR_ZEPOLL_LEASE_RELEASED', `chunk ${index} released twice`);
    this.references[index] = count - 1;
    if (count > 1) return;
    this.generations[index] = (this.generations[index]! + 1) >>> 0;
    if (this.poison) this.chunks[index]!.fill(POISON_BYTE);
    this.inUseCount -= 1;
    this.free.push(index);
    if (this.waiters.length > 0) this.notify();
  }

  /** The chunk a view lies in, or -1 when it is not pooled memory. */
  chunkOf(view: Uint8Array): number {
    const slab = this.slabIndex.get(view.buffer);
    if (slab === undefined) return -1;
    return slab * this.chunksPerSlab + Math.floor(view.byteOffset / this.chunkSize);
  }

  /** Poison mode: remembers which generation of chunk `index` the view `view` was made in. */
  markView(view: Uint8Array, index: number): void {
    this.viewGenerations?.set(view, this.generations[index]!);
  }

  /**
   * Poison mode: a view handed out in an earlier generation of its chunk
   * (kept past its onData, the chunk since reused, perhaps by another
   * connection) is refused instead of sending someone else's bytes.
   * @throws ZepollError `ERR_ZEPOLL_LEASE_RELEASED` for such a stale view.
   */
  checkView(view: Uint8Array, index: number): void {
    const generation = this.viewGenerations?.get(view);
    if (generation !== undefined && generation !== this.generations[index]) {
      throw new ZepollError('ERR_ZEPOLL_LEASE_RELEASED', 'a pooled view was used after its onData returned (its chunk now holds other bytes); copy it with Buffer.from(data) or lease() it');
    }
  }

  /**
   * The generation of chunk `index`: it changes each time the chunk returns
   * to the pool, so a holder can tell that it was reused (a Lease checks it).
   */
  generationOf(index: number): number {
    return this.generations[index]!;
  }

  /** Holders of chunk `index` now: 0 when it is free in the pool. */
  referencesOf(index: number): number {
    return this.references[index]!;
  }

  /** Runs `callback` once, the next time a chunk is released. */
  onAvailable(callback: () => void): void {
    this.waiters.push(callback);
  }

  /** A snapshot of the pool's counters (a new object per read). */
  get stats(): BufferPoolStats {
    return {
      chunkSize: this.chunkSize,
      maxChunks: this.maxChunks,
      allocated: this.chunks.length,
      inUse: this.inUseCount,
      highWater: this.highWaterCount,
      waits: this.waitCount,
    };
  }

  private grow(): boolean {
    const remaining = this.maxChunks - this.chunks.length;
    if (remaining <= 0) return false;
    const count = Math.min(this.chunksPerSlab, remaining);
    const slab = new ArrayBuffer(count * this.chunkSize);
    const slabNumber = this.chunks.length / this.chunksPerSlab;
    this.slabIndex.set(slab, slabNumber);
    const first = this.chunks.length;
    // Buffer views (a Uint8Array subclass): their subarrays are Buffers too,
    // so a consumer that wants a Buffer (the HTTP parser) needs no wrapper.
    for (let offset = 0; offset < count; offset += 1) this.chunks.push(Buffer.from(slab, offset * this.chunkSize, this.chunkSize));
    // Lowest index on top of the free list: reuse keeps the working set small.
    for (let index = first + count - 1; index >= first; index -= 1) this.free.push(index);
    return true;
  }

  private notify(): void {
    if (this.notifying) return; // a waiter that releases does not recurse
    this.notifying = true;
    try {
      while (this.waiters.length > 0 && this.free.length > 0) this.waiters.shift()!();
    } finally {
      this.notifying = false;
    }
  }
}
