/**
 * Out of fds: with the process's fd table full, every call that makes an
 * fd fails with EMFILE as a system error (code, errno, syscall), nothing
 * crashes, and everything works again once fds are freed. The table is
 * filled with socket pairs in this process, so it runs only where the soft
 * limit is small enough to fill quickly.
 */
import t from 'tap';
import { binding } from '../../packages/reactor/src/native.js';
import { openPoller } from '../../packages/reactor/src/backend/poller.js';
import { connectTcp, listenTcp, pipe, socketPair } from '../../packages/reactor/src/backend/sockets.js';
import { softFdLimit, trackFds } from '../helpers/fds.js';

const FILL_LIMIT_MAX = 100_000; // above this, filling the table takes too long for a unit test

const limit = softFdLimit();
t.test('EMFILE from every fd-making call, then recovery', { skip: limit > FILL_LIMIT_MAX ? `soft fd limit ${limit} is too high to fill` : false }, (t) => {
  const fds = trackFds();
  const filler: number[] = [];
  const pair = new Int32Array(2);
  for (let step = 0; step < limit; step += 1) {
    const rc = binding.socketPair(pair);
    if (rc < 0) {
      t.equal(rc, -24, 'the table is full: EMFILE as a value');
      break;
    }
    filler.push(pair[0]!, pair[1]!);
  }
  // One fd may be left (a pair needs two); take it so every call below needs one more.
  const last = binding.listen('127.0.0.1', 0, 1, false);
  if (last >= 0) filler.push(last);
  t.throws(() => socketPair(), { code: 'EMFILE', syscall: 'socketpair', errno: -24 });
  t.throws(() => pipe(), { code: 'EMFILE', syscall: 'pipe2' });
  t.throws(() => openPoller(4), { code: 'EMFILE', syscall: 'epoll_create1' });
  t.throws(() => listenTcp(), { code: 'EMFILE', syscall: 'listen' });
  t.throws(() => connectTcp('127.0.0.1', 9), { code: 'EMFILE', syscall: 'connect' });
  for (const fd of filler) binding.close(fd);
  const [a, b] = socketPair();
  t.ok(a >= 0 && b >= 0, 'fds free again: calls succeed');
  binding.close(a);
  binding.close(b);
  fds.assertNone(t);
  t.end();
});

t.test('openPoller refuses capacities outside 1..EVENTS_MAX', (t) => {
  for (const capacity of [0, -1, 1.5, 1025, Number.NaN]) {
    t.throws(() => openPoller(capacity), { name: 'ZepollError', code: 'ERR_OUT_OF_RANGE' }, `capacity ${capacity}`);
  }
  t.end();
});
