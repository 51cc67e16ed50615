#!/usr/bin/env node
// npm run test:stress: the tap suite on a busy machine. One CPU-burning
// process per core, at normal priority, runs for as long as the suite does
// (and stops by itself after BURN_MS_MAX if this script dies first); the
// suite runs `--runs N` times in a row (default 2) and must pass every time.
// A test that depends on timing rather than on events shows up here.
//
//   node scripts/test-stress.mjs [--runs N] [tap args...]
import { spawn } from 'node:child_process';
import { availableParallelism } from 'node:os';

const BURN_MS_MAX = 30 * 60 * 1000;
const args = process.argv.slice(2);
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

function runSuite(index) {
  return new Promise((resolve) => {
    process.stdout.write(`test:stress: run ${index + 1} of ${runs}, ${burners.length} busy processes beside it\n`);
    const tap = spawn('npx', ['tap', ...args], { stdio: 'inherit' });
    tap.on('close', (code, signal) => resolve(code ?? (signal === null ? 1 : 128)));
  });
}

let failed = 0;
for (let index = 0; index < runs; index += 1) {
  const code = await runSuite(index);
  process.stdout.write(`test:stress: run ${index + 1} ${code === 0 ? 'passed' : `FAILED (exit ${code})`}\n`);
  if (code !== 0) failed += 1;
}
stopBurners();
process.stdout.write(`test:stress: ${runs - failed} passed, ${failed} failed\n`);
process.exit(failed === 0 ? 0 : 1);
