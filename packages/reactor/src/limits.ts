/**
 * Mirror of native/limits.zig. The addon exports its values; `checkLimits`
 * throws at load when they differ, so the two sides cannot drift apart.
 *
 * EVENTS_MAX: the most events one epoll_wait copies out, so the largest
 * capacity a poller's events array may have.
 */
export const EVENTS_MAX = 1024;
/** Words per event in a poller's events array: fd, generation, flags. */
export const EVENT_WORDS = 3; // fd, generation, flags
/**
 * Extra epoll_wait calls in one loop turn after a batch that filled the
 * array; bounded so one busy poller cannot hold Node's loop.
 */
export const REWAITS_MAX = 4;
/** The most connections one poller `accept()` call takes: the longest `out` array it accepts. */
export const ACCEPT_BATCH_MAX = 256;
/** The most buffers one writev gathers (the kernel's IOV_MAX is 1024). */
export const WRITEV_BUFFERS_MAX = 256;
/** The kernel's MAX_RW_COUNT: the most one read/write/sendfile/splice moves. */
export const IO_SIZE_MAX = 0x7fff_f000;
/** select(2) watches fds below FD_SETSIZE only. */
export const SELECT_FD_MAX = 1024;
/** CPUs addressable by setAffinity: it takes 0 to CPUS_MAX - 1 (glibc's CPU_SETSIZE). */
export const CPUS_MAX = 1024;
/** The most fds one poll(2) call takes (RLIMIT_NOFILE caps it in the kernel anyway). */
export const POLL_FDS_MAX = 1 << 20;
/** The largest listen(2) backlog accepted; the kernel clamps it to somaxconn. */
export const BACKLOG_MAX = 65535;
/** Longest host literal in bytes. */
export const HOST_SIZE_MAX = 63;
/** Bytes of a struct sockaddr_storage. */
export const ADDRESS_SIZE_MAX = 128;
/** How many counts a poller keeps: the length readCounters needs, and of COUNTER. */
export const COUNTER_KINDS = 10;
/** Largest generation a token carries (32 bits). */
export const GENERATION_MAX = 0xffff_ffff;

/** The limits as the addon exports them (`binding.limits`), under the names of the constants above. */
export interface NativeLimits {
  /** The most events one epoll_wait copies out. */
  readonly EVENTS_MAX: number;
  /** Words per event in the events array. */
  readonly EVENT_WORDS: number;
  /** Extra epoll_wait calls per loop turn after a full batch. */
  readonly REWAITS_MAX: number;
  /** The most connections one accept() call takes. */
  readonly ACCEPT_BATCH_MAX: number;
  /** The most buffers one writev gathers. */
  readonly WRITEV_BUFFERS_MAX: number;
  /** The most bytes one read/write/sendfile/splice moves. */
  readonly IO_SIZE_MAX: number;
  /** select(2) watches fds below this only (FD_SETSIZE). */
  readonly SELECT_FD_MAX: number;
  /** CPUs addressable by setAffinity. */
  readonly CPUS_MAX: number;
  /** The most fds one poll(2) call takes. */
  readonly POLL_FDS_MAX: number;
  /** The largest listen(2) backlog accepted. */
  readonly BACKLOG_MAX: number;
  /** Longest host literal in bytes. */
  readonly HOST_SIZE_MAX: number;
  /** Bytes of a struct sockaddr_storage: the `out` size of localAddress/peerAddress. */
  readonly ADDRESS_SIZE_MAX: number;
  /** How many counts a poller keeps. */
  readonly COUNTER_KINDS: number;
}

/** This file's limits under the addon's names: what `checkLimits` compares `binding.limits` with. */
export const LIMITS: NativeLimits = {
  EVENTS_MAX,
  EVENT_WORDS,
  REWAITS_MAX,
  ACCEPT_BATCH_MAX,
  WRITEV_BUFFERS_MAX,
  IO_SIZE_MAX,
  SELECT_FD_MAX,
  CPUS_MAX,
  POLL_FDS_MAX,
  BACKLOG_MAX,
  HOST_SIZE_MAX,
  ADDRESS_SIZE_MAX,
  COUNTER_KINDS,
};

/** Throws when the addon was built with other limits than this file states. */
export function checkLimits(native: NativeLimits): void {
  const differences: string[] = [];
  for (const [name, value] of Object.entries(LIMITS)) {
    const nativeValue = (native as unknown as Record<string, unknown>)[name];
    if (nativeValue !== value) differences.push(`${name}: addon ${String(nativeValue)}, limits.ts ${value}`);
  }
  if (differences.length > 0) {
    throw new Error(`zepoll addon and limits.ts disagree (rebuild with \`npm run build\`): ${differences.join('; ')}`);
  }
}
