/**
 * Connection and reactor lifetimes: idle timeouts fire at their floor and
 * never early; graceful server close under load loses no queued response;
 * handler exceptions destroy only their connection and are reported; a
 * closed connection gets no further callback, even from the same batch;
 * misuse throws with a code; runOnce drives a detached reactor.
 */
import t from 'tap';
import { randomBytes } from 'node:crypto';
import { binding } from '../../packages/reactor/src/native.js';
import { Reactor } from '../../packages/reactor/src/reactor.js';
import { Server } from '../../packages/reactor/src/server.js';
import type { Connection } from '../../packages/reactor/src/connection.js';
import { trackFds } from '../helpers/fds.js';
import { closed, connect, receive, roundTrip, sha256 } from '../helpers/net-client.js';
import { until } from '../helpers/wait.js';

t.test('reactor options are validated; ref and unref are accepted', (t) => {
  const reactor = new Reactor({ ref: false });
  reactor.ref();
  reactor.unref();
  t.equal(reactor.isClosed, false);
  reactor.close();
  t.equal(reactor.isClosed, true);
  t.throws(() => new Reactor({ mode: 'edge' as 'et' }), { code: 'ERR_INVALID_ARG_VALUE' });
  t.throws(() => new Reactor({ readQuota: 0 }), { code: 'ERR_OUT_OF_RANGE' });
  t.throws(() => new Reactor({ readQuota: 1.5 }), { code: 'ERR_OUT_OF_RANGE' });
  t.end();
});

t.test('an idle connection closes at its timeout, never before', async (t) => {
  const fds = trackFds();
  const reactor = new Reactor();
  const IDLE_MS = 120;
  let closedAt = 0;
  let code: string | undefined;
  const server = new Server(
    reactor,
    {
      onError: () => {},
      onClose: (_connection, error) => {
        closedAt = performance.now();
        code = (error as (Error & { code?: string }) | undefined)?.code;
      },
    },
    { idleTimeoutMs: IDLE_MS },
  );
  const openedAt = performance.now();
  const socket = await connect(server.port);
  await closed(socket);
  t.equal(code, 'ERR_ZEPOLL_IDLE_TIMEOUT');
  t.ok(closedAt - openedAt >= IDLE_MS, `closed after ${Math.round(closedAt - openedAt)} ms, floor ${IDLE_MS}`);
  // onTimeout lets the handler decide instead.
  let timeouts = 0;
  const second = new Server(reactor, { onTimeout: (connection) => (timeouts += 1) === 2 && connection.end() }, { idleTimeoutMs: 40 });
  const other = await connect(second.port);
  await closed(other);
  t.equal(timeouts, 2, 'the handler saw two timeouts and ended on the second');
  // An onTimeout that throws runs from the sweep's timer: it takes its own
  // connection down through onError, never the process.
  const failures: string[] = [];
  const third = new Server(
    reactor,
    {
      onTimeout: () => {
        throw new Error('onTimeout failed');
      },
      onError: (_connection, error) => void failures.push(error.message),
    },
    { idleTimeoutMs: 30 },
  );
  const errorsBefore = reactor.stats.handlerErrors;
  await closed(await connect(third.port));
  t.same(failures, ['onTimeout failed'], 'the throw reached onError');
  t.equal(reactor.stats.handlerErrors - errorsBefore, 1, 'and was counted');
  await server.close();
  await second.close();
  await third.close();
  reactor.close();
  fds.assertNone(t);
});

t.test('graceful close under load loses no queued response', async (t) => {
  const fds = trackFds();
  const reactor = new Reactor({ mode: 'et' });
  // Each echo is larger than what loopback's kernel buffers hold for one
  // connection (about 10 MiB here), so part of it must wait in the queue.
  const server = new Server(reactor, { onData: (connection, data) => void connection.write(data) }, { maxQueuedBytes: 64 * 1024 * 1024 });
  const CLIENTS = 8;
  const SIZE = 16 * 1024 * 1024;
  const sockets = await Promise.all(Array.from({ length: CLIENTS }, () => connect(server.port)));
  const payloads = sockets.map(() => randomBytes(SIZE));
  // Clients do not read yet: the echoes pile up in the server's queues.
  for (const socket of sockets) socket.pause();
  sockets.forEach((socket, index) => socket.write(payloads[index]!));
  await until(() => reactor.stats.bytesIn >= CLIENTS * SIZE, 'the server to read every request byte');
  t.equal(reactor.stats.bytesIn, CLIENTS * SIZE, 'the server has read every request byte');
  t.ok(reactor.stats.queuedBytes > 0, 'and holds queued responses');
  const closing = server.close(10_000);
  const echoes = sockets.map((socket) => receive(socket, SIZE));
  for (const socket of sockets) socket.resume();
  const received = await Promise.all(echoes);
  await closing;
  for (let index = 0; index < CLIENTS; index += 1) t.equal(sha256(received[index]!), sha256(payloads[index]!), `client ${index} got its whole echo`);
  await Promise.all(sockets.map((socket) => (socket.end(), closed(socket))));
  t.equal(reactor.stats.connectionsOpen, 0);
  reactor.close();
  fds.assertNone(t);
});

t.test('close() after its timeout force-closes connections that stay open', async (t) => {
  const fds = trackFds();
  const reactor = new Reactor();
  const codes: Array<string | undefined> = [];
  const server = new Server(reactor, { onError: () => {}, onClose: (_c, error) => codes.push((error as (Error & { code?: string }) | undefined)?.code) }, { allowHalfOpen: true });
  const socket = await connect(server.port, { allowHalfOpen: true });
  await until(() => server.connections.size === 1, 'the server to accept the connection');
  await server.close(50); // the client never ends: the timeout decides
  t.same(codes, ['ERR_ZEPOLL_SERVER_CLOSED']);
  t.equal(await server.close(), undefined, 'close() again returns the same settled promise');
  socket.destroy();
  await closed(socket);
  reactor.close();
  fds.assertNone(t);
});

t.test('a throwing handler destroys only its connection and reports the error', async (t) => {
  const fds = trackFds();
  const reactor = new Reactor();
  const errors: string[] = [];
  const server = new Server(reactor, {
    onData: (connection, data) => {
      if (Buffer.from(data).toString() === 'boom') throw new Error('handler failed');
      connection.write(data);
    },
    onError: (_connection, error) => errors.push(error.message),
  });
  const healthy = roundTrip(server.port, Buffer.from('fine'));
  const failing = await connect(server.port);
  failing.write('boom');
  await closed(failing.on('error', () => {}));
  t.equal((await healthy).toString(), 'fine', 'the other connection is served');
  t.same(errors, ['handler failed']);
  t.equal(reactor.stats.handlerErrors, 1);
  await server.close();
  reactor.close();
  fds.assertNone(t);
});

t.test('a connection destroyed in a batch gets no callback from the rest of it; misuse throws', async (t) => {
  const fds = trackFds();
  const reactor = new Reactor({ attach: false, mode: 'lt' });
  const seen: string[] = [];
  const byName = new Map<string, Connection>();
  const server = new Server(reactor, {
    onData: (connection, data) => {
      const text = Buffer.from(data).toString();
      seen.push(text);
      byName.set(text, connection);
      // Whichever comes first destroys the other one.
      for (const [name, other] of byName) if (other !== connection) other.destroy();
      if (seen.length === 1) for (const other of server.connections) if (other !== connection) other.destroy();
    },
  });
  const a = await connect(server.port);
  const b = await connect(server.port);
  for (let turn = 0; turn < 20 && server.connections.size < 2; turn += 1) reactor.runOnce(50);
  t.equal(server.connections.size, 2, 'both accepted by runOnce');
  a.write('a');
  b.write('b');
  // Both payloads in the kernel: one batch holds both events.
  await until(() => [...server.connections].every((connection) => binding.bytesReadable(connection.fd) === 1), 'both payloads in the server\'s receive queues');
  t.equal(reactor.runOnce(100), 2, 'one batch, two events');
  t.equal(seen.length, 1, 'the destroyed connection got no onData from the same batch');
  const survivor = [...server.connections][0]!;
  t.ok(survivor.isOpen);
  t.ok(survivor.remoteAddress().port > 0);
  t.equal(survivor.localAddress().port, server.port);
  survivor.end();
  t.throws(() => survivor.write(new Uint8Array(1)), { code: 'ERR_ZEPOLL_WRITE_AFTER_END' });
  survivor.destroy();
  survivor.destroy(); // idempotent
  t.throws(() => survivor.write(new Uint8Array(1)), { code: 'ERR_ZEPOLL_CONNECTION_CLOSED' });
  t.throws(() => survivor.lease(new Uint8Array(1)), { code: 'ERR_INVALID_ARG_VALUE' });
  await server.close();
  reactor.close();
  reactor.close();
  t.throws(() => reactor.runOnce(0), { code: 'ERR_ZEPOLL_REACTOR_CLOSED' });
  a.destroy();
  b.destroy();
  await Promise.all([closed(a), closed(b)]);
  fds.assertNone(t);
});

t.test('pause() stops reading, resume() delivers what arrived meanwhile; reactor.close() closes connections', async (t) => {
  const fds = trackFds();
  for (const mode of ['lt', 'et', 'oneshot'] as const) {
    const reactor = new Reactor({ mode });
    let received = '';
    let paused: Connection | undefined;
    const closes: Array<string | undefined> = [];
    const server = new Server(reactor, {
      onOpen: (connection) => {
        paused = connection;
        connection.pause();
        connection.pause(); // no-op
      },
      onData: (_connection, data) => void (received += Buffer.from(data).toString()),
      onClose: (_connection, error) => closes.push((error as (Error & { code?: string }) | undefined)?.code),
      onError: () => {},
    });
    // A second server on the same reactor: its marker shows a turn ran after the held bytes arrived.
    let marked = '';
    const markerServer = new Server(reactor, { onData: (_connection, data) => void (marked += Buffer.from(data).toString()), onError: () => {} });
    const markerSocket = await connect(markerServer.port);
    const socket = await connect(server.port);
    socket.write('held');
    await until(() => paused !== undefined && binding.bytesReadable(paused.fd) === 'held'.length, `${mode}: the held bytes in the server's receive queue`);
    // Ordering, not time: the marker is sent after the held bytes arrived, so
    // the turn that delivers it has seen their readiness too.
    markerSocket.write('marker');
    await until(() => marked === 'marker', `${mode}: the marker on the other connection`);
    t.equal(received, '', `${mode}: nothing delivered while paused`);
    paused!.resume();
    paused!.resume(); // no-op
    await until(() => received !== '', `${mode}: delivery after resume`);
    t.equal(received, 'held', `${mode}: delivered after resume`);
    reactor.close();
    t.same(closes, ['ERR_ZEPOLL_REACTOR_CLOSED'], `${mode}: closing the reactor closes its connections`);
    await closed(socket.on('error', () => {}));
    await closed(markerSocket.on('error', () => {}));
    void server;
  }
  fds.assertNone(t);
});
