/**
 * Fair read quotas. One firehose connection has megabytes waiting in the
 * kernel and 20 small connections each have a one-byte request; the
 * firehose's data arrived first, so its event leads the batch. Turns are run
 * one at a time (a detached reactor and runOnce), and the test counts how
 * many firehose bytes were read in a turn before the small requests were
 * served — the work a small request waits behind, independent of the
 * machine's speed.
 *
 * ET with a quota: at most one quota of firehose bytes per turn, every small
 * request served in every turn, the firehose carried over and still making
 * progress. ET with readQuota Infinity: the turn reads the firehose dry
 * first — the starvation the quota prevents.
 */
import t from 'tap';
import { binding, constants } from '../../packages/reactor/src/native.js';
import { Reactor } from '../../packages/reactor/src/reactor.js';
import { Server } from '../../packages/reactor/src/server.js';
import type { Connection } from '../../packages/reactor/src/connection.js';
import { connectTcp } from '../../packages/reactor/src/backend/sockets.js';
import { trackFds } from '../helpers/fds.js';
import { until } from '../helpers/wait.js';

const QUOTA = 16 * 1024;
const SMALL = 20;
const ROUNDS = 5;
const SEND_BUFFER = 4 * 1024 * 1024;
const EAGAIN = -11;

interface Run {
  /** Per round: firehose bytes read, in the turn that served the small requests, before the first of them. */
  readonly aheadOfSmall: number[];
  /** Per round: firehose bytes read in that whole turn. */
  readonly firehosePerTurn: number[];
  /** Per round: small requests answered in that turn (all SMALL in one turn; minus the turn count if they took several). */
  readonly smallServed: number[];
  carryOvers: number;
}

/** What one turn read: firehose bytes before the first small request, firehose bytes in all, small requests. */
interface TurnRecord {
  ahead: number;
  firehose: number;
  small: number;
}

async function run(readQuota: number): Promise<Run> {
  const reactor = new Reactor({ mode: 'et', readQuota, attach: false });
  // Per turn, counted where the bytes arrive: a carried-over connection is
  // served in a turn of the scheduler's own (setImmediate), which on a busy
  // machine may be the one that finds the small requests, so each round
  // looks at whichever turn served them rather than at one chosen turn.
  const turns = new Map<number, TurnRecord>();
  const recordOf = (): TurnRecord => {
    const turn = reactor.stats.turns;
    let record = turns.get(turn);
    if (record === undefined) turns.set(turn, (record = { ahead: 0, firehose: 0, small: 0 }));
    return record;
  };
  let smallTotal = 0;
  let firehoseRead = 0;
  const reply = new Uint8Array([1]);
  const server = new Server(reactor, {
    onData: (connection: Connection, data: Uint8Array) => {
      const record = recordOf();
      if (connection.context === 'firehose') {
        record.firehose += data.length;
        firehoseRead += data.length;
        if (record.small === 0) record.ahead += data.length;
        return;
      }
      record.small += 1;
      smallTotal += 1;
      connection.write(reply);
    },
  });
  const firehose = connectTcp('127.0.0.1', server.port);
  binding.setOption(firehose, constants.OPTION_SEND_BUFFER_SIZE, SEND_BUFFER);
  const small = Array.from({ length: SMALL }, () => connectTcp('127.0.0.1', server.port));
  for (let turn = 0; turn < 100 && server.connections.size < SMALL + 1; turn += 1) reactor.runOnce(20);
  // The server side of the firehose: the connection whose peer port is the firehose's own.
  const firehoseServerSide = [...server.connections].find((connection) => connection.remoteAddress().port === localPort(firehose))!;
  firehoseServerSide.context = 'firehose';

  const stream = new Uint8Array(256 * 1024);
  const request = new Uint8Array([7]);
  const answers = new Uint8Array(64);
  const result: Run = { aheadOfSmall: [], firehosePerTurn: [], smallServed: [], carryOvers: 0 };
  let firehoseWritten = 0;
  for (let round = 0; round < ROUNDS; round += 1) {
    // The last round's firehose is read dry first (by the scheduler's carried
    // turns, and by turns run here for bytes that arrived after a read ran
    // dry): no carried turn is left, and the firehose's readiness in the
    // measured batch is a fresh edge.
    await until(() => {
      if (firehoseRead < firehoseWritten) reactor.runOnce(0);
      return firehoseRead === firehoseWritten;
    }, 'the server to read the firehose dry');
    // Firehose first, so its readiness leads the next batch.
    for (let step = 0; step < 1000; step += 1) {
      const written = pollerWrite(firehose, stream);
      if (written === EAGAIN) break;
      if (written > 0) firehoseWritten += written;
    }
    turns.clear();
    smallTotal = 0;
    for (const fd of small) pollerWrite(fd, request);
    // Turns until all small requests are answered (an event, bounded): the measured ones.
    for (let attempt = 0; attempt < 50 && smallTotal < SMALL; attempt += 1) {
      reactor.runOnce(100);
      await new Promise((resolve) => setImmediate(resolve));
    }
    const serving = [...turns.values()].filter((record) => record.small > 0);
    result.smallServed.push(serving.length === 1 ? serving[0]!.small : -serving.length); // all in one turn, or how many turns it took
    result.aheadOfSmall.push(serving[0]?.ahead ?? -1);
    result.firehosePerTurn.push(serving[0]?.firehose ?? -1);
    // Each small client takes its answer, so the next round starts from empty queues.
    let answered = 0;
    await until(() => {
      for (const fd of small) if (pollerRead(fd, answers) > 0) answered += 1;
      return answered >= smallTotal;
    }, 'the answers at the small clients');
  }
  result.carryOvers = reactor.stats.carryOvers;
  for (const fd of [firehose, ...small]) binding.close(fd);
  await server.close(1000);
  reactor.close();
  return result;
}

// Client-side I/O on raw fds through a poller of their own (not the reactor under test).
const created = binding.createPoller(new Uint32Array(3));
if (typeof created === 'number') throw new Error('no client poller');
const clientPoller = created;
t.teardown(() => clientPoller.close());
function pollerWrite(fd: number, bytes: Uint8Array): number {
  return clientPoller.write(fd, bytes, 0, bytes.length);
}
function pollerRead(fd: number, bytes: Uint8Array): number {
  return clientPoller.read(fd, bytes, 0, bytes.length);
}
const addressScratch = new Uint8Array(128);
function localPort(fd: number): number {
  binding.localAddress(fd, addressScratch);
  return (addressScratch[2]! << 8) | addressScratch[3]!;
}

t.test('ET with a quota: small requests are served every turn, the firehose gets one quota per turn', async (t) => {
  const fds = trackFds();
  const result = await run(QUOTA);
  t.same(result.smallServed, Array(ROUNDS).fill(SMALL), 'all 20 small requests answered in every turn');
  for (const [round, bytes] of result.aheadOfSmall.entries()) t.ok(bytes <= QUOTA, `round ${round}: ${bytes} firehose bytes read ahead of the small requests (quota ${QUOTA})`);
  for (const [round, bytes] of result.firehosePerTurn.entries()) t.ok(bytes > 0 && bytes <= QUOTA, `round ${round}: the firehose progressed ${bytes} bytes, at most one quota`);
  t.ok(result.carryOvers >= ROUNDS, `the firehose was carried over (${result.carryOvers} times)`);
  t.comment(`quota ${QUOTA}: firehose bytes ahead of small requests per turn: ${result.aheadOfSmall.join(', ')}`);
  fds.assertNone(t);
});

t.test('ET with readQuota Infinity: the firehose is read dry before the small requests (starvation)', async (t) => {
  const fds = trackFds();
  const result = await run(Infinity);
  t.same(result.smallServed, Array(ROUNDS).fill(SMALL), 'the small requests are answered in the same turn...');
  const ahead = Math.min(...result.aheadOfSmall);
  t.ok(ahead >= 64 * QUOTA, `...but only after ${ahead} firehose bytes (>= ${64 * QUOTA}) were read ahead of them in every turn`);
  t.comment(`Infinity: firehose bytes ahead of small requests per turn: ${result.aheadOfSmall.join(', ')}`);
  fds.assertNone(t);
});
