/**
 * Before/after pairs for a change to the reactor: the http example's
 * server (GET /, wrk -c 100, not pipelined) from this tree and from another
 * built checkout of zepoll (`--baseline DIR`, e.g. a clone at the commit
 * before the change), each mode interleaved with its twin, server CPU per
 * request from /proc. A restructuring must leave these ratios at 1.
 *
 *   node bench/dist/paired-http.js --baseline DIR [--kinds lt,et,oneshot,uring] [--seconds 3] [--repeats 3]
 *
 * Server and wrk are pinned to different CPUs (taskset). Prints, per kind,
 * every repeat's CPU per request for both builds and the ratio of medians.
 */
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { procSample } from './proc.js';
import { runPinnedClient, startServer, PINNED } from './servers.js';
import { spread } from './stats.js';

const HERE = fileURLToPath(new URL('.', import.meta.url));
/** Load before each measured run, not measured (whole seconds: wrk takes no fraction). */
const WARM_UP_SECONDS = 1;
const CONNECTIONS = 100;

interface Sample {
  readonly cpuUsPerRequest: number;
  readonly requestsPerSecond: number;
  readonly p99ms: number;
}

function wrk(port: number, seconds: number): { requests: number; requestsPerSecond: number; p99ms: number } {
  const run = runPinnedClient('wrk', ['-t', '1', '-c', String(CONNECTIONS), '-d', `${seconds}s`, '--latency', `http://127.0.0.1:${port}/`], seconds);
  const p99 = /99%\s+([\d.]+)(us|ms|s)/.exec(run.stdout);
  const scale = p99?.[2] === 'us' ? 0.001 : p99?.[2] === 's' ? 1000 : 1;
  return {
    requests: Number(/(\d+) requests in/.exec(run.stdout)?.[1] ?? Number.NaN),
    requestsPerSecond: Number(/Requests\/sec:\s+([\d.]+)/.exec(run.stdout)?.[1] ?? Number.NaN),
    p99ms: p99 === null ? Number.NaN : Number(p99[1]) * scale,
  };
}

async function sample(script: string, kind: string, seconds: number): Promise<Sample> {
  const server = await startServer(process.execPath, [script, kind], /port (\d+)/);
  try {
    wrk(server.port, WARM_UP_SECONDS);
    const pid = server.child.pid!;
    const before = procSample(pid).cpuSeconds;
    const result = wrk(server.port, seconds);
    const cpu = procSample(pid).cpuSeconds - before;
    return { cpuUsPerRequest: (cpu * 1e6) / result.requests, requestsPerSecond: result.requestsPerSecond, p99ms: result.p99ms };
  } finally {
    await server.stop();
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { baseline: { type: 'string' }, kinds: { type: 'string', default: 'lt,et,oneshot,uring' }, seconds: { type: 'string', default: '3' }, repeats: { type: 'string', default: '3' } } });
  if (values.baseline === undefined) throw new Error('--baseline DIR (a built zepoll checkout) is required');
  const builds = [
    { name: 'this tree', script: join(HERE, 'zepoll-http-server.js') },
    { name: 'baseline', script: join(values.baseline, 'bench', 'dist', 'zepoll-http-server.js') },
  ];
  const kinds = values.kinds.split(',');
  const seconds = Number(values.seconds);
  const repeats = Number(values.repeats);
  const samples = new Map<string, Sample[]>();
  for (let repeat = 0; repeat < repeats; repeat += 1) {
    for (const kind of kinds) {
      for (const build of builds) {
        process.stderr.write(`paired http: ${kind} (${build.name}), repeat ${repeat + 1}/${repeats}\n`);
        const key = `${kind}|${build.name}`;
        samples.set(key, [...(samples.get(key) ?? []), await sample(build.script, kind, seconds)]);
      }
    }
  }
  const lines = [`wrk -c ${CONNECTIONS}, ${seconds} s x ${repeats}, server CPU µs per request (every repeat), requests/s and p99 medians`];
  for (const kind of kinds) {
    const after = samples.get(`${kind}|this tree`)!;
    const before = samples.get(`${kind}|baseline`)!;
    const cpu = (all: Sample[]): string => all.map((one) => one.cpuUsPerRequest.toFixed(2)).join(' / ');
    const median = (all: Sample[], pick: (one: Sample) => number): number => spread(all.map(pick)).median;
    const ratio = median(after, (one) => one.cpuUsPerRequest) / median(before, (one) => one.cpuUsPerRequest);
    lines.push(
      `${kind.padEnd(8)} this tree ${cpu(after)} µs, ${Math.round(median(after, (one) => one.requestsPerSecond)).toLocaleString('en-US')} req/s, p99 ${median(after, (one) => one.p99ms).toFixed(2)} ms | ` +
        `baseline ${cpu(before)} µs, ${Math.round(median(before, (one) => one.requestsPerSecond)).toLocaleString('en-US')} req/s, p99 ${median(before, (one) => one.p99ms).toFixed(2)} ms | CPU ratio ${ratio.toFixed(3)}x`,
    );
  }
  lines.push(PINNED ? 'server pinned to CPU 0, wrk to CPU 1 (taskset)' : 'not pinned: taskset missing or fewer than 2 CPUs');
  process.stdout.write(`${lines.join('\n')}\n`);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await main();
