/**
 * The HTTP side of issue 11: async handlers (a rejection answers 500 or
 * destroys a connection whose head is out, reaches onError, is counted), a
 * client that leaves mid-request (signal, onClose, the connection set and
 * close() in every mode, FIN and reset), valid responses (case-insensitive
 * headers, the layer's framing headers, only strings and bytes as bodies,
 * json, query), and streamed request bodies with backpressure.
 */
import t from 'tap';
import net from 'node:net';
import { randomBytes } from 'node:crypto';
import { Reactor, type Mode } from '../../packages/reactor/src/reactor.js';
import { createHttpServer } from '../../packages/reactor/src/http/server.js';
import type { HttpRequest } from '../../packages/reactor/src/http/request.js';
import type { HttpResponse } from '../../packages/reactor/src/http/response.js';
import { trackFds } from '../helpers/fds.js';
import { captureUncaught } from '../helpers/uncaught.js';
import { sha256 } from '../helpers/net-client.js';
import { until } from '../helpers/wait.js';
import { exchange } from '../helpers/http-exchange.js';



const GET = (path: string): string => `GET ${path} HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n`;

t.test('async handlers: a rejection gets a 500 before the head, a destroyed connection after it; onError and stats see both', async (t) => {
  const fds = trackFds();
  const reactor = new Reactor();
  const reported: string[] = [];
  const server = createHttpServer(
    reactor,
    async (request, response) => {
      await new Promise((resolve) => setImmediate(resolve));
      if (request.path === '/early') throw new Error('before the head');
      if (request.path === '/late') {
        response.write('partial');
        throw new Error('after the head');
      }
      response.end('fine');
    },
    { onError: (error, request) => void reported.push(`${request.path}: ${error.message}`) },
  );
  const caught = await captureUncaught(async () => {
    t.match(await exchange(server.port, GET('/early')), /^HTTP\/1\.1 500 Internal Server Error\r\n[^]*Connection: close\r\n/, '500 when nothing was sent');
    const late = await exchange(server.port, GET('/late'));
    t.match(late, /^HTTP\/1\.1 200 OK\r\n[^]*Transfer-Encoding: chunked[^]*partial\r\n$/, 'the head and a chunk, then the close: no last chunk, so the client sees a cut body');
    t.match(await exchange(server.port, GET('/ok')), /fine$/, 'the next request is served');
  });
  t.same(caught, [], 'no unhandled rejection or exception reached the process');
  t.same(reported, ['/early: before the head', '/late: after the head']);
  t.equal(reactor.stats.handlerErrors, 2);
  await server.close();
  reactor.close();
  await fds.assertNoneSettled(t);
});

t.test('async handler without onError: the reactor onError gets it, the request does not hang', async (t) => {
  const fds = trackFds();
  const seen: string[] = [];
  const reactor = new Reactor({ onError: (error) => void seen.push(error.message) });
  const server = createHttpServer(reactor, async () => {
    throw new Error('nobody listens');
  });
  t.match(await exchange(server.port, GET('/')), /^HTTP\/1\.1 500 /);
  t.same(seen, ['nobody listens']);
  t.equal(reactor.stats.handlerErrors, 1);
  await server.close();
  reactor.close();
  await fds.assertNoneSettled(t);
});

for (const mode of ['lt', 'et', 'oneshot'] as Mode[]) {
  for (const how of ['FIN', 'reset'] as const) {
    t.test(`${mode}: a client that leaves (${how}) mid-request aborts the signal, closes the response and leaves the server's set`, async (t) => {
      const fds = trackFds();
      const reactor = new Reactor({ mode });
      let aborted: unknown = null;
      let closedWith: boolean | null = null;
      let started = false;
      const server = createHttpServer(reactor, (request, response) => {
        started = true;
        request.signal.addEventListener('abort', () => (aborted = request.signal.reason));
        response.onClose((wasAborted) => (closedWith = wasAborted));
        // Never answered: only the client's leaving ends this request.
      });
      const socket = net.connect(server.port, '127.0.0.1', () => socket.write('GET /slow HTTP/1.1\r\nHost: a\r\n\r\n'));
      socket.on('error', () => {});
      await until(() => started, 'the handler');
      if (how === 'FIN') socket.end();
      else socket.resetAndDestroy();
      await until(() => aborted !== null && closedWith !== null, 'the abort');
      t.match(aborted, { code: 'ERR_ZEPOLL_ABORTED' }, 'signal aborted with a coded reason');
      t.equal(closedWith, true, 'onClose(true)');
      await until(() => server.connections.size === 0, 'the connection set to empty');
      t.equal(server.connections.size, 0);
      t.equal(reactor.stats.connectionsOpen, 0);
      await server.close(60_000); // resolves at once: nothing is left to wait for
      t.pass('close() did not wait for the departed client');
      socket.destroy();
      reactor.close();
      await fds.assertNoneSettled(t);
    });
  }
}

t.test('a response completed normally calls onClose(false); the signal of an answered request never aborts', async (t) => {
  const fds = trackFds();
  const reactor = new Reactor();
  const outcomes: unknown[] = [];
  const server = createHttpServer(reactor, (request, response) => {
    response.onClose((aborted) => outcomes.push(`closed ${aborted}`));
    response.end('done');
    outcomes.push(`aborted ${request.aborted} ${request.signal.aborted}`);
    response.onClose((aborted) => outcomes.push(`late ${aborted}`)); // after the fact: called on the next microtask
  });
  await exchange(server.port, GET('/'));
  await until(() => outcomes.length === 3, 'the callbacks');
  t.same(outcomes, ['closed false', 'aborted false false', 'late false']);
  await server.close();
  reactor.close();
  await fds.assertNoneSettled(t);
});

t.test('response headers: case-insensitive, the framing headers owned by the layer, bodies only strings or bytes', async (t) => {
  const fds = trackFds();
  const reactor = new Reactor();
  const failures: Record<string, string> = {};
  const attempt = (name: string, action: () => void): void => {
    try {
      action();
    } catch (error) {
      failures[name] = `${(error as Error).name} ${(error as { code: string }).code}`;
    }
  };
  const server = createHttpServer(reactor, (request: HttpRequest, response: HttpResponse) => {
    switch (request.path) {
      case '/case':
        response.setHeader('Content-Type', 'text/plain');
        response.setHeader('content-type', 'text/html');
        response.setHeader('X-Multi', ['a', 'b']);
        response.setHeader('x-gone', 'x');
        response.removeHeader('X-GONE');
        failures['has'] = `${response.hasHeader('CONTENT-TYPE')} ${response.getHeader('Content-type')} ${JSON.stringify(response.getHeader('x-multi'))} ${response.hasHeader('x-gone')}`;
        response.end('<p>');
        return;
      case '/length':
        response.setHeader('Content-Length', '999');
        attempt('mismatch', () => response.end('abc'));
        failures['sent after mismatch'] = String(response.sent);
        response.setHeader('content-length', 3);
        failures['declared'] = String(response.getHeader('Content-Length'));
        response.end('abc');
        return;
      case '/types':
        attempt('object', () => response.end({ a: 1 } as unknown as string));
        attempt('number', () => response.end(42 as unknown as string));
        attempt('write number', () => response.write(42 as unknown as string));
        attempt('te', () => response.setHeader('Transfer-Encoding', 'gzip'));
        attempt('connection', () => response.setHeader('Connection', 'upgrade'));
        attempt('cl', () => response.setHeader('Content-Length', '-1'));
        attempt('cl list', () => response.setHeader('Content-Length', ['1', '2']));
        attempt('crlf', () => response.setHeader('X-Bad', 'a\r\nInjected: 1'));
        attempt('name', () => response.setHeader('Bad Name', 'x'));
        attempt('name type', () => response.setHeader(7 as unknown as string, 'x'));
        attempt('value type', () => response.setHeader('X', {} as unknown as string));
        attempt('status', () => response.writeHead(42));
        attempt('json', () => response.json(undefined));
        response.json({ ok: true, query: Object.fromEntries(request.query), many: request.headerValues('x-many') }, 202);
        attempt('after end', () => response.setHeader('X', 'y'));
        return;
      case '/stream-length':
        response.setHeader('Content-Length', '10');
        response.write('12345');
        attempt('past length', () => response.write('123456'));
        attempt('short end', () => response.end('1'));
        response.end('67890');
        return;
      case '/chunked-close':
        response.setHeader('Transfer-Encoding', 'chunked');
        response.setHeader('Connection', 'close');
        response.setHeader('Date', 'Thu, 01 Jan 1970 00:00:00 GMT');
        response.end('whole');
        return;
    }
  });
  const kase = await exchange(server.port, GET('/case'));
  t.equal(kase.match(/content-type/gi)?.length, 1, 'one Content-Type');
  t.match(kase, /\r\ncontent-type: text\/html\r\n/, 'the last one set, as written');
  t.match(kase, /X-Multi: a\r\nX-Multi: b\r\n/);
  t.notMatch(kase, /x-gone/i);
  t.equal(failures['has'], 'true text/html ["a","b"] false');
  const length = await exchange(server.port, GET('/length'));
  t.equal(length.match(/content-length/gi)?.length, 1, 'one Content-Length');
  t.match(length, /Content-Length: 3\r\n[^]*\r\n\r\nabc$/);
  t.equal(failures['mismatch'], 'ZepollError ERR_ZEPOLL_HTTP_RESPONSE', 'a body that contradicts it throws');
  t.equal(failures['sent after mismatch'], 'false', 'and nothing was sent');
  t.equal(failures['declared'], '3');
  const types = await exchange(server.port, `GET /types?a=1&b=two HTTP/1.1\r\nHost: a\r\nX-Many: 1\r\nX-Many: 2\r\nConnection: close\r\n\r\n`);
  t.match(types, /^HTTP\/1\.1 202 Accepted\r\n[^]*Content-Type: application\/json; charset=utf-8\r\n[^]*\{"ok":true,"query":\{"a":"1","b":"two"\},"many":\["1","2"\]\}$/);
  t.same(failures, {
    ...failures,
    object: 'TypeError ERR_INVALID_ARG_TYPE',
    number: 'TypeError ERR_INVALID_ARG_TYPE',
    'write number': 'TypeError ERR_INVALID_ARG_TYPE',
    te: 'TypeError ERR_INVALID_ARG_VALUE',
    connection: 'TypeError ERR_INVALID_ARG_VALUE',
    cl: 'TypeError ERR_INVALID_ARG_VALUE',
    'cl list': 'TypeError ERR_INVALID_ARG_VALUE',
    crlf: 'TypeError ERR_INVALID_ARG_VALUE',
    name: 'TypeError ERR_INVALID_ARG_VALUE',
    'name type': 'TypeError ERR_INVALID_ARG_TYPE',
    'value type': 'TypeError ERR_INVALID_ARG_TYPE',
    status: 'RangeError ERR_OUT_OF_RANGE',
    json: 'TypeError ERR_INVALID_ARG_VALUE',
    'after end': 'ZepollError ERR_ZEPOLL_HTTP_RESPONSE',
  });
  const streamed = await exchange(server.port, GET('/stream-length'));
  t.match(streamed, /Content-Length: 10\r\n[^]*\r\n\r\n1234567890$/, 'streamed within the declared length, no chunking');
  t.notMatch(streamed, /Transfer-Encoding/);
  t.equal(failures['past length'], 'ZepollError ERR_ZEPOLL_HTTP_RESPONSE');
  t.equal(failures['short end'], 'ZepollError ERR_ZEPOLL_HTTP_RESPONSE');
  const chunked = await exchange(server.port, 'GET /chunked-close HTTP/1.1\r\nHost: a\r\n\r\n');
  t.match(chunked, /^HTTP\/1\.1 200 OK\r\nTransfer-Encoding: chunked\r\nDate: Thu, 01 Jan 1970 00:00:00 GMT\r\nConnection: close\r\n\r\n5\r\nwhole\r\n0\r\n\r\n$/, 'chunked as asked, the user Date instead of ours, Connection: close honoured');
  await server.close();
  reactor.close();
  await fds.assertNoneSettled(t);
});

t.test('streamed bodies: 8 MiB read slower than it arrives pauses the connection; the bytes arrive whole', async (t) => {
  const fds = trackFds();
  const reactor = new Reactor();
  const body = randomBytes(8 * 1024 * 1024);
  let maxQueued = 0;
  let pausedReads = 0;
  const server = createHttpServer(
    reactor,
    async (request, response) => {
      t.equal(request.body.byteLength, 0, 'no buffered body in streaming mode');
      const parts: Buffer[] = [];
      let size = 0;
      for await (const part of request) {
        parts.push(part);
        size += part.byteLength;
        maxQueued = Math.max(maxQueued, reactor.stats.bytesIn - size);
        if (parts.length % 16 === 0) {
          pausedReads += 1;
          await new Promise((resolve) => setTimeout(resolve, 1)); // a slow consumer
        }
      }
      response.end(sha256(Buffer.concat(parts)));
    },
    { streamBodies: true, bodySizeMax: 16 * 1024 * 1024 },
  );
  const head = `POST /upload HTTP/1.1\r\nHost: a\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n`;
  const answer = await exchange(server.port, Buffer.concat([Buffer.from(head), body]));
  t.match(answer, new RegExp(`${sha256(body)}$`), 'the handler hashed every byte');
  t.ok(pausedReads > 0, 'the consumer was slow');
  t.ok(maxQueued < 2 * 1024 * 1024, `at most ${maxQueued} bytes read ahead of the consumer (the socket waited, not the heap)`);
  await server.close();
  reactor.close();
  await fds.assertNoneSettled(t);
});

t.test('streamed bodies: chunked, answered before the body is read (the rest is dropped and the next request served), read twice, cut short', async (t) => {
  const fds = trackFds();
  const reactor = new Reactor();
  const outcomes: string[] = [];
  const server = createHttpServer(
    reactor,
    async (request, response) => {
      if (request.path === '/early') {
        response.end('early');
        return;
      }
      if (request.path === '/cut') {
        try {
          for await (const part of request) outcomes.push(`cut part ${part.byteLength}`);
        } catch (error) {
          outcomes.push(`cut: ${(error as { code: string }).code}`);
        }
        return;
      }
      const text = await request.text();
      try {
        request[Symbol.asyncIterator]();
      } catch (error) {
        outcomes.push(`twice: ${(error as { code: string }).code}`);
      }
      response.end(`got ${text}`);
    },
    { streamBodies: true },
  );
  const pipelined = await exchange(
    server.port,
    'POST /early HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nabcde' + 'POST /echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n',
  );
  t.match(pipelined, /early[^]*got abcde$/, 'the unread body was skipped; the chunked one arrived whole');
  t.same(outcomes, ['twice: ERR_ZEPOLL_HTTP_RESPONSE']);
  const socket = net.connect(server.port, '127.0.0.1', () => socket.write('POST /cut HTTP/1.1\r\nHost: a\r\nContent-Length: 100\r\n\r\n12345'));
  socket.on('error', () => {});
  await until(() => outcomes.length === 2, 'the first part');
  socket.resetAndDestroy();
  await until(() => outcomes.length === 3, 'the abort');
  t.same(outcomes.slice(1), ['cut part 5', 'cut: ERR_ZEPOLL_ABORTED'], 'the reader got what came, then the abort');
  await server.close();
  reactor.close();
  await fds.assertNoneSettled(t);
});

t.test('buffered bodies read the same way: one part, bytes() and text(); headerValues and query', async (t) => {
  const fds = trackFds();
  const reactor = new Reactor();
  const server = createHttpServer(reactor, async (request, response) => {
    const parts: number[] = [];
    for await (const part of request) parts.push(part.byteLength);
    response.end(`${parts.join(',')} ${request.query.get('q')} ${request.query.size}`);
  });
  t.match(await exchange(server.port, 'POST /?q=1 HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nConnection: close\r\n\r\nabc'), /\r\n\r\n3 1 1$/);
  t.match(await exchange(server.port, 'POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\nConnection: close\r\n\r\n'), /\r\n\r\n null 0$/);
  await server.close();
  reactor.close();
  await fds.assertNoneSettled(t);
});

t.test('createHttpServer checks its arguments and options at once', (t) => {
  const reactor = new Reactor({ attach: false });
  t.throws(() => createHttpServer({} as Reactor, () => {}), { name: 'TypeError', code: 'ERR_INVALID_ARG_TYPE', message: /"reactor"/ });
  t.throws(() => createHttpServer(reactor, 'x' as unknown as () => void), { name: 'TypeError', code: 'ERR_INVALID_ARG_TYPE', message: /"handler"/ });
  t.throws(() => createHttpServer(reactor, () => {}, { streamBodies: 1 as unknown as boolean }), { name: 'TypeError', code: 'ERR_INVALID_ARG_TYPE', message: /streamBodies/ });
  t.throws(() => createHttpServer(reactor, () => {}, { bodySizeMax: 0 }), { name: 'RangeError', code: 'ERR_OUT_OF_RANGE', message: /bodySizeMax/ });
  t.throws(() => createHttpServer(reactor, () => {}, { headersTimeoutMs: '5s' as unknown as number }), { name: 'TypeError', code: 'ERR_INVALID_ARG_TYPE' });
  reactor.close();
  t.end();
});
