/**
 * Defects a new-user review found after the first contract fixes, each
 * with its repro: async onClose/onError/onServerClose and response
 * callbacks that reject, 204/304 and 1xx responses, a stale pooled view
 * written after another connection leased its chunk (poison mode), a
 * throwing res.onDrain callback, a streamed body cut by a parse error,
 * sendFile of a bad fd, a directory or a short file, json() of a cycle
 * and a string statusCode.
 */
import t from 'tap';
import http from 'node:http';
import net from 'node:net';
import { closeSync, mkdtempSync, openSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Reactor } from '../../packages/reactor/src/reactor.js';
import { Server } from '../../packages/reactor/src/server.js';
import type { Lease } from '../../packages/reactor/src/buffer-pool.js';
import { createHttpServer } from '../../packages/reactor/src/http/server.js';
import { trackFds } from '../helpers/fds.js';
import { captureUncaught } from '../helpers/uncaught.js';
import { closed, connect as connectClient, receive } from '../helpers/net-client.js';
import { until } from '../helpers/wait.js';
import { exchange } from '../helpers/http-exchange.js';



t.test('async onClose, onError, onServerClose, server and reactor onError that reject: reported, never unhandled', async (t) => {
  const fds = trackFds();
  const last: string[] = [];
  const reactor = new Reactor({ onError: async (error) => void last.push(error.message) });
  const server = new Server(reactor, {
    onData: (connection, data) => {
      if (data.toString() === 'boom') throw new Error('handler');
      connection.end();
    },
    onClose: async () => {
      throw new Error('async onClose');
    },
    onServerClose: async (connection) => {
      connection.end();
      throw new Error('async onServerClose');
    },
  }, { onError: async () => { throw new Error('async server onError'); } });
  const rejectingReactor = new Reactor({ onError: async () => { throw new Error('async reactor onError'); } });
  const other = new Server(rejectingReactor, { onData: () => { throw new Error('x'); } });
  const logged: unknown[][] = [];
  const original = console.error;
  console.error = (...args: unknown[]): void => void logged.push(args);
  try {
    const caught = await captureUncaught(async () => {
      const first = await connectClient(server.port);
      first.write('hi');
      await closed(first.on('error', () => {}));
      const second = await connectClient(server.port);
      second.write('boom');
      await closed(second.on('error', () => {}));
      const third = await connectClient(server.port);
      await until(() => server.connections.size === 1, 'the third connection');
      const closing = server.close();
      await closed(third.end());
      await closing;
      const fourth = await connectClient(other.port);
      fourth.write('x');
      await closed(fourth.on('error', () => {}));
      await until(() => logged.length === 1 && last.length === 5, 'the reports');
    });
    t.same(caught, [], 'no unhandled rejection');
  } finally {
    console.error = original;
  }
  // The handler's throw and onServerClose's rejection each go to the server's onError, whose own rejections the reactor's onError gets.
  t.same(last.sort(), ['async onClose', 'async onClose', 'async onClose', 'async server onError', 'async server onError'].sort(), "every rejection reached the reactor's onError");
  t.match(logged, [[/handler failed/, { message: 'async reactor onError' }]], "a rejecting reactor onError: the last resort logs it");
  await other.close();
  reactor.close();
  rejectingReactor.close();
  fds.assertNone(t);
});

t.test('204 and 304 carry no body or framing; a 1xx final status is refused; a keep-alive client goes on', async (t) => {
  const fds = trackFds();
  const reactor = new Reactor();
  const refusals: string[] = [];
  const server = createHttpServer(reactor, (request, response) => {
    if (request.path === '/204') {
      response.statusCode = 204;
      try {
        response.end('{"deleted":true}');
      } catch (error) {
        refusals.push((error as { code: string }).code);
      }
      response.end();
      return;
    }
    if (request.path === '/304') {
      response.writeHead(304, { ETag: '"x"' });
      try {
        response.write('cached');
      } catch (error) {
        refusals.push((error as { code: string }).code);
      }
      response.write('');
      response.end();
      return;
    }
    if (request.path === '/100') {
      try {
        response.writeHead(100);
      } catch (error) {
        refusals.push(`${(error as Error).name} ${(error as { code: string }).code}`);
      }
      response.statusCode = 101;
      response.end('x'); // throws: the handler fails and the client gets a 500
      return;
    }
    response.end('after');
  });
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const get = (path: string): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }> =>
    new Promise((resolve, reject) => {
      http.get({ host: '127.0.0.1', port: server.port, path, agent }, (response) => {
        let body = '';
        response.setEncoding('utf8').on('data', (part: string) => (body += part));
        response.on('end', () => resolve({ status: response.statusCode!, headers: response.headers, body }));
      }).on('error', reject);
    });
  const noContent = await get('/204');
  t.same([noContent.status, noContent.body, noContent.headers['content-length'], noContent.headers['transfer-encoding']], [204, '', undefined, undefined]);
  const notModified = await get('/304');
  t.same([notModified.status, notModified.body, notModified.headers['content-length'], notModified.headers['transfer-encoding'], notModified.headers.etag], [304, '', undefined, undefined, '"x"']);
  t.equal((await get('/after')).body, 'after', 'the keep-alive connection is still in step');
  t.same(refusals, ['ERR_ZEPOLL_HTTP_RESPONSE', 'ERR_ZEPOLL_HTTP_RESPONSE']);
  const raw = await exchange(server.port, 'GET /100 HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n');
  t.match(raw, /^HTTP\/1\.1 500 /, 'a 101 final status made end() throw: the handler failed, the client got a 500 instead of a bogus 101');
  t.same(refusals.slice(2), ['RangeError ERR_OUT_OF_RANGE'], 'writeHead(100) refused');
  agent.destroy();
  await server.close();
  reactor.close();
  await fds.assertNoneSettled(t);
});

t.test('poison mode: a stale view written after another connection leased its chunk is refused, not sent', async (t) => {
  const fds = trackFds();
  const reactor = new Reactor({ pool: { poison: true } });
  let stale: Buffer | null = null;
  let lease: Lease | null = null;
  const outcomes: string[] = [];
  const server = new Server(reactor, {
    onData: (connection, data) => {
      if (data.toString() === 'A') {
        stale = data; // kept past the callback: the mistake
        connection.write('a');
        return;
      }
      lease = connection.lease(data); // B holds its chunk, which may be A's old one
      connection.write('b');
    },
  });
  const a = await connectClient(server.port);
  a.write('A');
  await receive(a, 1);
  const b = await connectClient(server.port);
  b.write('B-secret');
  await receive(b, 1);
  const connectionA = [...server.connections][0]!;
  try {
    connectionA.write(stale!);
  } catch (error) {
    outcomes.push((error as { code: string }).code);
  }
  t.same(outcomes, ['ERR_ZEPOLL_LEASE_RELEASED'], 'refused: the chunk is another generation now');
  (lease as Lease | null)!.release();
  a.destroy();
  b.destroy();
  await server.close();
  reactor.close();
  fds.assertNone(t);
});

t.test('HTTP: a throwing res.onDrain callback, a streamed body cut by a parse error, sendFile of bad files, json of a cycle, a string status', async (t) => {
  const fds = trackFds();
  const folder = mkdtempSync(join(tmpdir(), 'zepoll-sendfile-'));
  writeFileSync(join(folder, 'small.txt'), 'tiny');
  const file = openSync(join(folder, 'small.txt'), 'r');
  const directory = openSync(folder, 'r');
  const reported: string[] = [];
  const bodyErrors: string[] = [];
  const reactor = new Reactor();
  const server = createHttpServer(
    reactor,
    async (request, response) => {
      switch (request.path) {
        case '/drain':
          response.onDrain(() => {
            throw new Error('drain callback failed');
          });
          while (response.write(Buffer.alloc(64 * 1024))) {}
          return;
        case '/upload':
          try {
            await request.text();
          } catch (error) {
            bodyErrors.push(`${(error as { code: string }).code} ${(error as { status: number }).status}`);
          }
          return;
        case '/badfd':
          return response.sendFile(1_000_000, 0, 10);
        case '/dir':
          return response.sendFile(directory, 0, 10);
        case '/short':
          return response.sendFile(file, 0, 100);
        case '/cycle': {
          const cycle: Record<string, unknown> = {};
          cycle['self'] = cycle;
          return response.json(cycle);
        }
        case '/status':
          response.statusCode = '200' as unknown as number;
          return response.end('x');
      }
    },
    { streamBodies: true, onError: (error, request) => void reported.push(`${request.path}: ${(error as { code?: string }).code ?? error.message}`) },
  );
  const drain = await new Promise<string>((resolve) => {
    const socket = net.connect(server.port, '127.0.0.1', () => socket.write('GET /drain HTTP/1.1\r\nHost: a\r\n\r\n'));
    socket.pause(); // let the queue fill, then read: the drain callback runs and throws
    setTimeout(() => socket.resume(), 50);
    socket.on('data', () => {});
    socket.on('error', () => {});
    socket.on('close', () => resolve('closed'));
  });
  t.equal(drain, 'closed');
  const upload = await exchange(server.port, 'POST /upload HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\nzz\r\n');
  t.match(upload, /^HTTP\/1\.1 400 /);
  for (const path of ['/badfd', '/dir', '/short', '/cycle', '/status']) {
    t.match(await exchange(server.port, `GET ${path} HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n`), /^HTTP\/1\.1 500 /, `${path}: a 500, never a 200 with a cut body`);
  }
  await until(() => bodyErrors.length === 1 && reported.length === 6, 'the reports');
  t.same(bodyErrors, ['ERR_ZEPOLL_HTTP_PARSE 400'], 'the body reader learned of the parse error');
  t.same(reported.sort(), ['/badfd: EBADF', '/cycle: ERR_INVALID_ARG_VALUE', '/dir: ERR_INVALID_ARG_VALUE', '/drain: drain callback failed', '/short: ERR_OUT_OF_RANGE', '/status: ERR_INVALID_ARG_TYPE'].sort());
  await server.close();
  reactor.close();
  closeSync(file);
  closeSync(directory);
  rmSync(folder, { recursive: true, force: true });
  await fds.assertNoneSettled(t);
});
