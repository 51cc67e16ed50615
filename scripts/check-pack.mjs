#!/usr/bin/env node
// prepack of packages/reactor: refuses to pack a package users could not
// run. The addon and the compiled JavaScript must be there (npm pack would
// silently pack without them), and the docs the README and TSDoc point to
// (guide, http, fetch, io-uring) are copied next to the README.
import { copyFileSync, existsSync, mkdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
// ZEPOLL_PACK_DIR: the package folder to check (the test suite points it at a copy without an addon).
const pkg = process.env.ZEPOLL_PACK_DIR ?? join(root, 'packages', 'reactor');
const required = [
  ['prebuilds/linux-x64/zepoll.node', 'the x64 addon: run `npm run build:native` at the repository root'],
  ['prebuilds/linux-arm64/zepoll.node', 'the arm64 addon: run `npm run build:native` at the repository root'],
  ['dist/index.js', 'the compiled package: run `npm run build` at the repository root'],
  ['dist/http/index.js', 'the compiled HTTP layer: run `npm run build` at the repository root'],
];
const missing = required.filter(([path]) => !existsSync(join(pkg, path)));
if (missing.length > 0) {
  for (const [path, hint] of missing) process.stderr.write(`zepoll prepack: ${path} is missing (${hint})\n`);
  process.stderr.write('zepoll prepack: refusing to pack a package without it.\n');
  process.exit(1);
}
mkdirSync(join(pkg, 'docs'), { recursive: true });
// Every doc the README and the TSDoc point to ships with the package.
for (const doc of ['guide.md', 'http.md', 'fetch.md', 'io-uring.md']) copyFileSync(join(root, 'docs', doc), join(pkg, 'docs', doc));
