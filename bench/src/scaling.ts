/**
 * The scaling curve: N idle connections (100, 1 000, 10 000) plus 10 active
 * ones doing 64-byte round trips, served by select (only while every fd is
 * below 1024), poll, and epoll (LT and ET). Reported: the active
 * connections' round trips per second, and the cost of one wait call over
 * the N idle connections with nothing ready (timeout 0: no time blocked, no
 * events to copy; the median of up to 20 000 calls made after the run), as
 * N grows; each the median of the repeats (run
 * interleaved), with min-max. The real version of the "select is O(n)" chart.
 */
import { spawn, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { buildReference } from './reference.js';
import { CLIENT_CPU, pinned, startServer } from './servers.js';
import { spread, type Spread } from './stats.js';

export const MECHANISMS = ['select', 'poll', 'epoll-lt', 'epoll-et'] as const;
export type Mechanism = (typeof MECHANISMS)[number];
/** select(2)'s fd_set holds fds below 1024; the server's own fds come first. */
const SELECT_CONNECTIONS_MAX = 1000;
const ACTIVE = 10;
const HERE = fileURLToPath(new URL('.', import.meta.url));

export interface ScalingPoint {
  readonly mechanism: Mechanism;
  readonly idle: number;
  readonly microsecondsPerWait: number;
  readonly roundTripsPerSecond: number;
  readonly waitRange: Spread;
  readonly repeats: number;
}

type Sample = { readonly microsecondsPerWait: number; readonly roundTripsPerSecond: number };

async function sample(mechanism: Mechanism, idle: number, seconds: number): Promise<Sample> {
  const total = idle + ACTIVE;
  const server = await startServer(process.execPath, [`${HERE}scaling-server.js`, mechanism, String(total), String(seconds + 1)], /port (\d+)/);
  let output = '';
  server.child.stdout!.on('data', (part: Buffer) => (output += part.toString()));
  const idler = spawn(process.execPath, [`${HERE}scaling-idle.js`, String(server.port), String(idle)], { stdio: ['ignore', 'pipe', 'inherit'] });
  try {
    await new Promise<void>((resolve, reject) => {
      let text = '';
      idler.stdout!.on('data', (part: Buffer) => {
        text += part.toString();
        if (text.includes('idle ')) resolve();
      });
      idler.once('exit', (code) => reject(new Error(`idle holder exited with ${code}`)));
    });
    const [command, args] = pinned(CLIENT_CPU, buildReference('echo-client'), [String(server.port), String(ACTIVE), '64', String(seconds)]);
    const client = spawnSync(command, args, { encoding: 'utf8', timeout: (seconds + 30) * 1000 });
    if (client.status !== 0) throw new Error(`echo client failed: ${client.stderr}`);
    const result = JSON.parse(client.stdout) as { roundTrips: number; elapsed: number };
    await new Promise<void>((resolve) => server.child.once('exit', () => resolve()));
    const line = output.split('\n').find((candidate) => candidate.startsWith('{'));
    if (line === undefined) throw new Error(`the ${mechanism} server reported nothing`);
    const stats = JSON.parse(line) as { probeMedianNs: number; probeNonEmpty: number };
    if (stats.probeNonEmpty > 0) throw new Error(`the ${mechanism} probe found ${stats.probeNonEmpty} ready idle connections`);
    return { microsecondsPerWait: stats.probeMedianNs / 1000, roundTripsPerSecond: result.roundTrips / result.elapsed };
  } finally {
    idler.kill('SIGTERM');
    await server.stop();
  }
}

export async function runScaling(idleCounts: readonly number[], seconds: number, repeats: number, progress: (text: string) => void): Promise<ScalingPoint[]> {
  const samples = new Map<string, Sample[]>();
  for (let repeat = 1; repeat <= repeats; repeat += 1) {
    for (const idle of idleCounts) {
      for (const mechanism of MECHANISMS) {
        if (mechanism === 'select' && idle + ACTIVE > SELECT_CONNECTIONS_MAX) continue; // undefined behaviour past FD_SETSIZE: not measured
        progress(`scaling: ${mechanism}, ${idle} idle + ${ACTIVE} active (${repeat}/${repeats})`);
        const key = `${mechanism} ${idle}`;
        samples.set(key, [...(samples.get(key) ?? []), await sample(mechanism, idle, seconds)]);
      }
    }
  }
  return [...samples].map(([key, runs]) => {
    const [mechanism, idle] = key.split(' ') as [Mechanism, string];
    const waitRange = spread(runs.map((run) => run.microsecondsPerWait));
    return { mechanism, idle: Number(idle), microsecondsPerWait: waitRange.median, roundTripsPerSecond: spread(runs.map((run) => run.roundTripsPerSecond)).median, waitRange, repeats };
  });
}

/** Sub-10 µs figures with two decimals (epoll's are about half a microsecond). */
const micro = (value: number): string => value.toFixed(value < 10 ? 2 : 1);

export function formatScaling(points: readonly ScalingPoint[]): string {
  const idles = [...new Set(points.map((one) => one.idle))];
  const lines = [`scaling: ${ACTIVE} active connections (64-byte round trips) plus N idle; µs per wait over the N idle with nothing ready (median; min-max of the repeats) / round trips per second (median of ${points[0]?.repeats ?? 0})`];
  lines.push(`mechanism   ${idles.map((idle) => `N=${idle}`.padStart(36)).join('')}`);
  for (const mechanism of MECHANISMS) {
    const cells = idles.map((idle) => {
      const found = points.find((one) => one.mechanism === mechanism && one.idle === idle);
      return (found === undefined ? 'n/a (fd >= 1024)' : `${micro(found.microsecondsPerWait)} µs (${micro(found.waitRange.min)}-${micro(found.waitRange.max)}) / ${Math.round(found.roundTripsPerSecond).toLocaleString('en-US')}`).padStart(36);
    });
    lines.push(`${mechanism.padEnd(11)} ${cells.join('')}`);
  }
  return lines.join('\n');
}
