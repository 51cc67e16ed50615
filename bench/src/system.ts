/**
 * System programs a benchmark uses (redis-server, wrk, ...): installed with
 * apt-get when missing and this runs as root; otherwise the caller is told
 * so and the comparison that needs it is skipped, with a message.
 */
import { spawnSync } from 'node:child_process';

export function hasCommand(command: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' }).status === 0;
}

/** True when `command` is there (installing `pkg` if it can); false with a message on stderr. */
export function ensureCommand(command: string, pkg: string): boolean {
  if (hasCommand(command)) return true;
  if (process.getuid?.() !== 0 || !hasCommand('apt-get')) {
    process.stderr.write(`bench: ${command} is missing; install ${pkg} (apt-get install ${pkg}) to include it\n`);
    return false;
  }
  process.stderr.write(`bench: installing ${pkg} with apt-get\n`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  for (const args of [['update', '-qq'], ['install', '-y', '-qq', '--no-install-recommends', pkg]]) {
    if (spawnSync('apt-get', args, { stdio: 'inherit', env }).status !== 0) {
      process.stderr.write(`bench: apt-get ${args.join(' ')} failed; ${command} left out\n`);
      return false;
    }
  }
  return hasCommand(command);
}
