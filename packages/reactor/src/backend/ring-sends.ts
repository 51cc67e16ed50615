/**
 * io_uring sends in flight: one per socket, its buffers (and their pool
 * chunks) held until its completion, whatever happens meanwhile to the
 * connection's queue (a destroy() clears it; the kernel may still be
 * reading those bytes).
 */
import type { BufferPool } from '../buffer-pool.js';

/** The chunks and buffers of a socket's send in flight. */
interface InFlight {
  /** The generation of the owner whose send it is: a late completion for a closed owner releases only its own. */
  generation: number;
  /** chunks[0..chunkCount) and buffers[0..bufferCount): the arrays never shrink (length = 0 would allocate again). */
  chunks: number[];
  chunkCount: number;
  buffers: Uint8Array[];
  bufferCount: number;
}

/** What a released send slot holds: nothing the backend keeps alive. */
const VACANT = new Uint8Array(0);

export class RingSends {
  private readonly pool: BufferPool;
  private readonly sending: Map<number, InFlight>;

  constructor(pool: BufferPool) {
    this.pool = pool;
    this.sending = new Map();
  }

  /** The record of `fd`'s send for the owner of `generation` (one record per fd, reused). */
  begin(fd: number, generation: number): InFlight {
    let record = this.sending.get(fd);
    if (record === undefined) {
      record = { generation, chunks: [], chunkCount: 0, buffers: [], bufferCount: 0 };
      this.sending.set(fd, record);
    }
    record.generation = generation;
    return record;
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

  /** `fd`'s send for `generation` completed (or was cancelled): its chunks go back, its buffers are let go. */
  release(fd: number, generation: number): void {
    const record = this.sending.get(fd);
    if (record === undefined || record.generation !== generation) return;
    for (let index = 0; index < record.chunkCount; index += 1) this.pool.release(record.chunks[index]!);
    for (let index = 0; index < record.bufferCount; index += 1) record.buffers[index] = VACANT;
    record.chunkCount = 0;
    record.bufferCount = 0;
  }

  /** The ring closed (every request cancelled and waited for): everything held goes back. */
  releaseAll(): void {
    for (const [fd, record] of this.sending) this.release(fd, record.generation);
  }
}
