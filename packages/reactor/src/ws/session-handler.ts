/**
 * The ConnectionHandler of every WebSocket connection of one server (or
 * one client): one object, no closures per connection. It finds each
 * connection's session in `connection.context` and passes the events on.
 */
import type { Connection, ConnectionHandler } from '../connection.js';
import { ON_BYTES, type BytesReceiver } from '../handler.js';
import type { WebSocketSession } from './session.js';

const sessionOf = <T>(connection: Connection): WebSocketSession<T> => connection.context as WebSocketSession<T>;

/**
 * Hands connections to their sessions: `adopt()` a session, then give the
 * connection to this handler (Connection.handOver, or an HTTP response's
 * switchProtocols()), whose onOpen binds the two.
 */
export class SessionHandler<T> implements ConnectionHandler, BytesReceiver {
  /** The session the next onOpen binds (set by adopt(), just before the hand-over). */
  private pending: WebSocketSession<T> | null;

  constructor() {
    this.pending = null;
  }

  /** The next connection handed to this handler is `session`'s. */
  adopt(session: WebSocketSession<T>): void {
    this.pending = session;
  }

  /** The hand-over did not happen (the connection had closed): nothing is pending. */
  forget(): void {
    this.pending = null;
  }

  /** The hand-over: the connection's context becomes its session, which opens. */
  onOpen(connection: Connection): void {
    const session = this.pending!;
    this.pending = null;
    connection.context = session;
    session.opened();
  }

  /** Bytes as a view (bytes an upgrade passed over). */
  onData(connection: Connection, data: Buffer): void {
    sessionOf<T>(connection).received(data, data.length);
  }

  /** Bytes read into a pool chunk. */
  [ON_BYTES](connection: Connection, bytes: Buffer, length: number): void {
    sessionOf<T>(connection).received(bytes, length);
  }

  onDrain(connection: Connection): void {
    sessionOf<T>(connection).drained();
  }

  onEnd(connection: Connection): void {
    sessionOf<T>(connection).peerEnded();
  }

  onTimeout(connection: Connection): void {
    sessionOf<T>(connection).timedOut();
  }

  onServerClose(connection: Connection): void {
    sessionOf<T>(connection).serverClosing();
  }

  onError(connection: Connection, error: Error): void {
    sessionOf<T>(connection).failed(error);
  }

  onClose(connection: Connection): void {
    sessionOf<T>(connection).closed();
  }
}
