/**
 * The epoll backend: readiness for every owner. One native poller nested
 * in Node's loop (readiness.ts), interest kept per owner and changed only
 * when it differs, as the policy (LT, ET, one-shot) says, and the counted
 * I/O calls. Readiness can be spurious: owners treat an event as "try
 * now", never as a promise of data.
 */
import { constants } from '../native.js';
import { bytesReadable, shutdownWrite, SPLICE_FLAGS } from './sockets.js';
import { Readiness, ReadinessSlot } from './readiness.js';
import { READY_ERROR, READY_HUNG_UP, READY_PEER_CLOSED, READY_READABLE, READY_WRITABLE } from './backend.js';
import type { Backend, BackendStats, Owner, OwnerKind } from './backend.js';
import type { ReadPolicy } from './policies.js';

const { EPOLLIN, EPOLLOUT, EPOLLERR, EPOLLHUP, EPOLLRDHUP } = constants;

// The neutral readiness bits are epoll's: this backend hands its flags to owners untranslated.
if (EPOLLIN !== READY_READABLE || EPOLLOUT !== READY_WRITABLE || EPOLLERR !== READY_ERROR || EPOLLHUP !== READY_HUNG_UP || EPOLLRDHUP !== READY_PEER_CLOSED) {
  throw new Error('zepoll: the addon reports epoll bits other than backend.ts READY_*; rebuild with `npm run build`');
}

export class EpollBackend implements Backend {
  readonly name = 'epoll' as const;
  readonly policy: ReadPolicy;
  private readonly readiness: Readiness;

  /** @throws ZepollSystemError when epoll_create1 fails (EMFILE, ENFILE, ENOMEM). */
  constructor(policy: ReadPolicy, capacity: number) {
    this.policy = policy;
    this.readiness = new Readiness(capacity);
  }

  start(onBatch: (count: number) => void): void {
    this.readiness.start(onBatch);
  }

  wait(timeoutMs: number): number {
    return this.readiness.wait(timeoutMs);
  }

  ownerAt(index: number): Owner | undefined {
    return this.readiness.ownerAt(index);
  }

  deliver(owner: Owner, index: number): void {
    if (this.policy.rearmAfterEvent) (owner.slot as ReadinessSlot).inEvent = true;
    owner.ready(this.readiness.flagsAt(index));
  }

  /** Readiness has no follow-on batch. */
  batchDone(): number {
    return 0;
  }

  /** Readiness backends send at once: nothing waits for a turn's end. */
  beginTurn(): void {}

  endTurn(): number {
    return 0;
  }

  ref(): void {
    this.readiness.poller.ref();
  }

  unref(): void {
    this.readiness.poller.unref();
  }

  owners(): Owner[] {
    return this.readiness.owners();
  }

  stats(): BackendStats {
    return this.readiness.stats(null);
  }

  /** Closes the epoll fd; owners' fds close through closeFd() (directly from now on). */
  close(): void {
    this.readiness.close();
  }

  open(owner: Owner, kind: OwnerKind): void {
    this.readiness.register(owner, kind === 'stream' ? this.policy.interest.read : kind === 'listener' ? EPOLLIN : EPOLLOUT);
  }

  arm(owner: Owner, reading: boolean, writing: boolean, watchHangUp: boolean): void {
    const slot = owner.slot as ReadinessSlot;
    if (this.policy.registeredOnce || slot.inEvent) return;
    const interest = this.desired(reading, writing, watchHangUp);
    if (interest === slot.interest) return;
    this.readiness.modify(owner, interest);
  }

  serving(owner: Owner, on: boolean): void {
    if (this.policy.rearmAfterEvent) (owner.slot as ReadinessSlot).inEvent = on;
  }

  rearm(owner: Owner, reading: boolean, writing: boolean, watchHangUp: boolean): void {
    (owner.slot as ReadinessSlot).inEvent = false;
    this.readiness.modify(owner, this.desired(reading, writing, watchHangUp));
  }

  setListening(owner: Owner, on: boolean): void {
    this.readiness.modify(owner, on ? EPOLLIN : 0);
  }

  release(owner: Owner): void {
    this.forget(owner);
    this.readiness.closeFd(owner.fd);
  }

  forget(owner: Owner): void {
    this.readiness.forget(owner);
  }

  closeFd(fd: number): void {
    this.readiness.closeFd(fd);
  }

  receive(fd: number, buffer: Uint8Array, offset: number, length: number): number {
    return this.readiness.poller.read(fd, buffer, offset, length);
  }

  send(owner: Owner, buffers: readonly Uint8Array[], count: number): number {
    if (count === 1) {
      const only = buffers[0]!;
      return this.readiness.poller.write(owner.fd, only, 0, only.byteLength);
    }
    return this.readiness.poller.writev(owner.fd, buffers, count);
  }

  sendRange(owner: Owner, buffer: Uint8Array, offset: number, length: number): number {
    return this.readiness.poller.write(owner.fd, buffer, offset, length);
  }

  sendFile(fd: number, fileFd: number, offset: number, length: number): number {
    return this.readiness.poller.sendfile(fd, fileFd, offset, length);
  }

  splice(fromFd: number, toFd: number, length: number): number {
    return this.readiness.poller.splice(fromFd, toFd, length, SPLICE_FLAGS);
  }

  accept(listenFd: number, out: Int32Array): number {
    return this.readiness.poller.accept(listenFd, out);
  }

  shutdownWrite(fd: number): number {
    return shutdownWrite(fd);
  }

  bytesWaiting(fd: number): number {
    return bytesReadable(fd);
  }
  /** Nothing is ever read for an owner here: it always reads itself. */
  ownerReads(): boolean {
    return true;
  }


  private desired(reading: boolean, writing: boolean, watchHangUp: boolean): number {
    const interest = this.policy.interest;
    if (reading) return writing ? interest.readWrite : interest.read;
    if (watchHangUp) return writing ? interest.writeHangUp : interest.hangUp;
    return writing ? interest.write : interest.none;
  }
}
