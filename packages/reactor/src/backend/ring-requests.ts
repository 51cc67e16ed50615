/**
 * The io_uring backend's submission side: the requests it queues (a
 * receive, a multishot accept, a cancellation, a send, a close), each
 * tagged with its owner's fd and generation, and when they reach the
 * kernel: inside a turn, at its end with one io_uring_enter (or with the
 * turn's next reap, which submits too), or early once RING_SUBMIT_EARLY
 * wait; outside a turn (a write from a timer), at once.
 */
import type { NativePoller } from '../native.js';
import { errnoError } from '../errors.js';
import type { RingSlot } from './ring-slot.js';

/**
 * Requests a turn queues before they go without waiting for its end: in a
 * long turn (-c 1000: hundreds of requests in one batch) the first
 * responses would otherwise wait for the last request's handling. At 64,
 * a turn of 24 requests (-c 100) still submits once.
 */
export const RING_SUBMIT_EARLY = 64;

export class RingRequests {
  private readonly poller: NativePoller;
  /** Inside a turn: requests wait for its end. */
  private batching: boolean;
  /** Requests queued and not yet submitted. */
  private queued: number;

  constructor(poller: NativePoller) {
    this.poller = poller;
    this.batching = false;
    this.queued = 0;
  }

  /** A turn begins: requests wait for its end. */
  beginTurn(): void {
    this.batching = true;
  }

  /** The turn ended: what it queued goes now. */
  endTurn(): void {
    this.batching = false;
    if (this.queued > 0) this.submit();
  }

  /** Requests are queued and not yet submitted. */
  get pending(): boolean {
    return this.queued > 0;
  }

  /** A reap entered the kernel: it submitted what was queued. */
  submittedByReap(): void {
    this.queued = 0;
  }

  /** Outside a turn, what is queued goes now (chunks back from a dry pool armed receives). */
  flushOutsideTurn(): void {
    if (this.queued > 0 && !this.batching) this.submit();
  }

  /** Arms the one receive of `fd` (a buffer from the ring). */
  receive(fd: number, slot: RingSlot): void {
    slot.receiving = true;
    this.queuedOne(this.poller.ringRecv(fd, slot.generation), 'io_uring recv');
  }

  /** Arms a listener's multishot accept. */
  accept(fd: number, slot: RingSlot): void {
    slot.receiving = true;
    this.queuedOne(this.poller.ringAccept(fd, slot.generation), 'io_uring accept');
  }

  /** Cancels `fd`'s armed request `op` (RING_OP): it completes with ECANCELED. */
  cancel(fd: number, slot: RingSlot, op: number): void {
    slot.cancelling = true;
    this.queuedOne(this.poller.ringCancel(fd, slot.generation, op), 'io_uring cancel');
  }

  /** Sends buffers[0..count) (the caller holds them until the completion). */
  send(fd: number, generation: number, buffers: readonly Uint8Array[], count: number): void {
    this.queuedOne(this.poller.ringSend(fd, generation, buffers, count), 'io_uring send');
  }

  /** Sends buffer[offset..offset + length). */
  sendRange(fd: number, generation: number, buffer: Uint8Array, offset: number, length: number): void {
    this.queuedOne(this.poller.ringSendRange(fd, generation, buffer, offset, length), 'io_uring send');
  }

  /** Cancels what `fd` has armed, then closes it (an armed receive cannot keep the socket open). */
  close(fd: number, generation: number): void {
    this.queuedOne(this.poller.ringClose(fd, generation), 'io_uring close');
  }

  /**
   * One request queued, or the error that refused it (EBUSY: the queue was
   * still full after the native side submitted what it held); outside a
   * turn it goes at once.
   */
  private queuedOne(rc: number, what: string): void {
    if (rc < 0) throw errnoError(rc, what);
    this.queued += 1;
    if (!this.batching || this.queued >= RING_SUBMIT_EARLY) this.submit();
  }

  private submit(): void {
    this.queued = 0;
    const rc = this.poller.ringSubmit();
    if (rc < 0) throw errnoError(rc, 'io_uring_enter');
  }
}
