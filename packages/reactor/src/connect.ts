/**
 * Outbound connections: a non-blocking connect (EINPROGRESS, then
 * writability, then SO_ERROR) with a timeout, and a pool of idle outbound
 * connections to one upstream (get/release, at most maxIdle kept, none kept
 * past maxLifetimeMs, broken ones discarded).
 */
import { asError, errnoError, invalidArgType, ZepollError, ZepollSystemError } from './errors.js';
import { closeOwnedFd, connectTcp, DEFAULT_HOST, resolveHost, setNoDelay, socketError } from './backend/sockets.js';
import { Connection, type ConnectionHandler, type ConnectionOptions } from './connection.js';
import { checkHandler, resolveConnectionOptions, TIMEOUT_MS_MAX } from './handler.js';
import { Reactor } from './reactor.js';
import { coreOf, type Core } from './core.js';
import type { Owner, OwnerSlot } from './backend/backend.js';
import { booleanOption, integerOption, optionsObject, portOption, stringOption } from './validate.js';

/** What connect() takes: where to connect, and the new Connection's options. */
export interface ConnectOptions extends ConnectionOptions {
  /** An IPv4 or IPv6 literal, or 'localhost' (default 127.0.0.1). */
  readonly host?: string;
  /** The TCP port to connect to (required), from 0 to 65535. */
  readonly port: number;
  /**
   * The source address: an IPv4 or IPv6 literal, or 'localhost' (default:
   * the kernel's choice). As Node's `localAddress`; the port is the
   * kernel's pick.
   */
  readonly localAddress?: string;
  /** Milliseconds until the connect fails with ERR_ZEPOLL_CONNECT_TIMEOUT (default 5000). */
  readonly timeoutMs?: number;
  /** TCP_NODELAY (default true). */
  readonly noDelay?: boolean;
}

/** Milliseconds a connect may take when `timeoutMs` is not given. */
export const CONNECT_TIMEOUT_MS_DEFAULT = 5000;

/** The fd while the kernel completes the handshake: writable means done, SO_ERROR says how. */
class PendingConnect implements Owner {
  readonly fd: number;
  slot: OwnerSlot | null;
  private readonly core: Core;
  private readonly onDone: (error: Error | null) => void;
  private readonly timer: NodeJS.Timeout;
  private readonly address: string;
  private readonly port: number;
  private settled: boolean;

  constructor(core: Core, fd: number, address: string, port: number, timeoutMs: number, onDone: (error: Error | null) => void) {
    this.core = core;
    this.fd = fd;
    this.slot = null;
    this.onDone = onDone;
    this.address = address;
    this.port = port;
    this.settled = false;
    // Registered before the timer starts: a refused registration (a closed
    // reactor) must leave no timer behind to close the fd a second time.
    core.open(this, 'connecting');
    this.timer = setTimeout(() => this.finish(new ZepollError('ERR_ZEPOLL_CONNECT_TIMEOUT', `connect to ${address}:${port} did not complete in ${timeoutMs} ms`), true), timeoutMs);
  }

  /** Writable: the handshake is done, and SO_ERROR says how. */
  ready(): void {
    const rc = socketError(this.fd);
    // Shaped as Node's: connect ECONNREFUSED 127.0.0.1:1, with address and port.
    this.finish(rc === 0 ? null : errnoError(rc, 'connect', this.fd, this.address, this.port), rc !== 0);
  }

  fail(error: unknown): void {
    this.finish(asError(error), true);
  }

  private finish(error: Error | null, closeFd: boolean): void {
    if (this.settled) return;
    this.settled = true;
    clearTimeout(this.timer);
    this.core.backend.forget(this);
    if (closeFd) this.core.backend.closeFd(this.fd);
    this.onDone(error);
  }
}

/** ConnectOptions checked: the values connect() and a pool use. */
function resolveConnectOptions(connectOptions: ConnectOptions) {
  const options = optionsObject('options', connectOptions);
  if (options.port === undefined) throw invalidArgType('options.port', 'of type number', undefined);
  return {
    host: resolveHost(stringOption('options.host', options.host, DEFAULT_HOST)),
    port: portOption('options.port', options.port, 0),
    localAddress: options.localAddress === undefined ? undefined : stringOption('options.localAddress', options.localAddress, DEFAULT_HOST),
    timeoutMs: integerOption('options.timeoutMs', options.timeoutMs, CONNECT_TIMEOUT_MS_DEFAULT, 1, TIMEOUT_MS_MAX),
    noDelay: booleanOption('options.noDelay', options.noDelay, true),
    connection: resolveConnectionOptions(options),
  };
}

/**
 * Connects to `options.host:port` and resolves with an open Connection
 * (its onOpen has run). Rejects with a system error shaped as Node's
 * (`connect ECONNREFUSED 127.0.0.1:1`, with `address` and `port`) or
 * ERR_ZEPOLL_CONNECT_TIMEOUT; the fd is closed either way.
 * @throws TypeError/RangeError with a `code` for a bad argument or option, at once.
 */
export function connect(reactor: Reactor, handler: ConnectionHandler, options: ConnectOptions): Promise<Connection> {
  if (!(reactor instanceof Reactor)) throw invalidArgType('reactor', 'an instance of Reactor', reactor);
  checkHandler('handler', handler);
  return connectResolved(reactor, handler, resolveConnectOptions(options));
}

function connectResolved(reactor: Reactor, handler: ConnectionHandler, options: ReturnType<typeof resolveConnectOptions>): Promise<Connection> {
  const { host, port } = options;
  let fd: number;
  try {
    fd = connectTcp(host, port, options.localAddress);
  } catch (error) {
    // A host that is not an address literal is misuse: thrown. The connect
    // call's own failure (ENETUNREACH, EMFILE) rejects, as any later one.
    if (!(error instanceof ZepollSystemError)) throw error;
    return Promise.reject(error);
  }
  return new Promise<Connection>((resolve, reject) => {
    const done = (error: Error | null): void => {
      if (error !== null) {
        reject(error);
        return;
      }
      if (options.noDelay) setNoDelay(fd, true);
      const connection = new Connection(reactor, fd, handler, options.connection);
      try {
        connection.open();
      } catch (openError) {
        if (connection.opened) coreOf(reactor).failOwner(connection, openError); // onOpen threw: a handler error
        reject(openError);
        return;
      }
      resolve(connection);
    };
    try {
      new PendingConnect(coreOf(reactor), fd, host, port, options.timeoutMs, done);
    } catch (error) {
      closeOwnedFd(fd); // registration refused (a closed reactor): never registered, so closed directly
      reject(error);
    }
  });
}


/** What a ConnectionPool takes: the upstream to connect to, and how many connections to keep, for how long. */
export interface ConnectionPoolOptions extends ConnectOptions {
  /** Idle connections kept for reuse (default 16). */
  readonly maxIdle?: number;
  /** A connection older than this is closed instead of reused (default 60 s). */
  readonly maxLifetimeMs?: number;
}

/** A ConnectionPool's counters since it was made (`pool.stats`). */
export interface ConnectionPoolStats {
  /** Connections opened by get() because none idle could be reused. */
  readonly created: number;
  /** Times get() handed out an idle connection instead of connecting. */
  readonly reused: number;
  /** Connections idle in the pool now. */
  readonly idle: number;
  /** Connections the pool closed: broken or talking while idle, too old, over maxIdle, still writing when released, or idle at close(). */
  readonly discarded: number;
}

interface PoolEntry {
  readonly bornAt: number;
}

/** Idle outbound connections to one upstream, reused instead of reconnecting. */
export class ConnectionPool {
  /** The reactor the pool's connections run on. */
  readonly reactor: Reactor;
  /** Idle connections kept for reuse at most (`options.maxIdle`, default 16). */
  readonly maxIdle: number;
  /** Milliseconds from its connect after which a connection is closed instead of reused (`options.maxLifetimeMs`, default 60 000). */
  readonly maxLifetimeMs: number;
  private readonly options: ReturnType<typeof resolveConnectOptions>;
  private readonly idle: Connection[];
  private readonly entries: WeakMap<Connection, PoolEntry>;
  private readonly idleHandler: ConnectionHandler;
  private created: number;
  private reused: number;
  private discarded: number;
  private closed: boolean;

  /** @throws TypeError/RangeError with a `code` for a bad argument or option. */
  constructor(reactor: Reactor, options: ConnectionPoolOptions) {
    if (!(reactor instanceof Reactor)) throw invalidArgType('reactor', 'an instance of Reactor', reactor);
    this.reactor = reactor;
    this.options = resolveConnectOptions(options);
    this.maxIdle = integerOption('options.maxIdle', options.maxIdle, 16, 0, Number.MAX_SAFE_INTEGER);
    this.maxLifetimeMs = integerOption('options.maxLifetimeMs', options.maxLifetimeMs, 60_000, 0, Number.MAX_SAFE_INTEGER);
    this.idle = [];
    this.entries = new WeakMap();
    this.created = 0;
    this.reused = 0;
    this.discarded = 0;
    this.closed = false;
    // While idle nobody owns the connection: anything it says means it is broken.
    this.idleHandler = {
      onData: (connection) => this.discard(connection),
      onEnd: (connection) => this.discard(connection),
      onClose: (connection) => this.forget(connection),
    };
  }

  /** The pool's counters, as of now (a new object each time). */
  get stats(): ConnectionPoolStats {
    return { created: this.created, reused: this.reused, idle: this.idle.length, discarded: this.discarded };
  }

  /**
   * An idle connection handed to `handler` (its onOpen runs), or a new one.
   * Rejects as connect() does when a new connection fails.
   * @throws TypeError `ERR_INVALID_ARG_TYPE` (as a rejection) for a bad handler.
   * @throws ZepollError `ERR_ZEPOLL_REACTOR_CLOSED` (as a rejection) after close().
   */
  async get(handler: ConnectionHandler): Promise<Connection> {
    checkHandler('handler', handler);
    if (this.closed) throw new ZepollError('ERR_ZEPOLL_REACTOR_CLOSED', 'the connection pool is closed');
    const now = performance.now();
    while (this.idle.length > 0) {
      const connection = this.idle.pop()!;
      if (!connection.isOpen) continue;
      if (now - this.entries.get(connection)!.bornAt > this.maxLifetimeMs) {
        this.discard(connection);
        continue;
      }
      this.reused += 1;
      connection.handOver(handler);
      return connection;
    }
    const connection = await connectResolved(this.reactor, handler, this.options);
    this.created += 1;
    this.entries.set(connection, { bornAt: performance.now() });
    return connection;
  }

  /** Gives a connection back: kept if healthy, idle and young enough, else closed. */
  release(connection: Connection): void {
    const entry = this.entries.get(connection);
    if (!connection.isOpen) return;
    if (this.closed || entry === undefined || connection.queuedBytes > 0 || this.idle.length >= this.maxIdle || performance.now() - entry.bornAt > this.maxLifetimeMs) {
      this.discard(connection);
      return;
    }
    connection.handler = this.idleHandler;
    this.idle.push(connection);
  }

  /** Closes the idle connections; connections in use close when released. */
  close(): void {
    this.closed = true;
    for (const connection of this.idle.splice(0)) this.discard(connection);
  }

  private discard(connection: Connection): void {
    this.discarded += 1;
    connection.handler = this.idleHandler;
    connection.destroy();
  }

  private forget(connection: Connection): void {
    const index = this.idle.indexOf(connection);
    if (index >= 0) this.idle.splice(index, 1);
  }
}
