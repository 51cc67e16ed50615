/**
 * What the io_uring backend asks of epoll for an owner it serves by
 * completions: writability (a full socket, a relay's pipe), a paused
 * stream's FIN, and, for a stream whose reads were taken over (a relay
 * splices), readability once no receive is armed for it. The owner is in
 * the epoll set only while it asks for something.
 */
import { constants } from '../native.js';
import type { Owner } from './backend.js';
import type { Readiness } from './readiness.js';
import type { RingSlot } from './ring-slot.js';

const { EPOLLIN, EPOLLOUT, EPOLLRDHUP } = constants;

/**
 * The read half of an owner's interest, the one rule for it: a stream whose
 * reads were taken over wants readability (and its FIN) once no receive is
 * armed (until the receive's last completion, readiness would let a splice
 * race it); a paused stream wants to be told of its FIN once.
 */
function readInterest(slot: RingSlot, watchHangUp: boolean): number {
  if (slot.readsItself) return slot.receiving ? 0 : EPOLLIN | EPOLLRDHUP;
  return !slot.wanted && watchHangUp ? EPOLLRDHUP : 0;
}

export class RingInterest {
  private readonly readiness: Readiness;

  constructor(readiness: Readiness) {
    this.readiness = readiness;
  }

  /**
   * The registration `slot`'s owner needs now: writability, a paused FIN,
   * or (its reads taken over) readability, once no receive is armed.
   */
  update(owner: Owner, slot: RingSlot, writing: boolean, watchHangUp: boolean): void {
    this.set(owner, slot, (writing ? EPOLLOUT : 0) | readInterest(slot, watchHangUp));
  }

  /** The owner's receive had its last completion: a stream whose reads were taken over is readable by readiness now. */
  receiveEnded(owner: Owner, slot: RingSlot): void {
    if (slot.readsItself) this.set(owner, slot, (slot.interest & EPOLLOUT) | readInterest(slot, false));
  }

  /** The owner is released: out of the epoll set. */
  leave(owner: Owner, slot: RingSlot): void {
    if (slot.inEpoll) this.readiness.remove(owner.fd);
    slot.inEpoll = false;
  }

  private set(owner: Owner, slot: RingSlot, interest: number): void {
    if (interest === slot.interest && (interest !== 0) === slot.inEpoll) return;
    if (interest === 0) {
      // Out of the set rather than interest 0: LT would report a hang-up on every wait.
      this.leave(owner, slot);
      slot.interest = 0;
      return;
    }
    if (slot.inEpoll) {
      this.readiness.modify(owner, interest);
      return;
    }
    this.readiness.add(owner, interest);
    slot.inEpoll = true;
  }
}
