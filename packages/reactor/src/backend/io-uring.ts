/**
 * The io_uring backend: a stream's receives and sends are completions, and
 * so are a listener's accepts (one multishot accept each); the rest is
 * readiness (readiness.ts, level-triggered): pending connects, a paused
 * stream's FIN, writability for sendFile, a relay's own reads. The ring's
 * own fd is in that epoll set (readable while completions wait): when it
 * is ready, the batch's readiness items are followed by the completions
 * reaped (batchDone()).
 *
 * Each stream has one receive armed into the provided-buffer ring
 * (ring-buffers.ts), armed again after each batch; sends are requests too
 * (one in flight per socket, its buffers held until its completion:
 * ring-sends.ts). A turn's requests reach the kernel with one
 * io_uring_enter at its end. Closing is cancel-then-close, so an armed
 * receive cannot keep the socket open.
 */
import { constants, RING_BUFFER, RING_COUNTER_NAMES, RING_MORE, RING_OP, type NativePoller } from '../native.js';
import { ECANCELED, ENOBUFS } from '../errno.js';
import type { BufferPool } from '../buffer-pool.js';
import { PENDING, READY_WRITABLE, type Backend, type BackendStats, type Owner, type OwnerKind } from './backend.js';
import { RING_POLICY } from './policies.js';
import { describeIoUringProbe, ioUringUnavailable } from './io-uring-support.js';
import { Readiness, ReadinessSlot } from './readiness.js';
import { RingBuffers } from './ring-buffers.js';
import { RingSends } from './ring-sends.js';
import { RingRequests } from './ring-requests.js';
import { RingReceives } from './ring-receives.js';
import { RingSlot } from './ring-slot.js';
import { RingCompletions } from './ring-completions.js';
import { RingInterest } from './ring-interest.js';
import { bytesReadable, closeOwnedFd, shutdownWrite, SPLICE_FLAGS } from './sockets.js';

const { EPOLLIN, EPOLLOUT } = constants;

/** Submission-queue entries of a reactor's ring: a turn's requests beyond it are sent in more than one enter. */
export const RING_ENTRIES_DEFAULT = 1024;
/**
 * Pool chunks the buffer ring may hold for receives, at most (the ring
 * itself is the next power of two). The kernel takes one buffer per
 * connection with bytes waiting each time its completion work runs: fewer
 * buffers than busy connections end receives with ENOBUFS (measured at
 * -c 1000 with 512: half the completions were ENOBUFS, half the throughput).
 * The ring starts smaller and grows to it with load (ring-buffers.ts).
 */
export const RING_BUFFERS_DEFAULT = 2048;
/**
 * The chunk size of an io_uring reactor's own pool unless `pool.chunkSize`
 * says otherwise: 2048 ring buffers of 16 KiB hold 32 MiB, where the epoll
 * default's 64 KiB chunks would hold 128 MiB waiting for receives.
 */
export const RING_CHUNK_SIZE_DEFAULT = 16 * 1024;

/** The io_uring backend's counts (`reactor.stats.ring`). */
export interface RingStats {
  /** Pool chunks the buffer ring holds now, waiting for receives (counted in the pool's inUse). */
  readonly buffers: number;
  /** io_uring_enter calls: submissions and reaps (system calls). */
  readonly enter: number;
  /** Requests queued (submission-queue entries). */
  readonly sqes: number;
  /** Completions reaped. */
  readonly cqes: number;
  /** Receives ended for want of a buffer (each re-armed once buffers were back). */
  readonly enobufs: number;
  /** Reaps that found the completion queue overflowed (completions the kernel kept aside). */
  readonly overflows: number;
}

export class UringBackend implements Backend {
  readonly name = 'io_uring' as const;
  readonly policy = RING_POLICY;
  private readonly readiness: Readiness;
  private readonly poller: NativePoller;
  private readonly completions: RingCompletions;
  private readonly ringCounters: Float64Array;
  private readonly pool: BufferPool;
  private readonly buffers: RingBuffers;
  private readonly sends: RingSends;
  private readonly receives: RingReceives;
  private readonly requests: RingRequests;
  private readonly interest: RingInterest;
  /** The ring's fd was in this turn's readiness batch: completions wait. */
  private completionsWaiting: boolean;
  /** The batch being handled is completions (not readiness events). */
  private reaping: boolean;

  /**
   * A ring beside a poller of `capacity` events, receiving into chunks of `pool`.
   * @throws ZepollError `ERR_ZEPOLL_IO_URING_UNAVAILABLE` when the ring cannot be made here.
   */
  constructor(capacity: number, pool: BufferPool, buffers = RING_BUFFERS_DEFAULT) {
    this.readiness = new Readiness(capacity);
    this.poller = this.readiness.poller;
    const ringSize = 2 ** Math.ceil(Math.log2(Math.max(buffers, 1)));
    const ringFd = this.poller.ringOpen(RING_ENTRIES_DEFAULT, ringSize);
    if (ringFd < 0) {
      this.readiness.close();
      throw ioUringUnavailable(describeIoUringProbe(ringFd));
    }
    this.pool = pool;
    this.completions = new RingCompletions(this.poller);
    this.ringCounters = new Float64Array(RING_COUNTER_NAMES.length);
    this.requests = new RingRequests(this.poller);
    this.completionsWaiting = false;
    this.reaping = false;
    this.sends = new RingSends(pool);
    this.buffers = new RingBuffers(this.poller, pool, Math.min(buffers, ringSize), () => this.refilled());
    this.receives = new RingReceives(this.readiness, this.buffers, this.requests);
    this.interest = new RingInterest(this.readiness);
    // The ring fd's readiness (added by ringOpen with generation 0, never an owner's): completions wait.
    const pump: Owner = { fd: ringFd, slot: new ReadinessSlot(0, EPOLLIN), ready: () => void (this.completionsWaiting = true), fail: () => {} };
    this.readiness.enter(pump);
    this.buffers.fill();
  }

  start(onBatch: (count: number) => void): void {
    this.readiness.start(onBatch);
  }

  wait(timeoutMs: number): number {
    return this.readiness.wait(timeoutMs);
  }

  ownerAt(index: number): Owner | undefined {
    return this.reaping ? this.completionOwner(index) : this.readiness.ownerAt(index);
  }

  deliver(owner: Owner, index: number): void {
    if (!this.reaping) {
      // A stream whose receive is armed learns of bytes, the FIN and errors from it: readiness tells it writability only.
      const flags = this.readiness.flagsAt(index);
      owner.ready((owner.slot as RingSlot).wanted === true ? flags & READY_WRITABLE : flags);
      return;
    }
    const completions = this.completions;
    const result = completions.result(index);
    const op = completions.op(index);
    if (op === RING_OP.recv) {
      if (result > 0) {
        owner.received!(completions.chunk(index), result);
        return;
      }
      if ((completions.flags(index) & RING_BUFFER) !== 0) this.pool.release(completions.chunk(index)); // a buffer with no bytes in it
      if (result !== ECANCELED && result !== ENOBUFS) owner.received!(-1, result); // the end of stream, or an error
    } else if (op === RING_OP.send) {
      owner.sent!(result);
    } else if (op === RING_OP.accept && result !== ECANCELED) {
      owner.accepted!(result);
    }
  }

  batchDone(): number {
    if (this.reaping) {
      this.receives.batchDone();
      if (!this.completions.full || !this.completions.canReap) {
        this.reaping = false;
        return 0;
      }
      return this.reap(); // the array was full: more wait
    }
    if (!this.completionsWaiting) return 0;
    this.completionsWaiting = false;
    return this.reap();
  }

  beginTurn(): void {
    this.requests.beginTurn();
    this.reaping = false;
    this.completionsWaiting = false;
    this.completions.beginTurn();
  }

  /**
   * The turn's requests go to the kernel with one io_uring_enter that reaps
   * too: completions that came back at once (a send to a peer with room,
   * a receive whose bytes were waiting) are handled in this turn, not after
   * another wakeup (epoll_wait twice: libuv's and the poller's).
   */
  endTurn(): number {
    if (this.requests.pending && this.completions.canReap) {
      let count: number;
      try {
        count = this.reap();
      } catch (error) {
        this.requests.endTurn(); // the turn is over all the same: later requests go at once
        throw error;
      }
      if (count > 0) return count;
    }
    this.requests.endTurn();
    return 0;
  }

  /** Submits what is queued and copies what completed: the count, a batch of completions when > 0. */
  private reap(): number {
    this.reaping = false;
    const count = this.completions.reap();
    if (!this.completions.full) this.requests.submittedByReap(); // it drained the queue, so it entered: what was queued went too
    this.reaping = count > 0;
    return count;
  }

  ref(): void {
    this.poller.ref();
  }

  unref(): void {
    this.poller.unref();
  }

  /** Every owner, the ring fd's pump too (its fail() ignores the reactor's close). */
  owners(): Owner[] {
    return this.readiness.owners();
  }

  stats(): BackendStats {
    const counts = this.ringCounters;
    this.poller.ringCounters(counts);
    return this.readiness.stats({ buffers: this.buffers.provided, enter: counts[0]!, sqes: counts[1]!, cqes: counts[2]!, enobufs: counts[3]!, overflows: counts[4]! });
  }

  close(): void {
    if (this.readiness.closed) return;
    this.readiness.close(); // cancels every request and waits for the last completion
    this.buffers.releaseAll();
    this.sends.releaseAll();
  }

  open(owner: Owner, kind: OwnerKind): void {
    const accepts = kind === 'listener' && owner.accepted !== undefined;
    if (kind !== 'stream' && !accepts) {
      this.readiness.register(owner, kind === 'listener' ? EPOLLIN : EPOLLOUT);
      return;
    }
    const slot = new RingSlot(this.readiness.generation(), accepts, accepts || owner.takesBytes === true);
    owner.slot = slot;
    this.readiness.enter(owner);
    if (!slot.wanted) return;
    if (accepts) this.requests.accept(owner.fd, slot);
    else this.receives.arm(owner, slot);
  }

  arm(owner: Owner, reading: boolean, writing: boolean, watchHangUp: boolean): void {
    const slot = owner.slot as RingSlot;
    const takesBytes = owner.takesBytes === true;
    const byRing = reading && takesBytes;
    slot.wanted = byRing;
    // One receive per socket: one being cancelled is armed again after its last completion (RingReceives.batchDone).
    if (byRing && !slot.receiving) this.receives.arm(owner, slot);
    else if (!byRing) this.receives.stop(owner, slot);
    slot.readsItself = reading && !takesBytes;
    this.interest.update(owner, slot, writing, watchHangUp);
  }


  /** Level-triggered: nothing waits for a re-arm. */
  serving(): void {}

  rearm(owner: Owner, reading: boolean, writing: boolean, watchHangUp: boolean): void {
    this.arm(owner, reading, writing, watchHangUp);
  }

  setListening(owner: Owner, on: boolean): void {
    const slot = owner.slot;
    if (!(slot instanceof RingSlot)) {
      this.readiness.modify(owner, on ? EPOLLIN : 0);
      return;
    }
    slot.wanted = on;
    if (on && !slot.receiving) this.requests.accept(owner.fd, slot);
    else if (!on && slot.receiving && !slot.cancelling) this.requests.cancel(owner.fd, slot, RING_OP.accept);
  }

  release(owner: Owner): void {
    const slot = owner.slot;
    if (!(slot instanceof RingSlot)) {
      this.forget(owner);
      this.readiness.closeFd(owner.fd);
      return;
    }
    this.readiness.leave(owner);
    this.receives.forget(owner);
    this.sends.orphan(slot.generation, slot.sending);
    if (this.readiness.closed) {
      closeOwnedFd(owner.fd);
      return;
    }
    this.interest.leave(owner, slot);
    slot.receiving = false;
    this.requests.close(owner.fd, slot.generation);
  }

  forget(owner: Owner): void {
    this.readiness.forget(owner);
  }

  closeFd(fd: number): void {
    this.readiness.closeFd(fd);
  }

  receive(fd: number, buffer: Uint8Array, offset: number, length: number): number {
    return this.poller.read(fd, buffer, offset, length);
  }

  send(owner: Owner, buffers: readonly Uint8Array[], count: number): number {
    const slot = owner.slot as RingSlot;
    const record = (slot.sending ??= this.sends.take());
    for (let index = 0; index < count; index += 1) this.sends.hold(record, buffers[index]!);
    this.requests.send(owner.fd, slot.generation, buffers, count);
    return PENDING;
  }

  sendRange(owner: Owner, buffer: Uint8Array, offset: number, length: number): number {
    const slot = owner.slot as RingSlot;
    this.sends.hold((slot.sending ??= this.sends.take()), buffer);
    this.requests.sendRange(owner.fd, slot.generation, buffer, offset, length);
    return PENDING;
  }

  sendFile(fd: number, fileFd: number, offset: number, length: number): number {
    return this.poller.sendfile(fd, fileFd, offset, length);
  }

  splice(fromFd: number, toFd: number, length: number): number {
    return this.poller.splice(fromFd, toFd, length, SPLICE_FLAGS);
  }

  accept(listenFd: number, out: Int32Array): number {
    return this.poller.accept(listenFd, out);
  }

  shutdownWrite(fd: number): number {
    return shutdownWrite(fd);
  }

  bytesWaiting(fd: number): number {
    return bytesReadable(fd);
  }

  /** Not while its receive is armed (or being cancelled): it would race a read or splice for the bytes. */
  ownerReads(owner: Owner): boolean {
    const slot = owner.slot;
    return !(slot instanceof RingSlot) || !slot.receiving;
  }

  /**
   * The backend's share of completion `index` (buffers back, receives that
   * ended, sends' held chunks), then the owner it is for, or undefined when
   * it is the backend's own or meant for a closed owner.
   */
  private completionOwner(index: number): Owner | undefined {
    const completions = this.completions;
    const fd = completions.fd(index);
    const generation = completions.generation(index);
    const flags = completions.flags(index);
    const result = completions.result(index);
    const op = completions.op(index);
    if (op === RING_OP.cancel || op === RING_OP.close) return undefined; // the backend's own
    const buffered = op === RING_OP.recv && (flags & RING_BUFFER) !== 0;
    if (buffered) this.buffers.taken(completions.chunk(index));
    const owner = this.readiness.holder(fd);
    const slot = owner?.slot as RingSlot | undefined;
    if (owner === undefined || slot!.generation !== generation) {
      this.readiness.staleEvents += 1;
      if (op === RING_OP.send) this.sends.orphanDone(generation);
      if (buffered) this.pool.release(completions.chunk(index));
      if (op === RING_OP.accept && result >= 0) this.closeFd(result); // its listener is gone
      return undefined;
    }
    if (op === RING_OP.send) {
      this.sends.done(slot!.sending!);
      slot!.sending = null; // the record went back to the free list: a socket with nothing in flight holds none
    } else if ((op === RING_OP.accept || op === RING_OP.recv) && (flags & RING_MORE) === 0) {
      this.receives.ended(owner, slot!, result);
      this.interest.receiveEnded(owner, slot!); // reads taken over while it was armed: readiness now
    }
    return owner;
  }

  /** The pool had chunks again after running dry: the ring is filled, starved receives armed, and (outside a turn) sent at once. */
  private refilled(): void {
    if (this.readiness.closed) return;
    this.receives.refill();
    this.requests.flushOutsideTurn();
  }

}
