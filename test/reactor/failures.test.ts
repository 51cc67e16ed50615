/**
 * Failure paths: handler exceptions with and without onError (the latter
 * reported to the reactor's onError, never swallowed and never rethrown
 * into the process), onOpen and onDrain
 * throwing, writes to a reset peer (EPIPE/ECONNRESET as the connection's
 * error), connects cut short by a closed reactor or a throwing onOpen,
 * relays fed bad arguments, reset mid-stream or held back by a slow reader.
 */
import t from 'tap';
import net from 'node:net';
import { randomBytes } from 'node:crypto';
import { Reactor, type Mode } from '../../packages/reactor/src/reactor.js';
import { Server } from '../../packages/reactor/src/server.js';
import { connect } from '../../packages/reactor/src/connect.js';
import { relay, type Relay } from '../../packages/reactor/src/relay.js';
import { binding } from '../../packages/reactor/src/native.js';
import { connectTcp } from '../../packages/reactor/src/backend/sockets.js';
import type { Connection } from '../../packages/reactor/src/connection.js';
import { trackFds } from '../helpers/fds.js';
import { captureUncaught } from '../helpers/uncaught.js';
import { closed, connect as connectClient, receive, sha256, upstreamEcho } from '../helpers/net-client.js';
import { until } from '../helpers/wait.js';

const codeOf = (error: unknown): string | undefined => (error as { code?: string } | undefined)?.code;

t.test('a handler error with no onError goes to the reactor\'s onError, never to the process, and the connection closes', async (t) => {
  const fds = trackFds();
  const reported: string[] = [];
  const reactor = new Reactor({ onError: (error) => void reported.push(error.message) });
  const closes: Array<string | undefined> = [];
  const server = new Server(reactor, {
    onOpen: (connection) => {
      if (server.connections.size === 1 && closes.length === 0) throw new Error('onOpen failed');
      connection.write(new Uint8Array([1]));
    },
    onData: () => {
      throw new Error('onData failed');
    },
    onClose: (_connection, error) => closes.push((error as Error | undefined)?.message),
  });
  const caught = await captureUncaught(async () => {
    const first = await connectClient(server.port);
    await closed(first.on('error', () => {}));
    const second = await connectClient(server.port);
    await receive(second, 1);
    second.write('x');
    await closed(second.on('error', () => {}));
  });
  t.same(caught, [], 'nothing reached the process');
  t.same(reported, ['onOpen failed', 'onData failed'], 'the reactor\'s onError got both');
  t.same(closes, ['onOpen failed', 'onData failed']);
  t.equal(reactor.stats.handlerErrors, 2, 'counted');
  await server.close();
  reactor.close();
  fds.assertNone(t);
});

t.test('onDrain throwing inside a corked flush destroys that connection only', async (t) => {
  const fds = trackFds();
  const reactor = new Reactor({ mode: 'lt' });
  const big = randomBytes(4 * 1024 * 1024);
  const errors: string[] = [];
  const server = new Server(reactor, {
    onData: (connection) => void connection.write(big),
    onDrain: () => {
      throw new Error('drain failed');
    },
    onError: (_connection, error) => errors.push(error.message),
  }, { highWaterMark: 1024 });
  const socket = await connectClient(server.port);
  socket.write('go');
  const got = await receive(socket, big.length);
  t.equal(sha256(got), sha256(big));
  await closed(socket);
  t.same(errors, ['drain failed']);
  await server.close();
  reactor.close();
  fds.assertNone(t);
});

t.test('writing to a peer that reset surfaces EPIPE or ECONNRESET from the write', async (t) => {
  const fds = trackFds();
  // Detached: no event is handled unless runOnce is called, so the write,
  // not a read of the reset, is what meets it.
  const reactor = new Reactor({ attach: false });
  let code: string | undefined;
  let syscall: string | undefined;
  const server = new Server(reactor, {
    onError: (_connection, error) => {
      code = codeOf(error);
      syscall = (error as { syscall?: string }).syscall;
    },
  });
  const client = connectTcp('127.0.0.1', server.port);
  for (let turn = 0; turn < 50 && server.connections.size === 0; turn += 1) reactor.runOnce(20);
  const target = [...server.connections][0]!;
  target.write(new Uint8Array(16)); // the client never reads these
  await until(() => binding.bytesReadable(client) === 16, 'the 16 bytes in the client\'s receive queue');
  binding.close(client); // closing with unread data sends a reset
  // poll(2) reports the reset (POLLERR, POLLHUP: never asked for) and, unlike SO_ERROR, leaves the socket's error for the write.
  const pollfd = Int32Array.of(target.fd, 0);
  await until(() => binding.poll(pollfd, 1, 0) === 1, 'the reset at the server\'s socket');
  for (let attempt = 0; attempt < 4 && target.isOpen; attempt += 1) target.write(new Uint8Array(1024));
  // io_uring: a send is a request, its failure a completion that a turn reaps (the armed receive may meet the reset first).
  const uring = reactor.stats.backend === 'io_uring';
  for (let turn = 0; uring && turn < 50 && target.isOpen; turn += 1) reactor.runOnce(20);
  t.notOk(target.isOpen, 'destroyed by the failed write');
  t.ok(code === 'EPIPE' || code === 'ECONNRESET', `closed with ${code}`);
  t.ok(uring ? syscall === 'send' || syscall === 'recv' : syscall === 'write', `from ${syscall}`);
  await server.close();
  reactor.close();
  fds.assertNone(t);
});

t.test('a connect cut short by a throwing onOpen or a closed reactor rejects and leaks nothing', async (t) => {
  const fds = trackFds();
  const reactor = new Reactor();
  const server = new Server(reactor, {});
  const caught = await captureUncaught(async () => {
    await t.rejects(
      connect(reactor, { onOpen: () => { throw new Error('client onOpen failed'); } }, { port: server.port }),
      { message: 'client onOpen failed' },
    );
  });
  t.equal(caught.length, 0, 'reported once, through the rejection');
  await server.close();
  const pending = connect(reactor, {}, { port: 9, timeoutMs: 1000 }); // nothing listens on port 9: refused or pending
  reactor.close();
  await t.rejects(pending, 'rejected, whichever came first');
  fds.assertNone(t);
});

async function proxy(mode: Mode): Promise<{ reactor: Reactor; server: Server; relays: Relay[]; upstream: net.Server }> {
  const upstream = await upstreamEcho();
  const port = (upstream.address() as net.AddressInfo).port;
  // ET runs with the debug check: a relay turn must never strand bytes.
  const reactor = new Reactor({ mode, readQuota: 16 * 1024, debug: mode === 'et' });
  const relays: Relay[] = [];
  const server = new Server(reactor, {
    onOpen: (client) => {
      client.pause();
      void connect(reactor, {}, { port }).then((upstreamSide) => void relays.push(relay(client, upstreamSide)));
    },
  });
  return { reactor, server, relays, upstream };
}

for (const mode of ['lt', 'et', 'oneshot'] as const) {
  t.test(`${mode}: a relay holds back when the reader is slow, and loses nothing`, async (t) => {
    const fds = trackFds();
    const { reactor, server, relays, upstream } = await proxy(mode);
    const socket = await connectClient(server.port);
    socket.pause();
    const payload = randomBytes(16 * 1024 * 1024);
    socket.write(payload);
    // The echo fills the client's buffers: the relay holds back, its upstream side paused.
    await until(() => relays.length > 0 && relays[0]!.b.reader.isPaused, 'the relay to stop reading the upstream');
    const receiving = receive(socket, payload.length);
    socket.resume();
    t.equal(sha256(await receiving), sha256(payload));
    t.equal(reactor.stats.debugWarnings, 0, 'no relay turn stranded bytes (checked in ET)');
    socket.end();
    await closed(socket);
    await Promise.all(relays.map((one) => one.closed));
    await server.close();
    reactor.close();
    await new Promise((resolve) => upstream.close(resolve));
    fds.assertNone(t);
  });
}

t.test('a reset in the middle of a relay closes both sides; bad relays are refused', async (t) => {
  const fds = trackFds();
  const { reactor, server, relays, upstream } = await proxy('et');
  const socket = await connectClient(server.port);
  socket.write(randomBytes(1024 * 1024));
  await receive(socket, 1024);
  socket.resetAndDestroy();
  await until(() => relays.length > 0, 'the relay');
  await Promise.all(relays.map((one) => one.closed));
  t.equal(reactor.stats.connectionsOpen, 0, 'both sides closed');
  // Refused relays.
  const other = new Reactor();
  const pair: Connection[] = [];
  const a = new Server(reactor, { onOpen: (connection) => void pair.push(connection) });
  const b = new Server(other, { onOpen: (connection) => void pair.push(connection) });
  const clients = [await connectClient(a.port), await connectClient(b.port)];
  await until(() => pair.length === 2, 'both connections accepted');
  t.throws(() => relay(pair[0]!, pair[1]!), { code: 'ERR_INVALID_ARG_VALUE' }, 'two reactors');
  pair[0]!.destroy();
  t.throws(() => relay(pair[0]!, pair[1]!), { code: 'ERR_ZEPOLL_CONNECTION_CLOSED' }, 'a closed connection');
  for (const client of clients) client.destroy();
  await Promise.all([a.close(100), b.close(100), server.close()]);
  other.close();
  reactor.close();
  await new Promise((resolve) => upstream.close(resolve));
  fds.assertNone(t);
});
