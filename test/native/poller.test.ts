/**
 * What epoll reports through the poller, per registration mode: LT repeats
 * while data is unread, ET once per edge, ONESHOT once until re-armed; peer
 * shutdown and close show as RDHUP/HUP; tokens tell a stale event from the
 * new owner of a reused fd number. Driven with blocking wait(0) on
 * socketpairs, so every assertion is about one exact batch.
 */
import t from 'tap';
import { binding, constants } from '../../packages/reactor/src/native.js';
import { openPoller } from '../../packages/reactor/src/backend/poller.js';
import { socketPair } from '../../packages/reactor/src/backend/sockets.js';
import { trackFds } from '../helpers/fds.js';
import { readyEvents } from '../helpers/events.js';

const { EPOLLIN, EPOLLET, EPOLLONESHOT, EPOLLRDHUP, EPOLLHUP, EPOLLOUT } = constants;
const byte = new Uint8Array([42]);
const scratch = new Uint8Array(64);

t.test('LT reports a readable fd again while unread data remains', (t) => {
  const fds = trackFds();
  const { native: poller, events } = openPoller(8);
  const [a, b] = socketPair();
  t.equal(poller.add(a, EPOLLIN, 5), 0);
  t.equal(poller.wait(0), 0, 'nothing ready before a write');
  t.equal(poller.write(b, byte, 0, 1), 1);
  for (let turn = 0; turn < 3; turn += 1) {
    t.equal(poller.wait(0), 1, `turn ${turn}: still readable`);
    t.same(readyEvents(events, 1), [{ fd: a, generation: 5, flags: EPOLLIN }]);
  }
  t.equal(poller.read(a, scratch, 0, scratch.length), 1);
  t.equal(poller.wait(0), 0, 'drained: no more readiness');
  poller.close();
  binding.close(a);
  binding.close(b);
  fds.assertNone(t);
  t.end();
});

t.test('ET reports a readable fd once per edge', (t) => {
  const fds = trackFds();
  const { native: poller, events } = openPoller(8);
  const [a, b] = socketPair();
  t.equal(poller.add(a, EPOLLIN | EPOLLET, 1), 0);
  poller.write(b, byte, 0, 1);
  t.equal(poller.wait(0), 1, 'the edge');
  t.equal(readyEvents(events, 1)[0]?.fd, a);
  t.equal(poller.wait(0), 0, 'no repeat while the byte sits unread');
  poller.write(b, byte, 0, 1);
  t.equal(poller.wait(0), 1, 'new data, new edge');
  t.equal(poller.wait(0), 0);
  poller.close();
  binding.close(a);
  binding.close(b);
  fds.assertNone(t);
  t.end();
});

t.test('ONESHOT reports once until re-armed with modify', (t) => {
  const fds = trackFds();
  const { native: poller, events } = openPoller(8);
  const [a, b] = socketPair();
  t.equal(poller.add(a, EPOLLIN | EPOLLONESHOT, 1), 0);
  poller.write(b, byte, 0, 1);
  t.equal(poller.wait(0), 1);
  poller.write(b, byte, 0, 1);
  t.equal(poller.wait(0), 0, 'disabled after one event, even with new data');
  t.equal(poller.modify(a, EPOLLIN | EPOLLONESHOT, 2), 0, 're-armed');
  t.equal(poller.wait(0), 1);
  t.equal(readyEvents(events, 1)[0]?.generation, 2, 'the token set by modify');
  t.equal(poller.wait(0), 0);
  poller.close();
  binding.close(a);
  binding.close(b);
  fds.assertNone(t);
  t.end();
});

t.test('peer shutdown shows EPOLLRDHUP; peer close shows EPOLLHUP', (t) => {
  const fds = trackFds();
  const { native: poller, events } = openPoller(8);
  const [a, b] = socketPair();
  t.equal(poller.add(a, EPOLLIN | EPOLLRDHUP, 0), 0);
  t.equal(binding.shutdown(b, constants.SHUT_WR), 0);
  t.equal(poller.wait(0), 1);
  const halfClosed = readyEvents(events, 1)[0]!.flags;
  t.ok(halfClosed & EPOLLRDHUP, 'RDHUP after the peer shut down writing');
  t.ok(halfClosed & EPOLLIN, 'and readable, so the read sees end of stream');
  t.notOk(halfClosed & EPOLLHUP, 'not yet a full hang-up');
  t.equal(poller.read(a, scratch, 0, scratch.length), 0, 'end of stream');
  binding.close(b);
  t.equal(poller.wait(0), 1);
  t.ok(readyEvents(events, 1)[0]!.flags & EPOLLHUP, 'HUP once the peer is gone');
  poller.close();
  binding.close(a);
  fds.assertNone(t);
  t.end();
});

t.test('a stale event for a closed and reused fd is told apart by its token', (t) => {
  const fds = trackFds();
  const { native: poller, events } = openPoller(8);
  const [a, b] = socketPair();
  t.equal(poller.add(a, EPOLLIN, 1), 0);
  poller.write(b, byte, 0, 1);
  t.equal(poller.wait(0), 1);
  const stale = readyEvents(events, 1)[0]!;
  // The owner goes away within the batch; the kernel hands the lowest free
  // number to the next socket, so the number is reused at once.
  t.equal(poller.remove(a), 0);
  binding.close(a);
  binding.close(b);
  const [c, d] = socketPair();
  t.equal(c, stale.fd, 'the kernel reused the fd number');
  t.equal(poller.add(c, EPOLLIN, 2), 0);
  t.not(stale.generation, 2, 'the stale event carries the old generation');
  poller.write(d, byte, 0, 1);
  t.equal(poller.wait(0), 1);
  t.same(readyEvents(events, 1)[0], { fd: c, generation: 2, flags: EPOLLIN }, 'a fresh event carries the new one');
  poller.close();
  binding.close(c);
  binding.close(d);
  fds.assertNone(t);
  t.end();
});

t.test('a batch holds at most the array capacity; the rest comes next wait', (t) => {
  const fds = trackFds();
  const { native: poller, events, capacity } = openPoller(2);
  t.equal(capacity, 2);
  const pairs = [socketPair(), socketPair(), socketPair()];
  for (const [a, b] of pairs) {
    t.equal(poller.add(a, EPOLLIN | EPOLLET, 0), 0);
    poller.write(b, byte, 0, 1);
  }
  t.equal(poller.wait(0), 2, 'capped at capacity');
  const first = readyEvents(events, 2).map((event) => event.fd);
  t.equal(poller.wait(0), 1, 'the third comes next');
  const rest = readyEvents(events, 1).map((event) => event.fd);
  t.same([...first, ...rest].sort(), pairs.map(([a]) => a).sort(), 'every fd reported once');
  poller.close();
  for (const [a, b] of pairs) {
    binding.close(a);
    binding.close(b);
  }
  fds.assertNone(t);
  t.end();
});

t.test('EPOLLOUT reports a writable socket; interest bits outside epoll throw', (t) => {
  const fds = trackFds();
  const { native: poller, events } = openPoller(4);
  const [a, b] = socketPair();
  t.equal(poller.add(a, EPOLLOUT, 3), 0);
  t.equal(poller.wait(0), 1);
  t.equal(readyEvents(events, 1)[0]!.flags, EPOLLOUT);
  t.equal(poller.add(a, EPOLLOUT, 3), -17, 'EEXIST is a value');
  t.equal(poller.modify(b, EPOLLIN, 0), -2, 'ENOENT for an fd never added');
  t.throws(() => poller.add(b, 1 << 20, 0), { name: 'TypeError', code: 'ERR_INVALID_ARG_VALUE' });
  t.throws(() => poller.add(b, EPOLLIN, 2 ** 32), { name: 'RangeError', code: 'ERR_OUT_OF_RANGE' });
  t.equal(poller.fd() >= 0, true);
  poller.close();
  t.equal(poller.fd(), -1, 'no epoll fd once closed');
  binding.close(a);
  binding.close(b);
  fds.assertNone(t);
  t.end();
});
