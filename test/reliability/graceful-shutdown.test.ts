/**
 * SIGTERM under load on the http example. 50 keep-alive connections each
 * write batches of 8 pipelined requests (one write, one segment: the
 * server reads a batch whole or not at all) and wait for the answers,
 * again and again; mid-load the example gets SIGTERM. Every batch the
 * server read must be answered in full, every response complete and exact,
 * each connection closed cleanly (FIN, no reset) at a response boundary;
 * new connections are refused; the process exits 0.
 */
import t from 'tap';
import net from 'node:net';
import { startExample } from '../helpers/example.js';
import { trackFds } from '../helpers/fds.js';
import { bytesRouteSha256, ResponseReader } from '../helpers/http-responses.js';

const CONNECTIONS = 50;
const BATCH = 8;
/** Body size of each request's response: several writes each, so some are mid-flight at SIGTERM. */
const RESPONSE_BYTES = 100_000;
const LOAD_MS_BEFORE_SIGTERM = 500;
const REQUEST = `GET /bytes/${RESPONSE_BYTES} HTTP/1.1\r\nHost: load\r\n\r\n`;
const EXPECTED_SHA256 = bytesRouteSha256(RESPONSE_BYTES);

interface Outcome {
  /** Requests written, by batch. */
  batches: number;
  answered: number;
  bad: number;
  reset: boolean;
  atBoundary: boolean;
}

function loadConnection(port: number): Promise<Outcome> {
  return new Promise((resolve) => {
    const outcome: Outcome = { batches: 0, answered: 0, bad: 0, reset: false, atBoundary: true };
    const reader = new ResponseReader();
    const socket = net.connect(port, '127.0.0.1');
    const send = (): void => {
      outcome.batches += 1;
      socket.write(REQUEST.repeat(BATCH));
    };
    socket.once('connect', send);
    socket.on('data', (part: Buffer) => {
      reader.push(part);
      if (reader.responses.length === outcome.batches * BATCH) send();
    });
    socket.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code === 'ECONNRESET' || error.code === 'EPIPE') outcome.reset = true;
    });
    socket.on('close', () => {
      outcome.answered = reader.responses.length;
      outcome.bad = reader.responses.filter((response) => response.status !== 200 || response.length !== RESPONSE_BYTES || response.sha256 !== EXPECTED_SHA256).length;
      outcome.atBoundary = reader.atBoundary;
      resolve(outcome);
    });
  });
}

t.test(`SIGTERM under load: ${CONNECTIONS} connections of pipelined batches; every batch read is answered, then exit 0`, async (t) => {
  const fds = trackFds();
  const example = await startExample(['http']);
  t.teardown(() => void example.child.kill('SIGKILL')); // a failed assertion must not leave the server running
  const outcomes = Array.from({ length: CONNECTIONS }, () => loadConnection(example.port));
  await new Promise((resolve) => setTimeout(resolve, LOAD_MS_BEFORE_SIGTERM));
  const code = await example.stop('SIGTERM');
  const results = await Promise.all(outcomes);
  t.equal(code, 0, 'exit 0 after SIGTERM');
  const answered = results.reduce((sum, one) => sum + one.answered, 0);
  t.ok(answered >= CONNECTIONS * BATCH, `${answered} requests answered under load`);
  t.equal(results.reduce((sum, one) => sum + one.bad, 0), 0, 'every response complete and exact (length, sha256)');
  const partial = results.filter((one) => one.answered % BATCH !== 0);
  t.same(partial.map((one) => `${one.answered} of ${one.batches * BATCH}`), [], 'no batch answered in part: a batch the server read was answered whole');
  const dropped = results.filter((one) => one.batches * BATCH - one.answered > BATCH);
  t.same(dropped.length, 0, 'at most the last batch (written as the server closed) went unread');
  t.equal(results.filter((one) => one.reset).length, 0, 'every connection closed with FIN, none reset');
  t.ok(results.every((one) => one.atBoundary), 'each closed at a response boundary: nothing cut mid-response');
  const refused = await new Promise<string>((resolve) => {
    const socket = net.connect(example.port, '127.0.0.1');
    socket.on('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? 'error'));
    socket.on('connect', () => {
      socket.destroy();
      resolve('connected');
    });
  });
  t.equal(refused, 'ECONNREFUSED', 'after exit the port refuses connections');
  await fds.assertNoneSettled(t);
});
