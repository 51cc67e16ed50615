/**
 * The fair scheduler's carry-over list. An ET connection that used its read
 * quota with data left gets no new edge for that data, so it is queued here
 * and served next turn, round-robin: each turn serves the connections that
 * were queued when it began, in queue order, so the start rotates and no
 * connection can be served twice while another waits.
 */
import type { Carried } from './core.js';

export class Scheduler {
  carryOvers: number;
  private queue: Carried[];
  /** Index of the next owner of `queue` to serve (shift() would be O(n) per owner). */
  private head: number;
  private next: Carried[];
  private scheduled: boolean;
  private readonly runTurn: () => void;
  private readonly onImmediate: () => void;

  constructor(runTurn: () => void) {
    this.carryOvers = 0;
    this.queue = [];
    this.head = 0;
    this.next = [];
    this.scheduled = false;
    this.runTurn = runTurn;
    this.onImmediate = (): void => {
      this.scheduled = false;
      this.runTurn();
    };
  }

  /** Owners wait to be served (carried since the last serve, or left by a visit that threw). */
  get hasCarried(): boolean {
    return this.next.length > 0 || this.head < this.queue.length;
  }

  /** Serve `owner` next turn (once, however often it is carried). */
  carry(owner: Carried): void {
    if (owner.carried) return;
    owner.carried = true;
    this.carryOvers += 1;
    this.next.push(owner);
    if (!this.scheduled) {
      this.scheduled = true;
      // setImmediate runs after the loop's poll phase: I/O that became ready
      // meanwhile is taken in the same turn as the carried connections.
      setImmediate(this.onImmediate);
    }
  }

  /** Serves everything carried before this call; owners carried again wait for the next turn. */
  serve(visit: (owner: Carried) => void): void {
    if (this.head === this.queue.length) {
      if (this.next.length === 0) return;
      const swap = this.queue;
      swap.length = 0;
      this.queue = this.next;
      this.next = swap;
      this.head = 0;
    }
    const queue = this.queue;
    // The head moves before the visit: if a visit throws, the caller serves
    // again and the rest of the queue follows, not the owner that threw.
    while (this.head < queue.length) {
      const owner = queue[this.head]!;
      this.head += 1;
      owner.carried = false;
      visit(owner);
    }
  }

  clear(): void {
    for (let index = this.head; index < this.queue.length; index += 1) this.queue[index]!.carried = false;
    for (const owner of this.next) owner.carried = false;
    this.queue.length = 0;
    this.head = 0;
    this.next.length = 0;
  }
}
