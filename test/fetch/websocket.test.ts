/**
 * WebSockets from zepoll/fetch as Bun has them: `serve({ fetch, websocket })`
 * and `server.upgrade(request, { data, headers })` inside fetch. Over real
 * sockets with the `ws` package and zepoll's own client: data reaches
 * `ws.data`, messages arrive as Bun gives them (text a string, binary a
 * Buffer of its own), close codes and reasons both ways, the 101's extra
 * fields and subprotocol, plain requests beside upgrades, every refusal
 * (upgrade() false: the handler answers), misuse (coded throws), and a
 * handler's failure costing only its socket (1011, onError, counted).
 * Every test counts fds before and after.
 */
import t from 'tap';
import { Reactor } from 'zepoll';
import { connectWebSocket } from 'zepoll/ws';
import { serve, type FetchServer, type WebSocketHandler } from 'zepoll/fetch';
import { trackFds } from '../helpers/fds.js';
import { until } from '../helpers/wait.js';
import { closeOf, closeOnOpen, nextMessage, open, rawUpgrade, serverFrames, upgradeRequest } from '../helpers/ws.js';
import { constants, inflateRawSync } from 'node:zlib';

/** A server on 127.0.0.1 whose `/ws` upgrades with `data` from the query, and anything else answers 'plain'. */
function bunServe<T>(websocket: WebSocketHandler<T>, data: (url: URL) => T, onError?: (error: Error, request: Request | null) => void): FetchServer<T> {
  return serve<T>({
    port: 0,
    host: '127.0.0.1',
    ...(onError === undefined ? {} : { onError }),
    fetch(request, server) {
      const url = new URL(request.url);
      if (url.pathname !== '/ws') return new Response('plain');
      if (server.upgrade(request, { data: data(url) })) return undefined;
      return new Response('Upgrade failed', { status: 400 });
    },
    websocket,
  });
}

t.test('server.upgrade() gives ws.data; open, message (text a string, binary a Buffer of its own), close with code and reason', async (t) => {
  const fds = trackFds();
  const events: unknown[] = [];
  const server = bunServe<{ user: string }>(
    {
      open(ws) {
        events.push(['open', ws.data.user, ws.readyState]);
        ws.send(`hi ${ws.data.user}`);
      },
      message(ws, message) {
        events.push(['message', typeof message, Buffer.isBuffer(message) && message.buffer.byteLength === message.length]);
        ws.send(message as string | Buffer);
      },
      close(ws, code, reason) {
        events.push(['close', ws.data.user, code, reason, ws.readyState]);
      },
    },
    (url) => ({ user: url.searchParams.get('user') ?? 'anonymous' }),
  );
  const base = `127.0.0.1:${server.port}`;
  const client = await open(`ws://${base}/ws?user=ada`);
  t.equal((await nextMessage(client)).data.toString(), 'hi ada', 'open sent at once, with ws.data');
  client.send('text');
  const text = await nextMessage(client);
  t.same([text.data.toString(), text.isBinary], ['text', false]);
  client.send(Buffer.from([1, 2, 3]));
  const binary = await nextMessage(client);
  t.same([[...binary.data], binary.isBinary], [[1, 2, 3], true]);
  const closing = closeOf(client);
  client.close(4001, 'done');
  t.equal((await closing).code, 4001);
  await until(() => events.length === 4, 'the close handler');
  t.same(events, [
    ['open', 'ada', 1],
    ['message', 'string', false],
    ['message', 'object', true],
    ['close', 'ada', 4001, 'done', 3],
  ]);
  const plain = await fetch(`http://${base}/`);
  t.equal(await plain.text(), 'plain', 'a plain request on the same server');
  const notUpgrade = await fetch(`http://${base}/ws`);
  t.same([notUpgrade.status, await notUpgrade.text()], [400, 'Upgrade failed'], 'upgrade() is false for a request that asks for none');
  await server.close();
  await fds.assertNoneSettled(t);
});

t.test("zepoll's own client: echo, and the server's close code and reason", async (t) => {
  const fds = trackFds();
  const server = bunServe<undefined>(
    {
      message(ws, message) {
        if (message === 'bye') ws.close(4002, 'server says bye');
        else ws.send(message as string);
      },
    },
    () => undefined,
  );
  const reactor = new Reactor();
  const received: string[] = [];
  let closed: [number, string] | null = null;
  const socket = await connectWebSocket(reactor, `ws://127.0.0.1:${server.port}/ws`, {
    message: (_ws, data) => void received.push(data.toString()),
    close: (_ws, code, reason) => void (closed = [code, reason]),
  });
  socket.send('one');
  socket.send('two');
  await until(() => received.length === 2, 'the echoes');
  t.same(received, ['one', 'two']);
  socket.send('bye');
  await until(() => closed !== null, 'the close');
  t.same(closed, [4002, 'server says bye']);
  reactor.close();
  await server.close();
  await fds.assertNoneSettled(t);
});

t.test('the 101 carries the headers given, and a subprotocol: the client\'s first, or the one named', async (t) => {
  const fds = trackFds();
  const server = serve({
    port: 0,
    host: '127.0.0.1',
    fetch(request, server) {
      const chosen = new URL(request.url).searchParams.get('protocol');
      const headers: Record<string, string> = { 'X-Hello': 'there', 'Set-Cookie': 'session=1' };
      if (chosen !== null) headers['Sec-WebSocket-Protocol'] = chosen;
      server.upgrade(request, { headers });
      return undefined;
    },
    websocket: {},
  });
  const raw = await rawUpgrade(server.port, upgradeRequest('/'));
  t.match(raw.head, /^HTTP\/1\.1 101 Switching Protocols\r\n/);
  t.match(raw.head, /\r\nx-hello: there(\r\n|$)/i);
  t.match(raw.head, /\r\nset-cookie: session=1(\r\n|$)/i);
  t.notMatch(raw.head, /sec-websocket-protocol/i, 'none offered, none picked');
  raw.socket.destroy();
  const first = await open(`ws://127.0.0.1:${server.port}/`, {}, ['chat', 'json']);
  t.equal(first.protocol, 'chat', 'the first offered, as ws picks it');
  first.terminate();
  const named = await open(`ws://127.0.0.1:${server.port}/?protocol=json`, {}, ['chat', 'json']);
  t.equal(named.protocol, 'json', 'the one the headers name');
  named.terminate();
  await server.close();
  await fds.assertNoneSettled(t);
});

t.test('upgrade() is false where no handshake can be accepted: the handler answers instead', async (t) => {
  const fds = trackFds();
  const outcomes: Array<[string, boolean | string]> = [];
  let kept: Request | null = null;
  const server = serve({
    port: 0,
    host: '127.0.0.1',
    fetch(request, server) {
      const path = new URL(request.url).pathname;
      const attempt = (name: string, call: () => boolean): void => {
        try {
          outcomes.push([name, call()]);
        } catch (error) {
          outcomes.push([name, (error as { code: string }).code]);
        }
      };
      if (path === '/keep') {
        kept = request;
        return new Response('kept');
      }
      if (path === '/late') attempt('late', () => server.upgrade(kept!));
      else if (path === '/copy') attempt('copy', () => server.upgrade(new Request(request.url, { headers: request.headers })));
      else if (path === '/twice') {
        attempt('first', () => server.upgrade(request));
        attempt('second', () => server.upgrade(request));
        return undefined;
      } else if (path === '/misuse') {
        attempt('not a request', () => server.upgrade('/misuse' as unknown as Request));
        attempt('bad headers', () => server.upgrade(request, { headers: { 'bad name': 'x' } }));
        attempt('protocol not offered', () => server.upgrade(request, { headers: { 'Sec-WebSocket-Protocol': 'nope' } }));
      } else attempt(path, () => server.upgrade(request));
      return new Response('refused', { status: 400 });
    },
    websocket: {},
  });
  const port = server.port;
  const answers: string[] = [];
  const send = async (request: string): Promise<void> => {
    const raw = await rawUpgrade(port, request);
    answers.push(raw.head.split('\r\n')[0]!);
    raw.socket.destroy();
  };
  await send(upgradeRequest('/bad-key', [], 'short'));
  await send(upgradeRequest('/version', [], undefined, '8'));
  await send(upgradeRequest('/post').replace('GET', 'POST'));
  await send(upgradeRequest('/body', ['Content-Length: 5']) + 'hello');
  await send(upgradeRequest('/copy'));
  await send(upgradeRequest('/misuse'));
  await (await fetch(`http://127.0.0.1:${port}/keep`)).text();
  await send(upgradeRequest('/late'));
  await send(upgradeRequest('/twice'));
  t.same(answers, [...Array(7).fill('HTTP/1.1 400 Bad Request'), 'HTTP/1.1 101 Switching Protocols']);
  t.same(outcomes, [
    ['/bad-key', false],
    ['/version', false],
    ['/post', false],
    ['/body', false],
    ['copy', false],
    ['not a request', 'ERR_INVALID_ARG_TYPE'],
    ['bad headers', 'ERR_INVALID_ARG_VALUE'],
    ['protocol not offered', 'ERR_INVALID_ARG_VALUE'],
    ['late', false],
    ['first', true],
    ['second', false],
  ]);
  await server.close();
  await fds.assertNoneSettled(t);
});

t.test('without websocket: upgrade() throws ERR_ZEPOLL_WS_NOT_ENABLED, publish() and subscriberCount() are 0', async (t) => {
  const fds = trackFds();
  const codes: string[] = [];
  const server = serve({
    port: 0,
    host: '127.0.0.1',
    fetch(request, server) {
      try {
        server.upgrade(request);
      } catch (error) {
        codes.push((error as { code: string }).code);
      }
      return new Response(`${server.publish('topic', 'x')} ${server.subscriberCount('topic')}`);
    },
  });
  t.equal(await (await fetch(`http://127.0.0.1:${server.port}/`)).text(), '0 0');
  t.same(codes, ['ERR_ZEPOLL_WS_NOT_ENABLED']);
  await server.close();
  await fds.assertNoneSettled(t);
});

t.test('websocket options are checked where serve() is called, and nothing is left open', (t) => {
  const fds = trackFds();
  const fetch = (): Response => new Response();
  const cases: Array<[unknown, string, RegExp]> = [
    [5, 'ERR_INVALID_ARG_TYPE', /options\.websocket/],
    [{ open: 'no' }, 'ERR_INVALID_ARG_TYPE', /options\.websocket\.open/],
    [{ message: 1 }, 'ERR_INVALID_ARG_TYPE', /options\.websocket\.message/],
    [{ idleTimeout: -1 }, 'ERR_OUT_OF_RANGE', /options\.websocket\.idleTimeout/],
    [{ idleTimeout: 1.5 }, 'ERR_OUT_OF_RANGE', /options\.websocket\.idleTimeout/],
    [{ maxPayloadLength: 0 }, 'ERR_OUT_OF_RANGE', /options\.websocket\.maxPayloadLength/],
    [{ backpressureLimit: '1' }, 'ERR_INVALID_ARG_TYPE', /options\.websocket\.backpressureLimit/],
    [{ closeOnBackpressureLimit: 1 }, 'ERR_INVALID_ARG_TYPE', /options\.websocket\.closeOnBackpressureLimit/],
    [{ perMessageDeflate: 'yes' }, 'ERR_INVALID_ARG_TYPE', /options\.websocket\.perMessageDeflate/],
    [{ perMessageDeflate: { level: 42 } }, 'ERR_OUT_OF_RANGE', /options\.websocket\.perMessageDeflate\.level/],
  ];
  for (const [websocket, code, message] of cases) {
    t.throws(() => serve({ fetch, port: 0, websocket: websocket as WebSocketHandler<undefined> }), { code, message }, String(message));
  }
  fds.assertNone(t);
  t.end();
});

t.test('a handler that throws or rejects costs only its socket: 1011, onError with a null request, counted', async (t) => {
  const fds = trackFds();
  const errors: Array<[string, Request | null]> = [];
  const server = bunServe<string>(
    {
      open(ws) {
        if (ws.data === 'open') throw new Error('open broke');
      },
      message(ws, message) {
        if (message === 'throw') throw new Error('message broke');
        if (message === 'reject') return Promise.reject(new Error('message rejected'));
        ws.send(message as string);
        return undefined;
      },
    },
    (url) => url.searchParams.get('fail') ?? '',
    (error, request) => void errors.push([error.message, request]),
  );
  const url = `ws://127.0.0.1:${server.port}/ws`;
  const bystander = await open(url);
  t.same(await closeOnOpen(`${url}?fail=open`), { code: 1011, reason: 'handler failed' }, 'open threw: 1011');
  for (const message of ['throw', 'reject']) {
    const client = await open(url);
    const closing = closeOf(client);
    client.send(message);
    t.same(await closing, { code: 1011, reason: 'handler failed' }, `${message}: 1011`);
  }
  bystander.send('still here');
  t.equal((await nextMessage(bystander)).data.toString(), 'still here', 'another socket is untouched');
  t.same(errors, [
    ['open broke', null],
    ['message broke', null],
    ['message rejected', null],
  ]);
  t.equal(server.stats!.handlerErrors, 3);
  bystander.terminate();
  await server.close();
  await fds.assertNoneSettled(t);
});

t.test('fetch failing after its upgrade: reported with its request, the socket stays', async (t) => {
  const fds = trackFds();
  const errors: Array<[string, boolean]> = [];
  const server = serve({
    port: 0,
    host: '127.0.0.1',
    onError: (error, request) => void errors.push([error.message, request instanceof Request]),
    fetch(request, server) {
      server.upgrade(request);
      if (request.url.endsWith('/sync')) throw new Error('thrown after upgrade');
      return Promise.reject(new Error('rejected after upgrade'));
    },
    websocket: { message: (ws, message) => void ws.send(message as string) },
  });
  for (const path of ['/sync', '/async']) {
    const client = await open(`ws://127.0.0.1:${server.port}${path}`);
    client.send(path);
    t.equal((await nextMessage(client)).data.toString(), path, `${path}: the socket works`);
    client.terminate();
  }
  await until(() => errors.length === 2, 'both errors');
  t.same(errors, [
    ['thrown after upgrade', true],
    ['rejected after upgrade', true],
  ]);
  t.equal(server.stats!.handlerErrors, 2);
  await server.close();
  await fds.assertNoneSettled(t);
});

t.test('a returned Response after an upgrade is ignored, sync or async; a sync fetch still gets the server as `this`', async (t) => {
  const fds = trackFds();
  const server = serve({
    port: 0,
    host: '127.0.0.1',
    fetch(this: FetchServer, request, server) {
      if (this !== server) return new Response('this is not the server', { status: 500 });
      const upgraded = server.upgrade(request);
      const ignored = new Response('ignored', { status: 418 });
      return request.url.endsWith('/async') ? Promise.resolve(ignored) : upgraded ? ignored : new Response('no');
    },
    websocket: { open: (ws) => void ws.send('opened') },
  });
  for (const path of ['/sync', '/async']) {
    const client = await open(`ws://127.0.0.1:${server.port}${path}`);
    t.equal((await nextMessage(client)).data.toString(), 'opened', `${path}: no 418 went out, only the socket`);
    client.terminate();
  }
  await server.close();
  await fds.assertNoneSettled(t);
});

t.test("websocket.data types ws.data where nothing else does, as on Bun (TypeScript only: it is not read)", async (t) => {
  const fds = trackFds();
  const server = serve({
    port: 0,
    host: '127.0.0.1',
    fetch: (request, server) => (server.upgrade(request, { data: { user: 'typed' } }) ? undefined : new Response('no')),
    websocket: {
      data: {} as { user: string },
      open: (ws) => void ws.send(ws.data.user),
    },
  });
  const client = await open(`ws://127.0.0.1:${server.port}/`);
  t.equal((await nextMessage(client)).data.toString(), 'typed');
  client.terminate();
  await server.close();
  await fds.assertNoneSettled(t);
});

t.test('closing the server says 1001 (Going Away) to its sockets', async (t) => {
  const fds = trackFds();
  const closes: number[] = [];
  const server = bunServe<undefined>({ close: (_ws, code) => void closes.push(code) }, () => undefined);
  const client = await open(`ws://127.0.0.1:${server.port}/ws`);
  const closing = closeOf(client);
  await server.close();
  t.equal((await closing).code, 1001, 'Going Away');
  t.same(closes, [1001]);
  await fds.assertNoneSettled(t);
});

/** What a deflate block flushed with Z_SYNC_FLUSH ends with, and a permessage-deflate message leaves out (RFC 7692 7.2.1). */
const SYNC_TRAILER = Buffer.from([0x00, 0x00, 0xff, 0xff]);

t.test('websocket.perMessageDeflate: negotiated; send, sendText, sendBinary and both publishes compress unless told not to', async (t) => {
  const fds = trackFds();
  const body = 'z'.repeat(4096);
  const server = serve<null>({
    port: 0,
    host: '127.0.0.1',
    fetch(request, server) {
      return server.upgrade(request, { data: null }) ? undefined : new Response('no', { status: 400 });
    },
    websocket: {
      perMessageDeflate: true,
      open(ws) {
        ws.subscribe('room');
        ws.send(body); // compressed
        ws.send(body, false); // not
        ws.sendText(body); // compressed
        ws.sendBinary(Buffer.from(body), false); // not
        server.publish('room', body); // compressed
        server.publish('room', body, false); // not
      },
    },
  });
  const raw = await rawUpgrade(server.port, upgradeRequest('/', ['Sec-WebSocket-Extensions: permessage-deflate']));
  t.match(raw.head, /sec-websocket-extensions: permessage-deflate/i, 'the 101 agrees to permessage-deflate');
  await until(() => serverFrames(raw.received()).length >= 6, 'six messages');
  const frames = serverFrames(raw.received());
  t.same(frames.map((frame) => frame.rsv1), [true, false, true, false, true, false], 'compressed where asked (RSV1), plain where compress was false');
  raw.socket.destroy();
  // One inflater for the socket's compressed messages, in order: with context takeover each may refer to the ones before.
  const compressed = frames.filter((frame) => frame.rsv1).map((frame) => Buffer.concat([frame.payload, SYNC_TRAILER]));
  t.equal(inflateRawSync(Buffer.concat(compressed), { finishFlush: constants.Z_SYNC_FLUSH }).toString(), body.repeat(3), 'the compressed ones inflate to the body');
  t.same(frames.filter((frame) => !frame.rsv1).map((frame) => frame.payload.toString()), [body, body, body], 'the plain ones are the body');
  await server.close();
  await fds.assertNoneSettled(t);
});
