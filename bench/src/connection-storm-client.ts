/**
 * The client side of connection-storm.ts, in its own process on the
 * client CPU: opens COUNT connections to 127.0.0.1:PORT at once (every
 * connect() in one loop, before any completes), sends `GET /` on each as
 * it connects, and reads its whole response (Content-Length framed). Then
 * prints one JSON line: how long the storm took and each connection's
 * latency (connect() to the whole response) as percentiles; and holds
 * the connections until SIGTERM, so their closes fall outside the
 * server's measured window.
 *
 *   (spawned by connection-storm.js) connection-storm-client.js PORT COUNT
 */
import { connect, type Socket } from 'node:net';

const REQUEST = Buffer.from('GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
const HEAD_END = '\r\n\r\n';
/** A storm that has not finished by then is reported as it is (errors and what is missing counted). */
const STORM_TIMEOUT_MS = 30_000;

const [portText = '0', countText = '0'] = process.argv.slice(2);
const port = Number(portText);
const count = Number(countText);
const sockets: Socket[] = [];
const latenciesMs: number[] = [];
let errors = 0;
let settled = 0;
const started = performance.now();

function percentile(sorted: readonly number[], fraction: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * fraction))]!;
}

function report(): void {
  clearTimeout(timer);
  const sorted = latenciesMs.slice().sort((a, b) => a - b);
  const figures = {
    connections: count,
    answered: latenciesMs.length,
    errors,
    elapsedMs: performance.now() - started,
    p50Ms: percentile(sorted, 0.5),
    p99Ms: percentile(sorted, 0.99),
    maxMs: sorted.at(-1) ?? Number.NaN,
  };
  process.stdout.write(`${JSON.stringify(figures)}\n`);
}

function done(): void {
  settled += 1;
  if (settled === count) report();
}

/** One connection: connected, it asks; its whole response read, its latency counted. */
function open(): void {
  const start = performance.now();
  let text = '';
  let finished = false;
  const socket = connect({ port, host: '127.0.0.1' }, () => socket.write(REQUEST));
  const onData = (part: Buffer): void => {
    text += part.toString('latin1');
    const headEnd = text.indexOf(HEAD_END);
    if (headEnd < 0) return;
    const length = /content-length: *(\d+)/i.exec(text.slice(0, headEnd));
    if (length === null || text.length < headEnd + HEAD_END.length + Number(length[1])) return;
    socket.off('data', onData);
    finished = true;
    latenciesMs.push(performance.now() - start);
    done();
  };
  socket.on('data', onData);
  socket.on('error', () => {
    errors += 1;
    if (finished) return;
    finished = true; // no answer: settled all the same, so the storm ends
    done();
  });
  sockets.push(socket);
}

const timer = setTimeout(report, STORM_TIMEOUT_MS);
for (let index = 0; index < count; index += 1) open();
process.once('SIGTERM', () => {
  for (const socket of sockets) socket.destroy();
  process.exit(0);
});
