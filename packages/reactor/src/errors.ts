/**
 * Error classes and the code table. Callers branch on `err.code`, never on
 * the message or on `instanceof`.
 */
import { getSystemErrorName } from 'node:util';

/**
 * Codes thrown for misuse, by the addon (native/napi.zig's `Code`) and by
 * the TypeScript layers. Node's own codes are used where one fits.
 */
export const ERROR_CODES = {
  ERR_INVALID_ARG_TYPE: 'an argument has the wrong type',
  ERR_INVALID_ARG_VALUE: 'an argument has a value the call does not take',
  ERR_OUT_OF_RANGE: 'a number, offset or length is outside what the call or buffer allows',
  ERR_ZEPOLL_POLLER_CLOSED: 'a poller was used after close()',
  ERR_ZEPOLL_POLLER_STARTED: 'start() was called on a started poller',
  ERR_ZEPOLL_EVENTS_DETACHED: "the poller's events array was detached (transferred) or shrunk",
  ERR_ZEPOLL_NATIVE: 'a Node-API or libuv call failed inside the addon',
  ERR_ZEPOLL_LEASE_RELEASED: 'a pooled buffer was used after it went back to the pool',
  ERR_ZEPOLL_CONNECTION_CLOSED: 'a connection was written to (or used) after it closed',
  ERR_ZEPOLL_WRITE_AFTER_END: 'a connection was written to after end()',
  ERR_ZEPOLL_WRITE_QUEUE_FULL: "a peer did not read: the connection's (or reactor's) cap on queued bytes was reached",
  ERR_ZEPOLL_IDLE_TIMEOUT: 'a connection saw no traffic for its idle timeout',
  ERR_ZEPOLL_CONNECT_TIMEOUT: 'an outbound connect did not complete in time',
  ERR_ZEPOLL_REACTOR_CLOSED: 'a reactor was used after close()',
  ERR_ZEPOLL_SERVER_CLOSED: 'a server was closed with connections still open after its timeout',
  ERR_ZEPOLL_HTTP_PARSE: 'a request broke HTTP/1.1 syntax or a limit (its status says which: 400, 413, 417, 431, 501, 505)',
  ERR_ZEPOLL_HTTP_RESPONSE: 'a response was used out of order (a header after the body, a write after end)',
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

/** Misuse detected in TypeScript: a wrong option, a call after close. */
export class ZepollError extends Error {
  readonly code: ErrorCode;
  constructor(code: ErrorCode, message: string) {
    super(message);
    this.name = 'ZepollError';
    this.code = code;
  }
}

/** A failed system call, shaped like Node's own system errors. */
export class ZepollSystemError extends Error {
  /** The errno name: 'ECONNRESET', 'EMFILE', ... */
  readonly code: string;
  /** Node's convention: the negative errno (`-104` for ECONNRESET). */
  readonly errno: number;
  readonly syscall: string;
  readonly fd: number | undefined;
  constructor(rc: number, syscall: string, fd?: number) {
    const code = systemErrorName(rc);
    super(`${syscall} ${code}`);
    this.name = 'ZepollSystemError';
    this.code = code;
    this.errno = rc;
    this.syscall = syscall;
    this.fd = fd;
  }
}

function systemErrorName(rc: number): string {
  // On Linux, Node's negative errno equals -errno.
  const name = getSystemErrorName(rc);
  // An errno neither libuv nor Node names still gets a code a caller can compare.
  return name.startsWith('E') ? name : `ERRNO_${-rc}`;
}

/**
 * The error for a hot-path result `rc < 0` (that is, `-errno`).
 * @throws RangeError when `rc` is not a negative integer: a caller bug.
 */
export function errnoError(rc: number, syscall: string, fd?: number): ZepollSystemError {
  if (!Number.isInteger(rc) || rc >= 0) {
    throw new RangeError(`errnoError needs a negative errno result, received ${rc}`);
  }
  return new ZepollSystemError(rc, syscall, fd);
}
