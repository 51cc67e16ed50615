/**
 * The handler contract of issue 11, one test per path that used to end the
 * process or corrupt a connection: strings and wrong types given to
 * write(), a caught bad write on an outbound connection, throws from
 * onError/onClose/onDrain, rejected promises of async handlers, the
 * server-level and reactor-level onError, class-based handlers, forward()
 * against a peer that reads late, and pooled views kept too long (poison).
 * Each test also checks that nothing reached uncaughtException.
 */
import t from 'tap';
import net from 'node:net';
import { randomBytes } from 'node:crypto';
import { Reactor } from '../../packages/reactor/src/reactor.js';
import { Server } from '../../packages/reactor/src/server.js';
import { connect } from '../../packages/reactor/src/connect.js';
import { forward } from '../../packages/reactor/src/forward.js';
import { POISON_BYTE } from '../../packages/reactor/src/buffer-pool.js';
import type { Connection } from '../../packages/reactor/src/connection.js';
import { trackFds } from '../helpers/fds.js';
import { captureUncaught } from '../helpers/uncaught.js';
import { closed, connect as connectClient, receive, sha256 } from '../helpers/net-client.js';
import { until } from '../helpers/wait.js';

const codeOf = (error: unknown): string | undefined => (error as { code?: string } | undefined)?.code;

t.test('write(data.toString()) echoes a string as UTF-8; write(42) throws TypeError at once and queues nothing', async (t) => {
  const fds = trackFds();
  const reactor = new Reactor();
  const refused: unknown[] = [];
  const server = new Server(reactor, {
    onData: (connection, data) => {
      try {
        connection.write(42 as unknown as string);
      } catch (error) {
        refused.push(error);
      }
      try {
        connection.writeMany(['ok ', { bad: true } as unknown as string]);
      } catch (error) {
        refused.push(error);
      }
      connection.write(data.toString()); // the defect's handler: a string, once fatal
    },
  });
  const caught = await captureUncaught(async () => {
    const socket = await connectClient(server.port);
    socket.write('héllo');
    t.equal((await receive(socket, Buffer.byteLength('héllo'))).toString(), 'héllo', 'the string went out as UTF-8, nothing before it');
    socket.destroy();
    await closed(socket);
  });
  t.same(caught, [], 'nothing reached the process');
  t.match(refused[0], { name: 'TypeError', code: 'ERR_INVALID_ARG_TYPE', message: /"data" argument must be of type string or an instance of Buffer or Uint8Array. Received type number \(42\)/ });
  t.match(refused[1], { name: 'TypeError', code: 'ERR_INVALID_ARG_TYPE', message: /"parts\[1\]"/ });
  t.equal(reactor.stats.handlerErrors, 0);
  await server.close();
  reactor.close();
  fds.assertNone(t);
});

t.test('connect() without onError: a caught write(null) leaves the connection clean for the next write', async (t) => {
  const fds = trackFds();
  const reactor = new Reactor();
  const received: Buffer[] = [];
  const upstream = net.createServer((socket) => socket.on('data', (data) => received.push(data)));
  await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
  const caught = await captureUncaught(async () => {
    const connection = await connect(reactor, {}, { port: (upstream.address() as net.AddressInfo).port });
    t.throws(() => connection.write(null as unknown as string), { name: 'TypeError', code: 'ERR_INVALID_ARG_TYPE' }, 'thrown to the caller');
    connection.write('after');
    await until(() => Buffer.concat(received).toString() === 'after', 'the valid write');
    connection.destroy();
  });
  t.same(caught, [], 'the process never saw it');
  t.equal(Buffer.concat(received).toString(), 'after', 'only the valid bytes reached the peer');
  upstream.close();
  reactor.close();
  await fds.assertNoneSettled(t);
});

t.test('a rejected promise from onData closes that connection, reaches onError and is counted', async (t) => {
  const fds = trackFds();
  const reactor = new Reactor();
  const errors: string[] = [];
  const server = new Server(reactor, {
    onData: async (connection, data) => {
      const text = data.toString(); // the pooled view lives until the first await
      await Promise.resolve();
      if (text === 'boom') throw new Error('async failure');
      connection.write(text);
    },
    onError: (_connection, error) => void errors.push(error.message),
  });
  const caught = await captureUncaught(async () => {
    const good = await connectClient(server.port);
    good.write('fine');
    t.equal((await receive(good, 4)).toString(), 'fine');
    const bad = await connectClient(server.port);
    bad.write('boom');
    await closed(bad.on('error', () => {}));
    good.write('still');
    t.equal((await receive(good, 5)).toString(), 'still', 'the other connection is served');
    good.destroy();
  });
  t.same(caught, []);
  t.same(errors, ['async failure']);
  t.equal(reactor.stats.handlerErrors, 1);
  await server.close();
  reactor.close();
  fds.assertNone(t);
});

t.test('the server-level onError takes errors of handlers without one; throws from onError and onClose go to the reactor', async (t) => {
  const fds = trackFds();
  const last: string[] = [];
  const reactor = new Reactor({ onError: (error) => void last.push(error.message) });
  const serverErrors: Array<[string, boolean]> = [];
  const server = new Server(
    reactor,
    {
      onData: (_connection, data) => {
        throw new Error(`handler: ${data.toString()}`);
      },
      onClose: () => {
        throw new Error('onClose failed');
      },
    },
    { onError: (error, connection) => void serverErrors.push([error.message, connection !== null]) },
  );
  const other = new Server(reactor, {
    onData: () => {
      throw new Error('second');
    },
    onError: () => {
      throw new Error('onError failed');
    },
  });
  const caught = await captureUncaught(async () => {
    for (const port of [server.port, other.port]) {
      const socket = await connectClient(port);
      socket.write('x');
      await closed(socket.on('error', () => {}));
    }
  });
  t.same(caught, [], 'nothing reached the process');
  t.same(serverErrors, [['handler: x', true]], 'the server onError got the handler error with its connection');
  t.same(last, ['onClose failed', 'onError failed'], "the reactor's onError got what onClose and onError threw");
  t.equal(reactor.stats.handlerErrors, 4, 'all four counted');
  await server.close();
  await other.close();
  reactor.close();
  fds.assertNone(t);
});

t.test("without any onError the reactor's default logs the error and the server keeps serving", async (t) => {
  const fds = trackFds();
  const reactor = new Reactor();
  const logged: unknown[][] = [];
  const original = console.error;
  console.error = (...args: unknown[]): void => void logged.push(args);
  try {
    const server = new Server(reactor, {
      onData: (connection, data) => {
        if (data.toString() === 'bad') throw new Error('unhandled');
        connection.write(data);
      },
    });
    const caught = await captureUncaught(async () => {
      const bad = await connectClient(server.port);
      bad.write('bad');
      await closed(bad.on('error', () => {}));
      const good = await connectClient(server.port);
      good.write('good');
      t.equal((await receive(good, 4)).toString(), 'good');
      good.destroy();
    });
    t.same(caught, []);
    await server.close();
  } finally {
    console.error = original;
  }
  t.equal(logged.length, 1, 'logged once');
  t.match(String(logged[0]![0]), /a handler failed and its connection was closed/);
  t.match(logged[0]![1], { message: 'unhandled' });
  reactor.close();
  fds.assertNone(t);
});

t.test('a write from a timer to a reset peer: the error goes to onError, not to the timer', async (t) => {
  const fds = trackFds();
  const reactor = new Reactor();
  let opened: Connection | null = null;
  const errors: string[] = [];
  const server = new Server(reactor, {
    onOpen: (connection) => void (opened = connection),
    onError: (_connection, error) => void errors.push(codeOf(error)!),
    onDrain: () => {
      throw new Error('unreachable: nothing drains');
    },
  });
  const socket = await connectClient(server.port);
  await until(() => opened !== null, 'accept');
  socket.resetAndDestroy();
  await closed(socket);
  const caught = await captureUncaught(async () => {
    await new Promise<void>((resolve) => {
      setTimeout(() => {
        const connection = opened!;
        // The first write may be taken by the kernel before it sees the reset; keep writing until the error surfaces.
        for (let attempt = 0; attempt < 100 && connection.isOpen; attempt += 1) connection.write(randomBytes(1024));
        resolve();
      }, 1);
    });
    await until(() => !opened!.isOpen, 'the close');
  });
  t.same(caught, [], 'the timer saw no throw');
  t.match(errors, [/^(EPIPE|ECONNRESET)$/], 'onError got the system error');
  await server.close();
  reactor.close();
  fds.assertNone(t);
});

t.test('a class-based handler works as given: prototype methods and this', async (t) => {
  const fds = trackFds();
  const reactor = new Reactor();
  class Greeter {
    readonly greeting = 'hi ';
    closes = 0;
    onData(connection: Connection, data: Buffer): void {
      connection.write(this.greeting + data.toString());
    }
    onClose(): void {
      this.closes += 1;
    }
  }
  const handler = new Greeter();
  const server = new Server(reactor, handler);
  const socket = await connectClient(server.port);
  socket.write('ada');
  t.equal((await receive(socket, 6)).toString(), 'hi ada', 'the prototype method ran with its this');
  socket.destroy();
  await until(() => handler.closes === 1, 'onClose');
  t.equal(handler.closes, 1, "onClose on the prototype ran too (the server's bookkeeping did not replace it)");
  await server.close();
  reactor.close();
  fds.assertNone(t);
});

t.test('forward(): a client that writes 8 MiB before reading gets every byte back, never cut off at the queue cap', async (t) => {
  const fds = trackFds();
  const reactor = new Reactor({ readQuota: Infinity });
  const server = new Server(reactor, { onData: (connection, data) => void forward(connection, data) }, { maxQueuedBytes: 1024 * 1024 });
  const payload = randomBytes(8 * 1024 * 1024);
  const clients = await Promise.all(
    Array.from({ length: 4 }, async () => {
      const socket = await connectClient(server.port);
      socket.pause(); // read nothing until everything is written: the echoes pile up on the server
      for (let offset = 0; offset < payload.length; offset += 256 * 1024) socket.write(payload.subarray(offset, offset + 256 * 1024));
      return socket;
    }),
  );
  await until(() => server.connections.size === 4 && [...server.connections].every((connection) => connection.queuedBytes > 0), 'queues to fill');
  const echoes = await Promise.all(clients.map((socket) => { socket.resume(); return receive(socket, payload.length); }));
  t.ok(echoes.every((echo) => sha256(echo) === sha256(payload)), 'all four got their 8 MiB back intact');
  t.equal(server.connections.size, 4, 'none was disconnected at the 1 MiB cap');
  for (const socket of clients) socket.destroy();
  await server.close();
  reactor.close();
  await fds.assertNoneSettled(t);
});

t.test('pool poison: a view kept past onData reads 0xDD once its chunk is released; a copy keeps the bytes', async (t) => {
  const fds = trackFds();
  const reactor = new Reactor({ pool: { poison: true } });
  let kept: Buffer | null = null;
  let copy: Buffer | null = null;
  const server = new Server(reactor, {
    onData: (connection, data) => {
      kept = data;
      copy = Buffer.from(data);
      connection.write('k');
    },
  });
  const socket = await connectClient(server.port);
  socket.write('secret');
  await receive(socket, 1);
  t.equal(copy!.toString(), 'secret');
  t.ok(kept!.every((byte: number) => byte === POISON_BYTE), 'the kept view was poisoned');
  t.equal(reactor.pool.poison, true);
  t.throws(() => new Reactor({ pool: { poison: 'yes' as unknown as boolean } }), { name: 'TypeError', code: 'ERR_INVALID_ARG_TYPE' });
  socket.destroy();
  await server.close();
  reactor.close();
  fds.assertNone(t);
});
