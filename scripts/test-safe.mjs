#!/usr/bin/env node
// npm run test:safe: the whole tap suite again, against the ReleaseSafe
// addon (packages/reactor/build-safe, built by `build-native.mjs --safe`):
// Zig's safety checks (bounds, overflow, unreachable) on, so a native bug
// that ReleaseFast would let through as silent memory damage panics here.
// ZEPOLL_ADDON points every process of the suite at it; coverage is the
// first run's job.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const addon = join(root, 'packages', 'reactor', 'build-safe', 'zepoll.node');
if (!existsSync(addon)) {
  process.stderr.write(`test:safe: ${addon} is missing: run \`node scripts/build-native.mjs --safe\` first\n`);
  process.exit(1);
}
process.stdout.write(`test:safe: the suite against ${addon} (ReleaseSafe)\n`);
const result = spawnSync('npx', ['tap', '--disable-coverage', ...process.argv.slice(2)], { cwd: root, stdio: 'inherit', env: { ...process.env, ZEPOLL_ADDON: addon } });
process.exit(result.status ?? 1);
