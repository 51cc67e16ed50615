/**
 * What Connection, Server, Relay and http/ need from a reactor, and
 * nothing else: the backend (the one way to the kernel), the pool, the
 * scheduler, the clock and corking of a turn, idle tracking, counters and
 * the routing of handler failures. Reactor keeps a Core privately and
 * hands it to its own modules through coreOf(); users see Reactor's public
 * API only.
 */
import { asError, ZepollError } from './errors.js';
import { callSafely } from './safe-call.js';
import type { BufferPool } from './buffer-pool.js';
import { Scheduler } from './scheduler.js';
import { IdleSweep, type IdleTracked } from './idle-sweep.js';
import { FreeList } from './free-list.js';
import type { WriteQueue } from './write-queue.js';
import type { ReceivedChunks } from './received-chunks.js';

export { IDLE_SWEEP_MS_MIN, type IdleTracked } from './idle-sweep.js';
import type { Backend, Owner, OwnerKind } from './backend/backend.js';

/** The key of a reactor's Core: module-internal (not exported from the package). */
export const CORE: unique symbol = Symbol('zepoll.core');

/** The Core of a reactor, for zepoll's own modules (Connection, Server, Relay, http/). */
export function coreOf(reactor: { readonly [CORE]: Core }): Core {
  return reactor[CORE];
}

/** Something the reactor serves, which a handler's throw while it was served fails (alone). */
export interface Served {
  fail(error: unknown): void;
}

/** Something the scheduler serves without an event (a connection with bytes left after its quota). */
export interface Carried extends Served {
  carried: boolean;
  serveCarried(): void;
}

/** Something whose writes of a turn are flushed together at its end. */
export interface Corked extends Served {
  flushCorked(): void;
}

/** Counters every layer adds to; Reactor.stats reads them. */
export class Metrics {
  connectionsOpen = 0;
  connectionsTotal = 0;
  connectionsClosed = 0;
  bytesIn = 0;
  bytesOut = 0;
  /** Bytes accepted by write() and not yet taken by the kernel, across connections. */
  queuedBytes = 0;
  acceptBackoffs = 0;
  handlerErrors = 0;
  debugWarnings = 0;
  events = 0;
  busySpins = 0;
  /** Carry-over rounds run back to back after a turn (work-conserving quota; see carryRounds). */
  carryRounds = 0;
}

/** The documented default for a handler error nobody listens to: say it, keep serving. */
function logHandlerError(error: Error): void {
  console.error('zepoll: a handler failed and its connection was closed (pass onError to handle this):', error);
}

/** Carry-over rounds run back to back in one loop callback for at most this long (see carryRounds). */
export const CARRY_ROUNDS_TIME_MS = 1;
/** ... and at most this many rounds. */
export const CARRY_ROUNDS_MAX = 64;

/** The reactor's onError itself failed: logged, never rethrown. */
function logLastResort(error: unknown): void {
  logHandlerError(asError(error));
}

export interface CoreSettings {
  readonly readQuota: number;
  readonly maxQueuedBytesTotal: number;
  readonly debug: boolean;
  readonly onError: ((error: Error) => void) | undefined;
}

export class Core {
  readonly backend: Backend;
  readonly pool: BufferPool;
  readonly scheduler: Scheduler;
  readonly metrics: Metrics;
  readonly readQuota: number;
  readonly maxQueuedBytesTotal: number;
  /** ET only: report turns that leave bytes unread with nothing to serve them. */
  readonly debug: boolean;
  /** performance.now() at the start of the current turn (activity timestamps). */
  now: number;
  /** True while a batch is dispatched: writes are corked until the event being handled is done. */
  inTurn: boolean;
  /** Turns run so far; the current turn's number while one runs. */
  turns: number;
  /** Write queues of connections with nothing to send, for the next that has (writer.ts): an idle connection holds none. */
  readonly writeQueues: FreeList<WriteQueue>;
  /** Queues of received chunks, for readers whose chunks must wait (reader.ts): most never have one. */
  readonly receivedChunks: FreeList<ReceivedChunks>;
  /** reportUnhandled(error, false), made once: for callbacks that fail late. */
  readonly reportLate: (error: unknown) => void;
  /** The reactor turned its attention to this batch (`turn(count)`), made once. */
  readonly onBatch: (count: number) => void;
  /** Owners with corked writes: corked[0..corkedCount). The array never shrinks (no garbage per turn). */
  /** Serves one carried-over owner, then sends what it wrote (made once, not per turn). */
  private readonly visitCarried: (owner: Carried) => void;
  private readonly corked: Array<Corked | null>;
  private corkedCount: number;
  private readonly idle: IdleSweep;
  private current: Served | null;
  private progressMark: number;
  private closed: boolean;
  private readonly unhandled: (error: Error) => void;

  constructor(backend: Backend, pool: BufferPool, settings: CoreSettings) {
    this.backend = backend;
    this.pool = pool;
    this.scheduler = new Scheduler(() => this.carryTurn());
    this.metrics = new Metrics();
    this.readQuota = settings.readQuota;
    this.maxQueuedBytesTotal = settings.maxQueuedBytesTotal;
    this.debug = settings.debug && backend.policy.checksDrained;
    this.now = performance.now();
    this.inTurn = false;
    this.turns = 0;
    this.writeQueues = new FreeList();
    this.receivedChunks = new FreeList();
    this.unhandled = settings.onError ?? logHandlerError;
    this.reportLate = (error: unknown): void => this.reportUnhandled(error, false);
    this.onBatch = (count: number): void => {
      this.turn(count);
      this.carryRounds();
    };
    this.visitCarried = (owner: Carried): void => {
      this.current = owner;
      owner.serveCarried();
      if (this.corkedCount > 0) this.flushCorked();
    };
    this.corked = [];
    this.corkedCount = 0;
    this.idle = new IdleSweep(() => void (this.metrics.handlerErrors += 1));
    this.current = null;
    this.progressMark = 0;
    this.closed = false;
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** Throws ERR_ZEPOLL_REACTOR_CLOSED once the reactor is closed. */
  assertOpen(): void {
    if (this.closed) throw new ZepollError('ERR_ZEPOLL_REACTOR_CLOSED', 'the reactor is closed');
  }

  /** Registers an owner with the backend (refused once the reactor is closed). */
  open(owner: Owner, kind: OwnerKind): void {
    this.assertOpen();
    this.backend.open(owner, kind);
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

  /** Queues a flush of `owner`'s corked writes when the event being handled is done (else at the end of this turn). */
  cork(owner: Corked): void {
    const count = this.corkedCount;
    if (count === this.corked.length) this.corked.push(owner);
    else this.corked[count] = owner;
    this.corkedCount = count + 1;
  }

  /**
   * A handler threw outside this reactor's own dispatch (from a timer, a
   * promise, another connection's turn): counted like any handler error,
   * and only `owner` goes down with it.
   */
  failOwner(owner: { fail(error: unknown): void }, error: unknown): void {
    this.metrics.handlerErrors += 1;
    owner.fail(error);
  }

  /** A handler's error that its owner reported itself (an HTTP server's onError): counted. */
  noteHandlerError(): void {
    this.metrics.handlerErrors += 1;
  }

  /**
   * A handler's error that no `onError` took, or that an `onError` or
   * `onClose` threw itself: counted and given to the reactor's `onError`
   * (the default logs). Never rethrown: it would end the process.
   */
  reportUnhandled(error: unknown, counted: boolean): void {
    if (!counted) this.metrics.handlerErrors += 1;
    callSafely(this.unhandled, null, asError(error), undefined, logLastResort);
  }

  /** Debug: an ET connection ended its turn with `bytes` unread and nothing will serve them. */
  reportUnread(fd: number, bytes: number): void {
    this.metrics.debugWarnings += 1;
    process.emitWarning(`ET connection fd ${fd} ended its turn with ${bytes} bytes unread and nothing carried over: no edge will report them`, 'ZepollDebug');
  }

  /** Checks `owner` in the idle sweep, which runs at least every quarter of `shortestTimeoutMs` (default: the owner's timeout now). */
  trackIdle(owner: IdleTracked, shortestTimeoutMs: number = owner.idleTimeoutMs): void {
    this.idle.track(owner, shortestTimeoutMs);
  }

  /** Stops checking `owner` (closed, or its timeout cleared). */
  untrackIdle(owner: IdleTracked): void {
    this.idle.untrack(owner);
  }

  /** Fails every owner (ERR_ZEPOLL_REACTOR_CLOSED), then closes the backend. Idempotent. */
  close(): void {
    if (this.closed) return;
    for (const owner of this.backend.owners()) owner.fail(new ZepollError('ERR_ZEPOLL_REACTOR_CLOSED', 'the reactor closed'));
    this.closed = true;
    this.scheduler.clear();
    this.idle.stop();
    this.backend.close();
  }

  /**
   * One turn: the batch (each item's writes flushed after it), then any
   * follow-on batch the backend has (completions reaped once the batch's
   * readiness is handled), then carried-over connections, then what is
   * still corked.
   */
  turn(count: number): void {
    this.turns += 1;
    this.metrics.events += count;
    this.now = performance.now();
    this.inTurn = true;
    this.backend.beginTurn();
    const mark = this.progressMark;
    let items = count;
    for (;;) {
      while (items > 0) {
        this.dispatch(items);
        items = this.nextBatch(false);
        this.metrics.events += items;
      }
      this.serveCarried();
      this.flushCorked();
      // A completion backend sends the turn's requests now, with one system
      // call that may bring completions back: handled in this turn.
      items = this.nextBatch(true);
      if (items === 0) break;
      this.metrics.events += items;
    }
    this.inTurn = false;
    this.current = null;
    if (count > 0 && this.progressMark === mark) this.metrics.busySpins += 1;
  }

  /** Items [0, count) of the batch, each to its owner. */
  private dispatch(count: number): void {
    const backend = this.backend;
    let index = 0;
    // One try around the loop, not one per item: a throw destroys the owner
    // being served and the loop resumes at the next item.
    while (index < count) {
      try {
        for (; index < count; index += 1) {
          const owner = backend.ownerAt(index);
          if (owner === undefined) continue; // meant for a previous owner of this fd number, or the backend's own
          this.current = owner;
          backend.deliver(owner, index);
          // The writes this item made go out now, not at the end of the
          // batch: a response waits for its own event's handling only, not
          // for the hundred events behind it (a connection's writes of one
          // event still leave in one writev).
          if (this.corkedCount > 0) this.flushCorked();
        }
      } catch (error) {
        this.ownerFailed(error);
        index += 1;
      }
    }
  }

  /**
   * The backend's next batch (0: none): after this batch's items
   * (`batchDone`), or at the turn's end (`endTurn`, the batch its submission
   * brought back). A kernel refusal is reported, never thrown into the loop.
   */
  private nextBatch(turnEnds: boolean): number {
    try {
      return turnEnds ? this.backend.endTurn() : this.backend.batchDone();
    } catch (error) {
      this.reportUnhandled(error, false);
      return 0;
    }
  }

  private serveCarried(): void {
    for (;;) {
      try {
        this.scheduler.serve(this.visitCarried);
        return;
      } catch (error) {
        this.ownerFailed(error);
      }
    }
  }

  private flushCorked(): void {
    const corked = this.corked;
    // corkedCount is read each time round: a flush may cork another owner (a relay's other side).
    for (let index = 0; index < this.corkedCount; index += 1) {
      const owner = corked[index]!;
      corked[index] = null; // a closed connection is not kept alive by the list
      try {
        owner.flushCorked();
      } catch (error) {
        this.current = owner;
        this.ownerFailed(error);
      }
    }
    this.corkedCount = 0;
  }

  /** A turn with no epoll event: new events (if any) and the carried-over list. */
  private carryTurn(): void {
    if (this.closed) return;
    const count = this.backend.wait(0);
    this.turn(count > 0 ? count : 0);
    this.carryRounds();
  }

  /**
   * Work-conserving carry-over: while connections are carried (they used
   * their quota with bytes left), more rounds follow at once, each a
   * non-blocking wait first, so connections that became ready meanwhile are
   * served before the carried ones go again. The rounds stop after
   * CARRY_ROUNDS_TIME_MS (or CARRY_ROUNDS_MAX): then the loop yields to
   * libuv (timers, other I/O) and the carried connections wait for the
   * setImmediate turn. Without this, a heavy connection got one quota per
   * libuv iteration, however idle the rest was.
   */
  private carryRounds(): void {
    const scheduler = this.scheduler;
    const deadline = this.now + CARRY_ROUNDS_TIME_MS;
    for (let round = 0; round < CARRY_ROUNDS_MAX && scheduler.hasCarried && !this.closed; round += 1) {
      if (performance.now() >= deadline) return;
      this.metrics.carryRounds += 1;
      const count = this.backend.wait(0);
      this.turn(count > 0 ? count : 0);
    }
  }

  private ownerFailed(error: unknown): void {
    this.metrics.handlerErrors += 1;
    // `current` is set before every owner call that can throw: dispatch,
    // serveCarried and flushCorked.
    const owner = this.current!;
    this.current = null;
    owner.fail(error);
  }
}
