/**
 * Lifetimes: 1000 pollers and 1000 sockets made and closed leave the fd
 * count unchanged; pollers never closed are closed by their finalizer;
 * a poller works in a worker thread, and a worker torn down with an open,
 * started poller exits cleanly (the env cleanup hook closes it).
 */
import t from 'tap';
import { Worker } from 'node:worker_threads';
import { binding, constants } from '../../packages/reactor/src/native.js';
import { openPoller } from '../../packages/reactor/src/backend/poller.js';
import { listenTcp, socketPair } from '../../packages/reactor/src/backend/sockets.js';
import { openFdCount, trackFds } from '../helpers/fds.js';
import { FIXTURES, runFixture } from '../helpers/child.js';

const ROUNDS = 1000;

t.test('creating and closing 1000 pollers and 1000 sockets leaks no fd', async (t) => {
  const fds = trackFds();
  for (let round = 0; round < ROUNDS; round += 1) {
    const { native: poller } = openPoller(4);
    const [a, b] = socketPair();
    poller.add(a, constants.EPOLLIN, round);
    poller.start(() => {});
    poller.remove(a);
    poller.close();
    binding.close(a);
    binding.close(b);
    const listener = listenTcp({ port: 0 });
    binding.close(listener.fd);
  }
  // The uv handles finish closing on the next loop turn.
  await new Promise((resolve) => setImmediate(resolve));
  fds.assertNone(t);
});

t.test('pollers dropped without close() are closed by their finalizer', async (t) => {
  const result = await runFixture('finalize.cjs', { nodeArgs: ['--expose-gc'] });
  t.equal(result.code, 0, result.stderr);
  const counts = JSON.parse(result.stdout) as { before: number; during: number; after: number };
  t.equal(counts.during - counts.before, 200, 'each poller held one epoll fd');
  t.equal(counts.after, counts.before, 'all of them closed after GC');
});

t.test('a method kept after its poller object is dropped never reaches freed memory', async (t) => {
  const result = await runFixture('method-outlives.cjs', { nodeArgs: ['--expose-gc'] });
  t.equal(result.code, 0, result.stderr);
  t.same(JSON.parse(result.stdout), { deleted: false, linkKept: true, counted: 10, fdsClosed: true });
});

const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const binding = require(workerData.addon);
const events = new Uint32Array(3);
const poller = binding.createPoller(events);
const fds = new Int32Array(2);
binding.socketPair(fds);
poller.add(fds[0], binding.constants.EPOLLIN, 9);
const scratch = new Uint8Array(8);
poller.start((count) => {
  const result = { count, fd: events[0] === fds[0], generation: events[1], read: poller.read(fds[0], scratch, 0, 8) };
  if (workerData.leaveOpen) { parentPort.postMessage({ ...result, fds: [fds[0], fds[1]] }); return; }
  poller.close();
  binding.close(fds[0]);
  binding.close(fds[1]);
  parentPort.postMessage(result);
});
poller.write(fds[1], scratch, 0, 3);
`;

function runWorker(leaveOpen: boolean): Promise<{ message: unknown; exitCode: number; worker: Worker }> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { addon: `${FIXTURES}addon.cjs`, leaveOpen } });
    worker.once('error', reject);
    worker.once('message', (message: unknown) => {
      if (leaveOpen) void worker.terminate();
      worker.once('exit', (exitCode) => resolve({ message, exitCode, worker }));
    });
  });
}

t.test('a poller used from a worker thread works and closes', async (t) => {
  const before = openFdCount();
  const { message, exitCode } = await runWorker(false);
  t.same(message, { count: 1, fd: true, generation: 9, read: 3 });
  t.equal(exitCode, 0, 'the worker exits on its own: nothing holds its loop');
  t.equal(openFdCount(), before, 'no fd leaked by the worker');
});

t.test('terminating a worker with a started, open poller closes it cleanly', async (t) => {
  const before = openFdCount();
  const { message, exitCode } = await runWorker(true);
  t.match(message, { count: 1, read: 3 });
  t.equal(exitCode, 1, 'terminated (not crashed)');
  // The socketpair was left open on purpose (fds are per process, not per
  // thread); the epoll fd must be gone.
  t.equal(openFdCount(), before + 2, 'only the two sockets the worker left open remain');
  // The worker's env owned them; this env must adopt them before it may close them.
  for (const fd of (message as { fds: number[] }).fds) {
    t.throws(() => binding.close(fd), { code: 'ERR_ZEPOLL_FD_NOT_OWNED' }, 'an fd another env opened is refused');
    t.equal(binding.adopt(fd), 0);
    binding.close(fd);
  }
  t.equal(openFdCount(), before);
});
