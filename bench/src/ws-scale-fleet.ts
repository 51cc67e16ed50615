/**
 * The ws scenario's processes: each started with its soft open-file limit
 * raised to the hard one (bash `ulimit -Sn`, then exec, so the pid is
 * node's), pinned to a CPU with taskset where the machine has two, and
 * spoken to over Node's IPC channel, every wait bounded. Also the machine
 * facts that decide how many processes a run needs, and /proc sums.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { PINNED } from './servers.js';
import { procSample } from './proc.js';

const STOP_MS = 10_000;

/** A child process spoken to over IPC: messages are queued until asked for by type. */
export class IpcChild<Incoming extends { type: string }> {
  readonly name: string;
  readonly child: ChildProcess;
  private readonly queue: Incoming[];
  private readonly waiters: Set<() => void>;
  private failure: string | null;

  constructor(name: string, child: ChildProcess) {
    this.name = name;
    this.child = child;
    this.queue = [];
    this.waiters = new Set();
    this.failure = null;
    child.on('message', (message: Incoming) => {
      if (message.type === 'failed') this.failure ??= (message as unknown as { error: string }).error;
      else this.queue.push(message);
      this.wake();
    });
    child.once('exit', (code, signal) => {
      this.failure ??= `${name} exited (${code ?? signal})`;
      this.wake();
    });
    child.on('error', (error) => {
      this.failure ??= `${name}: ${error.message}`;
      this.wake();
    });
  }

  private wake(): void {
    for (const waiter of this.waiters) waiter();
  }

  /** The pid (node's: the wrappers exec). */
  get pid(): number {
    return this.child.pid!;
  }

  send(message: unknown): void {
    if (this.child.connected) this.child.send(message as object);
  }

  /**
   * The first queued message of `type`, waiting up to `timeoutMs` for it;
   * rejects with the child's own failure, its exit, or "no <type> within".
   */
  next<T extends Incoming['type']>(type: T, timeoutMs: number): Promise<Extract<Incoming, { type: T }>> {
    return new Promise((resolve, reject) => {
      const check = (): void => {
        const index = this.queue.findIndex((message) => message.type === type);
        if (index >= 0) {
          finish();
          resolve(this.queue.splice(index, 1)[0] as Extract<Incoming, { type: T }>);
        } else if (this.failure !== null) {
          finish();
          reject(new Error(this.failure));
        }
      };
      const timer = setTimeout(() => {
        finish();
        reject(new Error(`${this.name}: no ${type} within ${Math.round(timeoutMs / 1000)} s`));
      }, timeoutMs);
      const finish = (): void => {
        clearTimeout(timer);
        this.waiters.delete(check);
      };
      this.waiters.add(check);
      check();
    });
  }

  /** Sends `message`, then waits for the answer of `type`. */
  ask<T extends Incoming['type']>(message: unknown, type: T, timeoutMs: number): Promise<Extract<Incoming, { type: T }>> {
    this.send(message);
    return this.next(type, timeoutMs);
  }

  /** Kills it (SIGKILL: nothing it holds needs a graceful end) and waits for its exit, bounded. */
  stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, STOP_MS);
      this.child.once('exit', () => {
        clearTimeout(timer);
        resolve();
      });
      this.child.kill('SIGKILL');
    });
  }
}

/** Starts `node [nodeArgs] script args` with the fd limit raised, pinned to `cpu` where pinning is on. */
export function launch<Incoming extends { type: string }>(name: string, script: string, args: readonly string[], cpu: number, nodeArgs: readonly string[] = []): IpcChild<Incoming> {
  const argv = [process.execPath, ...nodeArgs, script, ...args];
  const command = PINNED ? ['taskset', '-c', String(cpu), ...argv] : argv;
  // Node's IPC channel (fd 3, NODE_CHANNEL_FD) survives bash's and taskset's exec.
  const child = spawn('bash', ['-c', 'ulimit -Sn "$(ulimit -Hn)" && exec "$@"', 'bash', ...command], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
  return new IpcChild<Incoming>(name, child);
}

/** CPU seconds used so far by `pids`, summed (a process gone counts 0). */
export function cpuSeconds(pids: readonly number[]): number {
  return pids.reduce((sum, pid) => sum + sampleOf(pid).cpuSeconds, 0);
}

/** Resident bytes of `pids`, summed. */
export function rssBytes(pids: readonly number[]): number {
  return pids.reduce((sum, pid) => sum + sampleOf(pid).rssKiB * 1024, 0);
}

function sampleOf(pid: number): { cpuSeconds: number; rssKiB: number } {
  try {
    return procSample(pid);
  } catch {
    return { cpuSeconds: 0, rssKiB: 0 };
  }
}

/** What bounds a run of many connections here: the fd limit of one process, the accept queues, memory. */
export interface MachineLimits {
  /** `ulimit -Hn`: a process cannot raise its soft limit past it. */
  readonly fdHard: number;
  readonly somaxconn: number;
  readonly synBacklog: number;
  readonly nrOpen: number;
  readonly memAvailableBytes: number;
}

const readNumber = (path: string): number => {
  try {
    return Number(readFileSync(path, 'utf8').trim().split(/\s+/)[0]);
  } catch {
    return Number.NaN;
  }
};

/** This machine's limits, read from bash's `ulimit -Hn`, /proc/sys and /proc/meminfo (NaN where one cannot be read). */
export function machineLimits(): MachineLimits {
  const hard = spawnSync('bash', ['-c', 'ulimit -Hn'], { encoding: 'utf8' }).stdout.trim();
  const memory = /^MemAvailable:\s+(\d+) kB/m.exec(readFileSync('/proc/meminfo', 'utf8'));
  return {
    fdHard: hard === 'unlimited' ? readNumber('/proc/sys/fs/nr_open') : Number(hard),
    somaxconn: readNumber('/proc/sys/net/core/somaxconn'),
    synBacklog: readNumber('/proc/sys/net/ipv4/tcp_max_syn_backlog'),
    nrOpen: readNumber('/proc/sys/fs/nr_open'),
    memAvailableBytes: memory === null ? Number.NaN : Number(memory[1]) * 1024,
  };
}
