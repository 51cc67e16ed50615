/**
 * The WebSocket server over real sockets: the handshake (accepted, refused
 * by the upgrade handler, 426, 400), echo of text and binary at the
 * length-encoding boundaries with the `ws` package as client,
 * fragmentation, ping/pong, the close handshake both ways, and the
 * failures a peer causes (1007, 1009, 1002 for an unmasked frame) written
 * byte by byte on a raw socket. Every test counts fds before and after.
 */
import t from 'tap';
import { randomBytes } from 'node:crypto';
import WebSocket from 'ws';
import { frame } from './frames.js';
import { trackFds } from '../helpers/fds.js';
import { until } from '../helpers/wait.js';
import { closeCodeOf, closeOf, ECHO, nextMessage, open, rawUpgrade, SAMPLE_ACCEPT, serve, serverFrames, upgradeRequest } from '../helpers/ws.js';
import type { WebSocket as ZWebSocket } from '../../packages/reactor/src/ws/socket.js';

t.test('handshake: 101 with the accept value, the upgrade handler headers, and per-socket data', async (t) => {
  const fds = trackFds();
  const opened: string[] = [];
  const served = serve<{ user: string }>({
    upgrade(request, response) {
      response.setHeader('X-Hello', 'there');
      return { user: request.header('x-user') ?? 'anonymous' };
    },
    open(ws) {
      opened.push(ws.data.user);
      ws.send(`hi ${ws.data.user}`);
    },
  });
  const port = served.wss.server.port;
  const raw = await rawUpgrade(port, upgradeRequest('/room', ['X-User: ada']));
  t.match(raw.head, /^HTTP\/1\.1 101 Switching Protocols\r\n/);
  t.match(raw.head, /\r\nX-Hello: there\r\n/);
  t.match(raw.head, /\r\nUpgrade: websocket\r\n/i);
  t.match(raw.head, /\r\nConnection: Upgrade\r\n/i);
  t.match(raw.head, new RegExp(`\r\nSec-WebSocket-Accept: ${SAMPLE_ACCEPT.replace(/[+/]/g, '\\$&')}(\r\n|$)`));
  await until(() => serverFrames(raw.received()).length === 1, 'the greeting');
  t.equal(serverFrames(raw.received())[0]!.payload.toString(), 'hi ada');
  t.same(opened, ['ada']);
  raw.socket.destroy();
  await served.close();
  await fds.assertNoneSettled(t);
});

t.test('handshake: refused by the upgrade handler, sync and async, with its own response', async (t) => {
  const fds = trackFds();
  const served = serve<string>({
    upgrade(request, response) {
      if (request.path === '/deny') {
        response.writeHead(403).end('no');
        return '';
      }
      return new Promise<string>((resolve) => {
        setTimeout(() => {
          if (request.path === '/late-deny') response.writeHead(401).end('later no');
          resolve('late');
        }, 5);
      });
    },
    open(ws) {
      ws.send(ws.data);
    },
  });
  const port = served.wss.server.port;
  await t.rejects(open(`${served.url}/deny`), /403/);
  await t.rejects(open(`${served.url}/late-deny`), /401/);
  const client = await open(`${served.url}/late`);
  t.equal((await nextMessage(client)).data.toString(), 'late');
  client.terminate();
  const raw = await rawUpgrade(port, upgradeRequest('/deny'));
  t.match(raw.head, /^HTTP\/1\.1 403 /);
  raw.socket.destroy();
  await served.close();
  await fds.assertNoneSettled(t);
});

t.test('handshake: 426 for a plain request and another version, 400 for a bad key, 500 when upgrade throws', async (t) => {
  const fds = trackFds();
  const errors: Array<[string, unknown]> = [];
  const served = serve({
    upgrade(request) {
      if (request.path === '/throw') throw new Error('upgrade broke');
      if (request.path === '/reject') return Promise.reject(new Error('upgrade rejected'));
      return undefined;
    },
  }, { onError: (error, ws) => void errors.push([error.message, ws]) });
  const port = served.wss.server.port;
  const plain = await fetch(`http://127.0.0.1:${port}/`);
  t.equal(plain.status, 426);
  t.equal(plain.headers.get('upgrade'), 'websocket');
  await plain.text();
  const version = await rawUpgrade(port, upgradeRequest('/', [], undefined, '8'));
  t.match(version.head, /^HTTP\/1\.1 426 /);
  t.match(version.head, /\r\nSec-WebSocket-Version: 13/);
  version.socket.destroy();
  const badKey = await rawUpgrade(port, upgradeRequest('/', [], 'short'));
  t.match(badKey.head, /^HTTP\/1\.1 400 /);
  badKey.socket.destroy();
  for (const path of ['/throw', '/reject']) {
    const failed = await rawUpgrade(port, upgradeRequest(path));
    t.match(failed.head, /^HTTP\/1\.1 500 /, `${path}: 500`);
    failed.socket.destroy();
  }
  t.same(errors, [
    ['upgrade broke', null],
    ['upgrade rejected', null],
  ]);
  t.equal(served.reactor.stats.handlerErrors, 2);
  await served.close();
  await fds.assertNoneSettled(t);
});

t.test('echo with the ws client: text and binary at the length-encoding boundaries', async (t) => {
  const fds = trackFds();
  const served = serve(ECHO);
  const client = await open(served.url);
  for (const size of [0, 125, 126, 65535, 65536, 1024 * 1024]) {
    const binary = randomBytes(size);
    client.send(binary);
    const echoed = await nextMessage(client);
    t.ok(echoed.isBinary && echoed.data.equals(binary), `binary ${size}`);
    const text = 'é'.repeat(size >> 1) + 'a'.repeat(size & 1);
    client.send(text);
    const echoedText = await nextMessage(client);
    t.ok(!echoedText.isBinary && echoedText.data.toString() === text, `text ${size}`);
  }
  const closing = closeOf(client);
  client.close(1000, 'bye');
  t.equal((await closing).code, 1000);
  await served.close();
  await fds.assertNoneSettled(t);
});

t.test('fragmented messages and control frames between fragments', async (t) => {
  const fds = trackFds();
  const served = serve(ECHO);
  const raw = await rawUpgrade(served.wss.server.port);
  raw.socket.write(
    Buffer.concat([
      frame({ opcode: 0x1, payload: 'frag', fin: false }),
      frame({ opcode: 0x9, payload: 'between' }),
      frame({ opcode: 0x0, payload: 'men', fin: false }),
      frame({ opcode: 0x0, payload: 'ted', fin: true }),
    ]),
  );
  await until(() => serverFrames(raw.received()).length === 2, 'pong and message');
  const [pong, message] = serverFrames(raw.received());
  t.same([pong!.opcode, pong!.payload.toString()], [0xa, 'between'], 'the ping answered in between');
  t.same([message!.opcode, message!.payload.toString()], [0x1, 'fragmented']);
  // A message split over many reads, one byte at a time.
  const bytes = frame({ opcode: 0x2, payload: Buffer.alloc(300, 7) });
  for (const byte of bytes) {
    raw.socket.write(Buffer.from([byte]));
    await new Promise((resolve) => setImmediate(resolve));
  }
  await until(() => serverFrames(raw.received()).length === 3, 'the trickled message');
  t.ok(serverFrames(raw.received())[2]!.payload.equals(Buffer.alloc(300, 7)));
  raw.socket.destroy();
  await served.close();
  await fds.assertNoneSettled(t);
});

t.test('ping and pong with the ws client, both ways', async (t) => {
  const fds = trackFds();
  let serverSocket: ZWebSocket<undefined> | null = null;
  const served = serve({ open: (ws) => void (serverSocket = ws) });
  const client = await open(served.url);
  const pong = new Promise<Buffer>((resolve) => client.once('pong', resolve));
  client.ping('are you there');
  t.equal((await pong).toString(), 'are you there');
  await until(() => serverSocket !== null, 'open');
  const ping = new Promise<Buffer>((resolve) => client.once('ping', resolve));
  t.equal(serverSocket!.ping('marco'), true);
  t.equal((await ping).toString(), 'marco');
  t.throws(() => serverSocket!.ping(Buffer.alloc(126)), { code: 'ERR_OUT_OF_RANGE' });
  client.terminate();
  await served.close();
  await fds.assertNoneSettled(t);
});

t.test('close handshake: client-initiated and server-initiated, codes and reasons', async (t) => {
  const fds = trackFds();
  const closes: Array<[number, string]> = [];
  const served = serve({
    message(ws, data) {
      const [code, reason] = data.toString().split(':');
      ws.end(Number(code), reason);
      t.equal(ws.isOpen, false);
      t.equal(ws.send('after end'), 2, 'a send after end() is dropped');
    },
    close: (_ws, code, reason) => void closes.push([code, reason]),
  });
  const first = await open(served.url);
  const firstClose = closeOf(first);
  first.close(4001, 'client says bye');
  t.same(await firstClose, { code: 4001, reason: '' }, 'the server echoes the code');
  const second = await open(served.url);
  const secondClose = closeOf(second);
  second.send('1001:server says bye');
  t.same(await secondClose, { code: 1001, reason: 'server says bye' });
  const third = await open(served.url);
  const thirdClose = closeOf(third);
  third.terminate();
  await thirdClose;
  await until(() => closes.length === 3, 'three close handlers');
  t.same(closes, [
    [4001, 'client says bye'],
    [1001, 'server says bye'],
    [1006, ''],
  ]);
  await served.close();
  await fds.assertNoneSettled(t);
});

t.test('a peer that does not answer our close frame is destroyed after closeTimeoutMs', async (t) => {
  const fds = trackFds();
  const closes: number[] = [];
  const served = serve({ open: (ws) => ws.end(1000, 'go'), close: (_ws, code) => void closes.push(code) }, { closeTimeoutMs: 50 });
  const raw = await rawUpgrade(served.wss.server.port);
  const rest = await raw.ended();
  const frames = serverFrames(rest);
  t.same([frames[0]!.opcode, closeCodeOf(frames[0]!.payload)], [0x8, 1000]);
  t.same(closes, [1000]);
  await served.close();
  await fds.assertNoneSettled(t);
});

t.test('failures a peer causes: 1007, 1009, 1002 for an unmasked frame, 1002 for a reserved opcode', async (t) => {
  const fds = trackFds();
  const closes: number[] = [];
  const served = serve({ ...ECHO, close: (_ws, code) => void closes.push(code) }, { maxPayloadLength: 1000 });
  const port = served.wss.server.port;
  const cases: Array<[string, Buffer, number]> = [
    ['invalid UTF-8 in a first fragment', frame({ opcode: 0x1, payload: Buffer.from([0x61, 0xc0, 0x80]), fin: false }), 1007],
    ['over maxPayloadLength', frame({ opcode: 0x2, payload: Buffer.alloc(1001) }), 1009],
    ['fragments over maxPayloadLength', Buffer.concat([frame({ opcode: 0x2, payload: Buffer.alloc(600), fin: false }), frame({ opcode: 0x0, payload: Buffer.alloc(600) })]), 1009],
    ['an unmasked frame from a client', frame({ opcode: 0x1, payload: 'x', mask: null }), 1002],
    ['a reserved opcode', frame({ opcode: 0x3 }), 1002],
    ['a close reason that is not UTF-8', frame({ opcode: 0x8, payload: Buffer.from([0x03, 0xe8, 0xff]) }), 1007],
  ];
  for (const [what, bytes, code] of cases) {
    const raw = await rawUpgrade(port);
    raw.socket.write(bytes);
    const frames = serverFrames(await raw.ended());
    const last = frames[frames.length - 1]!;
    t.same([last.opcode, closeCodeOf(last.payload)], [0x8, code], what);
  }
  await until(() => closes.length === cases.length, 'every close handler');
  t.same(closes, [1007, 1009, 1009, 1002, 1002, 1007]);
  await served.close();
  await fds.assertNoneSettled(t);
});

t.test('frames behind the handshake in the same write reach the socket', async (t) => {
  const fds = trackFds();
  const served = serve(ECHO);
  const raw = await rawUpgrade(served.wss.server.port, Buffer.concat([Buffer.from(upgradeRequest('/')), frame({ opcode: 0x1, payload: 'eager' })]));
  await until(() => serverFrames(raw.received()).length === 1, 'the echo');
  t.equal(serverFrames(raw.received())[0]!.payload.toString(), 'eager');
  raw.socket.destroy();
  await served.close();
  await fds.assertNoneSettled(t);
});

t.test('a server closing says 1001 to its sockets', async (t) => {
  const fds = trackFds();
  const served = serve(ECHO);
  const client = await open(served.url);
  const closing = closeOf(client);
  const done = served.close();
  t.same(await closing, { code: 1001, reason: 'server closing' });
  await done;
  await fds.assertNoneSettled(t);
});

t.test('ws as the client: many sockets, messages in order', async (t) => {
  const fds = trackFds();
  const served = serve(ECHO);
  const clients = await Promise.all(Array.from({ length: 20 }, () => open(served.url)));
  await Promise.all(
    clients.map(async (client, index) => {
      const got: string[] = [];
      for (let n = 0; n < 50; n += 1) client.send(`${index}:${n}`);
      while (got.length < 50) got.push((await nextMessage(client)).data.toString());
      t.same(got, Array.from({ length: 50 }, (_, n) => `${index}:${n}`));
    }),
  );
  for (const client of clients) client.close();
  await Promise.all(clients.map((client) => (client.readyState === WebSocket.CLOSED ? undefined : closeOf(client))));
  await served.close();
  await fds.assertNoneSettled(t);
});
