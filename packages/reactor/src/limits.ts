/**
 * Mirror of native/limits.zig. The addon exports its values; `checkLimits`
 * throws at load when they differ, so the two sides cannot drift apart.
 */
export const EVENTS_MAX = 1024;
export const EVENT_WORDS = 3; // fd, generation, flags
export const REWAITS_MAX = 4;
export const ACCEPT_BATCH_MAX = 256;
export const WRITEV_BUFFERS_MAX = 256;
/** The kernel's MAX_RW_COUNT: the most one read/write/sendfile/splice moves. */
export const IO_SIZE_MAX = 0x7fff_f000;
/** select(2) watches fds below FD_SETSIZE only. */
export const SELECT_FD_MAX = 1024;
export const CPUS_MAX = 1024;
export const POLL_FDS_MAX = 1 << 20;
export const BACKLOG_MAX = 65535;
/** Longest host literal in bytes. */
export const HOST_SIZE_MAX = 63;
/** Bytes of a struct sockaddr_storage. */
export const ADDRESS_SIZE_MAX = 128;
export const COUNTER_KINDS = 10;
/** Largest generation a token carries (32 bits). */
export const GENERATION_MAX = 0xffff_ffff;

export interface NativeLimits {
  readonly EVENTS_MAX: number;
  readonly EVENT_WORDS: number;
  readonly REWAITS_MAX: number;
  readonly ACCEPT_BATCH_MAX: number;
  readonly WRITEV_BUFFERS_MAX: number;
  readonly IO_SIZE_MAX: number;
  readonly SELECT_FD_MAX: number;
  readonly CPUS_MAX: number;
  readonly POLL_FDS_MAX: number;
  readonly BACKLOG_MAX: number;
  readonly HOST_SIZE_MAX: number;
  readonly ADDRESS_SIZE_MAX: number;
  readonly COUNTER_KINDS: number;
}

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
