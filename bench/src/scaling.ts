/**
 * The scaling curve: N idle connections (100, 1 000, 10 000) plus 10 active
 * ones doing 64-byte round trips, served by select (only while every fd is
 * below 1024), poll, and epoll (LT and ET). Reported: the average wall time
 * of one wait call and the active connections' round trips per second, as
 * N grows. The real version of the "select is O(n)" chart.
 */
import { spawn, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { buildReference } from './reference.js';
import { CLIENT_CPU, pinned, startServer } from './servers.js';

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
}

async function point(mechanism: Mechanism, idle: number, seconds: number): Promise<ScalingPoint> {
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
    const stats = JSON.parse(line) as { waits: number; waitNs: number };
    return { mechanism, idle, microsecondsPerWait: stats.waitNs / stats.waits / 1000, roundTripsPerSecond: result.roundTrips / result.elapsed };
  } finally {
    idler.kill('SIGTERM');
    await server.stop();
  }
}

export async function runScaling(idleCounts: readonly number[], seconds: number, progress: (text: string) => void): Promise<ScalingPoint[]> {
  const points: ScalingPoint[] = [];
  for (const idle of idleCounts) {
    for (const mechanism of MECHANISMS) {
      if (mechanism === 'select' && idle + ACTIVE > SELECT_CONNECTIONS_MAX) continue; // undefined behaviour past FD_SETSIZE: not measured
      progress(`scaling: ${mechanism}, ${idle} idle + ${ACTIVE} active`);
      points.push(await point(mechanism, idle, seconds));
    }
  }
  return points;
}

export function formatScaling(points: readonly ScalingPoint[]): string {
  const idles = [...new Set(points.map((one) => one.idle))];
  const lines = [`scaling: ${ACTIVE} active connections (64-byte round trips) plus N idle; µs per wait call / round trips per second`];
  lines.push(`mechanism   ${idles.map((idle) => `N=${idle}`.padStart(22)).join('')}`);
  for (const mechanism of MECHANISMS) {
    const cells = idles.map((idle) => {
      const found = points.find((one) => one.mechanism === mechanism && one.idle === idle);
      return (found === undefined ? 'n/a (fd >= 1024)' : `${found.microsecondsPerWait.toFixed(1)} µs / ${Math.round(found.roundTripsPerSecond).toLocaleString('en-US')}`).padStart(22);
    });
    lines.push(`${mechanism.padEnd(11)} ${cells.join('')}`);
  }
  return lines.join('\n');
}
