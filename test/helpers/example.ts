/**
 * Runs `zepoll-examples` (the built CLI, as a user would) in a child
 * process and waits for its ready line. Every child is bounded: killed if
 * it does not stop after a signal.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { withFdLimit } from './child.js';

export const CLI = fileURLToPath(new URL('../../packages/examples/dist/cli.js', import.meta.url));
const READY_TIMEOUT_MS = 15_000;
const STOP_TIMEOUT_MS = 10_000;

export interface RunningExample {
  readonly child: ChildProcess;
  readonly scheme: string;
  readonly host: string;
  readonly port: number;
  readonly readyLine: string;
  output(): string;
  /** Sends `signal` and resolves with the exit code (null when killed). */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

export interface ExampleLaunch {
  /** Start under `ulimit -n` of this many open files (bash execs node: the pid is the example's). */
  readonly fdLimit?: number;
}

export function startExample(args: readonly string[], launch: ExampleLaunch = {}): Promise<RunningExample> {
  const [command, commandArgs] = withFdLimit([process.execPath, CLI, ...args], launch.fdLimit);
  const child = spawn(command, commandArgs, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NODE_OPTIONS: '' } });
  let stdout = '';
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (part: string) => (stderr += part));
  // 'close' comes after 'exit' once the stdio pipes are closed too, so a
  // test that counts this process's fds sees them gone.
  const exited = new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`no ready line within ${READY_TIMEOUT_MS} ms: ${stdout} ${stderr}`));
    }, READY_TIMEOUT_MS);
    const early = (code: number | null): void => {
      clearTimeout(timer);
      reject(new Error(`exited with ${code} before ready: ${stdout} ${stderr}`));
    };
    child.once('exit', early);
    child.stdout!.setEncoding('utf8').on('data', (part: string) => {
      stdout += part;
      const match = /listening on (\w+):\/\/(\[[^\]]+\]|[^:]+):(\d+)/.exec(stdout);
      if (match === null) return;
      clearTimeout(timer);
      child.off('exit', early);
      resolve({
        child,
        scheme: match[1]!,
        host: match[2]!,
        port: Number(match[3]),
        readyLine: stdout.split('\n')[0]!,
        output: () => stdout + stderr,
        stop(signal: NodeJS.Signals = 'SIGTERM') {
          if (child.exitCode === null) child.kill(signal);
          const killer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
          return exited.finally(() => clearTimeout(killer));
        },
      });
    });
  });
}

/** Runs the CLI to completion (for bad options and --help). */
export function runCli(args: readonly string[]): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', timeout: 20_000, env: { ...process.env, NODE_OPTIONS: '' } });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** Runs a system program (curl, redis-cli, ...) with a time bound. */
export function program(command: string, args: readonly string[], timeoutMs = 60_000): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync(command, args, { encoding: 'latin1', timeout: timeoutMs });
  if (result.error !== undefined) throw result.error;
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}
