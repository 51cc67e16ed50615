#!/usr/bin/env node
// npm run test:uring: the reactor, HTTP, fetch, WebSocket and reliability suites again,
// on the io_uring backend: ZEPOLL_BACKEND=io_uring makes it the default of
// every reactor made without `backend` or `mode` (tests that name a mode
// stay on epoll: they test that mode). Coverage is the first run's job.
// Where io_uring cannot serve, it says why and runs nothing.
import { spawnSync } from 'node:child_process';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const { ioUringSupport } = await import(resolve(root, 'packages', 'reactor', 'dist', 'index.js'));
const support = ioUringSupport();
if (!support.available) {
  process.stdout.write(`test:uring: skipped, io_uring is unavailable here (${support.code}): ${support.reason}\n`);
  process.exit(0);
}
const suites = process.argv.length > 2 ? process.argv.slice(2) : ['test/reactor', 'test/http', 'test/fetch', 'test/ws', 'test/reliability'];
process.stdout.write(`test:uring: ${suites.join(' ')} on the io_uring backend\n`);
const result = spawnSync('npx', ['tap', '--disable-coverage', ...suites], { cwd: root, stdio: 'inherit', env: { ...process.env, ZEPOLL_BACKEND: 'io_uring' } });
process.exit(result.status ?? 1);
