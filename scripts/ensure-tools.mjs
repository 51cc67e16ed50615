#!/usr/bin/env node
// Installs the system programs the tests drive the examples with: curl,
// redis-cli and redis-benchmark (Debian's redis-tools). Run by `npm test`;
// installs with apt-get when one is missing and this runs as root, and says
// what is missing otherwise (the tests that need it then fail and say so).
import { spawnSync } from 'node:child_process';

const NEEDED = [
  { command: 'curl', pkg: 'curl' },
  { command: 'redis-cli', pkg: 'redis-tools' },
  { command: 'redis-benchmark', pkg: 'redis-tools' },
];

const has = (command) => spawnSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' }).status === 0;
const missing = NEEDED.filter(({ command }) => !has(command));
if (missing.length === 0) process.exit(0);
const packages = [...new Set(missing.map(({ pkg }) => pkg))];
const isRoot = process.getuid?.() === 0;
if (!isRoot || !has('apt-get')) {
  process.stderr.write(`ensure-tools: missing ${missing.map(({ command }) => command).join(', ')}; install ${packages.join(' ')} (apt-get install ${packages.join(' ')}).\n`);
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
