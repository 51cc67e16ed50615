/**
 * relay(a, b): bytes move between two connections through kernel pipes
 * with splice(2), never through JavaScript. Each direction has its own
 * pipe; a direction reads (socket → pipe) under the reactor's quota, drains
 * the pipe into the other socket, and when that socket is full stops reading
 * until it is writable again (backpressure). An end of stream is passed on
 * as a half-close; the relay ends when both directions have ended or either
 * connection closes, and then closes both connections and its pipes.
 *
 * Bytes that reached a side's queue before the relay (a response the owner
 * wrote, or on io_uring the chunks its last armed receive brought while
 * being cancelled) go first: a direction splices only once the backend
 * receives nothing more for its source (`backend.ownerReads`) and drains
 * its pipe only into an empty write queue.
 */
import { errnoError, ZepollError } from './errors.js';
import { pipe } from './backend/sockets.js';
import { releaseRelayPipe, sizeRelayPipe } from './backend/pipes.js';
import { coreOf } from './core.js';
import { EAGAIN, EINTR, EINTR_RETRIES_MAX } from './errno.js';
import type { Connection, ConnectionHandler } from './connection.js';
import { forward } from './forward.js';

export { RELAY_PIPE_SIZE } from './backend/pipes.js';

/** A relay's counters (`relay.stats`). */
export interface RelayStats {
  /** Bytes moved from `a` to `b` so far (written to `b`, not only read from `a`). */
  readonly bytesAToB: number;
  /** Bytes moved from `b` to `a` so far (written to `a`, not only read from `b`). */
  readonly bytesBToA: number;
  /** The capacity of the relay's pipes in bytes (the smaller of the two): what one splice pair can move. */
  readonly pipeSize: number;
}

/**
 * One direction of a relay (source → target) and its pipe: what has been
 * moved, what waits in the pipe, and whether the source has ended.
 * Internal to the relay; not exported.
 */
class Direction {
  moved: number;
  pending: number;
  ended: boolean;
  private readonly relay: Relay;
  private readonly source: Connection;
  private readonly target: Connection;
  private readonly pipeRead: number;
  private readonly pipeWrite: number;
  /** The pipe's capacity: the most one splice moves. */
  readonly capacity: number;

  constructor(relay: Relay, source: Connection, target: Connection, fds: [number, number]) {
    this.relay = relay;
    this.source = source;
    this.target = target;
    this.pipeRead = fds[0];
    this.pipeWrite = fds[1];
    this.capacity = sizeRelayPipe(fds[1]);
    this.moved = 0;
    this.pending = 0;
    this.ended = false;
  }

  /** Source readable (or carried over): splice in, under the quota, and pass on. */
  pump(): void {
    const core = coreOf(this.source.reactor);
    const backend = core.backend;
    // The backend's armed receive (io_uring, while it is cancelled) would
    // race a splice for the bytes; its last chunks, and chunks the reader
    // kept, are forwarded first. Readiness comes once the receive is done.
    if (!backend.ownerReads(this.source.registration) || this.source.reader.keepsChunks) return;
    if (!this.drain()) return;
    // The quota bounds bytes a turn brings into JavaScript; spliced bytes
    // never come, and a splice of a whole pipe costs about what one read
    // of a quota does: a direction may fill its pipe each turn.
    let budget = Math.max(core.readQuota, this.capacity);
    // Every way out of this turn leaves a future event: EAGAIN, end, an
    // error, a full target (its writability resumes us) or a carry-over.
    this.source.reader.edgeSafe = true;
    let interrupted = 0;
    while (budget > 0 && !this.ended) {
      // The pipe is empty here (drain() returned true): a whole pipe's worth fits.
      const rc = backend.splice(this.source.fd, this.pipeWrite, Math.min(this.capacity, budget));
      if (rc === EAGAIN) return;
      if (rc === EINTR && interrupted < EINTR_RETRIES_MAX) {
        interrupted += 1;
        continue;
      }
      if (rc < 0) {
        this.relay.fail(errnoError(rc, 'splice', this.source.fd));
        return;
      }
      if (rc === 0) {
        this.ended = true; // end of stream: pass it on once the pipe is empty
        this.source.pause();
        if (this.pending === 0) this.relay.ended(this, this.target);
        return;
      }
      this.pending += rc;
      budget -= rc;
      core.metrics.bytesIn += rc;
      core.progress();
      if (!this.drain()) return;
    }
    if (budget <= 0 && backend.policy.carryLeftover) core.scheduler.carry(this.source.registration); // no edge will come for what is left
  }

  /** Target writable again: empty the pipe, then read on. */
  resume(): void {
    if (this.drain()) {
      if (this.ended) return;
      this.source.resume();
      this.pump();
    }
  }

  /**
   * Bytes the source's backend received before the relay could splice (or
   * the reader kept): to the target's queue, in order, with forward()'s
   * backpressure.
   */
  forwarded(data: Uint8Array): void {
    if (!this.target.isOpen) return; // the relay is ending: both go
    this.moved += data.byteLength;
    forward(this.source, data, this.target);
  }

  /** The source's end came through the backend's receive: passed on once what came before it has gone. */
  endedByReceive(): void {
    this.ended = true;
    if (this.pending === 0) this.relay.ended(this, this.target);
  }

  /** Moves the pipe's bytes to the target. False while the target is full or still sends what was queued before. */
  private drain(): boolean {
    const core = coreOf(this.target.reactor);
    let interrupted = 0;
    if (this.pending > 0 && this.target.queuedBytes > 0) {
      // The pipe's bytes come after what is queued: its flush (Connection.flushed) resumes us.
      this.source.pause();
      return false;
    }
    while (this.pending > 0) {
      const rc = core.backend.splice(this.pipeRead, this.target.fd, this.pending);
      if (rc === EINTR && interrupted < EINTR_RETRIES_MAX) {
        interrupted += 1;
        continue;
      }
      if (rc === EAGAIN) {
        this.source.pause(); // no more reading until the target takes bytes
        this.target.awaitWritable();
        return false;
      }
      if (rc < 0) {
        this.relay.fail(errnoError(rc, 'splice', this.target.fd));
        return false;
      }
      this.pending -= rc;
      this.moved += rc;
      core.metrics.bytesOut += rc;
      core.progress();
    }
    if (this.ended) this.relay.ended(this, this.target);
    return true;
  }

  closePipe(): void {
    const backend = coreOf(this.source.reactor).backend;
    backend.closeFd(this.pipeRead);
    backend.closeFd(this.pipeWrite);
    releaseRelayPipe(this.capacity);
  }
}

/**
 * A side's handler while relayed: the owner's handler object is kept as
 * given (a class instance keeps its prototype and `this`) and told of
 * errors, idle timeouts, the server's close and the connection's close.
 * Everything else is the relay's: its bytes, their end, a hang-up (the
 * relay half-closes the other side itself).
 */
class RelayHandler implements ConnectionHandler {
  /** The owner's, when it has them (called on the owner, so its `this` holds). */
  readonly onTimeout?: (connection: Connection) => unknown;
  readonly onServerClose?: (connection: Connection) => unknown;
  private readonly relay: Relay;
  private readonly owner: ConnectionHandler;
  private readonly direction: Direction;

  constructor(relay: Relay, owner: ConnectionHandler, direction: Direction) {
    this.relay = relay;
    this.owner = owner;
    this.direction = direction;
    if (owner.onTimeout !== undefined) this.onTimeout = (connection) => owner.onTimeout!(connection);
    if (owner.onServerClose !== undefined) this.onServerClose = (connection) => owner.onServerClose!(connection);
  }

  /** Bytes received for the side before its splicing began (its backend's last receive, chunks its reader kept). */
  onData(_connection: Connection, data: Uint8Array): void {
    this.direction.forwarded(data);
  }

  /** The side's end, received by the backend before its splicing began. */
  onEnd(): void {
    this.direction.endedByReceive();
  }

  onError(connection: Connection, error: Error): unknown {
    return this.owner.onError?.(connection, error); // a returned promise is watched by the caller
  }

  onClose(connection: Connection, error?: Error): void {
    try {
      this.owner.onClose?.(connection, error);
    } finally {
      this.relay.sideClosed(error);
    }
  }
}

/**
 * Two connections joined through kernel pipes with splice (see relay()):
 * while it runs, the relay owns their reads, writes and ends; their
 * handlers are still told of errors, idle timeouts, the server's close and
 * the connection's close. Made by relay(a, b).
 */
export class Relay {
  /** The first connection: its bytes go to `b`. */
  readonly a: Connection;
  /** The second connection: its bytes go to `a`. */
  readonly b: Connection;
  /** Resolves when the relay has closed both connections. */
  readonly closed: Promise<void>;
  /** The two directions, each through its pipe. */
  private readonly aToB: Direction;
  private readonly bToA: Direction;
  private finished: boolean;
  private resolveClosed!: () => void;
  private readonly handlers: [ConnectionHandler, ConnectionHandler];

  /**
   * Takes over `a` and `b` (their handlers are wrapped, both are resumed)
   * and moves any bytes already waiting.
   * @throws ZepollError `ERR_ZEPOLL_CONNECTION_CLOSED` when either connection is closed.
   * @throws ZepollError `ERR_INVALID_ARG_VALUE` when the connections belong to different reactors.
   * @throws ZepollSystemError when a pipe cannot be made (pipe2, e.g. `EMFILE`).
   */
  constructor(a: Connection, b: Connection) {
    if (!a.isOpen || !b.isOpen) throw new ZepollError('ERR_ZEPOLL_CONNECTION_CLOSED', 'relay() needs two open connections');
    if (a.reactor !== b.reactor) throw new ZepollError('ERR_INVALID_ARG_VALUE', 'relay() needs two connections of one reactor');
    this.a = a;
    this.b = b;
    this.finished = false;
    this.closed = new Promise((resolve) => (this.resolveClosed = resolve));
    this.handlers = [a.handler, b.handler];
    const backend = coreOf(a.reactor).backend;
    const first = pipe();
    let second: [number, number];
    try {
      second = pipe();
    } catch (error) {
      backend.closeFd(first[0]);
      backend.closeFd(first[1]);
      throw error;
    }
    const aToB = new Direction(this, a, b, first);
    const bToA = new Direction(this, b, a, second);
    this.aToB = aToB;
    this.bToA = bToA;
    a.handler = new RelayHandler(this, this.handlers[0], aToB);
    b.handler = new RelayHandler(this, this.handlers[1], bToA);
    // A side's FIN is passed on by its direction, in order: it does not end that side.
    a.relayHalfOpen = true;
    b.relayHalfOpen = true;
    a.reader.hook = () => aToB.pump();
    b.reader.hook = () => bToA.pump();
    a.writableHook = () => bToA.resume();
    b.writableHook = () => aToB.resume();
    // The hooks read now: the backend stops receiving for them (io_uring cancels the armed receive).
    a.registration.interestChanged();
    b.registration.interestChanged();
    // An owner may have paused them until the relay was ready.
    a.resume();
    b.resume();
    // Bytes may be waiting already (in ET no new edge would tell; a backend
    // still receiving tells by readiness once its receive is done).
    aToB.pump();
    if (!this.finished) bToA.pump();
  }

  /** The bytes moved each way and the pipes' capacity, as of now (a new object each time). */
  get stats(): RelayStats {
    return { bytesAToB: this.aToB.moved, bytesBToA: this.bToA.moved, pipeSize: Math.min(this.aToB.capacity, this.bToA.capacity) };
  }

  /**
   * Called by a side's handler when that side closed.
   * @internal
   */
  sideClosed(error: Error | undefined): void {
    this.finish(error);
  }

  /**
   * A direction ended and its pipe is empty: half-close the target; both ended: done.
   * @internal
   */
  ended(direction: Direction, target: Connection): void {
    void direction;
    target.end();
    const aToB = this.aToB;
    const bToA = this.bToA;
    if (aToB.ended && bToA.ended && aToB.pending === 0 && bToA.pending === 0) this.finish();
  }

  /**
   * A splice failed: ends the relay, destroying both connections with `error`.
   * @internal
   */
  fail(error: Error): void {
    this.finish(error);
  }

  private finish(error?: Error): void {
    if (this.finished) return;
    this.finished = true;
    this.a.destroy(error);
    this.b.destroy(error);
    this.aToB.closePipe();
    this.bToA.closePipe();
    this.resolveClosed();
  }
}

/**
 * Relays bytes both ways between `a` and `b` with splice until both ends
 * close (on both backends: on io_uring a side's armed receive is cancelled
 * first, and what it brought is written ahead of the spliced bytes).
 * @throws as the Relay constructor: `ERR_ZEPOLL_CONNECTION_CLOSED`,
 *   `ERR_INVALID_ARG_VALUE` (two reactors), or a ZepollSystemError from pipe2.
 */
export function relay(a: Connection, b: Connection): Relay {
  return new Relay(a, b);
}
