/**
 * Fairness under a firehose: 50 connections doing 64-byte round trips (the
 * C echo client, which measures their latency) while one more connection
 * streams at full speed into the same echo server. For each mode, the small
 * requests' p99 without the firehose, with it and read quotas on (64 KiB),
 * and with it and quotas off (readQuota Infinity), with the rate the
 * firehose achieved (so it is seen to be one).
 *
 * On two cores the firehose must share a core with the server or with the
 * measuring client. It shares the client's, at nice 19: otherwise the
 * client's own lost CPU shows up as latency (a busy loop at normal priority
 * on that core alone raised the clients' p99 from 0.7 to 5.1 ms, more than
 * the firehose did), and the factor measures the client, not the server.
 * At nice 19 it takes the time the client leaves, which is most of it: the
 * client mostly waits for answers. Repeated (every mode's
 * three runs, then again), each figure the median with min-max; a factor is
 * taken per repeat, from runs made seconds apart, then its median.
 */
import { spawn, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { buildReference } from './reference.js';
import { CLIENT_CPU, pinned, startServer } from './servers.js';
import { spread, type Spread } from './stats.js';

const HERE = fileURLToPath(new URL('.', import.meta.url));
const SMALL_CONNECTIONS = 50;
/** The firehose streams this long before the measured run starts. */
const FIREHOSE_LEAD_MS = 300;
const FIREHOSE_NICE = 19;

export interface FairnessRow {
  readonly mode: string;
  readonly quietP99us: number;
  readonly quotaP99us: number;
  readonly noQuotaP99us: number;
  readonly quotaFactor: number;
  readonly noQuotaFactor: number;
  readonly quotaFactorRange: Spread;
  readonly noQuotaFactorRange: Spread;
  /** What the firehose sent per second (MiB/s), median, with quotas and without. */
  readonly quotaFirehoseMiBps: number;
  readonly noQuotaFirehoseMiBps: number;
  readonly repeats: number;
}

interface Sample {
  readonly p99us: number;
  readonly firehoseMiBps: number;
}

async function p99(kind: string, firehose: boolean, seconds: number): Promise<Sample> {
  const server = await startServer(process.execPath, [`${HERE}echo-server.js`, kind], /port (\d+)/);
  try {
    const streamSeconds = FIREHOSE_LEAD_MS / 1000 + seconds;
    const [streamCommand, streamArgs] = pinned(CLIENT_CPU, 'nice', ['-n', String(FIREHOSE_NICE), process.execPath, `${HERE}fairness-firehose.js`, String(server.port), String(streamSeconds)]);
    const stream = firehose ? spawn(streamCommand, streamArgs, { stdio: ['ignore', 'pipe', 'ignore'] }) : null;
    let streamed = '';
    stream?.stdout!.on('data', (part: Buffer) => (streamed += part.toString()));
    const streamDone = stream === null ? Promise.resolve() : new Promise<void>((resolve) => stream.once('close', () => resolve()));
    if (stream !== null) await new Promise((resolve) => setTimeout(resolve, FIREHOSE_LEAD_MS)); // the stream is flowing first
    const [command, args] = pinned(CLIENT_CPU, buildReference('echo-client'), [String(server.port), String(SMALL_CONNECTIONS), '64', String(seconds)]);
    const run = spawnSync(command, args, { encoding: 'utf8', timeout: (seconds + 30) * 1000 });
    if (run.status !== 0) {
      stream?.kill('SIGKILL');
      throw new Error(`echo client failed: ${run.stderr}`);
    }
    const killer = setTimeout(() => stream?.kill('SIGKILL'), (streamSeconds + 5) * 1000);
    await streamDone;
    clearTimeout(killer);
    const sent = Number(streamed.trim());
    return { p99us: (JSON.parse(run.stdout) as { p99us: number }).p99us, firehoseMiBps: firehose && sent > 0 ? sent / 2 ** 20 / streamSeconds : 0 };
  } finally {
    await server.stop();
  }
}

export async function runFairness(seconds: number, repeats: number, progress: (text: string) => void): Promise<FairnessRow[]> {
  const modes = ['lt', 'et', 'oneshot'];
  const samples = new Map(modes.map((mode) => [mode, { quiet: [] as Sample[], quota: [] as Sample[], noQuota: [] as Sample[] }]));
  for (let repeat = 1; repeat <= repeats; repeat += 1) {
    for (const mode of modes) {
      const into = samples.get(mode)!;
      progress(`fairness: ${mode}, no firehose (${repeat}/${repeats})`);
      into.quiet.push(await p99(mode, false, seconds));
      progress(`fairness: ${mode}, firehose, quota 64 KiB (${repeat}/${repeats})`);
      into.quota.push(await p99(mode, true, seconds));
      progress(`fairness: ${mode}, firehose, readQuota Infinity (${repeat}/${repeats})`);
      into.noQuota.push(await p99(`${mode}-infinity`, true, seconds));
    }
  }
  return modes.map((mode) => {
    const { quiet, quota, noQuota } = samples.get(mode)!;
    const quotaFactorRange = spread(quota.map((value, index) => value.p99us / quiet[index]!.p99us));
    const noQuotaFactorRange = spread(noQuota.map((value, index) => value.p99us / quiet[index]!.p99us));
    return {
      mode,
      quietP99us: spread(quiet.map((one) => one.p99us)).median,
      quotaP99us: spread(quota.map((one) => one.p99us)).median,
      noQuotaP99us: spread(noQuota.map((one) => one.p99us)).median,
      quotaFirehoseMiBps: spread(quota.map((one) => one.firehoseMiBps)).median,
      noQuotaFirehoseMiBps: spread(noQuota.map((one) => one.firehoseMiBps)).median,
      quotaFactor: quotaFactorRange.median,
      noQuotaFactor: noQuotaFactorRange.median,
      quotaFactorRange,
      noQuotaFactorRange,
      repeats,
    };
  });
}

const range = (value: Spread): string => `${value.min.toFixed(2)}-${value.max.toFixed(2)}`;

export function formatFairness(rows: readonly FairnessRow[]): string {
  const lines = [
    `fairness: p99 of ${SMALL_CONNECTIONS} small round-trip connections (µs), alone and beside one firehose connection (nice ${FIREHOSE_NICE} on the client CPU); median of ${rows[0]?.repeats ?? 0}, factor min-max; the firehose's rate`,
    'mode   alone    firehose + quota 64 KiB (factor)          firehose, no quota (factor)',
  ];
  for (const row of rows) {
    const quota = `${row.quotaP99us.toFixed(0).padStart(9)} (${row.quotaFactor.toFixed(2)}x, ${range(row.quotaFactorRange)}) ${row.quotaFirehoseMiBps.toFixed(0)} MiB/s`;
    const noQuota = `${row.noQuotaP99us.toFixed(0).padStart(9)} (${row.noQuotaFactor.toFixed(2)}x, ${range(row.noQuotaFactorRange)}) ${row.noQuotaFirehoseMiBps.toFixed(0)} MiB/s`;
    lines.push(`${row.mode.padEnd(5)} ${row.quietP99us.toFixed(0).padStart(7)}   ${quota.padEnd(42)}${noQuota}`);
  }
  return lines.join('\n');
}
