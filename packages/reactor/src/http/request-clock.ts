/**
 * One HTTP connection's clock, as Node's http keeps it: a new connection
 * has the headers timeout from its first turn (a client that never sends
 * is not kept), a request the headers and request timeouts from its first
 * byte, and a connection waiting between requests the keep-alive timeout.
 * The reactor's idle sweep checks it (IdleTracked); the exchange says
 * what the connection is doing after each run of its parser (watch).
 */
import type { IdleTracked } from '../core.js';

/** The three timeouts of a server, in milliseconds; Infinity when off. */
export interface ClockSettings {
  readonly headersTimeoutMs: number;
  readonly requestTimeoutMs: number;
  readonly keepAliveTimeoutMs: number;
}

/** What the clock reads of its exchange, and tells it when a timeout passes. */
export interface ClockOwner {
  /** The reactor's clock now (the turn's start, or now outside a turn). */
  now(): number;
  /** A request's head is arriving (or none has begun): the headers timeout applies. */
  readonly inHead: boolean;
  /** The clock ran out: `waiting` when the connection was idle between requests. */
  clockExpired(waiting: boolean, message: string): void;
}

/** What the connection is doing after a parser run, for `watch`: nothing to time (a response pending, a body the handler is behind on, closing). */
export const CLOCK_STOPPED = 0;
/** A request is arriving. */
export const CLOCK_REQUEST = 1;
/** Waiting for the next request after a response. */
export const CLOCK_WAITING = 2;
/** One of CLOCK_STOPPED, CLOCK_REQUEST, CLOCK_WAITING. */
export type ClockState = typeof CLOCK_STOPPED | typeof CLOCK_REQUEST | typeof CLOCK_WAITING;

export class RequestClock implements IdleTracked {
  /** When the running timeout began; Infinity: none runs. */
  lastActivity: number;
  /** The connection waits between requests: the keep-alive timeout applies. */
  private waiting: boolean;
  private readonly settings: ClockSettings;
  private readonly owner: ClockOwner;

  constructor(settings: ClockSettings, owner: ClockOwner) {
    this.settings = settings;
    this.owner = owner;
    this.waiting = false;
    this.lastActivity = owner.now(); // a new connection: the headers timeout runs from now
  }

  /** The shortest of the three: how often the reactor's sweep must look. */
  static shortest(settings: ClockSettings): number {
    return Math.min(settings.headersTimeoutMs, settings.requestTimeoutMs, settings.keepAliveTimeoutMs);
  }

  /** The timeout running now (the sweep compares it with now - lastActivity). */
  get idleTimeoutMs(): number {
    const { headersTimeoutMs, requestTimeoutMs, keepAliveTimeoutMs } = this.settings;
    if (this.waiting) return keepAliveTimeoutMs;
    return this.owner.inHead ? Math.min(headersTimeoutMs, requestTimeoutMs) : requestTimeoutMs;
  }

  /** After a parser run: a request keeps (or starts) its clock, a wait starts the keep-alive clock, anything else stops it. */
  watch(state: ClockState): void {
    if (state === CLOCK_REQUEST) {
      if (this.waiting || this.lastActivity === Infinity) this.start(false); // a late response resumes the parser outside a turn
    } else if (state === CLOCK_WAITING) {
      if (!this.waiting) this.start(true);
    } else {
      this.stop();
    }
  }

  /** A request is complete: no clock until the next one begins. */
  stop(): void {
    this.waiting = false;
    this.lastActivity = Infinity;
  }

  /** The reactor's sweep: the running timeout passed. */
  idleExpired(): void {
    if (this.lastActivity === Infinity) return;
    const { headersTimeoutMs, requestTimeoutMs } = this.settings;
    const waiting = this.waiting;
    const inHead = this.owner.inHead && headersTimeoutMs <= requestTimeoutMs;
    this.stop();
    const message = waiting ? 'no request within the keep-alive timeout' : inHead ? `request head not complete within ${headersTimeoutMs} ms` : `request not complete within ${requestTimeoutMs} ms`;
    this.owner.clockExpired(waiting, message);
  }

  private start(waiting: boolean): void {
    this.waiting = waiting;
    this.lastActivity = this.owner.now();
  }
}
