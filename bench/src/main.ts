/**
 * `npm run bench`: the comparison users run. With no options it finishes in
 * about twelve minutes on a 2-core machine; every figure but ws's is the
 * median of `--repeats` interleaved runs, with min-max (ws runs once: one
 * run of 100 000 connections loads the machine for minutes):
 *
 *   http   GET / on Node http, zepoll LT, ET, ET with readQuota Infinity,
 *          one-shot, the C epoll reference, uWebSockets.js and nginx; wrk -c 100 and -c 1000 not
 *          pipelined, wrk -c 100 pipelined x16, autocannon -c 100
 *          (autocannon only, three ways, when wrk is missing)
 *   hono   one Hono app on zepoll/fetch and on @hono/node-server (Node http), wrk -c 100
 *   echo   50 connections, 64-byte messages: Node net vs zepoll modes
 *   fairness  small round trips while 1, 4, 16 firehoses queued in the kernel are drained, quota on and off, and Node net
 *   scaling   N idle + 10 active connections on select, poll, epoll LT/ET
 *   zerocopy  sendfile vs read+write in JS; splice proxy vs JS copy
 *   binding  ns per call beside the same system call from C
 *   ws       --ws-connections WebSocket connections (10 000 by default; the
 *            issue's full run: --scenarios ws --ws-connections 100000) on
 *            zepoll/ws ET and io_uring, uWebSockets.js and ws: memory per
 *            connection, accept time, broadcast to all, echo under load
 *
 * Prints a table per scenario and the targets; writes
 * bench/results/<timestamp>.json and .html (and latest.html).
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, release, totalmem } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { formatEcho, runEcho, type EchoRow } from './echo.js';
import { availableHttpServers, HONO_SERVERS, HTTP_SERVERS, type HttpConfig, type HttpServerKind } from './http.js';
import { formatHttp, runHttp, type HttpTable } from './http-scenario.js';
import { renderHtml } from './report-html.js';
import { PINNED } from './servers.js';
import { ensureCommand } from './system.js';
import { evaluateTargets, formatTargets } from './targets.js';
import { formatFairness, runFairness, type FairnessRow } from './fairness.js';
import { formatScaling, runScaling, type ScalingPoint } from './scaling.js';
import { formatZerocopy, runZerocopy, type ZerocopyRow } from './zerocopy.js';
import { runWsScenario, WS_CONNECTIONS_DEFAULT, WS_PERIOD_MS_DEFAULT } from './ws-scale-run.js';
import { formatWsScale } from './ws-scale-format.js';
import type { WsRow } from './ws-scale.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const RESULTS = join(HERE, '..', 'results');
const SCENARIOS = ['http', 'hono', 'echo', 'fairness', 'scaling', 'zerocopy', 'binding', 'ws'] as const;
/** The scaling curve's idle connection counts. */
const SCALING_IDLE = [100, 1000, 10_000];
/** Run lengths (s) of the scenarios after http, at most: each is repeated `--repeats` times. */
const ECHO_SECONDS_MAX = 1;
const AUTOCANNON_SECONDS_MAX = 1;
const FAIRNESS_SECONDS_MAX = 0.7;
const SCALING_SECONDS_MAX = 0.5;
const ZEROCOPY_SECONDS_MAX = 0.6;
const HONO_SECONDS_MAX = 2;

const USAGE = `usage: npm run bench -- [options]   (or node bench/dist/main.js [options])
  --scenarios http,hono,echo,fairness,scaling,zerocopy,binding,ws   which to run (default all)
  --servers node,lt,et,et-infinity,oneshot,uring,c,uws,nginx   http servers (default all; uws and nginx left out with a line when missing)
  --clients wrk,autocannon        http load generators (default both; wrk is installed with apt-get when missing and root)
  --connections 100,1000          http connection counts (default 100,1000 for wrk, 100 for autocannon)
  --pipelining 1,16               http pipelining depths (default 1,16 at 100 connections)
  --seconds 2                     length of each measured run
  --repeats 3                     interleaved repeats per figure (median, min-max)
  --ws-connections ${WS_CONNECTIONS_DEFAULT}         ws: WebSocket connections (the issue's full run: 100000)
  --ws-servers zepoll-et,zepoll-uring,uws,ws   ws: servers (default all; uws and io_uring left out with a line when missing)
  --ws-period-ms ${WS_PERIOD_MS_DEFAULT}           ws: each connection sends 1 KiB once per period (shorter only for quick checks)
  --results-dir bench/results     where the JSON and HTML go
  --help`;

function list(text: string | undefined, fallback: readonly string[]): string[] {
  return text === undefined ? [...fallback] : text.split(',').map((item) => item.trim()).filter(Boolean);
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      scenarios: { type: 'string' },
      servers: { type: 'string' },
      clients: { type: 'string' },
      connections: { type: 'string' },
      pipelining: { type: 'string' },
      seconds: { type: 'string', default: '2' },
      repeats: { type: 'string', default: '3' },
      'ws-connections': { type: 'string', default: String(WS_CONNECTIONS_DEFAULT) },
      'ws-servers': { type: 'string' },
      'ws-period-ms': { type: 'string', default: String(WS_PERIOD_MS_DEFAULT) },
      'results-dir': { type: 'string', default: RESULTS },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  const seconds = Number(values.seconds);
  const repeats = Number(values.repeats);
  const scenarios = list(values.scenarios, SCENARIOS);
  const servers = list(values.servers, HTTP_SERVERS) as HttpServerKind[];
  const bad = [...scenarios.filter((name) => !(SCENARIOS as readonly string[]).includes(name)), ...servers.filter((name) => !(HTTP_SERVERS as readonly string[]).includes(name))];
  if (!(seconds > 0 && seconds <= 60) || !(Number.isInteger(repeats) && repeats >= 1 && repeats <= 10) || bad.length > 0) {
    process.stderr.write(`bench: bad options${bad.length > 0 ? ` (${bad.join(', ')})` : ''}\n${USAGE}\n`);
    process.exitCode = 2;
    return;
  }
  const progress = (text: string): void => void process.stderr.write(`[bench] ${text}\n`);
  const startedAt = new Date().toISOString();
  const loadAtStart = loadavg().map((load) => load.toFixed(2)).join(' ');

  let micro: Array<{ name: string; unit: string; median: number; min: number; max: number; c?: number }> = [];
  if (scenarios.includes('binding')) {
    progress('binding micro-benchmark');
    micro = (JSON.parse(execFileSync(process.execPath, [join(HERE, 'binding-micro.js'), '--json', '--seconds', '1'], { encoding: 'utf8' })) as { figures: typeof micro }).figures;
  }

  let http: HttpTable[] = [];
  if (scenarios.includes('http')) {
    const clients = list(values.clients, ['wrk', 'autocannon']).filter((client) => client !== 'wrk' || ensureCommand('wrk', 'wrk')) as Array<'wrk' | 'autocannon'>;
    const configs: HttpConfig[] = [];
    for (const client of clients) {
      const wrkPresent = clients.includes('wrk');
      const connections = list(values.connections, client === 'wrk' || !wrkPresent ? ['100', '1000'] : ['100']).map(Number);
      const depths = list(values.pipelining, ['1', '16']).map(Number);
      for (const count of connections) {
        for (const depth of depths) {
          // By default, pipelining only at 100 connections, and autocannon only unpipelined at 100 when wrk runs.
          if (values.pipelining === undefined && depth > 1 && count !== 100) continue;
          if (values.connections === undefined && values.pipelining === undefined && client === 'autocannon' && wrkPresent && depth > 1) continue;
          // autocannon beside wrk is a second view, client-bound at these rates: shorter runs.
          configs.push({ client, connections: count, pipelining: depth, ...(client === 'autocannon' && wrkPresent ? { seconds: Math.min(seconds, AUTOCANNON_SECONDS_MAX) } : {}) });
        }
      }
    }
    http = await runHttp(availableHttpServers(servers, progress), configs, seconds, repeats, progress);
  }

  // The same Hono app on zepoll/fetch and on @hono/node-server, wrk -c 100 (wrk, not autocannon: the client must not be the limit).
  const hono: HttpTable[] = scenarios.includes('hono') && ensureCommand('wrk', 'wrk') ? await runHttp([...HONO_SERVERS], [{ client: 'wrk', connections: 100, pipelining: 1 }], Math.min(seconds, HONO_SECONDS_MAX), repeats, progress) : [];

  const echoKinds = ['node', 'lt', 'et', 'et-infinity', 'oneshot', 'uring'];
  let echo: EchoRow[] = [];
  let echoLarge: EchoRow[] = [];
  if (scenarios.includes('echo')) {
    echo = await runEcho({ connections: 50, size: 64, seconds: Math.min(seconds, ECHO_SECONDS_MAX), repeats, kinds: echoKinds }, progress);
    echoLarge = await runEcho({ connections: 50, size: 16 * 1024, seconds: Math.min(seconds, ECHO_SECONDS_MAX), repeats, kinds: echoKinds }, progress);
  }
  // Shorter runs, repeated: these figures settle in well under a second, and their noise is between runs.
  const fairness: FairnessRow[] = scenarios.includes('fairness') ? await runFairness(Math.min(seconds, FAIRNESS_SECONDS_MAX), repeats, progress) : [];
  const scaling: ScalingPoint[] = scenarios.includes('scaling') ? await runScaling(SCALING_IDLE, Math.min(seconds, SCALING_SECONDS_MAX), repeats, progress) : [];
  const zerocopy: ZerocopyRow[] = scenarios.includes('zerocopy') ? await runZerocopy(Math.min(seconds, ZEROCOPY_SECONDS_MAX), repeats, progress) : [];

  let ws: WsRow[] = [];
  if (scenarios.includes('ws')) {
    const outcome = await runWsScenario({ connections: values['ws-connections']!, servers: values['ws-servers'], periodMs: values['ws-period-ms']! }, progress);
    ws = outcome.rows;
    if (outcome.failed) process.exitCode = 1;
  }

  const targets = evaluateTargets(http, echo, fairness, scaling, zerocopy, hono, ws);
  for (const table of [...http, ...hono]) process.stdout.write(`\n${formatHttp(table)}\n`);
  if (echo.length > 0) process.stdout.write(`\necho, 50 connections, 64-byte messages (median)\n${formatEcho(echo)}\n`);
  if (echoLarge.length > 0) process.stdout.write(`\necho, 50 connections, 16 KiB messages (median)\n${formatEcho(echoLarge)}\n`);
  if (fairness.length > 0) process.stdout.write(`\n${formatFairness(fairness)}\n`);
  if (scaling.length > 0) process.stdout.write(`\n${formatScaling(scaling)}\n`);
  if (zerocopy.length > 0) process.stdout.write(`\n${formatZerocopy(zerocopy)}\n`);
  if (ws.length > 0) process.stdout.write(`\n${formatWsScale(ws)}\n`);
  if (micro.length > 0) {
    process.stdout.write('\nbinding (median of 5 rounds)\n');
    for (const figure of micro) process.stdout.write(`  ${figure.name.padEnd(34)} ${figure.median.toFixed(1).padStart(12)} ${figure.unit}${figure.c === undefined ? '' : `  (same call from C: ${figure.c.toFixed(1)} ns)`}\n`);
  }
  process.stdout.write(`\n${formatTargets(targets)}\n`);

  const machine = {
    cpu: cpus()[0]?.model ?? 'unknown',
    cores: cpus().length,
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    kernel: release(),
    node: process.version,
    zig: JSON.parse(readFileSync(join(HERE, '..', '..', 'node_modules', '@oven', 'zig', 'package.json'), 'utf8')).version as string,
    pinned: PINNED ? 'servers CPU 0, clients CPU 1 (taskset)' : 'not pinned',
    loadAverage: `${loadAtStart} at the start, ${loadavg().map((load) => load.toFixed(2)).join(' ')} at the end (1, 5, 15 min)`,
    seconds,
    repeats,
  };
  const results = values['results-dir']!;
  mkdirSync(results, { recursive: true });
  const stamp = startedAt.replace(/[:.]/g, '-');
  const data = { machine, startedAt, micro, http: [...http, ...hono], echo, echoLarge, fairness, scaling, zerocopy, ws, targets };
  writeFileSync(join(results, `${stamp}.json`), `${JSON.stringify(data, null, 2)}\n`);
  const html = renderHtml(data);
  writeFileSync(join(results, `${stamp}.html`), html);
  writeFileSync(join(results, 'latest.html'), html);
  const near = relative(process.cwd(), results);
  const shown = near === '' ? '.' : near.startsWith('..') ? results : near;
  process.stdout.write(`\nsaved ${shown}/${stamp}.json and .html (also ${shown}/latest.html)\n`);
}

await main().catch((error: unknown) => {
  process.stderr.write(`bench failed: ${(error as Error).stack ?? String(error)}\n`);
  process.exitCode = 1;
});
