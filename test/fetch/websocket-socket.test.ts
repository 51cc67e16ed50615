/**
 * The socket serve()'s WebSocket handlers get (ServerWebSocket, Bun's
 * shape) over real connections: what send() and its kin answer (the size,
 * -1 under backpressure then `drain`, 0 when dropped), binaryType, ping,
 * readyState through the close, remoteAddress, terminate(), topics from a
 * socket and from the server, and the heartbeat (Bun's idleTimeout).
 * Every test counts fds before and after.
 */
import t from 'tap';
import { serve, type FetchServer, type ServerWebSocket, type WebSocketHandler } from 'zepoll/fetch';
import { trackFds } from '../helpers/fds.js';
import { until } from '../helpers/wait.js';
import { closeOf, nextMessage, open, rawUpgrade, serverFrames, upgradeRequest } from '../helpers/ws.js';

/** A server on 127.0.0.1 that upgrades every request, `data` the request's path. */
function upgrading(websocket: WebSocketHandler<string>, http: { idleTimeoutMs?: number } = {}): FetchServer<string> {
  return serve<string>({
    port: 0,
    host: '127.0.0.1',
    http,
    fetch(request, server) {
      server.upgrade(request, { data: new URL(request.url).pathname });
      return undefined;
    },
    websocket,
  });
}

t.test('send, sendText and sendBinary answer the size sent; a wrong type throws a coded TypeError', async (t) => {
  const fds = trackFds();
  const answers: unknown[] = [];
  const server = upgrading({
    message(ws) {
      answers.push(ws.send('héllo'), ws.send(new Uint16Array([1, 2])), ws.send(new DataView(new ArrayBuffer(3))), ws.send(new ArrayBuffer(4)));
      answers.push(ws.sendText('text'), ws.sendBinary(Buffer.from([9])), ws.cork((socket) => socket.send('')), typeof ws.getBufferedAmount());
      for (const call of [() => ws.sendText(5 as unknown as string), () => ws.sendBinary('x' as unknown as Buffer), () => ws.send({} as unknown as string)]) {
        try {
          call();
        } catch (error) {
          answers.push((error as { code: string }).code);
        }
      }
    },
  });
  const client = await open(`ws://127.0.0.1:${server.port}/`);
  client.send('go');
  const received = [];
  for (let index = 0; index < 7; index += 1) received.push(await nextMessage(client));
  t.same(answers, [6, 4, 3, 4, 4, 1, 0, 'number', 'ERR_INVALID_ARG_TYPE', 'ERR_INVALID_ARG_TYPE', 'ERR_INVALID_ARG_TYPE']);
  t.same(
    received.map(({ data, isBinary }) => [isBinary, isBinary ? [...data] : data.toString()]),
    [
      [false, 'héllo'],
      [true, [1, 0, 2, 0]],
      [true, [0, 0, 0]],
      [true, [0, 0, 0, 0]],
      [false, 'text'],
      [true, [9]],
      [false, ''],
    ],
  );
  client.terminate();
  await server.close();
  await fds.assertNoneSettled(t);
});

t.test('binaryType: a Buffer by default, an ArrayBuffer or a Uint8Array when asked, each its own copy', async (t) => {
  const fds = trackFds();
  const seen: string[] = [];
  const server = upgrading({
    open(ws) {
      if (ws.data === '/arraybuffer') ws.binaryType = 'arraybuffer';
      if (ws.data === '/uint8array') ws.binaryType = 'uint8array';
    },
    message(ws, message) {
      const kind = Buffer.isBuffer(message) ? 'Buffer' : message instanceof ArrayBuffer ? 'ArrayBuffer' : message instanceof Uint8Array ? 'Uint8Array' : typeof message;
      const own = message instanceof ArrayBuffer ? message.byteLength === 3 : typeof message !== 'string' && message.buffer.byteLength === 3 && message.byteOffset === 0;
      seen.push(`${ws.data} ${kind} ${own}`);
      ws.send('ok');
    },
  });
  for (const path of ['/', '/arraybuffer', '/uint8array']) {
    const client = await open(`ws://127.0.0.1:${server.port}${path}`);
    client.send(Buffer.from([1, 2, 3]));
    await nextMessage(client);
    client.terminate();
  }
  t.same(seen, ['/ Buffer true', '/arraybuffer ArrayBuffer true', '/uint8array Uint8Array true']);
  await server.close();
  await fds.assertNoneSettled(t);
});

t.test('backpressure: -1 when queued above the high-water mark, 0 once backpressureLimit is queued, then drain', async (t) => {
  const fds = trackFds();
  let socket: ServerWebSocket<string> | null = null;
  let drained = 0;
  const server = upgrading({
    backpressureLimit: 1024,
    open: (ws) => void (socket = ws),
    drain: () => void (drained += 1),
  });
  const raw = await rawUpgrade(server.port, upgradeRequest('/'));
  raw.socket.pause(); // a reader that does not read: the kernel's buffers fill, then the queue
  await until(() => socket !== null, 'the socket');
  const big = Buffer.alloc(1024 * 1024);
  const answers: number[] = [];
  for (let index = 0; index < 64 && !answers.includes(-1); index += 1) answers.push(socket!.send(big));
  t.equal(answers.at(-1), -1, 'queued above the high-water mark');
  t.ok(answers.slice(0, -1).every((answer) => answer === big.length), 'the sends before it went whole');
  t.equal(socket!.send('dropped'), 0, 'dropped once the queue holds backpressureLimit');
  t.ok(socket!.getBufferedAmount() >= 1024);
  // Sends that went whole outside a turn may have paid a drain already: the one owed for the -1 comes after.
  const drainedBefore = drained;
  raw.socket.resume();
  await until(() => drained > drainedBefore, 'the drain handler');
  t.equal(socket!.send('after'), 5, 'sends go again');
  raw.socket.destroy();
  await server.close();
  await fds.assertNoneSettled(t);
});

t.test('ping, readyState through the close handshake, remoteAddress, terminate()', async (t) => {
  const fds = trackFds();
  const seen: unknown[] = [];
  const server = upgrading({
    open(ws) {
      if (ws.data === '/address') seen.push(['address', ws.remoteAddress, ws.remoteAddress]);
    },
    message(ws, message) {
      if (message === 'ping') seen.push(['ping', ws.ping('hi'), ws.ping(new Uint8Array(2))]);
      if (message === 'close') {
        ws.close(4003, 'asked');
        seen.push(['closing', ws.readyState, ws.ping()]);
      }
      if (message === 'terminate') ws.terminate();
    },
    close(ws, code, reason) {
      seen.push(['close', ws.data, code, reason, ws.readyState, ws.data === '/address' ? 'cached' : ws.remoteAddress]);
    },
  });
  const url = `ws://127.0.0.1:${server.port}`;
  const pinged = await open(`${url}/ping`);
  const ping = new Promise<string>((resolve) => pinged.once('ping', (data: Buffer) => resolve(data.toString())));
  pinged.send('ping');
  t.equal(await ping, 'hi');
  const closing = closeOf(pinged);
  pinged.send('close');
  t.same(await closing, { code: 4003, reason: 'asked' });
  const address = await open(`${url}/address`);
  const terminated = closeOf(address);
  address.send('terminate');
  t.equal((await terminated).code, 1006, 'terminate(): no close frame');
  await until(() => seen.length === 5, 'both closes');
  t.same(seen, [
    ['ping', 2, 2],
    ['closing', 2, 0],
    ['close', '/ping', 4003, 'asked', 3, ''],
    ['address', '127.0.0.1', '127.0.0.1'],
    ['close', '/address', 1006, '', 3, 'cached'],
  ]);
  await server.close();
  await fds.assertNoneSettled(t);
});

t.test('topics: a socket publishes to the others, the server to all; subscriptions and counts', async (t) => {
  const fds = trackFds();
  const answers: unknown[] = [];
  const server = upgrading({
    open(ws) {
      ws.subscribe('room');
      ws.subscribe('room');
    },
    message(ws, message) {
      if (message !== 'publish') return;
      answers.push(ws.isSubscribed('room'), ws.subscriptions, ws.publish('room', 'to the others'), ws.publishText('room', 'text'), ws.publishBinary('room', new Uint8Array([7])));
      answers.push(ws.publish('room', new Uint8Array([8])), ws.publish('empty', 'nobody'), ws.publishText('empty', 'nobody'), ws.publishBinary('empty', new ArrayBuffer(1)));
      ws.unsubscribe('room');
      answers.push(ws.isSubscribed('room'), ws.subscriptions);
    },
  });
  const url = `ws://127.0.0.1:${server.port}/`;
  const [first, second] = [await open(url), await open(url)];
  t.equal(server.subscriberCount('room'), 2);
  first.send('publish');
  const got = [await nextMessage(second), await nextMessage(second), await nextMessage(second), await nextMessage(second)];
  t.same(
    got.map(({ data, isBinary }) => (isBinary ? [...data] : data.toString())),
    ['to the others', 'text', [7], [8]],
  );
  t.same(answers, [true, ['room'], 13, 4, 1, 1, 0, 0, 0, false, []]);
  t.equal(server.subscriberCount('room'), 1);
  t.equal(server.publish('room', 'from the server'), 15);
  t.equal((await nextMessage(second)).data.toString(), 'from the server');
  t.equal(server.publish('room', new DataView(new ArrayBuffer(2))), 2);
  t.same([...(await nextMessage(second)).data], [0, 0]);
  t.equal(server.publish('room', new ArrayBuffer(1)), 1);
  t.same([...(await nextMessage(second)).data], [0]);
  t.equal(server.publish('nobody', 'x'), 0);
  first.terminate();
  second.terminate();
  await server.close();
  await fds.assertNoneSettled(t);
});

t.test("heartbeat: Bun's idleTimeout pings an idle socket and closes one that stays silent; a connection's own idle timeout wins", async (t) => {
  const fds = trackFds();
  const closes: number[] = [];
  const server = upgrading({ idleTimeout: 1, close: (_ws, code) => void closes.push(code) });
  const started = performance.now(); // before the request: the connection's traffic is no earlier than this
  const silent = await rawUpgrade(server.port, upgradeRequest('/'));
  await until(() => serverFrames(silent.received()).some((frame) => frame.opcode === 0x9), 'the ping');
  t.ok(performance.now() - started >= 900, 'not before the idle time');
  await silent.ended();
  t.same(closes, [1006], 'silent after the ping: destroyed');
  await server.close();
  const own = upgrading({ idleTimeout: 1 }, { idleTimeoutMs: 50 });
  const start = performance.now();
  const raw = await rawUpgrade(own.port, upgradeRequest('/'));
  await until(() => serverFrames(raw.received()).some((frame) => frame.opcode === 0x9), 'the ping');
  t.ok(performance.now() - start < 900, "the connection's 50 ms, not the socket's second");
  raw.socket.destroy();
  await own.close();
  await fds.assertNoneSettled(t);
});
