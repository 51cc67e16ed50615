/**
 * The one timer of an HTTP connection that is letting a client finish
 * sending (RFC 9112 9.6). It bounds one of two waits, never both:
 *
 * - body: a response completed before its request's body, which is read
 *   and dropped so the next request can follow; a client may never finish
 *   it, so after LINGER_MS the exchange closes the connection (as
 *   node-server's does) instead of keeping it open for ever;
 * - linger: the connection is ending (its write side shuts after the
 *   response), and what the client still sends is read and dropped until
 *   its FIN, for LINGER_MS at most, then the connection is destroyed: a
 *   client still sending reads the response rather than a reset.
 *
 * One deadline serves both because they follow each other: a body's
 * deadline that passes ends the connection (so the linger begins), and a
 * connection that begins to linger has stopped parsing, so the body's
 * deadline, had it been kept, could only have found it closing already.
 */
import type { Connection } from '../connection.js';

/**
 * Milliseconds a closing connection keeps reading (and dropping) what the
 * client still sends after the response, before it is closed anyway: a
 * client still sending a body it was refused would otherwise be reset
 * before it reads the refusal (RFC 9112 9.6, "lingering close"). An
 * abandoned body is given as long.
 */
export const LINGER_MS = 2000;

/** What the deadline bounds: nothing, an abandoned body being dropped, or a lingering close. */
const BOUNDS_NOTHING = 0;
const BOUNDS_BODY = 1;
const BOUNDS_LINGER = 2;
type Bounds = typeof BOUNDS_NOTHING | typeof BOUNDS_BODY | typeof BOUNDS_LINGER;

/** What the deadline tells its exchange when a body's deadline passes (a linger's ends in a destroy). */
export interface DeadlineOwner {
  /** An abandoned body did not end within LINGER_MS. */
  bodyDeadlinePassed(): void;
}

/** A connection's closing deadline (see above); one per exchange, its timer unref'd (it keeps no process alive). */
export class CloseDeadline {
  private bounds: Bounds;
  private timer: NodeJS.Timeout | null;
  private readonly connection: Connection;
  private readonly owner: DeadlineOwner;
  /** The timer's callback, made once per connection rather than once per deadline. */
  private readonly onTimeout: () => void;

  /** No deadline yet; `connection` is destroyed when a linger's passes, `owner` told when a body's does. */
  constructor(connection: Connection, owner: DeadlineOwner) {
    this.bounds = BOUNDS_NOTHING;
    this.timer = null;
    this.connection = connection;
    this.owner = owner;
    this.onTimeout = (): void => this.passed();
  }

  /** An abandoned body is being dropped: its request was answered already, so an error in it gets no second answer. */
  get droppingBody(): boolean {
    return this.bounds === BOUNDS_BODY;
  }

  /** A response completed before its request's body: the body gets LINGER_MS to end (a running deadline stays as it is). */
  dropBody(): void {
    if (this.bounds === BOUNDS_NOTHING) this.arm(BOUNDS_BODY);
  }

  /** The body ended: its deadline is off (a linger's stays). */
  bodyEnded(): void {
    if (this.bounds === BOUNDS_BODY) this.cancel();
  }

  /**
   * The connection (still open) began to end: LINGER_MS for the client's
   * FIN, in place of a body's deadline. Once per connection: a deadline
   * that passed is not armed again.
   */
  linger(): void {
    if (this.bounds === BOUNDS_LINGER) return;
    this.cancel();
    this.arm(BOUNDS_LINGER);
  }

  /** No deadline any more (the connection closed). */
  cancel(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    this.bounds = BOUNDS_NOTHING;
  }

  private arm(bounds: Bounds): void {
    this.bounds = bounds;
    this.timer = setTimeout(this.onTimeout, LINGER_MS);
    this.timer.unref();
  }

  private passed(): void {
    this.timer = null;
    if (this.bounds === BOUNDS_LINGER) {
      this.connection.destroy(); // no FIN in time; bounds stay BOUNDS_LINGER until cancel(): the linger is not armed again
      return;
    }
    this.bounds = BOUNDS_NOTHING;
    this.owner.bodyDeadlinePassed();
  }
}
