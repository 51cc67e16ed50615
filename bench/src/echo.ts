/**
 * Echo round trips: Node's net against zepoll LT, ET, ET with readQuota
 * Infinity and one-shot, the same handler (write back what was read),
 * loaded by a C epoll client (bench/reference/echo-client.c).
 *
 *   node bench/dist/echo.js [--connections 50] [--size 64] [--seconds 5] [--repeats 3] [--kinds node,lt,et,et-infinity,oneshot,uring] [--baseline DIR]
 *
 * --baseline DIR runs each zepoll kind a second time from another built
 * checkout (DIR/bench/dist/echo-server.js, e.g. a worktree of the commit
 * before a change), interleaved with this tree's, as rows "kind@base":
 * before/after pairs measured side by side in one run.
 *
 * Server and client are pinned to different CPUs with taskset when there
 * are two or more. Servers run interleaved (A B C A B C ...); each figure is
 * the median of the repeats with min–max. Reported per server: round trips
 * per second, latency p50/p99, server CPU µs per round trip (from
 * /proc/<pid>/stat), system calls per round trip by kind (zepoll's own
 * counters; Node has none), and the client's CPU share, flagged when the
 * client saturated its core (then the number is the client's limit).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { buildReference } from './reference.js';
import { procSample } from './proc.js';
import { CLIENT_CPU, PINNED, pinned, SERVER_CPU } from './servers.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const CLIENT_SATURATED = 0.9; // client CPU share above which its core was the limit
const START_TIMEOUT_MS = 10_000;

interface ClientResult {
  readonly roundTrips: number;
  readonly elapsed: number;
  readonly clientCpu: number;
  readonly p50us: number;
  readonly p99us: number;
  readonly maxus: number;
  readonly errors: number;
}

interface Sample {
  readonly roundTripsPerSecond: number;
  readonly p50us: number;
  readonly p99us: number;
  readonly serverCpuUsPerRoundTrip: number;
  readonly clientCpuShare: number;
  readonly syscallsPerRoundTrip: Record<string, number> | null;
  readonly errors: number;
}

function lines(child: ChildProcess): { next: (predicate: (line: string) => boolean) => Promise<string> } {
  const seen: string[] = [];
  const waiting: Array<{ predicate: (line: string) => boolean; resolve: (line: string) => void }> = [];
  let buffer = '';
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
    buffer += chunk;
    let index;
    while ((index = buffer.indexOf('\n')) >= 0) {
      const line = buffer.slice(0, index);
      buffer = buffer.slice(index + 1);
      const waiter = waiting.findIndex((one) => one.predicate(line));
      if (waiter >= 0) waiting.splice(waiter, 1)[0]!.resolve(line);
      else seen.push(line);
    }
  });
  return {
    next(predicate) {
      const found = seen.findIndex(predicate);
      if (found >= 0) return Promise.resolve(seen.splice(found, 1)[0]!);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error('the server did not answer in time')), START_TIMEOUT_MS);
        waiting.push({ predicate, resolve: (line) => (clearTimeout(timer), resolve(line)) });
      });
    },
  };
}

/** Counters of the echo server's report that are not system calls. */
const NOT_SYSCALLS: ReadonlySet<string> = new Set(['turns', 'events', 'carryRounds']);

/** A row's server: `kind`, or `kind@base` for the baseline checkout's build of it. */
function serverOf(row: string, baseline: string | undefined): { script: string; kind: string } {
  const at = row.indexOf('@base');
  if (at < 0) return { script: join(HERE, 'echo-server.js'), kind: row };
  return { script: join(baseline!, 'bench', 'dist', 'echo-server.js'), kind: row.slice(0, at) };
}

async function runOnce(row: string, client: string, options: { connections: number; size: number; seconds: number; baseline?: string | undefined }): Promise<Sample> {
  const { script, kind } = serverOf(row, options.baseline);
  const [command, args] = pinned(SERVER_CPU, process.execPath, [script, kind]);
  const server = spawn(command, args, { stdio: ['ignore', 'pipe', 'inherit'] });
  const output = lines(server);
  try {
    const port = Number((await output.next((line) => line.startsWith('port '))).slice(5));
    const serverPid = server.pid!; // taskset execs the server: same pid
    server.kill('SIGUSR2');
    const before = JSON.parse(await output.next((line) => line.startsWith('{'))) as Record<string, number>;
    const cpuBefore = procSample(serverPid).cpuSeconds;
    const [clientCommand, clientArgs] = pinned(CLIENT_CPU, client, [String(port), String(options.connections), String(options.size), String(options.seconds)]);
    const run = spawnSync(clientCommand, clientArgs, { encoding: 'utf8', timeout: (options.seconds + 30) * 1000 });
    if (run.status !== 0) throw new Error(`echo client failed: ${run.stderr}`);
    const result = JSON.parse(run.stdout) as ClientResult;
    const cpu = procSample(serverPid).cpuSeconds - cpuBefore;
    server.kill('SIGUSR2');
    const after = JSON.parse(await output.next((line) => line.startsWith('{'))) as Record<string, number>;
    const perRoundTrip: Record<string, number> = {};
    // System calls only: not the turn and event counts, nor the firehose figures.
    for (const [name, value] of Object.entries(after)) if (typeof value === 'number' && !NOT_SYSCALLS.has(name)) perRoundTrip[name] = (value - (before[name] ?? 0)) / result.roundTrips;
    return {
      roundTripsPerSecond: result.roundTrips / result.elapsed,
      p50us: result.p50us,
      p99us: result.p99us,
      serverCpuUsPerRoundTrip: (cpu * 1e6) / result.roundTrips,
      clientCpuShare: result.clientCpu / result.elapsed,
      syscallsPerRoundTrip: Object.keys(perRoundTrip).length > 0 ? perRoundTrip : null,
      errors: result.errors,
    };
  } finally {
    server.kill('SIGTERM');
  }
}

function median(values: number[]): { median: number; min: number; max: number } {
  const sorted = [...values].sort((a, b) => a - b);
  return { median: sorted[Math.floor(sorted.length / 2)]!, min: sorted[0]!, max: sorted[sorted.length - 1]! };
}

export interface EchoRow {
  readonly kind: string;
  readonly roundTripsPerSecond: { median: number; min: number; max: number };
  readonly p50us: number;
  readonly p99us: number;
  readonly serverCpuUsPerRoundTrip: number;
  readonly clientCpuShare: number;
  readonly clientSaturated: boolean;
  readonly syscallsPerRoundTrip: Record<string, number> | null;
  readonly errors: number;
}

export async function runEcho(options: { connections: number; size: number; seconds: number; repeats: number; kinds: string[]; baseline?: string | undefined }, progress: (text: string) => void): Promise<EchoRow[]> {
  const client = buildReference('echo-client');
  const samples = new Map<string, Sample[]>(options.kinds.map((kind) => [kind, []]));
  for (let repeat = 0; repeat < options.repeats; repeat += 1) {
    for (const kind of options.kinds) {
      progress(`echo: ${kind}, repeat ${repeat + 1}/${options.repeats} (${options.connections} connections, ${options.size} B, ${options.seconds} s)`);
      samples.get(kind)!.push(await runOnce(kind, client, options));
    }
  }
  return options.kinds.map((kind) => {
    const all = samples.get(kind)!;
    const middle = (pick: (sample: Sample) => number): number => median(all.map(pick)).median;
    const syscalls = all[0]!.syscallsPerRoundTrip === null ? null : Object.fromEntries(Object.keys(all[0]!.syscallsPerRoundTrip!).map((name) => [name, middle((sample) => sample.syscallsPerRoundTrip![name]!)]));
    const clientCpuShare = middle((sample) => sample.clientCpuShare);
    return {
      kind,
      roundTripsPerSecond: median(all.map((sample) => sample.roundTripsPerSecond)),
      p50us: middle((sample) => sample.p50us),
      p99us: middle((sample) => sample.p99us),
      serverCpuUsPerRoundTrip: middle((sample) => sample.serverCpuUsPerRoundTrip),
      clientCpuShare,
      clientSaturated: clientCpuShare > CLIENT_SATURATED,
      syscallsPerRoundTrip: syscalls,
      errors: all.reduce((sum, sample) => sum + sample.errors, 0),
    };
  });
}

export function formatEcho(rows: EchoRow[]): string {
  const baseline = rows.find((row) => row.kind === 'node')?.roundTripsPerSecond.median;
  const out = ['server        round trips/s (min-max)       vs node  p50 µs  p99 µs  server CPU µs/rt  syscalls per round trip                         client CPU'];
  for (const row of rows) {
    const rate = row.roundTripsPerSecond;
    const ratio = baseline === undefined ? '' : `${(rate.median / baseline).toFixed(2)}x`;
    const calls = row.syscallsPerRoundTrip === null ? 'n/a (no counters in Node)' : Object.entries(row.syscallsPerRoundTrip).filter(([, value]) => value >= 0.005).map(([name, value]) => `${name} ${value.toFixed(2)}`).join(', ');
    out.push(
      `${row.kind.padEnd(13)} ${Math.round(rate.median).toLocaleString('en-US').padStart(9)} (${Math.round(rate.min).toLocaleString('en-US')}-${Math.round(rate.max).toLocaleString('en-US')})`.padEnd(44) +
        `${ratio.padStart(6)}  ${row.p50us.toFixed(0).padStart(6)}  ${row.p99us.toFixed(0).padStart(6)}  ${row.serverCpuUsPerRoundTrip.toFixed(2).padStart(16)}  ${calls.padEnd(46)}  ${(row.clientCpuShare * 100).toFixed(0)}%${row.clientSaturated ? ' (client-bound)' : ''}${row.errors > 0 ? ` errors ${row.errors}` : ''}`,
    );
  }
  for (const row of rows) {
    const base = rows.find((other) => other.kind === `${row.kind}@base`);
    if (base === undefined) continue;
    const cpu = row.serverCpuUsPerRoundTrip / base.serverCpuUsPerRoundTrip;
    const rate = row.roundTripsPerSecond.median / base.roundTripsPerSecond.median;
    out.push(`${row.kind}: this tree / baseline: server CPU per round trip ${cpu.toFixed(3)}x, round trips/s ${rate.toFixed(3)}x, p99 ${(row.p99us / base.p99us).toFixed(2)}x`);
  }
  out.push(PINNED ? 'server pinned to CPU 0, client to CPU 1 (taskset)' : 'not pinned: taskset missing or fewer than 2 CPUs');
  return out.join('\n');
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      connections: { type: 'string', default: '50' },
      size: { type: 'string', default: '64' },
      seconds: { type: 'string', default: '5' },
      repeats: { type: 'string', default: '3' },
      kinds: { type: 'string', default: 'node,lt,et,et-infinity,oneshot,uring' },
      json: { type: 'boolean', default: false },
      baseline: { type: 'string' },
    },
  });
  const kinds = values.kinds.split(',');
  const options = {
    connections: Number(values.connections),
    size: Number(values.size),
    seconds: Number(values.seconds),
    repeats: Number(values.repeats),
    // With a baseline, each zepoll kind runs from both builds, interleaved (a before/after pair per kind).
    kinds: values.baseline === undefined ? kinds : kinds.flatMap((kind) => (kind === 'node' ? [kind] : [kind, `${kind}@base`])),
    baseline: values.baseline,
  };
  const rows = await runEcho(options, (text) => process.stderr.write(`${text}\n`));
  process.stdout.write(values.json ? `${JSON.stringify(rows, null, 2)}\n` : `${formatEcho(rows)}\n`);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await main();
