/**
 * Starting servers for benchmarks: the examples' CLI, Node's http with the
 * same routes, redis-server; each pinned to CPU 0 with taskset when there
 * are two CPUs, and each answering with the port it listens on.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';

export const SERVER_CPU = 0;
export const CLIENT_CPU = 1;
export const PINNED = spawnSync('taskset', ['--version']).status === 0 && availableParallelism() >= 2;
const READY_TIMEOUT_MS = 15_000;
const EXAMPLES_CLI = fileURLToPath(new URL('../../packages/examples/dist/cli.js', import.meta.url));
const NODE_HTTP = fileURLToPath(new URL('./node-http-server.js', import.meta.url));

export function pinned(cpu: number, command: string, args: readonly string[]): [string, string[]] {
  return PINNED ? ['taskset', ['-c', String(cpu), command, ...args]] : [command, [...args]];
}

export interface BenchServer {
  readonly port: number;
  readonly child: ChildProcess;
  stop(): Promise<void>;
}

/** Spawns `command` pinned to the server CPU and waits for a line matching `ready` (its group 1 is the port). */
export function startServer(command: string, args: readonly string[], ready: RegExp, fixedPort?: number): Promise<BenchServer> {
  const [program, programArgs] = pinned(SERVER_CPU, command, args);
  const child = spawn(program, programArgs, { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${command} not ready: ${output}`));
    }, READY_TIMEOUT_MS);
    const onData = (part: Buffer): void => {
      output += part.toString();
      const match = ready.exec(output);
      if (match === null) return;
      clearTimeout(timer);
      resolve({
        port: fixedPort ?? Number(match[1]),
        child,
        stop: () =>
          new Promise<void>((done) => {
            if (child.exitCode !== null) return done();
            child.once('exit', () => done());
            child.kill('SIGTERM');
            setTimeout(() => child.kill('SIGKILL'), 5000).unref();
          }),
      });
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${command} exited with ${code}: ${output}`));
    });
  });
}

export function startExample(name: string, args: readonly string[] = []): Promise<BenchServer> {
  return startServer(process.execPath, [EXAMPLES_CLI, name, ...args], /listening on \w+:\/\/[^:]+:(\d+)/);
}

export function startNodeHttp(): Promise<BenchServer> {
  return startServer(process.execPath, [NODE_HTTP], /port (\d+)/);
}

/**
 * Asks a bench server for its report (SIGUSR2 → one JSON line on stdout)
 * and resolves with that line parsed; rejects after `timeoutMs`.
 */
export function requestReport<T>(server: BenchServer, name: string, timeoutMs: number): Promise<T> {
  return new Promise((resolve, reject) => {
    let text = '';
    const timer = setTimeout(() => reject(new Error(`${name} did not report (exit ${server.child.exitCode})`)), timeoutMs);
    const onData = (part: Buffer): void => {
      text += part.toString();
      const line = text.split('\n').find((candidate) => candidate.startsWith('{'));
      if (line === undefined) return;
      clearTimeout(timer);
      server.child.stdout!.off('data', onData);
      resolve(JSON.parse(line) as T);
    };
    server.child.stdout!.on('data', onData);
    server.child.kill('SIGUSR2');
  });
}

/**
 * Runs a load generator pinned to the client CPU, under bash, whose `times`
 * (the shell's own times, then its children's: "0m1.5s 0m0.3s") gives the
 * client's CPU seconds.
 */
export function runPinnedClient(command: string, args: string[], seconds: number): { stdout: string; cpuSeconds: number; elapsed: number } {
  const [program, programArgs] = pinned(CLIENT_CPU, command, args);
  const quoted = [program, ...programArgs].map((part) => `'${part.replace(/'/g, "'\\''")}'`).join(' ');
  const started = performance.now();
  const run = spawnSync('bash', ['-c', `${quoted}; status=$?; times >&2; exit $status`], { encoding: 'utf8', timeout: (seconds + 60) * 1000, maxBuffer: 64 * 1024 * 1024 });
  const elapsed = (performance.now() - started) / 1000;
  if (run.status !== 0) throw new Error(`${command} failed (${run.status}): ${run.stderr}`);
  const children = run.stderr.trim().split('\n').at(-1) ?? '';
  const cpuSeconds = [...children.matchAll(/(\d+)m([\d.]+)s/g)].reduce((sum, match) => sum + Number(match[1]) * 60 + Number(match[2]), 0);
  return { stdout: run.stdout, cpuSeconds, elapsed };
}
