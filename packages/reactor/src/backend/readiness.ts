/**
 * What both backends share: one native poller nested in Node's loop, its
 * event array, and the token table (fd → owner, with a generation per
 * registration, so an event meant for a closed fd's previous owner is
 * dropped). The epoll backend is this plus its policy; the io_uring backend
 * uses it for the owners it serves by readiness and for its ring's own
 * fd. Not a Backend itself: each backend composes one.
 */
import type { NativePoller } from '../native.js';
import { EVENT_WORDS, GENERATION_MAX } from '../limits.js';
import { errnoError } from '../errors.js';
import { openPoller, PollerCounters } from './poller.js';
import { closeOwnedFd } from './sockets.js';
import { OwnerSlot, type BackendStats, type Owner } from './backend.js';
import type { RingStats } from './io-uring.js';

/** A registration in the epoll set: its token (with the fd) and the interest asked for. */
export class ReadinessSlot extends OwnerSlot {
  /** With the fd, the token: an event carrying another generation is stale. */
  readonly generation: number;
  /** The interest registered now (changed only when it differs). */
  interest: number;
  /** Inside its own event (one-shot): interest changes wait for the re-arm at its end. */
  inEvent: boolean;

  constructor(generation: number, interest: number) {
    super();
    this.generation = generation;
    this.interest = interest;
    this.inEvent = false;
  }
}

export class Readiness {
  /** (fd, generation, flags) per ready event, written before each batch. */
  readonly events: Uint32Array;
  readonly counters: PollerCounters;
  readonly poller: NativePoller;
  staleEvents: number;
  /** close() was called: fds close directly from now on. */
  closed: boolean;
  private readonly table: Map<number, Owner>;
  private nextGeneration: number;

  /** @throws ZepollSystemError when epoll_create1 fails (EMFILE, ENFILE, ENOMEM). */
  constructor(capacity: number) {
    const opened = openPoller(capacity);
    this.poller = opened.native;
    this.events = opened.events;
    this.counters = new PollerCounters(this.poller);
    this.staleEvents = 0;
    this.closed = false;
    this.table = new Map();
    this.nextGeneration = 1;
  }

  /** The next registration's generation (never 0: the backend's own fds use it). */
  generation(): number {
    const generation = this.nextGeneration;
    this.nextGeneration = generation >= GENERATION_MAX ? 1 : generation + 1;
    return generation;
  }

  /** The owner of event `index`, or undefined when it was meant for a previous holder of the fd. */
  ownerAt(index: number): Owner | undefined {
    const events = this.events;
    const base = index * EVENT_WORDS;
    const owner = this.table.get(events[base]!);
    if (owner === undefined || (owner.slot as ReadinessSlot).generation !== events[base + 1]) {
      this.staleEvents += 1;
      return undefined;
    }
    return owner;
  }

  /** The flags of event `index`. */
  flagsAt(index: number): number {
    return this.events[index * EVENT_WORDS + 2]!;
  }

  /** The owner registered for `fd` now, if any. */
  holder(fd: number): Owner | undefined {
    return this.table.get(fd);
  }

  /** Puts `owner` (its slot set) in the table without an epoll registration (the backend serves it otherwise). */
  enter(owner: Owner): void {
    this.table.set(owner.fd, owner);
  }

  /** Takes `owner` out of the table: no event or completion reaches it after this. */
  leave(owner: Owner): void {
    if (this.table.get(owner.fd) === owner) this.table.delete(owner.fd);
  }

  /** Every owner in the table. */
  owners(): Owner[] {
    return [...this.table.values()];
  }

  /** Registers `owner` by readiness alone: a new generation in its slot, its fd in the epoll set with `interest`, the owner in the table. */
  register(owner: Owner, interest: number): void {
    owner.slot = new ReadinessSlot(this.generation(), 0);
    this.add(owner, interest);
    this.enter(owner);
  }

  /** Forgets `owner`: out of the table and the epoll set, its fd left open. */
  forget(owner: Owner): void {
    this.leave(owner);
    this.remove(owner.fd);
  }

  /** The counts every backend reports, with a completion backend's ring counts (or null). */
  stats(ring: RingStats | null): BackendStats {
    this.counters.refresh();
    return { staleEvents: this.staleEvents, syscalls: this.counters.snapshot(), ring };
  }

  /** Adds `owner`'s fd to the epoll set with `interest` (slot set first). */
  add(owner: Owner, interest: number): void {
    const slot = owner.slot as ReadinessSlot;
    const rc = this.poller.add(owner.fd, interest, slot.generation);
    if (rc < 0) throw errnoError(rc, 'epoll_ctl', owner.fd);
    slot.interest = interest;
  }

  /** Changes the registered interest (one epoll_ctl). */
  modify(owner: Owner, interest: number): void {
    const slot = owner.slot as ReadinessSlot;
    slot.interest = interest;
    const rc = this.poller.modify(owner.fd, interest, slot.generation);
    if (rc < 0) throw errnoError(rc, 'epoll_ctl', owner.fd);
  }

  /** Takes the fd out of the epoll set (nothing once closed: the set is gone). */
  remove(fd: number): void {
    if (!this.closed) this.poller.remove(fd);
  }

  /** Through the poller (counted) while it is open, directly after. */
  closeFd(fd: number): void {
    if (this.closed) closeOwnedFd(fd);
    else this.poller.closeFd(fd);
  }

  start(onBatch: (count: number) => void): void {
    this.poller.start(onBatch);
  }

  wait(timeoutMs: number): number {
    return this.poller.wait(timeoutMs);
  }

  /** Closes the epoll fd (a ring's requests are cancelled and waited for first). */
  close(): void {
    this.closed = true;
    this.poller.close();
  }
}

