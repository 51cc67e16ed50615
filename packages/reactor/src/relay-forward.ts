/**
 * relay() on the io_uring backend: a socket's receive is armed in the ring,
 * so splicing from it would race the ring for its bytes. Instead each side's
 * received chunks (pooled views: no copy in JavaScript) are written to the
 * other side as they come, with forward()'s backpressure (the source pauses
 * while the target's queue is over its high-water mark), and an end of
 * stream is passed on as a half-close once what came before it is queued.
 */
import type { Connection, ConnectionHandler } from './connection.js';
import { forward } from './forward.js';

/** What a forwarding side tells its relay. */
export interface ForwardingRelay {
  /** Bytes moved from `source` (written to the other side's queue). */
  moved(source: Connection, bytes: number): void;
  /** A side closed (with the error it closed with, if any). */
  sideClosed(error: Error | undefined): void;
}

/**
 * A side's handler while relayed by forwarding: its bytes go to `target`,
 * its end becomes the target's end; the owner's handler object is kept as
 * given and told of errors, idle timeouts, the server's close and the close.
 */
export class ForwardingHandler implements ConnectionHandler {
  readonly onTimeout?: (connection: Connection) => unknown;
  readonly onServerClose?: (connection: Connection) => unknown;
  private readonly relay: ForwardingRelay;
  private readonly owner: ConnectionHandler;
  private readonly target: Connection;

  constructor(relay: ForwardingRelay, owner: ConnectionHandler, target: Connection) {
    this.relay = relay;
    this.owner = owner;
    this.target = target;
    if (owner.onTimeout !== undefined) this.onTimeout = (connection) => owner.onTimeout!(connection);
    if (owner.onServerClose !== undefined) this.onServerClose = (connection) => owner.onServerClose!(connection);
  }

  onData(connection: Connection, data: Uint8Array): void {
    if (!this.target.isOpen) return; // the relay is ending: both go
    this.relay.moved(connection, data.byteLength);
    forward(connection, data, this.target);
  }

  onEnd(): void {
    this.target.end(); // after what is queued: the other side sees the FIN in order
  }

  onError(connection: Connection, error: Error): unknown {
    return this.owner.onError?.(connection, error);
  }

  onClose(connection: Connection, error?: Error): void {
    try {
      this.owner.onClose?.(connection, error);
    } finally {
      this.relay.sideClosed(error);
    }
  }
}
