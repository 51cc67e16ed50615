/**
 * The io_uring backend's armed requests that bring bytes or connections:
 * one receive per stream that wants one, one multishot accept per
 * listener. A receive (or accept) that ended is armed again once its batch
 * is handled, if still wanted; one that ended for want of a buffer waits
 * (starved) until the buffer ring has chunks again, and makes the ring grow.
 */
import { RING_OP } from '../native.js';
import { ENOBUFS } from '../errno.js';
import type { Owner } from './backend.js';
import type { Readiness } from './readiness.js';
import type { RingBuffers } from './ring-buffers.js';
import type { RingRequests } from './ring-requests.js';
import type { RingSlot } from './ring-slot.js';

export class RingReceives {
  private readonly readiness: Readiness;
  private readonly buffers: RingBuffers;
  private readonly requests: RingRequests;
  /** Streams whose receive ended for want of a buffer: armed again once buffers are back. */
  private readonly starved: Set<Owner>;
  /**
   * Owners whose receive (or accept) ended otherwise in this batch: armed
   * again after it if still wanted. The first `rearmingCount` entries; the
   * array is never shortened (a length of 0 would let V8 drop its backing
   * store, and every batch would allocate it again: 25 B a request at -c100).
   */
  private readonly rearming: (Owner | null)[];
  private rearmingCount: number;

  constructor(readiness: Readiness, buffers: RingBuffers, requests: RingRequests) {
    this.readiness = readiness;
    this.buffers = buffers;
    this.requests = requests;
    this.starved = new Set();
    this.rearming = [];
    this.rearmingCount = 0;
  }

  /** Arms `owner`'s receive, or (the ring empty) once the pool gives the ring a buffer. */
  arm(owner: Owner, slot: RingSlot): void {
    if (this.buffers.provided === 0) {
      this.starved.add(owner);
      return;
    }
    this.requests.receive(owner.fd, slot);
  }

  /** Stops `owner`'s receive (paused): cancelled if armed, forgotten if starved. */
  stop(owner: Owner, slot: RingSlot): void {
    this.starved.delete(owner);
    if (slot.receiving && !slot.cancelling) this.requests.cancel(owner.fd, slot, slot.accepts ? RING_OP.accept : RING_OP.recv);
  }

  /** `owner` is released: nothing is armed for it again. */
  forget(owner: Owner): void {
    this.starved.delete(owner);
  }

  /**
   * The last completion of `owner`'s receive or accept (`result`): nothing
   * is armed for it now. Wanted still (it ended by itself, or was cancelled
   * and resumed since), it is armed again once this batch is handled.
   */
  ended(owner: Owner, slot: RingSlot, result: number): void {
    slot.receiving = false;
    slot.cancelling = false;
    if (result === ENOBUFS) {
      this.starved.add(owner);
      this.buffers.grow();
    } else if (slot.accepts || result !== 0) {
      this.rearming[this.rearmingCount] = owner;
      this.rearmingCount += 1;
    }
  }

  /** After a batch of completions: what ended is armed again where wanted, the ring filled again and starved receives armed. */
  batchDone(): void {
    const rearming = this.rearming;
    const count = this.rearmingCount;
    this.rearmingCount = 0;
    for (let index = 0; index < count; index += 1) {
      const owner = rearming[index]!;
      rearming[index] = null; // no closed owner kept alive by the list
      const slot = owner.slot as RingSlot;
      if (!slot.wanted || slot.receiving || this.readiness.holder(owner.fd) !== owner) continue;
      if (slot.accepts) this.requests.accept(owner.fd, slot);
      else this.arm(owner, slot);
    }
    this.refill();
  }

  /** Fills the buffer ring, then arms the starved receives still wanted. */
  refill(): void {
    this.buffers.fill();
    if (this.buffers.provided === 0 || this.starved.size === 0) return;
    const starved = [...this.starved];
    this.starved.clear();
    for (const owner of starved) {
      const slot = owner.slot as RingSlot;
      if (this.readiness.holder(owner.fd) === owner && slot.wanted && !slot.receiving) this.arm(owner, slot);
    }
  }
}
