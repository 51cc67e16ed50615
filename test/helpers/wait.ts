/** Waiting for an event rather than for time: polls `condition`, bounded. */
const POLL_MS = 5;
const WAIT_MS_MAX = 10_000;

export interface UntilOptions {
  /** Between two checks (POLL_MS unless given): a costly condition, such as a read of /proc or a request, asks less often. */
  readonly pollMs?: number;
}

/**
 * Resolves once `condition()` holds; throws naming `what` after WAIT_MS_MAX
 * of polling. A condition may be async (an attempt, such as a request): each
 * check is awaited before the next.
 */
export async function until(condition: () => boolean | Promise<boolean>, what: string, options: UntilOptions = {}): Promise<void> {
  const pollMs = options.pollMs ?? POLL_MS;
  if (!(pollMs > 0 && pollMs <= WAIT_MS_MAX)) throw new RangeError(`until: pollMs must be in (0, ${WAIT_MS_MAX}], got ${pollMs}`);
  for (let waited = 0; ; waited += pollMs) {
    if (await condition()) return;
    if (waited >= WAIT_MS_MAX) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, pollMs));
  }
}
