/**
 * Slowloris against the http example: 500 connections each send a request
 * head one byte per second, so none is ever idle and none ever completes.
 * The idle timeout alone would keep them forever; the headers timeout
 * (`--headers-timeout`) answers each with 408 and closes it. Meanwhile a
 * normal client keeps sending requests and every answer comes back within
 * a stated bound.
 */
import t from 'tap';
import net from 'node:net';
import { startExample } from '../helpers/example.js';
import { softFdLimit, trackFds } from '../helpers/fds.js';
import { exchangeOn } from '../helpers/net-client.js';

const SLOW_CONNECTIONS = 500;
const HEADERS_TIMEOUT_MS = 2000;
/** The byte rate of a slow client. */
const BYTE_INTERVAL_MS = 1000;
/** A slow client must be closed by then (timeout, the reactor's sweep, a loaded machine). */
const CLOSED_BY_MS = HEADERS_TIMEOUT_MS + 3000;
/** Normal requests while the slow clients hang on: p99 within the first, every one within the second. */
const LATENCY_P99_MS = 250;
const LATENCY_MAX_MS = 1000;
const NORMAL_INTERVAL_MS = 20;
const HEAD = 'GET / HTTP/1.1\r\nHost: slow\r\nX-Slow: ';

interface Slow {
  readonly socket: net.Socket;
  readonly opened: number;
  closedAfter: number;
  answer: string;
}

function slowClient(port: number): Promise<Slow> {
  return new Promise((resolve, reject) => {
    // Opened before connect(): the server's headers clock starts at its accept (as Node's, for a new
    // connection), which a busy machine can put well before this side's 'connect' event.
    const opened = performance.now();
    const socket = net.connect(port, '127.0.0.1');
    const slow: Slow = { socket, opened, closedAfter: -1, answer: '' };
    let sent = 0;
    let timer: NodeJS.Timeout | null = null;
    socket.setEncoding('latin1').on('data', (part: string) => (slow.answer += part));
    socket.on('error', () => {}); // a reset after the 408 is a close too
    socket.on('close', () => {
      if (timer !== null) clearInterval(timer);
      slow.closedAfter = performance.now() - slow.opened;
    });
    socket.once('connect', () => {
      const sendByte = (): void => {
        if (!socket.destroyed) socket.write(HEAD[sent++ % HEAD.length]!);
      };
      sendByte();
      timer = setInterval(sendByte, BYTE_INTERVAL_MS);
      resolve(slow);
    });
    socket.once('error', reject);
  });
}

t.test(`slowloris: ${SLOW_CONNECTIONS} connections trickling a head; 408 and closed, normal requests keep their latency`, async (t) => {
  t.ok(softFdLimit() > SLOW_CONNECTIONS + 100, `the soft fd limit (${softFdLimit()}) holds ${SLOW_CONNECTIONS} client sockets`);
  const fds = trackFds();
  const example = await startExample(['http', '--headers-timeout', String(HEADERS_TIMEOUT_MS), '--idle-timeout', '30000']);
  t.teardown(() => void example.child.kill('SIGKILL')); // a failed assertion must not leave the server running
  const slow = await Promise.all(Array.from({ length: SLOW_CONNECTIONS }, () => slowClient(example.port)));

  // A normal keep-alive client, one request at a time, until every slow client is gone.
  const normal = net.connect(example.port, '127.0.0.1');
  normal.on('error', () => {}); // a reset fails exchangeOn, which says so
  await new Promise((resolve) => normal.once('connect', resolve));
  const latencies: number[] = [];
  const deadline = performance.now() + CLOSED_BY_MS + 1000;
  while (slow.some((one) => one.closedAfter < 0) && performance.now() < deadline) {
    const started = performance.now();
    const answer = await exchangeOn(normal, 'GET / HTTP/1.1\r\nHost: normal\r\n\r\n', (text) => text.endsWith('hello world'));
    latencies.push(performance.now() - started);
    if (!answer.startsWith('HTTP/1.1 200 OK')) t.fail(`unexpected answer ${JSON.stringify(answer)}`);
    await new Promise((resolve) => setTimeout(resolve, NORMAL_INTERVAL_MS));
  }
  normal.destroy();

  const open = slow.filter((one) => one.closedAfter < 0).length;
  t.equal(open, 0, `every slow connection closed within ${CLOSED_BY_MS} ms`);
  const closedAfter = slow.map((one) => one.closedAfter).sort((a, b) => a - b);
  t.ok(closedAfter[0]! >= HEADERS_TIMEOUT_MS - 50, `none before the headers timeout (first after ${Math.round(closedAfter[0]!)} ms)`);
  t.ok(closedAfter.at(-1)! <= CLOSED_BY_MS, `the last after ${Math.round(closedAfter.at(-1)!)} ms`);
  t.equal(slow.filter((one) => one.answer.startsWith('HTTP/1.1 408 Request Timeout')).length, SLOW_CONNECTIONS, 'each got 408 Request Timeout');
  latencies.sort((a, b) => a - b);
  t.ok(latencies.length >= 20, `${latencies.length} normal requests answered meanwhile`);
  const p99 = latencies[Math.min(latencies.length - 1, Math.floor(latencies.length * 0.99))]!;
  t.ok(p99 <= LATENCY_P99_MS && latencies.at(-1)! <= LATENCY_MAX_MS, `normal requests: p50 ${latencies[Math.floor(latencies.length / 2)]!.toFixed(2)} ms, p99 ${p99.toFixed(2)} ms, max ${latencies.at(-1)!.toFixed(2)} ms (bounds: p99 ${LATENCY_P99_MS} ms, max ${LATENCY_MAX_MS} ms)`);
  t.equal(await example.stop(), 0, 'the example exits 0');
  await fds.assertNoneSettled(t);
});
