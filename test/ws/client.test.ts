/**
 * The client (connectWebSocket) against the `ws` package's server and
 * against zepoll's own: the handshake checked (a wrong accept value, a
 * refusal, an extension not offered, a silent server), frames masked (the
 * `ws` server fails unmasked ones), echo at the length boundaries, close
 * both ways. Every test counts fds before and after.
 */
import t from 'tap';
import net from 'node:net';
import { randomBytes } from 'node:crypto';
import { WebSocketServer as WsServer } from 'ws';
import { Reactor } from '../../packages/reactor/src/reactor.js';
import { connectWebSocket } from '../../packages/reactor/src/ws/client.js';
import { acceptKey } from '../../packages/reactor/src/ws/handshake.js';
import type { WebSocket } from '../../packages/reactor/src/ws/socket.js';
import { trackFds } from '../helpers/fds.js';
import { until } from '../helpers/wait.js';
import { ECHO, serve } from '../helpers/ws.js';

/** A zepoll client whose messages are collected. */
async function client(reactor: Reactor, url: string, options: Parameters<typeof connectWebSocket>[3] = {}) {
  const messages: Array<{ text: string; bytes: Buffer; isBinary: boolean }> = [];
  const closes: Array<[number, string]> = [];
  const socket = await connectWebSocket(
    reactor,
    url,
    {
      message: (_ws, data, isBinary) => void messages.push({ text: data.toString(), bytes: Buffer.from(data), isBinary }),
      close: (_ws, code, reason) => void closes.push([code, reason]),
    },
    options,
  );
  return { socket, messages, closes };
}

function wsServer(): Promise<WsServer> {
  return new Promise((resolve) => {
    const server: WsServer = new WsServer({ host: '127.0.0.1', port: 0 }, (): void => resolve(server));
  });
}

const portOf = (server: WsServer): number => (server.address() as { port: number }).port;

t.test('our client against the ws server: echo at the length boundaries, masked frames, close', async (t) => {
  const fds = trackFds();
  const server = await wsServer();
  const paths: string[] = [];
  server.on('connection', (socket, request) => {
    paths.push(request.url ?? '');
    socket.on('message', (data, isBinary) => socket.send(data, { binary: isBinary }));
  });
  const reactor = new Reactor();
  const { socket, messages, closes } = await client(reactor, `ws://127.0.0.1:${portOf(server)}/echo?x=1`, { headers: { 'X-Test': 'yes' }, maxBackpressure: 8 * 1024 * 1024 });
  t.same(paths, ['/echo?x=1']);
  let expected = 0;
  for (const size of [0, 125, 126, 65535, 65536, 1024 * 1024]) {
    const bytes = randomBytes(size);
    // Two sends back to back: with io_uring the first may still be queued (the kernel holds it until done), so the bound must allow both.
    t.not(socket.send(bytes), 2, 'not dropped');
    t.not(socket.send('ü'.repeat(size >> 1)), 2, 'not dropped');
    expected += 2;
    await until(() => messages.length === expected, `echo of ${size}`);
    t.ok(messages[expected - 2]!.isBinary && messages[expected - 2]!.bytes.equals(bytes), `binary ${size}`);
    t.equal(messages[expected - 1]!.text, 'ü'.repeat(size >> 1), `text ${size}`);
  }
  const serverClosed = new Promise<number>((resolve) => server.clients.forEach((peer) => peer.once('close', (code) => resolve(code))));
  socket.end(4000, 'done');
  t.equal(await serverClosed, 4000);
  await until(() => closes.length === 1, 'the close handler');
  t.same(closes, [[4000, 'done']]);
  await new Promise((resolve) => server.close(resolve));
  reactor.close();
  await fds.assertNoneSettled(t);
});

t.test('the ws server closing first: our client echoes and gets its code', async (t) => {
  const fds = trackFds();
  const server = await wsServer();
  server.on('connection', (socket) => socket.on('message', () => socket.close(1001, 'away')));
  const reactor = new Reactor();
  const { socket, closes } = await client(reactor, `ws://127.0.0.1:${portOf(server)}/`);
  socket.send('close please');
  await until(() => closes.length === 1, 'closed');
  t.same(closes, [[1001, 'away']]);
  await new Promise((resolve) => server.close(resolve));
  reactor.close();
  await fds.assertNoneSettled(t);
});

t.test('our client against our server: topics on a client socket, ping, abrupt close', async (t) => {
  const fds = trackFds();
  const served = serve(ECHO);
  const reactor = new Reactor();
  const { socket, messages, closes } = await client(reactor, served.url);
  t.equal(socket.subscribe('t'), true);
  t.equal(socket.publish('t', 'to nobody'), 0, 'a socket publishing skips itself');
  const other = await client(reactor, served.url);
  t.equal(other.socket.subscribe('t'), true);
  t.equal(socket.publish('t', 'to the other client'), 1, "client sockets share this thread's topics");
  await until(() => other.messages.length === 1, "the server's echo of the published message");
  t.equal(other.messages[0]!.text, 'to the other client');
  other.socket.close();
  t.equal(socket.ping('hi'), true);
  socket.send(new Uint8Array([1, 2, 3]).buffer);
  await until(() => messages.length === 1, 'echo');
  t.same([...messages[0]!.bytes], [1, 2, 3]);
  socket.close();
  await until(() => closes.length === 1, 'closed');
  t.same(closes, [[1006, '']]);
  t.equal(socket.isSubscribed('t'), false, 'topics are left at the close');
  reactor.close();
  await served.close();
  await fds.assertNoneSettled(t);
});

/** A TCP server that answers every request with `answer` (and, with `hold`, nothing: it stays silent). */
function fakeServer(answer: string | null): Promise<net.Server> {
  return new Promise((resolve) => {
    const server = net.createServer((socket) => {
      socket.on('error', () => {});
      socket.once('data', () => {
        if (answer !== null) socket.write(answer);
      });
    });
    server.listen(0, '127.0.0.1', () => resolve(server));
  });
}

t.test('a wrong answer fails the handshake with the server status', async (t) => {
  const fds = trackFds();
  const reactor = new Reactor();
  const cases: Array<[string | null, RegExp, number, object]> = [
    ['HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n', /answered 403/, 403, {}],
    ['HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: wrong=\r\n\r\n', /does not answer our key/, 101, {}],
    ['HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Extensions: permessage-deflate\r\n\r\n', /extension we did not offer/, 101, {}],
    ['HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\n\r\n', /no Upgrade/, 101, {}],
    ['HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n', /no Connection/, 101, {}],
    ['HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: keep-alive\r\n\r\n', /no Connection/, 101, {}],
    ['HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Protocol: chat\r\n\r\n', /subprotocol we did not offer/, 101, { protocols: ['other'] }],
    ['HTTP/1.1 101 Switching Protocols\r\nbroken line\r\n\r\n', /malformed header line/, 101, {}],
    ['SMTP ready\r\n\r\n', /malformed status line/, 0, {}],
    [`HTTP/1.1 200 OK\r\nX: ${'a'.repeat(17 * 1024)}`, /over 16384 bytes/, 0, {}],
    [null, /no handshake answer within 50 ms/, 0, { timeoutMs: 50 }],
    ['', /closed the connection before its answer/, 0, {}],
  ];
  for (const [answer, message, status, options] of cases) {
    const server = await fakeServer(answer === '' ? null : answer);
    if (answer === '') server.on('connection', (socket) => socket.once('data', () => socket.end()));
    const port = (server.address() as net.AddressInfo).port;
    await t.rejects(connectWebSocket(reactor, `ws://127.0.0.1:${port}/`, {}, options), { code: 'ERR_ZEPOLL_WS_HANDSHAKE', status, message }, String(message));
    await new Promise((resolve) => server.close(resolve));
  }
  await t.rejects(connectWebSocket(reactor, 'ws://127.0.0.1:1/', {}), { code: 'ECONNREFUSED' });
  reactor.close();
  await fds.assertNoneSettled(t);
});

t.test('frames the server sends right behind its 101 reach the client', async (t) => {
  const fds = trackFds();
  const server = net.createServer((socket) => {
    socket.once('data', (request: Buffer) => {
      const key = /Sec-WebSocket-Key: (\S+)/.exec(request.toString('latin1'))![1]!;
      const greeting = Buffer.from([0x81, 0x05, ...Buffer.from('hello')]);
      socket.end(Buffer.concat([Buffer.from(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${acceptKey(key)}\r\n\r\n`), greeting]));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const reactor = new Reactor();
  const { messages, closes } = await client(reactor, `ws://127.0.0.1:${(server.address() as net.AddressInfo).port}/`);
  await until(() => closes.length === 1, 'the end');
  t.same(messages.map((each) => each.text), ['hello']);
  t.same(closes, [[1006, '']], 'a FIN without a close frame');
  await new Promise((resolve) => server.close(resolve));
  reactor.close();
  await fds.assertNoneSettled(t);
});

t.test('arguments and options are checked at once', async (t) => {
  const reactor = new Reactor();
  t.throws(() => connectWebSocket({} as Reactor, 'ws://127.0.0.1:1/', {}), { code: 'ERR_INVALID_ARG_TYPE' });
  t.throws(() => connectWebSocket(reactor, 42 as unknown as string, {}), { code: 'ERR_INVALID_ARG_TYPE' });
  t.throws(() => connectWebSocket(reactor, 'not a url', {}), { code: 'ERR_INVALID_ARG_VALUE' });
  t.throws(() => connectWebSocket(reactor, 'wss://127.0.0.1:1/', {}), { code: 'ERR_INVALID_ARG_VALUE' });
  t.throws(() => connectWebSocket(reactor, 'ws://127.0.0.1:1/', null as unknown as object), { code: 'ERR_INVALID_ARG_TYPE' });
  t.throws(() => connectWebSocket(reactor, 'ws://127.0.0.1:1/', { message: 1 } as unknown as object), { code: 'ERR_INVALID_ARG_TYPE' });
  t.throws(() => connectWebSocket(reactor, 'ws://127.0.0.1:1/', {}, { protocols: 'chat' as unknown as string[] }), { code: 'ERR_INVALID_ARG_TYPE' });
  t.throws(() => connectWebSocket(reactor, 'ws://127.0.0.1:1/', {}, { protocols: ['a b\r\n'] }), { code: 'ERR_INVALID_ARG_VALUE' });
  t.throws(() => connectWebSocket(reactor, 'ws://127.0.0.1:1/', {}, { headers: 'x' as unknown as Record<string, string> }), { code: 'ERR_INVALID_ARG_TYPE' });
  t.throws(() => connectWebSocket(reactor, 'ws://127.0.0.1:1/', {}, { headers: { 'Bad Name': 'x' } }), { code: 'ERR_INVALID_ARG_VALUE' });
  t.throws(() => connectWebSocket(reactor, 'ws://127.0.0.1:1/', {}, { timeoutMs: 0 }), { code: 'ERR_OUT_OF_RANGE' });
  t.throws(() => connectWebSocket(reactor, 'ws://127.0.0.1:1/', {}, { maxBackpressure: -1 }), { code: 'ERR_OUT_OF_RANGE' });
  t.throws(() => connectWebSocket(reactor, 'ws://127.0.0.1:1/', {}, { noDelay: 'yes' as unknown as boolean }), { code: 'ERR_INVALID_ARG_TYPE' });
  reactor.close();
});
