/**
 * autocannon against the http example (zepoll LT and ET) and Node's http
 * with the same routes, GET /, side by side:
 *
 *   node bench/dist/http-autocannon.js [--connections 100] [--seconds 10] [--pipelining 1]
 *
 * autocannon runs in a child process pinned to CPU 1 (servers on CPU 0);
 * its CPU share is reported, because at ~70-140k requests/s on a small
 * machine the client's core is the limit, not the server.
 */
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { PINNED, runPinnedClient, startExample, startNodeHttp, type BenchServer } from './servers.js';

/** Client CPU share above which its core, not the server, set the number. */
const CLIENT_SATURATED = 0.9;
const AUTOCANNON = fileURLToPath(new URL('../../node_modules/autocannon/autocannon.js', import.meta.url));

interface Result {
  readonly name: string;
  readonly requestsPerSecond: number;
  readonly p50ms: number;
  readonly p99ms: number;
  readonly errors: number;
  readonly timeouts: number;
  readonly non2xx: number;
  readonly clientCpuShare: number;
}

/** Runs autocannon (pinned to the client CPU) and reads its JSON report. */
function cannon(name: string, server: BenchServer, connections: number, seconds: number, pipelining: number): Result {
  const run = runPinnedClient(process.execPath, [AUTOCANNON, '-j', '-c', String(connections), '-d', String(seconds), '-p', String(pipelining), `http://127.0.0.1:${server.port}/`], seconds);
  const report = JSON.parse(run.stdout) as { requests: { average: number }; latency: { p50: number; p99: number }; errors: number; timeouts: number; non2xx: number };
  return {
    name,
    requestsPerSecond: report.requests.average,
    p50ms: report.latency.p50,
    p99ms: report.latency.p99,
    errors: report.errors,
    timeouts: report.timeouts,
    non2xx: report.non2xx,
    clientCpuShare: run.cpuSeconds / run.elapsed,
  };
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { connections: { type: 'string', default: '100' }, seconds: { type: 'string', default: '10' }, pipelining: { type: 'string', default: '1' } } });
  const connections = Number(values.connections);
  const seconds = Number(values.seconds);
  const pipelining = Number(values.pipelining);
  const results: Result[] = [];
  for (const [name, start] of [
    ['node http', () => startNodeHttp()],
    ['zepoll LT', () => startExample('http', ['--mode', 'lt'])],
    ['zepoll ET', () => startExample('http', ['--mode', 'et'])],
  ] as const) {
    process.stderr.write(`autocannon -c ${connections} -d ${seconds} -p ${pipelining}: ${name}\n`);
    const server = await start();
    try {
      results.push(cannon(name, server, connections, seconds, pipelining));
    } finally {
      await server.stop();
    }
  }
  const baseline = results[0]!.requestsPerSecond;
  process.stdout.write(`autocannon -c ${connections} -d ${seconds} -p ${pipelining}, GET /${PINNED ? ' (server CPU 0, autocannon CPU 1)' : ''}\n`);
  process.stdout.write('server       requests/s   vs node   p50 ms   p99 ms   errors  timeouts  non-2xx  client CPU\n');
  for (const result of results) {
    process.stdout.write(
      `${result.name.padEnd(12)} ${Math.round(result.requestsPerSecond).toLocaleString('en-US').padStart(10)}   ${(result.requestsPerSecond / baseline).toFixed(2).padStart(6)}x   ${String(result.p50ms).padStart(6)}   ${String(result.p99ms).padStart(6)}   ${String(result.errors).padStart(6)}  ${String(result.timeouts).padStart(8)}  ${String(result.non2xx).padStart(7)}  ${(result.clientCpuShare * 100).toFixed(0)}%${result.clientCpuShare > CLIENT_SATURATED ? ' (client-bound)' : ''}\n`,
    );
  }
}

await main();
