/**
 * The reactor: one poller, a token → owner table, the dispatch of each
 * batch (a "turn"), the carry-over list of the fair scheduler, write
 * corking, idle sweeps and stats. Attached to Node's loop: other I/O,
 * timers and promises in the process keep working.
 *
 * Readiness can be spurious; owners treat an event as "try now", never as
 * a promise of data.
 */
import { binding, constants, type NativePoller } from './native.js';
import { EVENT_WORDS, EVENTS_MAX, GENERATION_MAX } from './limits.js';
import { asError, errnoError, ZepollError } from './errors.js';
import { callSafely } from './safe-call.js';
import { booleanOption, integerOption, integerOrInfinityOption, oneOfOption, optionalFunction, optionsObject } from './validate.js';
import { openPoller, PollerCounters, type CounterName } from './poller.js';
import { BufferPool, type BufferPoolOptions, type BufferPoolStats } from './buffer-pool.js';
import { Scheduler } from './scheduler.js';

export type Mode = 'lt' | 'et' | 'oneshot';

/** Something registered with the reactor: a connection or a listener. */
export interface Pollable {
  readonly fd: number;
  generation: number;
  handleEvent(flags: number): void;
  /** Called when a handler throws while this owner is being served. */
  fail(error: unknown): void;
}

/** Something the scheduler serves without an event (an ET connection with data left). */
export interface Carried {
  carried: boolean;
  serveCarried(): void;
}

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
/** How often idle timeouts are checked, at most; a timeout fires at its floor, never early. */
export const IDLE_SWEEP_MS_MIN = 10;

const { EPOLLIN, EPOLLOUT, EPOLLRDHUP, EPOLLET, EPOLLONESHOT } = constants;

/** Interest bits per mode, computed once. */
export interface Interest {
  readonly read: number;
  readonly readWrite: number;
  readonly write: number;
  /** Paused, not writing: only the peer's FIN (a reset or hang-up is always reported). */
  readonly hangUp: number;
  /** Paused and writing. */
  readonly writeHangUp: number;
}

function interestFor(mode: Mode): Interest {
  switch (mode) {
    case 'lt':
      return { read: EPOLLIN | EPOLLRDHUP, readWrite: EPOLLIN | EPOLLRDHUP | EPOLLOUT, write: EPOLLOUT, hangUp: EPOLLRDHUP, writeHangUp: EPOLLOUT | EPOLLRDHUP };
    case 'et': {
      const all = (EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET) >>> 0;
      return { read: all, readWrite: all, write: all, hangUp: all, writeHangUp: all };
    }
    case 'oneshot':
      return {
        read: (EPOLLIN | EPOLLRDHUP | EPOLLONESHOT) >>> 0,
        readWrite: (EPOLLIN | EPOLLRDHUP | EPOLLOUT | EPOLLONESHOT) >>> 0,
        write: (EPOLLOUT | EPOLLONESHOT) >>> 0,
        hangUp: (EPOLLRDHUP | EPOLLONESHOT) >>> 0,
        writeHangUp: (EPOLLOUT | EPOLLRDHUP | EPOLLONESHOT) >>> 0,
      };
  }
}

const MODES: readonly Mode[] = ['lt', 'et', 'oneshot'];

/** The reactor's onError itself failed: logged, never rethrown. */
function logLastResort(error: unknown): void {
  logHandlerError(asError(error));
}

/** The documented default for a handler error nobody listens to: say it, keep serving. */
function logHandlerError(error: Error): void {
  console.error('zepoll: a handler failed and its connection was closed (pass onError to handle this):', error);
}

export interface IdleTracked {
  readonly idleTimeoutMs: number;
  lastActivity: number;
  idleExpired(): void;
  /** idleExpired() threw (a handler's onTimeout, say): the owner ends itself. Without it, the error is only counted. */
  expiryFailed?(error: unknown): void;
}

export class Reactor {
  readonly mode: Mode;
  readonly readQuota: number;
  readonly interest: Interest;
  readonly poller: NativePoller;
  readonly pool: BufferPool;
  readonly scheduler: Scheduler;
  readonly maxQueuedBytesTotal: number;
  readonly debug: boolean;
  debugWarnings: number;
  /** performance.now() at the start of the current turn (activity timestamps). */
  now: number;
  /** True while a batch is dispatched: writes are corked until the turn ends. */
  inTurn: boolean;
  queuedBytes: number;
  bytesIn: number;
  bytesOut: number;
  connectionsOpen: number;
  connectionsTotal: number;
  connectionsClosed: number;
  acceptBackoffs: number;
  /** Turns run so far; the current turn's number while one runs. */
  turns: number;
  private readonly events: Uint32Array;
  private readonly table: Map<number, Pollable>;
  private readonly counters: PollerCounters;
  private readonly corked: Array<{ flushCorked(): void }>;
  private readonly idle: Set<IdleTracked>;
  private idleTimer: NodeJS.Timeout | null;
  private idleSweepMs: number;
  private nextGeneration: number;
  private current: Pollable | null;
  private eventCount: number;
  private staleEvents: number;
  private busySpins: number;
  private handlerErrors: number;
  private progressMark: number;
  private closed: boolean;
  private readonly onBatch: (count: number) => void;
  private readonly unhandled: (error: Error) => void;
  /**
   * reportUnhandled(error, false), made once: the report callback for
   * user callbacks that fail late (a rejected onClose, a throwing onError).
   */
  readonly reportLate: (error: unknown) => void;

  constructor(reactorOptions?: ReactorOptions) {
    // Every option is checked here, before any fd is opened.
    const options = optionsObject('options', reactorOptions);
    this.mode = oneOfOption('options.mode', options.mode, 'et', MODES);
    this.readQuota = integerOrInfinityOption('options.readQuota', options.readQuota, READ_QUOTA_DEFAULT, 1);
    this.interest = interestFor(this.mode);
    const capacity = integerOption('options.maxEventsPerTurn', options.maxEventsPerTurn, EVENTS_MAX, 1, EVENTS_MAX);
    this.maxQueuedBytesTotal = integerOrInfinityOption('options.maxQueuedBytesTotal', options.maxQueuedBytesTotal, MAX_QUEUED_BYTES_TOTAL_DEFAULT, 1);
    const debug = booleanOption('options.debug', options.debug, false);
    const attach = booleanOption('options.attach', options.attach, true);
    const ref = booleanOption('options.ref', options.ref, true);
    this.unhandled = optionalFunction('options.onError', options.onError) ?? logHandlerError;
    this.reportLate = (error: unknown): void => this.reportUnhandled(error, false);
    this.pool = options.pool instanceof BufferPool ? options.pool : new BufferPool(optionsObject('options.pool', options.pool));
    const opened = openPoller(capacity);
    this.poller = opened.native;
    this.events = opened.events;
    this.scheduler = new Scheduler(() => this.carryTurn());
    this.debug = debug && this.mode === 'et';
    this.debugWarnings = 0;
    this.now = performance.now();
    this.inTurn = false;
    this.queuedBytes = 0;
    this.bytesIn = 0;
    this.bytesOut = 0;
    this.connectionsOpen = 0;
    this.connectionsTotal = 0;
    this.connectionsClosed = 0;
    this.acceptBackoffs = 0;
    this.table = new Map();
    this.counters = new PollerCounters(this.poller);
    this.corked = [];
    this.idle = new Set();
    this.idleTimer = null;
    this.idleSweepMs = Infinity;
    this.nextGeneration = 1;
    this.current = null;
    this.turns = 0;
    this.eventCount = 0;
    this.staleEvents = 0;
    this.busySpins = 0;
    this.handlerErrors = 0;
    this.progressMark = 0;
    this.closed = false;
    this.onBatch = (count: number): void => this.turn(count);
    if (attach) this.poller.start(this.onBatch);
    if (!ref) this.poller.unref();
  }

  /** Registers `owner` with `interest`; assigns its generation (the token). */
  register(owner: Pollable, interest: number): void {
    this.assertOpen();
    owner.generation = this.nextGeneration;
    this.nextGeneration = this.nextGeneration >= GENERATION_MAX ? 1 : this.nextGeneration + 1;
    const rc = this.poller.add(owner.fd, interest, owner.generation);
    if (rc < 0) throw errnoError(rc, 'epoll_ctl', owner.fd);
    this.table.set(owner.fd, owner);
  }

  /** A new interest (and the same token) for a registered owner. */
  modify(owner: Pollable, interest: number): void {
    const rc = this.poller.modify(owner.fd, interest, owner.generation);
    if (rc < 0) throw errnoError(rc, 'epoll_ctl', owner.fd);
  }

  /** Forgets `owner`: no event already in this batch reaches it any more. */
  unregister(owner: Pollable): void {
    if (this.table.get(owner.fd) === owner) this.table.delete(owner.fd);
    if (!this.closed) this.poller.remove(owner.fd);
  }

  /** Debug: an ET connection ended its turn with `bytes` unread and nothing will serve them. */
  reportUnread(fd: number, bytes: number): void {
    this.debugWarnings += 1;
    process.emitWarning(`ET connection fd ${fd} ended its turn with ${bytes} bytes unread and nothing carried over: no edge will report them`, 'ZepollDebug');
  }

  /**
   * The time for an activity stamp: the turn's start inside a turn (one
   * clock read per batch), the real time outside one (timers, promises):
   * `now` is then as old as the last batch, and a stamp from it would make
   * a timeout fire early.
   */
  clock(): number {
    return this.inTurn ? this.now : performance.now();
  }

  /** Marks that bytes moved or a connection was accepted this turn (busy-spin detector). */
  progress(): void {
    this.progressMark += 1;
  }

  /**
   * A handler threw outside this reactor's own dispatch (from a timer, a
   * promise, another connection's turn): counted like any handler error,
   * and only `owner` goes down with it.
   */
  failOwner(owner: { fail(error: unknown): void }, error: unknown): void {
    this.handlerErrors += 1;
    owner.fail(error);
  }

  /** A handler's error that its owner reported itself (an HTTP server's onError): counted in stats.handlerErrors. */
  noteHandlerError(): void {
    this.handlerErrors += 1;
  }

  /**
   * A handler's error that no `onError` took, or that an `onError` or
   * `onClose` threw itself: counted and given to the reactor's `onError`
   * (the default logs). Never rethrown: it would end the process.
   */
  reportUnhandled(error: unknown, counted: boolean): void {
    if (!counted) this.handlerErrors += 1;
    // The reactor's own onError failing (a throw or a rejection) is the last resort: logged.
    callSafely(this.unhandled, null, asError(error), undefined, logLastResort);
  }

  /** Queues a flush of `owner`'s corked writes at the end of this turn. */
  cork(owner: { flushCorked(): void }): void {
    this.corked.push(owner);
  }

  trackIdle(owner: IdleTracked): void {
    this.idle.add(owner);
    const sweep = Math.max(IDLE_SWEEP_MS_MIN, Math.floor(owner.idleTimeoutMs / 4));
    if (sweep < this.idleSweepMs || this.idleTimer === null) {
      this.idleSweepMs = Math.min(sweep, this.idleSweepMs);
      if (this.idleTimer !== null) clearInterval(this.idleTimer);
      this.idleTimer = setInterval(() => this.sweepIdle(), this.idleSweepMs);
      this.idleTimer.unref(); // a timeout alone never keeps the process alive
    }
  }

  /**
   * The sweep timer stays (unref'd, cleared by close()): a server of short
   * connections would otherwise make and clear one per connection.
   */
  untrackIdle(owner: IdleTracked): void {
    this.idle.delete(owner);
  }

  /**
   * Waits up to `timeoutMs` for events and runs one turn (for tests and
   * tight loops; the loop-attached path needs no call). Returns the events.
   */
  runOnce(timeoutMs = 0): number {
    this.assertOpen();
    const count = this.poller.wait(timeoutMs);
    if (count < 0) throw errnoError(count, 'epoll_wait');
    this.turn(count);
    return count;
  }

  ref(): void {
    this.poller.ref();
  }

  unref(): void {
    this.poller.unref();
  }

  get isClosed(): boolean {
    return this.closed;
  }

  get stats(): ReactorStats {
    this.counters.refresh();
    return {
      mode: this.mode,
      connectionsOpen: this.connectionsOpen,
      connectionsTotal: this.connectionsTotal,
      connectionsClosed: this.connectionsClosed,
      bytesIn: this.bytesIn,
      bytesOut: this.bytesOut,
      turns: this.turns,
      events: this.eventCount,
      staleEvents: this.staleEvents,
      carryOvers: this.scheduler.carryOvers,
      busySpins: this.busySpins,
      acceptBackoffs: this.acceptBackoffs,
      queuedBytes: this.queuedBytes,
      handlerErrors: this.handlerErrors,
      debugWarnings: this.debugWarnings,
      syscalls: this.counters.snapshot(),
      pool: this.pool.stats,
    };
  }

  /** Closes every registered owner's fd and the poller. Idempotent. */
  close(): void {
    if (this.closed) return;
    for (const owner of [...this.table.values()]) owner.fail(new ZepollError('ERR_ZEPOLL_REACTOR_CLOSED', 'the reactor closed'));
    this.closed = true;
    this.scheduler.clear();
    if (this.idleTimer !== null) clearInterval(this.idleTimer);
    this.idleTimer = null;
    this.idle.clear();
    this.poller.close();
  }

  /** Closes an fd through the poller (counted) or directly once the poller is gone. */
  closeFd(fd: number): void {
    if (this.closed) binding.close(fd);
    else this.poller.closeFd(fd);
  }

  /** One batch: dispatch, then carried-over connections, then corked writes. */
  private turn(count: number): void {
    this.turns += 1;
    this.eventCount += count;
    this.now = performance.now();
    this.inTurn = true;
    const mark = this.progressMark;
    const events = this.events;
    let index = 0;
    // One try around the loop, not one per event: a throw destroys the owner
    // being served and the loop resumes at the next event.
    while (index < count) {
      try {
        for (; index < count; index += 1) {
          const base = index * EVENT_WORDS;
          this.dispatch(events[base]!, events[base + 1]!, events[base + 2]!);
        }
      } catch (error) {
        this.ownerFailed(error);
        index += 1;
      }
    }
    this.serveCarried();
    this.flushCorked();
    this.inTurn = false;
    this.current = null;
    if (count > 0 && this.progressMark === mark) this.busySpins += 1;
  }

  private dispatch(fd: number, generation: number, flags: number): void {
    const owner = this.table.get(fd);
    if (owner === undefined || owner.generation !== generation) {
      this.staleEvents += 1; // meant for a previous owner of this fd number
      return;
    }
    this.current = owner;
    owner.handleEvent(flags);
  }

  private serveCarried(): void {
    for (;;) {
      try {
        this.scheduler.serve((owner) => {
          this.current = owner as unknown as Pollable;
          owner.serveCarried();
        });
        return;
      } catch (error) {
        this.ownerFailed(error);
      }
    }
  }

  private flushCorked(): void {
    const corked = this.corked;
    for (let index = 0; index < corked.length; index += 1) {
      try {
        corked[index]!.flushCorked();
      } catch (error) {
        this.current = corked[index] as unknown as Pollable;
        this.ownerFailed(error);
      }
    }
    corked.length = 0;
  }

  /** A turn with no epoll event: new events (if any) and the carried-over list. */
  private carryTurn(): void {
    if (this.closed) return;
    const count = this.poller.wait(0);
    this.turn(count > 0 ? count : 0);
  }

  private ownerFailed(error: unknown): void {
    this.handlerErrors += 1;
    // `current` is set before every owner call that can throw: dispatch,
    // serveCarried and flushCorked.
    const owner = this.current!;
    this.current = null;
    owner.fail(error);
  }

  private sweepIdle(): void {
    const now = performance.now();
    for (const owner of this.idle) {
      if (now - owner.lastActivity < owner.idleTimeoutMs) continue;
      try {
        owner.idleExpired();
      } catch (error) {
        // A timer callback: a throw here would be uncaught and end the process.
        this.handlerErrors += 1;
        owner.expiryFailed?.(error);
      }
    }
  }

  private assertOpen(): void {
    if (this.closed) throw new ZepollError('ERR_ZEPOLL_REACTOR_CLOSED', 'the reactor is closed');
  }
}
