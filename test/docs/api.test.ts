/**
 * The API reference (docs/api, Markdown made by TypeDoc from the TSDoc of
 * the package's three entry points): every exported name documented
 * (TypeDoc's notDocumented check, warnings as errors), and the checked-in
 * pages the same as a fresh `npm run docs` makes.
 */
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';

const root = resolve(import.meta.dirname, '..', '..');
/** TypeDoc reads the whole program: seconds, more on a busy machine. */
const TYPEDOC_TIMEOUT_MS = 120_000;

function filesUnder(folder: string): string[] {
  return readdirSync(folder, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => relative(folder, join(entry.parentPath, entry.name)))
    .sort();
}

t.test('every exported name is documented, and docs/api is up to date', (t) => {
  const out = mkdtempSync(join(tmpdir(), 'zepoll-api-'));
  try {
    const result = spawnSync(process.execPath, [join(root, 'node_modules', 'typedoc', 'bin', 'typedoc'), '--out', out, '--treatValidationWarningsAsErrors'], { cwd: root, encoding: 'utf8', timeout: TYPEDOC_TIMEOUT_MS });
    t.equal(result.status, 0, `typedoc found nothing undocumented: ${result.stdout}${result.stderr}`.trim());
    const fresh = filesUnder(out);
    t.ok(fresh.length > 20, `${fresh.length} pages`);
    const checkedIn = filesUnder(join(root, 'docs', 'api'));
    t.same(checkedIn, fresh, 'the same pages (run `npm run docs`)');
    const stale = fresh.filter((file) => checkedIn.includes(file) && readFileSync(join(out, file), 'utf8') !== readFileSync(join(root, 'docs', 'api', file), 'utf8'));
    t.same(stale, [], 'with the same text (run `npm run docs`)');
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
  t.end();
});
