/**
 * The epoll backend: one native poller nested in Node's loop, the token →
 * owner table (fd and generation, so an event meant for a closed fd's
 * previous owner is dropped), interest kept per owner and changed only
 * when it differs, and the counted I/O calls. Readiness can be spurious:
 * owners treat an event as "try now", never as a promise of data.
 */
import { binding, constants, type NativePoller } from '../native.js';
import { GENERATION_MAX } from '../limits.js';
import { errnoError } from '../errors.js';
import { openPoller, PollerCounters } from '../poller.js';
import type { Backend, Owner, OwnerKind, SendTarget } from './backend.js';
import type { ReadPolicy } from './policies.js';

const { EPOLLIN, EPOLLOUT } = constants;

export class EpollBackend implements Backend {
  readonly name: 'epoll' | 'io_uring' = 'epoll';
  readonly policy: ReadPolicy;
  /** (fd, generation, flags) per ready event, written before each batch. */
  readonly events: Uint32Array;
  readonly counters: PollerCounters;
  staleEvents: number;
  protected readonly poller: NativePoller;
  protected readonly table: Map<number, Owner>;
  private nextGeneration: number;
  protected closed: boolean;

  constructor(policy: ReadPolicy, capacity: number) {
    const opened = openPoller(capacity);
    this.policy = policy;
    this.poller = opened.native;
    this.events = opened.events;
    this.counters = new PollerCounters(this.poller);
    this.staleEvents = 0;
    this.table = new Map();
    this.nextGeneration = 1;
    this.closed = false;
  }

  /** Nests the poller in Node's loop: `onBatch(count)` runs once per ready batch. */
  start(onBatch: (count: number) => void): void {
    this.poller.start(onBatch);
  }

  /** Waits up to `timeoutMs` for a batch (tests, tight loops): the count, or -errno. */
  wait(timeoutMs: number): number {
    return this.poller.wait(timeoutMs);
  }

  ref(): void {
    this.poller.ref();
  }

  unref(): void {
    this.poller.unref();
  }

  /** The owner an event is for, or undefined when it was meant for a previous holder of the fd. */
  ownerOf(fd: number, generation: number): Owner | undefined {
    const owner = this.table.get(fd);
    if (owner === undefined || owner.generation !== generation) {
      this.staleEvents += 1;
      return undefined;
    }
    return owner;
  }

  /** Every owner registered now (closing the reactor fails each). */
  owners(): Owner[] {
    return [...this.table.values()];
  }

  /** Gives `owner` the next generation (its token with the fd). */
  protected assignGeneration(owner: Owner): void {
    owner.generation = this.nextGeneration;
    this.nextGeneration = this.nextGeneration >= GENERATION_MAX ? 1 : this.nextGeneration + 1;
  }

  open(owner: Owner, kind: OwnerKind): void {
    this.assignGeneration(owner);
    const interest = kind === 'stream' ? this.policy.interest.read : kind === 'listener' ? EPOLLIN : EPOLLOUT;
    const rc = this.poller.add(owner.fd, interest, owner.generation);
    if (rc < 0) throw errnoError(rc, 'epoll_ctl', owner.fd);
    owner.interest = interest;
    this.table.set(owner.fd, owner);
  }

  arm(owner: Owner, reading: boolean, writing: boolean, watchHangUp: boolean): void {
    if (this.policy.registeredOnce || owner.inEvent) return;
    const interest = this.desired(reading, writing, watchHangUp);
    if (interest === owner.interest) return;
    this.modify(owner, interest);
  }

  rearm(owner: Owner, reading: boolean, writing: boolean, watchHangUp: boolean): void {
    owner.inEvent = false;
    this.modify(owner, this.desired(reading, writing, watchHangUp));
  }

  setListening(owner: Owner, on: boolean): void {
    this.modify(owner, on ? EPOLLIN : 0);
  }

  release(owner: Owner): void {
    this.forget(owner);
    this.closeFd(owner.fd);
  }

  forget(owner: Owner): void {
    if (this.table.get(owner.fd) === owner) this.table.delete(owner.fd);
    if (!this.closed) this.poller.remove(owner.fd);
  }

  /** Through the poller (counted) while it is open, directly after. */
  closeFd(fd: number): void {
    if (this.closed) binding.close(fd);
    else this.poller.closeFd(fd);
  }

  receive(fd: number, buffer: Uint8Array, offset: number, length: number): number {
    return this.poller.read(fd, buffer, offset, length);
  }

  send(target: SendTarget, buffers: readonly Uint8Array[], count: number): number {
    if (count === 1) {
      const only = buffers[0]!;
      return this.poller.write(target.fd, only, 0, only.byteLength);
    }
    return this.poller.writev(target.fd, buffers, count);
  }

  sendRange(target: SendTarget, buffer: Uint8Array, offset: number, length: number): number {
    return this.poller.write(target.fd, buffer, offset, length);
  }

  sendFile(fd: number, fileFd: number, offset: number, length: number): number {
    return this.poller.sendfile(fd, fileFd, offset, length);
  }

  splice(fromFd: number, toFd: number, length: number, flags: number): number {
    return this.poller.splice(fromFd, toFd, length, flags);
  }

  accept(listenFd: number, out: Int32Array): number {
    return this.poller.accept(listenFd, out);
  }

  shutdownWrite(fd: number): number {
    return binding.shutdown(fd, constants.SHUT_WR);
  }

  /** Readiness backends send at once: nothing waits for a turn's end. */
  beginTurn(): void {}

  endTurn(): void {}

  /** Debug (ET): bytes waiting in a socket's receive queue (FIONREAD). */
  bytesWaiting(fd: number): number {
    return binding.bytesReadable(fd);
  }

  /** Closes the epoll fd; owners' fds close through closeFd() (directly from now on). */
  close(): void {
    this.closed = true;
    this.poller.close();
  }

  private desired(reading: boolean, writing: boolean, watchHangUp: boolean): number {
    const interest = this.policy.interest;
    if (reading) return writing ? interest.readWrite : interest.read;
    if (watchHangUp) return writing ? interest.writeHangUp : interest.hangUp;
    return writing ? interest.write : interest.none;
  }

  protected modify(owner: Owner, interest: number): void {
    owner.interest = interest;
    const rc = this.poller.modify(owner.fd, interest, owner.generation);
    if (rc < 0) throw errnoError(rc, 'epoll_ctl', owner.fd);
  }
}
