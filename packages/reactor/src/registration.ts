/**
 * A connection's registration: the Owner its backend holds (as mio's
 * IoSource is a source's registration), and so the side of the connection
 * that everything below it calls. The backend reports readiness,
 * received chunks and completed sends; the scheduler serves it when it
 * carried bytes over; the turn loop flushes its corked writes; its Reader
 * and Writer tell it what they read, that the queue drained, and that the
 * interest must change. Here those become read turns, flushes, the
 * backend's interest, and the handler's onData, onEnd, onHangUp and
 * onDrain. What users and protocol layers call, and the lifecycle, are the
 * Connection's (connection.ts). No line here names the mode.
 */
import { READY_WRITABLE, type Owner, type OwnerSlot } from './backend/backend.js';
import type { Carried, Core, Corked } from './core.js';
import type { Connection } from './connection.js';
import { ON_BYTES, type BytesReceiver, type ConnectionHandler } from './handler.js';
import { Reader, type ReadSink } from './reader.js';
import { Writer, type WriteSink } from './writer.js';
import { callSafely, isThenable } from './safe-call.js';

export class Registration implements Owner, Carried, Corked, ReadSink, WriteSink {
  /** The connection's fd (Owner). */
  readonly fd: number;
  /** The backend's record of this connection (Owner), set when it registers. */
  slot: OwnerSlot | null;
  /** Waiting in the scheduler's carry-over queue (Carried). */
  carried: boolean;
  /** Its reading (quota, chunks, pause); a relay sets `reader.hook` to splice instead. */
  readonly reader: Reader;
  /** Its writing (queue, corking, drain, half-close). */
  readonly writer: Writer;
  private readonly connection: Connection;
  private readonly core: Core;

  /** The registration of `connection` (not registered until Connection.open()), with its reader and writer. */
  constructor(core: Core, connection: Connection) {
    this.fd = connection.fd;
    this.slot = null;
    this.carried = false;
    this.connection = connection;
    this.core = core;
    this.reader = new Reader(core, connection, this);
    this.writer = new Writer(core, connection, this);
  }

  /** Readiness, as READY_* bits (Owner): queued bytes flushed (or a writableHook run), then a read turn. */
  ready(bits: number): void {
    const connection = this.connection;
    if (bits & READY_WRITABLE && this.writer.onWritable()) connection.writableHook?.();
    if (connection.isOpen) this.reader.ready(bits);
    this.eventDone();
  }

  /** Its bytes may be received for it, unless a relay's hook reads instead (Owner). */
  get takesBytes(): boolean {
    return this.reader.hook === null;
  }

  /** The backend received for it: bytes in a pool chunk, 0 at the end, or -errno (Owner). */
  received(chunk: number, result: number): void {
    this.reader.received(chunk, result); // on a closed connection, its chunk goes back
  }

  /** A send the backend held is done: bytes sent, or -errno (Owner). */
  sent(result: number): void {
    if (this.connection.isOpen) this.writer.sendCompleted(result);
  }

  /** A handler threw while the connection was served (Owner, Served): it closes. */
  fail(error: unknown): void {
    this.connection.fail(error);
  }

  /** The scheduler's turn for a carried-over connection (Carried). */
  serveCarried(): void {
    const backend = this.core.backend;
    backend.serving(this, true);
    if (this.reader.serveCarried()) this.eventDone();
    else backend.serving(this, false);
  }

  /** The end of an event's handling: a one-shot registration is armed again; ET's debug check runs. */
  private eventDone(): void {
    const core = this.core;
    if (core.backend.policy.rearmAfterEvent) {
      if (!this.connection.isOpen) return;
      core.backend.rearm(this, this.reader.wantsReading, this.writer.armed, this.reader.watchesHangUp);
    } else if (core.debug) {
      this.checkDrained();
    }
  }

  /**
   * ET debug check: bytes left in the kernel with no carry-over, no pause
   * and no pending pool wait will never be reported again.
   */
  private checkDrained(): void {
    const reader = this.reader;
    if (reader.edgeSafe || !this.connection.isOpen || this.carried || !reader.wantsReading || reader.isEnded) return;
    const bytes = this.core.backend.bytesWaiting(this.fd);
    if (bytes > 0) this.core.reportUnread(this.fd, bytes);
  }

  /** End of the event being handled: the corked writes go out together (Corked). */
  flushCorked(): void {
    if (this.connection.isOpen) this.writer.flushCorked();
  }

  /** ReadSink and WriteSink: ask the backend for what the connection can use now. */
  interestChanged(): void {
    if (!this.connection.isOpen) return;
    this.core.backend.arm(this, this.reader.wantsReading, this.writer.armed, this.reader.watchesHangUp);
  }

  /** ReadSink: bytes read, for the handler's onData. */
  receivedView(view: Buffer): void {
    const connection = this.connection;
    watch(connection, connection.handler.onData?.(connection, view));
  }

  /** ReadSink: bytes read, for a handler that takes them without a view (ON_BYTES); false when it does not. */
  receivedBytes(bytes: Buffer, length: number): boolean {
    const connection = this.connection;
    const handler = connection.handler as ConnectionHandler & Partial<BytesReceiver>;
    const receive = handler[ON_BYTES];
    if (receive === undefined) return false;
    receive.call(handler, connection, bytes, length);
    return true;
  }

  /** ReadSink: the peer finished sending: onEnd, then this side ends too unless half-open is allowed (or the write side is shut: the connection closes). */
  peerEnded(): void {
    const connection = this.connection;
    watch(connection, connection.handler.onEnd?.(connection));
    if (!connection.isOpen) return;
    if (this.writer.isShut) {
      connection.destroy();
      return;
    }
    if (!connection.allowHalfOpen && !connection.relayHalfOpen) connection.end();
  }

  /** ReadSink: the peer's FIN while reading was paused. */
  peerHungUp(): void {
    const connection = this.connection;
    callSafely(connection.handler.onHangUp ?? noop, connection.handler, connection, undefined, connection.failLate);
  }

  /** WriteSink: the queue drained after write() returned false: drain waiters read again, then onDrain. */
  drained(): void {
    const connection = this.connection;
    this.writer.wakeDrainWaiters();
    // A flush runs outside a turn too (a write from a timer): a failure here fails this connection, not the caller.
    callSafely(connection.handler.onDrain ?? noop, connection.handler, connection, undefined, connection.failLate);
  }
}

/** A handler call's result: a returned promise that rejects fails the connection. */
export function watch(connection: Connection, result: unknown): void {
  if (isThenable(result)) result.then(undefined, connection.failLate);
}

function noop(): void {}
