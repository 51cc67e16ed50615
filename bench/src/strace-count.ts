/**
 * System calls per request for servers that keep no counters of their own
 * (Node's http, the C reference): one extra run with `strace -c -f`
 * attached to the server, its per-call totals divided by the requests the
 * client completed. strace slows the server down, so this run's rate is not
 * reported; only its counts.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { hasCommand } from './system.js';

/** Attaches strace to `pid` while `load` runs; returns calls by name divided by `load`'s request count. */
export async function straceCounts(pid: number, load: () => number): Promise<Record<string, number> | null> {
  if (!hasCommand('strace')) return null;
  const directory = mkdtempSync(join(tmpdir(), 'zepoll-strace-'));
  const output = join(directory, 'summary.txt');
  const tracer = spawn('strace', ['-c', '-f', '-o', output, '-p', String(pid)], { stdio: 'ignore' });
  try {
    await new Promise((resolve) => setTimeout(resolve, 300)); // attached before the load starts
    const requests = load();
    tracer.kill('SIGINT'); // strace prints its summary on interrupt
    await new Promise<void>((resolve) => tracer.once('exit', () => resolve()));
    const counts: Record<string, number> = {};
    for (const line of readFileSync(output, 'utf8').split('\n')) {
      // "% time     seconds  usecs/call     calls    errors syscall"
      const fields = line.trim().split(/\s+/);
      if (fields.length < 5 || !/^\d/.test(fields[0]!) || fields.at(-1) === 'total') continue;
      const name = fields.at(-1)!;
      const calls = Number(fields[3]);
      if (Number.isFinite(calls) && calls > 0) counts[name] = calls / requests;
    }
    return counts;
  } finally {
    if (tracer.exitCode === null) tracer.kill('SIGKILL');
    rmSync(directory, { recursive: true, force: true });
  }
}

