/**
 * The io_uring backend: a stream's receives and sends are completions, the
 * rest is readiness. Each stream has a receive armed into a
 * provided-buffer ring whose buffers are pool chunks (one buffer per
 * receive, armed again after each batch: see native/bind/ring.zig), so onData still gets
 * a pooled view; a chunk a handler keeps (a lease, a queued write) simply
 * stays out of the ring, and a fresh one from the pool takes its place.
 * Sends are requests too (one in flight per socket, its buffers held until
 * its completion); a turn's requests reach the kernel with one
 * io_uring_enter at its end. Closing is cancel-then-close, so an armed
 * receive cannot keep the socket open.
 *
 * Listeners, pending connects, a paused stream's FIN, writability for
 * sendFile and a relay's splicing stay on readiness: the ring lives beside
 * the poller's epoll set (its eventfd is in that set), and those owners
 * use it level-triggered, as the LT backend does.
 */
import { binding, constants, RING_BUFFER, RING_COUNTER_NAMES, RING_MORE, RING_OP } from '../native.js';
import { ZepollError, errnoError } from '../errors.js';
import { ENOBUFS } from '../errno.js';
import type { BufferPool } from '../buffer-pool.js';
import { EpollBackend } from './epoll.js';
import { PENDING, type Owner, type OwnerKind, type SendTarget } from './backend.js';
import { POLICIES } from './policies.js';
import { describeIoUringProbe, type IoUringSupport } from './io-uring-support.js';

const { EPOLLIN, EPOLLOUT, EPOLLRDHUP } = constants;

/** Submission-queue entries of a reactor's ring: a turn's requests beyond it are sent in more than one enter. */
export const RING_ENTRIES_DEFAULT = 1024;
/**
 * Pool chunks kept in the buffer ring for receives (the ring itself is the
 * next power of two). The kernel takes one buffer per connection with bytes
 * waiting each time its completion work runs: fewer
 * buffers than busy connections end receives with ENOBUFS (measured at
 * -c 1000 with 512: half the completions were ENOBUFS, half the throughput).
 */
export const RING_BUFFERS_DEFAULT = 2048;
/**
 * The chunk size of an io_uring reactor's own pool unless `pool.chunkSize`
 * says otherwise: 2048 ring buffers of 16 KiB hold 32 MiB, where the epoll
 * default's 64 KiB chunks would hold 128 MiB waiting for receives.
 */
export const RING_CHUNK_SIZE_DEFAULT = 16 * 1024;
/** Completions copied out per reap: the words array holds this many. */
const COMPLETIONS_PER_REAP = 1024;
/** Words per completion in `completions`: fd, generation, op | flags, result (native/limits.zig's completion_words). */
export const COMPLETION_WORDS = 4;
/** Buffer ids are 16 bits: a pool the ring takes chunks from has at most this many. */
export const RING_POOL_CHUNKS_MAX = 1 << 16;

/** The chunks and buffers of a socket's send in flight: held until its completion, whatever happens to the queue. */
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

/** The io_uring backend's counts (`reactor.stats.ring`). */
export interface RingStats {
  /** Pool chunks the buffer ring holds now, waiting for receives (counted in the pool's inUse). */
  readonly buffers: number;
  /** io_uring_enter calls: submissions and reaps (system calls). */
  readonly enter: number;
  /** Reads of the ring's eventfd, one per reap (system calls). */
  readonly eventfdReads: number;
  /** Requests queued (submission-queue entries). */
  readonly sqes: number;
  /** Completions reaped. */
  readonly cqes: number;
  /** Receives ended for want of a buffer (each re-armed once buffers were back). */
  readonly enobufs: number;
  /** Reaps that found the completion queue overflowed (completions the kernel kept aside). */
  readonly overflows: number;
}

/** The error `backend: 'io_uring'` throws where io_uring cannot serve. */
export function ioUringUnavailable(support: IoUringSupport): ZepollError {
  return new ZepollError('ERR_ZEPOLL_IO_URING_UNAVAILABLE', `io_uring is unavailable (${String(support.code)}): ${support.reason}`);
}

export class UringBackend extends EpollBackend {
  override readonly name = 'io_uring' as const;
  /** Four words per completion (fd, generation, op | flags, result), written by each reap. */
  readonly completions: Int32Array;
  /** The ring's counts as of the last refresh (RING_COUNTER_NAMES order). */
  readonly ringCounters: Float64Array;
  private readonly pool: BufferPool;
  private readonly eventFd: number;
  /** Slabs pinned for the kernel: ArrayBuffer → the ring's index for it. */
  private readonly pinned: Map<ArrayBufferLike, number>;
  /** Chunks in the buffer ring now (1 per id), and how many it should hold. */
  private readonly inRing: Uint8Array;
  private provided: number;
  private readonly bufferTarget: number;
  private waitingForPool: boolean;
  /** Streams whose receive ended for want of a buffer: re-armed once buffers are back. */
  private readonly starved: Set<Owner>;
  /** Streams whose receive ended otherwise in this batch (cancelled, or the kernel ended it): re-armed after it if still wanted. */
  private readonly rearming: Owner[];
  private readonly sending: Map<number, InFlight>;
  /** Inside a turn: requests wait for its end. */
  private batching: boolean;
  private queued: number;

  /**
   * A ring beside a poller of `capacity` events; `onCompletions` runs (in a
   * turn) when completions wait. Takes receive buffers from `pool`.
   * @throws ZepollError `ERR_ZEPOLL_IO_URING_UNAVAILABLE` when the ring cannot be made here.
   */
  constructor(capacity: number, pool: BufferPool, onCompletions: () => void, buffers = RING_BUFFERS_DEFAULT) {
    super(POLICIES.lt, capacity);
    const ringSize = 2 ** Math.ceil(Math.log2(Math.max(buffers, 1)));
    const eventFd = this.poller.ringOpen(RING_ENTRIES_DEFAULT, ringSize);
    if (eventFd < 0) {
      super.close();
      throw ioUringUnavailable(describeIoUringProbe(eventFd));
    }
    this.eventFd = eventFd;
    this.pool = pool;
    this.completions = new Int32Array(COMPLETIONS_PER_REAP * COMPLETION_WORDS);
    this.ringCounters = new Float64Array(RING_COUNTER_NAMES.length);
    this.pinned = new Map();
    this.inRing = new Uint8Array(Math.min(pool.maxChunks, RING_POOL_CHUNKS_MAX));
    this.provided = 0;
    // At most half the pool: the rest is for writes staged and chunks handlers keep.
    this.bufferTarget = Math.min(buffers, ringSize, Math.max(1, Math.floor(pool.maxChunks / 2)));
    this.waitingForPool = false;
    this.starved = new Set();
    this.rearming = [];
    this.sending = new Map();
    this.batching = false;
    this.queued = 0;
    // The eventfd's readiness: completions wait. Generation 0 is never an owner's.
    const pump: Owner = { fd: eventFd, generation: 0, interest: EPOLLIN, inEvent: false, handleEvent: onCompletions, fail: () => {} };
    this.table.set(eventFd, pump);
    this.replenish();
  }

  override open(owner: Owner, kind: OwnerKind): void {
    const accepts = kind === 'listener' && owner.handleCompletion !== undefined; // a multishot accept: one completion per connection
    if (kind !== 'stream' && !accepts) {
      super.open(owner, kind);
      return;
    }
    this.assignGeneration(owner);
    owner.interest = 0;
    owner.ringInEpoll = false;
    owner.ringAccepts = accepts;
    owner.ringReceiving = false;
    owner.ringCancelling = false;
    owner.ringWanted = accepts || owner.takesCompletions === true;
    this.table.set(owner.fd, owner);
    if (!owner.ringWanted) return;
    if (accepts) this.armAccept(owner);
    else this.armReceive(owner);
  }

  override arm(owner: Owner, reading: boolean, writing: boolean, watchHangUp: boolean): void {
    if (owner.takesCompletions === undefined) {
      super.arm(owner, reading, writing, watchHangUp);
      return;
    }
    const byRing = reading && owner.takesCompletions;
    owner.ringWanted = byRing;
    // One receive per socket: one being cancelled is re-armed after its last completion (completionsDone).
    if (byRing && owner.ringReceiving !== true) this.armReceive(owner);
    else if (!byRing && owner.ringReceiving === true && owner.ringCancelling !== true) this.cancelReceive(owner);
    let interest = writing ? EPOLLOUT : 0;
    if (reading && !owner.takesCompletions) interest |= EPOLLIN | EPOLLRDHUP; // a relay's splicing: readiness
    else if (!reading && watchHangUp) interest |= EPOLLRDHUP; // paused: told of the FIN once
    this.setInterest(owner, interest);
  }

  override setListening(owner: Owner, on: boolean): void {
    if (owner.ringAccepts !== true) {
      super.setListening(owner, on);
      return;
    }
    owner.ringWanted = on;
    if (on && owner.ringReceiving !== true) this.armAccept(owner);
    else if (!on && owner.ringReceiving === true && owner.ringCancelling !== true) this.cancelArmed(owner, RING_OP.accept);
  }

  override release(owner: Owner): void {
    if (owner.takesCompletions === undefined && owner.ringAccepts !== true) {
      super.release(owner);
      return;
    }
    if (this.table.get(owner.fd) === owner) this.table.delete(owner.fd);
    this.starved.delete(owner);
    if (this.closed) {
      binding.close(owner.fd);
      return;
    }
    if (owner.ringInEpoll === true) this.poller.remove(owner.fd);
    owner.ringInEpoll = false;
    owner.ringReceiving = false;
    const rc = this.poller.ringClose(owner.fd, owner.generation);
    this.queuedOne(rc, 'io_uring close');
  }

  override send(target: SendTarget, buffers: readonly Uint8Array[], count: number): number {
    const record = this.inFlightOf(target);
    for (let index = 0; index < count; index += 1) this.hold(record, buffers[index]!);
    const rc = this.poller.ringSend(target.fd, target.generation, buffers, count);
    this.queuedOne(rc, 'io_uring send');
    return PENDING;
  }

  override sendRange(target: SendTarget, buffer: Uint8Array, offset: number, length: number): number {
    this.hold(this.inFlightOf(target), buffer);
    const rc = this.poller.ringSendRange(target.fd, target.generation, buffer, offset, length);
    this.queuedOne(rc, 'io_uring send');
    return PENDING;
  }

  override beginTurn(): void {
    this.batching = true;
  }

  override endTurn(): void {
    this.batching = false;
    if (this.queued > 0) this.submit();
  }

  /** Copies what completed into `completions`: how many (0 when none). */
  reap(): number {
    const count = this.poller.ringReap(this.completions);
    this.queued = 0; // a reap submits what was queued
    if (count < 0) throw errnoError(count, 'io_uring_enter');
    return count;
  }

  /**
   * The backend's share of completion `index` (buffers back, receives that
   * ended, sends' held chunks), then the owner it is for, or undefined when
   * it is the backend's own or meant for a closed owner.
   */
  completionOwner(index: number): Owner | undefined {
    const words = this.completions;
    const base = index * COMPLETION_WORDS;
    const fd = words[base]!;
    const generation = words[base + 1]! >>> 0;
    const flags = words[base + 2]!;
    const result = words[base + 3]!;
    const op = flags & 0xff;
    if (op === RING_OP.send) this.releaseSend(fd, generation);
    if (op === RING_OP.cancel || op === RING_OP.close) return undefined; // the backend's own
    if (op === RING_OP.recv && (flags & RING_BUFFER) !== 0) {
      const chunk = flags >>> 16;
      this.inRing[chunk] = 0;
      this.provided -= 1;
    }
    const owner = this.table.get(fd);
    if (owner === undefined || owner.generation !== generation) {
      this.staleEvents += 1;
      if (op === RING_OP.recv && (flags & RING_BUFFER) !== 0) this.pool.release(flags >>> 16);
      if (op === RING_OP.accept && result >= 0) this.closeFd(result); // its listener is gone
      return undefined;
    }
    if (op === RING_OP.accept && (flags & RING_MORE) === 0) {
      owner.ringReceiving = false;
      owner.ringCancelling = false;
      this.rearming.push(owner); // armed again after this batch if still wanted (a backing-off server is not)
    }
    if (op === RING_OP.recv && (flags & RING_MORE) === 0) {
      // Its last completion: the socket has no receive now. Wanted still (it ended by itself, or was
      // cancelled and resumed since), it is armed again once this batch is handled.
      owner.ringReceiving = false;
      owner.ringCancelling = false;
      if (result === ENOBUFS) this.starved.add(owner);
      else if (result !== 0) this.rearming.push(owner);
    }
    return owner;
  }

  /** After a batch of completions: receives that ended are armed again where wanted, the buffer ring is filled again and starved receives re-armed. */
  completionsDone(): void {
    const rearming = this.rearming;
    for (let index = 0; index < rearming.length; index += 1) {
      const owner = rearming[index]!;
      if (owner.ringWanted !== true || owner.ringReceiving === true || this.table.get(owner.fd) !== owner) continue;
      if (owner.ringAccepts === true) this.armAccept(owner);
      else this.armReceive(owner);
    }
    rearming.length = 0;
    this.replenish();
  }

  /** The ring's counts and the pool chunks it holds now (a new object: for stats). */
  ringStats(): RingStats {
    const counts = this.ringCounters;
    this.poller.ringCounters(counts);
    return {
      buffers: this.provided,
      enter: counts[0]!,
      sqes: counts[1]!,
      cqes: counts[2]!,
      enobufs: counts[3]!,
      overflows: counts[4]!,
      eventfdReads: counts[5]!,
    };
  }

  override close(): void {
    if (this.closed) return;
    super.close(); // cancels every request and waits for the last completion
    for (let chunk = 0; chunk < this.inRing.length; chunk += 1) {
      if (this.inRing[chunk] === 1) this.pool.release(chunk);
    }
    this.inRing.fill(0);
    this.provided = 0;
    for (const [fd, record] of this.sending) this.releaseSend(fd, record.generation);
  }

  private armReceive(owner: Owner): void {
    if (this.provided === 0) {
      this.starved.add(owner); // armed once the pool gives the ring a buffer
      return;
    }
    owner.ringReceiving = true;
    const rc = this.poller.ringRecv(owner.fd, owner.generation);
    this.queuedOne(rc, 'io_uring recv');
  }

  private cancelReceive(owner: Owner): void {
    this.starved.delete(owner);
    this.cancelArmed(owner, RING_OP.recv);
  }

  private cancelArmed(owner: Owner, op: number): void {
    owner.ringCancelling = true;
    const rc = this.poller.ringCancel(owner.fd, owner.generation, op);
    this.queuedOne(rc, 'io_uring cancel');
  }

  private armAccept(owner: Owner): void {
    owner.ringReceiving = true;
    const rc = this.poller.ringAccept(owner.fd, owner.generation);
    this.queuedOne(rc, 'io_uring accept');
  }

  private setInterest(owner: Owner, interest: number): void {
    if (interest === owner.interest && (interest !== 0) === owner.ringInEpoll) return;
    if (interest === 0) {
      // Out of the set rather than interest 0: LT would report a hang-up on every wait.
      if (owner.ringInEpoll === true) this.poller.remove(owner.fd);
      owner.ringInEpoll = false;
      owner.interest = 0;
      return;
    }
    if (owner.ringInEpoll === true) {
      this.modify(owner, interest);
      return;
    }
    const rc = this.poller.add(owner.fd, interest, owner.generation);
    if (rc < 0) throw errnoError(rc, 'epoll_ctl', owner.fd);
    owner.ringInEpoll = true;
    owner.interest = interest;
  }

  /**
   * One request queued, or the error that refused it (EBUSY: the queue was
   * still full after the native side submitted what it held); outside a
   * turn it goes at once.
   */
  private queuedOne(rc: number, what: string): void {
    if (rc < 0) throw errnoError(rc, what);
    this.queued += 1;
    if (!this.batching) this.submit();
  }

  private submit(): void {
    this.queued = 0;
    const rc = this.poller.ringSubmit();
    if (rc < 0) throw errnoError(rc, 'io_uring_enter');
  }

  private replenish(): void {
    const pool = this.pool;
    while (this.provided < this.bufferTarget) {
      const chunk = pool.tryAcquire();
      if (chunk < 0) {
        this.awaitPool();
        break;
      }
      if (chunk >= this.inRing.length) {
        pool.release(chunk); // past 16-bit ids: the pool's bound is checked at construction, so never
        break;
      }
      this.provide(chunk);
    }
    if (this.provided > 0 && this.starved.size > 0) {
      const starved = [...this.starved];
      this.starved.clear();
      for (const owner of starved) if (this.table.get(owner.fd) === owner && owner.ringWanted === true && owner.ringReceiving !== true) this.armReceive(owner);
    }
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

  private awaitPool(): void {
    if (this.waitingForPool) return;
    this.waitingForPool = true;
    this.pool.onAvailable(() => {
      this.waitingForPool = false;
      if (this.closed) return;
      this.replenish();
      if (this.queued > 0 && !this.batching) this.submit();
    });
  }

  private inFlightOf(target: SendTarget): InFlight {
    let record = this.sending.get(target.fd);
    if (record === undefined) {
      record = { generation: target.generation, chunks: [], chunkCount: 0, buffers: [], bufferCount: 0 };
      this.sending.set(target.fd, record);
    }
    record.generation = target.generation;
    return record;
  }

  /** Keeps `buffer` (and its pool chunk) until the send completes: a queue cleared meanwhile cannot free them. */
  private hold(record: InFlight, buffer: Uint8Array): void {
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

  private releaseSend(fd: number, generation: number): void {
    const record = this.sending.get(fd);
    if (record === undefined || record.generation !== generation) return;
    for (let index = 0; index < record.chunkCount; index += 1) this.pool.release(record.chunks[index]!);
    for (let index = 0; index < record.bufferCount; index += 1) record.buffers[index] = VACANT;
    record.chunkCount = 0;
    record.bufferCount = 0;
  }
}
