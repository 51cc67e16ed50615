/**
 * fd exhaustion on the http example: started under `ulimit -n 64` and
 * flooded with 300 connections that each send a request and stay. Accept
 * runs out of fds (EMFILE); the server must back off instead of spinning
 * (its CPU time over the flood stays low, read from /proc), answer the
 * connections it holds, accept again once the flood leaves, and exit 0.
 * LT is where an unaccepted backlog would spin; ET is where a missed
 * accept would never be retried; io_uring's multishot accept ends on
 * EMFILE and must be armed again after the back-off; all are run.
 */
import t from 'tap';
import http from 'node:http';
import net from 'node:net';
import { readdirSync } from 'node:fs';
import { procSample } from '../../bench/src/proc.js';
import { startExample } from '../helpers/example.js';
import { trackFds } from '../helpers/fds.js';
import { until } from '../helpers/wait.js';
import { ioUringSupport } from '../../packages/reactor/src/backend/io-uring-support.js';

const FD_LIMIT = 64;
const FLOOD_SIZE = 300;
const WINDOW_MS = 1000;
/** Share of one core the server may use while the flood holds it at its limit. */
const CPU_SHARE_MAX = 0.3;
const REQUEST = 'GET / HTTP/1.1\r\nHost: flood\r\n\r\n';
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

function get(port: number): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    http
      .get({ host: '127.0.0.1', port, path: '/', agent: false }, (response) => {
        let body = '';
        response.setEncoding('utf8').on('data', (part: string) => (body += part));
        response.on('end', () => resolve({ status: response.statusCode!, body }));
      })
      .on('error', reject);
  });
}

/** LT, ET, and io_uring (a multishot accept: EMFILE ends it, the back-off re-arms it) where it works here. */
const VARIANTS: ReadonlyArray<[string, readonly string[]]> = [
  ['lt', ['--mode', 'lt']],
  ['et', ['--mode', 'et']],
  ...(ioUringSupport().available ? [['io_uring', ['--backend', 'io_uring']] as [string, readonly string[]]] : []),
];

for (const [mode, flags] of VARIANTS) {
  t.test(`${mode}: a flood of ${FLOOD_SIZE} connections against ulimit -n ${FD_LIMIT}: no spin, answers, accepts again`, async (t) => {
    const fds = trackFds();
    const example = await startExample(['http', ...flags], { fdLimit: FD_LIMIT });
    t.teardown(() => void example.child.kill('SIGKILL')); // a failed assertion must not leave the server running
    const pid = example.child.pid!;
    // The server's fds under its limit, from /proc (one inherited from the test runner may sit above it).
    const fdsUnderLimit = (): number => readdirSync(`/proc/${pid}/fd`).filter((name) => Number(name) < FD_LIMIT).length;
    let answered = 0;
    const flood = Array.from({ length: FLOOD_SIZE }, () => {
      const socket = net.connect(example.port, '127.0.0.1', () => socket.write(REQUEST));
      socket.on('error', () => {});
      socket.setEncoding('latin1').on('data', (part: string) => {
        if (part.includes('hello world')) answered += 1;
      });
      return socket;
    });
    // The flood lands: every fd under the limit is taken, so accept fails (EMFILE).
    await until(() => fdsUnderLimit() === FD_LIMIT, 'the server to run out of fds');
    const before = procSample(pid);
    await sleep(WINDOW_MS); // time is what is tested: the server's CPU over a window at its fd limit
    const cpuShare = (procSample(pid).cpuSeconds - before.cpuSeconds) / (WINDOW_MS / 1000);
    t.ok(cpuShare <= CPU_SHARE_MAX, `server CPU ${(cpuShare * 100).toFixed(1)}% of a core over ${WINDOW_MS} ms at its fd limit (bound ${CPU_SHARE_MAX * 100}%)`);
    t.ok(answered > 0 && answered < FD_LIMIT, `${answered} flood connections answered: the ones its fds could hold`);
    for (const socket of flood) socket.destroy();
    // Accepting resumes: the backlog drains (those connections are gone) and a new client is served.
    // A connection accepted while the server still backs off is closed unanswered: each attempt is a check.
    let served: { status: number; body: string } | null = null;
    await until(async () => (served = await get(example.port).catch(() => null)) !== null, 'a new client served', { pollMs: 100 });
    t.same(served, { status: 200, body: 'hello world' }, 'served again once the flood left');
    t.equal(example.child.exitCode, null, 'no crash');
    t.equal(await example.stop(), 0, 'SIGTERM: exit 0');
    await fds.assertNoneSettled(t);
  });
}
