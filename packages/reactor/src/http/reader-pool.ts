/**
 * A server's request readers between requests (request-reader.ts): the
 * parser, the head, and the request and response objects the reuse rule
 * gave back, kept for the next connection with bytes instead of by each
 * idle one. An idle keep-alive connection then holds its exchange and its
 * clock only, ~1.5 KiB less than with its own reader and spare objects
 * (bench/src/heap-idle.ts --requests 1 measures it), and a busy one takes
 * a reader back, so steady keep-alive traffic makes no garbage.
 *
 * One pool per server: its readers share the server's limits and its kind
 * of exchange (streaming bodies or not). Bounded by use (free-list.ts).
 * Handing the same objects to another connection is safe under the reuse
 * rule for the same reason as handing them to the next request of the
 * same connection: nothing of the handler's can reach them any more.
 */
import type { Connection } from '../connection.js';
import { FreeList } from '../free-list.js';
import type { ResolvedHttpLimits } from './limits.js';
import type { ParserCallbacks } from './parser-callbacks.js';
import { RequestReader, type ReaderOwner } from './request-reader.js';

/** A server's resting readers (see above). */
export class ReaderPool {
  private readonly readers: FreeList<RequestReader>;
  private readonly limits: ResolvedHttpLimits;

  /** Readers for the connections of a server whose limits are `limits`. */
  constructor(limits: ResolvedHttpLimits) {
    this.readers = new FreeList();
    this.limits = limits;
  }

  /** Readers out (held by connections with a request in progress), and resting ones kept. */
  get busy(): number {
    return this.readers.busy;
  }

  get free(): number {
    return this.readers.free;
  }

  /** A reader for `connection`: a resting one attached to it, or a new one. */
  take(connection: Connection, callbacks: ParserCallbacks, owner: ReaderOwner): RequestReader {
    const reader = this.readers.take();
    if (reader === null) return new RequestReader(connection, callbacks, this.limits, owner);
    reader.attach(connection, callbacks, owner);
    return reader;
  }

  /**
   * `reader` is resting (between requests, nothing kept): kept for the next
   * connection while the pool is under its bound. It still names its last
   * connection until taken (a pool's worth of closed connections at most).
   */
  give(reader: RequestReader): void {
    this.readers.give(reader);
  }

  /** A reader taken will not come back: its connection closed, or switched protocols, while it was in use. */
  lose(): void {
    this.readers.lose();
  }
}
