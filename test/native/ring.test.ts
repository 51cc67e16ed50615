/**
 * The poller's io_uring, driven directly: multishot accept and receive into
 * provided buffers of a pinned slab, sends (one buffer and gathered), the
 * ENOBUFS end of a receive whose buffers ran out and its re-arm, the FIN a
 * cancel-then-close delivers with a receive armed, the ring's fd in the
 * poller's epoll set (readable while completions wait, not once reaped), the counters, bad arguments refused, and a poller
 * closed with requests in flight (cancelled and waited for; no fd left).
 */
import t from 'tap';
import { binding, constants, RING_BUFFER, RING_COUNTER_NAMES, RING_MORE, RING_OP, type NativePoller } from '../../packages/reactor/src/native.js';
import { openPoller, PollerCounters } from '../../packages/reactor/src/backend/poller.js';
import { connectTcp, listenTcp, socketPair } from '../../packages/reactor/src/backend/sockets.js';
import { ioUringSupport } from '../../packages/reactor/src/backend/io-uring-support.js';
import { trackFds } from '../helpers/fds.js';

const support = ioUringSupport();
const BUFFER_SIZE = 4096;
const WAIT_ROUNDS_MAX = 200;
const WAIT_MS = 50;
const byte = new Uint8Array([1]);

interface Completion {
  fd: number;
  tag: number;
  op: number;
  more: boolean;
  buffer: number | null;
  result: number;
}

/** Waits for the ring's fd and reaps until `want` completions came (or the rounds run out). */
function reapUntil(poller: NativePoller, want: number): Completion[] {
  const out = new Int32Array(64 * 4);
  const got: Completion[] = [];
  for (let round = 0; round < WAIT_ROUNDS_MAX && got.length < want; round += 1) {
    const count = poller.ringReap(out);
    if (count < 0) throw new Error(`ringReap: ${count}`);
    for (let index = 0; index < count; index += 1) {
      const flags = out[index * 4 + 2]!;
      got.push({
        fd: out[index * 4]!,
        tag: out[index * 4 + 1]!,
        op: flags & 0xff,
        more: (flags & RING_MORE) !== 0,
        buffer: (flags & RING_BUFFER) !== 0 ? flags >>> 16 : null,
        result: out[index * 4 + 3]!,
      });
    }
    if (got.length < want) poller.wait(WAIT_MS); // the ring's fd is in the epoll set: ready when completions wait
  }
  return got;
}

function readAll(poller: NativePoller, fd: number, size: number): string {
  const bytes = new Uint8Array(size);
  let total = 0;
  for (let round = 0; round < WAIT_ROUNDS_MAX && total < size; round += 1) {
    const rc = poller.read(fd, bytes, total, size - total);
    if (rc > 0) total += rc;
    else poller.wait(WAIT_MS);
  }
  return Buffer.from(bytes.subarray(0, total)).toString();
}

t.test('multishot accept, single receives into provided buffers (one completion each, re-armed by hand), sends, ENOBUFS and its re-arm, close with a receive armed', { skip: support.available ? false : `io_uring unavailable: ${support.reason}` }, (t) => {
  const fds = trackFds();
  const owned = binding.ownedCount();
  const { native: poller, events } = openPoller(8);
  const ringFd = poller.ringOpen(32, 4);
  t.ok(ringFd >= 0, `ringOpen: the ring's fd (${ringFd})`);
  const slab = new Uint8Array(4 * BUFFER_SIZE);
  t.equal(poller.ringPin(slab), 0, 'the slab is pinned as index 0');
  t.equal(poller.ringProvide(0, 0, BUFFER_SIZE, 0), 0);
  t.equal(poller.ringProvide(0, BUFFER_SIZE, BUFFER_SIZE, 1), 0);

  const listener = listenTcp({ port: 0 });
  t.equal(poller.ringAccept(listener.fd, 7), 0);
  t.ok(poller.ringSubmit() >= 1, 'submitted');
  const client = connectTcp('127.0.0.1', listener.port);
  const accepted = reapUntil(poller, 1);
  t.equal(accepted.length, 1);
  t.match(accepted[0], { fd: listener.fd, tag: 7, op: RING_OP.accept, more: true });
  const server = accepted[0]!.result;
  t.ok(server >= 0, 'a new fd');
  t.equal(poller.wait(0), 0, 'all reaped: the ring fd is not readable (no counter left to wake the loop)');

  t.equal(poller.ringRecv(server, 9), 0);
  poller.ringSubmit();
  t.equal(poller.wait(0), 0, 'a receive armed, nothing received: not readable');
  t.equal(poller.write(client, Buffer.from('hello'), 0, 5), 5);
  t.equal(poller.wait(0), 1, 'the completion posted as this thread left write(2): the ring fd is readable');
  const first = reapUntil(poller, 1);
  t.match(first, [{ fd: server, tag: 9, op: RING_OP.recv, more: false, buffer: 0, result: 5 }], 'the receive names buffer 0, and is done (one buffer per receive)');
  t.equal(Buffer.from(slab.subarray(0, 5)).toString(), 'hello', 'the bytes are in the slab');

  t.equal(poller.ringSend(server, 9, [slab.subarray(0, 5)], 1), 0, 'echo, one buffer');
  const sent = reapUntil(poller, 1);
  t.match(sent, [{ fd: server, tag: 9, op: RING_OP.send, result: 5 }]);
  t.equal(readAll(poller, client, 5), 'hello', 'the client got it');

  const parts = [Buffer.from('ab'), Buffer.from('cd'), Buffer.from('ef')];
  t.equal(poller.ringSend(server, 9, parts, 3), 0, 'gathered');
  t.match(reapUntil(poller, 1), [{ op: RING_OP.send, result: 6 }]);
  t.equal(readAll(poller, client, 6), 'abcdef');

  t.equal(poller.write(client, Buffer.from('xy'), 0, 2), 2);
  t.equal(poller.ringRecv(server, 9), 0, 'the next receive');
  t.match(reapUntil(poller, 1), [{ op: RING_OP.recv, more: false, buffer: 1, result: 2 }], 'the second buffer');
  t.equal(poller.write(client, Buffer.from('z'), 0, 1), 1);
  t.equal(poller.ringRecv(server, 9), 0, 'and the next');
  t.match(reapUntil(poller, 1), [{ op: RING_OP.recv, more: false, buffer: null, result: -105 }], 'no buffer left: ENOBUFS');
  t.equal(poller.ringProvide(0, 0, BUFFER_SIZE, 0), 0, 'buffer 0 back');
  t.equal(poller.ringRecv(server, 10), 0, 're-armed');
  t.match(reapUntil(poller, 1), [{ tag: 10, op: RING_OP.recv, buffer: 0, result: 1 }], 'the waiting byte arrives');
  t.equal(slab[0], 'z'.charCodeAt(0));

  t.equal(poller.ringProvide(0, BUFFER_SIZE, BUFFER_SIZE, 1), 0, 'buffer 1 back');
  t.equal(poller.ringRecv(server, 10), 0, 'a receive armed, nothing to receive');
  t.equal(poller.ringClose(server, 10), 0, 'cancel-then-close with the receive armed');
  const closing = reapUntil(poller, 3);
  t.same(closing.map((completion) => [completion.op, completion.result]).sort(), [[RING_OP.recv, -125], [RING_OP.cancel, 1], [RING_OP.close, 0]].sort(), 'the receive cancelled (ECANCELED), then closed');
  t.equal(poller.read(client, new Uint8Array(8), 0, 8), 0, 'the client reads the FIN');
  t.throws(() => poller.ringRecv(server, 11), { code: 'ERR_ZEPOLL_FD_NOT_OWNED' }, 'a closed fd is forgotten at once');

  const counts = new Float64Array(RING_COUNTER_NAMES.length);
  t.equal(poller.ringCounters(counts), RING_COUNTER_NAMES.length);
  const named = Object.fromEntries(RING_COUNTER_NAMES.map((name, index) => [name, counts[index]]));
  t.equal(named['enobufs'], 1, 'one ENOBUFS counted');
  t.equal(named['sqes'], 10, 'requests queued: accept, 5 receives, 2 sends, cancel and close');
  t.equal(named['cqes'], 10, 'completions: accept, 3 receives with bytes, ENOBUFS, a cancelled receive, 2 sends, cancel, close');
  t.ok(named['enter']! >= 1 && named['overflows'] === 0, `counted: ${JSON.stringify(named)}`);
  t.ok(events.length > 0);

  binding.close(client);
  poller.close(); // the multishot accept is still armed: cancelled and waited for
  binding.close(listener.fd);
  t.equal(binding.ownedCount(), owned, 'every fd zepoll owned is closed');
  fds.assertNone(t);
  t.end();
});

t.test('cancel-then-close takes its two requests together when the submission queue has one slot left', { skip: support.available ? false : `io_uring unavailable: ${support.reason}` }, (t) => {
  const fds = trackFds();
  const { native: poller } = openPoller(8);
  t.ok(poller.ringOpen(2, 4) >= 0, 'a submission queue of 2');
  const slab = new Uint8Array(4 * BUFFER_SIZE);
  poller.ringPin(slab);
  for (let id = 0; id < 4; id += 1) poller.ringProvide(0, id * BUFFER_SIZE, BUFFER_SIZE, id);
  const [closing, closingPeer] = socketPair();
  const [other, otherPeer] = socketPair();
  t.equal(poller.ringRecv(closing, 1), 0);
  t.equal(poller.ringSubmit(), 1, 'slot 0 used and taken by the kernel');
  t.equal(poller.ringRecv(other, 2), 0, 'slot 1 queued, not submitted: one slot left');
  t.equal(poller.ringClose(closing, 1), 0);
  const completions = reapUntil(poller, 3);
  // Taken one at a time, a submit between the two would have sent slot 0 unprepared: its stale receive on
  // `closing` armed a second time, and the cancel would then have found two requests.
  t.match(completions.find((completion) => completion.op === RING_OP.cancel), { fd: closing, result: 1 }, 'the cancel found the one receive');
  t.match(completions.find((completion) => completion.op === RING_OP.close), { fd: closing, result: 0 });
  t.equal(poller.read(closingPeer, new Uint8Array(8), 0, 8), 0, 'the peer reads the FIN');
  t.equal(poller.write(otherPeer, Buffer.from('o'), 0, 1), 1);
  t.match(reapUntil(poller, 1), [{ fd: other, tag: 2, op: RING_OP.recv, result: 1 }], 'the queued receive went too');
  poller.close();
  for (const fd of [closingPeer, other, otherPeer]) binding.close(fd);
  fds.assertNone(t);
  t.end();
});

t.test('bad arguments are refused before the kernel sees them', { skip: support.available ? false : `io_uring unavailable: ${support.reason}` }, (t) => {
  const fds = trackFds();
  const { native: poller } = openPoller(8);
  t.throws(() => poller.ringRecv(0, 1), { code: 'ERR_ZEPOLL_POLLER_CLOSED', message: /ringOpen/ }, 'no ring yet');
  t.throws(() => poller.ringOpen(3, 4), { code: 'ERR_OUT_OF_RANGE', message: /power of two/ });
  t.throws(() => poller.ringOpen(8, 65536), { code: 'ERR_OUT_OF_RANGE' });
  t.ok(poller.ringOpen(8, 4) >= 0);
  t.throws(() => poller.ringOpen(8, 4), { code: 'ERR_ZEPOLL_POLLER_STARTED' }, 'once');
  t.throws(() => poller.ringProvide(0, 0, 16, 0), { code: 'ERR_OUT_OF_RANGE', message: /slabs pinned/ }, 'nothing pinned');
  t.throws(() => poller.ringPin(new Uint8Array(0)), { code: 'ERR_OUT_OF_RANGE' });
  const slab = new Uint8Array(64);
  t.equal(poller.ringPin(slab), 0);
  t.throws(() => poller.ringProvide(0, 32, 64, 0), { code: 'ERR_OUT_OF_RANGE', message: /length/ }, 'past the slab');
  t.throws(() => poller.ringProvide(0, 0, 16, 65536), { code: 'ERR_OUT_OF_RANGE', message: /"id"/ }, 'an id past 16 bits');
  t.throws(() => poller.ringProvide(0, 0, 0, 0), { code: 'ERR_OUT_OF_RANGE' }, 'an empty buffer');
  t.throws(() => poller.ringRecv(0, 1), { code: 'ERR_ZEPOLL_FD_NOT_OWNED' }, 'an fd zepoll does not own');
  const listener = listenTcp({ port: 0 });
  t.throws(() => poller.ringSend(listener.fd, 1, [], 0), { code: 'ERR_OUT_OF_RANGE' }, 'nothing to send');
  t.throws(() => poller.ringSend(listener.fd, 1, ['text' as never], 1), { code: 'ERR_INVALID_ARG_TYPE' });
  t.throws(() => poller.ringCancel(listener.fd, 1, 9), { code: 'ERR_OUT_OF_RANGE' }, 'not an op that can be cancelled');
  t.throws(() => poller.ringSendRange(listener.fd, 1, new Uint8Array(4), 2, 4), { code: 'ERR_OUT_OF_RANGE', message: /length/ }, 'a range past the buffer');
  t.throws(() => poller.ringSendRange(listener.fd, 1, new Uint8Array(4), 0, 0), { code: 'ERR_OUT_OF_RANGE' }, 'an empty range');
  t.throws(() => poller.ringSendRange(listener.fd, 1, 'text' as never, 0, 1), { code: 'ERR_INVALID_ARG_TYPE' });
  t.throws(() => poller.ringRecv(listener.fd, -1), { code: 'ERR_OUT_OF_RANGE', message: /generation/ }, 'a generation out of range');
  t.throws(() => poller.ringAccept(listener.fd, 2 ** 32), { code: 'ERR_OUT_OF_RANGE', message: /generation/ });
  t.throws(() => poller.ringReap(new Int32Array(2)), { code: 'ERR_OUT_OF_RANGE' });
  t.throws(() => poller.ringReap(new Uint32Array(4) as unknown as Int32Array), { code: 'ERR_INVALID_ARG_TYPE' });
  binding.close(listener.fd);
  poller.close();
  t.throws(() => poller.ringSubmit(), { code: 'ERR_ZEPOLL_POLLER_CLOSED' });
  t.equal(poller.ringCounters(new Float64Array(8)), 0, 'a closed poller has no ring to count');
  fds.assertNone(t);
  t.end();
});

t.test('a loop batch of completions alone skips the epoll_wait (after a wait that found only the ring), and a readiness owner is still polled', { skip: support.available ? false : `io_uring unavailable: ${support.reason}` }, async (t) => {
  const fds = trackFds();
  const { native: poller, events } = openPoller(8);
  const ringFd = poller.ringOpen(32, 4);
  const slab = new Uint8Array(4 * BUFFER_SIZE);
  poller.ringPin(slab);
  for (let id = 0; id < 4; id += 1) poller.ringProvide(0, id * BUFFER_SIZE, BUFFER_SIZE, id);
  const [received, sender] = socketPair();
  const [watched, poker] = socketPair();
  const counters = new PollerCounters(poller);
  const out = new Int32Array(16 * 4);
  const scratch = new Uint8Array(16);
  let batches = 0;
  let receives = 0;
  let watchedReady = false;
  let next: (() => void) | null = null;
  poller.start((count) => {
    batches += 1;
    for (let index = 0; index < count; index += 1) {
      if (events[index * 3] === ringFd) {
        const reaped = poller.ringReap(out);
        for (let completion = 0; completion < reaped; completion += 1) {
          if ((out[completion * 4 + 2]! & 0xff) !== RING_OP.recv) continue;
          receives += 1;
          const flags = out[completion * 4 + 2]!;
          if ((flags & RING_BUFFER) !== 0) poller.ringProvide(0, (flags >>> 16) * BUFFER_SIZE, BUFFER_SIZE, flags >>> 16);
          poller.ringRecv(received, 1);
        }
        poller.ringSubmit();
      } else if (events[index * 3] === watched) {
        watchedReady = poller.read(watched, scratch, 0, scratch.length) > 0;
      }
    }
    next?.();
  });
  const batch = (): Promise<void> => new Promise((resolve) => (next = resolve));
  t.equal(poller.ringRecv(received, 1), 0);
  poller.ringSubmit();

  counters.refresh();
  const waitsBefore = counters.get('epollWait');
  const rounds = 5;
  for (let round = 0; round < rounds; round += 1) {
    const arrived = batch();
    poller.write(sender, byte, 0, 1);
    await arrived;
  }
  counters.refresh();
  t.equal(receives, rounds, 'every byte received');
  t.equal(counters.get('epollWait') - waitsBefore, 1, 'one epoll_wait for five batches: it found only the ring, so the next batches were the ring alone');

  // A readiness owner and a completion ready together: the ring's batch may come first, the owner's next.
  poller.add(watched, constants.EPOLLIN, 0);
  poller.write(poker, byte, 0, 1);
  poller.write(sender, byte, 0, 1);
  for (let round = 0; round < 4 && !watchedReady; round += 1) await batch();
  t.ok(watchedReady, 'the readiness owner was polled');
  t.equal(receives, rounds + 1);

  poller.close();
  binding.close(received);
  binding.close(sender);
  binding.close(watched);
  binding.close(poker);
  fds.assertNone(t);
});
