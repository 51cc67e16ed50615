/**
 * A fixture in a child process spoken to in lines: commands on its stdin,
 * answers awaited by pattern on its stdout. Optionally started with the
 * soft open-file limit raised to the hard one (bash `ulimit -Sn`, then
 * exec: the pid is node's). Every wait is bounded.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { FIXTURES, withFdLimit } from './child.js';

const WAIT_MS_DEFAULT = 20_000;
const STOP_MS = 10_000;

export interface LineChild {
  readonly child: ChildProcess;
  /** The first line (after those already matched) matching `pattern`. */
  next(pattern: RegExp, timeoutMs?: number): Promise<RegExpExecArray>;
  send(line: string): void;
  /** Ends its stdin (fixtures exit on that) and resolves with the exit code once its pipes are closed. */
  stop(): Promise<number | null>;
}

export function startLineChild(name: string, options: { args?: readonly string[]; nodeArgs?: readonly string[]; raiseFdLimit?: boolean } = {}): LineChild {
  const argv = [process.execPath, ...(options.nodeArgs ?? []), FIXTURES + name, ...(options.args ?? [])];
  const [command, commandArgs] = withFdLimit(argv, options.raiseFdLimit === true ? 'hard' : undefined);
  const child = spawn(command, commandArgs, { stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, NODE_OPTIONS: '' } });
  child.stdin!.on('error', () => {}); // a fixture that died: its next('…') reports it, not an EPIPE here
  const lines: string[] = [];
  let partial = '';
  let stderr = '';
  const waiters = new Set<() => void>();
  child.stderr!.setEncoding('utf8').on('data', (part: string) => (stderr += part));
  child.stdout!.setEncoding('utf8').on('data', (part: string) => {
    const split = (partial + part).split('\n');
    partial = split.pop()!;
    lines.push(...split);
    for (const wake of waiters) wake();
  });
  const closed = new Promise<number | null>((resolve) => child.once('close', (code) => {
    for (const wake of waiters) wake();
    resolve(code);
  }));
  let scanned = 0;
  return {
    child,
    next(pattern, timeoutMs = WAIT_MS_DEFAULT) {
      return new Promise((resolve, reject) => {
        const check = (): void => {
          for (; scanned < lines.length; scanned += 1) {
            const match = pattern.exec(lines[scanned]!);
            if (match === null) continue;
            scanned += 1;
            finish();
            return resolve(match);
          }
          if (child.exitCode !== null || child.signalCode !== null) {
            finish();
            reject(new Error(`${name} exited (${child.exitCode ?? child.signalCode}) before ${pattern}: ${stderr}`));
          }
        };
        const timer = setTimeout(() => {
          finish();
          reject(new Error(`${name}: no line matching ${pattern} within ${timeoutMs} ms: ${stderr}`));
        }, timeoutMs);
        const finish = (): void => {
          clearTimeout(timer);
          waiters.delete(check);
        };
        waiters.add(check);
        check();
      });
    },
    send(line) {
      child.stdin!.write(`${line}\n`);
    },
    stop() {
      child.stdin!.end();
      const killer = setTimeout(() => child.kill('SIGKILL'), STOP_MS);
      return closed.finally(() => clearTimeout(killer));
    },
  };
}
