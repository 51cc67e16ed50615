/**
 * Error classes and the code table. Callers branch on `err.code`, never on
 * the message or on `instanceof`.
 */
import { getSystemErrorMap, getSystemErrorName } from 'node:util';

/**
 * Codes thrown for misuse, by the addon (native/napi.zig's `Code`) and by
 * the TypeScript layers. Node's own codes are used where one fits.
 */
export const ERROR_CODES = {
  ERR_INVALID_ARG_TYPE: 'an argument has the wrong type',
  ERR_INVALID_ARG_VALUE: 'an argument has a value the call does not take',
  ERR_OUT_OF_RANGE: 'a number, offset or length is outside what the call or buffer allows',
  ERR_INVALID_RETURN_VALUE: 'a callback returned a value of the wrong type (a fetch handler that did not return a Response)',
  ERR_ZEPOLL_POLLER_CLOSED: 'a poller was used after close()',
  ERR_ZEPOLL_POLLER_STARTED: 'start() was called on a started poller',
  ERR_ZEPOLL_EVENTS_DETACHED: "the poller's events array was detached (transferred) or shrunk",
  ERR_ZEPOLL_NATIVE: 'a Node-API or libuv call failed inside the addon',
  ERR_ZEPOLL_FD_NOT_OWNED: 'an fd zepoll did not open (nor was handed with adopt()) was passed to a call that acts on it',
  ERR_ZEPOLL_FAULTS_DISABLED: 'setFaults() in a process not started with ZEPOLL_FAULT_INJECTION=1',
  ERR_ZEPOLL_LEASE_RELEASED: 'a pooled buffer was used after it went back to the pool',
  ERR_ZEPOLL_CONNECTION_CLOSED: 'a connection was written to (or used) after it closed',
  ERR_ZEPOLL_WRITE_AFTER_END: 'a connection was written to after end()',
  ERR_ZEPOLL_WRITE_QUEUE_FULL: "a peer did not read: the connection's (or reactor's) cap on queued bytes was reached",
  ERR_ZEPOLL_IDLE_TIMEOUT: 'a connection saw no traffic for its idle timeout',
  ERR_ZEPOLL_CONNECT_TIMEOUT: 'an outbound connect did not complete in time',
  ERR_ZEPOLL_REACTOR_CLOSED: 'a reactor was used after close()',
  ERR_ZEPOLL_SERVER_CLOSED: 'a server was closed with connections still open after its timeout',
  ERR_ZEPOLL_HTTP_PARSE: 'a request broke HTTP/1.1 syntax or a limit (its status says which: 400, 413, 417, 431, 501, 505)',
  ERR_ZEPOLL_HTTP_RESPONSE: 'a response was used out of order (a header after the body, a write after end) or contradicts its own framing',
  ERR_ZEPOLL_HANDLER: 'a handler threw or its promise rejected; the connection it served was closed',
  ERR_ZEPOLL_ABORTED: 'the peer went away before the response was complete',
  ERR_ZEPOLL_ADDON_LOAD: 'the native addon could not be loaded on this platform',
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

/**
 * A wrong type (`ERR_INVALID_ARG_TYPE`, `ERR_INVALID_ARG_VALUE`), as Node
 * throws them: a TypeError with a `code`. Misuse is always thrown
 * synchronously, before anything is queued.
 */
export class ZepollTypeError extends TypeError {
  readonly code: ErrorCode;
  constructor(code: ErrorCode, message: string) {
    super(message);
    this.code = code;
  }
}

/** A number, offset or length out of range (`ERR_OUT_OF_RANGE`): a RangeError with a `code`, as Node's. */
export class ZepollRangeError extends RangeError {
  readonly code: ErrorCode;
  constructor(code: ErrorCode, message: string) {
    super(message);
    this.code = code;
  }
}

/** How Node names the type of a received value in ERR_INVALID_ARG_TYPE messages. */
export function describeReceived(value: unknown): string {
  if (value === null || value === undefined) return `Received ${String(value)}`;
  if (typeof value === 'function') return `Received function ${value.name === '' ? '<anonymous>' : value.name}`;
  if (typeof value === 'object') {
    const name = (value as { constructor?: { name?: string } }).constructor?.name;
    return name === undefined || name === '' ? 'Received an object' : `Received an instance of ${name}`;
  }
  const shown = typeof value === 'string' ? JSON.stringify(value.length > 25 ? `${value.slice(0, 25)}...` : value) : String(value);
  return `Received type ${typeof value} (${shown})`;
}

/** `The "name" argument must be <expected>. Received ...`, as Node words it. */
export function invalidArgType(name: string, expected: string, value: unknown): ZepollTypeError {
  return new ZepollTypeError('ERR_INVALID_ARG_TYPE', `The "${name}" argument must be ${expected}. ${describeReceived(value)}`);
}

/** `The value of "name" is out of range. It must be <range>. Received ...`, as Node words it. */
export function outOfRange(name: string, range: string, value: unknown): ZepollRangeError {
  return new ZepollRangeError('ERR_OUT_OF_RANGE', `The value of "${name}" is out of range. It must be ${range}. Received ${String(value)}`);
}

/** `The argument 'name' <reason>. Received ...`, as Node words it. */
export function invalidArgValue(name: string, reason: string, value: unknown): ZepollTypeError {
  const shown = typeof value === 'string' ? JSON.stringify(value) : String(value);
  return new ZepollTypeError('ERR_INVALID_ARG_VALUE', `The argument '${name}' ${reason}. Received ${shown}`);
}

/** A failed system call, shaped like Node's own system errors. */
export class ZepollSystemError extends Error {
  /** The errno name: 'ECONNRESET', 'EMFILE', ... */
  readonly code: string;
  /** Node's convention: the negative errno (`-104` for ECONNRESET). */
  readonly errno: number;
  readonly syscall: string;
  readonly fd: number | undefined;
  /** The address connected to or bound, when there is one (as Node's `connect ECONNREFUSED 127.0.0.1:1`). */
  readonly address: string | undefined;
  readonly port: number | undefined;
  constructor(rc: number, syscall: string, fd?: number, address?: string, port?: number) {
    const code = systemErrorName(rc);
    super(systemErrorMessage(rc, code, syscall, address, port));
    this.name = 'ZepollSystemError';
    this.code = code;
    this.errno = rc;
    this.syscall = syscall;
    this.fd = fd;
    this.address = address;
    this.port = port;
  }
}

/**
 * The message as Node words it: `connect ECONNREFUSED 127.0.0.1:1` (net's
 * form) and, for listen, libuv's `listen EADDRINUSE: address already in use
 * 127.0.0.1:8080`.
 */
function systemErrorMessage(rc: number, code: string, syscall: string, address: string | undefined, port: number | undefined): string {
  const where = address === undefined ? '' : ` ${address}${port === undefined ? '' : `:${port}`}`;
  if (syscall !== 'listen') return `${syscall} ${code}${where}`;
  const description = getSystemErrorMap().get(rc)?.[1];
  return description === undefined ? `${syscall} ${code}${where}` : `${syscall} ${code}: ${description}${where}`;
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
export function errnoError(rc: number, syscall: string, fd?: number, address?: string, port?: number): ZepollSystemError {
  if (!Number.isInteger(rc) || rc >= 0) {
    throw new RangeError(`errnoError needs a negative errno result, received ${rc}`);
  }
  return new ZepollSystemError(rc, syscall, fd, address, port);
}

/** `error` as an Error: a handler may throw anything (a string, undefined). */
export function asError(error: unknown): Error {
  if (error instanceof Error) return error;
  const wrapped = new ZepollError('ERR_ZEPOLL_HANDLER', `a handler threw a non-Error value: ${String(error)}`);
  (wrapped as { cause?: unknown }).cause = error;
  return wrapped;
}
