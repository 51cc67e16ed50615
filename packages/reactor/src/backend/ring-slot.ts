/**
 * What the io_uring backend keeps per owner it serves by completions (a
 * stream, or a listener with a multishot accept): its token, its epoll
 * registration beside the ring (writability, a paused FIN), and the state
 * of its one armed receive or accept.
 */
import { ReadinessSlot } from './readiness.js';
import type { InFlight } from './ring-sends.js';

export class RingSlot extends ReadinessSlot {
  /** A listener whose connections come from a multishot accept. */
  readonly accepts: boolean;
  /** Its receive (or accept) is armed, from its request to its last completion. */
  receiving: boolean;
  /** It should have one (reading, taking bytes; a listener listening); false while paused. */
  wanted: boolean;
  /** The armed request's cancellation was asked for. */
  cancelling: boolean;
  /** Its reads were taken over (a relay splices): readable by readiness once no receive is armed. */
  readsItself: boolean;
  /** In the epoll set too, for writability or a paused FIN. */
  inEpoll: boolean;
  /** Its send in flight (buffers held to the completion): taken from the backend's free list for a send, given back at its completion. */
  sending: InFlight | null;

  constructor(generation: number, accepts: boolean, wanted: boolean) {
    super(generation, 0);
    this.accepts = accepts;
    this.receiving = false;
    this.wanted = wanted;
    this.cancelling = false;
    this.readsItself = false;
    this.inEpoll = false;
    this.sending = null;
  }
}
