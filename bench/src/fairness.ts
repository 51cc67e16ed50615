/**
 * Fairness under firehoses that need none of the measuring client's CPU:
 * 50 connections doing 64-byte round trips (the C echo client, which
 * measures their latency) while 1, 4 or 16 firehose connections are
 * drained by the same echo server. The firehoses' bytes are queued in the
 * kernel before the measurement (bench/reference/fairness-pump.c: raised
 * send buffers, then the pump sleeps); the server holds them unread until
 * the measurement starts (SIGUSR1), then drains them as fast as it reads.
 * So a reactor that reads megabytes per turn delays the small connections
 * by exactly that, and the client's core does only the measuring.
 *
 * For LT, ET and one-shot: the small p99 alone, beside the firehoses with
 * the 64 KiB read quota, and with readQuota Infinity; Node's net beside
 * them. With the firehoses' drain rate (MiB/s). Repeated, every figure the
 * median of the repeats; factors are taken per repeat (runs seconds apart).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { procSample } from './proc.js';
import { buildReference } from './reference.js';
import { CLIENT_CPU, pinned, requestReport, startServer, type BenchServer } from './servers.js';
import { spread, type Spread } from './stats.js';

const HERE = fileURLToPath(new URL('.', import.meta.url));
/** Small round-trip connections beside the firehoses (exported: the fair-share target counts them). */
export const SMALL_CONNECTIONS = 50;
const SMALL_SIZE = 64;
/** Firehose counts swept; the first repeat runs all of them, later repeats the middle one. */
export const FIREHOSE_COUNTS = [1, 4, 16];
const FIREHOSES_REPEATED = 4;
/** Bytes queued for the firehoses in all (split between them): more than a server drains in the measured run. */
const BACKLOG_BYTES = 768 * 2 ** 20;
const FILL_TIMEOUT_MS = 60_000;
const REPORT_TIMEOUT_MS = 5000;
const MIB = 2 ** 20;
/** Pump exit status: no root, the firehoses cannot be queued (the scenario is left out). */
const PUMP_NEEDS_ROOT = 3;

export interface FairnessRow {
  /** lt, et, oneshot, or node (Node's net, which has no quota: its figures are in the quota columns). */
  readonly mode: string;
  readonly firehoses: number;
  readonly quietP99us: number;
  readonly quotaP99us: number;
  readonly noQuotaP99us: number;
  readonly quotaFactor: number;
  readonly noQuotaFactor: number;
  readonly quotaFactorRange: Spread;
  readonly noQuotaFactorRange: Spread;
  /** How fast the firehoses were drained (MiB/s), median, with quotas and without. */
  readonly quotaFirehoseMiBps: number;
  readonly noQuotaFirehoseMiBps: number;
  /** The server's CPU share while the small connections ran (median): near 1, the core was saturated. */
  readonly quotaServerCpuShare: number;
  readonly noQuotaServerCpuShare: number;
  readonly repeats: number;
}

interface Sample {
  readonly p99us: number;
  readonly firehoseMiBps: number;
  readonly serverCpuShare: number;
}

/** The echo server's report (SIGUSR2): its firehose figures. */
async function report(server: BenchServer): Promise<{ bytes: number; lastMs: number }> {
  return (await requestReport<{ firehose: { bytes: number; lastMs: number } }>(server, 'the echo server', REPORT_TIMEOUT_MS)).firehose;
}

/** Starts the pump and waits until its bytes are all queued; null when it cannot run here (not root). */
function fill(port: number, firehoses: number): Promise<ChildProcess | null> {
  const [command, args] = pinned(CLIENT_CPU, buildReference('fairness-pump'), [String(port), String(firehoses), String(Math.floor(BACKLOG_BYTES / firehoses))]);
  const pump = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      pump.kill('SIGKILL');
      reject(new Error('the fairness pump did not fill its connections'));
    }, FILL_TIMEOUT_MS);
    pump.stdout!.on('data', (part: Buffer) => {
      if (!part.toString().includes('filled')) return;
      clearTimeout(timer);
      resolve(pump);
    });
    pump.once('exit', (code) => {
      clearTimeout(timer);
      if (code === PUMP_NEEDS_ROOT) resolve(null);
      else reject(new Error(`the fairness pump exited with ${code}`));
    });
  });
}

class NeedsRoot extends Error {}

async function measure(kind: string, firehoses: number, seconds: number): Promise<Sample> {
  const server = await startServer(process.execPath, [`${HERE}echo-server.js`, kind, 'hold'], /port (\d+)/);
  let pump: ChildProcess | null = null;
  try {
    if (firehoses > 0) {
      pump = await fill(server.port, firehoses);
      if (pump === null) throw new NeedsRoot();
    }
    server.child.kill('SIGUSR1'); // the firehoses are read from now on
    const [command, args] = pinned(CLIENT_CPU, buildReference('echo-client'), [String(server.port), String(SMALL_CONNECTIONS), String(SMALL_SIZE), String(seconds)]);
    const before = procSample(server.child.pid!);
    const started = performance.now();
    const run = spawnSync(command, args, { encoding: 'utf8', timeout: (seconds + 30) * 1000 });
    const serverCpuShare = (procSample(server.child.pid!).cpuSeconds - before.cpuSeconds) / ((performance.now() - started) / 1000);
    if (run.status !== 0) throw new Error(`echo client failed: ${run.stderr}`);
    const drained = await report(server);
    return { p99us: (JSON.parse(run.stdout) as { p99us: number }).p99us, firehoseMiBps: drained.lastMs > 0 ? drained.bytes / MIB / (drained.lastMs / 1000) : 0, serverCpuShare };
  } finally {
    pump?.kill('SIGKILL');
    await server.stop();
  }
}

/** Runs the sweep; an empty result (with a line) when the firehoses cannot be queued here. */
export async function runFairness(seconds: number, repeats: number, progress: (text: string) => void): Promise<FairnessRow[]> {
  const modes = ['lt', 'et', 'oneshot', 'uring', 'node'];
  const quiet = new Map<string, Sample[]>(modes.map((mode) => [mode, []]));
  const loaded = new Map<string, { quota: Sample[]; noQuota: Sample[] }>();
  const key = (mode: string, firehoses: number): string => `${mode}/${firehoses}`;
  try {
    for (let repeat = 1; repeat <= repeats; repeat += 1) {
      const counts = repeat === 1 ? FIREHOSE_COUNTS : [FIREHOSES_REPEATED];
      for (const mode of modes) {
        progress(`fairness: ${mode}, no firehose (${repeat}/${repeats})`);
        quiet.get(mode)!.push(await measure(mode, 0, seconds));
        for (const firehoses of counts) {
          const into = loaded.get(key(mode, firehoses)) ?? { quota: [], noQuota: [] };
          loaded.set(key(mode, firehoses), into);
          progress(`fairness: ${mode}, ${firehoses} firehoses${mode === 'node' ? '' : ', quota 64 KiB'} (${repeat}/${repeats})`);
          into.quota.push(await measure(mode, firehoses, seconds));
          if (mode === 'node') continue; // Node's net has no quota to turn off
          progress(`fairness: ${mode}, ${firehoses} firehoses, readQuota Infinity (${repeat}/${repeats})`);
          into.noQuota.push(await measure(`${mode}-infinity`, firehoses, seconds));
        }
      }
    }
  } catch (error) {
    if (!(error instanceof NeedsRoot)) throw error;
    progress('fairness left out: the firehoses are queued with SO_SNDBUFFORCE, which needs root');
    return [];
  }
  const rows: FairnessRow[] = [];
  for (const firehoses of FIREHOSE_COUNTS) {
    for (const mode of modes) {
      const runs = loaded.get(key(mode, firehoses));
      if (runs === undefined) continue;
      const alone = quiet.get(mode)!;
      // A factor per repeat: the loaded run against the quiet run of the same repeat.
      const factors = (samples: Sample[]): Spread => spread(samples.length === 0 ? [Number.NaN] : samples.map((sample, index) => sample.p99us / alone[index]!.p99us));
      const median = (samples: Sample[], pick: (sample: Sample) => number): number => (samples.length === 0 ? Number.NaN : spread(samples.map(pick)).median);
      const quotaFactorRange = factors(runs.quota);
      const noQuotaFactorRange = factors(runs.noQuota);
      rows.push({
        mode,
        firehoses,
        quietP99us: median(alone, (sample) => sample.p99us),
        quotaP99us: median(runs.quota, (sample) => sample.p99us),
        noQuotaP99us: median(runs.noQuota, (sample) => sample.p99us),
        quotaFactor: quotaFactorRange.median,
        noQuotaFactor: noQuotaFactorRange.median,
        quotaFactorRange,
        noQuotaFactorRange,
        quotaFirehoseMiBps: median(runs.quota, (sample) => sample.firehoseMiBps),
        noQuotaFirehoseMiBps: median(runs.noQuota, (sample) => sample.firehoseMiBps),
        quotaServerCpuShare: median(runs.quota, (sample) => sample.serverCpuShare),
        noQuotaServerCpuShare: median(runs.noQuota, (sample) => sample.serverCpuShare),
        repeats: runs.quota.length,
      });
    }
  }
  return rows;
}

const range = (value: Spread): string => `${value.min.toFixed(2)}-${value.max.toFixed(2)}`;

export function formatFairness(rows: readonly FairnessRow[]): string {
  const lines = [
    `fairness: p99 of ${SMALL_CONNECTIONS} small round-trip connections (µs), alone and while the server drains firehoses queued in the kernel (${BACKLOG_BYTES / MIB} MiB in all); factor per repeat (median, min-max); the firehoses' drain rate; the server's CPU share (near 100%: its core was saturated)`,
    'firehoses  mode     alone    quota 64 KiB (factor) drain rate, server CPU                   readQuota Infinity (factor) drain rate, server CPU',
  ];
  for (const row of rows) {
    const share = (value: number): string => `${(value * 100).toFixed(0)}%`;
    const quota = `${row.quotaP99us.toFixed(0).padStart(7)} (${row.quotaFactor.toFixed(2)}x, ${range(row.quotaFactorRange)}) ${row.quotaFirehoseMiBps.toFixed(0)} MiB/s, ${share(row.quotaServerCpuShare)}`;
    const noQuota = row.mode === 'node' ? '(Node net: no quota)' : `${row.noQuotaP99us.toFixed(0).padStart(7)} (${row.noQuotaFactor.toFixed(2)}x, ${range(row.noQuotaFactorRange)}) ${row.noQuotaFirehoseMiBps.toFixed(0)} MiB/s, ${share(row.noQuotaServerCpuShare)}`;
    lines.push(`${String(row.firehoses).padStart(9)}  ${row.mode.padEnd(7)} ${row.quietP99us.toFixed(0).padStart(6)}   ${quota.padEnd(61)}${noQuota}`);
  }
  return lines.join('\n');
}
