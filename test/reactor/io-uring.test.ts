/**
 * The io_uring backend's own behaviour (the rest of the reactor, HTTP and
 * reliability suites run on it too: `npm run test:uring`): receives as
 * completions into pool chunks, sends as requests, the FIN a close sends
 * with a receive armed, pause and resume with bytes kept in order, the read
 * quota, a ring that runs out of buffers and is re-armed, a send in flight
 * when its connection is destroyed, sendFile beside it, the backend option
 * and its environment default, and nothing leaked.
 */
import t from 'tap';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, openSync, closeSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Reactor } from '../../packages/reactor/src/reactor.js';
import { Server } from '../../packages/reactor/src/server.js';
import { coreOf } from '../../packages/reactor/src/core.js';
import { relay, type Relay } from '../../packages/reactor/src/relay.js';
import { connect } from '../../packages/reactor/src/connect.js';
import type { AddressInfo } from 'node:net';
import { binding } from '../../packages/reactor/src/native.js';
import { describeIoUringProbe, ioUringSupport, ioUringUnavailable } from '../../packages/reactor/src/backend/io-uring-support.js';
import { constants } from 'node:os';
import type { Connection } from '../../packages/reactor/src/connection.js';
import type { Lease } from '../../packages/reactor/src/buffer-pool.js';
import { trackFds } from '../helpers/fds.js';
import { closed, connect as connectClient, receive, sha256, upstreamEcho } from '../helpers/net-client.js';
import { until } from '../helpers/wait.js';

const support = ioUringSupport();
const skip = support.available ? false : `io_uring unavailable here: ${support.reason}`;

/** An echo server on a fresh io_uring reactor. */
function echo(options: ConstructorParameters<typeof Reactor>[0] = {}): { reactor: Reactor; server: Server } {
  const reactor = new Reactor({ backend: 'io_uring', ...options });
  const server = new Server(reactor, { onData: (connection, data) => void connection.write(data) });
  return { reactor, server };
}

t.test('echo: bytes in as completions, out as send requests, no read or write system call', { skip }, async (t) => {
  const fds = trackFds();
  const owned = binding.ownedCount();
  const { reactor, server } = echo();
  t.equal(reactor.stats.backend, 'io_uring');
  t.equal(reactor.mode, 'lt', 'readiness beside the ring is level-triggered');
  const payload = randomBytes(512 * 1024);
  const socket = await connectClient(server.port);
  const echoed = receive(socket, payload.length);
  socket.write(payload);
  t.equal(sha256(await echoed), sha256(payload), 'every byte back, in order');
  const stats = reactor.stats;
  t.equal(stats.syscalls.read + stats.syscalls.write + stats.syscalls.writev, 0, 'no read, write or writev');
  t.ok(stats.ring !== null && stats.ring.cqes > 0 && stats.ring.sqes > 0 && stats.ring.enter > 0, `ring counts: ${JSON.stringify(stats.ring)}`);
  t.ok(stats.ring!.buffers > 0, 'the buffer ring holds pool chunks');
  socket.end();
  await closed(socket);
  await server.close();
  reactor.close();
  t.equal(reactor.stats.pool.inUse, 0, 'closed: the ring gave its chunks back');
  t.equal(binding.ownedCount(), owned);
  await fds.assertNoneSettled(t);
});

t.test('a connection closed with its receive armed: the peer sees the FIN', { skip }, async (t) => {
  const fds = trackFds();
  const reactor = new Reactor({ backend: 'io_uring' });
  let held: Connection | null = null;
  const server = new Server(reactor, { onOpen: (connection) => void (held = connection) });
  const socket = await connectClient(server.port);
  await until(() => held !== null, 'the server side');
  const ended = new Promise<string>((resolve) => {
    socket.on('end', () => resolve('end'));
    socket.on('error', (error) => resolve(`error ${error.message}`));
  });
  held!.destroy(); // a receive is armed: a plain close(2) would leave the socket open
  t.equal(await ended, 'end', 'the client read the end of stream');
  socket.destroy();
  await server.close();
  reactor.close();
  await fds.assertNoneSettled(t);
});

t.test('paused: bytes received before the pause wait in order; the FIN is told once; resume delivers the rest', { skip }, async (t) => {
  const fds = trackFds();
  const reactor = new Reactor({ backend: 'io_uring' });
  const chunks: Buffer[] = [];
  let hangUps = 0;
  let conn: Connection | null = null;
  const server = new Server(reactor, {
    onOpen: (connection) => void (conn = connection),
    onData: (connection, data) => {
      chunks.push(Buffer.from(data));
      connection.pause(); // after each part: what arrives meanwhile is kept
    },
    onHangUp: () => void (hangUps += 1),
  });
  const socket = await connectClient(server.port);
  const payload = randomBytes(300 * 1024);
  socket.end(payload);
  await until(() => chunks.length > 0, 'the first part');
  for (let round = 0; round < 10_000 && chunks.reduce((sum, part) => sum + part.length, 0) < payload.length; round += 1) {
    await new Promise((resolve) => setImmediate(resolve));
    conn!.resume();
  }
  t.equal(sha256(Buffer.concat(chunks)), sha256(payload), 'every byte, in order, across pauses');
  t.ok(hangUps <= 1, `the FIN told at most once while paused (${hangUps})`);
  await server.close();
  reactor.close();
  await fds.assertNoneSettled(t);
});

t.test('bytes the kernel received as the owner paused are kept, in order, and delivered on resume', { skip }, async (t) => {
  // The peer is in this thread: the ring's completion work runs as its write(2) returns (COOP_TASKRUN),
  // so the receive has completed before pause() cancels it, and the reactor reaps that completion
  // while the connection is paused: the chunk is kept, not delivered, and not lost.
  const fds = trackFds();
  const reactor = new Reactor({ backend: 'io_uring' });
  const seen: string[] = [];
  let conn: Connection | null = null;
  const server = new Server(reactor, {
    onOpen: (connection) => void (conn = connection),
    onData: (_connection, data) => void seen.push(Buffer.from(data).toString()),
  });
  const socket = await connectClient(server.port);
  socket.write('x');
  await until(() => seen.length === 1, 'the first byte');
  await new Promise((resolve) => setImmediate(resolve)); // the turn's end: the next receive is submitted
  const reaped = reactor.stats.ring!.cqes;
  socket.write('abc');
  conn!.pause();
  await until(() => reactor.stats.ring!.cqes > reaped + 1, 'the receive and the cancel reaped');
  t.same(seen, ['x'], 'paused: nothing delivered');
  conn!.resume();
  await until(() => seen.length === 2, 'the kept bytes');
  t.same(seen, ['x', 'abc'], 'delivered on resume, in order');
  socket.write('d');
  await until(() => seen.length === 3, 'reading again');
  t.equal(seen[2], 'd');
  socket.destroy();
  await server.close();
  reactor.close();
  await fds.assertNoneSettled(t);
});

t.test('the read quota: a connection gets at most its quota of bytes per turn, every byte in order', { skip }, async (t) => {
  // One buffer per receive, armed again after each batch: a firehose gets at
  // most one chunk per reap round, so with chunks no larger than the quota
  // it never passes the quota in a turn (under multishot receives this was
  // the scheduler's carry-over; the kept-chunks path is the pause tests').
  const fds = trackFds();
  const readQuota = 4096;
  const reactor = new Reactor({ backend: 'io_uring', readQuota, pool: { chunkSize: 4096 } });
  const core = coreOf(reactor);
  const perTurn = new Map<number, number>();
  const server = new Server(reactor, {
    onData: (connection, data) => {
      perTurn.set(core.turns, (perTurn.get(core.turns) ?? 0) + data.byteLength);
      void connection.write(data);
    },
  });
  const payload = randomBytes(2 * 1024 * 1024);
  const socket = await connectClient(server.port);
  const echoed = receive(socket, payload.length);
  socket.write(payload);
  t.equal(sha256(await echoed), sha256(payload), 'every byte, in order');
  const most = Math.max(...perTurn.values());
  t.ok(perTurn.size > payload.length / readQuota / 2, `spread over ${perTurn.size} turns`);
  t.ok(most <= readQuota, `at most ${most} bytes in one turn (quota ${readQuota})`);
  socket.destroy();
  await server.close();
  reactor.close();
  await fds.assertNoneSettled(t);
});

t.test('a ring out of buffers: receives end with ENOBUFS and are re-armed once chunks come back', { skip }, async (t) => {
  const fds = trackFds();
  const leases: Lease[] = [];
  const reactor = new Reactor({ backend: 'io_uring', pool: { chunkSize: 4096, chunksPerSlab: 2, maxChunks: 4 } });
  const received = new Map<Connection, number>();
  const server = new Server(reactor, {
    onData: (connection, data) => {
      received.set(connection, (received.get(connection) ?? 0) + data.length);
      if (leases.length < 3) leases.push(connection.lease(data)); // chunks held: the ring runs dry
    },
  });
  const sockets = await Promise.all(Array.from({ length: 4 }, () => connectClient(server.port)));
  const PER_SOCKET = 64 * 1024;
  for (const socket of sockets) socket.write(randomBytes(PER_SOCKET));
  await until(() => (reactor.stats.ring?.enobufs ?? 0) > 0, 'a receive to run out of buffers');
  for (const lease of leases.splice(0)) lease.release();
  await until(() => [...received.values()].reduce((sum, bytes) => sum + bytes, 0) === 4 * PER_SOCKET, 'every byte, once buffers were back');
  t.ok(reactor.stats.ring!.enobufs > 0, `ENOBUFS ${reactor.stats.ring!.enobufs} times, each re-armed`);
  for (const socket of sockets) socket.destroy();
  await server.close();
  reactor.close();
  await fds.assertNoneSettled(t);
});

t.test('sends: gathered writes, a large write continued after short sends, sendFile beside them, a send in flight when destroyed', { skip }, async (t) => {
  const fds = trackFds();
  const folder = mkdtempSync(join(tmpdir(), 'zepoll-uring-'));
  t.teardown(() => rmSync(folder, { recursive: true, force: true }));
  const fileBytes = randomBytes(3 * 1024 * 1024);
  writeFileSync(join(folder, 'data'), fileBytes);
  const fileFd = openSync(join(folder, 'data'), 'r');
  const big = randomBytes(8 * 1024 * 1024);
  const reactor = new Reactor({ backend: 'io_uring' });
  const server = new Server(reactor, {
    onData: (connection) => {
      connection.writeMany(['a', 'bc', Buffer.from('def')]);
      connection.write(big);
      void connection.sendFile(fileFd, 0, fileBytes.length).then(() => connection.end());
    },
  });
  const socket = await connectClient(server.port);
  socket.pause(); // the kernel's buffers fill: sends wait, sendFile waits for writability
  const expected = Buffer.concat([Buffer.from('abcdef'), big, fileBytes]);
  const got = receive(socket, expected.length);
  socket.write('go');
  await new Promise((resolve) => setTimeout(resolve, 20));
  socket.resume();
  t.equal(sha256(await got), sha256(expected), 'the parts, the large write and the file, in order');
  await closed(socket);

  // Destroyed with a large send in flight: its chunks stay held until its completion, then go back.
  let victim: Connection | null = null;
  const second = new Server(reactor, { onOpen: (connection) => void (victim = connection) });
  const stalled = await connectClient(second.port);
  stalled.pause();
  await until(() => victim !== null, 'the second connection');
  victim!.write(Buffer.alloc(16 * 1024 * 1024, 1));
  await new Promise((resolve) => setTimeout(resolve, 20));
  victim!.destroy();
  stalled.destroy();
  await until(() => reactor.stats.pool.inUse === reactor.stats.ring!.buffers, 'the pool back to the ring\'s own chunks');
  t.pass('no chunk held once the cancelled send completed');
  await Promise.all([server.close(), second.close()]);
  reactor.close();
  closeSync(fileFd);
  await fds.assertNoneSettled(t);
});

t.test('a handler that throws costs its connection only; the reactor closing fails the rest', { skip }, async (t) => {
  const fds = trackFds();
  const errors: string[] = [];
  const reactor = new Reactor({ backend: 'io_uring', onError: (error) => void errors.push(error.message) });
  const server = new Server(reactor, {
    onData: (connection, data) => {
      if (data.toString() === 'boom') throw new Error('handler failed');
      connection.write(data);
    },
  });
  const bad = await connectClient(server.port);
  const good = await connectClient(server.port);
  const badClosed = closed(bad);
  bad.write('boom');
  await badClosed;
  const echoed = receive(good, 2);
  good.write('ok');
  t.equal((await echoed).toString(), 'ok', 'the other connection goes on');
  t.same(errors, ['handler failed']);
  t.equal(reactor.stats.handlerErrors, 1);
  const goodClosed = closed(good);
  reactor.close(); // open connections fail with ERR_ZEPOLL_REACTOR_CLOSED
  await goodClosed;
  t.equal(reactor.stats.pool.inUse, 0);
  await fds.assertNoneSettled(t);
});

t.test('the backend option: auto, the ZEPOLL_BACKEND default, refusals', { skip }, (t) => {
  const fds = trackFds();
  const auto = new Reactor({ backend: 'auto' });
  t.equal(auto.stats.backend, 'io_uring', 'auto picks io_uring where it works');
  auto.close();
  const saved = process.env['ZEPOLL_BACKEND'];
  t.teardown(() => {
    if (saved === undefined) delete process.env['ZEPOLL_BACKEND'];
    else process.env['ZEPOLL_BACKEND'] = saved;
  });
  process.env['ZEPOLL_BACKEND'] = 'io_uring';
  const fromEnvironment = new Reactor();
  t.equal(fromEnvironment.stats.backend, 'io_uring', 'ZEPOLL_BACKEND sets the default');
  fromEnvironment.close();
  const withMode = new Reactor({ mode: 'et' });
  t.equal(withMode.stats.backend, 'epoll', 'a mode (an epoll option) keeps epoll');
  withMode.close();
  process.env['ZEPOLL_BACKEND'] = 'kqueue';
  t.throws(() => new Reactor(), { code: 'ERR_INVALID_ARG_VALUE', message: /ZEPOLL_BACKEND/ });
  delete process.env['ZEPOLL_BACKEND'];
  const plain = new Reactor({ attach: false });
  t.equal(plain.stats.backend, 'epoll', 'epoll by default');
  plain.close();
  t.throws(() => new Reactor({ backend: 'kqueue' as never }), { code: 'ERR_INVALID_ARG_VALUE', message: /options\.backend/ });
  t.throws(() => new Reactor({ backend: 'io_uring', pool: { maxChunks: 70_000 } }), { code: 'ERR_OUT_OF_RANGE', message: /16 bits/ });
  fds.assertNone(t);
  t.end();
});

t.test('where io_uring cannot serve, the error names the reason', (t) => {
  // This machine has io_uring: the refusal is built from a probe result as a kernel or a seccomp profile would give it.
  const error = ioUringUnavailable(describeIoUringProbe(-constants.errno.EPERM));
  t.equal(error.code, 'ERR_ZEPOLL_IO_URING_UNAVAILABLE');
  t.match(error.message, /io_uring is unavailable \(EPERM\): .*seccomp/);
  t.end();
});

t.test('relay() on io_uring splices once the armed receive is done: what it brought, and what was queued, go first', { skip }, async (t) => {
  const fds = trackFds();
  const upstream = await upstreamEcho();
  const upstreamPort = (upstream.address() as AddressInfo).port;
  const reactor = new Reactor({ backend: 'io_uring' });
  const relays: Relay[] = [];
  const greeting = Buffer.from('relaying\n');
  const server = new Server(reactor, {
    onOpen: (client) => {
      // Queued (a ring send) before the relay: the echoed bytes must come after it.
      client.write(greeting);
      client.pause();
      void connect(reactor, {}, { port: upstreamPort }).then((side) => void relays.push(relay(client, side)));
    },
  });
  const socket = await connectClient(server.port, { allowHalfOpen: true });
  // The first bytes come before the relay exists: the receive armed at open (or its cancelled last completion)
  // holds them, and they reach the upstream ahead of anything spliced.
  const prefix = randomBytes(1000);
  const payload = randomBytes(4 * 1024 * 1024);
  const echoed = receive(socket, greeting.length + prefix.length + payload.length);
  socket.write(prefix);
  socket.write(payload);
  const got = await echoed;
  t.equal(got.subarray(0, greeting.length).toString(), greeting.toString(), 'what was queued before the relay came first');
  t.equal(sha256(got.subarray(greeting.length)), sha256(Buffer.concat([prefix, payload])), 'through the relay to the echo and back, every byte in order');
  socket.end(); // the FIN goes through: the echo ends, and its end comes back
  await closed(socket);
  await Promise.all(relays.map((one) => one.closed));
  const stats = relays[0]!.stats;
  t.same([stats.bytesAToB, stats.bytesBToA], [prefix.length + payload.length, prefix.length + payload.length], 'every byte counted once each way');
  t.ok(stats.pipeSize > 0, 'through pipes');
  t.equal(reactor.stats.connectionsOpen, 0, 'both sides closed');
  await server.close();
  reactor.close();
  await new Promise((resolve) => upstream.close(resolve));
  await fds.assertNoneSettled(t);
});

t.test('clients that reset mid-stream cost their connections only', { skip }, async (t) => {
  const fds = trackFds();
  const { reactor, server } = echo();
  const resetting = await Promise.all(Array.from({ length: 4 }, () => connectClient(server.port)));
  const keeping = await Promise.all(Array.from({ length: 4 }, () => connectClient(server.port)));
  for (const socket of resetting) {
    socket.on('error', () => {});
    socket.write(randomBytes(256 * 1024));
    socket.resetAndDestroy();
  }
  const payload = randomBytes(64 * 1024);
  const echoes = await Promise.all(keeping.map((socket) => {
    const echoed = receive(socket, payload.length);
    socket.write(payload);
    return echoed;
  }));
  t.ok(echoes.every((echoed) => sha256(echoed) === sha256(payload)), 'the others are served, every byte');
  for (const socket of keeping) socket.destroy();
  await until(() => reactor.stats.connectionsOpen === 0, 'every connection closed');
  await server.close();
  reactor.close();
  await fds.assertNoneSettled(t);
});
