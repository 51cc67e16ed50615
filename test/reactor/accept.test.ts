/**
 * Accepting: out of fds (EMFILE) the listener backs off instead of
 * spinning (turns and CPU stay low during the flood) and accepts again once
 * fds are free; the connection limit closes extra connections at once;
 * options are validated. The flood comes from a child process, so this
 * process's fd table can be filled to its limit.
 */
import t from 'tap';
import { binding } from '../../packages/reactor/src/native.js';
import { Reactor } from '../../packages/reactor/src/reactor.js';
import { Server } from '../../packages/reactor/src/server.js';
import { softFdLimit, trackFds } from '../helpers/fds.js';
import { runFixture } from '../helpers/child.js';
import { closed, connect, roundTrip } from '../helpers/net-client.js';
import { spawn } from 'node:child_process';
import net from 'node:net';
import { FIXTURES, withFdLimit } from '../helpers/child.js';

const FILL_LIMIT_MAX = 100_000;
const FLOOD = 200;
const HOLD_MS = 1500;
/** The spin check's window, once the listener first backed off. */
const MEASURE_MS = 500;

const limit = softFdLimit();
t.test('EMFILE: the listener backs off without spinning and accepts again', { skip: limit > FILL_LIMIT_MAX ? `soft fd limit ${limit} too high to fill` : false }, async (t) => {
  const fds = trackFds();
  const reactor = new Reactor({ mode: 'lt' });
  const server = new Server(reactor, { onData: (connection, data) => void connection.write(data) }, { acceptBackoffMs: 50 });
  // The child runs first (spawning needs fds), then the table is filled.
  const child = runFixture('flood-client.cjs', { args: [String(server.port), String(FLOOD), String(HOLD_MS)] });
  await new Promise((resolve) => setTimeout(resolve, 100));
  const filler: number[] = [];
  const pair = new Int32Array(2);
  while (binding.socketPair(pair) === 0) filler.push(pair[0]!, pair[1]!);
  const spare = binding.listen('127.0.0.1', 0, 1, false);
  if (spare >= 0) filler.push(spare);
  // The event to wait for: the flood reaches the full table and the listener backs off (on a busy
  // machine the child may take a while to connect). Then the spin check runs over a fixed window.
  for (let wait = 0; wait < 4000 && server.stats.acceptBackoffs === 0; wait += 1) await new Promise((resolve) => setTimeout(resolve, 5));
  const turnsBefore = reactor.stats.turns;
  const cpuBefore = process.cpuUsage();
  const started = performance.now();
  await new Promise((resolve) => setTimeout(resolve, MEASURE_MS));
  const cpu = process.cpuUsage(cpuBefore);
  const elapsedMs = performance.now() - started;
  const turns = reactor.stats.turns - turnsBefore;
  const cpuShare = (cpu.user + cpu.system) / 1000 / elapsedMs;
  t.ok(server.stats.acceptBackoffs > 0, `backed off ${server.stats.acceptBackoffs} times`);
  t.ok(turns < (elapsedMs / 50) * 2 + 10, `${turns} turns in ${Math.round(elapsedMs)} ms: one per back-off, not a spin`);
  t.ok(cpuShare < 0.5, `CPU ${(cpuShare * 100).toFixed(1)}% of one core during the flood`);
  for (const fd of filler) binding.close(fd);
  const result = await child;
  t.equal(result.stdout.trim(), 'ping', 'served again once fds were free');
  t.equal(reactor.stats.acceptBackoffs, server.stats.acceptBackoffs);
  await server.close(1000);
  reactor.close();
  fds.assertNone(t);
});

interface ChildStats {
  readonly backoffs: number;
  readonly turns: number;
  readonly busySpins: number;
  readonly open: number;
  readonly cpuMicros: number;
}

t.test('EMFILE in a child started with `ulimit -n 64`: a flood does not spin, serving resumes', async (t) => {
  const fds = trackFds();
  const FD_LIMIT = 64;
  const FLOOD_SIZE = 300;
  const WINDOW_MS = 1000;
  const [command, commandArgs] = withFdLimit([process.execPath, `${FIXTURES}emfile-server.mjs`], FD_LIMIT);
  const child = spawn(command, commandArgs, {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, NODE_OPTIONS: '' },
  });
  const lines: string[] = [];
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => lines.push(...chunk.split('\n').filter(Boolean)));
  const exited = new Promise<number | null>((resolve) => child.once('close', resolve)); // after its pipes closed
  const waitFor = async (predicate: () => boolean): Promise<void> => {
    for (let wait = 0; wait < 400 && !predicate(); wait += 1) await new Promise((resolve) => setTimeout(resolve, 10));
  };
  const latest = (): ChildStats => JSON.parse(lines.filter((line) => line.startsWith('{')).at(-1) ?? '{}') as ChildStats;
  await waitFor(() => lines.some((line) => line.startsWith('port ')));
  const port = Number(lines.find((line) => line.startsWith('port '))?.slice(5));
  t.ok(port > 0, `the child listens on ${port} (${stderr})`);
  await waitFor(() => lines.length > 2);
  const flood = Array.from({ length: FLOOD_SIZE }, () => net.connect(port, '127.0.0.1').on('error', () => {}));
  await new Promise((resolve) => setTimeout(resolve, 200)); // the flood lands; the child runs out of fds
  const start = latest();
  await new Promise((resolve) => setTimeout(resolve, WINDOW_MS));
  const end = latest();
  const cpuShare = (end.cpuMicros - start.cpuMicros) / 1000 / WINDOW_MS;
  t.ok(end.backoffs > 0, `accepting backed off ${end.backoffs} times`);
  t.ok(end.open < FD_LIMIT, `${end.open} connections open: the limit held`);
  t.ok(cpuShare < 0.3, `child CPU ${(cpuShare * 100).toFixed(1)}% of a core over ${WINDOW_MS} ms of flood`);
  t.ok(end.turns - start.turns < WINDOW_MS / 10, `${end.turns - start.turns} turns in the window: no busy loop`);
  for (const socket of flood) socket.destroy();
  await waitFor(() => latest().open === 0);
  t.equal((await roundTrip(port, Buffer.from('ping'))).toString(), 'ping', 'served again once the flood left');
  child.kill('SIGTERM');
  t.equal(await exited, 0, 'exits cleanly');
  await fds.assertNoneSettled(t);
});

t.test('the connection limit closes extra connections at once', async (t) => {
  const fds = trackFds();
  const reactor = new Reactor();
  const server = new Server(reactor, { onData: (connection, data) => void connection.write(data) }, { maxConnections: 1, noDelay: false, acceptBatch: 1 });
  const first = await connect(server.port);
  await new Promise((resolve) => setTimeout(resolve, 20));
  const second = await connect(server.port);
  await closed(second.on('error', () => {}));
  t.equal(server.stats.rejected, 1);
  t.equal(server.stats.accepted, 2);
  t.equal(server.stats.acceptErrors, 0);
  first.destroy();
  await closed(first);
  t.equal((await roundTrip(server.port, Buffer.from('again'))).toString(), 'again', 'room again once the first left');
  t.throws(() => new Server(reactor, {}, { acceptBatch: 0 }), { code: 'ERR_OUT_OF_RANGE' });
  t.throws(() => new Server(reactor, {}, { port: server.port }), { code: 'EADDRINUSE' });
  await server.close();
  reactor.close();
  t.throws(() => new Server(reactor, {}), { code: 'ERR_ZEPOLL_REACTOR_CLOSED' }, 'a closed reactor takes no listener (and leaks no fd)');
  fds.assertNone(t);
});
