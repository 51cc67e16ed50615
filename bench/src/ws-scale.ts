/**
 * The ws scenario (issue 26): N concurrent WebSocket connections over
 * loopback (100 000 in the documented run) held by zepoll/ws on epoll ET
 * and on io_uring, by uWebSockets.js and by `ws` on Node's http, one after
 * the other in one run. For each server:
 *
 * 1. its processes start (as many as the fd limit asks for, sharing the
 *    port: ws-scale-plan.ts), pinned to the server CPU;
 * 2. warm-up: WARM_UP connections open, echo once, and go;
 * 3. baseline: full collections, JavaScript heap and RSS, summed over the
 *    server's processes;
 * 4. the client processes (ws-scale-client.ts, pinned to the client CPU)
 *    open their shares, paced; the time until every 101 is in;
 * 5. idle: heap and RSS again: (idle - baseline) / N per connection;
 * 6. BROADCASTS broadcasts of one 1 KiB message to all (a publish to the
 *    topic, or for ws a loop over its clients), each timed from the
 *    driver's send to each client's receipt on the shared monotonic clock;
 * 7. active: every connection sends a 1 KiB message each period (10 s),
 *    spread evenly, and times its echo; server CPU (from /proc) per echoed
 *    message and the echo times over the middle ACTIVE_WINDOW_PERIODS
 *    periods; then, the load still running, heap and RSS;
 * 8. connections dropped: closes seen by the clients and by the servers.
 *
 * Every phase is bounded; a server that fails one gets a row with the
 * reason, and the run goes on with the next.
 */
import { loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { listenTcp, binding } from 'zepoll';
import { CLIENT_CPU, SERVER_CPU } from './servers.js';
import { cpuSeconds, launch, rssBytes, type IpcChild } from './ws-scale-fleet.js';
import type { WsPlan } from './ws-scale-plan.js';
import { monotonicMs, type ClientStats, type FromClient, type FromServer, type ServerCounts, type WsServerKind } from './ws-scale-protocol.js';

const HERE = fileURLToPath(new URL('.', import.meta.url));
/**
 * Warm-up connections: at most WARM_UP, and a tenth of the run's, so the
 * memory they leave freed (and the run reuses) is a small part of the figure.
 */
export const WARM_UP = 500;
const WARM_UP_SHARE = 0.1;
/** The warm-up client's source addresses: 127.9.x.y (the measured clients use 127.10.x.y and up). */
const WARM_UP_OCTET = 9;
const FIRST_CLIENT_OCTET = 10;
/**
 * Pauses, each at most this long and at most a period (a quick check with
 * a short period, as the smoke test's, runs them short too).
 */
const WARM_UP_PERIOD_MS = 500;
/** Broadcasts per server; the median (by p99) is reported. */
export const BROADCASTS = 3;
const BROADCAST_GAP_MS = 500;
/** The active phase: this many periods; CPU is measured over the middle ones. */
const ACTIVE_PERIODS = 3;
const ACTIVE_WINDOW_PERIODS = 2;
const IDLE_SETTLE_MS = 2000;
const READY_MS = 30_000;
/** The opening's bound: a minute, plus a millisecond per connection (a tenth of the slowest rate seen). */
const OPEN_MS_BASE = 60_000;
const REPORT_MS = 60_000;
const BROADCAST_MS = 60_000;
const SETTLE_MS = 30_000;
const POLL_MS = 100;
const STATS_MS = 5000;

/** Percentiles of a set of times (ms), and how many there were. */
export interface Latency {
  readonly p50: number;
  readonly p99: number;
  readonly max: number;
  readonly count: number;
}

/** One server's figures; an `error` row has the reason and NaN where it stopped. */
export interface WsRow {
  readonly server: WsServerKind;
  readonly connections: number;
  readonly serverProcesses: number;
  readonly clientProcesses: number;
  readonly held: number;
  readonly dropped: number;
  readonly retries: number;
  readonly acceptSeconds: number;
  readonly idleRssPerConnection: number;
  readonly idleHeapPerConnection: number;
  readonly activeRssPerConnection: number;
  readonly activeHeapPerConnection: number;
  readonly idleRssTotalMiB: number;
  /** The median broadcast's figures (ms), by p99. */
  readonly broadcast: Latency;
  /** Echo round trips (ms) of every message of the active phase. */
  readonly echo: Latency;
  readonly echoMissing: number;
  readonly cpuUsPerMessage: number;
  readonly messagesPerSecond: number;
  /** The client processes' CPU over the active window, as a share of their one core. */
  readonly clientCpuShare: number;
  readonly periodMs: number;
  /**
   * The machine's 1-minute load average when this server's turn began and
   * ended: the servers run one after the other, so a neighbour's load can
   * fall on one and not another.
   */
  readonly load: readonly [number, number];
  readonly error: string | null;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** p50, p99 (the value at 99% of the sorted times) and max of `values`; NaN when empty. */
export function latency(values: readonly number[]): Latency {
  const sorted = Float64Array.from(values).sort();
  const at = (quantile: number): number => (sorted.length === 0 ? Number.NaN : sorted[Math.min(sorted.length - 1, Math.floor(quantile * sorted.length))]!);
  return { p50: at(0.5), p99: at(0.99), max: sorted.length === 0 ? Number.NaN : sorted[sorted.length - 1]!, count: sorted.length };
}

type Server = IpcChild<FromServer>;
type Client = IpcChild<FromClient>;

/**
 * A free port: held by a SO_REUSEPORT placeholder that the servers join
 * and that is released once they listen (it never accepts), or, for ws
 * (no reusePort on Node 20), freed at once.
 */
function reservePort(kind: WsServerKind): { port: number; release(): void } {
  const placeholder = listenTcp({ reusePort: kind !== 'ws', backlog: 1 });
  let held = true;
  const release = (): void => {
    if (!held) return;
    held = false;
    binding.close(placeholder.fd);
  };
  if (kind === 'ws') release();
  return { port: placeholder.port, release };
}

/** The server's processes, started (the caller stops them, whatever happens next). */
function startServers(kind: WsServerKind, plan: WsPlan, port: number): Server[] {
  return kind === 'ws'
    ? [launch<FromServer>('the ws primary', `${HERE}ws-scale-node.js`, [String(port), String(plan.serverProcesses)], SERVER_CPU, ['--expose-gc'])]
    : Array.from({ length: plan.serverProcesses }, (_, index) => launch<FromServer>(`${kind} server ${index}`, `${HERE}ws-scale-server.js`, [kind, String(port)], SERVER_CPU, ['--expose-gc']));
}

/** The servers' counts summed (heaps after full collections when `collect`). */
async function report(servers: readonly Server[], collect: boolean): Promise<ServerCounts> {
  const answers = await Promise.all(servers.map((server) => server.ask({ type: 'report', collect }, 'report', REPORT_MS)));
  return answers.reduce<ServerCounts>((sum, one) => ({ open: sum.open + one.open, closed: sum.closed + one.closed, messages: sum.messages + one.messages, heapUsed: sum.heapUsed + one.heapUsed }), { open: 0, closed: 0, messages: 0, heapUsed: 0 });
}

/** Polls the servers until `done` holds for their counts, or fails with `what` after `timeoutMs`. */
async function untilServers(servers: readonly Server[], done: (counts: ServerCounts) => boolean, what: string, timeoutMs: number): Promise<ServerCounts> {
  const end = performance.now() + timeoutMs;
  for (;;) {
    const counts = await report(servers, false);
    if (done(counts)) return counts;
    if (performance.now() > end) throw new Error(`${what}: the servers hold ${counts.open} sockets after ${timeoutMs / 1000} s`);
    await sleep(POLL_MS);
  }
}

function startClient(name: string, port: number, count: number, octet: number, window: number): Client {
  return launch<FromClient>(name, `${HERE}ws-scale-client.js`, [String(port), String(count), String(octet), String(window)], CLIENT_CPU);
}

/** Each client's stats, for a failure message (bounded: a client that does not answer is left out). */
async function clientStats(clients: readonly Client[]): Promise<ClientStats[]> {
  const answers = await Promise.allSettled(clients.map((client) => client.ask({ type: 'stats' }, 'stats', STATS_MS)));
  return answers.flatMap((answer) => (answer.status === 'fulfilled' ? [answer.value] : []));
}

/** Opens, echoes once and closes WARM_UP connections, then waits for the servers to have closed them. */
async function warmUp(servers: readonly Server[], port: number, plan: WsPlan, periodMs: number): Promise<void> {
  const count = Math.max(1, Math.min(WARM_UP, Math.ceil(plan.connections * WARM_UP_SHARE)));
  const warm = startClient('the warm-up client', port, count, WARM_UP_OCTET, plan.window);
  try {
    await warm.next('ready', READY_MS);
    await warm.ask({ type: 'open' }, 'opened', OPEN_MS_BASE);
    await warm.ask({ type: 'active', periodMs: Math.min(WARM_UP_PERIOD_MS, periodMs), periods: 1 }, 'activeDone', OPEN_MS_BASE);
  } finally {
    await warm.stop();
  }
  await untilServers(servers, (counts) => counts.open === 0, 'after the warm-up', SETTLE_MS);
}

async function broadcastOnce(servers: readonly Server[], clients: readonly Client[], sequence: number, connections: number): Promise<Latency> {
  const sentAt = monotonicMs();
  for (const server of servers) server.send({ type: 'broadcast', sequence, sentAt });
  try {
    const [received] = await Promise.all([Promise.all(clients.map((client) => client.next('broadcastReceived', BROADCAST_MS))), Promise.all(servers.map((server) => server.next('broadcasted', BROADCAST_MS)))]);
    if (received.some((answer) => answer.sequence !== sequence)) throw new Error(`broadcast ${sequence}: an answer for another broadcast`);
    return latency(received.flatMap((answer) => answer.latenciesMs));
  } catch (error) {
    const got = (await clientStats(clients)).reduce((sum, stats) => sum + (stats.broadcasts[sequence] ?? 0), 0);
    throw new Error(`broadcast ${sequence}: ${got} of ${connections} connections had it (${(error as Error).message})`);
  }
}

interface Sample {
  readonly at: number;
  /** The same moment on the clock the clients' send times use. */
  readonly monotonic: number;
  readonly cpu: number;
  readonly clientCpu: number;
  readonly messages: number;
}

async function sample(servers: readonly Server[], serverPids: readonly number[], clientPids: readonly number[]): Promise<Sample> {
  const cpu = cpuSeconds(serverPids);
  const clientCpu = cpuSeconds(clientPids);
  const at = performance.now();
  return { at, monotonic: monotonicMs(), cpu, clientCpu, messages: (await report(servers, false)).messages };
}

type Measured = Omit<WsRow, 'server' | 'connections' | 'serverProcesses' | 'clientProcesses' | 'periodMs' | 'load' | 'error'>;

async function measure(kind: WsServerKind, plan: WsPlan, periodMs: number, progress: (text: string) => void, cleanup: Array<() => Promise<void>>): Promise<Measured> {
  const reserved = reservePort(kind);
  cleanup.push(async () => reserved.release());
  const servers = startServers(kind, plan, reserved.port);
  cleanup.push(async () => void (await Promise.all(servers.map((server) => server.stop()))));
  const pids = (await Promise.all(servers.map((server) => server.next('listening', READY_MS)))).flatMap((answer) => answer.pids);
  reserved.release();
  const N = plan.connections;
  await warmUp(servers, reserved.port, plan, periodMs);
  const baseline = await report(servers, true);
  const baselineRss = rssBytes(pids);

  progress(`ws: ${kind}: opening ${N.toLocaleString('en-US')} connections`);
  const clients = plan.clientShares.map((share, index) => startClient(`client ${index}`, reserved.port, share, FIRST_CLIENT_OCTET + index, plan.window));
  cleanup.push(async () => void (await Promise.all(clients.map((client) => client.stop()))));
  const clientPids = clients.map((client) => client.pid);
  await Promise.all(clients.map((client) => client.next('ready', READY_MS)));
  const openStart = performance.now();
  const opened = await Promise.all(clients.map((client) => client.ask({ type: 'open' }, 'opened', OPEN_MS_BASE + N)));
  const acceptSeconds = (performance.now() - openStart) / 1000;
  await untilServers(servers, (counts) => counts.open >= N, `${N} opened by the clients`, SETTLE_MS);

  await sleep(Math.min(IDLE_SETTLE_MS, periodMs));
  const idle = await report(servers, true);
  const idleRss = rssBytes(pids);

  progress(`ws: ${kind}: ${BROADCASTS} broadcasts to all`);
  const broadcasts: Latency[] = [];
  for (let sequence = 1; sequence <= BROADCASTS; sequence += 1) {
    broadcasts.push(await broadcastOnce(servers, clients, sequence, N));
    await sleep(Math.min(BROADCAST_GAP_MS, periodMs / 2));
  }
  broadcasts.sort((a, b) => a.p99 - b.p99);

  progress(`ws: ${kind}: each connection sends 1 KiB every ${periodMs / 1000} s, for ${ACTIVE_PERIODS} periods`);
  const activeDone = clients.map((client) => client.ask({ type: 'active', periodMs, periods: ACTIVE_PERIODS }, 'activeDone', periodMs * (ACTIVE_PERIODS + 1) + REPORT_MS));
  await sleep(((ACTIVE_PERIODS - ACTIVE_WINDOW_PERIODS) / 2) * periodMs);
  const start = await sample(servers, pids, clientPids);
  await sleep(ACTIVE_WINDOW_PERIODS * periodMs);
  const end = await sample(servers, pids, clientPids);
  const active = await report(servers, true);
  const activeRss = rssBytes(pids);
  const done = await Promise.all(activeDone);

  const stats = await clientStats(clients);
  const final = await report(servers, false);
  const clientDropped = stats.reduce((sum, one) => sum + one.dropped, 0);
  const dropped = Math.max(clientDropped, final.closed - baseline.closed);
  if (dropped > 0) progress(`ws: ${kind}: ${dropped} connections dropped (${stats.find((one) => one.firstDrop !== undefined)?.firstDrop ?? 'closed by the server'})`);
  const messages = end.messages - start.messages;
  const seconds = (end.at - start.at) / 1000;
  const sent = done.reduce((sum, one) => sum + one.sent, 0);
  const echoed = done.reduce((sum, one) => sum + one.echoed, 0);
  return {
    held: idle.open,
    dropped,
    retries: opened.reduce((sum, one) => sum + one.retries, 0),
    acceptSeconds,
    idleRssPerConnection: (idleRss - baselineRss) / N,
    idleHeapPerConnection: (idle.heapUsed - baseline.heapUsed) / N,
    activeRssPerConnection: (activeRss - baselineRss) / N,
    activeHeapPerConnection: (active.heapUsed - baseline.heapUsed) / N,
    idleRssTotalMiB: idleRss / 2 ** 20,
    broadcast: broadcasts[Math.floor(broadcasts.length / 2)]!,
    // The window's messages only: the heap reading after it (full collections) pauses every server.
    echo: latency(done.flatMap((one) => one.latenciesMs.filter((_, index) => one.sentAtMs[index]! >= start.monotonic && one.sentAtMs[index]! <= end.monotonic))),
    echoMissing: sent - echoed + done.reduce((sum, one) => sum + one.skipped, 0),
    cpuUsPerMessage: messages > 0 ? ((end.cpu - start.cpu) / messages) * 1e6 : Number.NaN,
    messagesPerSecond: messages / seconds,
    clientCpuShare: (end.clientCpu - start.clientCpu) / seconds,
  };
}

const NOTHING: Latency = { p50: Number.NaN, p99: Number.NaN, max: Number.NaN, count: 0 };

/** Runs the scenario for each of `kinds`, one after the other. */
export async function runWsScale(kinds: readonly WsServerKind[], plan: WsPlan, periodMs: number, progress: (text: string) => void): Promise<WsRow[]> {
  for (const note of plan.notes) progress(note);
  const rows: WsRow[] = [];
  for (const kind of kinds) {
    const fixed = { server: kind, connections: plan.connections, serverProcesses: kind === 'ws' ? plan.serverProcesses + 1 : plan.serverProcesses, clientProcesses: plan.clientShares.length, periodMs };
    const cleanup: Array<() => Promise<void>> = [];
    const loadAtStart = loadavg()[0]!;
    progress(`ws: ${kind}: starting ${fixed.serverProcesses} server process(es)`);
    try {
      const measured = await measure(kind, plan, periodMs, progress, cleanup);
      rows.push({ ...fixed, ...measured, load: [loadAtStart, loadavg()[0]!], error: null });
    } catch (error) {
      const reason = (error as Error).message;
      progress(`ws: ${kind} FAILED: ${reason}`);
      const nan = Number.NaN;
      rows.push({ ...fixed, held: nan, dropped: nan, retries: nan, acceptSeconds: nan, idleRssPerConnection: nan, idleHeapPerConnection: nan, activeRssPerConnection: nan, activeHeapPerConnection: nan, idleRssTotalMiB: nan, broadcast: NOTHING, echo: NOTHING, echoMissing: nan, cpuUsPerMessage: nan, messagesPerSecond: nan, clientCpuShare: nan, load: [loadAtStart, loadavg()[0]!], error: reason });
    } finally {
      for (const step of cleanup.reverse()) await step();
    }
  }
  return rows;
}
