/**
 * One HTTP connection's state: its parser, the response being answered,
 * a streamed request body, the request clocks, and the handler boundary.
 * Requests are answered in order (a pipelined request waits until the
 * response before it is complete).
 *
 * The boundary: a handler that throws or whose promise rejects gets a 500
 * (with Connection: close) when nothing was sent yet, else its connection
 * is destroyed; the error reaches the server's onError (else the
 * reactor's) and is counted. A peer that goes away before its response is
 * complete aborts the request's signal and closes the connection at once.
 */
import { STATUS_CODES } from 'node:http';
import { coreOf, type IdleTracked } from '../core.js';
import type { Connection } from '../connection.js';
import { asError } from '../errors.js';
import { callSafely, isThenable } from '../safe-call.js';
import type { ResolvedHttpLimits } from './limits.js';
import { HttpParseError, RequestParser } from './parser.js';
import type { HttpRequest } from './request.js';
import { HttpResponse, type ResponseOwner } from './response.js';
import { BodyStream, type BodyProducer } from './body-stream.js';

/** What a request handler is: it answers through `response`, now or later (a returned promise is watched). */
export type HttpHandler = (request: HttpRequest, response: HttpResponse) => void | Promise<void>;

/** What every exchange of one server shares. */
export interface ExchangeSettings {
  readonly handler: HttpHandler;
  readonly limits: ResolvedHttpLimits;
  /** Infinity when off. */
  readonly headersTimeoutMs: number;
  readonly requestTimeoutMs: number;
  readonly streamBodies: boolean;
  readonly allowHalfOpen: boolean;
  readonly onError: ((error: Error, request: HttpRequest) => void) | undefined;
}

const CONTINUE = Buffer.from('HTTP/1.1 100 Continue\r\n\r\n');


export class HttpExchange implements ResponseOwner, IdleTracked, BodyProducer {
  readonly parser: RequestParser;
  current: HttpResponse | null;
  /** The request `current` answers. */
  private currentRequest: HttpRequest | null;
  /** No request after the ones already received (client ended, or Connection: close). */
  closing: boolean;
  private stopped: boolean;
  /** Inside the parser: requests it hands out must not end the connection under it. */
  private feeding: boolean;
  /** Reading is paused while a response is answered later (the parser holds the rest). */
  private pausedForResponse: boolean;
  /** Reading is paused because the handler reads a streamed body slower than it arrives. */
  private pausedForBody: boolean;
  /** The body of the current request still arrives (streaming). */
  private body: BodyStream | null;
  /** A response object given back by the reuse rule (see onRequest), for the next request. */
  private spareResponse: HttpResponse | null;
  private readonly connection: Connection;
  private readonly settings: ExchangeSettings;
  /** When the request now arriving began; Infinity when none is arriving (never expires). */
  lastActivity: number;

  constructor(connection: Connection, settings: ExchangeSettings) {
    this.connection = connection;
    this.settings = settings;
    this.lastActivity = Infinity;
    this.current = null;
    this.currentRequest = null;
    this.closing = false;
    this.stopped = false;
    this.feeding = false;
    this.pausedForResponse = false;
    this.pausedForBody = false;
    this.body = null;
    this.spareResponse = null;
    this.parser = new RequestParser(
      settings.streamBodies
        ? {
            onRequest: (request) => this.onRequest(request),
            onContinue: () => void this.connection.write(CONTINUE),
            onBodyData: (part) => this.body?.push(part),
            onBodyEnd: () => this.bodyEnded(),
          }
        : {
            onRequest: (request) => this.onRequest(request),
            onContinue: () => void this.connection.write(CONTINUE),
          },
      settings.limits,
    );
  }

  /** Bytes from the client: data[0..length). */
  feed(data: Uint8Array, length: number = data.byteLength): void {
    if (this.stopped) return; // after a parse error or a closing response: input is ignored
    this.run(data, length);
  }

  /**
   * Runs the parser on `data`, or resumes it with what it kept (null): no
   * closure per call, this runs for every read and every response. Ends
   * the connection afterwards if nothing more can come.
   */
  private run(data: Uint8Array | null, length = 0): void {
    const outer = !this.feeding;
    this.feeding = true;
    try {
      if (data === null) this.parser.resume();
      else this.parser.execute(data, length);
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
    if (!this.parser.inRequest || this.stopped || this.pausedForBody) this.lastActivity = Infinity;
    else if (this.lastActivity === Infinity) this.lastActivity = coreOf(this.connection.reactor).clock(); // a late response resumes the parser outside a turn
  }

  /** The reactor's sweep: the head or the whole request took too long. */
  idleExpired(): void {
    if (this.stopped || this.closing || !this.parser.inRequest) return;
    const inHead = this.parser.inHead && this.settings.headersTimeoutMs <= this.settings.requestTimeoutMs;
    this.reject(408, inHead ? `request head not complete within ${this.settings.headersTimeoutMs} ms` : `request not complete within ${this.settings.requestTimeoutMs} ms`);
  }

  /** A callback the handler gave the response (onDrain, onClose) threw or rejected: as the handler failing. */
  callbackFailed(response: HttpResponse, error: unknown): void {
    const request = response === this.current ? this.currentRequest : null;
    if (request !== null) {
      this.handlerFailed(error, request, response);
      return;
    }
    coreOf(this.connection.reactor).reportUnhandled(error, false); // the response is done with: nothing left to answer
  }

  responseDone(response: HttpResponse, keepAlive: boolean): void {
    if (response !== this.current) return;
    this.current = null;
    this.currentRequest = null;
    response.closed();
    // Answered before its body was read: the rest is parsed and dropped, so the next request can follow.
    this.body?.discard();
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
      coreOf(this.connection.reactor).failOwner(this.connection, error);
    }
  }

  private resumeReading(): void {
    if (!this.pausedForResponse) return;
    this.pausedForResponse = false;
    this.connection.resume();
  }

  /** BodyProducer: the handler is behind on the body; stop reading until it catches up. */
  pauseBody(): void {
    if (this.pausedForBody) return;
    this.pausedForBody = true;
    this.parser.pause();
    this.connection.pause();
  }

  /** BodyProducer: the handler caught up. */
  resumeBody(): void {
    if (!this.pausedForBody) return;
    this.pausedForBody = false;
    if (this.stopped) return;
    this.connection.resume();
    try {
      this.run(null);
    } catch (error) {
      coreOf(this.connection.reactor).failOwner(this.connection, error); // called from the handler's read, outside a turn
    }
  }

  /** The client ended: finish what it sent, then close; a response still pending is aborted unless half-open is allowed. */
  peerEnded(): void {
    this.closing = true;
    if (this.current !== null && !this.settings.allowHalfOpen) {
      this.connection.destroy(); // as Node's http: the client's FIN ends the exchange
      return;
    }
    this.endIfDone();
  }

  /** The peer's FIN arrived while reading was paused for a pending response. */
  peerHungUp(): void {
    if (this.current !== null && !this.settings.allowHalfOpen) this.connection.destroy();
  }

  /** The connection closed: a response not complete by now was aborted. */
  connectionClosed(): void {
    const response = this.current;
    const request = this.currentRequest;
    this.current = null;
    this.currentRequest = null;
    if (request !== null && response !== null && !response.finished) request.abort();
    response?.closed();
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
    let response = this.spareResponse;
    if (response === null) {
      response = new HttpResponse(this, this.connection, request.versionMinor, request.keepAlive, request.method === 'HEAD');
    } else {
      this.spareResponse = null;
      response.reuse(request.versionMinor, request.keepAlive, request.method === 'HEAD');
    }
    this.current = response;
    this.currentRequest = request;
    if (request.hasBody) {
      this.body = new BodyStream(this);
      request.stream = this.body;
    }
    let result: unknown;
    try {
      result = this.settings.handler(request, response);
    } catch (error) {
      this.handlerFailed(error, request, response);
      return;
    }
    if (isThenable(result)) {
      result.then(undefined, (error: unknown) => this.handlerFailed(error, request, response));
    } else if (response.finished && this.current !== response && response.settled && request.reusable) {
      // The reuse rule (request.ts): the handler returned without a promise
      // and its response is complete, so nothing of the handler's runs on
      // these objects any more (unless it kept them, which retain() is for):
      // the connection's next request is written into them.
      this.parser.recycle(request);
      this.spareResponse = response;
      return;
    }
    if (!response.finished && this.current === response && !request.hasBody) this.waitForResponse();
  }

  /** A streamed body is complete; a response still pending now holds the next request back. */
  private bodyEnded(): void {
    const body = this.body;
    this.body = null;
    body?.end();
    if (this.current !== null && !this.current.finished) this.waitForResponse();
  }

  /**
   * Answered later: the parser holds the next pipelined request, and
   * reading stops, so a client cannot pile up bytes behind a slow answer.
   */
  private waitForResponse(): void {
    this.parser.pause();
    if (!this.closing && !this.pausedForResponse) {
      this.pausedForResponse = true;
      this.connection.pause();
    }
  }

  /**
   * The handler threw, or its promise rejected: reported and counted; a
   * 500 when nothing was sent (then close), else the connection goes.
   */
  private handlerFailed(thrown: unknown, request: HttpRequest, response: HttpResponse): void {
    const error = asError(thrown);
    const reactor = coreOf(this.connection.reactor);
    if (this.settings.onError === undefined) {
      reactor.reportUnhandled(error, false);
    } else {
      reactor.noteHandlerError();
      // onError's own failure (a throw or a rejection) must not replace the handler's error: the reactor's gets it.
      callSafely(this.settings.onError, null, error, request, reactor.reportLate);
    }
    if (!this.connection.isOpen || response.finished) return; // a complete response stands; nothing to undo
    if (response.sent) {
      this.connection.destroy(error); // a head is out: the body cannot be finished honestly
      return;
    }
    this.reject(500, 'the request handler failed');
  }

  /** Answers `status` (unless a response is under way), then closes: nothing more is read. */
  private reject(status: number, message: string): void {
    // A handler reading a streamed body learns why it ends: the parse error, not a departed client.
    this.body?.fail(new HttpParseError(status, message));
    this.closing = true;
    this.stopped = true;
    this.lastActivity = Infinity;
    this.parser.pause();
    const connection = this.connection;
    if (connection.writableEnded) return;
    if (this.current === null || !this.current.sent) {
      const reason = STATUS_CODES[status] ?? 'Bad Request';
      const body = `${status} ${reason}: ${message}\n`;
      connection.write(Buffer.from(`HTTP/1.1 ${status} ${reason}\r\nContent-Type: text/plain\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`, 'latin1'));
    }
    connection.end();
  }
}
