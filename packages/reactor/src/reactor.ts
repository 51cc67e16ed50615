/**
 * The reactor: the public face of one backend (epoll) nested in Node's
 * loop, its pool, scheduler and stats. The work of a turn lives in core.ts
 * and the kernel interface in backend/; the reactor checks its options,
 * wires them together and answers for them. Other I/O, timers and promises
 * in the process keep working beside it.
 */
import { EVENTS_MAX } from './limits.js';
import { errnoError } from './errors.js';
import { type CounterName } from './poller.js';
import { BufferPool, type BufferPoolOptions, type BufferPoolStats } from './buffer-pool.js';
import { booleanOption, integerOption, integerOrInfinityOption, oneOfOption, optionalFunction, optionsObject } from './validate.js';
import { MODES, POLICIES, type Mode } from './backend/policies.js';
import { EpollBackend } from './backend/epoll.js';
import { Core, CORE } from './core.js';

export type { Mode } from './backend/policies.js';

export interface ReactorOptions {
  /**
   * How connections are registered with epoll (default 'et'):
   * - 'lt' (level-triggered): readable while unread bytes remain; reads up
   *   to the quota per event, and epoll reports the rest next turn. Write
   *   interest is armed only while bytes are queued (one epoll_ctl then).
   * - 'et' (edge-triggered): registered once, never modified; reads until a
   *   short read, EAGAIN or the quota, and a connection with bytes left is
   *   carried over to the next turn by the scheduler. Fewest system calls.
   * - 'oneshot': each event disables the fd until the reactor re-arms it
   *   (one epoll_ctl per event); for handing connections between threads.
   */
  readonly mode?: Mode;
  /** Bytes read per connection per turn (default 64 KiB); Infinity reads until EAGAIN. */
  readonly readQuota?: number;
  /** Events taken per wait, the cap on events per turn (default 1024). */
  readonly maxEventsPerTurn?: number;
  /** A shared pool, or options for this reactor's own. */
  readonly pool?: BufferPool | BufferPoolOptions;
  /** Cap on bytes queued for writing across all connections (default 256 MiB). */
  readonly maxQueuedBytesTotal?: number;
  /** Keep the process alive while the reactor has registrations (default true). */
  readonly ref?: boolean;
  /**
   * ET only: after each read turn, ask the kernel (FIONREAD, one system call)
   * whether bytes were left with no carry-over to serve them, and report it
   * as a 'ZepollDebug' process warning and in stats.debugWarnings. For
   * tests and development; off by default.
   */
  readonly debug?: boolean;
  /**
   * Nest in Node's loop (default true). False: nothing runs until runOnce()
   * is called (tests that need one exact batch, tight loops of their own).
   */
  readonly attach?: boolean;
  /**
   * Where a handler's error goes when neither the connection's handler nor
   * its server has an `onError`: a throw, a rejected promise, a throw from
   * `onError` or `onClose` itself. The connection it came from is already
   * closed; the process and every other connection go on. The default logs
   * the error with `console.error`. System errors of a peer (ECONNRESET,
   * EPIPE) are not handler errors: without an `onError` they only close
   * their connection (with the error passed to `onClose`).
   */
  readonly onError?: (error: Error) => void;
}

export interface ReactorStats {
  readonly mode: Mode;
  /** The kernel interface serving this reactor. */
  readonly backend: 'epoll';
  readonly connectionsOpen: number;
  /** Connections opened since the reactor began (accepted or connected). */
  readonly connectionsTotal: number;
  /** Connections closed since the reactor began: total = closed + open. */
  readonly connectionsClosed: number;
  readonly bytesIn: number;
  readonly bytesOut: number;
  readonly turns: number;
  readonly events: number;
  readonly staleEvents: number;
  readonly carryOvers: number;
  /** Carry-over rounds run back to back after a turn, within CARRY_ROUNDS_TIME_MS (the work-conserving read quota). */
  readonly carryRounds: number;
  readonly busySpins: number;
  readonly acceptBackoffs: number;
  readonly queuedBytes: number;
  readonly handlerErrors: number;
  readonly debugWarnings: number;
  readonly syscalls: Record<CounterName, number>;
  readonly pool: BufferPoolStats;
}

export const READ_QUOTA_DEFAULT = 64 * 1024;
export const MAX_QUEUED_BYTES_TOTAL_DEFAULT = 256 * 1024 * 1024;
export { IDLE_SWEEP_MS_MIN } from './core.js';

export { coreOf } from './core.js';

export class Reactor {
  readonly mode: Mode;
  readonly readQuota: number;
  readonly pool: BufferPool;
  /** For zepoll's own modules (coreOf); not part of the public API. */
  readonly [CORE]: Core;
  private readonly backend: EpollBackend;

  constructor(reactorOptions?: ReactorOptions) {
    // Every option is checked here, before any fd is opened.
    const options = optionsObject('options', reactorOptions);
    this.mode = oneOfOption('options.mode', options.mode, 'et', MODES);
    this.readQuota = integerOrInfinityOption('options.readQuota', options.readQuota, READ_QUOTA_DEFAULT, 1);
    const capacity = integerOption('options.maxEventsPerTurn', options.maxEventsPerTurn, EVENTS_MAX, 1, EVENTS_MAX);
    const maxQueuedBytesTotal = integerOrInfinityOption('options.maxQueuedBytesTotal', options.maxQueuedBytesTotal, MAX_QUEUED_BYTES_TOTAL_DEFAULT, 1);
    const debug = booleanOption('options.debug', options.debug, false);
    const attach = booleanOption('options.attach', options.attach, true);
    const ref = booleanOption('options.ref', options.ref, true);
    const onError = optionalFunction('options.onError', options.onError);
    this.pool = options.pool instanceof BufferPool ? options.pool : new BufferPool(optionsObject('options.pool', options.pool));
    this.backend = new EpollBackend(POLICIES[this.mode], capacity);
    this[CORE] = new Core(this.backend, this.pool, { readQuota: this.readQuota, maxQueuedBytesTotal, debug, onError });
    if (attach) this.backend.start(this[CORE].onBatch);
    if (!ref) this.backend.unref();
  }

  /** ET debug checks are on (the `debug` option, in ET). */
  get debug(): boolean {
    return this[CORE].debug;
  }

  /**
   * Waits up to `timeoutMs` for events and runs one turn (for tests and
   * tight loops; the loop-attached path needs no call). Returns the events.
   */
  runOnce(timeoutMs = 0): number {
    this[CORE].assertOpen();
    const count = this.backend.wait(timeoutMs);
    if (count < 0) throw errnoError(count, 'epoll_wait');
    this[CORE].turn(count);
    return count;
  }

  ref(): void {
    this.backend.ref();
  }

  unref(): void {
    this.backend.unref();
  }

  get isClosed(): boolean {
    return this[CORE].isClosed;
  }

  get stats(): ReactorStats {
    const core = this[CORE];
    const metrics = core.metrics;
    this.backend.counters.refresh();
    return {
      mode: this.mode,
      backend: this.backend.name,
      connectionsOpen: metrics.connectionsOpen,
      connectionsTotal: metrics.connectionsTotal,
      connectionsClosed: metrics.connectionsClosed,
      bytesIn: metrics.bytesIn,
      bytesOut: metrics.bytesOut,
      turns: core.turns,
      events: metrics.events,
      staleEvents: this.backend.staleEvents,
      carryOvers: core.scheduler.carryOvers,
      carryRounds: metrics.carryRounds,
      busySpins: metrics.busySpins,
      acceptBackoffs: metrics.acceptBackoffs,
      queuedBytes: metrics.queuedBytes,
      handlerErrors: metrics.handlerErrors,
      debugWarnings: metrics.debugWarnings,
      syscalls: this.backend.counters.snapshot(),
      pool: this.pool.stats,
    };
  }

  /** Closes every registered owner's fd and the backend. Idempotent. */
  close(): void {
    this[CORE].close();
  }
}
