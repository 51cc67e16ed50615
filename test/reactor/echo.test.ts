/**
 * Echo through the reactor in every mode (LT, ET, ET with readQuota
 * Infinity, one-shot): payloads from 1 byte to 8 MiB come back exact
 * (sha256), 50 connections at once, half-close in both directions, and a
 * peer reset surfaces as ECONNRESET. Clients are Node's `net` sockets; the
 * open fd count is compared before and after each test.
 */
import t from 'tap';
import { randomBytes } from 'node:crypto';
import { Reactor, type ReactorOptions } from '../../packages/reactor/src/reactor.js';
import { Server } from '../../packages/reactor/src/server.js';
import type { Connection } from '../../packages/reactor/src/connection.js';
import { trackFds } from '../helpers/fds.js';
import { closed, connect, receive, roundTrip, sha256 } from '../helpers/net-client.js';

const MODES: Array<{ name: string; options: ReactorOptions }> = [
  { name: 'LT', options: { mode: 'lt' } },
  { name: 'ET', options: { mode: 'et' } },
  { name: 'ET readQuota Infinity', options: { mode: 'et', readQuota: Infinity } },
  { name: 'one-shot', options: { mode: 'oneshot' } },
];
const SIZES = [1, 1000, 64 * 1024 + 1, 1024 * 1024, 8 * 1024 * 1024];
const CONNECTIONS = 50;

const echo = { onData: (connection: Connection, data: Uint8Array) => void connection.write(data) };

for (const { name, options } of MODES) {
  t.test(`${name}: echo is exact from 1 byte to 8 MiB`, async (t) => {
    const fds = trackFds();
    const reactor = new Reactor(options);
    const server = new Server(reactor, echo);
    for (const size of SIZES) {
      const payload = randomBytes(size);
      const back = await roundTrip(server.port, payload);
      t.equal(back.length, size, `${size} bytes back`);
      t.equal(sha256(back), sha256(payload), `${size} bytes: same sha256`);
    }
    await server.close();
    t.equal(reactor.stats.connectionsOpen, 0);
    t.equal(reactor.stats.queuedBytes, 0, 'nothing left queued');
    t.equal(reactor.stats.pool.inUse, 0, 'every pooled chunk returned');
    reactor.close();
    fds.assertNone(t);
  });

  t.test(`${name}: ${CONNECTIONS} connections at once`, async (t) => {
    const fds = trackFds();
    const reactor = new Reactor(options);
    const server = new Server(reactor, echo);
    const payloads = Array.from({ length: CONNECTIONS }, (_, index) => randomBytes(1024 + index * 997));
    const results = await Promise.all(payloads.map((payload) => roundTrip(server.port, payload)));
    for (let index = 0; index < CONNECTIONS; index += 1) {
      t.equal(sha256(results[index]!), sha256(payloads[index]!), `connection ${index}`);
    }
    t.equal(reactor.stats.connectionsTotal, CONNECTIONS);
    await server.close();
    reactor.close();
    fds.assertNone(t);
  });

  t.test(`${name}: half-close in both directions`, async (t) => {
    const fds = trackFds();
    const reactor = new Reactor(options);
    const events: string[] = [];
    // Client → server half-close: the server keeps writing after the peer's end.
    const server = new Server(
      reactor,
      {
        onData: (connection, data) => void connection.write(data),
        onEnd: (connection) => {
          events.push('server saw end');
          connection.write(new TextEncoder().encode('after your end'));
          connection.end();
        },
      },
      { allowHalfOpen: true },
    );
    const back = await roundTrip(server.port, Buffer.from('ping'));
    t.equal(back.toString(), 'pingafter your end', 'writes after the peer ended arrive');
    t.same(events, ['server saw end']);
    // Server → client half-close: the server ends first and still reads.
    let received = '';
    const second = new Server(
      reactor,
      {
        onOpen: (connection) => {
          connection.write(new TextEncoder().encode('bye'));
          connection.end();
        },
        onData: (_connection, data) => void (received += Buffer.from(data).toString()),
      },
      { allowHalfOpen: true },
    );
    const socket = await connect(second.port, { allowHalfOpen: true });
    socket.setEncoding('utf8');
    let fromServer = '';
    socket.on('data', (data: string) => (fromServer += data));
    await new Promise<void>((resolve) => socket.once('end', () => resolve()));
    t.equal(fromServer, 'bye');
    socket.end('still talking');
    await closed(socket);
    // The client is gone once both sides ended; the server's read may still be on its way.
    for (let wait = 0; wait < 200 && second.connections.size > 0; wait += 1) await new Promise((resolve) => setTimeout(resolve, 5));
    await second.close();
    t.equal(received, 'still talking', 'the server read after its own end');
    await server.close();
    reactor.close();
    fds.assertNone(t);
  });

  t.test(`${name}: a peer reset surfaces as ECONNRESET and closes the connection`, async (t) => {
    const fds = trackFds();
    const reactor = new Reactor(options);
    const seen: Array<string | undefined> = [];
    const server = new Server(reactor, {
      onData: (connection, data) => void connection.write(data),
      onError: (_connection, error) => seen.push(`error ${(error as Error & { code?: string }).code}`),
      onClose: (_connection, error) => seen.push(`close ${(error as (Error & { code?: string }) | undefined)?.code}`),
    });
    const socket = await connect(server.port);
    socket.write('x');
    await receive(socket, 1);
    socket.resetAndDestroy();
    for (let wait = 0; wait < 100 && reactor.stats.connectionsOpen > 0; wait += 1) await new Promise((resolve) => setTimeout(resolve, 10));
    t.same(seen, ['error ECONNRESET', 'close ECONNRESET']);
    t.equal(reactor.stats.connectionsOpen, 0);
    await server.close();
    reactor.close();
    fds.assertNone(t);
  });
}
