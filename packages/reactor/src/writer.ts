/**
 * A connection's write side: what write(), writeMany() and sendFile() are
 * given, checked and refused once the side is ended or the connection
 * closed; the queue (write-queue.ts); corking (the writes of a turn go out
 * together at its end); the high-water mark with its onDrain; the caps
 * (per connection and across the reactor); waiting for writability; and
 * the half-close: end(), then the shutdown once the queue is flushed.
 * Reading is the Reader's; the connection's lifecycle the Connection's.
 */
import { ZepollError, errnoError, invalidArgType } from './errors.js';
import { ENOTCONN } from './errno.js';
import { BLOCKED, IN_FLIGHT, WriteQueue } from './write-queue.js';
import { FileSegment } from './file-segment.js';
import { checkedParts, checkSendFileArguments, releaseParts, toBytes, type WriteData } from './write-arguments.js';
import type { Core, Corked } from './core.js';
import type { Connection } from './connection.js';
import type { Owner } from './backend/backend.js';

/** The write side: taking writes; ending (end() called, the queue still going out); shut (the FIN is sent). */
const WRITE_OPEN = 0;
const WRITE_ENDING = 1;
const WRITE_SHUT = 2;

/** What a writer tells its connection's registration, the owner its sends and corked flushes are for. */
export interface WriteSink extends Owner, Corked {
  /** The queue went under the high-water mark after write() returned false. */
  drained(): void;
  /** Waiting for writability started or stopped: the interest may need to change. */
  interestChanged(): void;
}

export class Writer {
  /** Waiting for writability (bytes the kernel did not take, or a writableHook). */
  armed: boolean;
  private readonly core: Core;
  private readonly connection: Connection;
  private readonly sink: WriteSink;
  /** WRITE_OPEN, WRITE_ENDING or WRITE_SHUT. */
  private side: number;
  /**
   * Taken from the reactor's free list at a write, given back once all is
   * sent (and at the close): a connection with nothing to send (an idle
   * one) holds no queue, arrays or staging (~300 bytes of heap).
   * flush(), sendCompleted() and what they call follow a write, so there
   * it is never null.
   */
  private queue: WriteQueue | null;
  /** write() returned false: onDrain is owed. */
  private needDrain: boolean;
  /** Queued for the end of the event being handled (inside a turn, its writes go out together). */
  private corked: boolean;
  /** Inside writeMany: the parts are queued first, flushed once after. */
  private holding: boolean;
  /** Connections paused by forward() until this queue drains. */
  private drainWaiters: Connection[] | null;

  constructor(core: Core, connection: Connection, sink: WriteSink) {
    this.armed = false;
    this.core = core;
    this.connection = connection;
    this.sink = sink;
    this.side = WRITE_OPEN;
    this.queue = null;
    this.needDrain = false;
    this.corked = false;
    this.holding = false;
    this.drainWaiters = null;
  }

  /** end() was called: nothing more is taken. */
  get isEnded(): boolean {
    return this.side !== WRITE_OPEN;
  }

  /** The write side is shut down (its FIN sent). */
  get isShut(): boolean {
    return this.side === WRITE_SHUT;
  }

  /** Connection.write(): `data` checked, then queued (see there). */
  write(data: WriteData): boolean {
    const refused = this.refuse('write()');
    if (refused !== null) throw refused;
    return this.push(toBytes('data', data));
  }

  /** Connection.writeMany(): every part checked before the first is queued, then one flush. */
  writeMany(parts: readonly WriteData[]): boolean {
    const refused = this.refuse('writeMany()');
    if (refused !== null) throw refused;
    if (!Array.isArray(parts)) throw invalidArgType('parts', 'an instance of Array', parts);
    const count = parts.length;
    const checked = checkedParts(parts, count);
    try {
      return this.pushAll(checked, count);
    } finally {
      releaseParts(checked, count);
    }
  }

  /** Connection.sendFile(): the arguments checked, then a file segment queued in order with the buffers. */
  sendFile(fileFd: number, offset: number, length: number): Promise<number> {
    const refused = this.refuse('sendFile()');
    if (refused !== null) throw refused;
    checkSendFileArguments(fileFd, offset, length);
    if (length === 0) return Promise.resolve(0);
    return new Promise<number>((resolve, reject) => this.pushFile(new FileSegment(fileFd, offset, length, resolve, reject)));
  }

  /** The error for a write on a closed or ended connection, or null when writing is allowed. */
  private refuse(call: string): ZepollError | null {
    if (!this.connection.isOpen) return new ZepollError('ERR_ZEPOLL_CONNECTION_CLOSED', `${call} on a closed connection`);
    if (this.side !== WRITE_OPEN) return new ZepollError('ERR_ZEPOLL_WRITE_AFTER_END', `${call} after end()`);
    return null;
  }

  /** Half-close (the connection is open): nothing more is taken; the write side shuts once the queue is flushed. */
  end(): void {
    if (this.side !== WRITE_OPEN) return;
    this.side = WRITE_ENDING;
    if (this.idle) this.shutdown();
  }

  /**
   * An ending write side with nothing left to send shuts down (the FIN);
   * the connection closes when the peer had ended too, or had reset.
   */
  private shutdown(): void {
    const connection = this.connection;
    if (this.side !== WRITE_ENDING || !connection.isOpen) return;
    this.side = WRITE_SHUT;
    const rc = this.core.backend.shutdownWrite(connection.fd);
    if (rc < 0 && rc !== ENOTCONN) {
      connection.destroy(errnoError(rc, 'shutdown', connection.fd)); // ENOTCONN: the peer already reset
      return;
    }
    if (connection.reader.isEnded || rc === ENOTCONN) connection.destroy();
  }

  /** `waiter` reads again once this queue drains (or its connection closes). */
  waitForDrain(waiter: Connection): void {
    if (this.drainWaiters === null) this.drainWaiters = [];
    if (!this.drainWaiters.includes(waiter)) this.drainWaiters.push(waiter);
  }

  wakeDrainWaiters(): void {
    const waiters = this.drainWaiters;
    if (waiters === null) return;
    this.drainWaiters = null;
    for (const waiter of waiters) waiter.resume();
  }

  /** Bytes accepted and not yet taken by the kernel (file segments excluded). */
  get bytes(): number {
    return this.queue === null ? 0 : this.queue.bytes;
  }

  /** Nothing queued and nothing corked: an ending connection may shut its write side. */
  get idle(): boolean {
    return this.isEmpty && !this.corked;
  }

  /** Nothing is queued (or ever was). */
  private get isEmpty(): boolean {
    return this.queue === null || this.queue.isEmpty;
  }

  /**
   * Queues `data` (already checked) and schedules the flush. False once the
   * queue is over the high-water mark, or when the connection was closed
   * for passing a cap.
   */
  push(data: Uint8Array): boolean {
    const size = data.byteLength;
    const connection = this.connection;
    if (size === 0) return this.bytes < connection.highWaterMark;
    const core = this.core;
    const queue = (this.queue ??= this.takeQueue());
    const metrics = core.metrics;
    queue.push(data);
    metrics.queuedBytes += size;
    if (queue.bytes > connection.maxQueuedBytes || metrics.queuedBytes > core.maxQueuedBytesTotal) {
      const which = queue.bytes > connection.maxQueuedBytes ? `${connection.maxQueuedBytes} bytes for this connection` : `${core.maxQueuedBytesTotal} bytes across the reactor`;
      connection.destroy(new ZepollError('ERR_ZEPOLL_WRITE_QUEUE_FULL', `write queue over its cap of ${which}: the peer is not reading`));
      return false;
    }
    this.schedule();
    // Not `queue`: a flush made now (outside a turn) may have given it back, and another connection taken it.
    if (this.bytes >= connection.highWaterMark) {
      this.needDrain = true;
      return false;
    }
    return true;
  }

  /** parts[0..count) (already checked) as one write: queued first, flushed once. */
  pushAll(parts: readonly Uint8Array[], count: number): boolean {
    this.holding = true;
    let ok = true;
    for (let index = 0; index < count && this.connection.isOpen; index += 1) ok = this.push(parts[index]!) && ok;
    this.holding = false;
    if (!this.connection.isOpen) return false;
    this.schedule();
    // A part past the high-water mark made ok false, but a flush made now
    // (outside a turn) may have taken everything and already paid the drain:
    // false then would leave the caller waiting for an onDrain that came.
    return ok || !this.needDrain;
  }

  /** A file segment, in order with the buffers. */
  pushFile(segment: FileSegment): void {
    (this.queue ??= this.takeQueue()).pushFile(segment);
    this.schedule();
  }

  /** Writability reported: flush what is queued. True when a writableHook should run instead. */
  onWritable(): boolean {
    if (!this.isEmpty) {
      this.flush();
      return false;
    }
    if (!this.armed) return false;
    this.armed = false;
    this.sink.interestChanged();
    return true;
  }

  /** Ask for writability (a writableHook waits for it). */
  arm(): void {
    if (this.armed) return;
    this.armed = true;
    this.sink.interestChanged();
  }

  /** End of the event (the connection open): the corked writes go out together; an ending side with nothing queued shuts. */
  flushCorked(): void {
    this.corked = false;
    if (!this.isEmpty) {
      if (!this.armed) this.flush();
      return;
    }
    this.shutdown();
    this.restQueue();
  }

  /** The connection closed: queued buffers go back to the pool, file sends fail with `error`; the queue goes back to the reactor's. */
  clear(error: Error): void {
    const queue = this.queue;
    if (queue === null) return;
    this.queue = null;
    this.core.metrics.queuedBytes -= queue.bytes;
    queue.clear(error); // empty now, nothing in flight (a completion backend holds a send's buffers itself)
    this.core.writeQueues.give(queue);
  }

  /** A queue from the reactor's free list, or a new one. */
  private takeQueue(): WriteQueue {
    return this.core.writeQueues.take() ?? new WriteQueue(this.core.pool);
  }

  /**
   * All is sent: the queue goes back to the reactor's free list (an empty
   * queue has no send in flight: a send's entries stay queued until its completion).
   */
  private restQueue(): void {
    const queue = this.queue;
    if (queue === null || !queue.isEmpty || this.corked || !this.connection.isOpen) return;
    this.queue = null;
    this.core.writeQueues.give(queue);
  }

  /** Outside a turn: write now. Inside one: once the event being handled is done, with its other writes. */
  private schedule(): void {
    if (this.holding) return;
    if (this.core.inTurn) {
      if (!this.corked) {
        this.corked = true;
        this.core.cork(this.sink);
      }
    } else if (!this.armed) {
      this.flush();
    }
  }

  private flush(): void {
    const queue = this.queue!;
    const before = queue.bytes;
    this.settle(queue.flush(this.core.backend, this.sink), before);
  }

  /**
   * A completion backend's send finished: `result` bytes went (or -errno).
   * What is left (and what was queued meanwhile) goes next.
   */
  sendCompleted(result: number): void {
    const queue = this.queue!;
    const before = queue.bytes;
    const rc = queue.sent(result);
    if (rc < 0 || queue.isEmpty) {
      this.settle(rc, before); // a failure, or all sent: drained and flushed
      return;
    }
    this.account(before);
    if (!this.corked) this.flush(); // else the corked flush at the event's end sends the rest
  }

  /** Counts what the last flush (or completion) moved. */
  private account(before: number): void {
    const core = this.core;
    const connection = this.connection;
    const queue = this.queue!;
    core.metrics.queuedBytes -= before - queue.bytes;
    if (queue.written > 0) {
      connection.bytesOut += queue.written;
      core.metrics.bytesOut += queue.written;
      core.progress();
      connection.lastActivity = core.clock(); // flushes also run from timers, outside a turn
    }
  }

  /** After a flush: a failure destroys, a full kernel arms for writability, a send in flight waits for its completion, else drained and flushed. */
  private settle(rc: number, before: number): void {
    const connection = this.connection;
    this.account(before);
    if (rc < 0) {
      connection.destroy(errnoError(rc, this.queue!.failedSyscall, connection.fd));
      return;
    }
    if (rc === BLOCKED) {
      this.armed = true;
      this.sink.interestChanged();
      return;
    }
    if (rc === IN_FLIGHT) return; // its completion goes on from here (sendCompleted)
    // FLUSHED: everything is with the kernel.
    this.armed = false;
    this.sink.interestChanged();
    if (this.needDrain) {
      this.needDrain = false;
      this.sink.drained();
      if (!connection.isOpen) return;
    }
    // onDrain may have queued more (and called end()): the write side shuts only once the queue is empty.
    if (this.corked || !this.isEmpty) return;
    if (this.side === WRITE_ENDING) this.shutdown();
    else connection.writableHook?.(); // a relay's pipe waits for what was queued before it
    this.restQueue();
  }
}
