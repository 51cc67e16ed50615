/**
 * zepoll as a new user gets it: `npm pack` of packages/reactor, then
 * `npm i <tarball>` into fresh projects outside the workspace, with no zig
 * on PATH (the prebuilt addon is all it needs). An ES module project runs
 * the guide's first service (its echo server, verbatim but for port 0) and a
 * CommonJS project (TypeScript `module: node16`, and plain `require`) runs an
 * HTTP server, both compiled strict against the installed package's types.
 */
import t from 'tap';
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { once } from 'node:events';

const root = resolve(import.meta.dirname, '..', '..');
const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');
/** The target for what a user downloads. */
const TARBALL_SIZE_MAX = 1024 * 1024;
/** No zig here: only node's own folder and the system's. */
const PATH = `${dirname(process.execPath)}:/usr/bin:/bin`;
const env: NodeJS.ProcessEnv = { ...process.env, PATH, npm_config_audit: 'false', npm_config_fund: 'false', npm_config_update_notifier: 'false' };
delete env['ZEPOLL_ADDON'];

const work = mkdtempSync(join(tmpdir(), 'zepoll-install-'));
t.teardown(() => rmSync(work, { recursive: true, force: true }));

function project(name: string, packageJson: object, tsconfig: object, files: Record<string, string>): string {
  const folder = join(work, name);
  mkdirSync(join(folder, 'src'), { recursive: true });
  writeFileSync(join(folder, 'package.json'), JSON.stringify({ name, private: true, ...packageJson }, null, 2));
  writeFileSync(join(folder, 'tsconfig.json'), JSON.stringify({
    compilerOptions: { strict: true, outDir: 'dist', rootDir: 'src', target: 'ES2022', typeRoots: [join(root, 'node_modules', '@types')], types: ['node'], skipLibCheck: false, ...tsconfig },
    include: ['src'],
  }, null, 2));
  for (const [file, text] of Object.entries(files)) writeFileSync(join(folder, file), text);
  return folder;
}

function run(command: string, args: string[], cwd: string): string {
  const result = spawnSync(command, args, { cwd, env, encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`${command} ${args.join(' ')} in ${cwd}: exit ${result.status}\n${result.stdout}\n${result.stderr}`);
  return result.stdout;
}

/** The guide's first `ts` block: its raw TCP echo server. */
function guideEchoServer(): string {
  const guide = readFileSync(join(root, 'docs', 'guide.md'), 'utf8');
  const section = guide.slice(guide.indexOf('## 2. A raw TCP server'));
  const code = /```ts\n([\s\S]*?)```/.exec(section)![1]!;
  if (!code.includes('port: 7000')) throw new Error('the guide\'s echo server no longer listens on port 7000: update this test');
  return code.replace('port: 7000', 'port: 0');
}

t.test('npm pack, then npm i into fresh projects with no zig on PATH', async (t) => {
  t.not(spawnSync('sh', ['-c', 'command -v zig'], { env }).status, 0, 'zig is not on PATH');
  const packed = JSON.parse(run('npm', ['pack', '--json', '--pack-destination', work], join(root, 'packages', 'reactor'))) as Array<{ filename: string }>;
  const tarball = join(work, packed[0]!.filename);
  const size = statSync(tarball).size;
  t.ok(size <= TARBALL_SIZE_MAX, `tarball ${size} bytes, at most ${TARBALL_SIZE_MAX} (both architectures' addons)`);

  t.test('ES module project: the guide\'s echo server', async (t) => {
    const folder = project('esm-user', { type: 'module' }, { module: 'node16', moduleResolution: 'node16' }, { 'src/echo.ts': guideEchoServer() });
    run('npm', ['i', '--offline', tarball], folder);
    run(process.execPath, [tsc, '-p', folder], folder);
    const server = spawn(process.execPath, [join(folder, 'dist', 'echo.js')], { cwd: folder, env, stdio: ['ignore', 'pipe', 'inherit'] });
    t.teardown(() => server.kill());
    const [line] = (await once(server.stdout, 'data')) as [Buffer];
    const port = Number(/echo on 127\.0\.0\.1:(\d+)/.exec(line.toString())?.[1]);
    t.ok(port > 0, `listening: ${line.toString().trim()}`);
    const socket = connect(port, '127.0.0.1');
    await once(socket, 'connect');
    socket.end('hello from a user');
    const chunks: Buffer[] = [];
    for await (const chunk of socket) chunks.push(chunk as Buffer);
    t.equal(Buffer.concat(chunks).toString(), 'hello from a user', 'echoed');
  });

  t.test('CommonJS project: TypeScript module node16, and plain require', async (t) => {
    const main = [
      "import { Reactor, ZepollRangeError } from 'zepoll';",
      "import { createHttpServer, type HttpRequest } from 'zepoll/http';",
      'const reactor = new Reactor();',
      'const server = createHttpServer(reactor, (request: HttpRequest, response) => response.end(`cjs ${request.target}`));',
      'void (async () => {',
      '  const answer = await fetch(`http://127.0.0.1:${server.port}/hello`);',
      '  const body = await answer.text();',
      '  let code = \'\';',
      '  try { new Reactor({ readQuota: -1 }); } catch (error) { code = error instanceof ZepollRangeError ? error.code : \'not a ZepollRangeError\'; }',
      '  await server.close();',
      '  reactor.close();',
      '  console.log(JSON.stringify({ status: answer.status, body, code }));',
      '})();',
      '',
    ].join('\n');
    const plain = "const zepoll = require('zepoll');\nimport('zepoll').then((namespace) => console.log(JSON.stringify({ same: namespace === zepoll, reactor: typeof zepoll.Reactor, http: typeof require('zepoll/http').createHttpServer })));\n";
    const folder = project('cjs-user', {}, { module: 'node16', moduleResolution: 'node16' }, { 'src/main.ts': main, 'plain.cjs': plain });
    run('npm', ['i', '--offline', tarball], folder);
    run(process.execPath, [tsc, '-p', folder], folder);
    t.match(readFileSync(join(folder, 'dist', 'main.js'), 'utf8'), /require\("zepoll"\)/, 'compiled to require()');
    const outcome = JSON.parse(run(process.execPath, [join(folder, 'dist', 'main.js')], folder)) as { status: number; body: string; code: string };
    t.same(outcome, { status: 200, body: 'cjs /hello', code: 'ERR_OUT_OF_RANGE' }, 'an HTTP round trip, and a coded ZepollRangeError from CommonJS');
    const required = JSON.parse(run(process.execPath, [join(folder, 'plain.cjs')], folder)) as { same: boolean; reactor: string; http: string };
    t.same(required, { same: true, reactor: 'function', http: 'function' }, 'require() and import() give one module: one addon instance, one set of classes');
  });
});
