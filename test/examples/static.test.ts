/**
 * The static example with curl: file bytes and Content-Type, HEAD, Range
 * (206, suffix, open-ended, 416), If-Modified-Since (304), 404, a directory
 * index, and path escapes sent verbatim (--path-as-is): dot segments,
 * encoded and double-encoded, backslashes, NUL, a symlink leaving root, an
 * absolute path, a very long path. None returns a byte from outside root.
 */
import t from 'tap';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync, utimesSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { program, startExample } from '../helpers/example.js';

const base = mkdtempSync(join(tmpdir(), 'zepoll-static-'));
const root = join(base, 'root');
mkdirSync(join(root, 'sub'), { recursive: true });
const SECRET = 'TOP-SECRET-OUTSIDE-ROOT';
writeFileSync(join(base, 'secret.txt'), SECRET);
const content = Buffer.from(Array.from({ length: 1000 }, (_, index) => String.fromCharCode(97 + (index % 26))).join(''));
writeFileSync(join(root, 'file.txt'), content);
writeFileSync(join(root, 'page.html'), '<h1>hi</h1>');
writeFileSync(join(root, 'sub', 'index.html'), 'index of sub');
symlinkSync(join(base, 'secret.txt'), join(root, 'escape-link'));
symlinkSync(base, join(root, 'escape-dir'));
symlinkSync(join(root, 'file.txt'), join(root, 'inside-link'));
utimesSync(join(root, 'file.txt'), new Date('2024-01-02T03:04:05Z'), new Date('2024-01-02T03:04:05Z'));
t.teardown(() => rmSync(base, { recursive: true, force: true }));

function curl(port: number, path: string, ...args: string[]): { status: string; body: string; headers: string } {
  const result = program('curl', ['-s', '--path-as-is', '-D', '-', '-o', '-', ...args, `http://127.0.0.1:${port}${path}`]);
  const split = result.stdout.indexOf('\r\n\r\n');
  const headers = result.stdout.slice(0, split);
  return { status: headers.split(' ')[1] ?? '', headers, body: result.stdout.slice(split + 4) };
}

t.test('files, types, HEAD, Range, If-Modified-Since, 404, directory index', async (t) => {
  const example = await startExample(['static', '--root', root]);
  const port = example.port;
  const whole = curl(port, '/file.txt');
  t.equal(whole.status, '200');
  t.equal(whole.body, content.toString());
  t.match(whole.headers, /Content-Type: text\/plain/);
  t.match(whole.headers, /Content-Length: 1000/);
  t.match(whole.headers, /Last-Modified: Tue, 02 Jan 2024 03:04:05 GMT/);
  t.match(curl(port, '/page.html').headers, /Content-Type: text\/html/);
  const head = program('curl', ['-s', '-I', `http://127.0.0.1:${port}/file.txt`]).stdout;
  t.match(head, /^HTTP\/1\.1 200 OK\r\n/);
  t.match(head, /Content-Length: 1000/);
  t.equal(program('curl', ['-s', '-I', '-o', '/dev/null', '-w', '%{size_download}', `http://127.0.0.1:${port}/file.txt`]).stdout, '0', 'HEAD: no body');
  const range = curl(port, '/file.txt', '-r', '10-19');
  t.equal(range.status, '206');
  t.equal(range.body, content.subarray(10, 20).toString());
  t.match(range.headers, /Content-Range: bytes 10-19\/1000/);
  t.equal(curl(port, '/file.txt', '-r', '-5').body, content.subarray(995).toString(), 'suffix range');
  t.equal(curl(port, '/file.txt', '-r', '990-').body, content.subarray(990).toString(), 'open-ended range');
  const unsatisfiable = curl(port, '/file.txt', '-r', '5000-6000');
  t.equal(unsatisfiable.status, '416');
  t.match(unsatisfiable.headers, /Content-Range: bytes \*\/1000/);
  t.equal(curl(port, '/file.txt', '-z', 'Wed, 03 Jan 2024 00:00:00 GMT').status, '304', 'not modified since');
  t.equal(curl(port, '/file.txt', '-z', 'Mon, 01 Jan 2024 00:00:00 GMT').status, '200', 'modified since');
  t.equal(curl(port, '/missing.txt').status, '404');
  t.equal(curl(port, '/sub/').body, 'index of sub', 'a directory serves its index.html');
  t.equal(curl(port, '/inside-link').body, content.toString(), 'a symlink that stays inside root is served');
  t.equal(curl(port, '/file.txt', '-X', 'POST').status, '405');
  t.equal(await example.stop(), 0);
});

t.test('path escapes never return a byte from outside root', async (t) => {
  const example = await startExample(['static', '--root', root]);
  const attempts = [
    '/../secret.txt',
    '/sub/../../secret.txt',
    '/%2e%2e/secret.txt',
    '/%2E%2E/secret.txt',
    '/sub/%2e%2e/%2e%2e/secret.txt',
    '/%252e%252e/secret.txt',
    '/..%2fsecret.txt',
    '/..%5csecret.txt',
    '/..\\secret.txt',
    '/%00/../secret.txt',
    '/file.txt%00.html',
    '/escape-link',
    '/escape-dir/secret.txt',
    `/${'a/'.repeat(3000)}`,
    '/%',
    '/%zz',
    `/${base}/secret.txt`,
    '//etc/passwd',
    '/./../secret.txt',
  ];
  for (const path of attempts) {
    const result = curl(example.port, path);
    t.notMatch(result.body, SECRET, `${path.slice(0, 60)}: no secret (status ${result.status})`);
    t.ok(['400', '404'].includes(result.status), `${path.slice(0, 60)}: refused with ${result.status}`);
  }
  t.equal(await example.stop(), 0);
});
