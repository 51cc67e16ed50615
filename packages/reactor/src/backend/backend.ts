/**
 * The one seam between the reactor and the kernel interface. Connection,
 * Server, Relay, WriteQueue and http/ reach the kernel only through a
 * Backend (the reactor gives theirs), never through the poller. Today the
 * epoll backend (epoll.ts) implements it; a completion backend (io_uring)
 * implements the same methods: `send` may then answer PENDING and keep the
 * buffers until their completion, `release` cancels before it closes, and
 * a stream's receives arrive as completions (io-uring.ts).
 */
import type { ReadPolicy } from './policies.js';

/** Something registered with a backend: a connection, a listener, a pending connect. */
export interface Owner {
  readonly fd: number;
  /** With fd, the token: set by the backend at registration. */
  generation: number;
  /** The interest now registered (the backend's bookkeeping). */
  interest: number;
  /** Inside its own event (one-shot): interest changes wait for the re-arm at its end. */
  inEvent: boolean;
  /** A ready event: epoll flags. */
  handleEvent(flags: number): void;
  /** A handler threw while this owner was served. */
  fail(error: unknown): void;
  /**
   * io_uring: receives come as completions (a stream with no read hook);
   * absent for owners that only ever use readiness (listeners, connects).
   */
  readonly takesCompletions?: boolean;
  /** io_uring: a listener whose connections come from a multishot accept (the backend's bookkeeping). */
  ringAccepts?: boolean;
  /** io_uring: its receive (or multishot accept) is armed, from its request to its last completion (the backend's bookkeeping). */
  ringReceiving?: boolean;
  /** io_uring: it should have one (reading, no hook); false while paused (the backend's bookkeeping). */
  ringWanted?: boolean;
  /** io_uring: the armed receive's cancellation was asked for (the backend's bookkeeping). */
  ringCancelling?: boolean;
  /** io_uring: in the epoll set too, for writability or a paused FIN (the backend's bookkeeping). */
  ringInEpoll?: boolean;
  /** io_uring: a completion for it: RING_OP op, the result (bytes or -errno), RING_* flags. */
  handleCompletion?(op: number, result: number, flags: number): void;
}

/** Where a send goes: the fd and its owner's generation (a completion backend tags the request with it). */
export interface SendTarget {
  readonly fd: number;
  readonly generation: number;
}

/** What an owner registers as: its first interest follows. */
export type OwnerKind = 'stream' | 'listener' | 'connecting';

/** A send the backend holds until a completion reports it (completion backends only). */
export const PENDING = -0x7fff_ffff;

export interface Backend {
  readonly name: 'epoll' | 'io_uring';
  /** How streams are registered, read and re-armed. */
  readonly policy: ReadPolicy;
  /** Registers `owner` and gives it a generation; throws a system error when the kernel refuses. */
  open(owner: Owner, kind: OwnerKind): void;
  /** Asks for what the owner can use now: reading, writing, and (paused) the peer's FIN. */
  arm(owner: Owner, reading: boolean, writing: boolean, watchHangUp: boolean): void;
  /** The owner's event is handled: a one-shot registration is armed again for what it needs. */
  rearm(owner: Owner, reading: boolean, writing: boolean, watchHangUp: boolean): void;
  /** Stops listening (a listener backing off) or listens again. */
  setListening(owner: Owner, on: boolean): void;
  /** Forgets `owner` (no event already in this batch reaches it) and closes its fd. */
  release(owner: Owner): void;
  /** Forgets `owner` without closing its fd (a pending connect hands its fd to a connection). */
  forget(owner: Owner): void;
  /** Closes an fd no owner holds (one rejected at accept, a failed registration). */
  closeFd(fd: number): void;
  /** Reads into `buffer`: bytes, 0 at end of stream, or -errno (EAGAIN a value). */
  receive(fd: number, buffer: Uint8Array, offset: number, length: number): number;
  /** Writes buffers[0..count): bytes written, -errno, or PENDING (then the owner's handleCompletion says how many). */
  send(target: SendTarget, buffers: readonly Uint8Array[], count: number): number;
  /** Writes buffer[offset..offset + length): bytes written, -errno, or PENDING. */
  sendRange(target: SendTarget, buffer: Uint8Array, offset: number, length: number): number;
  sendFile(fd: number, fileFd: number, offset: number, length: number): number;
  splice(fromFd: number, toFd: number, length: number, flags: number): number;
  /** Accepts up to out.length connections: how many, or -errno when none. */
  accept(listenFd: number, out: Int32Array): number;
  /** Shuts the write side down (a half-close): 0 or -errno. */
  shutdownWrite(fd: number): number;
  /** A turn begins: requests may wait for its end (a completion backend sends them with one system call). */
  beginTurn(): void;
  /** The turn ended: what it asked of the kernel goes now. */
  endTurn(): void;
}
