/**
 * A socket's own heartbeat, for a connection that has no idle timeout
 * (a socket upgraded from an HTTP server without one, as serve()'s are):
 * the reactor's idle sweep watches the connection's traffic through it
 * and tells the session when none moved for `idleTimeoutMs`. A connection
 * with an idle timeout of its own needs none: its onTimeout is the same
 * signal (session-handler.ts).
 */
import type { Connection } from '../connection.js';
import type { IdleTracked } from '../idle-sweep.js';

/** What the heartbeat tells when the time passed: the session pings, or gives up. */
export interface HeartbeatOwner {
  timedOut(): void;
}

/** The idle-sweep entry of one socket: the connection's own clock of traffic, and the session to tell. */
export class Heartbeat implements IdleTracked {
  readonly idleTimeoutMs: number;
  private readonly connection: Connection;
  private readonly owner: HeartbeatOwner;

  constructor(connection: Connection, owner: HeartbeatOwner, idleTimeoutMs: number) {
    this.connection = connection;
    this.owner = owner;
    this.idleTimeoutMs = idleTimeoutMs;
  }

  /** The connection's last read or write (reader.ts and writer.ts keep it): the sweep compares it with now. */
  get lastActivity(): number {
    return this.connection.lastActivity;
  }

  /** No traffic for idleTimeoutMs: the next expiry is a full period away, as Connection.idleExpired() does it. */
  idleExpired(): void {
    this.connection.lastActivity = performance.now();
    this.owner.timedOut();
  }
}
