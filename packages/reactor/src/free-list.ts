/**
 * Objects a connection needs only while it is busy (a request in
 * progress, bytes queued for the kernel, a send in flight), kept for the
 * next busy connection instead of by each idle one. An idle keep-alive
 * connection then holds only what every connection must, and a busy one
 * takes what it needs back, so steady-state traffic makes no garbage.
 *
 * Bounded by use, not by connections: the objects out (taken, or made
 * because the list was empty, and not yet given back or lost) plus those
 * kept free stay within FREE_KEPT_PER_PEAK times the most that were out at
 * once lately (the peak of this epoch of FREE_PEAK_TAKES takes and of the
 * last one), or FREE_KEPT_MIN free, whichever keeps more. The peak, not
 * the number out now: a turn of an io_uring server takes a write queue for
 * each of a hundred connections and gets them back one by one in the
 * next, and all hundred are needed again in the turn after. A burst that
 * ends leaves about twice its size behind, for one epoch or two of later
 * traffic; then objects given back past the bound are left to the collector.
 */

/**
 * A list always keeps this many free: a synchronous HTTP handler's
 * connection takes its objects and gives them back within one event, so
 * a handful serve a whole server's keep-alive load.
 */
export const FREE_KEPT_MIN = 16;
/**
 * Objects out and free together stay within this many times the recent
 * peak: the peak itself is what a steady load needs; the rest covers a
 * load whose peak moves from one epoch to the next.
 */
export const FREE_KEPT_PER_PEAK = 2;
/**
 * Takes per epoch of the peak: long enough that the rare turn that serves
 * every connection of a steady load at once counts (wrk -c 100 on
 * io_uring: most turns take 10 to 20 write queues, one every third of a
 * second takes 100; with epochs of 4096 takes, 0.3% of takes found the
 * list empty and made a queue and a send record, ~2 B of garbage per
 * request; with these, none after the first such turn). At 80,000
 * requests/s an epoch is under a second of traffic; a past burst stops
 * counting after one or two epochs.
 */
export const FREE_PEAK_TAKES = 65536;

/**
 * A stack of free objects, with the count of those out (see above). Every
 * take() is matched by one give() (the object is idle again, nothing
 * refers to it but the caller) or one lose() (it is dropped: still
 * referred to, or in a state nobody resets).
 */
export class FreeList<T> {
  /** Objects out: taken (or made when take() found none) and not yet given back or lost. */
  busy: number;
  /** items[0..size) are free. The array never shrinks: a slot is reused, not pushed again (no garbage per take and give). */
  private readonly items: Array<T | null>;
  private size: number;
  /** The most out at once in the last epoch, and so far in this one. */
  private peakBefore: number;
  private peakNow: number;
  /** Takes so far in this epoch. */
  private takes: number;

  constructor() {
    this.busy = 0;
    this.items = [];
    this.size = 0;
    this.peakBefore = 0;
    this.peakNow = 0;
    this.takes = 0;
  }

  /** Free objects kept now. */
  get free(): number {
    return this.size;
  }

  /** A free object (counted out), or null when there is none: the caller makes one, counted out all the same. */
  take(): T | null {
    const busy = this.busy + 1;
    this.busy = busy;
    if (busy > this.peakNow) this.peakNow = busy;
    this.takes += 1;
    if (this.takes >= FREE_PEAK_TAKES) {
      this.peakBefore = this.peakNow;
      this.peakNow = busy;
      this.takes = 0;
    }
    const size = this.size;
    if (size === 0) return null;
    this.size = size - 1;
    const item = this.items[size - 1]!;
    this.items[size - 1] = null;
    return item;
  }

  /** `item` (taken before) is idle again: kept while the list is within its bound, else left to the collector. */
  give(item: T): void {
    this.busy -= 1;
    const size = this.size;
    const peak = this.peakBefore > this.peakNow ? this.peakBefore : this.peakNow;
    if (size >= FREE_KEPT_MIN && size + this.busy >= peak * FREE_KEPT_PER_PEAK) return;
    if (size === this.items.length) this.items.push(item);
    else this.items[size] = item;
    this.size = size + 1;
  }

  /** An object taken before will not come back (its owner closed while using it). */
  lose(): void {
    this.busy -= 1;
  }
}
