/** Open-fd accounting for leak checks: every test that opens fds compares before and after. */
import { readdirSync } from 'node:fs';
import type { Test } from 'tap';

/** How many fds this process has open now. */
export function openFdCount(): number {
  return readdirSync('/proc/self/fd').length;
}

export interface FdLeakCheck {
  /** Asserts the open fd count is back where it was when the check began. */
  assertNone(t: Test): void;
}

/** Records the open fd count now; call `assertNone` once everything is closed. */
export function trackFds(): FdLeakCheck {
  const before = openFdCount();
  return {
    assertNone(t: Test): void {
      t.equal(openFdCount(), before, 'no fd leaked');
    },
  };
}
