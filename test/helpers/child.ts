/**
 * Runs a fixture script in a child process (for what must not happen in the
 * test runner itself: exiting, uncaught exceptions, low fd limits, GC flags)
 * and returns its exit, signal and output. Bounded by a timeout.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export interface ChildResult {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly timedOut: boolean;
}

export const FIXTURES = fileURLToPath(new URL('../fixtures/', import.meta.url));
const CHILD_TIMEOUT_MS = 20_000;

export function runFixture(name: string, options: { args?: readonly string[]; nodeArgs?: readonly string[]; timeoutMs?: number } = {}): Promise<ChildResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...(options.nodeArgs ?? []), FIXTURES + name, ...(options.args ?? [])], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, NODE_OPTIONS: '' },
    });
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, options.timeoutMs ?? CHILD_TIMEOUT_MS);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr, timedOut });
    });
  });
}

/**
 * The command and arguments that run `argv` under an open-file limit: a
 * number sets it (`ulimit -n`), 'hard' raises the soft limit to the hard
 * one. bash execs the program, so the child's pid is the program's.
 * Without a limit, `argv` as it is.
 */
export function withFdLimit(argv: readonly string[], fdLimit: number | 'hard' | undefined): [string, string[]] {
  if (fdLimit === undefined) return [argv[0]!, argv.slice(1)];
  const quoted = argv.map((part) => `'${part.replace(/'/g, "'\\''")}'`).join(' ');
  const limit = fdLimit === 'hard' ? 'ulimit -Sn "$(ulimit -Hn)"' : `ulimit -n ${fdLimit}`;
  return ['bash', ['-c', `${limit} && exec ${quoted}`]];
}
