/**
 * HTTP/1.1 over a reactor Server: one parser per connection, requests
 * answered in order (a pipelined request waits until the response before
 * it is complete), keep-alive per HTTP/1.0 and 1.1 rules, `Expect:
 * 100-continue`, and on a parse error the status it names, then close.
 */
import { STATUS_CODES } from 'node:http';
import { ZepollError } from '../errors.js';
import type { IdleTracked, Reactor } from '../reactor.js';
import { Server, type ServerOptions } from '../server.js';
import type { Connection, ConnectionHandler } from '../connection.js';
import { resolveLimits, type HttpLimits } from './limits.js';
import { HttpParseError, RequestParser } from './parser.js';
import type { HttpRequest } from './request.js';
import { HttpResponse, type ResponseOwner } from './response.js';

export type HttpHandler = (request: HttpRequest, response: HttpResponse) => void;

export interface HttpServerOptions extends ServerOptions, HttpLimits {
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
   * Called when the handler throws, with the request it was handling; the
   * connection is then destroyed (no response) and the error counted in
   * `stats.handlerErrors`. Without it the error is only counted.
   */
  readonly onError?: (error: unknown, request: HttpRequest) => void;
}

export const HEADERS_TIMEOUT_MS_DEFAULT = 60_000;
export const REQUEST_TIMEOUT_MS_DEFAULT = 300_000;
/** setInterval's bound; a longer timeout is a mistake, not a wish. */
const TIMEOUT_MS_MAX = 2 ** 31 - 1;

/** What every exchange of one server shares. */
interface ExchangeSettings {
  readonly handler: HttpHandler;
  readonly limits: HttpLimits;
  /** Infinity when off. */
  readonly headersTimeoutMs: number;
  readonly requestTimeoutMs: number;
  readonly onError: ((error: unknown, request: HttpRequest) => void) | undefined;
}

function timeoutOption(name: string, value: number): number {
  if (!Number.isInteger(value) || value < 0 || value > TIMEOUT_MS_MAX) throw new ZepollError('ERR_OUT_OF_RANGE', `${name} must be an integer from 0 to ${TIMEOUT_MS_MAX}, received ${value}`);
  return value === 0 ? Infinity : value;
}

const CONTINUE = Buffer.from('HTTP/1.1 100 Continue\r\n\r\n');

/** Per-connection HTTP state, kept in `connection.context`. */
class HttpExchange implements ResponseOwner, IdleTracked {
  readonly parser: RequestParser;
  current: HttpResponse | null;
  /** No request after the ones already received (client ended, or Connection: close). */
  closing: boolean;
  private stopped: boolean;
  /** Inside the parser: requests it hands out must not end the connection under it. */
  private feeding: boolean;
  /** Reading is paused while a response is answered later (the parser holds the rest). */
  private pausedForResponse: boolean;
  private readonly connection: Connection;
  private readonly settings: ExchangeSettings;
  /** When the request now arriving began; Infinity when none is arriving (never expires). */
  lastActivity: number;

  constructor(connection: Connection, settings: ExchangeSettings) {
    this.connection = connection;
    this.settings = settings;
    this.lastActivity = Infinity;
    this.current = null;
    this.closing = false;
    this.stopped = false;
    this.feeding = false;
    this.pausedForResponse = false;
    this.parser = new RequestParser(
      {
        onRequest: (request) => this.onRequest(request),
        onContinue: () => void this.connection.write(CONTINUE),
      },
      settings.limits,
    );
  }

  feed(data: Uint8Array): void {
    if (this.stopped) return; // after a parse error or a closing response: input is ignored
    this.run(data);
  }

  /**
   * Runs the parser on `data`, or resumes it with what it kept (null): no
   * closure per call, this runs for every read and every response. Ends
   * the connection afterwards if nothing more can come.
   */
  private run(data: Uint8Array | null): void {
    const outer = !this.feeding;
    this.feeding = true;
    try {
      if (data === null) this.parser.resume();
      else this.parser.execute(data);
    } catch (error) {
      if (!(error instanceof HttpParseError)) throw error;
      this.reject(error.status, error.message);
    } finally {
      if (outer) this.feeding = false;
    }
    if (outer) {
      this.watchRequest();
      this.endIfDone();
    }
  }

  /**
   * The deadline the reactor's idle sweep checks against lastActivity (the
   * request's first byte): the headers timeout while the head arrives (or
   * the request timeout, if shorter), the request timeout during the body.
   */
  get idleTimeoutMs(): number {
    const { headersTimeoutMs, requestTimeoutMs } = this.settings;
    return this.parser.inHead || this.parser.idle ? Math.min(headersTimeoutMs, requestTimeoutMs) : requestTimeoutMs;
  }

  /** Starts the request clock when a request begins, stops it when none is arriving. */
  private watchRequest(): void {
    if (!this.parser.inRequest || this.stopped) this.lastActivity = Infinity;
    else if (this.lastActivity === Infinity) this.lastActivity = this.connection.reactor.clock(); // a late response resumes the parser outside a turn
  }

  /** The reactor's sweep: the head or the whole request took too long. */
  idleExpired(): void {
    if (this.stopped || this.closing || !this.parser.inRequest) return;
    const inHead = this.parser.inHead && this.settings.headersTimeoutMs <= this.settings.requestTimeoutMs;
    this.reject(408, inHead ? `request head not complete within ${this.settings.headersTimeoutMs} ms` : `request not complete within ${this.settings.requestTimeoutMs} ms`);
  }

  responseDone(response: HttpResponse, keepAlive: boolean): void {
    if (response !== this.current) return;
    this.current = null;
    if (!keepAlive) {
      // Connection: close (or HTTP/1.0): nothing after this request is
      // parsed. Reading goes on (and is dropped) so the peer's FIN is seen.
      this.closing = true;
      this.stopped = true;
      this.parser.pause();
      this.resumeReading();
      this.connection.end();
      return;
    }
    if (!this.closing) this.resumeReading();
    try {
      this.run(null);
    } catch (error) {
      // The next pipelined request's handler threw, inside end() of this
      // one: called from a timer, a promise or another connection, so the
      // error must not surface there. This connection goes, as in a turn.
      this.connection.reactor.failOwner(this.connection, error);
    }
  }

  private resumeReading(): void {
    if (!this.pausedForResponse) return;
    this.pausedForResponse = false;
    this.connection.resume();
  }

  /** The client ended: finish what it sent, then close. */
  peerEnded(): void {
    this.closing = true;
    this.endIfDone();
  }

  /**
   * The server is closing: read nothing more, answer every request already
   * read (including pipelined ones the parser holds), then end.
   */
  serverClosing(): void {
    this.closing = true;
    // Bytes that still reach feed() (a hang-up is read even when paused) are
    // ignored, and the request clock stops: the close has its own timeout.
    this.stopped = true;
    this.lastActivity = Infinity;
    this.connection.pause();
    this.endIfDone();
  }

  private endIfDone(): void {
    if (this.closing && !this.feeding && this.current === null && this.connection.isOpen) this.connection.end();
  }

  private onRequest(request: HttpRequest): void {
    // This request is complete: the clock restarts for the next one (watchRequest, after the parser returns).
    this.lastActivity = Infinity;
    const response = new HttpResponse(this, this.connection, request.versionMinor, request.keepAlive, request.method === 'HEAD');
    this.current = response;
    try {
      this.settings.handler(request, response);
    } catch (error) {
      // Reported with its request, then rethrown: the reactor counts it and destroys the connection.
      try {
        this.settings.onError?.(error, request);
      } catch {
        // onError's own failure must not replace the handler's error.
      }
      throw error;
    }
    if (!response.finished) {
      // Answered later: the parser holds the next pipelined request, and
      // reading stops, so a client cannot pile up bytes behind a slow answer.
      this.parser.pause();
      if (!this.closing && !this.pausedForResponse) {
        this.pausedForResponse = true;
        this.connection.pause();
      }
    }
  }

  /** Answers `status` (unless a response is under way), then closes: nothing more is read. */
  private reject(status: number, message: string): void {
    this.closing = true;
    this.stopped = true;
    this.lastActivity = Infinity;
    const connection = this.connection;
    if (connection.writableEnded) return;
    if (this.current === null) {
      const reason = STATUS_CODES[status] ?? 'Bad Request';
      const body = `${status} ${reason}: ${message}\n`;
      connection.write(Buffer.from(`HTTP/1.1 ${status} ${reason}\r\nContent-Type: text/plain\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`, 'latin1'));
    }
    connection.end();
  }
}

/** An HTTP/1.1 server on `reactor`; `handler(request, response)` runs per request. */
export function createHttpServer(reactor: Reactor, handler: HttpHandler, options: HttpServerOptions = {}): Server {
  // Checked here, once: a bad option throws now, not in every connection's onOpen.
  const settings: ExchangeSettings = {
    handler,
    limits: resolveLimits(options),
    headersTimeoutMs: timeoutOption('headersTimeoutMs', options.headersTimeoutMs ?? HEADERS_TIMEOUT_MS_DEFAULT),
    requestTimeoutMs: timeoutOption('requestTimeoutMs', options.requestTimeoutMs ?? REQUEST_TIMEOUT_MS_DEFAULT),
    onError: options.onError,
  };
  if (settings.onError !== undefined && typeof settings.onError !== 'function') throw new ZepollError('ERR_INVALID_ARG_TYPE', 'onError must be a function');
  const timed = settings.headersTimeoutMs !== Infinity || settings.requestTimeoutMs !== Infinity;
  const connectionHandler: ConnectionHandler = {
    onOpen: (connection) => {
      const exchange = new HttpExchange(connection, settings);
      connection.context = exchange;
      if (timed) reactor.trackIdle(exchange);
    },
    onClose: (connection) => {
      if (timed) reactor.untrackIdle(connection.context as HttpExchange);
    },
    onData: (connection, data) => (connection.context as HttpExchange).feed(data),
    onDrain: (connection) => (connection.context as HttpExchange).current?.drained(),
    onEnd: (connection) => (connection.context as HttpExchange).peerEnded(),
    onServerClose: (connection) => (connection.context as HttpExchange).serverClosing(),
    onError: () => {},
  };
  return new Server(reactor, connectionHandler, { allowHalfOpen: true, ...options });
}
