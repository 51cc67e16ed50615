/**
 * nginx as a reference peer: one process (master_process off, so all of
 * its CPU is one pid's), epoll, no access log, answering GET / with
 * "hello world" as text/plain. Installed with apt-get by the bench when
 * missing (ensureCommand); its configuration and temporary files live in a
 * fresh folder under the system's temporary directory.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pinned, SERVER_CPU, type BenchServer } from './servers.js';

const READY_TIMEOUT_MS = 15_000;
const READY_POLL_MS = 20;
const STOP_GRACE_MS = 5000;

function configuration(folder: string, port: number): string {
  return `daemon off;
master_process off;
worker_processes 1;
pid ${folder}/nginx.pid;
error_log stderr error;
events { worker_connections 8192; use epoll; multi_accept on; }
http {
  access_log off;
  keepalive_requests 100000000;
  keepalive_timeout 60s;
  client_body_temp_path ${folder}/body;
  proxy_temp_path ${folder}/proxy;
  fastcgi_temp_path ${folder}/fastcgi;
  uwsgi_temp_path ${folder}/uwsgi;
  scgi_temp_path ${folder}/scgi;
  server {
    listen 127.0.0.1:${port} backlog=4096;
    location = / { default_type text/plain; return 200 "hello world"; }
    location / { default_type text/plain; return 404 "not found\\n"; }
  }
}
`;
}

/** A port nothing listens on now (the kernel's choice, released at once). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
  });
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/** Starts nginx pinned to the server CPU and resolves once its port accepts. */
export async function startNginx(): Promise<BenchServer> {
  const folder = mkdtempSync(join(tmpdir(), 'zepoll-bench-nginx-'));
  const port = await freePort();
  const file = join(folder, 'nginx.conf');
  writeFileSync(file, configuration(folder, port));
  const [program, args] = pinned(SERVER_CPU, 'nginx', ['-p', folder, '-c', file]);
  const child = spawn(program, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stderr!.on('data', (part: Buffer) => void (output += part.toString()));
  const cleanup = (): void => rmSync(folder, { recursive: true, force: true });
  const deadline = performance.now() + READY_TIMEOUT_MS;
  while (!(await accepts(port))) {
    if (child.exitCode !== null || performance.now() > deadline) {
      child.kill('SIGKILL');
      cleanup();
      throw new Error(`nginx not ready (exit ${child.exitCode}): ${output}`);
    }
    await new Promise((resolve) => setTimeout(resolve, READY_POLL_MS));
  }
  return {
    port,
    child,
    stop: () =>
      new Promise<void>((done) => {
        const finish = (): void => {
          cleanup();
          done();
        };
        if (child.exitCode !== null) return finish();
        child.once('exit', finish);
        child.kill('SIGTERM');
        setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS).unref();
      }),
  };
}
