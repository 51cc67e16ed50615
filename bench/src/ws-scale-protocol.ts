/**
 * What the ws scenario's processes say to each other (over Node's IPC
 * channel) and the bytes every server and client agree on: the message
 * sizes, the topic, the markers that tell an echo from a broadcast, and
 * the shared clock.
 */

/** The servers the scenario compares: zepoll/ws on each backend, uWebSockets.js, and `ws` on Node's http. */
export const WS_SERVERS = ['zepoll-et', 'zepoll-uring', 'uws', 'ws'] as const;
/** One of WS_SERVERS. */
export type WsServerKind = (typeof WS_SERVERS)[number];

/** The message: 1 KiB, for the echoes and the broadcast alike. */
export const MESSAGE_SIZE = 1024;
/** The topic every server socket subscribes to (zepoll and uWS.js publish to it). */
export const TOPIC = 'all';
/** First payload byte of an echoed message ('E'). */
export const ECHO_MARK = 0x45;
/** First payload byte of a broadcast ('B'); then its sequence number (u32 LE) and send time (f64 LE). */
export const BROADCAST_MARK = 0x42;
/** Where a broadcast's sequence number (u32 LE) starts in its payload. */
export const BROADCAST_SEQUENCE_OFFSET = 1;
/** Where a broadcast's send time (f64 LE, monotonicMs) starts in its payload. */
export const BROADCAST_TIME_OFFSET = 5;
/**
 * The servers' idle timeout (s): far past any phase, so no heartbeat ping
 * lands inside a measurement. uWS.js wants a multiple of 4, at most 960.
 */
export const IDLE_TIMEOUT_SECONDS = 600;
/** The listen backlog asked for (the kernel clamps it to net.core.somaxconn; uWS.js always uses 512). */
export const LISTEN_BACKLOG = 4096;

/**
 * Milliseconds on CLOCK_MONOTONIC, which every process on the machine
 * shares (process.hrtime), so a time taken in one process is compared
 * with one taken in another.
 */
export const monotonicMs = (): number => Number(process.hrtime.bigint()) / 1e6;

/** The broadcast payload: the mark, `sequence` and `sentAt`, then filler to MESSAGE_SIZE. */
export function broadcastPayload(sequence: number, sentAt: number): Buffer {
  const payload = Buffer.alloc(MESSAGE_SIZE, 0x62);
  payload[0] = BROADCAST_MARK;
  payload.writeUInt32LE(sequence, BROADCAST_SEQUENCE_OFFSET);
  payload.writeDoubleLE(sentAt, BROADCAST_TIME_OFFSET);
  return payload;
}

/** Driver to server. */
export type ToServer = { type: 'report'; collect: boolean } | { type: 'broadcast'; sequence: number; sentAt: number };

/** A server process's counts (a cluster primary sums its workers'). */
export interface ServerCounts {
  /** Sockets open now. */
  readonly open: number;
  /** Sockets closed since the start. */
  readonly closed: number;
  /** Messages received (each echoed). */
  readonly messages: number;
  /** JavaScript heap in use (after a full collection when asked). */
  readonly heapUsed: number;
}

/** Server to driver. */
export type FromServer =
  | { type: 'listening'; pids: number[] }
  | ({ type: 'report' } & ServerCounts)
  | { type: 'broadcasted'; sequence: number; sent: number }
  | { type: 'failed'; error: string };

/** Driver to client. */
export type ToClient = { type: 'open' } | { type: 'active'; periodMs: number; periods: number } | { type: 'stats' };

/** A client process's counts. */
export interface ClientStats {
  readonly opened: number;
  /** Connections that closed after their 101 (by the server, a reset, a close frame). */
  readonly dropped: number;
  readonly retries: number;
  /** Broadcasts received per sequence number. */
  readonly broadcasts: Record<string, number>;
  /** The first drop's connection and reason, when one dropped. */
  readonly firstDrop?: string;
}

/** Client to driver. */
export type FromClient =
  | { type: 'ready' }
  | { type: 'opened'; retries: number }
  | { type: 'broadcastReceived'; sequence: number; latenciesMs: number[] }
  /** `sentAtMs[i]` (monotonicMs) is when the message of `latenciesMs[i]` went out. */
  | { type: 'activeDone'; sent: number; echoed: number; skipped: number; latenciesMs: number[]; sentAtMs: number[] }
  | ({ type: 'stats' } & ClientStats)
  | { type: 'failed'; error: string };
