/**
 * Objects a connection needs only while it is busy (a request in
 * progress, bytes queued for the kernel, a send in flight), kept for the
 * next busy connection instead of by each idle one. An idle keep-alive
 * connection then holds only what every connection must, and a busy one
 * takes what it needs back, so steady-state traffic makes no garbage.
 *
 * Bounded by use, not by connections: a list keeps at most
 * max(FREE_KEPT_MIN, FREE_KEPT_PER_BUSY × busy) objects, where busy
 * counts the objects out (taken, or made because the list was empty, and
 * not yet given back or lost). A burst of slow requests that ends leaves
 * about twice its peak behind, not one object per connection that ever
 * made a request; a lull lets it shrink as objects come back.
 */

/**
 * A list always keeps this many: a synchronous handler's connection takes
 * its objects and gives them back within one turn, so a handful serve a
 * whole server's keep-alive load.
 */
export const FREE_KEPT_MIN = 16;
/**
 * ... and up to twice the objects out: at a steady load the number out
 * swings (requests end as others begin), and objects given back in a dip
 * are taken again at the next peak; twice the number out covers the swing
 * of a load that keeps its concurrency (a bench at -c100, a pool of
 * clients) without holding what a past burst needed.
 */
export const FREE_KEPT_PER_BUSY = 2;

/** How many free objects a list keeps while `busy` are out. */
export function freeKept(busy: number): number {
  const scaled = busy * FREE_KEPT_PER_BUSY;
  return scaled > FREE_KEPT_MIN ? scaled : FREE_KEPT_MIN;
}

/**
 * A stack of free objects with the count of those out (see above). Every
 * take() is matched by one give() (the object is idle again, nothing
 * refers to it but the caller) or one lose() (it is dropped: still
 * referred to, or its state unknown).
 */
export class FreeList<T> {
  /** Objects out: taken (or made when take() found none) and not yet given back or lost. */
  busy: number;
  /** items[0..size) are free. The array never shrinks: a slot is reused, not pushed again (no garbage per take and give). */
  private readonly items: Array<T | null>;
  private size: number;

  constructor() {
    this.busy = 0;
    this.items = [];
    this.size = 0;
  }

  /** Free objects kept now. */
  get free(): number {
    return this.size;
  }

  /** A free object (counted out), or null when there is none: the caller makes one, counted out all the same. */
  take(): T | null {
    this.busy += 1;
    return this.pop();
  }

  /** `item` (taken before) is idle again: kept while the list is under its bound, else left to the collector. */
  give(item: T): void {
    this.busy -= 1;
    this.put(item, this.busy);
  }

  /** An object taken before will not come back (its owner closed while using it). */
  lose(): void {
    this.busy -= 1;
  }

  /**
   * A free object not counted out, or null: for objects lent together
   * with another list's (a response with its connection's reader), which
   * that list counts.
   */
  pop(): T | null {
    if (this.size === 0) return null;
    this.size -= 1;
    const item = this.items[this.size]!;
    this.items[this.size] = null;
    return item;
  }

  /** Keeps `item` (not counted out) while the list holds fewer than freeKept(`busy`). */
  put(item: T, busy: number): void {
    const size = this.size;
    if (size >= freeKept(busy)) return;
    if (size === this.items.length) this.items.push(item);
    else this.items[size] = item;
    this.size = size + 1;
  }
}
