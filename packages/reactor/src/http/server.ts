/**
 * HTTP/1.1 over a reactor Server: one HttpExchange per connection
 * (exchange.ts), keep-alive per HTTP/1.0 and 1.1 rules, `Expect:
 * 100-continue`, and on a parse error the status it names, then close.
 */
import { invalidArgType } from '../errors.js';
import { Reactor } from '../reactor.js';
import { coreOf } from '../core.js';
import { Server, type ServerOptions } from '../server.js';
import type { ConnectionHandler } from '../connection.js';
import { ON_BYTES, TIMEOUT_MS_MAX, type BytesReceiver } from '../handler.js';
import { booleanOption, integerOption, optionalFunction, optionsObject } from '../validate.js';
import { resolveLimits, type HttpLimits } from './limits.js';
import type { HttpRequest } from './request.js';
import { HttpExchange } from './exchange.js';
import { StreamingExchange } from './streaming-exchange.js';
import type { ExchangeSettings, HttpHandler } from './handler.js';
import { RequestClock } from './request-clock.js';
import { ReaderPool } from './reader-pool.js';

export type { HttpHandler } from './handler.js';

/**
 * What createHttpServer() takes: the Server's options (port, host,
 * backlog, idle timeout, ...), the HTTP limits, and the options below.
 */
export interface HttpServerOptions extends Omit<ServerOptions, 'onError' | 'allowHalfOpen'>, HttpLimits {
  /**
   * Milliseconds a request head may take from its first byte to its blank
   * line (default 60 000, as Node's headersTimeout; 0: no limit). Over it
   * the client gets 408 and the connection closes: a client that trickles
   * a byte at a time (slowloris) is never idle, so the idle timeout alone
   * would keep it forever.
   */
  readonly headersTimeoutMs?: number;
  /**
   * Milliseconds a whole request (head and body) may take from its first
   * byte (default 300 000, as Node's requestTimeout; 0: no limit). Over it:
   * 408 and close. Bounds a body that trickles in, which the headers
   * timeout does not see.
   */
  readonly requestTimeoutMs?: number;
  /**
   * Milliseconds a connection may wait for its next request after a
   * response (default 5000, as Node's keepAliveTimeout; 0: no limit). Over
   * it the connection is closed quietly (a FIN, no response), so idle
   * keep-alive clients do not hold fds forever. A new connection's wait
   * for its first request is bounded by `headersTimeoutMs` instead.
   */
  readonly keepAliveTimeoutMs?: number;
  /**
   * Called when a handler throws or its promise rejects, with the request
   * it was handling, and counted in `stats.handlerErrors`. The client gets
   * a 500 (and the connection closes) when nothing was sent yet, else the
   * connection is destroyed. Without it the reactor's onError gets the
   * error (logged by default).
   */
  readonly onError?: (error: Error, request: HttpRequest) => void;
  /**
   * Hand request bodies to the handler as they arrive (default false: the
   * handler runs once the whole body is in `request.body`). When true the
   * handler runs at the end of the head and reads the body with
   * `for await (const part of request)`; a handler that reads slower than
   * the client sends pauses the connection. `bodySizeMax` still bounds it:
   * raise it for uploads larger than memory.
   */
  readonly streamBodies?: boolean;
  /**
   * Keep answering after the client's FIN (default false, as Node's
   * httpAllowHalfOpen): by default a FIN that arrives while a response is
   * still pending closes the connection and aborts the request's signal.
   */
  readonly allowHalfOpen?: boolean;
}

/** The default `headersTimeoutMs`, as Node's `server.headersTimeout`. */
export const HEADERS_TIMEOUT_MS_DEFAULT = 60_000;
/** The default `requestTimeoutMs`, as Node's `server.requestTimeout`. */
export const REQUEST_TIMEOUT_MS_DEFAULT = 300_000;
/** The default `keepAliveTimeoutMs`, as Node's `server.keepAliveTimeout`. */
export const KEEP_ALIVE_TIMEOUT_MS_DEFAULT = 5000;

function timeoutOption(name: string, value: number | undefined, fallback: number): number {
  const checked = integerOption(name, value, fallback, 0, TIMEOUT_MS_MAX);
  return checked === 0 ? Infinity : checked;
}

/**
 * An HTTP/1.1 server on `reactor`; `handler(request, response)` runs per
 * request and may return a promise.
 * @throws TypeError/RangeError with a `code` for a bad argument or option.
 */
export function createHttpServer(reactor: Reactor, handler: HttpHandler, serverOptions?: HttpServerOptions): Server {
  if (!(reactor instanceof Reactor)) throw invalidArgType('reactor', 'an instance of Reactor', reactor);
  if (typeof handler !== 'function') throw invalidArgType('handler', 'of type function', handler);
  const options = optionsObject('options', serverOptions);
  // Checked here, once: a bad option throws now, not in every connection's onOpen.
  const limits = resolveLimits(options);
  const settings: ExchangeSettings = {
    handler,
    limits,
    readers: new ReaderPool(limits),
    headersTimeoutMs: timeoutOption('options.headersTimeoutMs', options.headersTimeoutMs, HEADERS_TIMEOUT_MS_DEFAULT),
    requestTimeoutMs: timeoutOption('options.requestTimeoutMs', options.requestTimeoutMs, REQUEST_TIMEOUT_MS_DEFAULT),
    keepAliveTimeoutMs: timeoutOption('options.keepAliveTimeoutMs', options.keepAliveTimeoutMs, KEEP_ALIVE_TIMEOUT_MS_DEFAULT),
    streamBodies: booleanOption('options.streamBodies', options.streamBodies, false),
    allowHalfOpen: booleanOption('options.allowHalfOpen', options.allowHalfOpen, false),
    onError: optionalFunction('options.onError', options.onError),
  };
  // The idle sweep runs as often as the shortest of the three asks (a timeout fires at its floor, at most a quarter late).
  const shortestTimeoutMs = RequestClock.shortest(settings);
  const timed = shortestTimeoutMs !== Infinity;
  const core = coreOf(reactor);
  const connectionHandler: ConnectionHandler & BytesReceiver = {
    onOpen: (connection) => {
      const exchange = settings.streamBodies ? new StreamingExchange(connection, settings) : new HttpExchange(connection, settings);
      connection.context = exchange;
      if (timed) core.trackIdle(exchange.clock, shortestTimeoutMs);
    },
    onClose: (connection) => {
      const exchange = connection.context as HttpExchange;
      if (timed) core.untrackIdle(exchange.clock);
      exchange.connectionClosed();
    },
    onData: (connection, data) => (connection.context as HttpExchange).feed(data),
    // The reads themselves: the parser works in the pool chunk (no view per read).
    [ON_BYTES]: (connection, bytes, length) => (connection.context as HttpExchange).feed(bytes, length),
    onDrain: (connection) => (connection.context as HttpExchange).current?.drained(),
    onEnd: (connection) => (connection.context as HttpExchange).peerEnded(),
    onHangUp: (connection) => (connection.context as HttpExchange).peerHungUp(),
    onServerClose: (connection) => (connection.context as HttpExchange).serverClosing(),
    // Peer errors (resets) only close their connection; handler errors were reported by the exchange.
    onError: () => {},
  };
  // The connection is half-open at the TCP level; allowHalfOpen above is the HTTP rule.
  const { onError: _httpOnError, allowHalfOpen: _httpHalfOpen, ...serverOnly } = options;
  return new Server(reactor, connectionHandler, { ...serverOnly, allowHalfOpen: true });
}
