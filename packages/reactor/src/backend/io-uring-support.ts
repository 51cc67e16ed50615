/**
 * Whether io_uring can serve a reactor in this process, and why not when it
 * cannot: a kernel without it (ENOSYS), a container whose seccomp profile
 * forbids it (EPERM: Docker's default since 25.0), or a kernel too old for
 * the flags and opcodes a reactor's ring needs (EINVAL, EOPNOTSUPP: Linux
 * 6.0 or later is needed for SINGLE_ISSUER | COOP_TASKRUN with multishot
 * receives into a provided-buffer ring). The probe sets up and tears down
 * one ring, once per process.
 */
import { constants } from 'node:os';
import { binding } from '../native.js';
import { ZepollError } from '../errors.js';

/** The answer of {@link ioUringSupport}. */
export interface IoUringSupport {
  /** A ring with the reactor's flags, opcodes and buffer ring worked here. */
  readonly available: boolean;
  /** The errno name that refused it (`'ENOSYS'`, `'EPERM'`, ...), or null when available. */
  readonly code: string | null;
  /** One sentence: what worked, or why not and what to do about it. */
  readonly reason: string;
}

const errno = constants.errno;

/** What each refusal means, by errno name. */
const REASONS: Readonly<Record<string, string>> = {
  ENOSYS: 'this kernel has no io_uring (io_uring_setup is not a system call here)',
  EPERM: 'io_uring is forbidden to this process: a seccomp profile (Docker and Podman defaults block it) or the sysctl kernel.io_uring_disabled; allow io_uring_setup, io_uring_enter and io_uring_register, or use the epoll backend',
  EINVAL: 'this kernel refuses a setup flag the reactor needs (SINGLE_ISSUER, COOP_TASKRUN: Linux 6.0 or later)',
  EOPNOTSUPP: 'this kernel lacks an io_uring operation or provided-buffer rings the reactor needs (Linux 6.1 or later)',
  ENOMEM: 'the ring could not be allocated (locked-memory limit, ulimit -l, or memory)',
  EMFILE: 'no file descriptor was left for the ring',
  ENFILE: 'no file descriptor was left for the ring (system-wide)',
};

/** Names the kernel's io_uring code uses where Node lists an alias first (ENOTSUP is EOPNOTSUPP on Linux). */
const PREFERRED_NAMES: ReadonlyMap<number, string> = new Map([[errno.EOPNOTSUPP, 'EOPNOTSUPP']]);

/** The errno name of `-errno` (`'E123'` for a number Node does not name). */
function errnoName(result: number): string {
  const preferred = PREFERRED_NAMES.get(-result);
  if (preferred !== undefined) return preferred;
  for (const [name, value] of Object.entries(errno)) if (value === -result) return name;
  return `E${-result}`;
}

/**
 * What a probe result means: `0` is available; `-errno` names the refusal.
 * @internal exported for the tests, which cannot make this kernel refuse.
 */
export function describeIoUringProbe(result: number): IoUringSupport {
  if (result === 0) return { available: true, code: null, reason: 'io_uring works here: SINGLE_ISSUER | COOP_TASKRUN rings, multishot accept and receive, provided-buffer rings' };
  const code = errnoName(result);
  return { available: false, code, reason: REASONS[code] ?? `io_uring setup failed with ${code}` };
}

let cached: IoUringSupport | null = null;

/**
 * Whether the io_uring backend can run in this process: probed once (a ring
 * is set up and torn down), then answered from memory. Never throws.
 */
export function ioUringSupport(): IoUringSupport {
  cached ??= describeIoUringProbe(binding.ioUringProbe());
  return cached;
}

/** The error `backend: 'io_uring'` throws where io_uring cannot serve. */
export function ioUringUnavailable(support: IoUringSupport): ZepollError {
  return new ZepollError('ERR_ZEPOLL_IO_URING_UNAVAILABLE', `io_uring is unavailable (${String(support.code)}): ${support.reason}`);
}
