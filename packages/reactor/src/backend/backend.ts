/**
 * The one seam between the reactor and the kernel. Core, Reactor,
 * Connection, Server, Relay, WriteQueue and http/ reach the kernel only
 * through a Backend (or, for socket set-up no backend does differently,
 * through backend/sockets.ts); nothing above backend/ imports the binding.
 *
 * Two siblings implement it: epoll.ts (readiness) and io-uring.ts
 * (completions for streams and listeners, readiness beside them). Each
 * decodes its own events and completions and tells owners through one
 * neutral protocol (Owner: ready, received, sent, accepted), so the turn
 * loop (core.ts) is one loop and no owner branches on the backend. What a
 * backend keeps per owner lives in the owner's opaque `slot`.
 */
import type { BufferPool } from '../buffer-pool.js';
import type { CounterName } from './poller.js';
import type { ReadPolicy } from './policies.js';
import type { RingStats } from './io-uring.js';

/**
 * Readiness bits an owner's ready() gets. The values are epoll's (so the
 * epoll backend passes its flags through untranslated, checked in
 * epoll.ts); another backend translates its own into them.
 */
export const READY_READABLE = 0x001;
/** The socket can take bytes. */
export const READY_WRITABLE = 0x004;
/** An error is pending on the socket (a read or write will return it). */
export const READY_ERROR = 0x008;
/** Both directions are shut (a reset, or the FIN after ours). */
export const READY_HUNG_UP = 0x010;
/** The peer sent its FIN (it writes no more). */
export const READY_PEER_CLOSED = 0x2000;

/** A backend's record of one owner (its token, interest, requests): each backend extends it; no member is visible above backend/. */
export abstract class OwnerSlot {
  /** Only a class extending this one is a slot (no runtime field). */
  protected declare readonly opaque: void;
}

/**
 * Something registered with a backend: a connection, a listener, a pending
 * connect. The backend calls it through these members only.
 */
export interface Owner {
  readonly fd: number;
  /** The backend's record of this owner: set by open(), read and written by the backend only. */
  slot: OwnerSlot | null;
  /** Readiness: READY_* bits (what a read, a write or a hang-up check will find now). */
  ready(bits: number): void;
  /** A handler threw while this owner was served. */
  fail(error: unknown): void;
  /**
   * Streams: true while the owner takes its bytes as received() (a backend
   * that receives for owners then does so), false while it reads itself
   * on readiness (a relay splicing). Absent: readiness only (listeners, connects).
   */
  readonly takesBytes?: boolean;
  /**
   * A receive the backend made for the owner: `result` bytes in pool chunk
   * `chunk` (the owner releases it), 0 at the end of stream (chunk -1), or
   * -errno (chunk -1). Cancellations and a lack of buffers never reach it:
   * the backend receives again when it should.
   */
  received?(chunk: number, result: number): void;
  /** A send the backend held (it answered PENDING) is done: bytes sent, or -errno. */
  sent?(result: number): void;
  /** Listeners that can take accepted connections from a backend: a new connection's fd (owned, non-blocking), or -errno. */
  accepted?(result: number): void;
}

/** What an owner registers as: its first interest follows. */
export type OwnerKind = 'stream' | 'listener' | 'connecting';

/** The kernel interfaces a reactor can use: the `backend` option. */
export type BackendName = 'epoll' | 'io_uring';

/** A send the backend holds until a completion reports it (then the owner's sent() says how many). */
export const PENDING = -0x7fff_ffff;

/** A backend's counts (`reactor.stats`). */
export interface BackendStats {
  /** Events and completions dropped because they were meant for a previous owner of their fd. */
  readonly staleEvents: number;
  /** System calls by kind, as the addon counted them. */
  readonly syscalls: Record<CounterName, number>;
  /** The ring's counts (io_uring), else null. */
  readonly ring: RingStats | null;
}

/** What makes a backend: the reactor's choices. */
export interface BackendSettings {
  /** Events (and completions) taken per wait at most. */
  readonly capacity: number;
  /** The reactor's pool (a completion backend receives into its chunks). */
  readonly pool: BufferPool;
}

export interface Backend {
  /** Which kernel interface this is (stats, messages; never branched on above backend/). */
  readonly name: BackendName;
  /** How streams are registered, read and re-armed (the reactor's mode on epoll). */
  readonly policy: ReadPolicy;

  // The loop: one batch is items [0, count) of wait() (or of onBatch), then of batchDone() until it answers 0.
  /** Nests the backend in Node's loop: `onBatch(count)` runs once per ready batch. */
  start(onBatch: (count: number) => void): void;
  /** Waits up to `timeoutMs` (0: not at all, -1: no limit) for a batch: its item count, or -errno. */
  wait(timeoutMs: number): number;
  /** The owner item `index` of the batch is for, or undefined (meant for a previous owner of its fd, or the backend's own). */
  ownerAt(index: number): Owner | undefined;
  /** Tells `owner` (ownerAt(index)) what item `index` says, through its ready/received/sent/accepted. */
  deliver(owner: Owner, index: number): void;
  /** The batch's items are handled: the count of a follow-on batch (completions that waited), or 0. */
  batchDone(): number;
  /** A turn begins: requests may wait for its end. */
  beginTurn(): void;
  /**
   * The turn's work is done: what it asked of the kernel goes now. Returns
   * the count of a follow-on batch (completions that came back with that
   * submission, handled in this turn; endTurn() follows again), or 0.
   */
  endTurn(): number;
  /** Holds the process open while owners are registered (the default). */
  ref(): void;
  /** Lets the process exit with owners registered. */
  unref(): void;
  /** Every owner registered now (closing the reactor fails each). */
  owners(): Owner[];
  /** Its counts now (a new object). */
  stats(): BackendStats;
  /** Releases the kernel objects; owners' fds close through closeFd() (directly from now on). */
  close(): void;

  // Registration.
  /** Registers `owner` (its slot set); throws a system error when the kernel refuses. */
  open(owner: Owner, kind: OwnerKind): void;
  /** Asks for what the owner can use now: reading, writing, and (paused) the peer's FIN. */
  arm(owner: Owner, reading: boolean, writing: boolean, watchHangUp: boolean): void;
  /** The owner is served outside an event (a carried turn: `on`), or no longer: interest changes wait for rearm() meanwhile (one-shot). */
  serving(owner: Owner, on: boolean): void;
  /** The owner's event (or carried turn) is handled: a one-shot registration is armed again for what it needs. */
  rearm(owner: Owner, reading: boolean, writing: boolean, watchHangUp: boolean): void;
  /** Stops listening (a listener backing off) or listens again. */
  setListening(owner: Owner, on: boolean): void;
  /** Forgets `owner` (no item already in this batch reaches it) and closes its fd. */
  release(owner: Owner): void;
  /** Forgets `owner` without closing its fd (a pending connect hands its fd to a connection). */
  forget(owner: Owner): void;
  /** Closes an fd no owner holds (one rejected at accept, a failed registration, a pipe). */
  closeFd(fd: number): void;

  // I/O: numbers, never throws on the hot path.
  /** Reads into `buffer`: bytes, 0 at end of stream, or -errno (EAGAIN a value). */
  receive(fd: number, buffer: Uint8Array, offset: number, length: number): number;
  /** Writes buffers[0..count): bytes written, -errno, or PENDING (then the owner's sent() says how many). */
  send(owner: Owner, buffers: readonly Uint8Array[], count: number): number;
  /** Writes buffer[offset..offset + length): bytes written, -errno, or PENDING. */
  sendRange(owner: Owner, buffer: Uint8Array, offset: number, length: number): number;
  /** sendfile(2): bytes sent, or -errno. */
  sendFile(fd: number, fileFd: number, offset: number, length: number): number;
  /** splice(2) without blocking, pages moved where they can be: bytes moved, or -errno (EAGAIN a value). */
  splice(fromFd: number, toFd: number, length: number): number;
  /** Accepts up to out.length connections: how many, or -errno when none. */
  accept(listenFd: number, out: Int32Array): number;
  /** Shuts the write side down (a half-close): 0 or -errno. */
  shutdownWrite(fd: number): number;
  /** Bytes waiting in a socket's receive queue (FIONREAD: the ET debug check). */
  bytesWaiting(fd: number): number;
  /**
   * `owner` may read (or splice from) its socket itself now: no request of
   * the backend's would race it for the bytes. A stream whose reads were
   * taken over (Owner.takesBytes false) gets readiness only once this holds
   * (io_uring: after its armed receive's last completion).
   */
  ownerReads(owner: Owner): boolean;
}
