/**
 * The static example never serves a byte from outside its root. A corpus
 * of path-escape attempts, generated from the ways a path is disguised
 * (dot segments plain, percent-encoded, double-encoded, overlong UTF-8,
 * mixed; backslashes; NUL bytes raw and encoded; symlinks inside the root
 * that point out of it; absolute forms; very long paths), each sent as raw
 * bytes on its own connection. Outside the root sit a secret file and
 * /etc/passwd: no answer may carry either, and every answer is a refusal
 * (400, 404 or 431), never a bare close. A file inside the root is
 * served throughout, so the refusals are not the server failing.
 */
import t from 'tap';
import net from 'node:net';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startExample } from '../helpers/example.js';
import { trackFds } from '../helpers/fds.js';

const SECRET = 'secret-outside-root-7f3a9c';
const PASSWD_MARK = 'root:x:0:0';
const INSIDE = 'inside the root';
const AT_ONCE = 20;
const REFUSALS = [400, 404, 431];

const DOT_DOT = ['..', '%2e%2e', '%2E%2E', '.%2e', '%2e.', '%252e%252e', '%c0%ae%c0%ae', '%uff0e%uff0e'];
const SLASH = ['/', '%2f', '%2F', '%252f', '\\', '%5c', '%c0%af', '%e2%88%95', '//', '/./'];
const TARGETS = ['secret.txt', 'etc/passwd'];

/** Every disguise of "up N levels, then a target". */
function corpus(): string[] {
  const attempts = new Set<string>();
  for (const dots of DOT_DOT) {
    for (const slash of SLASH) {
      for (const depth of [1, 2, 8]) {
        for (const target of TARGETS) {
          const up = `${dots}${slash}`.repeat(depth);
          attempts.add(`/${up}${target}`);
          attempts.add(`/sub/${up}${target}`);
          attempts.add(`/./${up}${target}%00.txt`);
        }
      }
    }
  }
  for (const extra of [
    '/escape-link', '/escape-dir/secret.txt', '/escape-dir/../secret.txt', '/sub/../escape-link', '/%65scape-link', '/escape-link%00', '/escape-link/',
    '//etc/passwd', '/%2fetc%2fpasswd', '/%252fetc%252fpasswd', 'http://localhost/../secret.txt', 'file:///etc/passwd', '*',
    `/${'a/'.repeat(3000)}../../secret.txt`, `/${'../'.repeat(2000)}etc/passwd`, `/${'%2e%2e%2f'.repeat(800)}etc/passwd`,
    '/inside.txt/../../secret.txt', '/inside.txt%2f..%2f..%2fsecret.txt', '/%', '/%zz', '/%e0%80%af', '/\u00ff..',
  ]) {
    attempts.add(extra);
  }
  return [...attempts];
}

function ask(port: number, target: string): Promise<string> {
  return new Promise((resolve) => {
    // Connection: close makes the server close after its answer; the client does not half-close
    // first (a FIN while the answer is pending would abort it, as in Node's http).
    const socket = net.connect(port, '127.0.0.1', () => socket.write(`GET ${target} HTTP/1.1\r\nHost: static\r\nConnection: close\r\n\r\n`, 'latin1'));
    let text = '';
    socket.setEncoding('latin1').on('data', (part: string) => (text += part));
    socket.on('error', () => {});
    socket.on('close', () => resolve(text));
  });
}

t.test('static: a generated corpus of path escapes; none returns a byte from outside root', async (t) => {
  const fds = trackFds();
  const base = mkdtempSync(join(tmpdir(), 'zepoll-root-'));
  const root = join(base, 'root');
  mkdirSync(join(root, 'sub'), { recursive: true });
  writeFileSync(join(base, 'secret.txt'), SECRET);
  writeFileSync(join(root, 'inside.txt'), INSIDE);
  symlinkSync(join(base, 'secret.txt'), join(root, 'escape-link'));
  symlinkSync(base, join(root, 'escape-dir'));
  const example = await startExample(['static', '--root', root]);
  try {
    const attempts = corpus();
    const leaks: string[] = [];
    const unexpected: string[] = [];
    const statuses = new Map<string, number>();
    let next = 0;
    let insideServed = 0;
    const worker = async (): Promise<void> => {
      while (next < attempts.length) {
        const index = next++;
        const target = attempts[index]!;
        const answer = await ask(example.port, target);
        if (answer.includes(SECRET) || answer.includes(PASSWD_MARK)) leaks.push(target);
        const status = /^HTTP\/1\.1 (\d{3})/.exec(answer)?.[1] ?? 'closed';
        statuses.set(status, (statuses.get(status) ?? 0) + 1);
        if (!REFUSALS.includes(Number(status))) unexpected.push(`${status} for ${JSON.stringify(target.slice(0, 80))}`); // a close without an answer would hide a handler that failed
        if (index % 50 === 0 && (await ask(example.port, '/inside.txt')).endsWith(INSIDE)) insideServed += 1;
      }
    };
    await Promise.all(Array.from({ length: AT_ONCE }, worker));
    t.ok(attempts.length >= 500, `${attempts.length} attempts`);
    t.same(leaks, [], 'no answer carried the secret or /etc/passwd');
    t.same(unexpected, [], `every answer a refusal: ${JSON.stringify(Object.fromEntries(statuses))}`);
    t.ok(insideServed > 0, `the file inside the root was served between them (${insideServed} checks)`);
    t.match(await ask(example.port, '/inside.txt'), new RegExp(`^HTTP/1\\.1 200 OK[^]*${INSIDE}$`), 'and still is');
  } finally {
    t.equal(await example.stop(), 0, 'the example exits 0');
    rmSync(base, { recursive: true, force: true });
  }
  await fds.assertNoneSettled(t);
});
