/**
 * Fuzzing the native binding: 100 000 calls of every exported function and
 * poller method with random arguments (edge values of the right type, and
 * wrong types: strings, objects, BigInt, symbols, detached and mistyped
 * typed arrays, extra and missing arguments), in a child process whose exit
 * status and signal are checked. Every call must return a number (or its
 * documented result) or throw a TypeError/RangeError/Error with a known
 * code; the process must not crash. Two seeds, so a run is reproducible.
 */
import t from 'tap';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runFixture } from '../helpers/child.js';
import { trackFds } from '../helpers/fds.js';

const CALLS_PER_SEED = 50_000;
const SEEDS = [20261126, 7];

for (const seed of SEEDS) {
  t.test(`${CALLS_PER_SEED} random calls, seed ${seed}: no crash, only numbers or coded errors`, async (t) => {
    const fds = trackFds();
    const directory = mkdtempSync(join(tmpdir(), 'zepoll-fuzz-'));
    const out = join(directory, 'summary.json');
    try {
      const result = await runFixture('fuzz-binding.cjs', { args: [String(CALLS_PER_SEED), String(seed), out], timeoutMs: 120_000 });
      t.equal(result.signal, null, 'no signal (no crash)');
      t.equal(result.code, 0, result.stderr.slice(0, 2000));
      const summary = JSON.parse(readFileSync(out, 'utf8')) as { calls: number; returned: number; thrown: Record<string, number>; violations: string[] };
      t.equal(summary.calls, CALLS_PER_SEED);
      t.same(summary.violations.slice(0, 20), [], 'every throw was a TypeError/RangeError/Error with a known code');
      t.ok(summary.returned > CALLS_PER_SEED / 10, `${summary.returned} calls returned a value`);
      t.ok(Object.keys(summary.thrown).length >= 3, `errors thrown: ${JSON.stringify(summary.thrown)}`);
    } finally {
      rmSync(directory, { recursive: true, force: true });
    }
    await fds.assertNoneSettled(t); // the child's pipes closed with it
  });
}
