/**
 * Nesting the poller in Node's loop: batches arrive through
 * napi_make_callback, so timers and promises keep working, a promise
 * resolved inside a callback settles before the next batch (even the next
 * poller's batch in the same loop iteration), AsyncLocalStorage context is
 * kept, a throw reaches 'uncaughtException', and ref/unref decide whether
 * the process may exit. Process-level behaviour runs in child processes.
 */
import t from 'tap';
import { AsyncLocalStorage } from 'node:async_hooks';
import { binding, constants } from '../../packages/reactor/src/native.js';
import { openPoller } from '../../packages/reactor/src/backend/poller.js';
import { socketPair } from '../../packages/reactor/src/backend/sockets.js';
import { trackFds } from '../helpers/fds.js';
import { runFixture } from '../helpers/child.js';

const { EPOLLIN, EPOLLET } = constants;
const byte = new Uint8Array([1]);
const scratch = new Uint8Array(64);

t.test('a setTimeout, a resolved promise and the poller callback interleave', async (t) => {
  const fds = trackFds();
  const { native: poller } = openPoller(4);
  const [a, b] = socketPair();
  poller.add(a, EPOLLIN, 0);
  const log: string[] = [];
  const done = new Promise<void>((resolve) => {
    poller.start((count) => {
      poller.read(a, scratch, 0, scratch.length);
      log.push(`batch(${count})`);
      void Promise.resolve().then(() => log.push('microtask from batch'));
      setTimeout(() => {
        log.push('timer after batch');
        resolve();
      }, 1);
    });
  });
  void Promise.resolve().then(() => log.push('promise'));
  setTimeout(() => {
    log.push('timer');
    poller.write(b, byte, 0, 1);
  }, 1);
  await done;
  t.same(log, ['promise', 'timer', 'batch(1)', 'microtask from batch', 'timer after batch']);
  poller.close();
  binding.close(a);
  binding.close(b);
  fds.assertNone(t);
});

t.test('a promise resolved inside one callback settles before the next batch', async (t) => {
  const fds = trackFds();
  // Two pollers ready in the same loop iteration, and one poller whose full
  // batch is waited again within one libuv callback: each batch's promise
  // jobs must run before the next batch starts.
  const first = openPoller(1);
  const second = openPoller(1);
  const pairs = [socketPair(), socketPair(), socketPair()];
  first.native.add(pairs[0]![0], EPOLLIN | EPOLLET, 0);
  first.native.add(pairs[1]![0], EPOLLIN | EPOLLET, 1);
  second.native.add(pairs[2]![0], EPOLLIN | EPOLLET, 2);
  const log: string[] = [];
  let batches = 0;
  const done = new Promise<void>((resolve) => {
    const handler = (name: string, events: Uint32Array) => () => {
      const generation = events[1]!;
      log.push(`${name}:${generation}`);
      void Promise.resolve().then(() => log.push(`${name}:${generation} settled`));
      batches += 1;
      if (batches === 3) setImmediate(resolve);
    };
    first.native.start(handler('first', first.events));
    second.native.start(handler('second', second.events));
  });
  for (const [, writer] of pairs) first.native.write(writer, byte, 0, 1);
  await done;
  t.equal(log.length, 6, 'three batches, three settlements');
  for (let index = 0; index < log.length; index += 2) {
    t.equal(log[index + 1], `${log[index]} settled`, `${log[index]} settled before the next batch`);
  }
  first.native.close();
  second.native.close();
  for (const [x, y] of pairs) {
    binding.close(x);
    binding.close(y);
  }
  fds.assertNone(t);
});

t.test('AsyncLocalStorage context of start() reaches the callback', async (t) => {
  const fds = trackFds();
  const storage = new AsyncLocalStorage<string>();
  const { native: poller } = openPoller(2);
  const [a, b] = socketPair();
  poller.add(a, EPOLLIN | EPOLLET, 0);
  const seen = await new Promise<string | undefined>((resolve) => {
    storage.run('request-42', () => {
      poller.start(() => resolve(storage.getStore()));
    });
    poller.write(b, byte, 0, 1);
  });
  t.equal(seen, 'request-42');
  poller.close();
  binding.close(a);
  binding.close(b);
  fds.assertNone(t);
});

t.test('close() inside the callback ends delivery at once', async (t) => {
  const fds = trackFds();
  const { native: poller } = openPoller(1);
  const pairs = [socketPair(), socketPair()];
  for (const [reader, writer] of pairs) {
    poller.add(reader, EPOLLIN, 0);
    poller.write(writer, byte, 0, 1);
  }
  let calls = 0;
  poller.start(function (this: unknown) {
    calls += 1;
    t.equal(this, poller, 'the receiver is the poller');
    poller.close();
    t.equal(poller.isClosed(), true);
  });
  await new Promise((resolve) => setTimeout(resolve, 20));
  t.equal(calls, 1, 'no batch after close, although a full batch would wait again');
  t.throws(() => poller.start(() => {}), { code: 'ERR_ZEPOLL_POLLER_CLOSED' });
  poller.close(); // idempotent
  poller.ref();
  poller.unref();
  for (const [x, y] of pairs) {
    binding.close(x);
    binding.close(y);
  }
  fds.assertNone(t);
});

t.test('stop() pauses delivery and start() resumes it; a second start throws', async (t) => {
  const fds = trackFds();
  const { native: poller } = openPoller(2);
  const [a, b] = socketPair();
  poller.add(a, EPOLLIN, 0);
  let calls = 0;
  const onBatch = (): void => {
    calls += 1;
    poller.read(a, scratch, 0, scratch.length);
  };
  poller.start(onBatch);
  t.throws(() => poller.start(onBatch), { code: 'ERR_ZEPOLL_POLLER_STARTED' });
  poller.stop();
  poller.stop(); // stopping a stopped poller is a no-op
  poller.write(b, byte, 0, 1);
  await new Promise((resolve) => setTimeout(resolve, 20));
  t.equal(calls, 0, 'stopped: nothing delivered');
  poller.start(onBatch);
  await new Promise((resolve) => setTimeout(resolve, 20));
  t.equal(calls, 1, 'restarted: the pending data is delivered');
  poller.close();
  binding.close(a);
  binding.close(b);
  fds.assertNone(t);
});

t.test('stop() inside the callback ends delivery; restarting waits for a later tick', async (t) => {
  const fds = trackFds();
  const { native: poller } = openPoller(2);
  const [a, b] = socketPair();
  poller.add(a, EPOLLIN, 0);
  let calls = 0;
  let restartError: unknown;
  const onBatch = (): void => {
    calls += 1;
    poller.stop();
    try {
      poller.start(onBatch);
    } catch (error) {
      restartError = error;
    }
  };
  poller.start(onBatch);
  poller.write(b, byte, 0, 1);
  await new Promise((resolve) => setTimeout(resolve, 20));
  t.equal(calls, 1, 'stopped inside its callback: the unread byte is not delivered again');
  t.match(restartError, { code: 'ERR_ZEPOLL_POLLER_STARTED' });
  poller.start(onBatch);
  await new Promise((resolve) => setTimeout(resolve, 20));
  t.equal(calls, 2, 'started from a later tick: delivery resumes');
  poller.close();
  binding.close(a);
  binding.close(b);
  fds.assertNone(t);
});

t.test('unref() lets the process exit; ref with registrations holds it; an empty poller never does', async (t) => {
  const unref = await runFixture('unref-exit.cjs', { args: ['unref'] });
  t.match(unref, { code: 0, timedOut: false, stdout: 'exiting\n' }, 'unref: exits by itself');
  const empty = await runFixture('unref-exit.cjs', { args: ['empty'] });
  t.match(empty, { code: 0, timedOut: false, stdout: 'exiting\n' }, 'no registrations: exits by itself');
  const held = await runFixture('unref-exit.cjs', { args: ['ref'], timeoutMs: 1500 });
  t.equal(held.timedOut, true, 'ref with a registration: still running until killed');
});

t.test('a callback that throws reaches uncaughtException and the poller stays usable', async (t) => {
  const result = await runFixture('callback-throws.cjs');
  t.equal(result.code, 0, result.stderr);
  t.same(JSON.parse(result.stdout), { uncaught: ['thrown by the handler'], batches: 2 });
});
