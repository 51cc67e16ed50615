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
  /** Node's code for an argument of the wrong type; thrown as a TypeError. */
  ERR_INVALID_ARG_TYPE: 'an argument has the wrong type',
  /** Node's code for an argument of the right type but a value the call refuses (a host that is no IP literal, bits a flag set does not take). */
  ERR_INVALID_ARG_VALUE: 'an argument has a value the call does not take',
  /** Node's code for a number, offset or length outside what the call or buffer allows; mostly a RangeError. */
  ERR_OUT_OF_RANGE: 'a number, offset or length is outside what the call or buffer allows',
  /** Node's code for a callback that returned the wrong type: a fetch handler that did not return a Response. */
  ERR_INVALID_RETURN_VALUE: 'a callback returned a value of the wrong type (a fetch handler that did not return a Response)',
  /** Thrown by the addon when a closed poller is used; close(), isClosed(), ref(), unref(), fd() and readCounters() still work. */
  ERR_ZEPOLL_POLLER_CLOSED: 'a poller was used after close()',
  /** Thrown by the addon's start() on a started poller, or on one stopped inside its own callback (start it from a later tick). */
  ERR_ZEPOLL_POLLER_STARTED: 'start() was called on a started poller',
  /** Thrown by the addon when a wait finds the poller's events array detached (transferred) or shrunk. */
  ERR_ZEPOLL_EVENTS_DETACHED: "the poller's events array was detached (transferred) or shrunk",
  /** Thrown by the addon when a Node-API or libuv call fails inside it: not a misuse by the caller. */
  ERR_ZEPOLL_NATIVE: 'a Node-API or libuv call failed inside the addon',
  /** Thrown by the addon for an fd it neither opened nor was handed with `adopt()`: zepoll acts only on its own descriptors. */
  ERR_ZEPOLL_FD_NOT_OWNED: 'an fd zepoll did not open (nor was handed with adopt()) was passed to a call that acts on it',
  /** Thrown by `setFaults()` unless the process started with `ZEPOLL_FAULT_INJECTION=1`: fault injection is for tests only. */
  ERR_ZEPOLL_FAULTS_DISABLED: 'setFaults() in a process not started with ZEPOLL_FAULT_INJECTION=1',
  /** Thrown when a pooled buffer (a released lease, or a view kept after its onData returned) is used after its chunk went back to the pool. */
  ERR_ZEPOLL_LEASE_RELEASED: 'a pooled buffer was used after it went back to the pool',
  /** Thrown when a closed connection is written to or used; also the error its unsent file writes fail with. */
  ERR_ZEPOLL_CONNECTION_CLOSED: 'a connection was written to (or used) after it closed',
  /** Thrown when a connection is written to after its `end()`. */
  ERR_ZEPOLL_WRITE_AFTER_END: 'a connection was written to after end()',
  /** The error a connection is destroyed with when its queued bytes pass the connection's or the reactor's cap: the peer is not reading. */
  ERR_ZEPOLL_WRITE_QUEUE_FULL: "a peer did not read: the connection's (or reactor's) cap on queued bytes was reached",
  /** The error a connection is destroyed with after no traffic for its idle timeout (ms). */
  ERR_ZEPOLL_IDLE_TIMEOUT: 'a connection saw no traffic for its idle timeout',
  /** The error an outbound connect fails with when it does not complete within its timeout (ms). */
  ERR_ZEPOLL_CONNECT_TIMEOUT: 'an outbound connect did not complete in time',
  /** Thrown when a closed reactor (or connection pool) is used; also the error open connections fail with when their reactor closes. */
  ERR_ZEPOLL_REACTOR_CLOSED: 'a reactor was used after close()',
  /** The error a server's connections are destroyed with when they are still open the timeout (ms) after `close()`. */
  ERR_ZEPOLL_SERVER_CLOSED: 'a server was closed with connections still open after its timeout',
  /** The code of an HttpParseError: a request broke HTTP/1.1 syntax or a limit, and its `status` is the answer to send. */
  ERR_ZEPOLL_HTTP_PARSE: 'a request broke HTTP/1.1 syntax or a limit (its status says which: 400, 413, 417, 431, 501, 505)',
  /** Thrown when a response is used out of order or contradicts its own framing (a body that does not match its Content-Length). */
  ERR_ZEPOLL_HTTP_RESPONSE: 'a response was used out of order (a header after the body, a write after end) or contradicts its own framing',
  /** The code of a WebSocketProtocolError: a WebSocket peer broke RFC 6455 framing, UTF-8 or a limit, and its `closeCode` is the close code to fail the connection with. */
  ERR_ZEPOLL_WS_PROTOCOL: 'a WebSocket peer broke RFC 6455 framing, UTF-8 or a limit (its closeCode says which: 1002, 1007, 1009)',
  /** The code of a WebSocketHandshakeError: an upgrade request was not a valid RFC 6455 opening handshake, and its `status` is the answer to send. */
  ERR_ZEPOLL_WS_HANDSHAKE: 'a WebSocket upgrade request was malformed or asked for another version (its status says which: 400, 405, 426)',
  /** Thrown by a serve() server's `upgrade()` (and zepoll/hono's upgradeWebSocket) when serve() was given no `websocket` handler object. */
  ERR_ZEPOLL_WS_NOT_ENABLED: 'server.upgrade() on a serve() server that was given no websocket handlers',
  /** A handler threw or rejected; also the wrapper of a non-Error value a handler threw (the value is its `cause`). */
  ERR_ZEPOLL_HANDLER: 'a handler threw or its promise rejected; the connection it served was closed',
  /** The reason of a request's abort signal: the peer went away before the response was complete. */
  ERR_ZEPOLL_ABORTED: 'the peer went away before the response was complete',
  /** Thrown by `new Reactor({ backend: 'io_uring' })` where io_uring cannot serve (an old kernel, a seccomp profile); the message says why. */
  ERR_ZEPOLL_IO_URING_UNAVAILABLE: 'the io_uring backend was asked for where io_uring cannot serve',
  /** Thrown on import when the native addon cannot be loaded: not Linux, no addon for this architecture, or the load failed. */
  ERR_ZEPOLL_ADDON_LOAD: 'the native addon could not be loaded on this platform',
} as const;

/** One of the codes in ERROR_CODES: what `err.code` holds on a zepoll misuse error. */
export type ErrorCode = keyof typeof ERROR_CODES;

/** Misuse detected in TypeScript: a wrong option, a call after close. */
export class ZepollError extends Error {
  /** What went wrong, for callers to branch on: one of ERROR_CODES. */
  readonly code: ErrorCode;
  /** An error with `code` and a message for people. */
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
  /** What went wrong, for callers to branch on: one of ERROR_CODES. */
  readonly code: ErrorCode;
  /** A TypeError with `code` and a message for people. */
  constructor(code: ErrorCode, message: string) {
    super(message);
    this.code = code;
  }
}

/** A number, offset or length out of range (`ERR_OUT_OF_RANGE`): a RangeError with a `code`, as Node's. */
export class ZepollRangeError extends RangeError {
  /** What went wrong, for callers to branch on: one of ERROR_CODES. */
  readonly code: ErrorCode;
  /** A RangeError with `code` and a message for people. */
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
  /** The system call that failed: 'connect', 'listen', 'getpeername', ... */
  readonly syscall: string;
  /** The fd the call acted on, when there is one. */
  readonly fd: number | undefined;
  /** The address connected to or bound, when there is one (as Node's `connect ECONNREFUSED 127.0.0.1:1`). */
  readonly address: string | undefined;
  /** The port connected to or bound, when there is one. */
  readonly port: number | undefined;
  /**
   * The error for the result `rc` (`-errno`) of `syscall`, with where it happened when known.
   * @throws RangeError `ERR_OUT_OF_RANGE` (Node's getSystemErrorName) when `rc` is not a negative integer.
   */
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
