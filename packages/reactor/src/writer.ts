/**
 * A connection's writing: the queue (write-queue.ts), corking (the writes
 * of a turn go out together at its end), the high-water mark with its
 * onDrain, the caps (per connection and across the reactor), and waiting
 * for writability. Reading is the Reader's; the lifecycle the Connection's.
 */
import { ZepollError, errnoError } from './errors.js';
import { BLOCKED, FileSegment, IN_FLIGHT, WriteQueue } from './write-queue.js';
import type { Core } from './core.js';
import type { Connection } from './connection.js';

/** What a writer tells its connection. */
export interface WriteSink {
  /** The queue went under the high-water mark after write() returned false. */
  drained(): void;
  /** Everything queued is with the kernel (an ending connection shuts its write side now). */
  flushed(): void;
  /** Waiting for writability started or stopped: the interest may need to change. */
  interestChanged(): void;
}

export class Writer {
  /** Waiting for writability (bytes the kernel did not take, or a writableHook). */
  armed: boolean;
  private readonly core: Core;
  private readonly connection: Connection;
  private readonly sink: WriteSink;
  private readonly queue: WriteQueue;
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
    this.queue = new WriteQueue(core.pool);
    this.needDrain = false;
    this.corked = false;
    this.holding = false;
    this.drainWaiters = null;
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
    return this.queue.bytes;
  }

  /** Nothing queued and nothing corked: an ending connection may shut its write side. */
  get idle(): boolean {
    return this.queue.isEmpty && !this.corked;
  }

  /**
   * Queues `data` (already checked) and schedules the flush. False once the
   * queue is over the high-water mark, or when the connection was closed
   * for passing a cap.
   */
  push(data: Uint8Array): boolean {
    const size = data.byteLength;
    const queue = this.queue;
    const connection = this.connection;
    if (size === 0) return queue.bytes < connection.highWaterMark;
    const core = this.core;
    const metrics = core.metrics;
    queue.push(data);
    metrics.queuedBytes += size;
    if (queue.bytes > connection.maxQueuedBytes || metrics.queuedBytes > core.maxQueuedBytesTotal) {
      const which = queue.bytes > connection.maxQueuedBytes ? `${connection.maxQueuedBytes} bytes for this connection` : `${core.maxQueuedBytesTotal} bytes across the reactor`;
      connection.destroy(new ZepollError('ERR_ZEPOLL_WRITE_QUEUE_FULL', `write queue over its cap of ${which}: the peer is not reading`));
      return false;
    }
    this.schedule();
    if (queue.bytes >= connection.highWaterMark) {
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
    this.queue.pushFile(segment);
    this.schedule();
  }

  /** Writability reported: flush what is queued. True when a writableHook should run instead. */
  onWritable(): boolean {
    if (!this.queue.isEmpty) {
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

  /** End of turn: the corked writes go out together. */
  flushCorked(): boolean {
    this.corked = false;
    if (!this.armed && !this.queue.isEmpty) {
      this.flush();
      return false;
    }
    return this.queue.isEmpty;
  }

  /** The connection closed: queued buffers go back to the pool, file sends fail with `error`. */
  clear(error: Error): void {
    this.core.metrics.queuedBytes -= this.queue.bytes;
    this.queue.clear(error);
  }

  /** Outside a turn: write now. Inside one: once the event being handled is done, with its other writes. */
  private schedule(): void {
    if (this.holding) return;
    if (this.core.inTurn) {
      if (!this.corked) {
        this.corked = true;
        this.core.cork(this.connection);
      }
    } else if (!this.armed) {
      this.flush();
    }
  }

  private flush(): void {
    const queue = this.queue;
    const before = queue.bytes;
    this.settle(queue.flush(this.core.backend, this.connection), before);
  }

  /**
   * A completion backend's send finished: `result` bytes went (or -errno).
   * What is left (and what was queued meanwhile) goes next.
   */
  sendCompleted(result: number): void {
    const queue = this.queue;
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
    const queue = this.queue;
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
      connection.destroy(errnoError(rc, this.queue.failedSyscall, connection.fd));
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
    if (!this.corked && this.queue.isEmpty) this.sink.flushed();
  }
}
