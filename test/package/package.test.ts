/**
 * The package as users install it (the addons themselves are checked by
 * prebuilds.test.ts): the tarball holds
 * the README, LICENSE, guide and the sources its source maps point to;
 * prepack refuses a package without its addon; a load failure says what
 * was found and how to build from source.
 */
import t from 'tap';
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const root = resolve(import.meta.dirname, '..', '..');
const pkg = join(root, 'packages', 'reactor');
const addon = join(pkg, 'prebuilds', `linux-${process.arch}`, 'zepoll.node');

t.test('npm pack: README, LICENSE, guide, addon and the sources of every source map', (t) => {
  execFileSync(process.execPath, [join(root, 'scripts', 'check-pack.mjs')], { cwd: pkg }); // prepack: copies the docs in
  const listing = JSON.parse(execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: pkg, encoding: 'utf8' })) as Array<{ files: Array<{ path: string }>; size: number }>;
  const files = new Set(listing[0]!.files.map((file) => file.path));
  for (const required of ['README.md', 'LICENSE', 'package.json', 'prebuilds/linux-x64/zepoll.node', 'prebuilds/linux-arm64/zepoll.node', 'dist/index.js', 'dist/http/index.js']) t.ok(files.has(required), `${required} is packed`);
  // Every docs/*.md the README or the published code points to is packed.
  const pointedTo = new Set<string>();
  for (const file of [...files].filter((name) => name === 'README.md' || name.endsWith('.d.ts') || name.endsWith('.js'))) {
    for (const match of readFileSync(join(pkg, file), 'utf8').matchAll(/docs\/([a-z-]+\.md)/g)) pointedTo.add(`docs/${match[1]!}`);
  }
  t.ok(pointedTo.size >= 4, `${pointedTo.size} docs pointed to`);
  t.same([...pointedTo].filter((doc) => !files.has(doc)), [], 'every doc pointed to is packed');
  const missingSources: string[] = [];
  for (const file of files) {
    if (!file.endsWith('.js.map')) continue;
    const map = JSON.parse(readFileSync(join(pkg, file), 'utf8')) as { sources: string[] };
    for (const source of map.sources) {
      const packed = join(file, '..', source).replace(/\\/g, '/');
      if (!files.has(packed)) missingSources.push(`${file} -> ${packed}`);
    }
  }
  t.same(missingSources, [], 'every source map points to a packed source');
  t.ok(listing[0]!.size < 1024 * 1024, `tarball ${listing[0]!.size} bytes, under 1 MiB`);
  t.match(readFileSync(join(pkg, 'README.md'), 'utf8'), /Node \*\*20\.19 or newer\*\*[^]*`require\('zepoll'\)`[^]*x64 and arm64/, 'the README says the minimum Node, that require works, and the architectures');
  t.end();
});

t.test('the published types hold no @internal member: a user cannot reach the backend bookkeeping', (t) => {
  const declarations = ['index.d.ts', 'server.d.ts', 'connection.d.ts', 'reactor.d.ts', 'http/response.d.ts', 'http/request.d.ts'].map((file) => [file, readFileSync(join(pkg, 'dist', file), 'utf8')] as const);
  for (const [file, text] of declarations) t.notMatch(text, /@internal/, `${file}: no @internal member`);
  const server = declarations.find(([file]) => file === 'server.d.ts')![1];
  t.notMatch(server, /^\s+generation: number;/m, 'Server has no generation (`server.generation = 99` does not compile)');
  t.notMatch(server, /handleEvent\(/, 'nor handleEvent');
  t.end();
});

t.test('prepack refuses to pack without the addon, and says how to build it', (t) => {
  const copy = mkdtempSync(join(tmpdir(), 'zepoll-pack-'));
  try {
    cpSync(join(pkg, 'dist'), join(copy, 'dist'), { recursive: true });
    const result = spawnSync(process.execPath, [join(root, 'scripts', 'check-pack.mjs')], { env: { ...process.env, ZEPOLL_PACK_DIR: copy }, encoding: 'utf8' });
    t.equal(result.status, 1, 'exit 1');
    t.match(result.stderr, /prebuilds\/linux-x64\/zepoll\.node is missing \(the x64 addon: run `npm run build:native`/);
    t.match(result.stderr, /refusing to pack/);
  } finally {
    rmSync(copy, { recursive: true, force: true });
  }
  t.end();
});

/** Imports the built package in a child with ZEPOLL_ADDON set; returns the error's code and message. */
function loadWith(addonPath: string): { code: string; message: string } {
  const script = `import(${JSON.stringify(join(pkg, 'dist', 'index.js'))}).then(() => console.log('{"code":"loaded","message":""}'), (error) => { console.log(JSON.stringify({ code: error.code, message: error.message })); })`;
  const result = spawnSync(process.execPath, ['-e', script], { env: { ...process.env, ZEPOLL_ADDON: addonPath }, encoding: 'utf8' });
  return JSON.parse(result.stdout) as { code: string; message: string };
}

t.test('an addon that cannot load: a coded error naming platform, arch, libc and the source build', (t) => {
  const folder = mkdtempSync(join(tmpdir(), 'zepoll-addon-'));
  try {
    const garbage = join(folder, 'zepoll.node');
    writeFileSync(garbage, 'not an ELF file');
    for (const [path, cause] of [['/nonexistent/zepoll.node', /cause: Cannot find module/], [garbage, /cause: .*(invalid ELF header|file too short)/]] as const) {
      const outcome = loadWith(path);
      t.equal(outcome.code, 'ERR_ZEPOLL_ADDON_LOAD', path);
      t.ok(outcome.message.includes(`cannot load its native addon ${path}`));
      t.match(outcome.message, new RegExp(`platform linux, arch ${process.arch}, glibc \\d+\\.\\d+, Node ${process.version.replace(/\./g, '\\.')}`));
      t.match(outcome.message, cause);
      t.match(outcome.message, /npm ci && npm run build:native/);
    }
    t.equal(loadWith(addon).code, 'loaded', 'the built addon loads through ZEPOLL_ADDON');
  } finally {
    rmSync(folder, { recursive: true, force: true });
  }
  t.end();
});
