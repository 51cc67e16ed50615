/**
 * A new user's path: `npm pack` the package, `npm i` the tarball into a
 * fresh project outside the workspace with no zig on PATH, and run the
 * HTTP service of docs/guide.md (section 4, taken from the guide itself and
 * stripped of its types) against the installed package, then talk to it.
 */
import t from 'tap';
import ts from 'typescript';
import http from 'node:http';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join, resolve } from 'node:path';
import { trackFds } from '../helpers/fds.js';

const root = resolve(import.meta.dirname, '..', '..');
const INSTALL_TIMEOUT_MS = 120_000;
const READY_TIMEOUT_MS = 30_000;

/** The guide's HTTP service: the ts block that starts the routes server. */
function guideService(): string {
  const guide = readFileSync(join(root, 'docs', 'guide.md'), 'utf8');
  const block = [...guide.matchAll(/^```ts\n([\s\S]*?)^```/gm)].map((match) => match[1]!).find((code) => code.includes('createHttpServer(reactor, route'));
  if (block === undefined) throw new Error('the guide has no HTTP service snippet');
  // Port 0 instead of the guide's 8080: a test must not depend on a fixed port being free.
  return ts.transpileModule(block.replace('port: 8080', 'port: 0'), { compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 } }).outputText;
}

function request(port: number, method: string, path: string, body?: string): Promise<{ status: number; body: string }> {
  return new Promise((resolvePromise, reject) => {
    const outgoing = http.request({ host: '127.0.0.1', port, method, path, agent: false }, (response) => {
      let text = '';
      response.setEncoding('utf8').on('data', (part: string) => (text += part));
      response.on('end', () => resolvePromise({ status: response.statusCode!, body: text }));
    });
    outgoing.on('error', reject);
    outgoing.end(body);
  });
}

t.test('the packed tarball installs into a fresh project and runs the guide\'s service, with no zig anywhere on PATH', async (t) => {
  const fds = trackFds();
  const folder = mkdtempSync(join(tmpdir(), 'zepoll-user-'));
  let child: ChildProcess | null = null;
  try {
    // A user's PATH: no node_modules/.bin of this workspace (where zig lives).
    const path = (process.env['PATH'] ?? '').split(delimiter).filter((entry) => !entry.includes('node_modules')).join(delimiter);
    const env = { PATH: path, HOME: process.env['HOME'] ?? folder, npm_config_cache: join(folder, '.npm') };
    t.not(spawnSync('sh', ['-c', 'command -v zig'], { env }).status, 0, 'zig is not on PATH');
    const packed = spawnSync('npm', ['pack', '--pack-destination', folder], { cwd: join(root, 'packages', 'reactor'), encoding: 'utf8', timeout: INSTALL_TIMEOUT_MS });
    t.equal(packed.status, 0, packed.status === 0 ? 'npm pack' : `npm pack failed: ${packed.stderr.slice(-500)}`);
    const tarball = readdirSync(folder).find((name) => name.endsWith('.tgz'))!;
    const project = join(folder, 'service');
    spawnSync('mkdir', [project]);
    writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'service', private: true, type: 'module' }));
    const installed = spawnSync('npm', ['install', join(folder, tarball), '--offline', '--no-audit', '--no-fund'], { cwd: project, env, encoding: 'utf8', timeout: INSTALL_TIMEOUT_MS });
    t.equal(installed.status, 0, installed.status === 0 ? 'npm install of the tarball' : `npm install failed: ${installed.stderr.slice(-500)}`);
    writeFileSync(join(project, 'service.mjs'), guideService());
    child = spawn(process.execPath, ['service.mjs'], { cwd: project, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    let errors = '';
    child.stderr!.setEncoding('utf8').on('data', (part: string) => (errors += part));
    const port = await new Promise<number>((resolvePort, reject) => {
      const timer = setTimeout(() => reject(new Error(`no ready line in ${READY_TIMEOUT_MS} ms: ${output} ${errors}`)), READY_TIMEOUT_MS);
      child!.stdout!.setEncoding('utf8').on('data', (part: string) => {
        output += part;
        const match = /http on 127\.0\.0\.1:(\d+)/.exec(output);
        if (match !== null) {
          clearTimeout(timer);
          resolvePort(Number(match[1]));
        }
      });
      child!.once('exit', (code) => reject(new Error(`the service exited with ${code}: ${errors}`)));
    });
    t.same(await request(port, 'GET', '/users?limit=1'), { status: 200, body: '[{"name":"Ada"}]' });
    t.same(await request(port, 'POST', '/users', '{"name":"Grace"}'), { status: 201, body: '{"id":2}' });
    t.same(await request(port, 'GET', '/users'), { status: 200, body: '[{"name":"Ada"},{"name":"Grace"}]' });
    t.same(await request(port, 'GET', '/nope'), { status: 404, body: 'not found\n' });
    t.equal(errors, '', 'nothing on stderr');
  } finally {
    if (child !== null && child.exitCode === null) {
      const exited = new Promise((resolveExit) => child!.once('exit', resolveExit));
      child.kill('SIGTERM');
      await exited;
    }
    rmSync(folder, { recursive: true, force: true });
  }
  await fds.assertNoneSettled(t);
});
