/**
 * Typed access to a native poller: allocation of its event array, and its
 * system-call counters read into one preallocated Float64Array.
 */
import { binding, type NativePoller } from '../native.js';
import { COUNTER_KINDS, EVENT_WORDS, EVENTS_MAX } from '../limits.js';
import { errnoError, ZepollError } from '../errors.js';

/** Index of each count in `PollerCounters.values`; native/counters.zig's order. */
export const COUNTER = {
  /** epoll_wait calls (blocking waits and the loop's own, re-waits included). */
  epollWait: 0,
  /** epoll_ctl calls: add, modify and remove. */
  epollCtl: 1,
  /** read calls. */
  read: 2,
  /** write calls. */
  write: 3,
  /** writev calls. */
  writev: 4,
  /** accept4 calls, the last one of each batch (usually an EAGAIN) included. */
  accept4: 5,
  /** sendfile calls. */
  sendfile: 6,
  /** splice calls. */
  splice: 7,
  /** close calls through closeFd, and the close of the epoll fd itself. */
  close: 8,
  /** Calls of the kinds above that returned EAGAIN: wasted system calls. */
  eagain: 9,
} as const;

/** The name of one system-call count: a key of COUNTER. */
export type CounterName = keyof typeof COUNTER;

const NATIVE_COUNTER_NAMES = ['epoll_wait', 'epoll_ctl', 'read', 'write', 'writev', 'accept4', 'sendfile', 'splice', 'close', 'eagain'];

/** Throws when the addon counts other system calls, or in another order, than COUNTER says. */
export function checkCounterNames(names: readonly string[]): void {
  if (names.join() !== NATIVE_COUNTER_NAMES.join()) {
    throw new Error(`zepoll addon counters ${names.join()} differ from poller.ts; rebuild with \`npm run build\``);
  }
}
checkCounterNames(binding.counterNames);

/** What openPoller returns: the native poller and the event array it writes. */
export interface OpenedPoller {
  /** The addon's poller: interest changes, waits, loop delivery and counted I/O. */
  readonly native: NativePoller;
  /** (fd, generation, flags) per ready event, written by wait() and before each callback. */
  readonly events: Uint32Array;
  /** The most events one batch holds (`events.length / EVENT_WORDS`). */
  readonly capacity: number;
}

/**
 * A poller with room for `capacity` events per batch.
 * @throws ZepollError `ERR_OUT_OF_RANGE` when `capacity` is not an integer from 1 to EVENTS_MAX.
 * @throws ZepollSystemError when epoll_create1 fails (EMFILE, ENFILE, ENOMEM).
 */
export function openPoller(capacity: number = EVENTS_MAX): OpenedPoller {
  if (!Number.isInteger(capacity) || capacity < 1 || capacity > EVENTS_MAX) {
    throw new ZepollError('ERR_OUT_OF_RANGE', `capacity must be an integer from 1 to ${EVENTS_MAX}, received ${capacity}`);
  }
  const events = new Uint32Array(capacity * EVENT_WORDS);
  const created = binding.createPoller(events);
  if (typeof created === 'number') throw errnoError(created, 'epoll_create1');
  return { native: created, events, capacity };
}

/** A poller's counts, refreshed in place: reading allocates nothing. */
export class PollerCounters {
  /** The counts as of the last refresh(), indexed by COUNTER; zeros before the first. */
  readonly values: Float64Array;
  private readonly poller: NativePoller;

  /** Counters of `poller`, all zero until the first refresh(). */
  constructor(poller: NativePoller) {
    this.values = new Float64Array(COUNTER_KINDS);
    this.poller = poller;
  }

  /** Copies the current counts into `values` and returns it. */
  refresh(): Float64Array {
    this.poller.readCounters(this.values);
    return this.values;
  }

  /** One count as of the last refresh(). */
  get(name: CounterName): number {
    return this.values[COUNTER[name]]!;
  }

  /** A plain object of the last refreshed counts, for reports (allocates). */
  snapshot(): Record<CounterName, number> {
    const result = {} as Record<CounterName, number>;
    for (const name of Object.keys(COUNTER) as CounterName[]) result[name] = this.values[COUNTER[name]]!;
    return result;
  }
}
