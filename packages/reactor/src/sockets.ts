/**
 * Socket set-up calls with errors thrown as system errors. The hot path
 * (read, write, accept) stays on the poller and returns numbers.
 */
import { binding, constants } from './native.js';
import { BACKLOG_MAX } from './limits.js';
import { errnoError } from './errors.js';
import { booleanOption, integerOption, optionsObject, portOption, stringOption } from './validate.js';
import { localAddress } from './address.js';

export interface ListenOptions {
  /** An IPv4 or IPv6 literal, or 'localhost'. Default 127.0.0.1: never every interface unless asked. */
  readonly host?: string;
  /** 0 (the default) lets the kernel pick a free port. */
  readonly port?: number;
  /** Default 511, as Node's net.Server; the kernel clamps it to somaxconn. */
  readonly backlog?: number;
  /** SO_REUSEPORT, so several reactors (threads) accept on one port. */
  readonly reusePort?: boolean;
}

export const DEFAULT_HOST = '127.0.0.1';
export const DEFAULT_BACKLOG = 511;

/** Names resolved without DNS; anything else must be an address literal. */
export function resolveHost(host: string): string {
  return host === 'localhost' ? DEFAULT_HOST : host;
}

export interface Listener {
  readonly fd: number;
  readonly host: string;
  readonly port: number;
}

/** A non-blocking listening TCP socket; the real port when `port` is 0. */
export function listenTcp(listenOptions?: ListenOptions): Listener {
  const options = optionsObject('options', listenOptions);
  const host = resolveHost(stringOption('options.host', options.host, DEFAULT_HOST));
  const port = portOption('options.port', options.port, 0);
  const backlog = integerOption('options.backlog', options.backlog, DEFAULT_BACKLOG, 0, BACKLOG_MAX);
  const reusePort = booleanOption('options.reusePort', options.reusePort, false);
  const fd = binding.listen(host, port, backlog, reusePort);
  if (fd < 0) throw errnoError(fd, 'listen', undefined, host, port); // as Node: listen EADDRINUSE 127.0.0.1:8080
  return { fd, host, port: localAddress(fd).port };
}

/**
 * Starts a non-blocking connect: the fd is returned while the connection may
 * still be in progress. Wait for writability, then check `socketError`.
 */
export function connectTcp(host: string, port: number): number {
  const address = resolveHost(host);
  const fd = binding.connect(address, port);
  if (fd < 0) throw errnoError(fd, 'connect', undefined, address, port);
  return fd;
}

/** Sets TCP_NODELAY (Nagle off: small writes go out at once). */
export function setNoDelay(fd: number, enabled: boolean): void {
  const rc = binding.setOption(fd, constants.OPTION_NO_DELAY, enabled ? 1 : 0);
  if (rc < 0) throw errnoError(rc, 'setsockopt', fd);
}

/** A connected pair of non-blocking Unix stream sockets. */
export function socketPair(): [number, number] {
  const fds = new Int32Array(2);
  const rc = binding.socketPair(fds);
  if (rc < 0) throw errnoError(rc, 'socketpair');
  return [fds[0]!, fds[1]!];
}

/** A non-blocking pipe: [readFd, writeFd]. */
export function pipe(): [number, number] {
  const fds = new Int32Array(2);
  const rc = binding.pipe(fds);
  if (rc < 0) throw errnoError(rc, 'pipe2');
  return [fds[0]!, fds[1]!];
}

/**
 * Hands zepoll an fd it did not open (a socket from elsewhere), so a
 * Connection, the poller and close() may act on it. zepoll refuses every
 * fd it neither opened nor adopted (ERR_ZEPOLL_FD_NOT_OWNED), so a wrong
 * number can never close a descriptor that belongs to Node or libuv.
 * @throws ZepollSystemError EBADF when `fd` is not open.
 */
export function adoptFd(fd: number): void {
  const rc = binding.adopt(fd);
  if (rc < 0) throw errnoError(rc, 'fcntl', fd);
}

/** zepoll forgets an fd it owns, without closing it: the caller takes it back. */
export function disownFd(fd: number): void {
  binding.disown(fd);
}
