/**
 * Zero copy against copying through JavaScript: a 1 MiB and a 64 MiB file
 * served with sendfile and with read + write; and the proxy relaying the
 * 64 MiB file with splice and with a JavaScript copy loop. Reported:
 * throughput (GiB/s) and the server's (or proxy's) CPU seconds per GiB.
 * The client (Node's net, reading and discarding) fetches the file over and
 * over for the run's length, one connection at a time per lane. Each row
 * is the median of the repeats (rows run interleaved), with min-max.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect as connectSocket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { procSample } from './proc.js';
import { startServer, type BenchServer } from './servers.js';
import { spread, type Spread } from './stats.js';

const HERE = fileURLToPath(new URL('.', import.meta.url));
const LANES = 4; // concurrent downloads
const GIB = 2 ** 30;

export interface ZerocopyRow {
  readonly name: string;
  readonly gibPerSecond: number;
  readonly cpuSecondsPerGib: number;
  readonly cpuRange: Spread;
  readonly repeats: number;
}

type Sample = { readonly name: string; readonly gibPerSecond: number; readonly cpuSecondsPerGib: number };

/** Downloads from `port` on LANES connections, again and again, for `seconds`; returns bytes. */
function download(port: number, seconds: number): Promise<number> {
  const deadline = performance.now() + seconds * 1000;
  let bytes = 0;
  const lane = (): Promise<void> =>
    new Promise<void>((resolve, reject) => {
      const socket = connectSocket(port, '127.0.0.1');
      socket.on('data', (part: Buffer) => (bytes += part.length));
      socket.on('error', reject);
      socket.on('end', () => resolve());
    }).then(() => (performance.now() < deadline ? lane() : undefined));
  return Promise.all(Array.from({ length: LANES }, lane)).then(() => bytes);
}

async function measure(name: string, port: number, seconds: number, cpuPid: number): Promise<Sample> {
  const before = procSample(cpuPid);
  const started = performance.now();
  const bytes = await download(port, seconds);
  const elapsed = (performance.now() - started) / 1000;
  const cpu = procSample(cpuPid).cpuSeconds - before.cpuSeconds;
  return { name, gibPerSecond: bytes / GIB / elapsed, cpuSecondsPerGib: cpu / (bytes / GIB) };
}

const fileServer = (mode: string, path: string): Promise<BenchServer> => startServer(process.execPath, [`${HERE}zerocopy-server.js`, 'file', mode, path], /port (\d+)/);

export async function runZerocopy(seconds: number, repeats: number, progress: (text: string) => void): Promise<ZerocopyRow[]> {
  const directory = mkdtempSync(join(tmpdir(), 'zepoll-bench-'));
  const samples: Sample[] = [];
  try {
    const files = { '1 MiB': join(directory, 'small.bin'), '64 MiB': join(directory, 'large.bin') };
    writeFileSync(files['1 MiB'], Buffer.alloc(2 ** 20, 7));
    writeFileSync(files['64 MiB'], Buffer.alloc(64 * 2 ** 20, 7));
    for (let repeat = 1; repeat <= repeats; repeat += 1) {
      for (const [label, path] of Object.entries(files)) {
        for (const mode of ['sendfile', 'copy']) {
          progress(`zerocopy: ${label} file, ${mode} (${repeat}/${repeats})`);
          const server = await fileServer(mode, path);
          try {
            samples.push(await measure(`${label} file, ${mode === 'sendfile' ? 'sendfile' : 'read + write in JS'}`, server.port, seconds, server.child.pid!));
          } finally {
            await server.stop();
          }
        }
      }
      const origin = await fileServer('sendfile', files['64 MiB']);
      try {
        for (const mode of ['splice', 'copy']) {
          progress(`zerocopy: proxy, ${mode} (${repeat}/${repeats})`);
          const proxy: BenchServer = await startServer(process.execPath, [`${HERE}zerocopy-server.js`, 'proxy', mode, String(origin.port)], /port (\d+)/);
          try {
            samples.push(await measure(`proxy of 64 MiB, ${mode === 'splice' ? 'splice' : 'copy through JS'}`, proxy.port, seconds, proxy.child.pid!));
          } finally {
            await proxy.stop();
          }
        }
      } finally {
        await origin.stop();
      }
    }
  } finally {
    rmSync(directory, { recursive: true, force: true });
  }
  const names = [...new Set(samples.map((one) => one.name))];
  return names.map((name) => {
    const runs = samples.filter((one) => one.name === name);
    const cpuRange = spread(runs.map((run) => run.cpuSecondsPerGib));
    return { name, gibPerSecond: spread(runs.map((run) => run.gibPerSecond)).median, cpuSecondsPerGib: cpuRange.median, cpuRange, repeats };
  });
}

export function formatZerocopy(rows: readonly ZerocopyRow[]): string {
  const lines = [`zero copy (${LANES} concurrent downloads; CPU of the serving process; median of ${rows[0]?.repeats ?? 0}, min-max)`, 'path                                  GiB/s   CPU s per GiB'];
  for (const row of rows) lines.push(`${row.name.padEnd(36)} ${row.gibPerSecond.toFixed(2).padStart(6)}   ${row.cpuSecondsPerGib.toFixed(3).padStart(13)} (${row.cpuRange.min.toFixed(3)}-${row.cpuRange.max.toFixed(3)})`);
  return lines.join('\n');
}
