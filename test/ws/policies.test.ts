/**
 * The server's policies over real sockets: topics (publish encodes once,
 * a socket's publish skips itself), the backpressure policy (send()
 * statuses, drain, a slow subscriber dropped or closed while the others
 * keep receiving, its queue bounded), a handler's throw or rejection
 * (1011, onError, counted), the idle heartbeat, and option checks.
 */
import t from 'tap';
import WebSocket from 'ws';
import { Reactor } from '../../packages/reactor/src/reactor.js';
import { createHttpServer } from '../../packages/reactor/src/http/server.js';
import { createWebSocketServer, WebSocketHub } from '../../packages/reactor/src/ws/server.js';
import { SEND_BACKPRESSURE, SEND_DROPPED, SEND_SUCCESS, type SendStatus, type WebSocket as ZWebSocket } from '../../packages/reactor/src/ws/socket.js';
import { frame } from './frames.js';
import { trackFds } from '../helpers/fds.js';
import { until } from '../helpers/wait.js';
import { closeOf, ECHO, nextMessage, open, rawUpgrade, serve, serverFrames } from '../helpers/ws.js';

t.test('topics: subscribe, publish to others, unsubscribe', async (t) => {
  const fds = trackFds();
  const sockets: Array<ZWebSocket<undefined>> = [];
  const served = serve({
    open(ws) {
      sockets.push(ws);
      t.equal(ws.subscribe('room'), true);
      t.equal(ws.subscribe('room'), false, 'twice is once');
    },
    message(ws, data, isBinary) {
      ws.publish('room', data, isBinary);
    },
  });
  const [a, b, c] = await Promise.all([open(served.url), open(served.url), open(served.url)]);
  await until(() => served.wss.hub.numSubscribers('room') === 3, 'three subscribers');
  a!.send('from a');
  t.equal((await nextMessage(b!)).data.toString(), 'from a');
  t.equal((await nextMessage(c!)).data.toString(), 'from a');
  t.equal(served.wss.hub.publish('room', Buffer.from([9])), 3);
  for (const client of [a!, b!, c!]) t.same((await nextMessage(client)).data, Buffer.from([9]));
  t.equal(served.wss.hub.publish('room', new Uint8Array([1]).buffer, true), 3);
  for (const client of [a!, b!, c!]) await nextMessage(client);
  t.equal(sockets[0]!.isSubscribed('room'), true);
  t.same(sockets[0]!.getTopics(), ['room']);
  t.equal(sockets[0]!.unsubscribe('room'), true);
  t.equal(sockets[0]!.unsubscribe('room'), false);
  t.same(sockets[0]!.getTopics(), []);
  t.equal(served.wss.hub.publish('room', 'text'), 2);
  t.equal(served.wss.hub.publish('nobody', 'text'), 0);
  t.equal(served.wss.hub.numSubscribers('nobody'), 0);
  t.throws(() => served.wss.hub.publish(1 as unknown as string, 'x'), { code: 'ERR_INVALID_ARG_TYPE' });
  t.throws(() => served.wss.hub.publish('t', 'x', 'yes' as unknown as boolean), { code: 'ERR_INVALID_ARG_TYPE' });
  t.throws(() => served.wss.hub.publish('t', 5 as unknown as string), { code: 'ERR_INVALID_ARG_TYPE' });
  t.throws(() => served.wss.hub.numSubscribers(5 as unknown as string), { code: 'ERR_INVALID_ARG_TYPE' });
  t.throws(() => sockets[0]!.subscribe(5 as unknown as string), { code: 'ERR_INVALID_ARG_TYPE' });
  t.throws(() => sockets[0]!.send(5 as unknown as string), { code: 'ERR_INVALID_ARG_TYPE' });
  t.throws(() => sockets[0]!.send('x', 1 as unknown as boolean), { code: 'ERR_INVALID_ARG_TYPE' });
  t.throws(() => sockets[0]!.end(1005), { code: 'ERR_OUT_OF_RANGE' });
  t.equal(sockets[0]!.getRemoteAddress().address, '127.0.0.1');
  for (const client of [a!, b!, c!]) client.terminate();
  await until(() => served.wss.hub.numSubscribers('room') === 0, 'subscribers gone with their sockets');
  t.equal(sockets[1]!.subscribe('room'), false, 'a closed socket subscribes to nothing');
  await served.close();
  await fds.assertNoneSettled(t);
});

const CHUNK = 64 * 1024;

for (const closeOnBackpressureLimit of [false, true]) {
  t.test(`a slow subscriber is ${closeOnBackpressureLimit ? 'closed' : 'dropped'} while the others keep receiving`, async (t) => {
    const fds = trackFds();
    const maxBackpressure = 256 * 1024;
    const closes: number[] = [];
    const sockets: Array<ZWebSocket<undefined>> = [];
    const served = serve(
      {
        open(ws) {
          sockets.push(ws);
          ws.subscribe('feed');
        },
        close: (_ws, code) => void closes.push(code),
      },
      { maxBackpressure, closeOnBackpressureLimit },
    );
    const slow = await rawUpgrade(served.wss.server.port);
    slow.socket.pause(); // reads nothing: the kernel's buffers fill, then the server's queue
    const fast = await open(served.url);
    await until(() => sockets.length === 2, 'both open');
    const payload = Buffer.alloc(CHUNK, 1);
    let slowDropped = false;
    let peakQueued = 0;
    for (let index = 0; index < 400 && !slowDropped; index += 1) {
      const took = served.wss.hub.publish('feed', payload);
      peakQueued = Math.max(peakQueued, sockets[0]!.getBufferedAmount());
      t.ok((await nextMessage(fast)).data.length === CHUNK, `fast got message ${index}`, { diagnostic: false });
      if (took === 1) slowDropped = true;
    }
    t.ok(slowDropped, 'the slow subscriber was passed over');
    t.ok(peakQueued <= maxBackpressure + CHUNK, `its queue stayed bounded (${peakQueued} <= ${maxBackpressure + CHUNK})`);
    // The fast one goes on receiving.
    for (let index = 0; index < 5; index += 1) {
      served.wss.hub.publish('feed', 'still here');
      t.equal((await nextMessage(fast)).data.toString(), 'still here');
    }
    if (closeOnBackpressureLimit) {
      await until(() => closes.length === 1, 'the slow one closed');
      t.same(closes, [1006]);
      t.equal(served.wss.hub.numSubscribers('feed'), 1);
    } else {
      t.equal(sockets[0]!.isOpen, true, 'dropped, not closed');
    }
    slow.socket.destroy();
    fast.terminate();
    await served.close();
    await fds.assertNoneSettled(t);
  });
}

t.test('send() says SEND_BACKPRESSURE, then SEND_DROPPED; drain follows once the reader reads', async (t) => {
  const fds = trackFds();
  const statuses: SendStatus[] = [];
  let drains = 0;
  const served = serve(
    {
      open(ws) {
        statuses.push(ws.send('small'));
        const big = Buffer.alloc(256 * 1024, 2);
        for (let index = 0; index < 200; index += 1) {
          const status = ws.send(big);
          if (statuses[statuses.length - 1] !== status) statuses.push(status);
          if (status === SEND_DROPPED) break;
        }
      },
      drain: () => void (drains += 1),
    },
    { maxBackpressure: 1024 * 1024 },
  );
  const slow = await rawUpgrade(served.wss.server.port);
  slow.socket.pause();
  await until(() => statuses.includes(SEND_DROPPED), 'a drop');
  t.same(statuses, [SEND_SUCCESS, SEND_BACKPRESSURE, SEND_DROPPED]);
  slow.socket.resume();
  await until(() => drains === 1, 'drain');
  slow.socket.destroy();
  await served.close();
  await fds.assertNoneSettled(t);
});

t.test('a handler that throws or rejects closes its socket with 1011 and reaches onError, counted', async (t) => {
  const fds = trackFds();
  const errors: string[] = [];
  const closes: number[] = [];
  const served = serve(
    {
      open(ws) {
        if (ws.data === undefined && errors.length === 99) throw new Error('never');
      },
      message(_ws, data) {
        const text = data.toString();
        if (text === 'throw') throw new Error('thrown');
        if (text === 'reject') return Promise.reject(new Error('rejected'));
        if (text === 'non-error') throw 'a string'; // eslint-disable-line @typescript-eslint/only-throw-error
        return undefined;
      },
      close(_ws, code) {
        closes.push(code);
        if (closes.length === 3) throw new Error('close threw');
      },
    },
    { onError: (error) => void errors.push(error.message) },
  );
  for (const word of ['throw', 'reject', 'non-error']) {
    const client = await open(served.url);
    const closing = closeOf(client);
    client.send(word);
    t.equal((await closing).code, 1011, `${word}: 1011`);
  }
  await until(() => errors.length === 4, 'four errors');
  t.same(errors.slice(0, 2), ['thrown', 'rejected']);
  t.match(errors[2], /a handler threw a non-Error value: a string/);
  t.equal(errors[3], 'close threw');
  t.same(closes, [1011, 1011, 1011]);
  t.equal(served.reactor.stats.handlerErrors, 4);
  await served.close();
  await fds.assertNoneSettled(t);
});

t.test('open and drain failures, without onError: the reactor onError gets them', async (t) => {
  const fds = trackFds();
  const reported: string[] = [];
  const reactor = new Reactor({ onError: (error: Error) => void reported.push(error.message) });
  const wss = createWebSocketServer(reactor, {
    open(ws) {
      if (ws.getRemoteAddress().port % 1 === 0) return Promise.reject(new Error('open rejected'));
      return undefined;
    },
  }, { port: 0 });
  const client = await open(`ws://127.0.0.1:${wss.server.port}/`);
  t.equal((await closeOf(client)).code, 1011);
  t.same(reported, ['open rejected']);
  await wss.server.close(1000);
  reactor.close();
  await fds.assertNoneSettled(t);
});

t.test('idle heartbeat: a ping after the idle timeout, the end after a second one unanswered', async (t) => {
  const fds = trackFds();
  const closes: number[] = [];
  const served = serve({ close: (_ws, code) => void closes.push(code) }, { idleTimeoutMs: 100 });
  const silent = await rawUpgrade(served.wss.server.port);
  const answering = await open(served.url);
  let pings = 0;
  answering.on('ping', () => (pings += 1));
  const rest = await silent.ended();
  t.same(serverFrames(rest).map((each) => each.opcode), [0x9], 'one ping, then the end');
  await until(() => closes.length === 1, 'the silent one closed');
  t.same(closes, [1006]);
  await until(() => pings >= 2, 'the answering one pinged twice');
  t.equal(answering.readyState, WebSocket.OPEN, 'a socket that answers stays open');
  answering.terminate();
  await served.close();
  await fds.assertNoneSettled(t);
});

t.test('WebSocketHub.upgrade from a plain HTTP handler', async (t) => {
  const fds = trackFds();
  const reactor = new Reactor();
  const hub = new WebSocketHub<string>(reactor, ECHO as never);
  const server = createHttpServer(reactor, (request, response) => {
    if (request.path === '/ws') {
      t.equal(hub.upgrade(request, response, 'data'), true);
      return;
    }
    if (request.path === '/bad') {
      t.equal(hub.upgrade(request, response, 'data'), false);
      return;
    }
    response.end('plain');
  }, { port: 0 });
  const client = await open(`ws://127.0.0.1:${server.port}/ws`);
  client.send('via hub');
  t.equal((await nextMessage(client)).data.toString(), 'via hub');
  client.terminate();
  const bad = await fetch(`http://127.0.0.1:${server.port}/bad`);
  t.equal(bad.status, 400);
  await bad.text();
  t.equal(await (await fetch(`http://127.0.0.1:${server.port}/`)).text(), 'plain');
  await server.close(1000);
  reactor.close();
  await fds.assertNoneSettled(t);
});

t.test('options and arguments are checked where the server is made', async (t) => {
  const reactor = new Reactor();
  t.throws(() => new WebSocketHub({} as Reactor, {}), { code: 'ERR_INVALID_ARG_TYPE' });
  t.throws(() => new WebSocketHub(reactor, null as unknown as object), { code: 'ERR_INVALID_ARG_TYPE' });
  t.throws(() => new WebSocketHub(reactor, { open: 1 } as unknown as object), { code: 'ERR_INVALID_ARG_TYPE' });
  t.throws(() => new WebSocketHub(reactor, {}, { maxPayloadLength: 0 }), { code: 'ERR_OUT_OF_RANGE' });
  t.throws(() => new WebSocketHub(reactor, {}, { maxBackpressure: 1.5 }), { code: 'ERR_OUT_OF_RANGE' });
  t.throws(() => new WebSocketHub(reactor, {}, { closeOnBackpressureLimit: 1 as unknown as boolean }), { code: 'ERR_INVALID_ARG_TYPE' });
  t.throws(() => new WebSocketHub(reactor, {}, { closeTimeoutMs: -1 }), { code: 'ERR_OUT_OF_RANGE' });
  t.throws(() => new WebSocketHub(reactor, {}, { onError: 1 as unknown as () => void }), { code: 'ERR_INVALID_ARG_TYPE' });
  t.throws(() => new WebSocketHub(reactor, {}, 5 as unknown as object), { code: 'ERR_INVALID_ARG_TYPE' });
  t.throws(() => createWebSocketServer(reactor, { upgrade: 1 } as unknown as object, { port: 0 }), { code: 'ERR_INVALID_ARG_TYPE' });
  t.throws(() => createWebSocketServer(reactor, {}, { port: 0, idleTimeoutMs: -5 }), { code: 'ERR_OUT_OF_RANGE' });
  reactor.close();
});

t.test('pings are answered with the same payload; a masked frame cut anywhere still parses', async (t) => {
  const fds = trackFds();
  const served = serve(ECHO);
  const raw = await rawUpgrade(served.wss.server.port);
  const bytes = Buffer.concat([frame({ opcode: 0x9, payload: 'p' }), frame({ opcode: 0xa, payload: 'unsolicited' }), frame({ opcode: 0x1, payload: 'after' })]);
  raw.socket.write(bytes.subarray(0, 3));
  await new Promise((resolve) => setTimeout(resolve, 10));
  raw.socket.write(bytes.subarray(3));
  await until(() => serverFrames(raw.received()).length === 2, 'pong and echo');
  t.same(serverFrames(raw.received()).map((each) => [each.opcode, each.payload.toString()]), [
    [0xa, 'p'],
    [0x1, 'after'],
  ]);
  raw.socket.write(frame({ opcode: 0x8, payload: Buffer.alloc(0) }));
  const rest = serverFrames(await raw.ended());
  t.same([rest[2]!.opcode, rest[2]!.payload.length], [0x8, 0], 'a close without a code is echoed without one');
  await served.close();
  await fds.assertNoneSettled(t);
});
