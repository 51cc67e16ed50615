/**
 * Nothing in flight is lost when a server closes, and a server's clocks
 * are Node's: on zepoll/http (buffered and streamed bodies), zepoll/fetch
 * and the http example under SIGTERM. `npm run test:uring` runs this file
 * on io_uring too (ZEPOLL_BACKEND).
 *
 * - close() with a request whose head has come and whose body is still
 *   arriving: the body is read to its end and the request answered
 *   (Connection: close), then the connection ends with a FIN.
 * - close() with connections that have nothing in progress: they end at
 *   once, without waiting for the timeout.
 * - what close() cuts at its timeout is counted (stats.closeCut).
 * - a response that completes before its request's body: the connection
 *   closes after it (lingering), as node-server's and Node's http do.
 * - a lingering close is bounded: a client that never sends its FIN is
 *   closed LINGER_MS after the server's, not kept.
 * - a body over the limit: the client still sending reads the 413 (a
 *   lingering close), never a reset; streamed, the handler sees the head
 *   and may answer first.
 * - keep-alive idle timeout (default 5 s, Node's keepAliveTimeout), a new
 *   connection's headers timeout; each a floor, never early.
 *
 * The client knows the server has read a head by `Expect: 100-continue`:
 * the 100 comes back once the head is parsed, so every step waits for an
 * event, not for time.
 */
import t from 'tap';
import net from 'node:net';
import { Reactor } from '../../packages/reactor/src/reactor.js';
import { createHttpServer, KEEP_ALIVE_TIMEOUT_MS_DEFAULT, HEADERS_TIMEOUT_MS_DEFAULT, REQUEST_TIMEOUT_MS_DEFAULT } from '../../packages/reactor/src/http/server.js';
import type { HttpRequest } from '../../packages/reactor/src/http/request.js';
import type { HttpResponse } from '../../packages/reactor/src/http/response.js';
import { serve } from '../../packages/reactor/src/fetch/serve.js';
import { LINGER_MS } from '../../packages/reactor/src/http/close-deadline.js';
import { startExample } from '../helpers/example.js';
import { trackFds } from '../helpers/fds.js';
import { until } from '../helpers/wait.js';

const BODY = 'x'.repeat(64 * 1024);
const HALF = BODY.length / 2;
const HEAD = `POST /echo HTTP/1.1\r\nHost: close\r\nContent-Length: ${BODY.length}\r\nExpect: 100-continue\r\n\r\n`;

/** A raw client: what it received, whether the server reset it, and when it closed. */
interface RawClient {
  readonly socket: net.Socket;
  /** performance.now() before the connect began: no server clock for this connection can start earlier. */
  readonly startedAt: number;
  text(): string;
  readonly closed: Promise<void>;
  reset(): boolean;
  isClosed(): boolean;
}

function rawClient(port: number, host = '127.0.0.1'): Promise<RawClient> {
  return new Promise((resolve) => {
    const startedAt = performance.now();
    const socket = net.connect({ port, host });
    let text = '';
    let reset = false;
    let closed = false;
    socket.setEncoding('latin1').on('data', (part: string) => (text += part));
    socket.on('error', (error: NodeJS.ErrnoException) => void (reset ||= error.code === 'ECONNRESET' || error.code === 'EPIPE'));
    const whenClosed = new Promise<void>((done) => socket.on('close', () => ((closed = true), done())));
    socket.once('connect', () => resolve({ socket, startedAt, text: () => text, closed: whenClosed, reset: () => reset, isClosed: () => closed }));
  });
}

/** Sends the head, waits for the 100 (the server has read the head), then half the body. */
async function halfUpload(client: RawClient): Promise<void> {
  client.socket.write(HEAD);
  await until(() => client.text().startsWith('HTTP/1.1 100 Continue\r\n\r\n'), 'the 100 Continue');
  client.socket.write(BODY.slice(0, HALF));
}

const echo = (request: HttpRequest, response: HttpResponse): void => {
  response.end(request.body ?? '');
};

async function echoStreamed(request: HttpRequest, response: HttpResponse): Promise<void> {
  let length = 0;
  for await (const part of request) length += part.byteLength;
  response.end(`${length}`);
}

for (const streamBodies of [false, true]) {
  t.test(`zepoll/http (${streamBodies ? 'streamed' : 'buffered'} bodies): close() reads an upload in progress to its end and answers it`, async (t) => {
    const fds = trackFds();
    const reactor = new Reactor();
    const server = createHttpServer(reactor, streamBodies ? echoStreamed : echo, { streamBodies });
    const uploading = await rawClient(server.port);
    const idle = await rawClient(server.port);
    await halfUpload(uploading);
    await until(() => reactor.stats.bytesIn >= HEAD.length + HALF, 'the first half read');
    let closedAll = false;
    const closing = server.close(30_000).then(() => void (closedAll = true));
    await idle.closed; // nothing in progress: ended at once
    t.notOk(closedAll, 'close() waits for the upload');
    // The rest, without a FIN: a client's FIN before its answer aborts the request (as Node's http).
    uploading.socket.write(BODY.slice(HALF));
    await uploading.closed;
    await closing;
    const answer = uploading.text().slice('HTTP/1.1 100 Continue\r\n\r\n'.length);
    t.match(answer, /^HTTP\/1\.1 200 OK\r\n/, 'answered 200');
    t.match(answer, /\r\nConnection: close\r\n/i, 'with Connection: close: nothing follows it');
    t.ok(answer.endsWith(streamBodies ? `${BODY.length}` : BODY), 'the whole body reached the handler');
    t.notOk(uploading.reset(), 'ended with a FIN, not a reset');
    t.equal(server.stats.closeCut, 0, 'nothing cut');
    reactor.close();
    await fds.assertNoneSettled(t);
  });
}

t.test('close() cuts what is still in progress at its timeout, and counts it', async (t) => {
  const fds = trackFds();
  const reactor = new Reactor();
  const errors: string[] = [];
  const server = createHttpServer(reactor, echo, { onError: (error) => void errors.push(error.message) });
  const stuck = await rawClient(server.port);
  await halfUpload(stuck); // the rest never comes
  await until(() => reactor.stats.bytesIn >= HEAD.length + HALF, 'the first half read');
  await server.close(50);
  await stuck.closed;
  t.equal(server.stats.closeCut, 1, 'one connection cut at the timeout');
  reactor.close();
  await fds.assertNoneSettled(t);
});

t.test('zepoll/fetch: the signal closes gracefully; an upload in progress is read and answered', async (t) => {
  const fds = trackFds();
  const controller = new AbortController();
  const server = serve({
    port: 0,
    host: '127.0.0.1',
    signal: controller.signal,
    fetch: async (request) => new Response(`${(await request.arrayBuffer()).byteLength}`),
  });
  await server.ready;
  const uploading = await rawClient(server.port);
  await halfUpload(uploading);
  controller.abort();
  uploading.socket.write(BODY.slice(HALF));
  await uploading.closed;
  await server.closed;
  t.match(uploading.text(), /HTTP\/1\.1 200 OK\r\n[^]*\r\n\r\n65536$/, 'answered with the whole length');
  t.notOk(uploading.reset(), 'ended with a FIN, not a reset');
  await fds.assertNoneSettled(t);
});

t.test('the http example under SIGTERM: an upload in progress is answered, then exit 0', async (t) => {
  const example = await startExample(['http']);
  t.teardown(() => void example.child.kill('SIGKILL'));
  const uploading = await rawClient(example.port);
  await halfUpload(uploading);
  const exited = example.stop('SIGTERM');
  // The example closes its server on SIGTERM; the rest of the body still gets there and is answered.
  uploading.socket.write(BODY.slice(HALF));
  await uploading.closed;
  t.equal(await exited, 0, 'exit 0');
  const answer = uploading.text().slice('HTTP/1.1 100 Continue\r\n\r\n'.length);
  t.match(answer, /^HTTP\/1\.1 200 OK\r\n/, 'answered 200');
  t.ok(answer.endsWith(BODY), 'with the whole body echoed');
  t.notOk(uploading.reset(), 'ended with a FIN, not a reset');
});

t.test('a response that completes before its body arrives closes the connection after it (lingering)', async (t) => {
  const fds = trackFds();
  const reactor = new Reactor();
  const server = createHttpServer(reactor, (_request, response) => response.end('early'), { streamBodies: true });
  const client = await rawClient(server.port);
  await halfUpload(client); // the rest never comes: node-server closes after the response too
  await client.closed;
  t.match(client.text(), /HTTP\/1\.1 200 OK\r\n[^]*early$/, 'the response arrived whole');
  t.notOk(client.reset(), 'then a FIN, not a reset');
  reactor.close();
  await fds.assertNoneSettled(t);
});

t.test('a lingering close is bounded: a client that never sends its FIN is closed LINGER_MS after the response', async (t) => {
  const fds = trackFds();
  const reactor = new Reactor();
  const server = createHttpServer(reactor, (_request, response) => response.end('bye'));
  const socket = net.connect({ port: server.port, host: '127.0.0.1', allowHalfOpen: true }); // never ends its side
  socket.on('error', () => {});
  let text = '';
  socket.setEncoding('latin1').on('data', (part: string) => (text += part));
  const ended = new Promise((resolve) => socket.once('end', resolve));
  await new Promise((resolve) => socket.once('connect', resolve));
  // Before the request: the server's linger starts after its response, later than this.
  const sentAt = performance.now();
  socket.write('GET / HTTP/1.1\r\nHost: linger\r\nConnection: close\r\n\r\n');
  await ended;
  t.match(text, /^HTTP\/1\.1 200 OK\r\n[^]*bye$/, 'the response, then the server\'s FIN');
  t.equal(reactor.stats.connectionsOpen, 1, 'lingering: still open (reading) after its FIN');
  await until(() => reactor.stats.connectionsOpen === 0, 'the linger to end');
  t.ok(performance.now() - sentAt >= LINGER_MS, `closed no earlier than LINGER_MS (${LINGER_MS} ms)`);
  socket.destroy();
  await server.close();
  reactor.close();
  await fds.assertNoneSettled(t);
});

t.test('a body over the limit: the client still sending reads the 413, not a reset; streamed, the handler may answer first', async (t) => {
  const fds = trackFds();
  const reactor = new Reactor();
  const limit = 1024;
  const buffered = createHttpServer(reactor, echo, { bodySizeMax: limit });
  const streamed = createHttpServer(
    reactor,
    (request, response) => {
      response.writeHead(413);
      response.end(`the app refused ${request.header('content-length') ?? ''} bytes`);
    },
    { bodySizeMax: limit, streamBodies: true },
  );
  for (const [server, expected] of [
    [buffered, /^HTTP\/1\.1 413 Payload Too Large\r\n/],
    [streamed, /^HTTP\/1\.1 413 Payload Too Large\r\n[^]*the app refused 65536 bytes$/],
  ] as const) {
    const client = await rawClient(server.port);
    client.socket.write(`POST / HTTP/1.1\r\nHost: big\r\nContent-Length: ${BODY.length}\r\n\r\n`);
    // The client goes on sending its body after the answer (as curl does without Expect), then ends.
    client.socket.write(BODY.slice(0, HALF));
    await until(() => client.text().length > 0, 'the answer');
    client.socket.end(BODY.slice(HALF));
    await client.closed;
    t.match(client.text(), expected);
    t.notOk(client.reset(), 'the connection ended with a FIN after the client was done, not a reset');
  }
  await buffered.close();
  await streamed.close();
  reactor.close();
  await fds.assertNoneSettled(t);
});

t.test("the server's clocks: Node's defaults, keep-alive idle and a new connection's headers timeout, never early", async (t) => {
  t.equal(KEEP_ALIVE_TIMEOUT_MS_DEFAULT, 5000, "keep-alive idle: Node's keepAliveTimeout");
  t.equal(HEADERS_TIMEOUT_MS_DEFAULT, 60_000, "headers: Node's headersTimeout");
  t.equal(REQUEST_TIMEOUT_MS_DEFAULT, 300_000, "request: Node's requestTimeout");
  t.throws(() => createHttpServer(new Reactor({ ref: false }), echo, { keepAliveTimeoutMs: -1 }), { code: 'ERR_OUT_OF_RANGE' });
  const fds = trackFds();
  const reactor = new Reactor();
  const keepAliveMs = 150;
  const server = createHttpServer(reactor, echo, { keepAliveTimeoutMs: keepAliveMs, headersTimeoutMs: 200 });
  const client = await rawClient(server.port);
  // Before the request: the server's keep-alive clock starts after its response, later than this.
  const sentAt = performance.now();
  client.socket.write('POST / HTTP/1.1\r\nHost: k\r\nContent-Length: 2\r\n\r\nhi');
  await client.closed;
  t.ok(client.text().endsWith('hi'), 'answered');
  t.ok(performance.now() - sentAt >= keepAliveMs, 'closed no earlier than the keep-alive timeout');
  t.equal(client.text().split('HTTP/1.1').length, 2, 'closed quietly: no second response');
  t.notOk(client.reset(), 'with a FIN');
  const silent = await rawClient(server.port);
  await silent.closed;
  t.ok(performance.now() - silent.startedAt >= 200, 'a new connection that never sends: closed at its headers timeout, not before');
  t.match(silent.text(), /^HTTP\/1\.1 408 /, 'with 408, as Node');
  await server.close();
  reactor.close();
  await fds.assertNoneSettled(t);
});

t.test('keep-alive idle by default: closed after 5 s, as Node', async (t) => {
  const fds = trackFds();
  const reactor = new Reactor();
  const server = createHttpServer(reactor, echo);
  const client = await rawClient(server.port);
  const sentAt = performance.now();
  client.socket.write('POST / HTTP/1.1\r\nHost: k\r\nContent-Length: 2\r\n\r\nhi');
  await client.closed;
  t.ok(client.text().endsWith('hi'), 'answered');
  t.ok(performance.now() - sentAt >= KEEP_ALIVE_TIMEOUT_MS_DEFAULT, 'closed no earlier than 5 s');
  await server.close();
  reactor.close();
  await fds.assertNoneSettled(t);
});
