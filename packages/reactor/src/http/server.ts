/**
 * HTTP/1.1 over a reactor Server: one parser per connection, requests
 * answered in order (a pipelined request waits until the response before
 * it is complete), keep-alive per HTTP/1.0 and 1.1 rules, `Expect:
 * 100-continue`, and on a parse error the status it names, then close.
 */
import { STATUS_CODES } from 'node:http';
import type { Reactor } from '../reactor.js';
import { Server, type ServerOptions } from '../server.js';
import type { Connection, ConnectionHandler } from '../connection.js';
import type { HttpLimits } from './limits.js';
import { HttpParseError, RequestParser } from './parser.js';
import type { HttpRequest } from './request.js';
import { HttpResponse, type ResponseOwner } from './response.js';

export type HttpHandler = (request: HttpRequest, response: HttpResponse) => void;

export interface HttpServerOptions extends ServerOptions, HttpLimits {}

const CONTINUE = Buffer.from('HTTP/1.1 100 Continue\r\n\r\n');

/** Per-connection HTTP state, kept in `connection.context`. */
class HttpExchange implements ResponseOwner {
  readonly parser: RequestParser;
  current: HttpResponse | null;
  /** No request after the ones already received (client ended, or Connection: close). */
  closing: boolean;
  private stopped: boolean;
  /** Inside the parser: requests it hands out must not end the connection under it. */
  private feeding: boolean;
  private readonly connection: Connection;
  private readonly handler: HttpHandler;

  constructor(connection: Connection, handler: HttpHandler, limits: HttpLimits) {
    this.connection = connection;
    this.handler = handler;
    this.current = null;
    this.closing = false;
    this.stopped = false;
    this.feeding = false;
    this.parser = new RequestParser(
      {
        onRequest: (request) => this.onRequest(request),
        onContinue: () => void this.connection.write(CONTINUE),
      },
      limits,
    );
  }

  feed(data: Uint8Array): void {
    if (this.stopped) return; // after a parse error or a closing response: input is ignored
    this.run(() => this.parser.execute(data));
  }

  /** Runs the parser; ends the connection afterwards if nothing more can come. */
  private run(parse: () => void): void {
    const outer = !this.feeding;
    this.feeding = true;
    try {
      parse();
    } catch (error) {
      if (!(error instanceof HttpParseError)) throw error;
      this.reject(error);
    } finally {
      if (outer) this.feeding = false;
    }
    if (outer) this.endIfDone();
  }

  responseDone(response: HttpResponse, keepAlive: boolean): void {
    if (response !== this.current) return;
    this.current = null;
    if (!keepAlive) {
      // Connection: close (or HTTP/1.0): nothing after this request is read.
      this.closing = true;
      this.stopped = true;
      this.parser.pause();
      this.connection.end();
      return;
    }
    this.run(() => this.parser.resume());
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
    this.connection.pause();
    this.endIfDone();
  }

  private endIfDone(): void {
    if (this.closing && !this.feeding && this.current === null && this.connection.isOpen) this.connection.end();
  }

  private onRequest(request: HttpRequest): void {
    const response = new HttpResponse(this, this.connection, request.versionMinor, request.keepAlive, request.method === 'HEAD');
    this.current = response;
    this.handler(request, response);
    // Answered later: hold the next pipelined request until this one is done.
    if (!response.finished) this.parser.pause();
  }

  private reject(error: HttpParseError): void {
    this.closing = true;
    this.stopped = true;
    const connection = this.connection;
    if (!connection.isOpen) return;
    if (this.current === null) {
      const reason = STATUS_CODES[error.status] ?? 'Bad Request';
      const body = `${error.status} ${reason}: ${error.message}\n`;
      connection.write(Buffer.from(`HTTP/1.1 ${error.status} ${reason}\r\nContent-Type: text/plain\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`, 'latin1'));
    }
    connection.end();
  }
}

/** An HTTP/1.1 server on `reactor`; `handler(request, response)` runs per request. */
export function createHttpServer(reactor: Reactor, handler: HttpHandler, options: HttpServerOptions = {}): Server {
  const limits: HttpLimits = options;
  const connectionHandler: ConnectionHandler = {
    onOpen: (connection) => {
      connection.context = new HttpExchange(connection, handler, limits);
    },
    onData: (connection, data) => (connection.context as HttpExchange).feed(data),
    onDrain: (connection) => (connection.context as HttpExchange).current?.drained(),
    onEnd: (connection) => (connection.context as HttpExchange).peerEnded(),
    onServerClose: (connection) => (connection.context as HttpExchange).serverClosing(),
    onError: () => {},
  };
  return new Server(reactor, connectionHandler, { allowHalfOpen: true, ...options });
}
