/**
 * redis-benchmark against the resp example and a real redis-server, in the
 * same run, side by side:
 *
 *   node bench/dist/resp-benchmark.js [--requests 100000]
 *
 * Both servers are pinned to CPU 0 and redis-benchmark to CPU 1 (taskset,
 * when there are two CPUs). redis-server runs without persistence.
 */
import { spawnSync } from 'node:child_process';
import { parseArgs } from 'node:util';
import { CLIENT_CPU, PINNED, pinned, startExample, startServer, type BenchServer } from './servers.js';
import { ensureCommand } from './system.js';

const REDIS_PORT = 16379;
const TESTS = 'ping,set,get';

function benchmark(server: BenchServer, requests: number): Map<string, number> {
  const [command, args] = pinned(CLIENT_CPU, 'redis-benchmark', ['-p', String(server.port), '-t', TESTS, '-n', String(requests), '-q']);
  const run = spawnSync(command, args, { encoding: 'utf8', timeout: 600_000 });
  if (run.status !== 0) throw new Error(`redis-benchmark failed: ${run.stderr}`);
  const results = new Map<string, number>();
  for (const match of run.stdout.matchAll(/([A-Z_]+): ([\d.]+) requests per second/g)) results.set(match[1]!, Number(match[2]));
  return results;
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { requests: { type: 'string', default: '100000' } } });
  const requests = Number(values.requests);
  if (!ensureCommand('redis-benchmark', 'redis-tools')) process.exit(1);
  const columns: Array<[string, Map<string, number>]> = [];
  const resp = await startExample('resp');
  try {
    process.stderr.write('redis-benchmark: zepoll resp\n');
    columns.push(['zepoll resp', benchmark(resp, requests)]);
  } finally {
    await resp.stop();
  }
  if (ensureCommand('redis-server', 'redis-server')) {
    const redis = await startServer('redis-server', ['--port', String(REDIS_PORT), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], /Ready to accept connections/, REDIS_PORT);
    try {
      process.stderr.write('redis-benchmark: redis-server\n');
      columns.push(['redis-server', benchmark(redis, requests)]);
    } finally {
      await redis.stop();
    }
  }
  process.stdout.write(`redis-benchmark -t ${TESTS} -n ${requests} -q${PINNED ? ' (servers on CPU 0, client on CPU 1)' : ''}\n`);
  process.stdout.write(`test          ${columns.map(([name]) => name.padStart(14)).join('')}${columns.length === 2 ? '     ratio' : ''}\n`);
  for (const test of columns[0]![1].keys()) {
    const values = columns.map(([, results]) => results.get(test) ?? Number.NaN);
    const ratio = values.length === 2 ? `${(values[0]! / values[1]!).toFixed(2).padStart(9)}x` : '';
    process.stdout.write(`${test.padEnd(14)}${values.map((value) => Math.round(value).toLocaleString('en-US').padStart(14)).join('')}${ratio}\n`);
  }
}

await main();
