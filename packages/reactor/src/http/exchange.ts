/**
 * One HTTP connection's state: the response being answered, a streamed
 * request body, the handler boundary, and how the connection ends; its
 * parser and the pauses of its reading are in request-reader.ts.
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
 * client reads the response instead of a reset (close-deadline.ts).
 */
import { coreOf } from '../core.js';
import type { Connection, ConnectionHandler } from '../connection.js';
import { asError, ZepollError } from '../errors.js';
import { ON_BYTES, type BytesReceiver } from '../handler.js';
import { watch } from '../registration.js';
import { isThenable } from '../safe-call.js';
import { reportHandlerError, type ExchangeSettings } from './handler.js';
import { HttpParseError, type ParserCallbacks } from './parser.js';
import type { RequestReader, ReaderOwner } from './request-reader.js';
import type { HttpRequest } from './request.js';
import { HttpResponse, type ResponseOwner } from './response.js';
import { BodyStream } from './body-stream.js';
import { CLOCK_REQUEST, CLOCK_STOPPED, CLOCK_WAITING, RequestClock, type ClockOwner } from './request-clock.js';
import { CloseDeadline, type DeadlineOwner } from './close-deadline.js';
import { CONTINUE, errorAnswer } from './response-wire.js';

/**
 * One connection's HTTP: what server.ts's handlers call for its events,
 * and the owner its reader, responses, clock and closing deadline report to.
 */
export class HttpExchange implements ResponseOwner, ReaderOwner, ClockOwner, DeadlineOwner, ParserCallbacks {
  /**
   * The parser and the pauses of reading: taken from the server's pool
   * when bytes arrive, given back between requests (restIfIdle()), so an
   * idle connection holds none. Whatever follows a request (a response, a
   * body, a run of the parser) finds it there; only what can come first
   * (the clock, the server's close, a timeout) checks for null.
   */
  private reader: RequestReader | null;
  /** The headers, request and keep-alive timeouts (the reactor's idle sweep checks it). */
  readonly clock: RequestClock;
  /** The response being answered (one at a time: requests are answered in order), or null. */
  current: HttpResponse | null;
  /** The request `current` answers. */
  private currentRequest: HttpRequest | null;
  /** No request after the ones already received (client ended, or Connection: close). */
  closing: boolean;
  /** Nothing more is parsed: input that still arrives is ignored (after a parse error, a closing response, the server's close). */
  stopped: boolean;
  /** The body of the current request still arrives (streaming). */
  protected body: BodyStream | null;
  private readonly connection: Connection;
  private readonly settings: ExchangeSettings;
  /** close() of the server came while a request was in progress: it is read to its end and answered, nothing after it. */
  private lastRequest: boolean;
  /** Bounds a body dropped after its response, then a lingering close: made when first armed (most connections never need it). */
  private deadline: CloseDeadline | null;
  /** The handler a 101 gave the connection to, until the bytes read past the request are passed to it; then null again. */
  private switchedTo: ConnectionHandler | null;

  constructor(connection: Connection, settings: ExchangeSettings) {
    this.connection = connection;
    this.settings = settings;
    this.lastRequest = false;
    this.deadline = null;
    this.current = null;
    this.currentRequest = null;
    this.closing = false;
    this.stopped = false;
    this.body = null;
    this.reader = null;
    this.switchedTo = null;
    this.clock = new RequestClock(settings, this);
  }

  /** ClockOwner: the reactor's clock (a late response resumes the parser outside a turn). */
  now(): number {
    return coreOf(this.connection.reactor).clock();
  }

  /** ClockOwner: a head is arriving, or no request has begun. */
  get inHead(): boolean {
    const parser = this.reader?.parser;
    return parser === undefined || parser.inHead || parser.idle;
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
    // The exchange is its parser's callbacks (prototype methods: no closures per connection).
    (this.reader ??= this.settings.readers.take(this.connection, this, this)).run(data, length);
  }

  /** ReaderOwner: the parser refused the request. */
  parseFailed(status: number, message: string): void {
    this.reject(status, message);
  }

  /** ReaderOwner: after the parser ran, the clock times what is now awaited, and a closing connection with nothing left to do ends. */
  parsed(): void {
    if (this.switchedTo !== null) {
      this.passOver();
      return;
    }
    this.watchRequest();
    this.endIfDone();
    this.restIfIdle();
  }

  /**
   * Between requests, with nothing pending, the reader (parser, head, the
   * objects to reuse) goes back to the server's pool: a keep-alive
   * connection waiting for its next request holds none.
   */
  private restIfIdle(): void {
    const reader = this.reader!;
    if (!reader.resting || this.current !== null || this.body !== null || this.closing || this.stopped || this.lastRequest || !this.connection.isOpen) return;
    this.reader = null;
    this.settings.readers.give(reader);
  }

  /** After the parser ran: what the clock should time now. */
  private watchRequest(): void {
    const reader = this.reader!;
    const parser = reader.parser;
    if (this.stopped || reader.behindOnBody) this.clock.watch(CLOCK_STOPPED);
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
    this.reader?.stopForClose();
    this.connection.end();
    if (this.connection.isOpen) this.closeDeadline().linger(); // reads (and drops) until the client's FIN, for LINGER_MS at most
  }

  /** ResponseOwner: a callback the handler gave the response (onDrain, onClose) threw or rejected: as the handler failing. */
  callbackFailed(response: HttpResponse, error: unknown): void {
    const request = response === this.current ? this.currentRequest : null;
    if (request !== null) {
      this.handlerFailed(error, request, response);
      return;
    }
    coreOf(this.connection.reactor).reportUnhandled(error, false); // the response is done with: nothing left to answer
  }

  /** ResponseOwner: a switch of protocols needs the request read in full (a streamed body may still arrive). */
  checkSwitch(_response: HttpResponse): void {
    if (this.body !== null) throw new ZepollError('ERR_ZEPOLL_HTTP_RESPONSE', "switchProtocols() needs the request's body read in full");
  }

  /**
   * ResponseOwner: a 101 went out: the HTTP layer lets go (no clock, no
   * parsing) and `handler` takes the connection. The bytes the parser kept
   * past the request go to it once the parser is out of the current read
   * (parsed()), so they come before anything read later.
   */
  switched(response: HttpResponse, handler: ConnectionHandler): void {
    this.current = null;
    this.currentRequest = null;
    this.stopped = true;
    this.clock.stop();
    coreOf(this.connection.reactor).untrackIdle(this.clock);
    response.closed();
    const reader = this.reader!;
    this.settings.readers.lose(); // the reader goes with this exchange (no onClose of ours follows)
    reader.parser.pause(); // the rest of the read being parsed is kept, not parsed as HTTP
    this.switchedTo = handler;
    this.connection.handOver(handler);
    if (!reader.inParser) this.passOver();
  }

  /** The bytes read past the switching request go to the new handler (a throw fails the connection), and reading resumes. */
  private passOver(): void {
    const handler = this.switchedTo!;
    this.switchedTo = null;
    const reader = this.reader!;
    const rest = reader.parser.takeSaved();
    const connection = this.connection;
    if (!connection.isOpen) return;
    reader.resumeReading();
    if (rest === null) return;
    const receive = (handler as ConnectionHandler & Partial<BytesReceiver>)[ON_BYTES];
    try {
      if (receive !== undefined) receive.call(handler, connection, rest, rest.length);
      else watch(connection, handler.onData?.(connection, rest));
    } catch (error) {
      coreOf(connection.reactor).failOwner(connection, error);
    }
  }

  /** ResponseOwner: `response` is complete; the next request, if any and allowed, is parsed now. */
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
      this.closeDeadline().dropBody();
    }
    if (!keepAlive) {
      this.shutDown(); // Connection: close (or HTTP/1.0): nothing after this request is parsed
      return;
    }
    const reader = this.reader!;
    if (!this.closing) reader.resumeReading();
    reader.parseKept();
  }

  /** The closing deadline, made the first time one is armed. */
  private closeDeadline(): CloseDeadline {
    return (this.deadline ??= new CloseDeadline(this.connection, this));
  }

  /** DeadlineOwner: a body dropped after its response did not end in time: the connection closes. */
  bodyDeadlinePassed(): void {
    if (this.body !== null && !this.stopped) this.shutDown();
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
    this.deadline?.cancel();
    if (this.reader !== null) this.settings.readers.lose(); // its state is a request's: it goes with this exchange
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
    const parser = this.reader?.parser;
    if (this.body !== null || (parser !== undefined && parser.inRequest && !parser.inHead)) {
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
    if (this.closing && !(this.reader?.inParser ?? false) && this.current === null && !this.lastRequest && this.connection.isOpen) this.connection.end();
  }

  /** The request that was in progress when the server began closing is in: nothing more is read. */
  private lastRequestIn(): void {
    if (!this.lastRequest) return;
    this.lastRequest = false;
    this.stopped = true;
    this.connection.pause();
  }

  /** ParserCallbacks: a complete request (its head, when bodies stream): the handler runs. */
  onRequest(request: HttpRequest): void {
    // This request is complete: the clock restarts for the next one (watchRequest, after the parser returns).
    this.clock.stop();
    // The last request before the server's close (it was arriving then): its answer says so (Connection: close).
    const keepAlive = request.keepAlive && !this.lastRequest;
    const reader = this.reader!;
    let response = reader.spareResponse;
    if (response === null) {
      response = new HttpResponse(this, this.connection, request.versionMinor, keepAlive, request.method === 'HEAD');
    } else {
      reader.spareResponse = null;
      response.reuse(this, this.connection, request.versionMinor, keepAlive, request.method === 'HEAD');
    }
    this.current = response;
    this.currentRequest = request;
    if (request.hasBody) {
      this.body = new BodyStream(reader);
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
      // a next request is written into them (this connection's, or another's).
      reader.recycle(request, response);
      return;
    }
    if (!response.finished && this.current === response && !request.hasBody) reader.waitForResponse(this.closing);
  }

  /** ParserCallbacks: the client asked to be told to send its body (`Expect: 100-continue`). */
  onContinue(): void {
    this.connection.write(CONTINUE);
  }

  /** A streamed body is complete; a response still pending now holds the next request back. */
  protected bodyEnded(): void {
    const body = this.body;
    this.body = null;
    this.deadline?.bodyEnded();
    this.lastRequestIn();
    body?.end();
    if (this.current !== null && !this.current.finished) this.reader!.waitForResponse(this.closing);
  }

  /**
   * The handler threw, or its promise rejected: reported and counted; a
   * 500 when nothing was sent (then close), else the connection goes.
   */
  private handlerFailed(thrown: unknown, request: HttpRequest, response: HttpResponse): void {
    const error = asError(thrown);
    reportHandlerError(this.connection, this.settings.onError, error, request);
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
      this.reader?.parser.pause();
      return;
    }
    // A request already answered whose body is still parsed (and dropped) gets no second answer.
    if (this.deadline?.droppingBody !== true && (this.current === null || !this.current.sent)) connection.write(errorAnswer(status, message));
    this.shutDown();
  }
}
