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
 *
 * Clocks (request-clock.ts): the headers, request and keep-alive timeouts,
 * as Node's http keeps them.
 * Closing (a closing response, a rejected request, a body left unread):
 * the response goes out, the write side shuts, and what the client still
 * sends is read and dropped for at most LINGER_MS (RFC 9112 9.6), so the
 * client reads the response instead of a reset.
 */
import { STATUS_CODES } from 'node:http';
import { coreOf } from '../core.js';
import type { Connection } from '../connection.js';
import { asError } from '../errors.js';
import { callSafely, isThenable } from '../safe-call.js';
import type { ResolvedHttpLimits } from './limits.js';
import { HttpParseError, RequestParser } from './parser.js';
import type { HttpRequest } from './request.js';
import { HttpResponse, type ResponseOwner } from './response.js';
import { BodyStream, type BodyProducer } from './body-stream.js';
import { CLOCK_REQUEST, CLOCK_STOPPED, CLOCK_WAITING, RequestClock, type ClockOwner, type ClockSettings } from './request-clock.js';

/** What a request handler is: it answers through `response`, now or later (a returned promise is watched). */
export type HttpHandler = (request: HttpRequest, response: HttpResponse) => void | Promise<void>;

/** What every exchange of one server shares. */
export interface ExchangeSettings extends ClockSettings {
  readonly handler: HttpHandler;
  readonly limits: ResolvedHttpLimits;
  readonly streamBodies: boolean;
  readonly allowHalfOpen: boolean;
  readonly onError: ((error: Error, request: HttpRequest) => void) | undefined;
}

const CONTINUE = Buffer.from('HTTP/1.1 100 Continue\r\n\r\n');
/**
 * Milliseconds a closing connection keeps reading (and dropping) what the
 * client still sends after the response, before it is closed anyway: a
 * client still sending a body it was refused would otherwise be reset
 * before it reads the refusal (RFC 9112 9.6, "lingering close").
 */
export const LINGER_MS = 2000;


export class HttpExchange implements ResponseOwner, BodyProducer, ClockOwner {
  readonly parser: RequestParser;
  /** The headers, request and keep-alive timeouts (the reactor's idle sweep checks it). */
  readonly clock: RequestClock;
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
  /** close() of the server came while a request was in progress: it is read to its end and answered, nothing after it. */
  private lastRequest: boolean;
  /** Bounds a lingering close (null: not lingering). */
  private lingerTimer: NodeJS.Timeout | null;
  /** A response completed before its request's body: the rest is dropped as it comes, for LINGER_MS at most, then the connection closes. */
  private abandoned: NodeJS.Timeout | null;
  private readonly onAbandonedTooLong: () => void;

  constructor(connection: Connection, settings: ExchangeSettings) {
    this.connection = connection;
    this.settings = settings;
    this.lastRequest = false;
    this.lingerTimer = null;
    this.abandoned = null;
    this.onAbandonedTooLong = (): void => {
      this.abandoned = null;
      if (this.body !== null && !this.stopped) this.shutDown();
    };
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
    this.clock = new RequestClock(settings, this);
  }

  /** ClockOwner: the reactor's clock (a late response resumes the parser outside a turn). */
  now(): number {
    return coreOf(this.connection.reactor).clock();
  }

  /** ClockOwner: a head is arriving, or no request has begun. */
  get inHead(): boolean {
    return this.parser.inHead || this.parser.idle;
  }

  /** ClockOwner: a timeout passed: a waiting connection closes quietly (a FIN, as Node's keepAliveTimeout), a request gets 408. */
  clockExpired(waiting: boolean, message: string): void {
    if (this.stopped || this.closing) return;
    if (waiting) this.shutDown();
    else this.reject(408, message);
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

  private stopAbandonTimer(): void {
    if (this.abandoned === null) return;
    clearTimeout(this.abandoned);
    this.abandoned = null;
  }

  /** After the parser ran: what the clock should time now. */
  private watchRequest(): void {
    const parser = this.parser;
    if (this.stopped || this.pausedForBody) this.clock.watch(CLOCK_STOPPED);
    else if (parser.inRequest) this.clock.watch(CLOCK_REQUEST);
    else if (this.current === null && !this.closing && parser.idle) this.clock.watch(CLOCK_WAITING);
    else this.clock.watch(CLOCK_STOPPED);
  }

  /**
   * Nothing more is parsed: the connection ends after what is queued and
   * lingers (reading and dropping) so the peer's FIN is seen and a client
   * still sending reads the response rather than a reset.
   */
  private shutDown(): void {
    this.closing = true;
    this.stopped = true;
    this.clock.stop();
    this.parser.pause();
    this.resumeReading();
    this.linger();
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
    // Answered before its body was read: the rest is parsed and dropped, so
    // the next request can follow. A body not complete within LINGER_MS is
    // not waited for (a client may never finish it): the connection closes,
    // as node-server's does, where it would otherwise stay open for ever.
    if (this.body !== null) {
      this.body.discard();
      if (this.abandoned === null) {
        this.abandoned = setTimeout(this.onAbandonedTooLong, LINGER_MS);
        this.abandoned.unref();
      }
    }
    if (!keepAlive) {
      this.shutDown(); // Connection: close (or HTTP/1.0): nothing after this request is parsed
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

  /**
   * Ends the connection (after what is queued) and keeps reading, dropping
   * what arrives, until the client's FIN or LINGER_MS: a client still
   * sending reads the response instead of a reset.
   */
  private linger(): void {
    if (this.pausedForBody) {
      this.pausedForBody = false;
      this.connection.resume();
    }
    this.connection.end();
    if (this.lingerTimer !== null || !this.connection.isOpen) return;
    this.lingerTimer = setTimeout(() => this.connection.destroy(), LINGER_MS);
    this.lingerTimer.unref();
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
    if (this.lingerTimer !== null) clearTimeout(this.lingerTimer);
    this.lingerTimer = null;
    this.stopAbandonTimer();
    const response = this.current;
    const request = this.currentRequest;
    this.current = null;
    this.currentRequest = null;
    if (request !== null && response !== null && !response.finished) request.abort();
    response?.closed();
  }

  /**
   * The server is closing: answer every request already read (including
   * pipelined ones the parser holds), then end. A request whose head has
   * come is read to its end first (its body may still be arriving); a
   * connection with nothing in progress ends now.
   */
  serverClosing(): void {
    this.closing = true;
    if (this.body !== null || (this.parser.inRequest && !this.parser.inHead)) {
      // The rest of this request is read and it is answered; nothing after it (onRequest, bodyEnded).
      this.lastRequest = true;
      this.current?.closeAfter();
      return;
    }
    // Bytes that still reach feed() (a hang-up is read even when paused) are
    // ignored, and the request clock stops: the close has its own timeout.
    this.stopped = true;
    this.clock.stop();
    this.connection.pause();
    this.endIfDone();
  }

  private endIfDone(): void {
    if (this.closing && !this.feeding && this.current === null && !this.lastRequest && this.connection.isOpen) this.connection.end();
  }

  /** The request that was in progress when the server began closing is in: nothing more is read. */
  private lastRequestIn(): void {
    if (!this.lastRequest) return;
    this.lastRequest = false;
    this.stopped = true;
    this.connection.pause();
  }

  private onRequest(request: HttpRequest): void {
    // This request is complete: the clock restarts for the next one (watchRequest, after the parser returns).
    this.clock.stop();
    // The last request before the server's close (it was arriving then): its answer says so (Connection: close).
    const keepAlive = request.keepAlive && !this.lastRequest;
    let response = this.spareResponse;
    if (response === null) {
      response = new HttpResponse(this, this.connection, request.versionMinor, keepAlive, request.method === 'HEAD');
    } else {
      this.spareResponse = null;
      response.reuse(request.versionMinor, keepAlive, request.method === 'HEAD');
    }
    this.current = response;
    this.currentRequest = request;
    if (request.hasBody) {
      this.body = new BodyStream(this);
      request.stream = this.body;
    } else {
      this.lastRequestIn();
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
    this.stopAbandonTimer();
    this.lastRequestIn();
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
    this.lastRequest = false;
    const connection = this.connection;
    if (connection.writableEnded) {
      this.closing = true;
      this.stopped = true;
      this.clock.stop();
      this.parser.pause();
      return;
    }
    // A request already answered whose body is still parsed (and dropped) gets no second answer.
    if (this.abandoned === null && (this.current === null || !this.current.sent)) {
      const reason = STATUS_CODES[status] ?? 'Bad Request';
      const body = `${status} ${reason}: ${message}\n`;
      connection.write(Buffer.from(`HTTP/1.1 ${status} ${reason}\r\nContent-Type: text/plain\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`, 'latin1'));
    }
    this.shutDown();
  }
}
