/**
 * The reactor: the public face of one backend (epoll) nested in Node's
 * loop, its pool, scheduler and stats. The work of a turn lives in core.ts
 * and the kernel interface in backend/; the reactor checks its options,
 * wires them together and answers for them. Other I/O, timers and promises
 * in the process keep working beside it.
 */
import { EVENTS_MAX } from './limits.js';
import { errnoError } from './errors.js';
import { type CounterName } from './backend/poller.js';
import { BufferPool, type BufferPoolOptions, type BufferPoolStats } from './buffer-pool.js';
import { booleanOption, integerOption, integerOrInfinityOption, oneOfOption, optionalFunction, optionsObject } from './validate.js';
import { MODES, type Mode } from './backend/policies.js';
import type { Backend, BackendName } from './backend/backend.js';
import type { RingStats } from './backend/io-uring.js';
import { createBackend, poolFor, resolveBackend } from './backend/create.js';
import { Core, CORE } from './core.js';

export type { BackendName } from './backend/backend.js';
const BACKEND_CHOICES = ['epoll', 'io_uring', 'auto'] as const;

export type { Mode } from './backend/policies.js';
export type { RingStats } from './backend/io-uring.js';

/**
 * Options of `new Reactor()`. Every one is optional and is checked by the
 * constructor, before any fd is opened.
 */
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
  /**
   * The kernel interface (default 'epoll'):
   * - 'epoll': readiness; connections registered as `mode` says.
   * - 'io_uring': completions. Each connection has a receive (one buffer
   *   each, re-armed after each batch) armed into a ring of pool chunks (onData still gets pooled views) and
   *   its sends are requests, all of a turn's going to the kernel with one
   *   system call; listeners arm a multishot accept. Connects, a paused
   *   connection's FIN and sendFile writability use readiness beside it, level-triggered
   *   (`mode` is 'lt'). Throws `ERR_ZEPOLL_IO_URING_UNAVAILABLE`, with the
   *   reason, where io_uring cannot serve (an old kernel, a seccomp profile):
   *   see `ioUringSupport()`.
   * - 'auto': io_uring where it works, else epoll; `stats.backend` says which.
   * Without this option (and without `mode`), the environment variable
   * ZEPOLL_BACKEND may name one; else 'epoll'.
   */
  readonly backend?: BackendName | 'auto';
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

/**
 * A snapshot of a reactor's counters, from `reactor.stats` (a new object
 * per read). Counts run from the reactor's start unless said otherwise.
 */
export interface ReactorStats {
  /** How connections are registered with epoll: the reactor's `mode` option. */
  readonly mode: Mode;
  /** The kernel interface serving this reactor (the `backend` option, 'auto' resolved). */
  readonly backend: BackendName;
  /** Connections open now (accepted or connected, not yet closed). */
  readonly connectionsOpen: number;
  /** Connections opened since the reactor began (accepted or connected). */
  readonly connectionsTotal: number;
  /** Connections closed since the reactor began: total = closed + open. */
  readonly connectionsClosed: number;
  /** Bytes read from connections, all of them together. */
  readonly bytesIn: number;
  /** Bytes written to connections (taken by the kernel), all of them together. */
  readonly bytesOut: number;
  /** Turns run: each handles one batch of events from epoll (possibly empty), then the carried-over connections. */
  readonly turns: number;
  /** Events taken from epoll across all turns. */
  readonly events: number;
  /**
   * Events dropped because they were meant for a previous owner of their fd
   * number (closed and reused earlier in the same batch).
   */
  readonly staleEvents: number;
  /**
   * Times a connection was carried over (ET only): served again by the
   * scheduler without a new event, because bytes were left after its read
   * quota or reading resumed after a pause.
   */
  readonly carryOvers: number;
  /** Carry-over rounds run back to back after a turn, within CARRY_ROUNDS_TIME_MS (the work-conserving read quota). */
  readonly carryRounds: number;
  /**
   * Turns that had events yet moved no bytes and accepted no connection:
   * a sign of an fd reported ready with nothing to do.
   */
  readonly busySpins: number;
  /** Times a server of this reactor stopped accepting for a while because the process ran out of fds (EMFILE/ENFILE). */
  readonly acceptBackoffs: number;
  /**
   * Bytes accepted by `write()` and not yet taken by the kernel, across all
   * connections, now; bounded by the `maxQueuedBytesTotal` option.
   */
  readonly queuedBytes: number;
  /**
   * Handler failures: throws and rejected promises of handlers and other
   * callbacks zepoll called. Each closed the connection it came from.
   */
  readonly handlerErrors: number;
  /** Times an ET connection ended its read turn with bytes unread and nothing to serve them (the `debug` option only; 0 otherwise). */
  readonly debugWarnings: number;
  /**
   * System calls the addon made for this reactor, by kind (`epollWait`,
   * `read`, `writev`, ...); `eagain` counts those that returned EAGAIN.
   */
  readonly syscalls: Record<CounterName, number>;
  /** The buffer pool's stats (shared with other reactors when the pool is). */
  readonly pool: BufferPoolStats;
  /** The io_uring backend's counts (requests, completions, system calls, buffers in its ring); null with epoll. */
  readonly ring: RingStats | null;
}

/** The environment variable that sets the backend of reactors made with neither `backend` nor `mode`. */
export const BACKEND_VARIABLE = 'ZEPOLL_BACKEND';

/**
 * The backend when the option is absent: epoll, unless ZEPOLL_BACKEND says
 * otherwise and no `mode` (an epoll option) was given. Runs a whole suite
 * or service on io_uring without touching its code.
 * @throws TypeError `ERR_INVALID_ARG_VALUE` when the variable names no backend.
 */
function defaultBackend(mode: Mode | undefined): BackendName | 'auto' {
  const value = process.env[BACKEND_VARIABLE];
  if (value === undefined || value === '' || mode !== undefined) return 'epoll';
  return oneOfOption(`process.env.${BACKEND_VARIABLE}`, value as BackendName, 'epoll', BACKEND_CHOICES);
}

/** Bytes read per connection per turn unless `readQuota` says otherwise: 64 KiB. */
export const READ_QUOTA_DEFAULT = 64 * 1024;
/** The default `maxQueuedBytesTotal`: 256 MiB queued for writing across a reactor's connections. */
export const MAX_QUEUED_BYTES_TOTAL_DEFAULT = 256 * 1024 * 1024;
export { IDLE_SWEEP_MS_MIN } from './core.js';

export { coreOf } from './core.js';

/**
 * One epoll instance nested in Node's event loop, with its buffer pool,
 * scheduler and stats: servers and connections are registered with it.
 * Timers, promises and other I/O of the process keep working beside it.
 * One reactor per thread; `close()` it when done.
 */
export class Reactor {
  /** How connections are registered with epoll (the `mode` option; 'lt' with the io_uring backend). */
  readonly mode: Mode;
  /** Bytes read per connection per turn (the `readQuota` option); Infinity reads until EAGAIN. */
  readonly readQuota: number;
  /** The pool reads land in: the `pool` option's shared pool, or this reactor's own. */
  readonly pool: BufferPool;
  /**
   * For zepoll's own modules (coreOf); not part of the public API.
   * @internal
   */
  readonly [CORE]: Core;
  private readonly backend: Backend;

  /**
   * Opens an epoll instance and, unless `attach` is false, nests it in
   * Node's loop. Every option is checked first, before any fd is opened.
   * @throws TypeError `ERR_INVALID_ARG_TYPE` when `options` (or `options.pool`)
   *   is not an object or an option has the wrong type, `ERR_INVALID_ARG_VALUE`
   *   when `mode` is not 'lt', 'et' or 'oneshot'.
   * @throws RangeError `ERR_OUT_OF_RANGE` when a number is out of range
   *   (`readQuota` below 1, `maxEventsPerTurn` outside 1..1024, a pool size).
   * @throws ZepollSystemError when epoll_create1 fails (EMFILE, ENFILE, ENOMEM).
   */
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
    const backendChoice = oneOfOption('options.backend', options.backend, defaultBackend(options.mode), BACKEND_CHOICES);
    const backendName = resolveBackend(backendChoice);
    this.pool = options.pool instanceof BufferPool ? options.pool : poolFor(backendName, optionsObject('options.pool', options.pool));
    this.backend = createBackend(backendName, this.mode, capacity, this.pool);
    this.mode = this.backend.policy.mode; // io_uring serves its readiness owners level-triggered: 'lt'
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
   * `timeoutMs` is in milliseconds; -1 waits without a limit.
   * @throws ZepollError `ERR_ZEPOLL_REACTOR_CLOSED` once the reactor is closed.
   * @throws ZepollSystemError when epoll_wait fails.
   */
  runOnce(timeoutMs = 0): number {
    this[CORE].assertOpen();
    const count = this.backend.wait(timeoutMs);
    if (count < 0) throw errnoError(count, 'epoll_wait');
    this[CORE].turn(count);
    return count;
  }

  /** Holds the process open while the reactor has registrations: the default (the `ref` option), undoing `unref()`. */
  ref(): void {
    this.backend.ref();
  }

  /** Lets the process exit even while the reactor has registrations (as a timer's `unref()`). */
  unref(): void {
    this.backend.unref();
  }

  /** True once `close()` was called. */
  get isClosed(): boolean {
    return this[CORE].isClosed;
  }

  /** A snapshot of the reactor's counters, made on each read (the system-call counts are refreshed). */
  get stats(): ReactorStats {
    const core = this[CORE];
    const metrics = core.metrics;
    const backend = this.backend.stats();
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
      staleEvents: backend.staleEvents,
      carryOvers: core.scheduler.carryOvers,
      carryRounds: metrics.carryRounds,
      busySpins: metrics.busySpins,
      acceptBackoffs: metrics.acceptBackoffs,
      queuedBytes: metrics.queuedBytes,
      handlerErrors: metrics.handlerErrors,
      debugWarnings: metrics.debugWarnings,
      syscalls: backend.syscalls,
      pool: this.pool.stats,
      ring: backend.ring,
    };
  }

  /**
   * Closes every registered owner's fd and the backend. Idempotent. Open
   * connections close with `ERR_ZEPOLL_REACTOR_CLOSED` (given to their
   * onError, when there is one, and onClose), servers stop listening, and
   * a later Server or connection on this reactor throws it.
   */
  close(): void {
    this[CORE].close();
  }
}
