/**
 * Outbound connections: connect resolves with an open connection (traffic
 * flows both ways), refuses with ECONNREFUSED, times out against a backlog
 * that never answers; the pool reuses idle connections, keeps at most
 * maxIdle, drops old and broken ones. No fd leaks.
 */
import t from 'tap';
import { binding } from '../../packages/reactor/src/native.js';
import { Reactor } from '../../packages/reactor/src/reactor.js';
import { Server } from '../../packages/reactor/src/server.js';
import { connect, ConnectionPool } from '../../packages/reactor/src/connect.js';
import type { Connection, ConnectionHandler } from '../../packages/reactor/src/connection.js';
import { listenTcp, connectTcp } from '../../packages/reactor/src/backend/sockets.js';
import { trackFds } from '../helpers/fds.js';
import { until } from '../helpers/wait.js';

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
const text = (data: Uint8Array): string => Buffer.from(data).toString();

function collector(): { handler: ConnectionHandler; received: () => string; waitFor: (value: string) => Promise<void> } {
  let received = '';
  return {
    handler: { onData: (_connection, data) => void (received += text(data)) },
    received: () => received,
    async waitFor(value: string) {
      await until(() => received === value, `"${value}" received`);
    },
  };
}

t.test('connect resolves with an open connection; bytes flow both ways', async (t) => {
  const fds = trackFds();
  const reactor = new Reactor();
  const server = new Server(reactor, { onData: (connection, data) => void connection.write(data) });
  const client = collector();
  let opened = 0;
  const connection = await connect(reactor, { ...client.handler, onOpen: () => (opened += 1) }, { port: server.port });
  t.equal(opened, 1, 'onOpen ran before the promise resolved');
  connection.write(new TextEncoder().encode('hello upstream'));
  await client.waitFor('hello upstream');
  t.equal(client.received(), 'hello upstream');
  t.equal(connection.remoteAddress().port, server.port);
  connection.destroy();
  await server.close();
  reactor.close();
  fds.assertNone(t);
});

t.test('connect leaves from localAddress when given', async (t) => {
  const fds = trackFds();
  const reactor = new Reactor();
  const server = new Server(reactor, {});
  const connection = await connect(reactor, {}, { port: server.port, localAddress: '127.0.0.4' });
  t.equal(connection.localAddress().address, '127.0.0.4');
  t.throws(() => connect(reactor, {}, { port: server.port, localAddress: 4 as unknown as string }), { code: 'ERR_INVALID_ARG_TYPE' });
  connection.destroy();
  await server.close();
  reactor.close();
  fds.assertNone(t);
});

t.test('connect rejects with ECONNREFUSED, and with a timeout when the backlog never answers', async (t) => {
  const fds = trackFds();
  const reactor = new Reactor();
  const gone = listenTcp();
  binding.close(gone.fd);
  await t.rejects(connect(reactor, {}, { port: gone.port }), { code: 'ECONNREFUSED', syscall: 'connect' });
  // A listener that never accepts, with its backlog full: SYNs are dropped.
  const stuck = binding.listen('127.0.0.1', 0, 0, false);
  const port = (() => {
    const scratch = new Uint8Array(128);
    binding.localAddress(stuck, scratch);
    return (scratch[2]! << 8) | scratch[3]!;
  })();
  const fillers = Array.from({ length: 4 }, () => connectTcp('127.0.0.1', port));
  await until(() => binding.poll(Int32Array.of(stuck, binding.constants.POLLIN), 1, 0) === 1, 'a handshake queued at the listener: its backlog of 0 is full');
  await t.rejects(connect(reactor, {}, { port, timeoutMs: 200 }), { code: 'ERR_ZEPOLL_CONNECT_TIMEOUT' });
  t.throws(() => connect(reactor, {}, { port, timeoutMs: 0 }), { code: 'ERR_OUT_OF_RANGE' });
  for (const fd of [...fillers, stuck]) binding.close(fd);
  reactor.close();
  await t.rejects(connect(reactor, {}, { port: 9 }), { code: 'ERR_ZEPOLL_REACTOR_CLOSED' }, 'a closed reactor connects nothing (and leaks no fd)');
  fds.assertNone(t);
});

t.test('the pool reuses idle connections and drops extra, old and broken ones', async (t) => {
  const fds = trackFds();
  const reactor = new Reactor();
  const serverSide: Connection[] = [];
  const server = new Server(reactor, {
    onOpen: (connection) => void serverSide.push(connection),
    onData: (connection, data) => void connection.write(data),
  });
  // The lifetime is another pool's (below): on a busy machine 150 ms can pass between any two steps here.
  const pool = new ConnectionPool(reactor, { port: server.port, maxIdle: 1 });
  const first = collector();
  const a = await pool.get(first.handler);
  a.write(new TextEncoder().encode('one'));
  await first.waitFor('one');
  pool.release(a);
  const second = collector();
  const again = await pool.get(second.handler);
  t.equal(again, a, 'the idle connection was reused');
  again.write(new TextEncoder().encode('two'));
  await second.waitFor('two');
  t.equal(second.received(), 'two', 'the new handler gets the traffic');
  t.equal(first.received(), 'one', 'the old handler gets nothing more');
  const b = await pool.get(collector().handler);
  pool.release(again);
  pool.release(b); // maxIdle 1: discarded
  t.match(pool.stats, { created: 2, reused: 1, idle: 1, discarded: 1 });
  // Broken while idle: the upstream sends unasked bytes, or closes; the pool drops it.
  const talkative = serverSide.find((connection) => connection.isOpen && connection.remoteAddress().port === again.localAddress().port);
  talkative?.write(new TextEncoder().encode('unasked'));
  await until(() => pool.stats.idle === 0, 'the idle connection that received bytes to leave the pool');
  t.equal(pool.stats.idle, 0, 'an idle connection that received bytes left the pool');
  const e = await pool.get(collector().handler);
  pool.release(e);
  await until(() => serverSide.some((connection) => connection.isOpen && connection.remoteAddress().port === e.localAddress().port), 'the upstream to accept it');
  for (const connection of serverSide) if (connection.isOpen) connection.end();
  await until(() => pool.stats.idle === 0, 'the connection closed by the upstream to leave the pool');
  t.equal(pool.stats.idle, 0, 'a connection closed by the upstream left the pool');
  // Old: past maxLifetimeMs it is not handed out again.
  const aging = new ConnectionPool(reactor, { port: server.port, maxIdle: 1, maxLifetimeMs: 150 });
  const c = await aging.get(collector().handler);
  aging.release(c);
  await sleep(200); // time is what is tested: past maxLifetimeMs (150), with no event to wait for
  const d = await aging.get(collector().handler);
  t.not(d, c, 'an expired connection was replaced');
  aging.release(d);
  aging.close();
  pool.close();
  pool.release(d);
  await t.rejects(pool.get(collector().handler), { code: 'ERR_ZEPOLL_REACTOR_CLOSED' });
  await server.close();
  reactor.close();
  fds.assertNone(t);
});
