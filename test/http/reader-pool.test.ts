/**
 * A server's request readers (reader-pool.ts): a connection between
 * requests gives its reader (parser, head, and the request and response
 * the reuse rule gave back) to the server's pool, and the next connection
 * with bytes takes it. Proved over real sockets: the same objects serve
 * one connection after another, each answer right and on its own
 * connection; an idle keep-alive connection holds no reader; what the
 * reuse rule keeps (callbacks given, a promise, a signal) never reaches
 * the pool; readers out are counted back when a connection closes or
 * switches protocols mid-request; the pool stays bounded.
 */
import t from 'tap';
import net from 'node:net';
import { Reactor } from '../../packages/reactor/src/reactor.js';
import { createHttpServer } from '../../packages/reactor/src/http/server.js';
import type { Server } from '../../packages/reactor/src/server.js';
import type { Connection } from '../../packages/reactor/src/connection.js';
import type { HttpRequest } from '../../packages/reactor/src/http/request.js';
import type { HttpResponse } from '../../packages/reactor/src/http/response.js';
import type { ReaderPool } from '../../packages/reactor/src/http/reader-pool.js';
import { FREE_KEPT_MIN } from '../../packages/reactor/src/free-list.js';
import { trackFds } from '../helpers/fds.js';
import { until } from '../helpers/wait.js';
import { closed, connect } from '../helpers/net-client.js';

const GET = (path: string): string => `GET ${path} HTTP/1.1\r\nHost: h\r\n\r\n`;

/** The pool of the server `connection` belongs to (the exchange's settings: internal). */
function poolOf(connection: Connection): ReaderPool {
  return (connection.context as { settings: { readers: ReaderPool } }).settings.readers;
}

/** Whether `connection`'s exchange holds a reader now. */
function holdsReader(connection: Connection): boolean {
  return (connection.context as { reader: unknown }).reader !== null;
}

/** Sends `text` and resolves with the next complete response (Content-Length framed) as a string. */
function ask(socket: net.Socket, text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    let got = '';
    const onData = (part: Buffer): void => {
      got += part.toString('latin1');
      const end = got.indexOf('\r\n\r\n');
      if (end < 0) return;
      const length = /content-length: (\d+)/i.exec(got.slice(0, end));
      if (length === null || got.length < end + 4 + Number(length[1])) return;
      socket.off('data', onData);
      resolve(got);
    };
    socket.on('data', onData);
    socket.once('error', reject);
    socket.write(text);
  });
}

interface Seen {
  readonly request: HttpRequest;
  readonly response: HttpResponse;
  readonly connection: Connection;
}

async function serve(handler: (request: HttpRequest, response: HttpResponse) => unknown, options = {}): Promise<{ reactor: Reactor; server: Server; seen: Seen[] }> {
  const reactor = new Reactor();
  const seen: Seen[] = [];
  const server = createHttpServer(
    reactor,
    (request, response) => {
      seen.push({ request, response, connection: response.connection });
      return handler(request, response) as void;
    },
    options,
  );
  return { reactor, server, seen };
}

async function stop(reactor: Reactor, server: Server): Promise<void> {
  await server.close();
  reactor.close();
}

t.test('one connection after another: the same request and response objects, each answer right, on its own connection', async (t) => {
  const fds = trackFds();
  const { reactor, server, seen } = await serve((request, response) => response.end(`${request.target} ${request.header('x-n')}`));
  const first = await connect(server.port);
  t.match(await ask(first, 'GET /one HTTP/1.1\r\nHost: h\r\nX-N: 1\r\n\r\n'), /\r\n\r\n\/one 1$/);
  const second = await connect(server.port);
  t.match(await ask(second, 'GET /two HTTP/1.1\r\nHost: h\r\nX-N: 2\r\nX-Extra: e\r\n\r\n'), /\r\n\r\n\/two 2$/);
  t.match(await ask(first, GET('/three')), /\r\n\r\n\/three undefined$/, 'a header of the request before is not left behind');
  t.equal(seen.length, 3);
  t.equal(seen[1]!.request, seen[0]!.request, 'the second connection got the first one\'s request object');
  t.equal(seen[1]!.response, seen[0]!.response, '... and its response object');
  t.not(seen[1]!.connection, seen[0]!.connection, 'the response named the second connection while it answered there');
  t.equal(seen[2]!.connection, seen[0]!.connection, '... and the first one again for the third request');
  t.equal(seen[2]!.response.connection, seen[0]!.connection);
  for (const connection of server.connections) t.notOk(holdsReader(connection), 'an idle keep-alive connection holds no reader');
  const pool = poolOf(seen[0]!.connection);
  t.equal(pool.busy, 0, 'no reader out');
  t.equal(pool.free, 1, 'one reader served all three requests');
  first.destroy();
  second.destroy();
  await stop(reactor, server);
  await fds.assertNoneSettled(t);
});

t.test('a connection with half a request keeps its reader; another connection gets a reader of its own', async (t) => {
  const fds = trackFds();
  const { reactor, server, seen } = await serve((request, response) => response.end(request.target));
  const slow = await connect(server.port);
  slow.write('GET /slo');
  await until(() => [...server.connections].some((connection) => holdsReader(connection)), 'the slow connection to take a reader');
  const quick = await connect(server.port);
  t.match(await ask(quick, GET('/quick')), /\/quick$/);
  const pool = poolOf(seen[0]!.connection);
  t.equal(pool.busy, 1, 'the slow connection still holds its reader');
  t.match(await ask(slow, 'w HTTP/1.1\r\nHost: h\r\n\r\n'), /\/slow$/, 'its request, joined across reads, answered');
  t.not(seen[1]!.request, seen[0]!.request, 'two readers, two request objects');
  t.equal(pool.busy, 0);
  t.equal(pool.free, 2);
  slow.destroy();
  quick.destroy();
  await stop(reactor, server);
  await fds.assertNoneSettled(t);
});

t.test('what the reuse rule keeps never reaches another connection: callbacks, a promise, a signal', async (t) => {
  const fds = trackFds();
  const closes: Array<[string, boolean]> = [];
  const { reactor, server, seen } = await serve(async (request, response) => {
    if (request.path === '/callback') {
      response.end('callback');
      // Given after the close: it runs in a microtask, when another connection may already have a request.
      response.onClose((aborted) => void closes.push([response.connection === seen[0]!.connection ? 'first' : 'other', aborted]));
      return;
    }
    if (request.path === '/signal') {
      void request.signal;
      response.end('signal');
      return;
    }
    await new Promise((resolve) => setImmediate(resolve));
    response.end('later');
  });
  const sockets = await Promise.all([connect(server.port), connect(server.port)]);
  // The handler is async: every request gets fresh objects, whatever the path.
  await ask(sockets[0]!, GET('/callback'));
  await ask(sockets[1]!, GET('/other'));
  await ask(sockets[1]!, GET('/signal'));
  await ask(sockets[0]!, GET('/later'));
  t.equal(new Set(seen.map((one) => one.request)).size, 4, 'four request objects');
  t.equal(new Set(seen.map((one) => one.response)).size, 4, 'four response objects');
  t.same(closes, [['first', false]], 'the late onClose saw its own response, on its own connection');
  t.equal(seen[1]!.request.path, '/other', 'a request kept by its handler still says what it said');
  const pool = poolOf(seen[0]!.connection);
  t.equal(pool.busy, 0, 'the readers came back without their objects');
  for (const socket of sockets) socket.destroy();
  await stop(reactor, server);
  await fds.assertNoneSettled(t);
});

t.test('a synchronous handler that gives a callback: its objects stay with it, the next connection gets new ones', async (t) => {
  const fds = trackFds();
  const drains: HttpResponse[] = [];
  const { reactor, server, seen } = await serve((request, response) => {
    if (request.path === '/drain') response.onDrain(() => void drains.push(response));
    response.end(request.path);
  });
  const first = await connect(server.port);
  await ask(first, GET('/drain'));
  const second = await connect(server.port);
  await ask(second, GET('/plain'));
  const third = await connect(server.port);
  await ask(third, GET('/plain'));
  t.not(seen[1]!.response, seen[0]!.response, 'a response given a callback is not handed on');
  t.not(seen[1]!.request, seen[0]!.request, 'nor is its request (the pair is reused or neither)');
  t.equal(seen[2]!.response, seen[1]!.response, 'a plain response is handed on');
  t.equal(seen[2]!.request, seen[1]!.request, '... with its request');
  t.equal(seen[0]!.response.connection, seen[0]!.connection, 'the kept response still names its own connection');
  for (const socket of [first, second, third]) socket.destroy();
  await stop(reactor, server);
  await fds.assertNoneSettled(t);
});

t.test('callbacks given to a response after it came back (code that outlived its handler) never run for the next request', async (t) => {
  const fds = trackFds();
  const late: string[] = [];
  const { reactor, server, seen } = await serve((request, response) => response.end(request.path));
  const first = await connect(server.port);
  await ask(first, GET('/first'));
  const kept = seen[0]!.response;
  // Misuse the reuse rule forbids: the response is back in the pool, waiting for a next request.
  kept.onDrain(() => void late.push('drain'));
  kept.onClose(() => void late.push('close'));
  const second = await connect(server.port);
  await ask(second, GET('/second'));
  const third = await connect(server.port);
  await ask(third, GET('/third'));
  await new Promise((resolve) => setImmediate(resolve));
  t.equal(seen[1]!.response, kept, 'the same object served the next request');
  t.equal(seen[2]!.response, kept, '... and, its stale callbacks dropped, the one after');
  t.same(late, ['close'], 'onClose given after the close ran once, in a microtask, as documented; nothing ran for another request');
  for (const socket of [first, second, third]) socket.destroy();
  await stop(reactor, server);
  await fds.assertNoneSettled(t);
});

t.test('a reader out when its connection closes, or switches protocols, is counted back', async (t) => {
  const fds = trackFds();
  const { reactor, server, seen } = await serve((request, response) => {
    if (request.path === '/switch') {
      response.switchProtocols({ onData: (connection, data) => void connection.write(data) }, ['Upgrade', 'echo', 'Connection', 'Upgrade']);
      return undefined;
    }
    return new Promise<void>(() => {}); // never answered: its connection holds the reader until it closes
  });
  const hanging = await connect(server.port);
  hanging.write(GET('/hang'));
  const half = await connect(server.port);
  half.write('GET /half HTTP/1.1\r\nHost');
  await until(() => seen.length === 1 && [...server.connections].filter((connection) => holdsReader(connection)).length === 2, 'two readers out');
  const pool = poolOf(seen[0]!.connection);
  t.equal(pool.busy, 2);
  hanging.destroy();
  half.destroy();
  await until(() => server.connections.size === 0, 'both connections to close');
  t.equal(pool.busy, 0, 'both counted back (lost with their connections)');
  const upgraded = await connect(server.port);
  upgraded.write(GET('/switch'));
  await until(() => seen.length === 2, 'the switching request');
  await until(() => pool.busy === 0, 'the switched connection\'s reader counted back');
  upgraded.write('ping');
  await until(() => upgraded.bytesRead > 0, 'the new protocol to answer');
  upgraded.destroy();
  await closed(upgraded);
  await stop(reactor, server);
  await fds.assertNoneSettled(t);
});

t.test('a burst of slow requests: every reader comes back, and the pool keeps a bounded number', async (t) => {
  const fds = trackFds();
  const COUNT = 48;
  const answers: Array<() => void> = [];
  const { reactor, server, seen } = await serve((_request, response) => new Promise<void>((resolve) => answers.push(() => resolve(response.end('ok')))));
  const sockets = await Promise.all(Array.from({ length: COUNT }, () => connect(server.port)));
  const replies = sockets.map((socket) => ask(socket, GET('/slow')));
  await until(() => answers.length === COUNT, 'every request to be in');
  const pool = poolOf(seen[0]!.connection);
  t.equal(pool.busy, COUNT, 'one reader per request in progress');
  for (const answer of answers.splice(0)) answer();
  await Promise.all(replies);
  t.equal(pool.busy, 0, 'all came back');
  t.ok(pool.free >= FREE_KEPT_MIN && pool.free <= COUNT, `${pool.free} kept: at least ${FREE_KEPT_MIN}, at most the burst`);
  for (const socket of sockets) socket.destroy();
  await stop(reactor, server);
  await fds.assertNoneSettled(t);
});

t.test('a server that streams bodies: its readers rest between requests too', async (t) => {
  const fds = trackFds();
  const { reactor, server, seen } = await serve(async (request, response) => response.end(`${request.path} ${(await request.text()).length}`), { streamBodies: true });
  const socket = await connect(server.port);
  t.match(await ask(socket, 'POST /up HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\nhello'), /\/up 5$/);
  t.match(await ask(socket, GET('/after')), /\/after 0$/);
  const pool = poolOf(seen[0]!.connection);
  t.notOk(holdsReader(seen[0]!.connection));
  t.equal(pool.busy, 0);
  t.equal(pool.free, 1, 'one reader served both');
  socket.destroy();
  await stop(reactor, server);
  await fds.assertNoneSettled(t);
});
