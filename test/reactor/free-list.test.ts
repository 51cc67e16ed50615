/**
 * Objects only a busy connection needs go back to a free list when it is
 * idle (free-list.ts): the list itself (counts, reuse, its bound following
 * the recent peak), then each user over real sockets: write queues given
 * back once all is sent and at the close, received chunks' queues taken
 * only while chunks wait (io_uring), and a send's in-flight record given
 * back at its completion, an orphan's too. Every object out is counted
 * back, whatever way its connection ends.
 */
import t from 'tap';
import { randomBytes } from 'node:crypto';
import { FreeList, FREE_KEPT_MIN, FREE_KEPT_PER_PEAK, FREE_PEAK_TAKES } from '../../packages/reactor/src/free-list.js';
import { Reactor } from '../../packages/reactor/src/reactor.js';
import { Server } from '../../packages/reactor/src/server.js';
import { coreOf } from '../../packages/reactor/src/core.js';
import type { Connection } from '../../packages/reactor/src/connection.js';
import { ioUringSupport } from '../../packages/reactor/src/backend/io-uring-support.js';
import { trackFds } from '../helpers/fds.js';
import { closed, connect, receive } from '../helpers/net-client.js';
import { until } from '../helpers/wait.js';

const support = ioUringSupport();
const skip = support.available ? false : `io_uring unavailable here: ${support.reason}`;

t.test('a free list: take, give, lose, counted; its bound follows the recent peak', async (t) => {
  const list = new FreeList<{ id: number }>();
  t.equal(list.take(), null, 'empty: the caller makes one');
  t.equal(list.busy, 1, 'counted out all the same');
  const one = { id: 1 };
  list.give(one);
  t.same([list.busy, list.free], [0, 1]);
  t.equal(list.take(), one, 'the same object back');
  list.lose();
  t.same([list.busy, list.free], [0, 0], 'lost: not counted, not kept');
  const burst = 40;
  const items = Array.from({ length: burst }, (_, id) => ({ id }));
  for (let index = 0; index < burst; index += 1) list.take();
  for (const item of items) list.give(item);
  t.equal(list.free, burst, `all ${burst} kept: out and free together within ${FREE_KEPT_PER_PEAK}x the peak`);
  // The same object taken and given back, one at a time, for three epochs: the peak falls to 1, and the list to its floor.
  for (let index = 0; index < 3 * FREE_PEAK_TAKES; index += 1) list.give(list.take()!);
  t.equal(list.free, FREE_KEPT_MIN, `a past burst no longer counts: ${FREE_KEPT_MIN} kept`);
  t.equal(list.busy, 0);
});

/** An echo server whose connections the test can reach. */
function echoServer(reactor: Reactor): { server: Server; connections: Connection[] } {
  const connections: Connection[] = [];
  const server = new Server(reactor, {
    onOpen: (connection) => void connections.push(connection),
    onData: (connection, data) => void connection.write(data),
  });
  return { server, connections };
}

for (const backend of ['epoll', 'io_uring'] as const) {
  t.test(`${backend}: write queues go back once all is sent, and at the close with bytes still queued`, { skip: backend === 'io_uring' && skip }, async (t) => {
    const fds = trackFds();
    const reactor = new Reactor({ backend });
    const core = coreOf(reactor);
    const { server } = echoServer(reactor);
    const sockets = await Promise.all(Array.from({ length: 8 }, () => connect(server.port)));
    for (const [index, socket] of sockets.entries()) {
      socket.write(`hello ${index}`);
      t.equal((await receive(socket, `hello ${index}`.length)).toString(), `hello ${index}`);
    }
    await until(() => core.writeQueues.busy === 0, 'every queue back');
    t.ok(core.writeQueues.free >= 1, `${core.writeQueues.free} kept for the next writes`);
    // A reader that does not read: its queue is out until its connection is destroyed.
    const stalled = await connect(server.port);
    stalled.pause();
    const payload = randomBytes(8 * 1024 * 1024);
    stalled.write(payload);
    await until(() => core.writeQueues.busy === 1, 'the stalled connection to hold a queue');
    stalled.destroy();
    await until(() => server.connections.size === sockets.length, 'the stalled connection to close');
    t.equal(core.writeQueues.busy, 0, 'given back at the close');
    const after = await connect(server.port);
    after.write('again');
    t.equal((await receive(after, 5)).toString(), 'again', 'a queue that came back at a close serves another connection');
    for (const socket of [...sockets, after]) socket.destroy();
    await server.close();
    await until(() => core.writeQueues.busy === 0, 'nothing out');
    reactor.close();
    await fds.assertNoneSettled(t);
  });
}

t.test('a turn whose writes were all empty takes no queue: the corked flush finds none, and the connection goes on', async (t) => {
  const fds = trackFds();
  const reactor = new Reactor({ mode: 'et' });
  const core = coreOf(reactor);
  const server = new Server(reactor, {
    onData: (connection, data) => {
      if (data.toString() === 'quiet') connection.writeMany(['', new Uint8Array(0)]); // corked, nothing queued
      else connection.write(data);
    },
  });
  const socket = await connect(server.port);
  socket.write('quiet');
  await until(() => reactor.stats.bytesIn === 5, 'the quiet message read');
  t.same([core.writeQueues.busy, core.writeQueues.free], [0, 0], 'no queue taken');
  socket.write('loud');
  t.equal((await receive(socket, 4)).toString(), 'loud');
  await until(() => core.writeQueues.busy === 0, 'the queue back');
  socket.destroy();
  await server.close();
  reactor.close();
  await fds.assertNoneSettled(t);
});

t.test('io_uring: a queue of received chunks only while some wait; a send record only while a send is in flight', { skip }, async (t) => {
  const fds = trackFds();
  const reactor = new Reactor({ backend: 'io_uring' });
  const core = coreOf(reactor);
  const sends = (core.backend as unknown as { sends: { records: FreeList<unknown> } }).sends.records;
  const seen: string[] = [];
  let conn: Connection | null = null;
  const server = new Server(reactor, {
    onOpen: (connection) => void (conn = connection),
    onData: (connection, data) => {
      seen.push(Buffer.from(data).toString());
      connection.write(data);
    },
  });
  const socket = await connect(server.port);
  socket.write('x');
  await until(() => seen.length === 1, 'the first bytes');
  await receive(socket, 1);
  await until(() => sends.busy === 0, 'the send record back at its completion');
  t.equal(core.receivedChunks.busy, 0, 'chunks taken as they came: no queue');
  t.ok(sends.free >= 1);
  // As in io-uring.test.ts: the receive completes before pause() cancels it, and its chunk is kept.
  await new Promise((resolve) => setImmediate(resolve));
  const reaped = reactor.stats.ring!.cqes;
  socket.write('abc');
  conn!.pause();
  await until(() => reactor.stats.ring!.cqes > reaped + 1, 'the receive and the cancel reaped');
  t.equal(core.receivedChunks.busy, 1, 'a chunk waits: the connection has a queue');
  conn!.resume();
  await until(() => seen.length === 2, 'the kept bytes');
  t.same(seen, ['x', 'abc']);
  t.equal(core.receivedChunks.busy, 0, 'none waits: the queue went back');
  t.equal(core.receivedChunks.free, 1);
  // Kept again, then the connection closes with the chunk waiting.
  await new Promise((resolve) => setImmediate(resolve));
  const again = reactor.stats.ring!.cqes;
  socket.write('def');
  conn!.pause();
  await until(() => reactor.stats.ring!.cqes > again + 1, 'the receive and the cancel reaped');
  t.equal(core.receivedChunks.busy, 1);
  conn!.destroy();
  t.equal(core.receivedChunks.busy, 0, 'given back at the close');
  await closed(socket);
  await server.close();
  reactor.close();
  await fds.assertNoneSettled(t);
});

t.test('io_uring: a send in flight when its connection is destroyed: its record comes back with the orphan\'s completion', { skip }, async (t) => {
  const fds = trackFds();
  const reactor = new Reactor({ backend: 'io_uring' });
  const core = coreOf(reactor);
  const sends = (core.backend as unknown as { sends: { records: FreeList<unknown> } }).sends.records;
  const { server, connections } = echoServer(reactor);
  const socket = await connect(server.port);
  socket.pause(); // never read: the kernel's buffers fill and a send stays in flight
  await until(() => connections.length === 1, 'the connection');
  const payload = randomBytes(16 * 1024 * 1024);
  connections[0]!.write(payload);
  await until(() => sends.busy === 1, 'a send in flight');
  connections[0]!.destroy();
  await until(() => sends.busy === 0, 'the orphaned send\'s record back at its completion');
  socket.destroy();
  await server.close();
  reactor.close();
  await fds.assertNoneSettled(t);
});
