/**
 * What the owner of a connection provides: the handler (plain functions, no
 * EventEmitter on the hot path) and the per-connection options.
 */
import type { Connection } from './connection.js';

/** What a connection's owner is told. Plain functions; no EventEmitter on the hot path. */
export interface ConnectionHandler {
  onOpen?(connection: Connection): void;
  /**
   * `data` is a Buffer view of pooled memory, valid during this call only;
   * `connection.lease(data)` keeps it, `Buffer.from(data)` copies it. Note
   * that `data.slice()` is a Buffer's slice: another view, not a copy.
   */
  onData?(connection: Connection, data: Buffer): void;
  /** The write queue emptied after write() returned false. */
  onDrain?(connection: Connection): void;
  /** The peer finished sending (read returned 0). */
  onEnd?(connection: Connection): void;
  /** A system-call error or a handler exception, just before onClose. */
  onError?(connection: Connection, error: Error): void;
  /** The idle timeout passed; without this handler the connection is destroyed. */
  onTimeout?(connection: Connection): void;
  /**
   * The server is closing (Server.close()). A protocol layer answers what it
   * has already received, then calls end(). Without this handler the server
   * calls closeGracefully(): queued bytes go out, later input is dropped.
   */
  onServerClose?(connection: Connection): void;
  /** Always last; no callback follows. `error` is set when it closed on one. */
  onClose?(connection: Connection, error?: Error): void;
}

export interface ConnectionOptions {
  /** Queued bytes above which write() returns false (default 64 KiB). */
  readonly highWaterMark?: number;
  /** Queued bytes at which the connection is destroyed: its peer does not read (default 16 MiB). */
  readonly maxQueuedBytes?: number;
  /** Milliseconds without traffic before onTimeout (0, the default: never). A floor, never early. */
  readonly idleTimeoutMs?: number;
  /** Keep writing after the peer ended (default false: end() follows the peer's end). */
  readonly allowHalfOpen?: boolean;
}

export const HIGH_WATER_MARK_DEFAULT = 64 * 1024;
export const MAX_QUEUED_BYTES_DEFAULT = 16 * 1024 * 1024;

