/**
 * io_uring sends in flight: one per socket, its buffers (and their pool
 * chunks) held until its completion, whatever happens meanwhile to the
 * connection's queue (a destroy() clears it; the kernel may still be
 * reading those bytes). The record lives in the owner's slot, so a send
 * and its completion cost no lookup; an owner released with a send in
 * flight leaves its record here, keyed by its generation, until the
 * completion (or the ring's close) comes. A record goes back to a free
 * list at its completion: a socket with nothing in flight holds none.
 */
import type { BufferPool } from '../buffer-pool.js';
import { FreeList } from '../free-list.js';

/** The chunks and buffers of a socket's send in flight. */
export interface InFlight {
  /** chunks[0..chunkCount) and buffers[0..bufferCount): the arrays never shrink (length = 0 would allocate again). */
  chunks: number[];
  chunkCount: number;
  buffers: Uint8Array[];
  bufferCount: number;
}

/** What a released send slot holds: nothing the backend keeps alive. */
const VACANT = new Uint8Array(0);

/** A new record for a send. */
function inFlight(): InFlight {
  return { chunks: [], chunkCount: 0, buffers: [], bufferCount: 0 };
}

export class RingSends {
  private readonly pool: BufferPool;
  /** Records of released owners whose send was in flight, by the owner's generation. */
  private readonly orphans: Map<number, InFlight>;
  /** Records of no send in flight, for the next send. */
  private readonly records: FreeList<InFlight>;

  constructor(pool: BufferPool) {
    this.pool = pool;
    this.orphans = new Map();
    this.records = new FreeList();
  }

  /** A record for a socket's send: a free one, or a new one; done() gives it back. */
  take(): InFlight {
    return this.records.take() ?? inFlight();
  }

  /** Keeps `buffer` (and its pool chunk) until the send completes: a queue cleared meanwhile cannot free them. */
  hold(record: InFlight, buffer: Uint8Array): void {
    if (record.bufferCount === record.buffers.length) record.buffers.push(buffer);
    else record.buffers[record.bufferCount] = buffer;
    record.bufferCount += 1;
    const chunk = this.pool.chunkOf(buffer);
    if (chunk >= 0) {
      this.pool.retain(chunk);
      if (record.chunkCount === record.chunks.length) record.chunks.push(chunk);
      else record.chunks[record.chunkCount] = chunk;
      record.chunkCount += 1;
    }
  }

  /** The send of `record` completed (or was cancelled): its chunks go back, its buffers are let go, and the record to the free list. */
  done(record: InFlight): void {
    for (let index = 0; index < record.chunkCount; index += 1) this.pool.release(record.chunks[index]!);
    for (let index = 0; index < record.bufferCount; index += 1) record.buffers[index] = VACANT;
    record.chunkCount = 0;
    record.bufferCount = 0;
    this.records.give(record);
  }

  /** The owner of `generation` is released: a send still in flight keeps its buffers here until its completion. */
  orphan(generation: number, record: InFlight | null): void {
    if (record !== null && record.bufferCount > 0) this.orphans.set(generation, record);
  }

  /** A send of a released owner completed. */
  orphanDone(generation: number): void {
    const record = this.orphans.get(generation);
    if (record === undefined) return;
    this.orphans.delete(generation);
    this.done(record);
  }

  /** The ring closed (every request cancelled and waited for): everything still held goes back. */
  releaseAll(): void {
    for (const record of this.orphans.values()) this.done(record);
    this.orphans.clear();
  }
}
