/**
 * The HTTP comparison: GET / on Node's http, zepoll (LT, ET, ET with
 * readQuota Infinity, one-shot), the C epoll reference server, and the
 * reference peers uWebSockets.js and nginx (when present), loaded
 * by autocannon (programmatic API) and wrk, not pipelined and pipelined.
 * Servers run interleaved (A B C ... A B C ...), each figure is the median
 * of the repeats; server CPU, RSS and context switches come from /proc,
 * system calls from zepoll's own counters.
 */
import { fileURLToPath } from 'node:url';
import { procSample } from './proc.js';
import { spawnSync } from 'node:child_process';
import { requestReport, runPinnedClient, startServer, type BenchServer } from './servers.js';
import { buildReference } from './reference.js';
import { ensureCommand, hasCommand } from './system.js';
import { startNginx } from './nginx-server.js';
import type { GcFigures } from './gc-watch.js';
import { straceCounts } from './strace-count.js';

export const HTTP_SERVERS = ['node', 'lt', 'et', 'et-infinity', 'oneshot', 'uring', 'c', 'uws', 'nginx'] as const;
/** One Hono app (hono-app.ts) on zepoll/fetch and on @hono/node-server: the hono scenario. */
export const HONO_SERVERS = ['hono-zepoll', 'hono-node'] as const;
export type HttpServerKind = (typeof HTTP_SERVERS)[number] | (typeof HONO_SERVERS)[number];

export interface HttpConfig {
  readonly client: 'autocannon' | 'wrk';
  readonly connections: number;
  readonly pipelining: number;
  /** This configuration's run length, when not the run's --seconds. */
  readonly seconds?: number;
}

/** What the load generator measures of the responses, in a sample and (medians, sums) in a row. */
export interface ResponseFigures {
  readonly p50ms: number;
  readonly p99ms: number;
  readonly maxMs: number;
  readonly errors: number;
  readonly timeouts: number;
  readonly non2xx: number;
}

export interface HttpSample extends ResponseFigures {
  readonly requestsPerSecond: number;
  readonly serverCpuUsPerRequest: number;
  readonly serverCpuShare: number;
  readonly rssMiB: number;
  readonly voluntarySwitchesPerSecond: number;
  readonly involuntarySwitchesPerSecond: number;
  readonly syscallsPerRequest: Record<string, number> | null;
  readonly clientCpuShare: number;
  /** Bytes allocated on the JavaScript heap per request during the run (NaN for servers not on Node). */
  readonly garbageBytesPerRequest: number;
  readonly scavengesPerSecond: number;
  /** The longest collection during the run, and how many took over 1 ms. */
  readonly gcPauseMaxMs: number;
  readonly gcPausesOver1Ms: number;
}

/** Client CPU share above which its core, not the server, set the number. */
export const CLIENT_SATURATED = 0.9;
const COUNTERS_TIMEOUT_MS = 5000;
/** Load before each measured run, not measured. */
const WARM_UP_SECONDS = 1; // whole seconds: wrk takes no fraction
const HERE = fileURLToPath(new URL('.', import.meta.url));
const PIPELINE_SCRIPT = fileURLToPath(new URL('../reference/pipeline.lua', import.meta.url));

/** Starts a server of `kind` (pinned to the server CPU), resolved once it says its port; `nodeFlags` go to the servers on Node. */
export async function startHttpServer(kind: HttpServerKind, nodeFlags: readonly string[] = []): Promise<BenchServer> {
  const node = (script: string, ...args: string[]): Promise<BenchServer> => startServer(process.execPath, [...nodeFlags, `${HERE}${script}`, ...args], /port (\d+)/);
  if (kind === 'node') return node('node-http-server.js');
  if (kind === 'c') return startServer(buildReference('http-server'), ['0'], /port (\d+)/);
  if (kind === 'uws') return node('uws-server.js');
  if (kind === 'nginx') return startNginx();
  if (kind === 'hono-zepoll') return node('hono-zepoll-server.js');
  if (kind === 'hono-node') return node('hono-node-server.js');
  return node('zepoll-http-server.js', kind);
}

/** The zepoll servers: they keep counters of their own; the others' system calls are counted by strace. */
const ZEPOLL_KINDS: ReadonlySet<HttpServerKind> = new Set(['lt', 'et', 'et-infinity', 'oneshot', 'uring']);
export const keepsCounters = (kind: HttpServerKind): boolean => ZEPOLL_KINDS.has(kind);

/**
 * The servers of `wanted` that can run here: uWS.js when its optional
 * package loads, nginx when present or installable. Each one left out is
 * said in one line.
 */
export function availableHttpServers(wanted: readonly HttpServerKind[], say: (line: string) => void): HttpServerKind[] {
  return wanted.filter((kind) => {
    if (kind === 'uws') {
      const check = spawnSync(process.execPath, [`${HERE}uws-server.js`, '--check'], { encoding: 'utf8' });
      if (check.status === 0) return true;
      say(`uWebSockets.js left out: ${check.stderr.trim().split('\n')[0] || `exit ${check.status}`} (it is the optional dependency @rjweb/uws)`);
      return false;
    }
    if (kind === 'nginx' && !ensureCommand('nginx', 'nginx')) {
      say('nginx left out: not installed and not installable here');
      return false;
    }
    return true;
  });
}

/** What a Node-based server reports on SIGUSR2 (gc-watch.ts). */
interface ServerReport {
  readonly syscalls: Record<string, number> | null;
  readonly gc: GcFigures;
}

/** Servers that run on Node and so report their garbage (gc-watch.ts): zepoll's, Node's http, uWS.js, the Hono ones. */
const onNode = (kind: HttpServerKind): boolean => keepsCounters(kind) || kind === 'node' || kind === 'uws' || kind === 'hono-zepoll' || kind === 'hono-node';

/** The server's report (SIGUSR2 → one JSON line): counters and garbage; null for servers not on Node. */
function report(kind: HttpServerKind, server: BenchServer): Promise<ServerReport | null> {
  if (!onNode(kind)) return Promise.resolve(null);
  return requestReport<ServerReport>(server, `the ${kind} server`, COUNTERS_TIMEOUT_MS);
}

interface ClientResult extends ResponseFigures {
  readonly requestsPerSecond: number;
  readonly requests: number;
  readonly clientCpuSeconds: number;
  readonly elapsedSeconds: number;
}

function milliseconds(text: string): number {
  const match = /([\d.]+)(us|ms|s|m)/.exec(text);
  if (match === null) return Number.NaN;
  const value = Number(match[1]);
  return match[2] === 'us' ? value / 1000 : match[2] === 'ms' ? value : match[2] === 's' ? value * 1000 : value * 60_000;
}

function load(config: HttpConfig, port: number, seconds: number): ClientResult {
  const url = `http://127.0.0.1:${port}/`;
  if (config.client === 'autocannon') {
    const run = runPinnedClient(process.execPath, [`${HERE}autocannon-client.js`, url, String(config.connections), String(config.pipelining), String(seconds)], seconds);
    const result = JSON.parse(run.stdout) as Omit<ClientResult, 'requests'> & { elapsedSeconds: number };
    return { ...result, requests: result.requestsPerSecond * result.elapsedSeconds, clientCpuSeconds: run.cpuSeconds, elapsedSeconds: run.elapsed };
  }
  const threads = 1; // one client core
  const args = ['-t', String(threads), '-c', String(config.connections), '-d', `${seconds}s`, '--latency', '--timeout', '5s'];
  if (config.pipelining > 1) args.push('-s', PIPELINE_SCRIPT);
  args.push(url);
  if (config.pipelining > 1) args.push('--', String(config.pipelining));
  const run = runPinnedClient('wrk', args, seconds);
  const text = run.stdout;
  const requests = Number(/(\d+) requests in/.exec(text)?.[1] ?? Number.NaN);
  const socketErrors = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(text);
  // Pipelined, wrk's percentiles do not describe requests (they read as 0):
  // they are left out rather than shown wrong.
  const timed = config.pipelining === 1;
  return {
    requestsPerSecond: Number(/Requests\/sec:\s+([\d.]+)/.exec(text)?.[1] ?? Number.NaN),
    requests,
    p50ms: timed ? milliseconds(/50%\s+(\S+)/.exec(text)?.[1] ?? '') : Number.NaN,
    p99ms: timed ? milliseconds(/99%\s+(\S+)/.exec(text)?.[1] ?? '') : Number.NaN,
    maxMs: milliseconds(/Latency\s+\S+\s+\S+\s+(\S+)/.exec(text)?.[1] ?? ''),
    errors: socketErrors === null ? 0 : Number(socketErrors[1]) + Number(socketErrors[2]) + Number(socketErrors[3]),
    timeouts: socketErrors === null ? 0 : Number(socketErrors[4]),
    non2xx: Number(/Non-2xx or 3xx responses: (\d+)/.exec(text)?.[1] ?? 0),
    clientCpuSeconds: run.cpuSeconds,
    elapsedSeconds: run.elapsed,
  };
}

export async function httpSample(kind: HttpServerKind, config: HttpConfig, seconds: number): Promise<HttpSample> {
  const server = await startHttpServer(kind);
  try {
    const pid = server.child.pid!;
    // Warm-up, not measured: every server is measured hot (JIT-compiled,
    // pools and caches filled), as a service is; its start is not the figure.
    load(config, server.port, WARM_UP_SECONDS);
    const reportBefore = await report(kind, server);
    const before = procSample(pid);
    const result = load(config, server.port, seconds);
    const after = procSample(pid);
    const reportAfter = await report(kind, server); // its gc window is the load run's
    const requests = result.requests;
    const callsBefore = reportBefore?.syscalls ?? null;
    const callsAfter = reportAfter?.syscalls ?? null;
    let syscalls: Record<string, number> | null = null;
    if (callsBefore !== null && callsAfter !== null) {
      syscalls = {};
      for (const [name, value] of Object.entries(callsAfter)) if (name !== 'turns') syscalls[name] = (value - (callsBefore[name] ?? 0)) / requests;
    }
    const gc = reportAfter?.gc;
    const cpu = after.cpuSeconds - before.cpuSeconds;
    return {
      requestsPerSecond: result.requestsPerSecond,
      p50ms: result.p50ms,
      p99ms: result.p99ms,
      maxMs: result.maxMs,
      errors: result.errors,
      timeouts: result.timeouts,
      non2xx: result.non2xx,
      serverCpuUsPerRequest: (cpu * 1e6) / requests,
      serverCpuShare: cpu / result.elapsedSeconds,
      rssMiB: after.rssKiB / 1024,
      voluntarySwitchesPerSecond: (after.voluntarySwitches - before.voluntarySwitches) / result.elapsedSeconds,
      involuntarySwitchesPerSecond: (after.involuntarySwitches - before.involuntarySwitches) / result.elapsedSeconds,
      syscallsPerRequest: syscalls,
      clientCpuShare: result.clientCpuSeconds / result.elapsedSeconds,
      garbageBytesPerRequest: gc === undefined ? Number.NaN : gc.allocatedBytes / requests,
      scavengesPerSecond: gc === undefined ? Number.NaN : (gc.scavenges * 1000) / gc.windowMs,
      gcPauseMaxMs: gc === undefined ? Number.NaN : gc.pauseMaxMs,
      gcPausesOver1Ms: gc === undefined ? Number.NaN : gc.pausesOver1Ms,
    };
  } finally {
    await server.stop();
  }
}

/**
 * System calls per request of a server without counters (Node, C), by
 * strace in a run of its own; null for zepoll (its counters are exact) or
 * when strace is missing.
 */
export async function tracedSyscalls(kind: HttpServerKind, config: HttpConfig, seconds: number): Promise<Record<string, number> | null> {
  if (keepsCounters(kind)) return null;
  const server = await startHttpServer(kind);
  try {
    return await straceCounts(server.child.pid!, () => load(config, server.port, seconds).requests);
  } finally {
    await server.stop();
  }
}

export function wrkAvailable(): boolean {
  return hasCommand('wrk');
}

