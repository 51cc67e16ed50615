/**
 * The ws bench scenario cannot rot: `node bench/dist/main.js --scenarios ws`
 * at 200 connections with a 200 ms period (instead of 100 000 and 10 s)
 * runs every server available here to the end, prints the table with each
 * one holding its 200 and dropping none, the ws targets, and the HTML
 * report's ws section. The built bench is run (npm test builds first), in
 * a child process with its results in a temporary directory.
 */
import t from 'tap';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const MAIN = fileURLToPath(new URL('../../bench/dist/main.js', import.meta.url));
const CONNECTIONS = 200;
const PERIOD_MS = 200;
/** The run takes about 12 s on a quiet 2-core machine; a loaded one gets room. */
const RUN_MS = 90_000;
/** @tapjs/processinfo's switch: '0' records no V8 coverage in a child (and its children, which inherit it). */
const COVERAGE_SWITCH = '_TAPJS_PROCESSINFO_COVERAGE_';
const NAMES = ['zepoll ET', 'zepoll io_uring', 'uWebSockets.js', 'ws (Node http)'];
/** The line the bench prints for a server it leaves out (uWS.js and io_uring may be missing). */
const LEFT_OUT: Record<string, RegExp> = { 'zepoll io_uring': /zepoll io_uring left out/, 'uWebSockets.js': /uWebSockets\.js left out/ };

function run(args: readonly string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    // Without coverage: tap would count the bench's own files (loaded, mostly not run here) against the floors.
    const env = { ...process.env, NODE_OPTIONS: '', [COVERAGE_SWITCH]: '0' };
    const child = spawn(process.execPath, [MAIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (part: string) => (stdout += part));
    child.stderr.setEncoding('utf8').on('data', (part: string) => (stderr += part));
    const timer = setTimeout(() => child.kill('SIGKILL'), RUN_MS);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

t.test('the ws scenario at 200 connections completes and prints every row', { skip: existsSync(MAIN) ? false : 'bench/dist is not built (npm run build)' }, async (t) => {
  const results = mkdtempSync(join(tmpdir(), 'zepoll-ws-bench-'));
  t.teardown(() => rmSync(results, { recursive: true, force: true }));
  const { code, stdout, stderr } = await run(['--scenarios', 'ws', '--ws-connections', String(CONNECTIONS), '--ws-period-ms', String(PERIOD_MS), '--results-dir', results]);
  if (code !== 0) t.comment(stderr.slice(-4000));
  t.equal(code, 0, 'the bench exits 0');
  const lines = stdout.split('\n');
  const header = lines.find((line) => line.includes('zepoll ET'));
  t.ok(header, 'the table has a header');
  const present = NAMES.filter((name) => header?.includes(name));
  for (const name of NAMES) {
    if (present.includes(name)) continue;
    t.match(stderr, LEFT_OUT[name] ?? /^$/, `${name} is in the table or left out with a line`);
  }
  t.ok(present.includes('zepoll ET') && present.includes('ws (Node http)'), 'zepoll ET and ws always run');
  const held = lines.find((line) => line.startsWith('held / dropped'));
  t.equal(held?.match(/200 \/ 0/g)?.length, present.length, 'every server holds 200 and drops none');
  for (const label of ['time to accept all', 'RSS per idle connection', 'JS heap per idle connection', 'broadcast to all', 'echo round trip', 'server CPU per message']) {
    const line = lines.find((candidate) => candidate.startsWith(label));
    t.ok(line !== undefined && !line.includes('n/a') && !line.includes('failed'), `${label}: a figure for every server`);
  }
  t.match(stdout, /ws, 200 connections: zepoll ET holds 100,000 with 0 dropped/, 'the ws targets are printed');
  const html = readFileSync(join(results, 'latest.html'), 'utf8');
  t.match(html, /<h2>WebSocket: 200 connections<\/h2>/, 'the HTML report has the ws section');
  t.match(html, /RSS per idle connection — 200 WebSockets/, 'with its charts');
});
