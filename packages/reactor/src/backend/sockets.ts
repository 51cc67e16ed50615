/**
 * Socket set-up calls with errors thrown as system errors. The hot path
 * (read, write, accept) stays on the poller and returns numbers.
 */
import { binding, constants } from '../native.js';
import { BACKLOG_MAX } from '../limits.js';
import { errnoError } from '../errors.js';
import { booleanOption, integerOption, optionsObject, portOption, stringOption } from '../validate.js';
import { localAddress } from './address.js';

/** What listenTcp() takes; every field is optional. */
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

/** The address listened on and connected to when none is given: the IPv4 loopback, never every interface. */
export const DEFAULT_HOST = '127.0.0.1';
/** The listen backlog when none is given (pending connections), as Node's net.Server; the kernel clamps it to somaxconn. */
export const DEFAULT_BACKLOG = 511;

/** Names resolved without DNS; anything else must be an address literal. */
export function resolveHost(host: string): string {
  return host === 'localhost' ? DEFAULT_HOST : host;
}

/** A listening socket opened by listenTcp(). */
export interface Listener {
  /** The listening socket's fd, opened (so owned) by zepoll. */
  readonly fd: number;
  /** The address bound: the host asked for, with 'localhost' resolved to 127.0.0.1. */
  readonly host: string;
  /** The port bound: the one the kernel picked when 0 was asked for. */
  readonly port: number;
}

/**
 * A non-blocking listening TCP socket; the real port when `port` is 0.
 * @throws TypeError `ERR_INVALID_ARG_TYPE` for an option of the wrong type,
 *   `ERR_INVALID_ARG_VALUE` when `host` is not an IPv4 or IPv6 literal (or 'localhost').
 * @throws RangeError `ERR_OUT_OF_RANGE` for a port or backlog out of range.
 * @throws ZepollSystemError when listen fails (`listen EADDRINUSE: address already in use 127.0.0.1:8080`).
 */
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
 * With `localAddress`, the connection leaves from that address (bound
 * before the connect, the port picked at connect): a client holding more
 * connections to one server than one address has ephemeral ports spreads
 * them over several (127.0.0.0/8 on loopback).
 * @throws TypeError `ERR_INVALID_ARG_VALUE` when `host` or `localAddress` is not an IPv4 or IPv6 literal (or 'localhost').
 * @throws RangeError `ERR_OUT_OF_RANGE` when `port` is not an integer from 0 to 65535.
 * @throws ZepollSystemError when the connect fails at once (`ENETUNREACH`, `EMFILE`, `EADDRNOTAVAIL` for a
 *   source address not on this host, ...), with `address` and `port`.
 */
export function connectTcp(host: string, port: number, localAddress?: string): number {
  const address = resolveHost(host);
  const fd = localAddress === undefined ? binding.connect(address, port) : binding.connect(address, port, resolveHost(localAddress));
  if (fd < 0) throw errnoError(fd, 'connect', undefined, address, port);
  return fd;
}

/**
 * Sets TCP_NODELAY (Nagle off: small writes go out at once).
 * @throws Error `ERR_ZEPOLL_FD_NOT_OWNED` when zepoll neither opened nor adopted `fd`.
 * @throws ZepollSystemError when setsockopt fails (`ENOTSOCK`, ...).
 */
export function setNoDelay(fd: number, enabled: boolean): void {
  const rc = binding.setOption(fd, constants.OPTION_NO_DELAY, enabled ? 1 : 0);
  if (rc < 0) throw errnoError(rc, 'setsockopt', fd);
}

/**
 * A connected pair of non-blocking Unix stream sockets.
 * @throws ZepollSystemError when socketpair fails (`EMFILE`, ...).
 */
export function socketPair(): [number, number] {
  const fds = new Int32Array(2);
  const rc = binding.socketPair(fds);
  if (rc < 0) throw errnoError(rc, 'socketpair');
  return [fds[0]!, fds[1]!];
}

/**
 * A non-blocking pipe: [readFd, writeFd].
 * @throws ZepollSystemError when pipe2 fails (`EMFILE`, ...).
 */
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

/**
 * The pending error of a socket (SO_ERROR): 0, or -errno (a non-blocking
 * connect's outcome, once its fd is writable).
 * @internal
 */
export function socketError(fd: number): number {
  return binding.socketError(fd);
}

/**
 * Pins the calling thread to `cpu` (sched_setaffinity).
 * @throws ZepollSystemError when the kernel refuses (EINVAL: no such CPU).
 * @internal
 */
export function pinToCpu(cpu: number): void {
  const rc = binding.setAffinity(cpu);
  if (rc < 0) throw errnoError(rc, 'sched_setaffinity');
}

/**
 * Closes an fd zepoll owns that no reactor holds (a pipe or listener not
 * registered, a reactor already closed): 0 or -errno.
 * @internal
 */
export function closeOwnedFd(fd: number): number {
  return binding.close(fd);
}

/**
 * Shuts the write side down (a half-close): 0 or -errno.
 * @internal
 */
export function shutdownWrite(fd: number): number {
  return binding.shutdown(fd, constants.SHUT_WR);
}

/**
 * Bytes waiting in a socket's receive queue (FIONREAD).
 * @internal
 */
export function bytesReadable(fd: number): number {
  return binding.bytesReadable(fd);
}

/**
 * Sets TCP_NODELAY on an accepted socket: 0 or -errno, never thrown (a
 * peer that already reset makes it fail; the connection's read tells).
 * @internal
 */
export function noDelayOn(fd: number): number {
  return binding.setOption(fd, constants.OPTION_NO_DELAY, 1);
}

/**
 * What a relay's splices ask: move pages rather than copy them where the kernel can, and never block.
 * @internal
 */
export const SPLICE_FLAGS = constants.SPLICE_F_MOVE | constants.SPLICE_F_NONBLOCK;
