/**
 * Fairness under a firehose: 50 connections doing 64-byte round trips (the
 * C echo client, which measures their latency) while one more connection
 * streams at full speed into the same echo server. For each mode, the small
 * requests' p99 without the firehose, with it and read quotas on (64 KiB),
 * and with it and quotas off (readQuota Infinity). Repeated (every mode's
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

export interface FairnessRow {
  readonly mode: string;
  readonly quietP99us: number;
  readonly quotaP99us: number;
  readonly noQuotaP99us: number;
  readonly quotaFactor: number;
  readonly noQuotaFactor: number;
  readonly quotaFactorRange: Spread;
  readonly noQuotaFactorRange: Spread;
  readonly repeats: number;
}

async function p99(kind: string, firehose: boolean, seconds: number): Promise<number> {
  const server = await startServer(process.execPath, [`${HERE}echo-server.js`, kind], /port (\d+)/);
  try {
    // The firehose runs on the clients' CPU, so the server's core is its own.
    const [streamCommand, streamArgs] = pinned(CLIENT_CPU, process.execPath, [`${HERE}fairness-firehose.js`, String(server.port), String(seconds + 1)]);
    const stream = firehose ? spawn(streamCommand, streamArgs, { stdio: 'ignore' }) : null;
    if (stream !== null) await new Promise((resolve) => setTimeout(resolve, 300)); // the stream is flowing first
    const [command, args] = pinned(CLIENT_CPU, buildReference('echo-client'), [String(server.port), String(SMALL_CONNECTIONS), '64', String(seconds)]);
    const run = spawnSync(command, args, { encoding: 'utf8', timeout: (seconds + 30) * 1000 });
    stream?.kill('SIGKILL');
    if (run.status !== 0) throw new Error(`echo client failed: ${run.stderr}`);
    return (JSON.parse(run.stdout) as { p99us: number }).p99us;
  } finally {
    await server.stop();
  }
}

export async function runFairness(seconds: number, repeats: number, progress: (text: string) => void): Promise<FairnessRow[]> {
  const modes = ['lt', 'et', 'oneshot'];
  const samples = new Map(modes.map((mode) => [mode, { quiet: [] as number[], quota: [] as number[], noQuota: [] as number[] }]));
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
    const quotaFactorRange = spread(quota.map((value, index) => value / quiet[index]!));
    const noQuotaFactorRange = spread(noQuota.map((value, index) => value / quiet[index]!));
    return {
      mode,
      quietP99us: spread(quiet).median,
      quotaP99us: spread(quota).median,
      noQuotaP99us: spread(noQuota).median,
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
  const lines = [`fairness: p99 of ${SMALL_CONNECTIONS} small round-trip connections (µs), alone and beside one firehose connection (median of ${rows[0]?.repeats ?? 0}; factor min-max)`, 'mode   alone    firehose+quota (factor)             firehose, no quota (factor)'];
  for (const row of rows) lines.push(`${row.mode.padEnd(5)} ${row.quietP99us.toFixed(0).padStart(7)}   ${row.quotaP99us.toFixed(0).padStart(9)} (${row.quotaFactor.toFixed(2)}x, ${range(row.quotaFactorRange)})`.padEnd(54) + `${row.noQuotaP99us.toFixed(0).padStart(9)} (${row.noQuotaFactor.toFixed(2)}x, ${range(row.noQuotaFactorRange)})`);
  return lines.join('\n');
}
