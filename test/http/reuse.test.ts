/**
 * The reuse rule (request.ts, docs/http.md): a handler that returns without
 * a promise, its response complete, gets request and response objects the
 * server writes the connection's next request into; `retain()` is its copy
 * that never changes. A handler that returns a promise, answers later,
 * streams the body or asks for `signal` gets objects that never change.
 * Also: the parser, given a pool chunk and a length, never reads past it.
 */
import t from 'tap';
import { Reactor } from '../../packages/reactor/src/reactor.js';
import { createHttpServer } from '../../packages/reactor/src/http/server.js';
import type { HttpRequest } from '../../packages/reactor/src/http/request.js';
import type { HttpResponse } from '../../packages/reactor/src/http/response.js';
import { RequestParser } from '../../packages/reactor/src/http/parser.js';
import { trackFds } from '../helpers/fds.js';
import { exchange } from '../helpers/http-exchange.js';

/** Three pipelined requests with 3, 1 and 5 fields; the last closes the connection. */
const PIPELINED =
  'GET /a?x=1 HTTP/1.1\r\nHost: h\r\nX-One: 1\r\nX-Two: 2\r\n\r\n' +
  'POST /b HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n\r\nabc' +
  'GET /c HTTP/1.1\r\nHost: h\r\nA: 1\r\nB: 2\r\nC: 3\r\nConnection: close\r\n\r\n';

interface Seen {
  readonly request: HttpRequest;
  readonly response: HttpResponse;
  readonly target: string;
  readonly headers: string[];
}

async function serve(handler: (request: HttpRequest, response: HttpResponse, seen: Seen[]) => unknown, payload = PIPELINED): Promise<{ seen: Seen[]; text: string }> {
  const reactor = new Reactor();
  const seen: Seen[] = [];
  const server = createHttpServer(reactor, (request, response) => {
    seen.push({ request, response, target: request.target, headers: request.headers.slice() });
    return handler(request, response, seen) as void;
  });
  const text = await exchange(server.port, payload);
  await server.close();
  reactor.close();
  return { seen, text };
}

t.test('a synchronous handler that ends its response gets the same objects for the next request, each filled right', async (t) => {
  const fds = trackFds();
  const { seen, text } = await serve((request, response) => response.end(`${request.method} ${request.target} ${request.headers.length / 2} ${Buffer.from(request.body).toString()}`));
  t.equal(seen.length, 3);
  t.equal(seen[1]!.request, seen[0]!.request, 'the request object was reused');
  t.equal(seen[2]!.response, seen[0]!.response, 'the response object was reused');
  t.same(seen.map((one) => one.target), ['/a?x=1', '/b', '/c']);
  t.same(seen[0]!.headers, ['host', 'h', 'x-one', '1', 'x-two', '2']);
  t.same(seen[1]!.headers, ['host', 'h', 'content-length', '3'], 'a shorter header list leaves no field of the longer one');
  t.same(seen[2]!.headers, ['host', 'h', 'a', '1', 'b', '2', 'c', '3', 'connection', 'close']);
  t.match(text, /GET \/a\?x=1 3 [\s\S]*POST \/b 2 abc[\s\S]*GET \/c 5 /);
  t.equal(seen[2]!.request.target, '/c', 'the shared object now holds the last request');
  await fds.assertNoneSettled(t);
});

t.test('retain() is a copy that does not change when the next request reuses the original', async (t) => {
  const fds = trackFds();
  const kept: HttpRequest[] = [];
  const { seen } = await serve((request, response) => {
    kept.push(request.retain());
    response.end('ok');
  });
  t.equal(seen[0]!.request, seen[1]!.request, 'the original was reused');
  t.same(kept.map((request) => [request.method, request.target, request.path, request.query.get('x'), request.headers.length]), [
    ['GET', '/a?x=1', '/a', '1', 6],
    ['POST', '/b', '/b', null, 4],
    ['GET', '/c', '/c', null, 10],
  ]);
  t.equal(Buffer.from(kept[1]!.body).toString(), 'abc', 'the retained body stays');
  t.equal(await kept[1]!.text(), 'abc');
  t.equal(kept[0]!.header('X-Two'), '2');
  await fds.assertNoneSettled(t);
});

t.test('an async handler gets fresh objects: a request kept across awaits never changes', async (t) => {
  const fds = trackFds();
  const { seen, text } = await serve(async (request, response) => {
    await new Promise((resolve) => setImmediate(resolve));
    response.end(`${request.target} ${request.headers.length / 2}`);
  });
  t.not(seen[0]!.request, seen[1]!.request);
  t.not(seen[1]!.response, seen[2]!.response);
  t.same(seen.map((one) => [one.request.target, one.request.headers.length]), [['/a?x=1', 6], ['/b', 4], ['/c', 10]], 'each kept request still says what it said');
  t.match(text, /\/a\?x=1 3[\s\S]*\/b 2[\s\S]*\/c 5/);
  await fds.assertNoneSettled(t);
});

t.test('a response completed later (a timer), a request whose signal was asked for: never reused', async (t) => {
  const fds = trackFds();
  const later = await serve((request, response) => void setTimeout(() => response.end(request.target), 1));
  t.not(later.seen[0]!.request, later.seen[1]!.request, 'answered after the handler returned: fresh objects');
  t.same(later.seen.map((one) => one.request.target), ['/a?x=1', '/b', '/c']);
  t.match(later.text, /\/a\?x=1[\s\S]*\/b[\s\S]*\/c/);
  const signals: AbortSignal[] = [];
  const asked = await serve((request, response) => {
    signals.push(request.signal);
    response.end('ok');
  });
  t.not(asked.seen[0]!.request, asked.seen[1]!.request, 'a request with a signal is never reused');
  t.equal(new Set(signals).size, 3);
  t.ok(signals.every((signal) => !signal.aborted), 'completed responses abort nothing');
  await fds.assertNoneSettled(t);
});

t.test('a synchronous handler that throws after end(): the objects are not reused, the error is reported', async (t) => {
  const fds = trackFds();
  const reactor = new Reactor();
  const errors: string[] = [];
  const requests: HttpRequest[] = [];
  const server = createHttpServer(
    reactor,
    (request, response) => {
      requests.push(request);
      response.end('ok');
      if (request.target === '/b') throw new Error('after end');
    },
    { onError: (error) => void errors.push(error.message) },
  );
  const text = await exchange(server.port, PIPELINED);
  t.same(errors, ['after end']);
  t.equal((text.match(/HTTP\/1\.1 200/g) ?? []).length, 3, 'the complete response stood; the next request was answered');
  t.equal(requests[1]!.target, '/b', 'the request whose handler threw was not written over');
  await server.close();
  reactor.close();
  await fds.assertNoneSettled(t);
});

t.test('the parser, given a chunk and a length, never reads past the length', async (t) => {
  const requests: string[] = [];
  const parser = new RequestParser({ onRequest: (request) => void requests.push(`${request.method} ${request.target} ${request.headers.join(',')}`) });
  const chunk = Buffer.alloc(256, 'Z');
  const head = 'GET /one HTTP/1.1\r\nHost: a\r\n';
  chunk.write(`${head}\r\nGET /two HT\nTP/1.1\r\n\r\n`, 'latin1'); // stale bytes after the length, with a bare LF
  const length = head.length + 2 + 'GET /two HT'.length;
  parser.execute(chunk, length);
  t.same(requests, ['GET /one host,a'], 'the first request, and nothing from the stale bytes');
  parser.execute(Buffer.from('TP/1.1\r\nHost: b\r\n\r\n'));
  t.same(requests, ['GET /one host,a', 'GET /two host,b'], 'the line split at the length is joined with the next read');
  t.throws(() => new RequestParser({ onRequest: () => {} }).execute(Buffer.from('GET / HTTP/1.1\nHost: a\r\n\r\n'), 16), { name: 'HttpParseError', code: 'ERR_ZEPOLL_HTTP_PARSE', status: 400 }, 'a bare LF inside the length is still refused');
});

t.test('a poisoned pool: the HTTP layer reads through onData views (no chunk-and-length path) and answers the same', async (t) => {
  const fds = trackFds();
  const reactor = new Reactor({ pool: { poison: true } });
  const server = createHttpServer(reactor, (request, response) => response.end(`${request.method} ${request.target}`));
  const text = await exchange(server.port, PIPELINED);
  t.match(text, /GET \/a\?x=1[\s\S]*POST \/b[\s\S]*GET \/c/);
  t.equal((text.match(/HTTP\/1\.1 200/g) ?? []).length, 3);
  await server.close();
  reactor.close();
  await fds.assertNoneSettled(t);
});

t.test('a response given an onClose or onDrain callback is never reused: a late callback finds its own response', async (t) => {
  const fds = trackFds();
  const reactor = new Reactor();
  const responses: HttpResponse[] = [];
  const closes: boolean[] = [];
  const errors: string[] = [];
  const server = createHttpServer(
    reactor,
    (request, response) => {
      responses.push(response);
      response.end('ok');
      // Given after the close: it runs in a microtask, after the next pipelined request was parsed.
      response.onClose((aborted) => void closes.push(aborted));
      if (request.target === '/b') response.onDrain(() => {});
    },
    { onError: (error) => void errors.push(error.message) },
  );
  const text = await exchange(server.port, PIPELINED);
  t.equal((text.match(/HTTP\/1\.1 200/g) ?? []).length, 3);
  t.equal(new Set(responses).size, 3, 'three response objects');
  t.same(closes, [false, false, false], 'every onClose saw its own complete response');
  t.same(errors, []);
  await server.close();
  reactor.close();
  await fds.assertNoneSettled(t);
});

