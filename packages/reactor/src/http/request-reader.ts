/**
 * A connection's requests as they are read: what arrives goes through the
 * parser, which hands requests (and streamed body parts) to the exchange,
 * and reading pauses while nothing should be read: a response is pending
 * (the parser keeps the next pipelined request), or the handler reads a
 * streamed body slower than it arrives. What a parse error or the end of
 * a run means for the connection is the exchange's (ReaderOwner).
 *
 * A reader is what a connection needs while a request is in progress:
 * the parser, the head it reads into, and the request and response
 * objects given back by the reuse rule. Between requests it goes back to
 * its server's pool (reader-pool.ts) and the next connection with bytes
 * takes it (attach()), so an idle keep-alive connection holds none.
 */
import { coreOf } from '../core.js';
import type { Connection } from '../connection.js';
import type { BodyProducer } from './body-stream.js';
import type { ResolvedHttpLimits } from './limits.js';
import { HttpParseError, RequestParser } from './parser.js';
import type { ParserCallbacks } from './parser-callbacks.js';
import type { HttpRequest } from './request.js';
import type { HttpResponse } from './response.js';

/** What the reader tells its exchange. */
export interface ReaderOwner {
  /** Nothing more is parsed (a closing connection, a rejected request): a body reader catching up resumes nothing. */
  readonly stopped: boolean;
  /** The parser refused a request: answer `status` with `message`, then close. */
  parseFailed(status: number, message: string): void;
  /** A run of the parser is over (the outermost, when a callback ran the parser again). */
  parsed(): void;
}

/** One connection's parser and the reasons its reading is paused (see above). */
export class RequestReader implements BodyProducer {
  /** The connection's parser. */
  readonly parser: RequestParser;
  /**
   * A response given back by the reuse rule with the parser's spare
   * request: the next request's, on whichever connection has this reader then.
   */
  spareResponse: HttpResponse | null;
  private connection: Connection;
  private owner: ReaderOwner;
  /** Inside the parser: requests it hands out must not end the connection under it. */
  private feeding: boolean;
  /** Reading is paused while a response is answered later (the parser holds the rest). */
  private pausedForResponse: boolean;
  /** Reading is paused because the handler reads a streamed body slower than it arrives. */
  private pausedForBody: boolean;

  /** Reads `connection`'s requests into `callbacks` (the exchange's), under `limits`. */
  constructor(connection: Connection, callbacks: ParserCallbacks, limits: ResolvedHttpLimits, owner: ReaderOwner) {
    this.parser = new RequestParser(callbacks, limits);
    this.spareResponse = null;
    this.connection = connection;
    this.owner = owner;
    this.feeding = false;
    this.pausedForResponse = false;
    this.pausedForBody = false;
  }

  /**
   * Reads for `connection` from now on: a resting reader (see there) taken
   * from the server's pool. The parser, its head and the objects to reuse
   * come as they are.
   */
  attach(connection: Connection, callbacks: ParserCallbacks, owner: ReaderOwner): void {
    this.connection = connection;
    this.owner = owner;
    this.parser.rebind(callbacks);
  }

  /** Between requests, nothing kept, nothing paused, not inside the parser: it may serve another connection. */
  get resting(): boolean {
    return !this.feeding && !this.pausedForResponse && !this.pausedForBody && this.parser.resting;
  }

  /** The handler is done with `request` and `response` (the reuse rule): the next request is written into them. */
  recycle(request: HttpRequest, response: HttpResponse): void {
    this.parser.recycle(request);
    this.spareResponse = response;
  }

  /** The parser is running: the exchange must not end the connection under it. */
  get inParser(): boolean {
    return this.feeding;
  }

  /** Reading waits for the handler to read on in a streamed body. */
  get behindOnBody(): boolean {
    return this.pausedForBody;
  }

  /**
   * Runs the parser on data[0..length), or resumes it with what it kept
   * (null): no closure per call, this runs for every read and every
   * response. The owner hears of a parse error, and of the end of the run.
   */
  run(data: Uint8Array | null, length = 0): void {
    const outer = !this.feeding;
    this.feeding = true;
    try {
      if (data === null) this.parser.resume();
      else this.parser.execute(data, length);
    } catch (error) {
      if (!(error instanceof HttpParseError)) throw error;
      this.owner.parseFailed(error.status, error.message);
    } finally {
      if (outer) this.feeding = false;
    }
    if (outer) this.owner.parsed();
  }

  /**
   * Runs the parser on what it kept, from outside a turn (inside end() of
   * a response, or a streamed body's read): the next pipelined request's
   * handler may throw, called from a timer, a promise or another
   * connection, so the error must not surface there. This connection
   * goes, as in a turn.
   */
  parseKept(): void {
    try {
      this.run(null);
    } catch (error) {
      coreOf(this.connection.reactor).failOwner(this.connection, error);
    }
  }

  /**
   * Answered later: the parser holds the next pipelined request, and
   * reading stops, so a client cannot pile up bytes behind a slow answer;
   * a `closing` connection reads on (to see the client's FIN).
   */
  waitForResponse(closing: boolean): void {
    this.parser.pause();
    if (!closing && !this.pausedForResponse) {
      this.pausedForResponse = true;
      this.connection.pause();
    }
  }

  /** The response came: reading paused for it resumes. */
  resumeReading(): void {
    if (!this.pausedForResponse) return;
    this.pausedForResponse = false;
    this.connection.resume();
  }

  /**
   * The connection is closing: nothing more is parsed, and reading paused
   * for a response or a body resumes, so what the client still sends is
   * read (and dropped) and its FIN is seen.
   */
  stopForClose(): void {
    this.parser.pause();
    this.resumeReading();
    if (this.pausedForBody) {
      this.pausedForBody = false;
      this.connection.resume();
    }
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
    if (this.owner.stopped) return;
    this.connection.resume();
    this.parseKept();
  }
}
