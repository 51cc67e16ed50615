#!/usr/bin/env node
// npm run test:stress: the tap suite on a busy machine, on both backends.
// One CPU-burning process per core, at normal priority, runs for as long as
// the suites do (and stops by itself after BURN_MS_MAX if this script dies
// first); the whole suite runs `--runs N` times in a row (default 2), then
// the io_uring suites (scripts/test-uring.mjs: test/reactor, test/http,
// test/fetch and test/reliability with ZEPOLL_BACKEND=io_uring) N times,
// and every run must pass. A test that depends on timing rather than on
// events shows up here. `--epoll-only` skips the io_uring runs.
//
//   node scripts/test-stress.mjs [--runs N] [--epoll-only] [tap args...]
import { spawn } from 'node:child_process';
import { availableParallelism } from 'node:os';

const BURN_MS_MAX = 60 * 60 * 1000;
const args = process.argv.slice(2);
const epollOnlyAt = args.indexOf('--epoll-only');
const epollOnly = epollOnlyAt !== -1;
if (epollOnly) args.splice(epollOnlyAt, 1);
const runsAt = args.indexOf('--runs');
const runs = runsAt === -1 ? 2 : Number(args.splice(runsAt, 2)[1]);
if (!Number.isInteger(runs) || runs < 1) {
  process.stderr.write('test:stress: --runs takes a positive integer\n');
  process.exit(2);
}

const burners = Array.from({ length: availableParallelism() }, () =>
  spawn(process.execPath, ['-e', `const end = Date.now() + ${BURN_MS_MAX}; let x = 0; while (Date.now() < end) x += Math.sqrt(x + 1);`], { stdio: 'ignore' }),
);
const stopBurners = () => {
  for (const burner of burners) burner.kill('SIGKILL');
};
process.on('exit', stopBurners);
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    stopBurners();
    process.exit(130);
  });
}

/** One run of `command`: its exit code (128 when a signal ended it). */
function run(label, command, commandArgs) {
  return new Promise((resolve) => {
    process.stdout.write(`test:stress: ${label}, ${burners.length} busy processes beside it\n`);
    const child = spawn(command, commandArgs, { stdio: 'inherit' });
    child.on('close', (code, signal) => resolve(code ?? (signal === null ? 1 : 128)));
  });
}

const plan = [];
for (let index = 0; index < runs; index += 1) plan.push([`epoll run ${index + 1} of ${runs}`, 'npx', ['tap', ...args]]);
if (!epollOnly) {
  for (let index = 0; index < runs; index += 1) plan.push([`io_uring run ${index + 1} of ${runs}`, process.execPath, ['scripts/test-uring.mjs']]);
}
let failed = 0;
for (const [label, command, commandArgs] of plan) {
  const code = await run(label, command, commandArgs);
  process.stdout.write(`test:stress: ${label} ${code === 0 ? 'passed' : `FAILED (exit ${code})`}\n`);
  if (code !== 0) failed += 1;
}
stopBurners();
process.stdout.write(`test:stress: ${plan.length - failed} passed, ${failed} failed\n`);
process.exit(failed === 0 ? 0 : 1);
