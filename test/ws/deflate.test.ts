/**
 * permessage-deflate over real sockets. How: the `ws` package's client
 * against zepoll's server and zepoll's client against the `ws` server,
 * each with compression on and context takeover off on either side, many
 * messages echoed and compared; raw clients that write frames by hand
 * (compressed with Node's zlib, not with the code under test) for what a
 * peer library would not send: compressed messages fragmented, with a
 * ping between the fragments; RSV1 where it is not allowed (1002); a zip
 * bomb (1009, without inflating it); data that does not inflate and text
 * that is not UTF-8 once inflated (1007); what goes out compressed
 * (RSV1) by threshold and by send()'s `compress`. Then a handler's throw
 * (only its socket closes) and a publish to subscribers with different
 * terms (compressed once per window size, windows kept in step). Every
 * test counts fds before and after.
 */
import t from 'tap';
import { randomBytes } from 'node:crypto';
import { syncBuiltinESMExports } from 'node:module';
import zlib from 'node:zlib';
import WebSocket, { WebSocketServer as WsServer } from 'ws';
import { Reactor } from '../../packages/reactor/src/reactor.js';
import { connectWebSocket } from '../../packages/reactor/src/ws/client.js';
import { SEND_DROPPED, SEND_SUCCESS, type WebSocket as ZWebSocket } from '../../packages/reactor/src/ws/socket.js';
import { frame } from './frames.js';
import { trackFds } from '../helpers/fds.js';
import { until } from '../helpers/wait.js';
import { closeCodeOf, closeOf, ECHO, nextMessage, open, rawUpgrade, serve, serverFrames, upgradeRequest, type RawClient } from '../helpers/ws.js';

const { Z_SYNC_FLUSH } = zlib.constants;
const OFFER = 'Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits';
/** A message compressed alone, as a client with no context takeover sends it (trailer removed). */
const deflated = (payload: Buffer | string): Buffer => zlib.deflateRawSync(Buffer.from(payload), { finishFlush: Z_SYNC_FLUSH }).subarray(0, -4);
const inflated = (payload: Buffer): Buffer => zlib.inflateRawSync(Buffer.concat([payload, Buffer.from([0, 0, 0xff, 0xff])]), { finishFlush: Z_SYNC_FLUSH });

/** Text of many kinds and sizes, and bytes that do not compress. */
function corpus(): Array<Buffer | string> {
  const list: Array<Buffer | string> = [];
  for (const size of [0, 1, 125, 126, 1000, 1024, 5000, 65535, 65536, 300_000]) {
    list.push(JSON.stringify({ size, words: 'zepoll compresses what repeats '.repeat(size / 31 + 1) }).slice(0, size));
    list.push(randomBytes(size));
    list.push(Buffer.from('ü€'.repeat(size / 5 + 1)).subarray(0, size - (size % 5)));
  }
  return list;
}

/** A raw client's frames, once `count` have come. */
async function framesOf(raw: RawClient, count: number, what: string) {
  await until(() => serverFrames(raw.received()).length >= count, what);
  return serverFrames(raw.received());
}

t.test('the ws client against our server, echoed both ways under each context-takeover setting', async (t) => {
  const fds = trackFds();
  const rows: Array<[object, WebSocket.PerMessageDeflateOptions]> = [
    [{}, { threshold: 0 }],
    [{ serverNoContextTakeover: true }, { threshold: 0 }],
    [{}, { threshold: 0, clientNoContextTakeover: true }],
    [{ clientNoContextTakeover: true, serverMaxWindowBits: 10 }, { threshold: 0, serverNoContextTakeover: true, clientMaxWindowBits: 9 }],
  ];
  for (const [server, client] of rows) {
    const served = serve(ECHO, { perMessageDeflate: { threshold: 0, ...server } });
    const ws = await open(served.url, { perMessageDeflate: client, maxPayload: 0 });
    let same = 0;
    const list = corpus();
    for (const message of list) {
      ws.send(message, { binary: typeof message !== 'string' });
      const echoed = await nextMessage(ws);
      if (echoed.isBinary === (typeof message !== 'string') && echoed.data.equals(Buffer.from(message))) same += 1;
    }
    t.equal(same, list.length, `${list.length} messages, server ${JSON.stringify(server)}, client ${JSON.stringify(client)}`);
    const closing = closeOf(ws);
    ws.close(1000);
    t.equal((await closing).code, 1000);
    await served.close();
  }
  await fds.assertNoneSettled(t);
});

t.test('our client against the ws server, echoed, context takeover off on either side', async (t) => {
  const fds = trackFds();
  const reactor = new Reactor();
  const rows: Array<[WebSocket.PerMessageDeflateOptions, object]> = [
    [{ threshold: 0 }, {}],
    [{ threshold: 0, serverNoContextTakeover: true }, {}],
    [{ threshold: 0 }, { clientNoContextTakeover: true }],
    [{ threshold: 0, clientMaxWindowBits: 8 }, { serverMaxWindowBits: 9 }],
  ];
  for (const [server, client] of rows) {
    const peer = await new Promise<WsServer>((resolve) => {
      const created: WsServer = new WsServer({ host: '127.0.0.1', port: 0, perMessageDeflate: server, maxPayload: 0 }, (): void => resolve(created));
    });
    peer.on('connection', (socket) => socket.on('message', (data, isBinary) => socket.send(data, { binary: isBinary })));
    const received: Array<{ bytes: Buffer; isBinary: boolean }> = [];
    const port = (peer.address() as { port: number }).port;
    const socket = await connectWebSocket(reactor, `ws://127.0.0.1:${port}/`, { message: (_ws, data, isBinary) => void received.push({ bytes: Buffer.from(data), isBinary }) }, { perMessageDeflate: { threshold: 0, ...client }, maxBackpressure: 64 * 1024 * 1024 });
    const list = corpus();
    for (const message of list) socket.send(message);
    await until(() => received.length === list.length, 'every echo');
    const same = list.filter((message, index) => received[index]!.isBinary === (typeof message !== 'string') && received[index]!.bytes.equals(Buffer.from(message))).length;
    t.equal(same, list.length, `${list.length} messages in order, ws server ${JSON.stringify(server)}, our client ${JSON.stringify(client)}`);
    socket.close();
    await new Promise((resolve) => peer.close(resolve));
  }
  reactor.close();
  await fds.assertNoneSettled(t);
});

t.test('fragmented compressed messages, with control frames between fragments, and the RFC example split', async (t) => {
  const fds = trackFds();
  const served = serve(ECHO, { perMessageDeflate: { threshold: 0, serverNoContextTakeover: true } });
  const raw = await rawUpgrade(served.wss.server.port, upgradeRequest('/', [OFFER]));
  t.match(raw.head, /\r\nSec-WebSocket-Extensions: permessage-deflate; server_no_context_takeover/);
  const text = 'fragments of a compressed message, '.repeat(200);
  const payload = deflated(text);
  const third = Math.floor(payload.length / 3);
  raw.socket.write(
    Buffer.concat([
      frame({ opcode: 0x1, payload: payload.subarray(0, third), fin: false, rsv: 0x40 }),
      frame({ opcode: 0x9, payload: 'between' }),
      frame({ opcode: 0x0, payload: payload.subarray(third, 2 * third), fin: false }),
      frame({ opcode: 0x0, payload: payload.subarray(2 * third), fin: true }),
      // RFC 7692 §7.2.3.1's "Hello" in two frames.
      frame({ opcode: 0x1, payload: Buffer.from([0xf2, 0x48, 0xcd]), fin: false, rsv: 0x40 }),
      frame({ opcode: 0x0, payload: Buffer.from([0xc9, 0xc9, 0x07, 0x00]) }),
      // An empty compressed message.
      frame({ opcode: 0x2, payload: Buffer.from([0x00]), rsv: 0x40 }),
    ]),
  );
  const [pong, echo, hello, empty] = await framesOf(raw, 4, 'the pong and three echoes');
  t.same([pong!.opcode, pong!.payload.toString()], [0xa, 'between'], 'the ping answered between the fragments');
  t.ok(echo!.rsv1 && echo!.opcode === 0x1, 'echoed compressed, as text');
  t.equal(inflated(echo!.payload).toString(), text);
  t.equal(hello!.rsv1 ? inflated(hello!.payload).toString() : hello!.payload.toString(), 'Hello');
  t.same([empty!.opcode, empty!.payload.length], [0x2, 0], 'the empty message comes back empty (uncompressed: nothing to gain)');
  raw.socket.destroy();
  await served.close();
  await fds.assertNoneSettled(t);
});

/** The close code the server answers `frames` with, after a deflate handshake (or a plain one with `offer` false). */
async function closeCodeFor(frames: Buffer, offer: boolean, options: object = {}): Promise<number> {
  const served = serve(ECHO, { perMessageDeflate: { threshold: 0 }, ...options });
  const raw = await rawUpgrade(served.wss.server.port, upgradeRequest('/', offer ? [OFFER] : []));
  raw.socket.write(frames);
  const bytes = await raw.ended();
  await served.close();
  const close = serverFrames(bytes).find((each) => each.opcode === 0x8);
  return close === undefined ? -1 : closeCodeOf(close.payload);
}

t.test('RSV1 where it may not be: on a control frame, on a continuation, without the extension (1002)', async (t) => {
  const fds = trackFds();
  t.equal(await closeCodeFor(frame({ opcode: 0x9, payload: 'x', rsv: 0x40 }), true), 1002, 'a ping with RSV1');
  t.equal(await closeCodeFor(frame({ opcode: 0x8, payload: Buffer.from([0x03, 0xe8]), rsv: 0x40 }), true), 1002, 'a close with RSV1');
  t.equal(await closeCodeFor(Buffer.concat([frame({ opcode: 0x1, payload: deflated('ab'), fin: false, rsv: 0x40 }), frame({ opcode: 0x0, payload: 'c', rsv: 0x40 })]), true), 1002, 'a continuation with RSV1');
  t.equal(await closeCodeFor(frame({ opcode: 0x1, payload: deflated('hello'), rsv: 0x40 }), false), 1002, 'no offer, so not negotiated');
  t.equal(await closeCodeFor(frame({ opcode: 0x1, payload: deflated('hello'), rsv: 0x40 }), true, { perMessageDeflate: false }), 1002, 'offered, but the server has it off');
  await fds.assertNoneSettled(t);
});

t.test('data that does not inflate, and text that is not UTF-8 once inflated (1007)', async (t) => {
  const fds = trackFds();
  t.equal(await closeCodeFor(frame({ opcode: 0x2, payload: Buffer.from([0xff, 0xff, 0xff]), rsv: 0x40 }), true), 1007, 'an invalid block type');
  t.equal(await closeCodeFor(frame({ opcode: 0x1, payload: deflated(Buffer.from([0x68, 0xc3, 0x28])), rsv: 0x40 }), true), 1007, 'invalid UTF-8 inside');
  await fds.assertNoneSettled(t);
});

t.test('a zip bomb closes with 1009 once its inflated bytes cross maxPayloadLength, without inflating it', async (t) => {
  const fds = trackFds();
  const stream = zlib.createDeflateRaw({ level: 9 });
  const chunks: Buffer[] = [];
  stream.on('data', (chunk: Buffer) => chunks.push(chunk));
  const zeros = Buffer.alloc(1024 * 1024);
  for (let index = 0; index < 256; index += 1) stream.write(zeros);
  await new Promise<void>((resolve) => stream.flush(Z_SYNC_FLUSH, () => resolve()));
  const bomb = Buffer.concat(chunks).subarray(0, -4);
  stream.close();
  t.ok(bomb.length < 1024 * 1024, `${bomb.length} bytes on the wire, under the bound; 256 MiB inflated`);
  const rssBefore = process.memoryUsage().rss;
  const started = Date.now();
  t.equal(await closeCodeFor(frame({ opcode: 0x2, payload: bomb, rsv: 0x40 }), true, { maxPayloadLength: 1024 * 1024 }), 1009);
  const grown = process.memoryUsage().rss - rssBefore;
  t.ok(grown < 100 * 1024 * 1024, `memory grew by ${Math.round(grown / 1024 / 1024)} MiB, not 256`);
  t.ok(Date.now() - started < 5000, `${Date.now() - started} ms`);
  await fds.assertNoneSettled(t);
});

t.test('what goes out compressed: from the threshold up, when it shrinks, unless send() says no', async (t) => {
  const fds = trackFds();
  const statuses: number[] = [];
  const served = serve<undefined>(
    {
      open(ws) {
        statuses.push(ws.send('a'.repeat(99))); // under the threshold
        statuses.push(ws.send('a'.repeat(100))); // at it
        statuses.push(ws.send('b'.repeat(500), false, false)); // compress: false
        statuses.push(ws.send(randomBytes(500))); // does not shrink
        statuses.push(ws.send(Buffer.from('c'.repeat(70_000)), true)); // large: compressed, a frame of its own
        ws.end();
        statuses.push(ws.send('d'.repeat(500))); // closing: dropped, not compressed
      },
    },
    { perMessageDeflate: { threshold: 100 } },
  );
  const raw = await rawUpgrade(served.wss.server.port, upgradeRequest('/', [OFFER]));
  const frames = await framesOf(raw, 6, 'five messages and the close');
  t.same(frames.map((each) => each.rsv1), [false, true, false, false, true, false]);
  t.same(statuses, [SEND_SUCCESS, SEND_SUCCESS, SEND_SUCCESS, SEND_SUCCESS, SEND_SUCCESS, SEND_DROPPED], 'the statuses of sends without compression');
  t.equal(inflated(frames[1]!.payload).toString(), 'a'.repeat(100));
  t.equal(inflated(frames[4]!.payload).toString(), 'c'.repeat(70_000));
  raw.socket.destroy();
  await served.close();
  await fds.assertNoneSettled(t);
});

t.test("a handler's throw closes its own socket (1011); another compressed socket goes on", async (t) => {
  const fds = trackFds();
  const errors: string[] = [];
  const served = serve<undefined>(
    {
      message(ws, data, isBinary) {
        if (data.toString() === 'boom') throw new Error('handler broke');
        ws.send(data, isBinary);
      },
    },
    { perMessageDeflate: { threshold: 0 }, onError: (error) => void errors.push(error.message) },
  );
  const [doomed, fine] = await Promise.all([open(served.url, { perMessageDeflate: { threshold: 0 } }), open(served.url, { perMessageDeflate: { threshold: 0 } })]);
  const closing = closeOf(doomed!);
  doomed!.send('boom');
  t.equal((await closing).code, 1011);
  for (const text of ['still here', 'x'.repeat(5000)]) {
    fine!.send(text);
    t.equal((await nextMessage(fine!)).data.toString(), text, 'the other socket echoes');
  }
  t.same(errors, ['handler broke']);
  fine!.terminate();
  await served.close();
  await fds.assertNoneSettled(t);
});

t.test('a publish compresses once per window size; windows taken over stay in step with direct sends', async (t) => {
  const fds = trackFds();
  const sockets: Array<ZWebSocket<undefined>> = [];
  const served = serve<undefined>({ open: (ws) => void (ws.subscribe('news'), sockets.push(ws)) }, { perMessageDeflate: { threshold: 0 } });
  const offers: Array<WebSocket.PerMessageDeflateOptions | false> = [{}, { serverNoContextTakeover: true }, { serverMaxWindowBits: 10 }, false];
  const clients = [];
  for (const perMessageDeflate of offers) clients.push(await open(served.url, { perMessageDeflate }));
  await until(() => served.wss.hub.numSubscribers('news') === 4, 'four subscribers');
  // Counted at zlib's own export: deflate.ts's import of it follows once the builtin's ES exports are synced.
  const original = zlib.deflateRawSync;
  let calls = 0;
  (zlib as { deflateRawSync: typeof zlib.deflateRawSync }).deflateRawSync = ((...args: Parameters<typeof original>) => ((calls += 1), original(...args))) as typeof original;
  syncBuiltinESMExports();
  try {
    for (let round = 0; round < 3; round += 1) {
      calls = 0;
      const news = `round ${round}: ${'the same news for everyone, '.repeat(100)}`;
      t.equal(served.wss.hub.publish('news', news), 4, 'all four took it');
      t.equal(calls, 2, 'compressed twice: 15 bits and 10 bits');
      calls = 0;
      t.equal(served.wss.hub.publish('news', news, false, false), 4);
      t.equal(calls, 0, 'compress: false');
      for (const socket of sockets) socket.send(`direct ${round}: ${'the same news for everyone, '.repeat(50)}`);
      for (const client of clients) {
        t.equal((await nextMessage(client)).data.toString(), news);
        t.equal((await nextMessage(client)).data.toString(), news);
        t.equal((await nextMessage(client)).data.toString(), `direct ${round}: ${'the same news for everyone, '.repeat(50)}`, 'a direct send after the publish decodes');
      }
    }
  } finally {
    (zlib as { deflateRawSync: typeof zlib.deflateRawSync }).deflateRawSync = original;
    syncBuiltinESMExports();
  }
  const noise = randomBytes(3000);
  t.equal(served.wss.hub.publish('news', noise), 4, 'bytes that do not shrink go to everyone uncompressed');
  for (const client of clients) t.same((await nextMessage(client)).data, noise);
  t.equal(sockets[0]!.publish('news', 'from a socket '.repeat(100)), 3, "a socket's publish skips itself");
  for (const client of clients.slice(1)) t.equal((await nextMessage(client)).data.toString(), 'from a socket '.repeat(100));
  t.same(
    sockets.map((socket) => socket.extensions),
    ['permessage-deflate', 'permessage-deflate; server_no_context_takeover', 'permessage-deflate; server_max_window_bits=10', null],
  );
  t.throws(() => sockets[0]!.send('x', false, 'yes' as unknown as boolean), { code: 'ERR_INVALID_ARG_TYPE', message: /compress/ });
  t.throws(() => served.wss.hub.publish('news', 'x', false, 1 as unknown as boolean), { code: 'ERR_INVALID_ARG_TYPE', message: /compress/ });
  for (const client of clients) client.terminate();
  await served.close();
  await fds.assertNoneSettled(t);
});
