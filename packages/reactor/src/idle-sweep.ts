/**
 * Idle timeouts, checked by one sweep per reactor rather than a timer per
 * connection: the sweep runs at least every quarter of the shortest timeout
 * it serves (never more often than IDLE_SWEEP_MS_MIN), so a timeout fires
 * at its floor, never early, and at most a quarter late.
 */

/** How often idle timeouts are checked, at most; a timeout fires at its floor, never early. */
export const IDLE_SWEEP_MS_MIN = 10;

/** Something with an idle deadline, checked by the reactor's sweep. */
export interface IdleTracked {
  readonly idleTimeoutMs: number;
  lastActivity: number;
  idleExpired(): void;
  /** idleExpired() threw (a handler's onTimeout, say): the owner ends itself. Without it, the error is only counted. */
  expiryFailed?(error: unknown): void;
}

export class IdleSweep {
  private readonly tracked: Set<IdleTracked>;
  private timer: NodeJS.Timeout | null;
  private periodMs: number;
  /** An expiry threw: counted by the reactor (a handler error). */
  private readonly failed: () => void;
  private readonly sweep: () => void;

  constructor(failed: () => void) {
    this.tracked = new Set();
    this.timer = null;
    this.periodMs = Infinity;
    this.failed = failed;
    this.sweep = (): void => this.expire();
  }

  /** Checks `owner` in the sweep, which runs at least every quarter of `shortestTimeoutMs`. */
  track(owner: IdleTracked, shortestTimeoutMs: number): void {
    this.tracked.add(owner);
    const period = Math.max(IDLE_SWEEP_MS_MIN, Math.floor(shortestTimeoutMs / 4));
    if (period < this.periodMs || this.timer === null) {
      this.periodMs = Math.min(period, this.periodMs);
      if (this.timer !== null) clearInterval(this.timer);
      this.timer = setInterval(this.sweep, this.periodMs);
      this.timer.unref(); // a timeout alone never keeps the process alive
    }
  }

  /**
   * The timer stays (unref'd, cleared by stop()): a server of short
   * connections would otherwise make and clear one per connection.
   */
  untrack(owner: IdleTracked): void {
    this.tracked.delete(owner);
  }

  /** The reactor closed: nothing is checked again. */
  stop(): void {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
    this.tracked.clear();
  }

  private expire(): void {
    const now = performance.now();
    for (const owner of this.tracked) {
      if (now - owner.lastActivity < owner.idleTimeoutMs) continue;
      try {
        owner.idleExpired();
      } catch (error) {
        // A timer callback: a throw here would be uncaught and end the process.
        this.failed();
        owner.expiryFailed?.(error);
      }
    }
  }
}
