/**
 * Zero copy against copying through JavaScript: a 1 MiB and a 64 MiB file
 * served with sendfile and with read + write; and the proxy relaying the
 * 64 MiB file with splice and with a JavaScript copy loop; beside them the
 * same servers in C (bench/reference/zerocopy-server.c), the kernel's own
 * ceiling for sendfile and splice. Reported:
 * throughput (GiB/s) and the server's (or proxy's) CPU seconds per GiB.
 * The client (Node's net, reading and discarding) fetches the file over and
 * over for the run's length, one connection at a time per lane. Each row
 * is the median of the repeats (rows run interleaved), with min-max.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { procSample } from './proc.js';
import { runPinnedClient, startServer, type BenchServer } from './servers.js';
import { buildReference } from './reference.js';
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
  /** The client's CPU share (median): above 90% the client set the throughput. */
  readonly clientCpuShare: number;
}

type Sample = { readonly name: string; readonly gibPerSecond: number; readonly cpuSecondsPerGib: number; readonly clientCpuShare: number };

/** Client CPU share above which the client's core, not the server, set the throughput. */
const CLIENT_BOUND = 0.9;

/** Downloads from `port` for `seconds` with the pinned client (zerocopy-client.ts); the server's CPU over the same span. */
function measure(name: string, port: number, seconds: number, cpuPid: number): Sample {
  const before = procSample(cpuPid);
  const run = runPinnedClient(process.execPath, [`${HERE}zerocopy-client.js`, String(port), String(LANES), String(seconds)], seconds);
  const cpu = procSample(cpuPid).cpuSeconds - before.cpuSeconds;
  const { bytes, seconds: elapsed } = JSON.parse(run.stdout) as { bytes: number; seconds: number };
  return { name, gibPerSecond: bytes / GIB / elapsed, cpuSecondsPerGib: cpu / (bytes / GIB), clientCpuShare: run.cpuSeconds / run.elapsed };
}

const fileServer = (mode: string, path: string): Promise<BenchServer> =>
  mode === 'c' ? startServer(buildReference('zerocopy-server'), ['file', path], /port (\d+)/) : startServer(process.execPath, [`${HERE}zerocopy-server.js`, 'file', mode, path], /port (\d+)/);
const proxyServer = (mode: string, originPort: number): Promise<BenchServer> =>
  mode === 'c' ? startServer(buildReference('zerocopy-server'), ['proxy', String(originPort)], /port (\d+)/) : startServer(process.execPath, [`${HERE}zerocopy-server.js`, 'proxy', mode, String(originPort)], /port (\d+)/);
const FILE_ROW: Record<string, string> = { sendfile: 'sendfile', copy: 'read + write in JS', 'sendfile-uring': 'sendfile, io_uring backend', c: 'sendfile, C reference' };
const PROXY_ROW: Record<string, string> = { splice: 'splice', copy: 'copy through JS', 'splice-uring': 'relay on io_uring (splice)', c: 'splice, C reference' };
/** A proxy row's name in the table (targets.ts finds rows by it). */
export const proxyRowName = (mode: 'splice' | 'copy' | 'splice-uring' | 'c'): string => `proxy of 64 MiB, ${PROXY_ROW[mode]}`;

export async function runZerocopy(seconds: number, repeats: number, progress: (text: string) => void): Promise<ZerocopyRow[]> {
  const directory = mkdtempSync(join(tmpdir(), 'zepoll-bench-'));
  const samples: Sample[] = [];
  try {
    const files = { '1 MiB': join(directory, 'small.bin'), '64 MiB': join(directory, 'large.bin') };
    writeFileSync(files['1 MiB'], Buffer.alloc(2 ** 20, 7));
    writeFileSync(files['64 MiB'], Buffer.alloc(64 * 2 ** 20, 7));
    for (let repeat = 1; repeat <= repeats; repeat += 1) {
      for (const [label, path] of Object.entries(files)) {
        for (const mode of ['sendfile', 'copy', 'sendfile-uring', 'c']) {
          progress(`zerocopy: ${label} file, ${mode} (${repeat}/${repeats})`);
          const server = await fileServer(mode, path);
          try {
            samples.push(measure(`${label} file, ${FILE_ROW[mode]}`, server.port, seconds, server.child.pid!));
          } finally {
            await server.stop();
          }
        }
      }
      const origin = await fileServer('sendfile', files['64 MiB']);
      try {
        for (const mode of ['splice', 'copy', 'splice-uring', 'c'] as const) {
          progress(`zerocopy: proxy, ${mode} (${repeat}/${repeats})`);
          const proxy = await proxyServer(mode, origin.port);
          try {
            samples.push(measure(proxyRowName(mode), proxy.port, seconds, proxy.child.pid!));
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
    return { name, gibPerSecond: spread(runs.map((run) => run.gibPerSecond)).median, cpuSecondsPerGib: cpuRange.median, cpuRange, repeats, clientCpuShare: spread(runs.map((run) => run.clientCpuShare)).median };
  });
}

export function formatZerocopy(rows: readonly ZerocopyRow[]): string {
  const lines = [`zero copy (${LANES} concurrent downloads by a client pinned to the other CPU; CPU of the serving process; median of ${rows[0]?.repeats ?? 0}, min-max)`, 'path                                         GiB/s   CPU s per GiB              client CPU'];
  for (const row of rows) lines.push(`${row.name.padEnd(43)} ${row.gibPerSecond.toFixed(2).padStart(6)}   ${row.cpuSecondsPerGib.toFixed(3).padStart(13)} (${row.cpuRange.min.toFixed(3)}-${row.cpuRange.max.toFixed(3)})   ${(row.clientCpuShare * 100).toFixed(0)}%${row.clientCpuShare > CLIENT_BOUND ? ' (client-bound)' : ''}`);
  return lines.join('\n');
}
