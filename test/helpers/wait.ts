/** Waiting for an event rather than for time: polls `condition`, bounded. */
const POLL_MS = 5;
const WAIT_MS_MAX = 10_000;

/** Resolves once `condition()` holds; throws naming `what` after WAIT_MS_MAX. */
export async function until(condition: () => boolean, what: string): Promise<void> {
  for (let waited = 0; waited < WAIT_MS_MAX && !condition(); waited += POLL_MS) await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  if (!condition()) throw new Error(`timed out waiting for ${what}`);
}
