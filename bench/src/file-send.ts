/**
 * `node bench/dist/file-send.js [--mib N] [--repeats N] [--chunk KiB]`: how a file should
 * reach a socket on the io_uring backend. Runs bench/native/file_send.zig
 * (built by the pinned Zig, ReleaseFast) and prints, per GiB sent over
 * loopback TCP from the page cache, the sender's CPU (its io-wq worker
 * threads included) and wall time for sendfile(2) on readiness (what both
 * backends do), io_uring splice requests through a pipe, and io_uring
 * read + send through a buffer; every repeat, the median, and each path's
 * CPU against sendfile's.
 */
import { spawnSync } from 'node:child_process';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { spread } from './stats.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const PROGRAM = 'bench/native/file_send.zig';
/** The file's size and the runs of each path (interleaved: sendfile, splice, read-send, sendfile, ...). */
const MIB_DEFAULT = 256;
const REPEATS_DEFAULT = 5;
/** What one request moves at most: a large file's pipeful by default; 16 stands for many small files. */
const CHUNK_KIB_DEFAULT = 1024;
/** Compiling and running, at most (a run moves MIB × repeats × 3 over loopback). */
const TIMEOUT_MS = 600_000;

interface Run {
  readonly mode: string;
  readonly repeat: number;
  readonly cpuSecondsPerGiB: number;
  readonly wallSecondsPerGiB: number;
}

const { values } = parseArgs({ options: { mib: { type: 'string' }, repeats: { type: 'string' }, chunk: { type: 'string' } } });
const mib = Number(values.mib ?? MIB_DEFAULT);
const repeats = Number(values.repeats ?? REPEATS_DEFAULT);
const chunk = Number(values.chunk ?? CHUNK_KIB_DEFAULT);
if (![mib, repeats, chunk].every((value) => Number.isInteger(value) && value >= 1)) {
  process.stderr.write('usage: file-send [--mib N] [--repeats N] [--chunk KiB] (positive integers)\n');
  process.exit(2);
}
const zig = resolve(ROOT, 'node_modules', '.bin', 'zig');
const result = spawnSync(zig, ['run', '-O', 'ReleaseFast', PROGRAM, '--', String(mib), String(repeats), String(chunk)], { cwd: ROOT, encoding: 'utf8', timeout: TIMEOUT_MS });
if (result.status !== 0) {
  process.stderr.write(`file-send: ${PROGRAM} failed (${result.status ?? result.signal}): ${result.stderr}\n`);
  process.exit(1);
}
const runs = result.stdout.trim().split('\n').map((line) => JSON.parse(line) as Run);
const modes = [...new Set(runs.map((run) => run.mode))];
const cpuOf = (mode: string): number[] => runs.filter((run) => run.mode === mode).map((run) => run.cpuSecondsPerGiB);
const baseline = spread(cpuOf('sendfile')).median;
process.stdout.write(`file -> socket over loopback TCP, ${mib} MiB from the page cache, at most ${chunk} KiB a request, ${repeats} interleaved repeats\n`);
process.stdout.write('| path | CPU s/GiB, median (every repeat) | wall s/GiB, median | CPU vs sendfile |\n| --- | --- | --- | --- |\n');
for (const mode of modes) {
  const cpu = cpuOf(mode);
  const wall = runs.filter((run) => run.mode === mode).map((run) => run.wallSecondsPerGiB);
  const median = spread(cpu).median;
  process.stdout.write(`| ${mode} | ${median.toFixed(3)} (${cpu.map((value) => value.toFixed(3)).join(', ')}) | ${spread(wall).median.toFixed(3)} | ${(median / baseline).toFixed(2)}x |\n`);
}
