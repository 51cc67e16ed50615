/**
 * serve(): the fetch-style server (`fetch(Request) → Response`), the
 * signature Bun, Deno and Hono share, on zepoll's HTTP layer. A Hono app
 * runs unchanged: `serve({ fetch: app.fetch, port: 3000 })`. As Bun's
 * fetch, the handler gets the server as its second argument (Hono's
 * `c.env`), whose upgrade() turns the request into a WebSocket
 * (websocket.ts).
 */
import { isMainThread, workerData } from 'node:worker_threads';
import { pathToFileURL } from 'node:url';
import { Reactor, type BackendName, type ReactorStats } from '../reactor.js';
import type { Mode } from '../backend/policies.js';
import { invalidArgType } from '../errors.js';
import { booleanOption, integerOption, optionalFunction, optionsObject, portOption, stringOption } from '../validate.js';
import { startWorkers, workerSetup, type WorkerGroup } from '../workers.js';
import { createHttpServer, type HttpServerOptions } from '../http/server.js';
import type { HttpRequest } from '../http/request.js';
import type { HttpResponse } from '../http/response.js';
import { fetchRequest } from './request.js';
import { requestUrl } from './url.js';
import { respond } from './respond.js';
import { listenDualStack, SERVE_HOST_DEFAULT } from './dual-stack.js';
import { PlatformResponse, installLightResponse } from './light-response.js';
import { FetchWebSockets, websocketsDisabled, type WebSocketHandler, type WebSocketUpgradeOptions } from './websocket.js';
import type { WebSocketData } from './server-websocket.js';

/**
 * The handler: the platform's Request in, a Response (or a promise of one)
 * out. The server comes second (and as `this`), as Bun gives it (Hono's `c.env`): after
 * `server.upgrade(request)` answered true, what the handler returns
 * (nothing, or a Response) is ignored.
 */
export type FetchHandler<T = undefined> = (this: FetchServer<T>, request: Request, server: FetchServer<T>) => Response | undefined | void | Promise<Response | undefined | void>;

/** The HTTP layer's options that serve() passes through (limits, timeouts, idle time, ...). */
export type FetchHttpOptions = Omit<HttpServerOptions, 'port' | 'host' | 'reusePort' | 'onError' | 'streamBodies'>;

/** What serve() takes. */
export interface ServeOptions<T = undefined> {
  /** Called once per request. A throw or rejection answers 500 (nothing sent yet) and closes that connection. */
  readonly fetch: FetchHandler<T>;
  /**
   * The WebSocket handlers and options (Bun's `websocket`): with them,
   * `server.upgrade(request, { data })` in `fetch` accepts a handshake.
   */
  readonly websocket?: WebSocketHandler<T>;
  /** The port (default 3000, as Bun and @hono/node-server; 0 picks a free one). */
  readonly port?: number;
  /**
   * The address to bind. Default `'::'`, every interface, IPv4 and IPv6
   * (dual-stack; `'0.0.0.0'` where the kernel has no IPv6), as
   * @hono/node-server and Node's `server.listen(port)`: pass
   * `'127.0.0.1'` to serve this machine only. (createHttpServer and
   * Server bind 127.0.0.1 unless told otherwise.)
   */
  readonly host?: string;
  /** The reactor's dispatch mode (default 'et'). */
  readonly mode?: Mode;
  /** The reactor's kernel interface: 'epoll', 'io_uring' or 'auto' (default: ZEPOLL_BACKEND, else epoll). */
  readonly backend?: BackendName | 'auto';
  /**
   * Worker threads, each with its own reactor on the shared port
   * (SO_REUSEPORT). Above 1, the main module runs again in every worker,
   * where its serve() call listens; the main thread serves nothing itself.
   */
  readonly workers?: number;
  /** Aborting it closes the server gracefully: no new connections, in-flight responses finish. */
  readonly signal?: AbortSignal;
  /**
   * A handler's error, with its request (null for a WebSocket handler's:
   * its socket is closed with 1011); by default the reactor's onError, which logs.
   */
  readonly onError?: (error: Error, request: Request | null) => void;
  /** The HTTP layer's limits and timeouts. */
  readonly http?: FetchHttpOptions;
  /**
   * Install zepoll's light Response as the global `Response` (default true,
   * as @hono/node-server does): a Response by prototype and `instanceof`
   * whose string or bytes body is sent without building a web stream (on
   * Node 20 that stream costs more than the rest of a small request).
   * false leaves the global alone; every response then goes through the
   * platform Response's body stream.
   */
  readonly overrideGlobalObjects?: boolean;
}

/** A running fetch server: Bun's Server in the parts a fetch handler uses. */
export interface FetchServer<T = undefined> {
  /** The bound port (with workers, once `ready` has resolved). */
  readonly port: number;
  /** The address bound: `options.host`, else '::' (or '0.0.0.0' where the kernel has no IPv6). */
  readonly host: string;
  /**
   * The reactor's counters (connections, bytes, handler errors, system
   * calls), made on each read; null in the main thread of `workers > 1`,
   * where each worker has its own reactor.
   */
  readonly stats: ReactorStats | null;
  /** Resolves once the server (every worker) listens. */
  readonly ready: Promise<void>;
  /** Resolves once the server has closed. */
  readonly closed: Promise<void>;
  /** Stops accepting, lets in-flight responses finish, then releases everything (sockets get 1001). Idempotent. */
  close(): Promise<void>;
  /**
   * Accepts `request` as a WebSocket handshake, as Bun's: true when it is
   * a valid one this server received and has not answered (the 101 goes
   * out now and `websocket.open` runs before this returns), false
   * otherwise (the handler then answers it: a 400, say). Always false in
   * the main thread of `workers > 1`, which receives no request.
   * @throws ZepollError `ERR_ZEPOLL_WS_NOT_ENABLED` when serve() was given no `websocket`;
   *   TypeError `ERR_INVALID_ARG_TYPE`/`ERR_INVALID_ARG_VALUE` for a bad argument.
   */
  upgrade(request: Request, options?: WebSocketUpgradeOptions<T>): boolean;
  /**
   * Sends a message to every socket subscribed to `topic` (text for a
   * string), encoded once; this thread's sockets only.
   * @returns the payload's size when at least one socket took it, else 0.
   */
  publish(topic: string, data: WebSocketData, compress?: boolean): number;
  /** Sockets of this thread subscribed to `topic`. */
  subscriberCount(topic: string): number;
}

/** Bun's and @hono/node-server's default. */
export const SERVE_PORT_DEFAULT = 3000;
/** Worker threads at most: more than any machine zepoll runs on has cores for. */
const WORKERS_MAX = 1024;

function inZepollWorker(): boolean {
  return !isMainThread && typeof workerData === 'object' && workerData !== null && 'zepollWorker' in workerData;
}

function originOf(host: string, port: number): string {
  return `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
}

/** What the HTTP handler learns once serve() listens: the origin for a request without Host, and the server to hand over. */
interface ServedBy<T> {
  origin: string | null;
  server: FetchServer<T> | null;
}

/** The answer to a request: what the handler returned, unless it upgraded the request (Bun ignores that answer). */
function answer(result: unknown, response: HttpResponse): Promise<void> | undefined {
  // Only switchProtocols() (server.upgrade) finishes the response before respond() runs.
  return response.finished ? undefined : respond(result, response);
}

/** The HTTP handler around a fetch handler; errors go to the HTTP layer (500, counted, onError). */
function httpHandler<T>(fetch: FetchHandler<T>, served: ServedBy<T>, failed: WeakMap<HttpRequest, Request>) {
  return (request: HttpRequest, response: HttpResponse): Promise<void> | void => {
    const url = requestUrl(request, served.origin);
    if (url === null) {
      response.statusCode = 400;
      // A body the app never reads would have to be drained first: the connection closes instead.
      if (request.hasBody) response.setHeader('connection', 'close');
      response.end();
      return;
    }
    const incoming = fetchRequest(request, url, response);
    const fail = (error: unknown): never => {
      failed.set(request, incoming);
      throw error;
    };
    const server = served.server!; // set before serve() returns: no request is read before that
    let result: ReturnType<FetchHandler<T>>;
    try {
      result = fetch.call(server, incoming, server);
    } catch (error) {
      return fail(error);
    }
    if (result instanceof PlatformResponse) return answer(result, response)?.catch(fail);
    return Promise.resolve(result).then((value) => answer(value, response)).catch(fail);
  };
}

/** publish() and subscriberCount() of a server with no sockets (none given, or the main thread of workers). */
function noSubscribers(): number {
  return 0;
}

/**
 * Serves `options.fetch` over HTTP/1.1.
 * @throws TypeError `ERR_INVALID_ARG_TYPE` when `fetch` is not a function or
 *   an option has the wrong type; RangeError `ERR_OUT_OF_RANGE` for a bad
 *   port or worker count. Binding errors (EADDRINUSE) throw as from listen.
 */
export function serve<T = undefined>(serveOptions: ServeOptions<T>): FetchServer<T> {
  const options = optionsObject('options', serveOptions);
  const fetch = options.fetch;
  if (typeof fetch !== 'function') throw invalidArgType('options.fetch', 'of type function', fetch);
  const hostAsked = options.host === undefined ? undefined : stringOption('options.host', options.host, SERVE_HOST_DEFAULT);
  const port = portOption('options.port', options.port, SERVE_PORT_DEFAULT);
  const workers = integerOption('options.workers', options.workers, 1, 1, WORKERS_MAX);
  const onError = optionalFunction('options.onError', options.onError);
  const signal = options.signal;
  if (signal !== undefined && !(signal instanceof AbortSignal)) throw invalidArgType('options.signal', 'an instance of AbortSignal', signal);
  const http = optionsObject('options.http', options.http);
  const override = booleanOption('options.overrideGlobalObjects', options.overrideGlobalObjects, true);

  const worker = inZepollWorker() ? workerSetup() : null;
  if (worker === null && workers > 1) return serveWithWorkers(workers, hostAsked ?? SERVE_HOST_DEFAULT, port, signal, override);

  const reactorOptions: { mode?: Mode; backend?: BackendName | 'auto' } = {};
  if (options.mode !== undefined) reactorOptions.mode = options.mode;
  if (options.backend !== undefined) reactorOptions.backend = options.backend;
  const reactor = new Reactor(reactorOptions);
  const failed = new WeakMap<HttpRequest, Request>();
  // The origin is the address asked for, for a request without Host; none by default (such a request is then a 400, as on node-server).
  const served: ServedBy<T> = { origin: null, server: null };
  let listening;
  let sockets: FetchWebSockets<T> | null = null;
  try {
    if (options.websocket !== undefined) sockets = new FetchWebSockets(reactor, options.websocket, onError === undefined ? undefined : (error) => onError(error, null));
    listening = listenDualStack(hostAsked, (host) =>
      createHttpServer(reactor, httpHandler(fetch, served, failed), {
        ...http,
        host,
        port: worker?.port ?? port,
        reusePort: worker !== null,
        streamBodies: true,
        ...(onError === undefined ? {} : { onError: (error: Error, request: HttpRequest) => onError(error, failed.get(request) ?? null) }),
      }),
    );
  } catch (error) {
    reactor.close(); // nothing listens: the reactor would hold the process open
    throw error;
  }
  const { value: server, host } = listening;
  // Installed once listening: a serve() that throws leaves the global as it was.
  const restoreGlobal = override ? installLightResponse() : null;
  if (hostAsked !== undefined) served.origin = originOf(host, server.port);
  let closing: Promise<void> | null = null;
  let markClosed!: () => void; // set by the Promise executor below, which runs at once
  const closed = new Promise<void>((resolve) => (markClosed = resolve));
  const close = (): Promise<void> => {
    closing ??= server.close().then(() => {
      reactor.close();
      restoreGlobal?.();
      markClosed();
    });
    return closing;
  };
  if (signal !== undefined) {
    if (signal.aborted) void close();
    else signal.addEventListener('abort', () => void close(), { once: true });
  }
  worker?.ready(close);
  const websockets = sockets;
  served.server = {
    port: server.port,
    host,
    get stats() {
      return reactor.stats;
    },
    ready: Promise.resolve(),
    closed,
    close,
    upgrade(request, upgradeOptions) {
      if (websockets === null) throw websocketsDisabled();
      return websockets.upgrade(request, upgradeOptions);
    },
    publish: websockets === null ? noSubscribers : (topic, data, compress) => websockets.publish(topic, data, compress),
    subscriberCount: websockets === null ? noSubscribers : (topic) => websockets.subscriberCount(topic),
  };
  return served.server;
}

/** The main thread's side of `workers > 1`: the main module again in each worker. */
function serveWithWorkers<T>(count: number, host: string, port: number, signal: AbortSignal | undefined, override: boolean): FetchServer<T> {
  const entry = process.argv[1];
  if (entry === undefined) throw invalidArgType('options.workers', 'used from a main module (process.argv[1])', count);
  const restoreGlobal = override ? installLightResponse() : null;
  let group: WorkerGroup | null = null;
  let closing: Promise<void> | null = null;
  let markClosed!: () => void; // set by the Promise executor below, which runs at once
  const closed = new Promise<void>((resolve) => (markClosed = resolve));
  const ready = startWorkers({ entry: pathToFileURL(entry), count, host, port }).then((started) => {
    group = started;
  });
  const close = (): Promise<void> => {
    closing ??= ready
      .then(
        () => group!.close(),
        () => {},
      )
      .then(() => {
        restoreGlobal?.();
        markClosed();
      });
    return closing;
  };
  if (signal !== undefined) {
    if (signal.aborted) void close();
    else signal.addEventListener('abort', () => void close(), { once: true });
  }
  return {
    get port() {
      return group?.port ?? 0;
    },
    host,
    stats: null,
    ready,
    closed,
    close,
    upgrade: () => false, // this thread receives no request: each worker upgrades its own
    publish: noSubscribers,
    subscriberCount: noSubscribers,
  };
}
