/**
 * A storm of new connections: COUNT clients connect at once (from another
 * process, on the client CPU), each sends one `GET /` and reads its
 * answer, against the http example's routes on zepoll (ET, io_uring) and
 * on uWebSockets.js (when its package loads), each server pinned to the
 * server CPU. Per storm: the server's collector over the storm's window
 * (gc-watch.ts: the longest pause, how many took over 1 ms and which kind
 * they were, scavenges, major collections, bytes allocated) and the
 * clients' latency (connect() to the whole answer: p50, p99, max).
 *
 * A storm is one window: SIGUSR2 to the server (a new window), the client
 * process opens its connections and reports, SIGUSR2 again (the figures);
 * then the client goes, and its closes are left to settle outside any
 * window. One storm first, not measured, compiles the code paths.
 *
 *   node bench/dist/connection-storm.js [--connections 1000] [--storms 5]
 *     [--servers et,uring,uws] [--node-flags='--single-threaded-gc ...'] [--json]
 *
 * With `--trace-gc` in NODE_OPTIONS the servers also print V8's own line
 * per collection (scavenge or mark-compact, sizes, reason).
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { availableHttpServers, startHttpServer, type HttpServerKind } from './http.js';
import { pinned, requestReport, CLIENT_CPU, type BenchServer } from './servers.js';
import type { GcFigures } from './gc-watch.js';

const CLIENT = fileURLToPath(new URL('./connection-storm-client.js', import.meta.url));
const REPORT_TIMEOUT_MS = 5000;
/** After a storm's clients go: the server closes their connections before the next window opens. */
const SETTLE_MS = 1000;

/** What the client process reports (connection-storm-client.ts). */
interface ClientFigures {
  readonly connections: number;
  readonly answered: number;
  readonly errors: number;
  readonly elapsedMs: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
}

interface StormRow {
  readonly server: HttpServerKind;
  readonly storm: number;
  readonly client: ClientFigures;
  readonly gc: GcFigures;
}

const { values } = parseArgs({
  options: {
    connections: { type: 'string', default: '1000' },
    storms: { type: 'string', default: '5' },
    servers: { type: 'string', default: 'et,uring,uws' },
    'node-flags': { type: 'string', default: '' },
    json: { type: 'boolean', default: false },
  },
});
const count = Number(values.connections);
const storms = Number(values.storms);
const say = (line: string): void => void process.stderr.write(`${line}\n`);
/** V8 flags for the servers (e.g. `--single-threaded-gc`, `--max-semi-space-size=32`): what would change their pauses. */
const nodeFlags = values['node-flags'].split(' ').filter(Boolean);
const kinds = availableHttpServers(values.servers.split(',') as HttpServerKind[], say);

/** One client process: resolves with its figures and a way to end it (its connections close then). */
function storm(port: number): Promise<{ figures: ClientFigures; end: () => Promise<void> }> {
  const [program, args] = pinned(CLIENT_CPU, process.execPath, [CLIENT, String(port), String(count)]);
  const child = spawn(program, args, { stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    let text = '';
    child.stdout.on('data', (part: Buffer) => {
      text += part.toString();
      const line = text.split('\n').find((candidate) => candidate.startsWith('{'));
      if (line === undefined) return;
      const end = (): Promise<void> =>
        new Promise((done) => {
          child.once('exit', () => done());
          child.kill('SIGTERM');
        });
      resolve({ figures: JSON.parse(line) as ClientFigures, end });
    });
    child.once('exit', (code) => reject(new Error(`the storm client exited (${code}) before it reported`)));
  });
}

const report = (server: BenchServer, kind: HttpServerKind): Promise<{ gc: GcFigures }> => requestReport<{ gc: GcFigures }>(server, kind, REPORT_TIMEOUT_MS);
const pause = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Every server started, then the storms interleaved (server A, B, C, then
 * A, B, C again): a neighbour's load on the machine falls on all of them alike.
 */
async function measure(wanted: readonly HttpServerKind[]): Promise<StormRow[]> {
  const servers: Array<[HttpServerKind, BenchServer]> = [];
  const rows: StormRow[] = [];
  try {
    for (const kind of wanted) servers.push([kind, await startHttpServer(kind, nodeFlags)]);
    for (let index = 0; index <= storms; index += 1) {
      for (const [kind, server] of servers) {
        await report(server, kind); // a new window
        const { figures, end } = await storm(server.port);
        const { gc } = await report(server, kind);
        await end();
        await pause(SETTLE_MS);
        if (index > 0) rows.push({ server: kind, storm: index, client: figures, gc }); // storm 0 compiles the code paths
      }
    }
  } finally {
    for (const [, server] of servers) await server.stop();
  }
  return rows.sort((a, b) => wanted.indexOf(a.server) - wanted.indexOf(b.server) || a.storm - b.storm);
}

function format(rows: readonly StormRow[]): string {
  const flags = nodeFlags.length === 0 ? '' : `; servers on Node run with ${nodeFlags.join(' ')}`;
  const lines = [`${count} connections at once, one GET / each; ${storms} storms per server (after one not measured)${flags}`, ''];
  lines.push('| server | storm | answered | errors | storm ms | p50 ms | p99 ms | max ms | GC pause max ms | pauses > 1 ms (kind ms) | scavenges | major | allocated MiB |');
  lines.push('| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- | ---: | ---: | ---: |');
  for (const { server, storm: index, client, gc } of rows) {
    const long = gc.longPauses.map((one) => `${one.type} ${one.ms.toFixed(2)}`).join(', ') || '0';
    lines.push(
      `| ${server} | ${index} | ${client.answered} | ${client.errors} | ${client.elapsedMs.toFixed(0)} | ${client.p50Ms.toFixed(1)} | ${client.p99Ms.toFixed(1)} | ${client.maxMs.toFixed(1)} | ${gc.pauseMaxMs.toFixed(2)} | ${long} | ${gc.scavenges} | ${gc.majorCollections} | ${(gc.allocatedBytes / 2 ** 20).toFixed(2)} |`,
    );
  }
  return `${lines.join('\n')}\n`;
}

const rows = await measure(kinds);
process.stdout.write(values.json ? `${JSON.stringify(rows)}\n` : format(rows));
