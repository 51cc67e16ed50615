/**
 * A Hono app's WebSocket routes on zepoll/fetch through zepoll/hono's
 * `upgradeWebSocket` and `websocket`, written as for hono/bun or
 * @hono/node-ws: onOpen, onMessage (text as a string, binary as an
 * ArrayBuffer), onClose with the code and reason, one WSContext per socket,
 * plain routes beside them, driven by the `ws` package and by zepoll's own
 * client. Then the edges: the subprotocol, an invalid handshake's refusal,
 * the direct form `upgradeWebSocket(c, events)`, an app not served by
 * serve(), and failures (1011, the route's onError, serve()'s onError,
 * the counter). Every test counts fds before and after.
 */
import t from 'tap';
import { Hono } from 'hono';
import type { WSContext } from 'hono/ws';
import { Reactor } from 'zepoll';
import { connectWebSocket } from 'zepoll/ws';
import { serve, type FetchServer } from 'zepoll/fetch';
import { createZepollWebSocket, upgradeWebSocket, websocket, type HonoWebSocketData } from 'zepoll/hono';
import { trackFds } from '../helpers/fds.js';
import { until } from '../helpers/wait.js';
import { closeOf, closeOnOpen, nextMessage, open, rawUpgrade, upgradeRequest } from '../helpers/ws.js';

/** Serves `app` with zepoll/hono's handlers on 127.0.0.1. */
function serveApp(app: Hono, onError?: (error: Error, request: Request | null) => void): FetchServer<HonoWebSocketData> {
  return serve({ fetch: app.fetch, websocket, port: 0, host: '127.0.0.1', ...(onError === undefined ? {} : { onError }) });
}

/** The app of the first tests: a greeting route, an echo WebSocket route, and what /ws answers without an upgrade. */
function echoApp(log: unknown[]): Hono {
  const app = new Hono();
  const contexts = new Set<WSContext>();
  app.get('/', (c) => c.text('hello'));
  app.get(
    '/ws',
    upgradeWebSocket((c) => {
      const name = c.req.query('name') ?? 'anonymous';
      return {
        onOpen(_event, ws) {
          contexts.add(ws);
          log.push(['open', name, ws.readyState, ws.protocol, ws.url?.pathname, ws.raw?.data.url.search]);
          ws.send(`welcome ${name}`);
        },
        onMessage(event, ws) {
          const data = event.data;
          log.push(['message', typeof data === 'string' ? 'string' : data instanceof ArrayBuffer ? 'ArrayBuffer' : 'other', contexts.has(ws)]);
          if (data === 'close me') ws.close(4005, 'as asked');
          else ws.send(data as string | ArrayBuffer);
        },
        onClose(event, ws) {
          log.push(['close', name, event.code, event.reason, event.wasClean, contexts.delete(ws), ws.readyState]);
        },
      };
    }),
  );
  app.get('/ws', (c) => c.text('this route speaks WebSocket', 426));
  return app;
}

t.test('a Hono upgradeWebSocket route runs unchanged: onOpen, onMessage echo, onClose with code and reason', async (t) => {
  const fds = trackFds();
  const log: unknown[] = [];
  const server = serveApp(echoApp(log));
  const base = `127.0.0.1:${server.port}`;
  const client = await open(`ws://${base}/ws?name=ada`);
  t.equal((await nextMessage(client)).data.toString(), 'welcome ada');
  client.send('text');
  const text = await nextMessage(client);
  t.same([text.data.toString(), text.isBinary], ['text', false]);
  client.send(Buffer.from([1, 2, 3]));
  const binary = await nextMessage(client);
  t.same([[...binary.data], binary.isBinary], [[1, 2, 3], true]);
  const closing = closeOf(client);
  client.close(4000, 'goodbye');
  t.equal((await closing).code, 4000);
  await until(() => log.length === 4, 'onClose');
  t.same(log, [
    ['open', 'ada', 1, '', '/ws', '?name=ada'],
    ['message', 'string', true],
    ['message', 'ArrayBuffer', true],
    ['close', 'ada', 4000, 'goodbye', true, true, 3],
  ]);
  t.equal(await (await fetch(`http://${base}/`)).text(), 'hello', 'a plain route on the same server');
  const plain = await fetch(`http://${base}/ws`);
  t.same([plain.status, await plain.text()], [426, 'this route speaks WebSocket'], 'no Upgrade: the next handler answers');
  t.equal((await fetch(`http://${base}/nope`)).status, 404, "Hono's own 404");
  await server.close();
  await fds.assertNoneSettled(t);
});

t.test("zepoll's own client against a Hono route: echo, the route's close; a subprotocol offered is the route's ws.protocol", async (t) => {
  const fds = trackFds();
  const log: unknown[] = [];
  const server = serveApp(echoApp(log));
  const reactor = new Reactor();
  const received: string[] = [];
  let closed: [number, string] | null = null;
  const socket = await connectWebSocket(
    reactor,
    `ws://127.0.0.1:${server.port}/ws?name=zepoll`,
    { message: (_ws, data) => void received.push(data.toString()), close: (_ws, code, reason) => void (closed = [code, reason]) },
    { protocols: ['graphql-ws', 'json'] },
  );
  socket.send('ping me back');
  await until(() => received.length === 2, 'the welcome and the echo');
  t.same(received, ['welcome zepoll', 'ping me back']);
  socket.send('close me');
  await until(() => closed !== null, 'the close');
  t.same(closed, [4005, 'as asked'], "the route's ws.close(code, reason)");
  await until(() => log.length === 4, 'onClose');
  t.same(log[0], ['open', 'zepoll', 1, 'graphql-ws', '/ws', '?name=zepoll'], 'the first protocol offered');
  reactor.close();
  await server.close();
  await fds.assertNoneSettled(t);
});

t.test('an invalid handshake to a route is refused with its status; a route with no events opens and closes quietly', async (t) => {
  const fds = trackFds();
  const app = new Hono();
  app.get('/quiet', upgradeWebSocket(() => ({})));
  const server = serveApp(app);
  const badKey = await rawUpgrade(server.port, upgradeRequest('/quiet', [], 'short'));
  t.match(badKey.head, /^HTTP\/1\.1 400 /);
  badKey.socket.destroy();
  const version = await rawUpgrade(server.port, upgradeRequest('/quiet', [], undefined, '8'));
  t.match(version.head, /^HTTP\/1\.1 426 /);
  t.match(version.head, /\r\nsec-websocket-version: 13/i);
  version.socket.destroy();
  const quiet = await open(`ws://127.0.0.1:${server.port}/quiet`);
  quiet.send('nobody listens');
  const closing = closeOf(quiet);
  quiet.close(1000);
  t.equal((await closing).code, 1000);
  await server.close();
  await fds.assertNoneSettled(t);
});

t.test('the direct form upgradeWebSocket(c, events), and createZepollWebSocket()', async (t) => {
  const fds = trackFds();
  const pair = createZepollWebSocket();
  t.equal(pair.upgradeWebSocket, upgradeWebSocket);
  t.equal(pair.websocket, websocket);
  const app = new Hono();
  app.get('/direct', (c) => pair.upgradeWebSocket(c, { onOpen: (_event, ws) => ws.send('direct') }));
  app.onError((error, c) => c.text(String((error as { code?: string }).code), 400));
  const server = serve({ fetch: app.fetch, websocket: { ...pair.websocket, idleTimeout: 0 }, port: 0, host: '127.0.0.1' });
  const client = await open(`ws://127.0.0.1:${server.port}/direct`);
  t.equal((await nextMessage(client)).data.toString(), 'direct');
  client.terminate();
  const plain = await fetch(`http://127.0.0.1:${server.port}/direct`);
  t.same([plain.status, await plain.text()], [400, 'ERR_ZEPOLL_WS_HANDSHAKE'], 'no Upgrade: the direct form rejects');
  await server.close();
  await fds.assertNoneSettled(t);
});

t.test('the server found in c.env, or in c.env.server; an app served elsewhere, or without websocket, gets ERR_ZEPOLL_WS_NOT_ENABLED', async (t) => {
  const fds = trackFds();
  const app = new Hono();
  app.get('/ws', upgradeWebSocket(() => ({ onOpen: (_event, ws) => ws.send('wrapped') })));
  app.onError((error, c) => c.text(String((error as { code?: string }).code), 500));
  const upgrade = { Upgrade: 'websocket', Connection: 'Upgrade', 'Sec-WebSocket-Key': 'dGhlIHNhbXBsZSBub25jZQ==', 'Sec-WebSocket-Version': '13' };
  const elsewhere = await app.request('/ws', { headers: upgrade });
  t.same([elsewhere.status, await elsewhere.text()], [500, 'ERR_ZEPOLL_WS_NOT_ENABLED'], 'app.request(): no server in c.env');
  const wrapped = serve<HonoWebSocketData>({ fetch: (request, server) => app.fetch(request, { server }), websocket, port: 0, host: '127.0.0.1' });
  const client = await open(`ws://127.0.0.1:${wrapped.port}/ws`);
  t.equal((await nextMessage(client)).data.toString(), 'wrapped', 'c.env.server, as hono/bun reads it');
  client.terminate();
  await wrapped.close();
  const without = serve({ fetch: app.fetch, port: 0, host: '127.0.0.1' });
  const refused = await rawUpgrade(without.port, upgradeRequest('/ws'));
  t.match(refused.head, /^HTTP\/1\.1 500 /, 'serve() without websocket');
  t.match(refused.received().toString(), /ERR_ZEPOLL_WS_NOT_ENABLED/);
  refused.socket.destroy();
  await without.close();
  await fds.assertNoneSettled(t);
});

t.test("a route's handler that throws or rejects costs its socket: 1011, the route's onError, serve()'s onError, counted", async (t) => {
  const fds = trackFds();
  const routeErrors: string[] = [];
  const serverErrors: Array<[string, Request | null]> = [];
  const app = new Hono();
  app.get(
    '/fail/:how',
    upgradeWebSocket((c) => {
      const how = c.req.param('how');
      return {
        onOpen() {
          if (how === 'open') return Promise.reject(new Error('onOpen rejected')) as unknown as void;
          return undefined;
        },
        onMessage() {
          throw new Error(`onMessage threw (${how})`);
        },
        onClose() {
          if (how === 'close') throw new Error('onClose threw');
        },
        onError(event) {
          routeErrors.push(((event as Event & { error: Error }).error).message);
          if (how === 'onerror') throw new Error('onError threw too');
        },
      };
    }),
  );
  const server = serveApp(app, (error, request) => void serverErrors.push([error.message, request]));
  const url = `ws://127.0.0.1:${server.port}/fail`;
  t.same(await closeOnOpen(`${url}/open`), { code: 1011, reason: 'handler failed' }, 'onOpen rejected: 1011');
  for (const how of ['message', 'onerror', 'close']) {
    const client = await open(`${url}/${how}`);
    const closing = closeOf(client);
    client.send('boom');
    t.same(await closing, { code: 1011, reason: 'handler failed' }, `${how}: 1011`);
  }
  await until(() => serverErrors.length === 5, 'every error reported');
  t.same(routeErrors, ['onOpen rejected', 'onMessage threw (message)', 'onMessage threw (onerror)', 'onMessage threw (close)', 'onClose threw']);
  t.same(serverErrors, [
    ['onOpen rejected', null],
    ['onMessage threw (message)', null],
    ['onMessage threw (onerror)', null],
    ['onMessage threw (close)', null],
    ['onClose threw', null],
  ], "the route's error, not its onError's");
  t.equal(server.stats!.handlerErrors, 5);
  await server.close();
  await fds.assertNoneSettled(t);
});
