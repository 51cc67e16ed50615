/**
 * The three epoll dispatch modes as values chosen once: what interest to
 * ask for in each state, whether a read turn stops at a short read, what
 * happens to bytes left after the quota, and when to re-arm. Connection
 * and its reader ask the policy; none of them branches on the mode.
 */
import { constants } from '../native.js';

/** Registration rules: level-triggered, edge-triggered, or one-shot. */
export type Mode = 'lt' | 'et' | 'oneshot';

/** Interest bits for each state a connection can be in, computed once per mode. */
export interface Interest {
  /** Reading, not writing. */
  readonly read: number;
  readonly readWrite: number;
  /** Paused, writing. */
  readonly write: number;
  /** Paused, not writing: only the peer's FIN (a reset or hang-up is always reported). */
  readonly hangUp: number;
  readonly writeHangUp: number;
  /** Paused, and the FIN already told: nothing (LT would report it on every wait). */
  readonly none: number;
}

export interface ReadPolicy {
  readonly mode: Mode;
  readonly interest: Interest;
  /** Registered once with every bit and never modified (ET): interest changes cost no epoll_ctl. */
  readonly registeredOnce: boolean;
  /** EPOLLONESHOT: the fd is disabled after each event and re-armed when its handling ends. */
  readonly rearmAfterEvent: boolean;
  /** Bytes left after the quota make no new edge (ET): the scheduler serves the connection next turn. */
  readonly carryLeftover: boolean;
  /** Bytes that arrived while paused made an edge nobody read (ET): carry the connection on resume. */
  readonly carryOnResume: boolean;
  /** The ET debug check (bytes left with nothing to serve them) applies. */
  readonly checksDrained: boolean;
  /**
   * The backend receives for streams that take bytes (Owner.received): a
   * reader then never reads itself while reading is on (its receive is
   * armed), only while paused (the FIN or an error readiness reports).
   */
  readonly receivesForOwners: boolean;
  /**
   * Whether a read turn ends at a short read. Level-triggered modes stop
   * (epoll reports what is left). ET stops too with a finite quota (the
   * queue was empty, so new bytes make a new edge) unless the FIN was
   * already reported: that edge will not come again, so reads go on to the
   * end of stream. With readQuota Infinity, ET reads until EAGAIN.
   */
  stopOnShortRead(quota: number, hangUpSeen: boolean): boolean;
}

const { EPOLLIN, EPOLLOUT, EPOLLRDHUP, EPOLLET, EPOLLONESHOT } = constants;
const always = (): boolean => true;

const LT: ReadPolicy = {
  mode: 'lt',
  interest: { read: EPOLLIN | EPOLLRDHUP, readWrite: EPOLLIN | EPOLLRDHUP | EPOLLOUT, write: EPOLLOUT, hangUp: EPOLLRDHUP, writeHangUp: EPOLLOUT | EPOLLRDHUP, none: 0 },
  registeredOnce: false,
  rearmAfterEvent: false,
  carryLeftover: false,
  carryOnResume: false,
  checksDrained: false,
  receivesForOwners: false,
  stopOnShortRead: always,
};

const ALL_EDGES = (EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET) >>> 0;

const ET: ReadPolicy = {
  mode: 'et',
  interest: { read: ALL_EDGES, readWrite: ALL_EDGES, write: ALL_EDGES, hangUp: ALL_EDGES, writeHangUp: ALL_EDGES, none: ALL_EDGES },
  registeredOnce: true,
  rearmAfterEvent: false,
  carryLeftover: true,
  carryOnResume: true,
  checksDrained: true,
  receivesForOwners: false,
  stopOnShortRead: (quota, hangUpSeen) => quota !== Infinity && !hangUpSeen,
};

const ONESHOT: ReadPolicy = {
  mode: 'oneshot',
  interest: {
    read: (EPOLLIN | EPOLLRDHUP | EPOLLONESHOT) >>> 0,
    readWrite: (EPOLLIN | EPOLLRDHUP | EPOLLOUT | EPOLLONESHOT) >>> 0,
    write: (EPOLLOUT | EPOLLONESHOT) >>> 0,
    hangUp: (EPOLLRDHUP | EPOLLONESHOT) >>> 0,
    writeHangUp: (EPOLLOUT | EPOLLRDHUP | EPOLLONESHOT) >>> 0,
    none: 0,
  },
  registeredOnce: false,
  rearmAfterEvent: true,
  carryLeftover: false,
  carryOnResume: false,
  checksDrained: false,
  receivesForOwners: false,
  stopOnShortRead: always,
};

export const POLICIES: Readonly<Record<Mode, ReadPolicy>> = { lt: LT, et: ET, oneshot: ONESHOT };
export const MODES: readonly Mode[] = ['lt', 'et', 'oneshot'];

/**
 * The io_uring backend's: LT for what it serves by readiness (reported
 * as mode 'lt'), and receives made for streams (completions).
 */
export const RING_POLICY: ReadPolicy = { ...LT, receivesForOwners: true };
