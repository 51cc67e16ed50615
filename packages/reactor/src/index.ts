/** zepoll's public surface. */
export { binding, constants } from './native.js';
export type { Binding, NativePoller, NativeConstants } from './native.js';
export * as limits from './limits.js';
export { ERROR_CODES, ZepollError, ZepollSystemError, errnoError } from './errors.js';
export type { ErrorCode } from './errors.js';
export { COUNTER, PollerCounters, openPoller } from './poller.js';
export type { CounterName, OpenedPoller } from './poller.js';
export { decodeAddress, formatIpv6, localAddress, peerAddress } from './address.js';
export type { SocketAddress } from './address.js';
export { DEFAULT_BACKLOG, DEFAULT_HOST, connectTcp, listenTcp, pipe, resolveHost, setNoDelay, socketPair } from './sockets.js';
export type { ListenOptions, Listener } from './sockets.js';
