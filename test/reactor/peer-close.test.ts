/**
 * The peer's FIN and reset reach a connection as promptly on io_uring as on
 * epoll: an idle pooled connection, a paused one, and one with a send in
 * flight, each on both backends.
 *
 * "Promptly" is counted in loop turns, not in milliseconds: the peer is a
 * Node socket in this same thread, so by the time its shutdown or reset has
 * returned, the kernel has delivered the FIN or RST to our socket and the
 * next poll phase can report it. The check waits at most TURNS_MAX turns of
 * setImmediate (each one a poll phase with a zero timeout), however busy the
 * machine. Before the io_uring fix (its ring used DEFER_TASKRUN, whose
 * completions this kernel signalled 12-20 ms late) each of these took hundreds
 * of turns on io_uring and one or two on epoll.
 */
import t from 'tap';
import net from 'node:net';
import { Reactor } from '../../packages/reactor/src/reactor.js';
import { ConnectionPool, connect } from '../../packages/reactor/src/connect.js';
import type { Connection } from '../../packages/reactor/src/connection.js';
import { ioUringSupport } from '../../packages/reactor/src/backend/io-uring-support.js';
import { trackFds } from '../helpers/fds.js';
import { until } from '../helpers/wait.js';

/** Loop turns the reactor may take to report what the kernel already has. */
const TURNS_MAX = 20;
/** A send too large for the peer's receive buffer and ours together (loopback's hold a few MiB), under the default maxQueuedBytes (16 MiB): it stays in flight. */
const LARGE_SEND = 12 * 1024 * 1024;

const support = ioUringSupport();
const BACKENDS = [
  { name: 'epoll', options: { backend: 'epoll' as const }, skip: false as const },
  { name: 'io_uring', options: { backend: 'io_uring' as const }, skip: support.available ? (false as const) : `io_uring unavailable here: ${support.reason}` },
];

const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** Resolves with the number of loop turns it took for `condition` to hold, or rejects after TURNS_MAX. */
async function turnsUntil(condition: () => boolean, what: string): Promise<number> {
  for (let turns = 0; turns <= TURNS_MAX; turns += 1) {
    if (condition()) return turns;
    await nextTurn();
  }
  throw new Error(`${what}: not seen within ${TURNS_MAX} loop turns`);
}

/** A Node server whose accepted sockets are handed to `onSocket`; closed with `close()`. */
async function peerServer(onSocket: (socket: net.Socket) => void): Promise<{ port: number; close: () => Promise<void> }> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer({ allowHalfOpen: true, pauseOnConnect: true }, (socket) => {
    sockets.add(socket);
    socket.on('error', () => {});
    socket.on('close', () => sockets.delete(socket));
    onSocket(socket);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  return {
    port,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => server.close(resolve));
      await until(() => sockets.size === 0, 'the peer sockets to close');
    },
  };
}

/** The peer ends its side; resolves once its shutdown(2) has returned ('finish'). */
function finFrom(socket: net.Socket): Promise<void> {
  return new Promise((resolve) => socket.end(resolve));
}

/** The peer resets; resolves once its close(2) with SO_LINGER 0 has returned. */
function resetFrom(socket: net.Socket): Promise<void> {
  return new Promise((resolve) => {
    socket.once('close', () => resolve());
    socket.resetAndDestroy();
  });
}

for (const backend of BACKENDS) {
  t.test(`${backend.name}: an idle pooled connection leaves the pool at its upstream's FIN or reset`, { skip: backend.skip }, async (t) => {
    const fds = trackFds();
    const reactor = new Reactor(backend.options);
    const upstream: net.Socket[] = [];
    const peer = await peerServer((socket) => upstream.push(socket));
    const pool = new ConnectionPool(reactor, { port: peer.port, maxIdle: 4 });
    for (const [label, act] of [
      ['FIN', finFrom],
      ['reset', resetFrom],
    ] as const) {
      const connection = await pool.get({});
      await until(() => upstream.length > 0, 'the upstream to accept');
      pool.release(connection);
      t.equal(pool.stats.idle, 1, `${label}: idle in the pool`);
      await act(upstream.shift()!);
      const turns = await turnsUntil(() => pool.stats.idle === 0, `${label}: the pooled connection leaving the pool`);
      t.ok(turns <= TURNS_MAX, `${label}: left the pool ${turns} turns after the upstream's ${label}`);
      t.notOk(connection.isOpen, `${label}: and was closed`);
    }
    pool.close();
    await peer.close();
    reactor.close();
    await fds.assertNoneSettled(t);
  });

  t.test(`${backend.name}: a paused connection is told of its peer's FIN, and closed by its reset`, { skip: backend.skip }, async (t) => {
    const fds = trackFds();
    const reactor = new Reactor(backend.options);
    const peers: net.Socket[] = [];
    const peer = await peerServer((socket) => peers.push(socket));
    let hungUp = 0;
    let closedWith: Error | undefined;
    let closes = 0;
    const handler = {
      onHangUp: () => void (hungUp += 1),
      onClose: (_connection: Connection, error?: Error) => {
        closes += 1;
        closedWith = error;
      },
    };

    const finned = await connect(reactor, handler, { port: peer.port });
    finned.pause();
    await until(() => peers.length > 0, 'the peer to accept');
    await finFrom(peers.shift()!);
    const finTurns = await turnsUntil(() => hungUp === 1, 'onHangUp on the paused connection');
    t.ok(finTurns <= TURNS_MAX, `the FIN was told ${finTurns} turns after the peer's shutdown`);
    t.ok(finned.isOpen, 'paused, the connection stays open after the FIN (its owner decides)');
    finned.destroy();

    const reset = await connect(reactor, handler, { port: peer.port });
    reset.pause();
    await until(() => peers.length > 0, 'the peer to accept');
    await resetFrom(peers.shift()!);
    const resetTurns = await turnsUntil(() => !reset.isOpen, 'the paused connection closing at the reset');
    t.ok(resetTurns <= TURNS_MAX, `closed ${resetTurns} turns after the peer's reset`);
    t.equal(closes, 2);
    t.match(closedWith, { code: 'ECONNRESET' }, 'closed with the reset as its error');

    await peer.close();
    reactor.close();
    await fds.assertNoneSettled(t);
  });

  t.test(`${backend.name}: a connection with a send in flight sees its peer's FIN and reset`, { skip: backend.skip }, async (t) => {
    const fds = trackFds();
    const reactor = new Reactor(backend.options);
    const peers: net.Socket[] = [];
    const peer = await peerServer((socket) => peers.push(socket)); // paused: never reads
    let ended = 0;
    let closedWith: Error | undefined;
    const handler = {
      onEnd: () => void (ended += 1),
      onClose: (_connection: Connection, error?: Error) => void (closedWith = error),
    };
    const payload = new Uint8Array(LARGE_SEND);

    const finned = await connect(reactor, handler, { port: peer.port, allowHalfOpen: true });
    await until(() => peers.length > 0, 'the peer to accept');
    t.equal(finned.write(payload), false, 'the send does not fit: it stays in flight');
    await until(() => finned.queuedBytes > 0, 'bytes still queued');
    await finFrom(peers.shift()!);
    const finTurns = await turnsUntil(() => ended === 1, 'onEnd with a send in flight');
    t.ok(finTurns <= TURNS_MAX, `onEnd ${finTurns} turns after the peer's shutdown`);
    t.ok(finned.queuedBytes > 0, 'the send was still in flight when the FIN arrived');
    finned.destroy();

    const reset = await connect(reactor, handler, { port: peer.port });
    await until(() => peers.length > 0, 'the peer to accept');
    t.equal(reset.write(payload), false, 'the send does not fit: it stays in flight');
    await resetFrom(peers.shift()!);
    const resetTurns = await turnsUntil(() => !reset.isOpen, 'the connection closing at the reset');
    t.ok(resetTurns <= TURNS_MAX, `closed ${resetTurns} turns after the peer's reset`);
    t.match(closedWith, { code: /^(ECONNRESET|EPIPE)$/ }, 'closed with the reset (read or send) as its error');

    await peer.close();
    reactor.close();
    await fds.assertNoneSettled(t);
  });
}
