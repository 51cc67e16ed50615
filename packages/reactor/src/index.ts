/** zepoll's public surface. */

// The low-level API: the addon itself, its poller, and the socket calls, for programs that drive the kernel
// interface by hand and for the benches. The reactor below does not need them: it reaches the kernel through
// its backend (backend/backend.ts), and a Reactor, Server or Connection is all a service uses.
export { binding, constants } from './native.js';
export type { Binding, NativePoller, NativeConstants } from './native.js';
export * as limits from './limits.js';
export { ERROR_CODES, ZepollError, ZepollRangeError, ZepollSystemError, ZepollTypeError, errnoError } from './errors.js';
export type { ErrorCode } from './errors.js';
export { COUNTER, PollerCounters, openPoller } from './backend/poller.js';
export type { CounterName, OpenedPoller } from './backend/poller.js';
export { decodeAddress, formatIpv6, localAddress, peerAddress } from './backend/address.js';
export type { SocketAddress } from './backend/address.js';
export { DEFAULT_BACKLOG, DEFAULT_HOST, adoptFd, connectTcp, disownFd, listenTcp, pipe, resolveHost, setNoDelay, socketPair } from './backend/sockets.js';
export type { ListenOptions, Listener } from './backend/sockets.js';

// The reactor: one backend (epoll or io_uring) nested in Node's loop, and what runs on it.
export { Reactor, READ_QUOTA_DEFAULT, MAX_QUEUED_BYTES_TOTAL_DEFAULT, BACKEND_VARIABLE } from './reactor.js';
export type { BackendName, Mode, ReactorOptions, ReactorStats, RingStats } from './reactor.js';
export { BufferPool, Lease, CHUNK_SIZE_DEFAULT, MAX_CHUNKS_DEFAULT, POISON_BYTE } from './buffer-pool.js';
export type { BufferPoolOptions, BufferPoolStats } from './buffer-pool.js';
export { Connection } from './connection.js';
export { HIGH_WATER_MARK_DEFAULT, MAX_QUEUED_BYTES_DEFAULT } from './handler.js';
export type { ConnectionHandler, ConnectionOptions, ErrorFallback } from './handler.js';
export type { WriteData } from './write-arguments.js';
export type { HandlerResult } from './handler.js';
export { forward } from './forward.js';
export { Server, ACCEPT_BACKOFF_MS_DEFAULT, CLOSE_TIMEOUT_MS_DEFAULT } from './server.js';
export type { ServerOptions, ServerStats } from './server.js';
export { connect, ConnectionPool, CONNECT_TIMEOUT_MS_DEFAULT } from './connect.js';
export type { ConnectOptions, ConnectionPoolOptions, ConnectionPoolStats } from './connect.js';
export { relay, Relay } from './relay.js';
export type { RelayStats } from './relay.js';
export { startWorkers, workerSetup, WorkerGroup, READY_TIMEOUT_MS_DEFAULT } from './workers.js';
export { ioUringSupport } from './backend/io-uring-support.js';
export type { IoUringSupport } from './backend/io-uring-support.js';
export type { WorkerGroupOptions, WorkerSetup } from './workers.js';
