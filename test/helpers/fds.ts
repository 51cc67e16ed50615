/** Open-fd accounting for leak checks: every test that opens fds compares before and after. */
import { readdirSync, readFileSync } from 'node:fs';
import type { Test } from 'tap';

/** How many fds this process has open now. */
export function openFdCount(): number {
  return readdirSync('/proc/self/fd').length;
}

export interface FdLeakCheck {
  /** Asserts the open fd count is back where it was when the check began. */
  assertNone(t: Test): void;
  /**
   * The same, once Node's own sockets have finished closing (their fds go
   * in a later loop turn): waits up to a bound, then asserts equality.
   */
  assertNoneSettled(t: Test): Promise<void>;
}

/** How long assertNoneSettled waits for closing sockets. */
const SETTLE_MS_MAX = 2000;

/** Records the open fd count now; call `assertNone` once everything is closed. */
export function trackFds(): FdLeakCheck {
  const before = openFdCount();
  return {
    assertNone(t: Test): void {
      t.equal(openFdCount(), before, 'no fd leaked');
    },
    async assertNoneSettled(t: Test): Promise<void> {
      for (let waited = 0; waited < SETTLE_MS_MAX && openFdCount() !== before; waited += 10) await new Promise((resolve) => setTimeout(resolve, 10));
      t.equal(openFdCount(), before, 'no fd leaked');
    },
  };
}

/** This process's soft limit on open files (Infinity when unlimited). */
export function softFdLimit(): number {
  const line = readFileSync('/proc/self/limits', 'utf8').split('\n').find((text) => text.startsWith('Max open files'));
  const value = line?.split(/\s+/)[3];
  return value === undefined || value === 'unlimited' ? Infinity : Number(value);
}
