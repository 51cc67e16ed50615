/**
 * The HTTP server with the example's routes, driven by Node's http client
 * (keep-alive agent, Expect: 100-continue, chunked responses) and by raw
 * sockets (pipelining, HTTP/1.0, malformed input): responses in order,
 * keep-alive honoured, bodies exact, errors answered then closed.
 */
import t from 'tap';
import http from 'node:http';
import net from 'node:net';
import { randomBytes } from 'node:crypto';
import { Reactor, type Mode } from '../../packages/reactor/src/reactor.js';
import { createHttpServer } from '../../packages/reactor/src/http/server.js';
import type { HttpRequest } from '../../packages/reactor/src/http/request.js';
import type { HttpResponse } from '../../packages/reactor/src/http/response.js';
import { route } from '../../packages/examples/src/servers/http-routes.js';
import { trackFds } from '../helpers/fds.js';
import { closed, sha256 } from '../helpers/net-client.js';
import { captureUncaught } from '../helpers/uncaught.js';
import { until } from '../helpers/wait.js';

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Routes of the example plus a few that exercise streaming and late answers. */
function routes(request: HttpRequest, response: HttpResponse): void {
  if (request.path === '/stream') {
    const total = Number(request.header('x-size') ?? '0');
    let sent = 0;
    const pump = (): void => {
      while (sent < total) {
        const chunk = Buffer.alloc(Math.min(64 * 1024, total - sent), sent % 251);
        sent += chunk.length;
        if (!response.write(chunk)) return response.onDrain(pump);
      }
      response.end();
    };
    pump();
    return;
  }
  if (request.path === '/unique') {
    response.setHeader('X-Id', request.target.slice('/unique?'.length));
    if (request.header('x-status') !== undefined) response.statusCode = Number(request.header('x-status'));
    response.end(request.target);
    return;
  }
  if (request.path === '/delay') {
    setTimeout(() => response.end('delayed'), Number(request.header('x-delay') ?? '0'));
    return;
  }
  if (request.path === '/late') {
    setTimeout(() => response.end(`late ${request.target}`), 20);
    return;
  }
  if (request.path === '/late-stream') {
    response.write('part one, ');
    setTimeout(() => response.end('part two'), 10);
    return;
  }
  route(request, response);
}

function get(agent: http.Agent, port: number, path: string, options: http.RequestOptions = {}, body?: Buffer): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const request = http.request({ host: '127.0.0.1', port, path, agent, ...options }, (response) => {
      const parts: Buffer[] = [];
      response.on('data', (part: Buffer) => parts.push(part));
      response.on('end', () => resolve({ status: response.statusCode!, headers: response.headers, body: Buffer.concat(parts) }));
    });
    request.on('error', reject);
    if ((options.headers as http.OutgoingHttpHeaders | undefined)?.expect === '100-continue') request.on('continue', () => request.end(body));
    else request.end(body);
  });
}

/** Writes `raw` on a fresh socket and resolves with everything until the server closes. */
function raw(port: number, data: string, timeoutMs = 2000): Promise<string> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1', () => socket.write(data));
    let text = '';
    socket.setEncoding('latin1');
    socket.on('data', (part: string) => (text += part));
    socket.on('error', () => {});
    socket.on('close', () => resolve(text));
    setTimeout(() => socket.destroy(), timeoutMs);
  });
}

for (const mode of ['lt', 'et', 'oneshot'] as Mode[]) {
  t.test(`${mode}: Node's http client with a keep-alive agent`, async (t) => {
    const fds = trackFds();
    const reactor = new Reactor({ mode });
    const server = createHttpServer(reactor, routes);
    const agent = new http.Agent({ keepAlive: true, maxSockets: 4 });
    const results = await Promise.all(Array.from({ length: 100 }, (_, index) => get(agent, server.port, index % 2 === 0 ? '/' : '/json')));
    t.ok(results.every((result) => result.status === 200), '100 responses, all 200');
    t.equal(results[0]!.body.toString(), 'hello world');
    t.same(JSON.parse(results[1]!.body.toString()), { message: 'hello world', server: 'zepoll' });
    t.ok(reactor.stats.connectionsTotal <= 4, `keep-alive: ${reactor.stats.connectionsTotal} connections for 100 requests`);
    const payload = randomBytes(300 * 1024);
    const echoed = await get(agent, server.port, '/echo', { method: 'POST', headers: { 'content-type': 'application/x-test', expect: '100-continue', 'content-length': payload.length } }, payload);
    t.equal(echoed.status, 200);
    t.equal(echoed.headers['content-type'], 'application/x-test');
    t.equal(sha256(echoed.body), sha256(payload), 'POST /echo after 100-continue: the body back, exact');
    const streamed = await get(agent, server.port, '/stream', { headers: { 'x-size': String(3 * 1024 * 1024) } });
    t.equal(streamed.headers['transfer-encoding'], 'chunked');
    t.equal(streamed.body.length, 3 * 1024 * 1024, 'a 3 MiB chunked stream with backpressure');
    const missing = await get(agent, server.port, '/missing');
    t.equal(missing.status, 404);
    const head = await get(agent, server.port, '/', { method: 'HEAD' });
    t.equal(head.headers['content-length'], '11');
    t.equal(head.body.length, 0, 'HEAD: headers only');
    agent.destroy();
    await server.close();
    reactor.close();
    fds.assertNone(t);
  });
}

t.test('pipelining: 16 requests in one write, 16 responses in order, late answers included', async (t) => {
  const fds = trackFds();
  const reactor = new Reactor();
  const server = createHttpServer(reactor, routes);
  const requests = Array.from({ length: 16 }, (_, index) => (index % 5 === 3 ? `GET /late?${index} HTTP/1.1\r\nHost: a\r\n\r\n` : `GET /?${index} HTTP/1.1\r\nHost: a\r\n\r\n`)).join('');
  const text = await raw(server.port, `${requests}GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n`);
  const bodies = text.split('HTTP/1.1 200 OK').slice(1).map((response) => response.slice(response.indexOf('\r\n\r\n') + 4));
  t.equal(bodies.length, 17);
  const lateIndexes = [3, 8, 13];
  lateIndexes.forEach((index) => t.equal(bodies[index], `late /late?${index}`, `late answer ${index} in its place`));
  t.ok(text.includes('Connection: close'), 'the last response says it closes');
  await server.close();
  reactor.close();
  fds.assertNone(t);
});

t.test('headers and body of a small response leave in one write (copied together into the staging chunk)', async (t) => {
  const fds = trackFds();
  const reactor = new Reactor({ mode: 'et' });
  const server = createHttpServer(reactor, routes);
  const socket = net.connect(server.port, '127.0.0.1');
  socket.setEncoding('latin1');
  let text = '';
  socket.on('data', (part: string) => (text += part));
  const before = reactor.stats.syscalls;
  for (let request = 1; request <= 20; request += 1) {
    socket.write('GET / HTTP/1.1\r\nHost: a\r\n\r\n');
    await until(() => text.split('hello world').length - 1 >= request, `response ${request}`);
  }
  const after = reactor.stats.syscalls;
  t.equal(text.split('hello world').length - 1, 20, '20 responses');
  t.equal(after.write - before.write, 20, 'one write per response');
  t.equal(after.writev - before.writev, 0, 'and no writev');
  t.equal(after.read - before.read, 20, 'one read per request (ET stops at the short read)');
  socket.destroy();
  await closed(socket);
  await server.close();
  reactor.close();
  fds.assertNone(t);
});

t.test('server.close() answers every request already received, pipelined ones included, then closes', async (t) => {
  const fds = trackFds();
  const reactor = new Reactor();
  const server = createHttpServer(reactor, routes);
  const socket = net.connect(server.port, '127.0.0.1');
  socket.setEncoding('latin1');
  let text = '';
  socket.on('data', (part: string) => (text += part));
  const ended = new Promise<void>((resolve) => socket.on('close', () => resolve()));
  // A slow first answer holds four pipelined requests in the parser.
  const pipelined = `GET /late?0 HTTP/1.1\r\nHost: a\r\n\r\n${Array.from({ length: 4 }, (_, index) => `GET /?${index + 1} HTTP/1.1\r\nHost: a\r\n\r\n`).join('')}`;
  socket.write(pipelined);
  await until(() => reactor.stats.bytesIn === pipelined.length, 'the server to read all five requests');
  await server.close(2000);
  await ended;
  t.equal(text.split('HTTP/1.1 200 OK').length - 1, 5, 'all five answered');
  t.match(text, /late \/late\?0/);
  t.equal(reactor.stats.handlerErrors, 0, 'no write after end');
  reactor.close();
  fds.assertNone(t);
});

t.test('a handler that throws closes only its connection; the server keeps serving', async (t) => {
  const fds = trackFds();
  const reactor = new Reactor();
  const reported: Array<[string, string]> = [];
  const server = createHttpServer(
    reactor,
    (request, response) => {
      if (request.path === '/boom') throw new Error('handler failed');
      routes(request, response);
    },
    { onError: (error, request) => void reported.push([(error as Error).message, request.target]) },
  );
  const failed = await raw(server.port, 'GET /boom?x HTTP/1.1\r\nHost: a\r\n\r\n');
  t.match(failed, /^HTTP\/1\.1 500 Internal Server Error\r\n[^]*Connection: close\r\n/, 'a 500, then the connection was closed (raw() returns at the close)');
  t.equal(reactor.stats.handlerErrors, 1, 'counted');
  t.same(reported, [['handler failed', '/boom?x']], 'onError got the error and its request');
  t.throws(() => createHttpServer(reactor, routes, { onError: 'no' as unknown as () => void }), { code: 'ERR_INVALID_ARG_TYPE' });
  const fine = await raw(server.port, 'GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n');
  t.match(fine, /hello world$/, 'the next connection is served');
  await server.close();
  reactor.close();
  fds.assertNone(t);
});

t.test('HTTP/1.0: closed after the response unless keep-alive; a streamed body ends with the close', async (t) => {
  const fds = trackFds();
  const reactor = new Reactor();
  const server = createHttpServer(reactor, routes);
  const plain = await raw(server.port, 'GET / HTTP/1.0\r\n\r\n');
  t.match(plain, /^HTTP\/1\.0 200 OK\r\n/);
  t.match(plain, /Connection: close/);
  t.match(plain, /hello world$/);
  const kept = await raw(server.port, 'GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\nGET /json HTTP/1.0\r\n\r\n');
  t.equal(kept.split('HTTP/1.0 200 OK').length - 1, 2, 'two responses on one connection');
  t.match(kept, /Connection: keep-alive/);
  const streamed = await raw(server.port, 'GET /late-stream HTTP/1.0\r\n\r\n');
  t.match(streamed, /\r\n\r\npart one, part two$/, 'close-delimited body');
  t.notMatch(streamed, /Transfer-Encoding/);
  const chunked = await raw(server.port, 'GET /late-stream HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n');
  t.match(chunked, /Transfer-Encoding: chunked\r\n/);
  t.match(chunked, /\r\na\r\npart one, \r\n8\r\npart two\r\n0\r\n\r\n$/, 'chunked framing');
  await server.close();
  reactor.close();
  fds.assertNone(t);
});

t.test('malformed input: the status, then close; later pipelined bytes are ignored', async (t) => {
  const fds = trackFds();
  const reactor = new Reactor();
  const server = createHttpServer(reactor, routes, { headersCountMax: 10, bodySizeMax: 1024 });
  const bad = await raw(server.port, 'GET / HTTP/1.1\r\nHost: a\r\nBad Header: x\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n');
  t.match(bad, /^HTTP\/1\.1 400 Bad Request\r\n/);
  t.equal(bad.split('HTTP/1.1').length - 1, 1, 'one response only');
  const afterGood = await raw(server.port, 'GET / HTTP/1.1\r\nHost: a\r\n\r\nGET / HTTP/1.1\nHost: a\r\n\r\n');
  t.match(afterGood, /^HTTP\/1\.1 200 OK[\s\S]*HTTP\/1\.1 400 Bad Request/, 'a good request answered, then the bad one rejected');
  const big = await raw(server.port, 'POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 5000\r\n\r\n');
  t.match(big, /^HTTP\/1\.1 413 Payload Too Large/);
  const many = await raw(server.port, `GET / HTTP/1.1\r\nHost: a\r\n${'X: y\r\n'.repeat(20)}\r\n`);
  t.match(many, /^HTTP\/1\.1 431 /);
  await server.close();
  reactor.close();
  fds.assertNone(t);
});

t.test('response API misuse throws with a code; a client gone before the answer is harmless', async (t) => {
  const fds = trackFds();
  const reactor = new Reactor();
  const outcomes: string[] = [];
  const pending: { answerGone: (() => void) | null } = { answerGone: null };
  const server = createHttpServer(reactor, (request, response) => {
    if (request.path === '/misuse') {
      outcomes.push(`sent before end: ${response.sent}`);
      for (const attempt of [() => response.setHeader('Bad Name', 'x'), () => response.setHeader('X', 'a\r\nInjected: yes'), () => response.writeHead(42)]) {
        try {
          attempt();
        } catch (error) {
          outcomes.push((error as { code: string }).code);
        }
      }
      response.end('ok');
      outcomes.push(`sent after end: ${response.sent}`);
      response.sendFile(0, 0, 1).catch((error: { code: string }) => outcomes.push(`sendFile after end: ${error.code}`));
      try {
        response.end('again');
      } catch (error) {
        outcomes.push((error as { code: string }).code);
      }
      try {
        response.write('more');
      } catch (error) {
        outcomes.push((error as { code: string }).code);
      }
      return;
    }
    // /gone: answered by the test, once the server has seen the client leave.
    pending.answerGone = () => {
      response.write('x');
      response.end('y');
      outcomes.push(`gone answered, open ${response.connection.isOpen}`);
    };
  });
  await raw(server.port, 'GET /misuse HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n');
  const socket = net.connect(server.port, '127.0.0.1', () => socket.end('GET /gone HTTP/1.1\r\nHost: a\r\n\r\n'));
  socket.on('error', () => {});
  socket.destroy = socket.destroy.bind(socket);
  await until(() => pending.answerGone !== null, 'the /gone request at its handler');
  socket.destroy();
  await closed(socket);
  await until(() => reactor.stats.connectionsOpen === 0, 'the server to close the connection of the client gone');
  pending.answerGone!();
  t.same(outcomes, [
    'sent before end: false',
    'ERR_INVALID_ARG_VALUE',
    'ERR_INVALID_ARG_VALUE',
    'ERR_OUT_OF_RANGE',
    'sent after end: true',
    'ERR_ZEPOLL_HTTP_RESPONSE',
    'ERR_ZEPOLL_HTTP_RESPONSE',
    'sendFile after end: ERR_ZEPOLL_HTTP_RESPONSE',
    'gone answered, open false',
  ]);
  await server.close();
  reactor.close();
  fds.assertNone(t);
});

t.test('headers timeout: a head still arriving after headersTimeoutMs gets 408 and a close; bytes alone do not keep it open', async (t) => {
  const fds = trackFds();
  const reactor = new Reactor();
  const timeoutMs = 150;
  const server = createHttpServer(reactor, routes, { headersTimeoutMs: timeoutMs });
  const socket = net.connect(server.port, '127.0.0.1');
  let text = '';
  socket.setEncoding('latin1').on('data', (part: string) => (text += part));
  const ended = new Promise<number>((resolve) => socket.on('close', () => resolve(performance.now())));
  await new Promise((resolve) => socket.once('connect', resolve));
  // A whole request first: the clock starts only when a head begins.
  socket.write('GET / HTTP/1.1\r\nHost: a\r\n\r\n');
  await until(() => text.endsWith('hello world'), 'the response to the whole request');
  // Time is what is tested: an idle connection outlives twice the headers timeout.
  await sleep(timeoutMs * 2);
  t.match(text, /^HTTP\/1\.1 200 OK/, 'an idle keep-alive connection between requests is not timed out');
  t.notMatch(text, /408/, 'no 408 between requests');
  t.notOk(socket.destroyed, 'and still open');
  const started = performance.now();
  const trickle = 'GET / HTTP/1.1\r\nHost: a\r\nX-Slow: 1234567890\r\n';
  let index = 0;
  const timer = setInterval(() => {
    if (index < trickle.length && !socket.destroyed) socket.write(trickle[index++]!);
  }, 20); // a byte every 20 ms: never idle, never complete
  const closedAt = await ended;
  clearInterval(timer);
  t.match(text, /HTTP\/1\.1 408 Request Timeout\r\n[^]*Connection: close/, '408, then close');
  t.ok(closedAt - started >= timeoutMs, `closed after ${Math.round(closedAt - started)} ms, not before the timeout`);
  t.ok(closedAt - started < timeoutMs * 10, 'and not long after it');
  t.throws(() => createHttpServer(reactor, routes, { headersTimeoutMs: -1 }), { code: 'ERR_OUT_OF_RANGE', message: /headersTimeoutMs/ });
  t.throws(() => createHttpServer(reactor, routes, { headersTimeoutMs: 1.5 }), { code: 'ERR_OUT_OF_RANGE' });
  await server.close();
  reactor.close();
  fds.assertNone(t);
});

t.test('headers timeout 0: never; a response under way is not cut by the head clock', async (t) => {
  const fds = trackFds();
  const reactor = new Reactor();
  const server = createHttpServer(reactor, routes, { headersTimeoutMs: 0 });
  const partial = raw(server.port, 'GET / HTTP/1.1\r\nHost: a\r\n', 300);
  t.equal(await partial, '', 'no answer and no close from the server within 300 ms');
  await server.close(100);
  const timeoutMs = 60;
  const timed = createHttpServer(reactor, routes, { headersTimeoutMs: timeoutMs });
  // A late response (4x the timeout) holds the start of the next head: that
  // time is the server's. The clock starts when the parser gets the head
  // back, from the real time, not from the last turn's (which is as old as
  // the late response).
  const socket = net.connect(timed.port, '127.0.0.1');
  let text = '';
  socket.setEncoding('latin1').on('data', (part: string) => (text += part));
  await new Promise((resolve) => socket.once('connect', resolve));
  socket.write(`GET /delay HTTP/1.1\r\nHost: a\r\nX-Delay: ${timeoutMs * 4}\r\n\r\nGET / HTTP/1.1\r\nHo`);
  await until(() => text.includes('delayed'), 'the late response');
  socket.write('st: a\r\n\r\n');
  await until(() => text.endsWith('hello world') || socket.destroyed, 'the second response or a close');
  t.equal(text.match(/HTTP\/1\.1 200 OK/g)?.length, 2, 'both answered');
  t.notMatch(text, /408/, 'no 408 for the head that waited behind the late response');
  socket.destroy();
  await timed.close();
  reactor.close();
  fds.assertNone(t);
});

t.test('a server closing while a head trickles in: the headers clock stops, nothing throws, the close timeout ends it', async (t) => {
  const fds = trackFds();
  const reactor = new Reactor();
  const server = createHttpServer(reactor, routes, { headersTimeoutMs: 40 });
  const socket = net.connect({ port: server.port, host: '127.0.0.1', allowHalfOpen: true }); // ignores the server's FIN
  socket.on('error', () => {});
  let text = '';
  socket.setEncoding('latin1').on('data', (part: string) => (text += part));
  await new Promise((resolve) => socket.once('connect', resolve));
  const head = 'GET / HTTP/1.1\r\nHo';
  socket.write(head);
  await until(() => reactor.stats.bytesIn === head.length, 'the server to read the start of the head');
  const uncaught = await captureUncaught(async () => {
    const closing = server.close(300);
    socket.write('s'); // after the FIN: ignored
    // Time is what is tested: the headers timeout (40 ms) passes during the close, and must not act.
    await sleep(150); // past the headers timeout, inside the close timeout
    await closing;
  });
  t.same(uncaught, [], 'no write-after-end from the headers timeout');
  t.equal(reactor.stats.handlerErrors, 0);
  t.notMatch(text, /408/, 'the close, not the headers timeout, ends it');
  socket.destroy();
  reactor.close();
  await fds.assertNoneSettled(t);
});

t.test('a response answered later stops reading: a client cannot pile bytes up behind it', async (t) => {
  const fds = trackFds();
  const reactor = new Reactor();
  const HOLD_MS = 300;
  let readWhileWaiting = -1;
  const server = createHttpServer(reactor, (request, response) => {
    if (request.path !== '/hold') return routes(request, response);
    const before = reactor.stats.bytesIn;
    // The response is late by design: for HOLD_MS the flood is offered to a
    // server that must not read it. Counted at end(), the last moment it is pending.
    setTimeout(() => {
      readWhileWaiting = reactor.stats.bytesIn - before;
      response.end('delayed');
    }, HOLD_MS);
  });
  const socket = net.connect(server.port, '127.0.0.1');
  socket.on('error', () => {});
  let text = '';
  socket.setEncoding('latin1').on('data', (part: string) => (text += part));
  await new Promise((resolve) => socket.once('connect', resolve));
  const hold = 'GET /hold HTTP/1.1\r\nHost: a\r\n\r\n';
  socket.write(hold);
  await until(() => reactor.stats.bytesIn === hold.length, 'the server to read the held request');
  const flood = Buffer.from('GET / HTTP/1.1\r\nHost: a\r\n\r\n'.repeat(16 * 1024)); // 512 KiB of pipelined requests
  for (let index = 0; index < 16; index += 1) socket.write(flood); // 8 MiB offered
  await until(() => readWhileWaiting >= 0, 'the late response');
  t.ok(readWhileWaiting < 1024 * 1024, `${readWhileWaiting} bytes read while the response was pending, of 8 MiB offered`);
  await until(() => text.includes('delayed'), 'the late response at the client');
  // Then reading resumes and the pipelined requests are answered in order.
  await until(() => (text.match(/hello world/g)?.length ?? 0) >= 100, '100 pipelined responses');
  t.pass('reading resumed after the late response');
  socket.destroy();
  await server.close();
  reactor.close();
  await fds.assertNoneSettled(t);
});

t.test('keep-alive connections between requests hold no pool chunk: a pool of 4 serves 20 of them', async (t) => {
  const fds = trackFds();
  const reactor = new Reactor({ pool: { chunksPerSlab: 4, maxChunks: 4 } });
  const server = createHttpServer(reactor, routes);
  const sockets = await Promise.all(Array.from({ length: 20 }, () => new Promise<net.Socket>((resolve) => {
    const socket = net.connect(server.port, '127.0.0.1', () => resolve(socket));
  })));
  const ask = (socket: net.Socket): Promise<string> => new Promise((resolve) => {
    let text = '';
    const onData = (part: Buffer): void => {
      text += part.toString('latin1');
      if (!text.endsWith('hello world')) return;
      socket.off('data', onData);
      resolve(text);
    };
    socket.on('data', onData);
    socket.write('GET / HTTP/1.1\r\nHost: a\r\n\r\n');
  });
  for (const socket of sockets) await ask(socket); // one by one: each stays open, idle
  // With io_uring the buffer ring holds chunks for receives to come (the same few whatever the connections): not the connections'.
  t.equal(reactor.stats.pool.inUse - (reactor.stats.ring?.buffers ?? 0), 0, 'no chunk held by the 20 idle keep-alive connections');
  const again = await Promise.all(sockets.map(ask));
  t.equal(again.length, 20, 'all 20 answered again, at once');
  for (const socket of sockets) socket.destroy();
  await server.close();
  reactor.close();
  await fds.assertNoneSettled(t);
});

t.test('response heads: headers unique per response come out right past the cache; a bad statusCode throws before the wire', async (t) => {
  const fds = trackFds();
  const reactor = new Reactor();
  const failures: unknown[] = [];
  const server = createHttpServer(reactor, (request, response) => {
    try {
      routes(request, response);
    } catch (error) {
      failures.push(error);
      response.statusCode = 500;
      response.end();
    }
  });
  const requests = Array.from({ length: 20 }, (_, index) => `GET /unique?${index} HTTP/1.1\r\nHost: a\r\n\r\n`).join('');
  const text = await raw(server.port, `${requests}GET /unique?bad HTTP/1.1\r\nHost: a\r\nX-Status: 1200\r\nConnection: close\r\n\r\n`);
  const ids = [...text.matchAll(/X-Id: (\S+)\r\n\r\n(\/unique\?\S+?)(?=HTTP|$)/g)].map((match) => [match[1], match[2]]);
  t.equal(ids.length, 20, '20 responses');
  t.ok(ids.every(([id, body], index) => id === String(index) && body === `/unique?${index}`), 'each head carries its own X-Id, with its own body');
  t.match(text, /HTTP\/1\.1 500 Internal Server Error/, 'statusCode 1200: the handler saw a throw and answered 500');
  t.match(failures[0], { name: 'RangeError', code: 'ERR_OUT_OF_RANGE', message: /"statusCode" is out of range[^]*Received 1200/ });
  await server.close();
  reactor.close();
  fds.assertNone(t);
});

t.test('request timeout: a body trickling in past requestTimeoutMs gets 408 and a close; a prompt one is served', async (t) => {
  const fds = trackFds();
  const reactor = new Reactor();
  const timeoutMs = 150;
  const server = createHttpServer(reactor, routes, { requestTimeoutMs: timeoutMs, headersTimeoutMs: 0 });
  const prompt = await raw(server.port, 'POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello');
  t.match(prompt, /200 OK[^]*hello$/, 'a body sent at once is answered');
  const socket = net.connect(server.port, '127.0.0.1');
  socket.on('error', () => {});
  let text = '';
  socket.setEncoding('latin1').on('data', (part: string) => (text += part));
  const closedAt = new Promise<number>((resolve) => socket.on('close', () => resolve(performance.now())));
  await new Promise((resolve) => socket.once('connect', resolve));
  const started = performance.now();
  socket.write('POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 1000\r\n\r\n');
  const timer = setInterval(() => socket.destroyed || socket.write('b'), 20); // a byte every 20 ms: never idle
  const ended = await closedAt;
  clearInterval(timer);
  t.match(text, /^HTTP\/1\.1 408 Request Timeout[^]*request not complete within 150 ms/, '408 naming the request timeout');
  t.ok(ended - started >= timeoutMs && ended - started < timeoutMs * 10, `closed after ${Math.round(ended - started)} ms`);
  t.throws(() => createHttpServer(reactor, routes, { requestTimeoutMs: 2 ** 31 }), { code: 'ERR_OUT_OF_RANGE', message: /requestTimeoutMs/ });
  await server.close();
  reactor.close();
  await fds.assertNoneSettled(t);
});

t.test('a pipelined handler that throws when a late answer frees it: only its connection goes, end() of the late one returns', async (t) => {
  const fds = trackFds();
  const reactor = new Reactor();
  let late: HttpResponse | null = null;
  const reported: string[] = [];
  const server = createHttpServer(
    reactor,
    (request, response) => {
      if (request.path === '/hold') late = response;
      else throw new Error(`failed on ${request.path}`);
    },
    { onError: (error) => void reported.push((error as Error).message) },
  );
  const socket = net.connect(server.port, '127.0.0.1');
  socket.on('error', () => {});
  let text = '';
  socket.setEncoding('latin1').on('data', (part: string) => (text += part));
  const gone = new Promise((resolve) => socket.on('close', resolve));
  socket.write('GET /hold HTTP/1.1\r\nHost: a\r\n\r\nGET /throws HTTP/1.1\r\nHost: a\r\n\r\n');
  await until(() => late !== null, 'the held request at its handler');
  const errorsBefore = reactor.stats.handlerErrors;
  t.doesNotThrow(() => (late as HttpResponse | null)!.end('held'), 'the late end() does not throw the next handler\'s error');
  await gone;
  t.match(text, /^HTTP\/1\.1 200 OK[^]*held(HTTP\/1\.1 500 Internal Server Error\r\n[^]*)$/, 'the held response went out, the failed one got a 500, then the connection closed');
  t.same(reported, ['failed on /throws'], 'onError saw the pipelined request\'s error');
  t.equal(reactor.stats.handlerErrors - errorsBefore, 1, 'counted');
  await server.close();
  reactor.close();
  await fds.assertNoneSettled(t);
});

t.test('pipelined requests cut across reads: the request clock restarts for each, so a steady client is never timed out', async (t) => {
  const fds = trackFds();
  const reactor = new Reactor();
  // Each head's span is a quarter of the timeout (a busy machine stretched a 70 ms sleep past 120 ms once);
  // five spans make the run longer than the timeout.
  const timeoutMs = 600;
  const headSpanMs = timeoutMs / 4;
  const server = createHttpServer(reactor, routes, { headersTimeoutMs: timeoutMs });
  const socket = net.connect(server.port, '127.0.0.1');
  let text = '';
  socket.setEncoding('latin1').on('data', (part: string) => (text += part));
  await new Promise((resolve) => socket.once('connect', resolve));
  // Each write ends one head and starts the next; each head takes ~150 ms, the whole run ~750 ms.
  // Time is what is tested: the sleeps make each head shorter than the timeout and the run longer.
  socket.write('GET / HTTP/1.1\r\nHost: a\r\n\r\nGET / HTTP/1.1\r\nHo');
  for (let step = 0; step < 4; step += 1) {
    await sleep(headSpanMs); // time: one head's span, under the timeout
    socket.write('st: a\r\n\r\nGET / HTTP/1.1\r\nHo');
  }
  await sleep(headSpanMs); // time: the last head's span; the run now exceeds the timeout
  socket.write('st: a\r\n\r\n');
  await until(() => (text.match(/hello world/g)?.length ?? 0) >= 6 || socket.destroyed, 'all 6 responses or a close');
  t.equal(text.match(/hello world/g)?.length, 6, 'all 6 answered');
  t.notMatch(text, /408/, 'no 408');
  socket.destroy();
  await server.close();
  reactor.close();
  await fds.assertNoneSettled(t);
});

t.test('Connection: close answered later: the peer\'s FIN is still read, so the connection closes', async (t) => {
  const fds = trackFds();
  const reactor = new Reactor({ readQuota: 1024 });
  // allowHalfOpen: the client's FIN does not abort the pending answer (the default does, as Node's http).
  const server = createHttpServer(reactor, routes, { allowHalfOpen: true });
  const socket = net.connect({ port: server.port, host: '127.0.0.1', allowHalfOpen: true });
  socket.on('error', () => {});
  let text = '';
  socket.setEncoding('latin1').on('data', (part: string) => (text += part));
  const gone = new Promise((resolve) => socket.on('close', resolve));
  await new Promise((resolve) => socket.once('connect', resolve));
  const request = 'GET /delay HTTP/1.1\r\nHost: a\r\nX-Delay: 50\r\nConnection: close\r\n\r\n';
  socket.write(request);
  await until(() => reactor.stats.bytesIn === request.length, 'the server to read the request and pause');
  socket.end(Buffer.alloc(64 * 1024, 0x61)); // more than a few read quotas after the pause, then FIN
  await gone;
  t.match(text, /delayed$/, 'answered');
  await until(() => reactor.stats.connectionsOpen === 0, 'the server to close the connection');
  t.equal(reactor.stats.connectionsOpen, 0, 'closed on the server too');
  await server.close();
  reactor.close();
  await fds.assertNoneSettled(t);
});
