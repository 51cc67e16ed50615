/**
 * A connection's outgoing bytes, in order: buffers (queued without copying;
 * pooled chunks are held until written) and file segments (sent with
 * sendfile, never entering memory). `flush` moves as much as the kernel
 * takes: runs of buffers with one writev, files with sendfile.
 */
import { PENDING, type Backend, type Owner } from './backend/backend.js';
import { WRITEV_BUFFERS_MAX } from './limits.js';
import { errnoError } from './errors.js';
import { EAGAIN, EINTR, EINTR_RETRIES_MAX } from './errno.js';
import type { BufferPool } from './buffer-pool.js';
import { STAGED_WRITE_SIZE_MAX, WriteStaging } from './write-staging.js';
import { FileSegment, SEGMENT_BLOCKED, SEGMENT_SENT } from './file-segment.js';

/** flush() outcomes besides -errno. */
export const FLUSHED = 0;
export const BLOCKED = 1;
/** A completion backend holds the send: nothing more goes until sent() reports it. */
export const IN_FLIGHT = 2;

/** `inFlight` when the send in flight is the staging run alone. */
const STAGED_IN_FLIGHT = -1;

/** Marks a queue slot that holds a file segment, in the chunk column. */
const FILE_SLOT = -2;
/** What a slot past the queue's end holds: nothing the queue keeps alive. */
const VACANT = new Uint8Array(0);
const NO_CHUNK = -1;
/** The queue's last entry when it is the staging run (write-staging.ts): a marker, its bytes are in the staging chunk. */
const STAGED = new Uint8Array(0);
const STAGED_SLOT = -3;

export class WriteQueue {
  /** Bytes of buffers queued (file segments are not in memory and do not count). */
  bytes: number;
  /** Bytes the last flush() moved, and the system call that failed when it returned -errno. */
  written: number;
  failedSyscall: string;
  /**
   * The queue is entries[0..size): the arrays never shrink, so a steady
   * write pattern reuses their slots (no garbage per write). Slots past
   * `size` hold VACANT, never a buffer the queue no longer owns.
   */
  private readonly entries: Array<Uint8Array | FileSegment>;
  private readonly chunks: number[];
  private size: number;
  private readonly pool: BufferPool;
  /** Small writes copied together; `staged`: the queue's last entry is its run (STAGED). */
  private readonly staging: WriteStaging;
  private staged: boolean;
  /**
   * A send the backend holds (a completion backend): how many head entries
   * it covers (STAGED_IN_FLIGHT: the staging run), 0 when none; and its
   * length. Those entries stay as they are until sent().
   */
  private inFlight: number;
  private inFlightLength: number;

  constructor(pool: BufferPool) {
    this.bytes = 0;
    this.written = 0;
    this.failedSyscall = '';
    // Two slots to begin with (a literal's exact size): the usual queue is
    // one entry (a staging run) or two, and arrays grown from [] by push()
    // take 17 slots at once, ~240 bytes held by every connection that wrote.
    this.entries = [VACANT, VACANT];
    this.chunks = [NO_CHUNK, NO_CHUNK];
    this.size = 0;
    this.pool = pool;
    this.staging = new WriteStaging(pool);
    this.staged = false;
    this.inFlight = 0;
    this.inFlightLength = 0;
  }

  get isEmpty(): boolean {
    return this.size === 0;
  }

  private append(entry: Uint8Array | FileSegment, chunk: number): void {
    const index = this.size;
    if (index === this.entries.length) {
      this.entries.push(entry);
      this.chunks.push(chunk);
    } else {
      this.entries[index] = entry;
      this.chunks[index] = chunk;
    }
    this.size = index + 1;
  }

  /**
   * Queues `data`: a small write is copied into the staging run (it may
   * change once this returns); a larger one is queued without copying, and
   * a pooled view keeps its chunk until written.
   */
  push(data: Uint8Array): void {
    const size = data.byteLength;
    if (size <= STAGED_WRITE_SIZE_MAX && this.stage(data)) {
      this.bytes += size;
      return;
    }
    if (this.staged) this.seal();
    const chunk = this.pool.chunkOf(data);
    if (chunk >= 0) {
      this.pool.checkView(data, chunk);
      this.pool.retain(chunk);
    }
    this.append(data, chunk);
    this.bytes += data.byteLength;
  }

  pushFile(segment: FileSegment): void {
    if (this.staged) this.seal();
    this.append(segment, FILE_SLOT);
  }

  /**
   * Copies `data` into the staging run: the run in progress when it is the
   * queue's last entry, else a new run on an empty queue (a queue already
   * waiting for the kernel takes writes as they are). False: queue it as it is.
   */
  private stage(data: Uint8Array): boolean {
    const pool = this.pool;
    if (pool.poison) {
      const chunk = pool.chunkOf(data);
      if (chunk >= 0) pool.checkView(data, chunk); // a stale pooled view fails here as when queued
    }
    const staging = this.staging;
    if (this.staged) return staging.append(data);
    if (this.size !== 0 || !staging.open(data.byteLength)) return false;
    staging.append(data); // fits: open() made room
    this.append(STAGED, STAGED_SLOT);
    this.staged = true;
    return true;
  }

  /** The run becomes an ordinary pooled view: a larger write or a file follows it, or a writev takes it. */
  private seal(): void {
    const staging = this.staging;
    const last = this.size - 1;
    this.pool.retain(staging.chunk);
    this.entries[last] = staging.bytes!.subarray(staging.start, staging.end);
    this.chunks[last] = staging.chunk;
    this.staged = false; // the chunk stays held until the flush drops it; no run opens before (the queue is not empty)
  }

  /**
   * Writes until empty (FLUSHED), until the kernel is full (BLOCKED), or a
   * failure (-errno); with a completion backend, until a send is in flight
   * (IN_FLIGHT: sent() reports it).
   */
  flush(backend: Backend, target: Owner): number {
    this.written = 0;
    if (this.inFlight !== 0) return IN_FLIGHT; // one send at a time per socket
    if (this.staged) {
      if (this.size === 1) return this.flushStaged(backend, target);
      this.seal();
    }
    const rc = this.flushEntries(backend, target);
    const staging = this.staging;
    if (rc !== IN_FLIGHT && staging.chunk >= 0 && this.size > 0 && this.chunks[0] === staging.chunk) {
      // A sealed run the kernel took only part of (it is always the first
      // entry): its rest waits as a copy, so a reader that does not read
      // holds no pool chunk the readers need.
      this.entries[0] = Buffer.from(this.entries[0] as Uint8Array);
      this.chunks[0] = NO_CHUNK;
      this.pool.release(staging.chunk);
    }
    staging.drop(); // sealed views that were written released their own references
    return rc;
  }

  /**
   * The send in flight completed: `result` bytes went (or -errno). The
   * queue moves past them; flush() may go on.
   */
  sent(result: number): number {
    const covered = this.inFlight;
    const length = this.inFlightLength;
    this.inFlight = 0;
    this.written = 0;
    if (covered === 0) return FLUSHED; // the queue was cleared meanwhile
    if (result < 0) {
      this.failedSyscall = covered === STAGED_IN_FLIGHT || covered === 1 ? 'send' : 'writev';
      if (covered === STAGED_IN_FLIGHT) this.staging.drop();
      return result;
    }
    this.written = result;
    if (covered !== STAGED_IN_FLIGHT) {
      this.consume(result);
      return FLUSHED;
    }
    const staging = this.staging;
    staging.consumed(result);
    this.bytes -= result;
    if (result < length) {
      // The rest waits as a copy: the chunk goes back now.
      this.entries[0] = Buffer.from(staging.bytes!.subarray(staging.start, staging.start + length - result));
      this.chunks[0] = NO_CHUNK;
    } else {
      this.removeHead(1);
    }
    staging.drop();
    return FLUSHED;
  }

  /** The queue is the staging run alone: one write(fd, chunk, offset, length). */
  private flushStaged(backend: Backend, target: Owner): number {
    const staging = this.staging;
    let interrupted = 0;
    for (;;) {
      const length = staging.length;
      const rc = backend.sendRange(target, staging.bytes!, staging.start, length);
      if (rc === PENDING) {
        // Held by the kernel: the run takes no more (later writes queue behind it).
        this.inFlight = STAGED_IN_FLIGHT;
        this.inFlightLength = length;
        this.staged = false;
        return IN_FLIGHT;
      }
      if (rc === EINTR && interrupted < EINTR_RETRIES_MAX) {
        interrupted += 1;
        continue;
      }
      if (rc < 0) {
        this.settle();
        if (rc === EAGAIN) return BLOCKED;
        this.failedSyscall = 'write';
        return rc;
      }
      staging.consumed(rc);
      this.bytes -= rc;
      this.written += rc;
      if (rc < length) {
        this.settle(); // the kernel is full: the rest waits as a copy, the chunk goes back
        return BLOCKED;
      }
      this.removeHead(1);
      this.staged = false;
      staging.drop();
      return FLUSHED;
    }
  }

  /** After a flush that left the run: its rest becomes a right-sized copy and the chunk goes back. */
  private settle(): void {
    const staging = this.staging;
    if (this.staged) {
      this.entries[this.size - 1] = Buffer.from(staging.bytes!.subarray(staging.start, staging.end));
      this.chunks[this.size - 1] = NO_CHUNK;
      this.staged = false;
    }
    staging.drop();
  }

  private flushEntries(backend: Backend, target: Owner): number {
    let interrupted = 0;
    const entries = this.entries;
    while (this.size > 0) {
      const head = entries[0]!;
      if (head instanceof FileSegment) {
        const rc = this.sendFile(backend, target.fd, head);
        if (rc !== FLUSHED) return rc;
        continue;
      }
      let count = 0;
      let asked = 0;
      while (count < this.size && count < WRITEV_BUFFERS_MAX) {
        const entry = entries[count]!;
        if (entry instanceof FileSegment) break;
        asked += entry.byteLength;
        count += 1;
      }
      const rc = backend.send(target, entries as Uint8Array[], count);
      if (rc === PENDING) {
        this.inFlight = count;
        this.inFlightLength = asked;
        return IN_FLIGHT;
      }
      if (rc < 0) {
        if (rc === EAGAIN) return BLOCKED;
        if (rc === EINTR && interrupted < EINTR_RETRIES_MAX) {
          interrupted += 1; // a signal, not the socket: write again
          continue;
        }
        this.failedSyscall = count === 1 ? 'write' : 'writev';
        return rc;
      }
      this.consume(rc);
      this.written += rc;
      if (rc < asked) return BLOCKED; // the kernel's buffer is full
    }
    return FLUSHED;
  }

  /** Drops everything: chunks go back to the pool, file sends fail with `error`. */
  clear(error: Error): void {
    const size = this.size;
    this.size = 0; // first: a reject() callback that writes again finds an empty queue
    this.inFlight = 0; // the backend holds a send's buffers itself until its completion
    for (let index = 0; index < size; index += 1) {
      const entry = this.entries[index]!;
      this.entries[index] = VACANT;
      if (entry instanceof FileSegment) entry.reject(error);
      else if (this.chunks[index]! >= 0) this.pool.release(this.chunks[index]!);
      this.chunks[index] = NO_CHUNK;
    }
    this.staged = false;
    this.staging.drop();
    this.bytes = 0;
  }

  /** Sends the head file segment: FLUSHED, BLOCKED, or -errno (the segment rejected and dropped). */
  private sendFile(backend: Backend, fd: number, segment: FileSegment): number {
    const before = segment.sent;
    const rc = segment.send(backend, fd);
    this.written += segment.sent - before;
    if (rc === SEGMENT_BLOCKED) return BLOCKED;
    this.shift();
    if (rc === SEGMENT_SENT) {
      segment.resolve(segment.sent);
      return FLUSHED;
    }
    this.failedSyscall = 'sendfile';
    return rc;
  }

  private shift(): void {
    this.removeHead(1);
  }

  /** Drops the first `count` entries, moving the rest down (a queue is a few entries long). */
  private removeHead(count: number): void {
    const entries = this.entries;
    const chunks = this.chunks;
    const size = this.size;
    for (let index = count; index < size; index += 1) {
      entries[index - count] = entries[index]!;
      chunks[index - count] = chunks[index]!;
    }
    for (let index = size - count; index < size; index += 1) {
      entries[index] = VACANT;
      chunks[index] = NO_CHUNK;
    }
    this.size = size - count;
  }

  /** Removes `written` bytes of buffers from the head. */
  private consume(written: number): void {
    let left = written;
    let removed = 0;
    while (left > 0) {
      const head = this.entries[removed] as Uint8Array;
      if (head.byteLength > left) {
        this.entries[removed] = head.subarray(left);
        break;
      }
      left -= head.byteLength;
      const chunk = this.chunks[removed]!;
      if (chunk >= 0) this.pool.release(chunk);
      removed += 1;
    }
    if (removed > 0) this.removeHead(removed);
    this.bytes -= written;
  }
}
