/**
 * Fairness under a firehose: 50 connections doing 64-byte round trips (the
 * C echo client, which measures their latency) while one more connection
 * streams at full speed into the same echo server. For each mode, the small
 * requests' p99 without the firehose, with it and read quotas on (64 KiB),
 * and with it and quotas off (readQuota Infinity).
 */
import { spawn, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { buildReference } from './reference.js';
import { CLIENT_CPU, pinned, startServer } from './servers.js';

const HERE = fileURLToPath(new URL('.', import.meta.url));
const SMALL_CONNECTIONS = 50;

export interface FairnessRow {
  readonly mode: string;
  readonly quietP99us: number;
  readonly quotaP99us: number;
  readonly noQuotaP99us: number;
  readonly quotaFactor: number;
  readonly noQuotaFactor: number;
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

export async function runFairness(seconds: number, progress: (text: string) => void): Promise<FairnessRow[]> {
  const rows: FairnessRow[] = [];
  for (const mode of ['lt', 'et', 'oneshot']) {
    progress(`fairness: ${mode}, no firehose`);
    const quiet = await p99(mode, false, seconds);
    progress(`fairness: ${mode}, firehose, quota 64 KiB`);
    const quota = await p99(mode, true, seconds);
    progress(`fairness: ${mode}, firehose, readQuota Infinity`);
    const noQuota = await p99(`${mode}-infinity`, true, seconds);
    rows.push({ mode, quietP99us: quiet, quotaP99us: quota, noQuotaP99us: noQuota, quotaFactor: quota / quiet, noQuotaFactor: noQuota / quiet });
  }
  return rows;
}

export function formatFairness(rows: readonly FairnessRow[]): string {
  const lines = [`fairness: p99 of ${SMALL_CONNECTIONS} small round-trip connections (µs), alone and beside one firehose connection`, 'mode   alone    firehose+quota (factor)   firehose, no quota (factor)'];
  for (const row of rows) lines.push(`${row.mode.padEnd(5)} ${row.quietP99us.toFixed(0).padStart(7)}   ${row.quotaP99us.toFixed(0).padStart(9)} (${row.quotaFactor.toFixed(2)}x)        ${row.noQuotaP99us.toFixed(0).padStart(9)} (${row.noQuotaFactor.toFixed(2)}x)`);
  return lines.join('\n');
}
