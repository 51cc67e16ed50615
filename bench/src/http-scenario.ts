/** Runs the HTTP comparison interleaved and summarizes it (medians, min–max). */
import { CLIENT_SATURATED, httpSample, keepsCounters, tracedSyscalls, type HttpConfig, type HttpSample, type HttpServerKind, type ResponseFigures } from './http.js';
import { medianRecord, spread, type Spread } from './stats.js';

export interface HttpRow extends ResponseFigures {
  readonly server: HttpServerKind;
  readonly requestsPerSecond: Spread;
  readonly serverCpuUsPerRequest: Spread;
  readonly serverCpuShare: number;
  readonly rssMiB: number;
  readonly voluntarySwitchesPerSecond: number;
  readonly involuntarySwitchesPerSecond: number;
  readonly syscallsPerRequest: Record<string, number> | null;
  /** Where the system-call counts came from: zepoll's counters or strace (a separate, slowed run). */
  readonly syscallsSource: 'counters' | 'strace' | 'none';
  readonly clientCpuShare: number;
  readonly clientSaturated: boolean;
  /** Garbage: JavaScript heap bytes allocated per request (median), scavenges per second, the longest collection and how many took over 1 ms (worst repeat); NaN for servers not on Node. */
  readonly garbageBytesPerRequest: number;
  readonly scavengesPerSecond: number;
  readonly gcPauseMaxMs: number;
  readonly gcPausesOver1Ms: number;
}

export interface HttpTable {
  readonly config: HttpConfig;
  readonly rows: HttpRow[];
}

/** Length of the strace'd run (strace slows the server; only the counts are used). */
const STRACE_SECONDS = 1;

export async function runHttp(servers: readonly HttpServerKind[], configs: readonly HttpConfig[], runSeconds: number, repeats: number, progress: (text: string) => void): Promise<HttpTable[]> {
  const tables: HttpTable[] = [];
  const tracedConfigs = new Set<string>();
  for (const config of configs) {
    const seconds = config.seconds ?? runSeconds;
    const samples = new Map<HttpServerKind, HttpSample[]>(servers.map((server) => [server, []]));
    for (let repeat = 0; repeat < repeats; repeat += 1) {
      for (const server of servers) {
        progress(`http ${config.client} -c ${config.connections} pipelining ${config.pipelining}: ${server} (${repeat + 1}/${repeats})`);
        samples.get(server)!.push(await httpSample(server, config, seconds));
      }
    }
    // Node, C, uWS.js and nginx keep no counters: one strace'd run each per connection
    // count and depth (the first client's table; the counts do not depend on the client).
    const traced = new Map<HttpServerKind, Record<string, number> | null>();
    const shape = `${config.connections}/${config.pipelining}`;
    if (!tracedConfigs.has(shape)) {
      tracedConfigs.add(shape);
      for (const server of servers) {
        if (keepsCounters(server)) continue;
        progress(`http ${config.client} -c ${config.connections} pipelining ${config.pipelining}: ${server} under strace -c (system calls only)`);
        traced.set(server, await tracedSyscalls(server, config, STRACE_SECONDS));
      }
    }
    tables.push({
      config,
      rows: servers.map((server) => {
        const all = samples.get(server)!;
        const middle = (pick: (sample: HttpSample) => number): number => spread(all.map(pick)).median;
        const clientCpuShare = middle((sample) => sample.clientCpuShare);
        return {
          server,
          requestsPerSecond: spread(all.map((sample) => sample.requestsPerSecond)),
          p50ms: middle((sample) => sample.p50ms),
          p99ms: middle((sample) => sample.p99ms),
          maxMs: middle((sample) => sample.maxMs),
          errors: all.reduce((sum, sample) => sum + sample.errors, 0),
          timeouts: all.reduce((sum, sample) => sum + sample.timeouts, 0),
          non2xx: all.reduce((sum, sample) => sum + sample.non2xx, 0),
          serverCpuUsPerRequest: spread(all.map((sample) => sample.serverCpuUsPerRequest)),
          serverCpuShare: middle((sample) => sample.serverCpuShare),
          rssMiB: middle((sample) => sample.rssMiB),
          voluntarySwitchesPerSecond: middle((sample) => sample.voluntarySwitchesPerSecond),
          involuntarySwitchesPerSecond: middle((sample) => sample.involuntarySwitchesPerSecond),
          syscallsPerRequest: medianRecord(all.map((sample) => sample.syscallsPerRequest)) ?? traced.get(server) ?? null,
          syscallsSource: all[0]!.syscallsPerRequest !== null ? 'counters' : traced.get(server) != null ? 'strace' : 'none',
          clientCpuShare,
          clientSaturated: clientCpuShare > CLIENT_SATURATED,
          garbageBytesPerRequest: middle((sample) => sample.garbageBytesPerRequest),
          scavengesPerSecond: middle((sample) => sample.scavengesPerSecond),
          gcPauseMaxMs: Math.max(...all.map((sample) => sample.gcPauseMaxMs)),
          gcPausesOver1Ms: Math.max(...all.map((sample) => sample.gcPausesOver1Ms)),
        };
      }),
    });
  }
  return tables;
}

const NAMES: Record<HttpServerKind, string> = { node: 'node http', lt: 'zepoll LT', et: 'zepoll ET', 'et-infinity': 'ET Infinity', oneshot: 'one-shot', uring: 'zepoll io_uring', c: 'C epoll', uws: 'uWS.js', nginx: 'nginx', 'hono-zepoll': 'Hono zepoll', 'hono-node': 'Hono node' };
export const serverName = (server: HttpServerKind): string => NAMES[server];

const integer = (value: number): string => (Number.isNaN(value) ? 'n/a' : Math.round(value).toLocaleString('en-US'));

export function formatHttp(table: HttpTable): string {
  const { config, rows } = table;
  const node = rows.find((row) => row.server === 'node' || row.server === 'hono-node')?.requestsPerSecond.median;
  const lines = [`http GET /, ${config.client} -c ${config.connections}, pipelining ${config.pipelining} (median; ranked by server CPU per request)`];
  lines.push('server        requests/s (min-max)          vs node  p50 ms  p99 ms  max ms  err/t.o.  CPU µs/req  RSS MiB  garbage B/req  GC/s  GC max ms  ctx sw/s (vol/invol)  syscalls per request                 client CPU');
  const ranked = [...rows].sort((a, b) => a.serverCpuUsPerRequest.median - b.serverCpuUsPerRequest.median);
  for (const row of ranked) {
    const rate = row.requestsPerSecond;
    const calls = row.syscallsPerRequest === null ? 'n/a (no counters, no strace)' : `${row.syscallsSource === 'strace' ? 'strace: ' : ''}${Object.entries(row.syscallsPerRequest).filter(([, value]) => value >= 0.005).map(([name, value]) => `${name} ${value.toFixed(2)}`).join(', ')}`;
    lines.push(
      [
        serverName(row.server).padEnd(12),
        `${integer(rate.median).padStart(9)} (${integer(rate.min)}-${integer(rate.max)})`.padEnd(30),
        (node === undefined ? '' : `${(rate.median / node).toFixed(2)}x`).padStart(6),
        (Number.isNaN(row.p50ms) ? 'n/a' : row.p50ms.toFixed(2)).padStart(7),
        (Number.isNaN(row.p99ms) ? 'n/a' : row.p99ms.toFixed(2)).padStart(7),
        row.maxMs.toFixed(1).padStart(7),
        `${row.errors}/${row.timeouts}`.padStart(9),
        row.serverCpuUsPerRequest.median.toFixed(2).padStart(11),
        row.rssMiB.toFixed(1).padStart(8),
        (Number.isNaN(row.garbageBytesPerRequest) ? 'n/a' : row.garbageBytesPerRequest.toFixed(1)).padStart(14),
        (Number.isNaN(row.scavengesPerSecond) ? 'n/a' : row.scavengesPerSecond.toFixed(1)).padStart(5),
        (Number.isNaN(row.gcPauseMaxMs) ? 'n/a' : row.gcPauseMaxMs.toFixed(2)).padStart(10),
        `${integer(row.voluntarySwitchesPerSecond)}/${integer(row.involuntarySwitchesPerSecond)}`.padStart(21),
        ` ${calls.padEnd(36)}`,
        ` ${(row.clientCpuShare * 100).toFixed(0)}%${row.clientSaturated ? ' (client-bound)' : ''}`,
      ].join(' '),
    );
  }
  return lines.join('\n');
}
