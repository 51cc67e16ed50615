/**
 * Zero-copy paths of the reactor. sendFile: a file goes out with sendfile,
 * in order with write(), exactly (sha256), with backpressure (the promise
 * settles only once a slow reader took the bytes), and fails cleanly on a
 * closed connection or a file shorter than asked. relay: a proxy built from
 * a Server, connect() and relay() carries 8 MiB both ways exactly while
 * the reactor reads zero bytes into JavaScript (all splice).
 */
import t from 'tap';
import { until } from '../helpers/wait.js';
import { ioUringSupport } from '../../packages/reactor/src/backend/io-uring-support.js';
import { RELAY_PIPE_SIZE } from '../../packages/reactor/src/relay.js';
import { readFileSync } from 'node:fs';
import net from 'node:net';
import { randomBytes } from 'node:crypto';
import { closeSync, mkdtempSync, openSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Reactor, type Mode } from '../../packages/reactor/src/reactor.js';
import { Server } from '../../packages/reactor/src/server.js';
import { connect } from '../../packages/reactor/src/connect.js';
import { relay, type Relay } from '../../packages/reactor/src/relay.js';
import type { Connection } from '../../packages/reactor/src/connection.js';
import { trackFds } from '../helpers/fds.js';
import { closed, connect as connectClient, receive, roundTrip, sha256, upstreamEcho } from '../helpers/net-client.js';

const directory = mkdtempSync(join(tmpdir(), 'zepoll-reactor-zerocopy-'));
const FILE_SIZE = 6 * 1024 * 1024 + 333;
const content = randomBytes(FILE_SIZE);
const path = join(directory, 'file.bin');
writeFileSync(path, content);
t.teardown(() => rmSync(directory, { recursive: true, force: true }));
const MODES: Mode[] = ['lt', 'et', 'oneshot'];
const encoder = new TextEncoder();
/** The kernel refused bytes and the connection waits for writability (its writer's flag, internal). */
const waitsForWritable = (connection: Connection): boolean => (connection as unknown as { writer: { armed: boolean } }).writer.armed;

for (const mode of MODES) {
  t.test(`${mode}: sendFile goes out in order with writes, exactly, with backpressure`, async (t) => {
    const fds = trackFds();
    const reactor = new Reactor({ mode });
    const file = openSync(path, 'r');
    let settledAt = -1;
    let sent = -1;
    const server = new Server(reactor, {
      onOpen: (connection) => {
        connection.write(encoder.encode('HEAD'));
        void connection.sendFile(file, 100, FILE_SIZE - 100).then((count) => {
          sent = count;
          settledAt = performance.now();
        });
        connection.write(encoder.encode('TAIL'));
        connection.end();
      },
    });
    const socket = await connectClient(server.port);
    socket.pause();
    // Backpressure end to end: the paused reader has stopped taking bytes
    // (Node reads up to its high-water mark, then stops) and the server waits
    // for writability; nothing more can go until the reader reads.
    await until(
      () => settledAt !== -1 || (socket.readableLength >= socket.readableHighWaterMark && [...server.connections].some(waitsForWritable)),
      'the reader stopped and the server waiting for writability (or a settled send, which fails below)',
    );
    t.equal(settledAt, -1, 'not settled while the reader has not read (the file is larger than the socket buffers)');
    const resumedAt = performance.now();
    const receiving = receive(socket, 4 + FILE_SIZE - 100 + 4);
    socket.resume();
    const received = await receiving;
    t.equal(received.subarray(0, 4).toString(), 'HEAD');
    t.equal(received.subarray(received.length - 4).toString(), 'TAIL');
    t.equal(sha256(received.subarray(4, received.length - 4)), sha256(content.subarray(100)), 'the file bytes, exactly');
    t.equal(sent, FILE_SIZE - 100);
    t.ok(settledAt >= resumedAt, 'settled after the reader started reading');
    t.ok(reactor.stats.syscalls.sendfile > 0, `${reactor.stats.syscalls.sendfile} sendfile calls`);
    await closed(socket);
    await server.close();
    closeSync(file);
    reactor.close();
    fds.assertNone(t);
  });
}

t.test('sendFile throws at once on a closed connection or a bad argument, rejects on a short file', async (t) => {
  const fds = trackFds();
  const reactor = new Reactor();
  const file = openSync(path, 'r');
  const outcomes: string[] = [];
  const server = new Server(reactor, {
    onOpen: (connection) => {
      try {
        void connection.sendFile(file, -1, 10);
      } catch (error) {
        outcomes.push(`negative offset: ${(error as { code: string }).code} ${(error as Error).name}`);
      }
      void connection.sendFile(file, 0, 0).then((count) => outcomes.push(`empty: ${count}`));
      // Asks for more than the file holds: the peer would get a short body.
      void connection.sendFile(file, FILE_SIZE - 10, 100).catch((error: { code: string }) => outcomes.push(`short file: ${error.code}`));
    },
    onError: () => {},
    onClose: (connection) => {
      try {
        void connection.sendFile(file, 0, 1);
      } catch (error) {
        outcomes.push(`closed: ${(error as { code: string }).code}`);
      }
      connection.context = 'closed';
    },
  });
  const socket = await connectClient(server.port);
  socket.resume();
  await closed(socket);
  await until(() => outcomes.length >= 4, 'the four outcomes');
  t.same(outcomes.sort(), ['closed: ERR_ZEPOLL_CONNECTION_CLOSED', 'empty: 0', 'negative offset: ERR_OUT_OF_RANGE RangeError', 'short file: ERR_OUT_OF_RANGE']);
  await server.close();
  closeSync(file);
  reactor.close();
  fds.assertNone(t);
});

for (const mode of MODES) {
  t.test(`${mode}: relay proxies 8 MiB both ways with splice, no byte through JavaScript`, async (t) => {
    const fds = trackFds();
    const upstream = await upstreamEcho();
    const upstreamPort = (upstream.address() as net.AddressInfo).port;
    const reactor = new Reactor({ mode });
    const relays: Relay[] = [];
    const proxy = new Server(reactor, {
      onOpen: (client) => {
        client.pause(); // nothing is read until the relay takes over
        void connect(reactor, {}, { port: upstreamPort }).then(
          (server) => void relays.push(relay(client, server)),
          () => client.destroy(),
        );
      },
    });
    const payload = randomBytes(8 * 1024 * 1024);
    const [back, small] = await Promise.all([roundTrip(proxy.port, payload), roundTrip(proxy.port, Buffer.from('tiny'))]);
    t.equal(sha256(back), sha256(payload), '8 MiB through the proxy and back, exactly');
    t.equal(small.toString(), 'tiny');
    await Promise.all(relays.map((one) => one.closed));
    const stats = reactor.stats;
    t.equal(stats.syscalls.read, 0, 'the reactor read no byte into memory');
    t.ok(stats.syscalls.splice > 0, `${stats.syscalls.splice} splice calls`);
    t.equal(relays[0]!.stats.bytesAToB + relays[1]!.stats.bytesAToB, payload.length + 4);
    // The pipes asked for RELAY_PIPE_SIZE within /proc/sys/fs/pipe-max-size; a user past its pipe pages keeps 64 KiB.
    const pipeMax = Math.min(RELAY_PIPE_SIZE, Number(readFileSync('/proc/sys/fs/pipe-max-size', 'latin1')));
    t.ok(relays.every((one) => one.stats.pipeSize === pipeMax || one.stats.pipeSize === 64 * 1024), `pipes of ${relays.map((one) => one.stats.pipeSize).join(', ')} bytes`);
    if (process.getuid?.() === 0) t.equal(relays[0]!.stats.pipeSize, pipeMax, 'as root the size asked is granted');
    t.equal(stats.connectionsOpen, 0, 'both sides of every relay closed');
    await proxy.close();
    reactor.close();
    await new Promise((resolve) => upstream.close(resolve));
    fds.assertNone(t);
  });
}

/** A relayed client's idle timeout: well past an upstream connect and a relay set-up on a loaded machine. */
const RELAYED_IDLE_TIMEOUT_MS = 300;

/** The backends relay() runs on here: io_uring cancels its armed receives before splicing, and must keep the same contract. */
const BACKENDS = ['epoll', ...(ioUringSupport().available ? ['io_uring' as const] : [])] as const;

for (const backend of BACKENDS) t.test(`${backend}: a relayed connection keeps its owner's onTimeout, onServerClose and onError (the handler object as given)`, async (t) => {
  const fds = trackFds();
  const upstream = await upstreamEcho();
  const upstreamPort = (upstream.address() as net.AddressInfo).port;
  const reactor = new Reactor({ backend });
  const told: string[] = [];
  class ProxyHandler {
    readonly name = 'proxy';
    onOpen(client: Connection): void {
      client.pause();
      void connect(reactor, {}, { port: upstreamPort }).then(
        (server) => void relay(client, server),
        () => client.destroy(),
      );
    }
    onTimeout(client: Connection): void {
      told.push(`${this.name}: timeout`); // `this` is the owner's, not a copy's
      client.destroy();
    }
    onServerClose(client: Connection): void {
      told.push(`${this.name}: server closing`);
      client.destroy();
    }
    onError(_client: Connection, error: Error): void {
      told.push(`${this.name}: ${(error as { code?: string }).code ?? error.message}`);
    }
  }
  // The idle timeout counts from the accept, and the proxy's upstream connect and relay come first: at 50 ms a
  // busy machine sometimes timed a client out before its byte had come back through the relay.
  const proxy = new Server(reactor, new ProxyHandler(), { idleTimeoutMs: RELAYED_IDLE_TIMEOUT_MS });
  const quiet = await connectClient(proxy.port);
  quiet.write('x');
  await receive(quiet, 1);
  await closed(quiet.on('error', () => {})); // idle: the owner's onTimeout closes it
  const resetting = await connectClient(proxy.port);
  resetting.write('z');
  await receive(resetting, 1);
  const before = told.length;
  resetting.resetAndDestroy(); // the relayed side fails: the owner's onError hears of it
  await until(() => told.length > before, 'the reset reported');
  const lingering = await connectClient(proxy.port);
  lingering.write('y');
  await receive(lingering, 1);
  const closing = proxy.close();
  await closed(lingering.on('error', () => {}));
  await closing;
  t.same(told, ['proxy: timeout', 'proxy: ECONNRESET', 'proxy: server closing']);
  reactor.close();
  await new Promise((resolve) => upstream.close(resolve));
  await fds.assertNoneSettled(t);
});
