/**
 * The handler contract at its edges: a pooled connection handed to a
 * handler whose onOpen throws, an onHangUp that throws, a listener whose
 * accept fails in a way it cannot skip, a connect that fails before it
 * starts, a handler that throws a non-Error, a reactor onError that throws
 * itself, and on the HTTP side a streamed body after `Expect:
 * 100-continue`, an onError that throws, and a response whose connection
 * the layer already ended. None of them reaches the process.
 */
import t from 'tap';
import net from 'node:net';
import { Reactor } from '../../packages/reactor/src/reactor.js';
import { Server } from '../../packages/reactor/src/server.js';
import { connect, ConnectionPool } from '../../packages/reactor/src/connect.js';
import type { Connection } from '../../packages/reactor/src/connection.js';
import { createHttpServer } from '../../packages/reactor/src/http/server.js';
import type { HttpResponse } from '../../packages/reactor/src/http/response.js';
import { trackFds } from '../helpers/fds.js';
import { captureUncaught } from '../helpers/uncaught.js';
import { closed, connect as connectClient } from '../helpers/net-client.js';
import { until } from '../helpers/wait.js';


t.test('a pooled connection handed to a handler whose onOpen throws: that connection goes, counted', async (t) => {
  const fds = trackFds();
  const reported: string[] = [];
  const reactor = new Reactor({ onError: (error) => void reported.push(error.message) });
  const upstream = net.createServer((socket) => socket.resume());
  await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
  const pool = new ConnectionPool(reactor, { port: (upstream.address() as net.AddressInfo).port });
  const first = await pool.get({});
  pool.release(first);
  const caught = await captureUncaught(async () => {
    const second = await pool.get({
      onOpen: () => {
        throw new Error('onOpen of the second user');
      },
    });
    t.equal(second, first, 'the idle connection was reused');
    t.equal(second.isOpen, false, 'and closed by the failure');
  });
  t.same(caught, []);
  t.same(reported, ['onOpen of the second user']);
  t.equal(reactor.stats.handlerErrors, 1);
  pool.close();
  upstream.close();
  reactor.close();
  await fds.assertNoneSettled(t);
});

for (const mode of ['lt', 'et', 'oneshot'] as const) {
  t.test(`${mode}: a paused connection is told of the peer's FIN once; an onHangUp that throws fails it`, async (t) => {
    const fds = trackFds();
    const reactor = new Reactor({ mode });
    const events: string[] = [];
    const server = new Server(reactor, {
      onOpen: (connection) => connection.pause(),
      onHangUp: () => {
        events.push('hang-up');
        throw new Error('onHangUp failed');
      },
      onError: (_connection, error) => void events.push(error.message),
    });
    const socket = await connectClient(server.port);
    socket.end('bytes nobody reads');
    await closed(socket);
    await until(() => events.length === 2, 'the hang-up');
    t.same(events, ['hang-up', 'onHangUp failed']);
    t.equal(server.connections.size, 0);
    await server.close();
    reactor.close();
    fds.assertNone(t);
  });
}

t.test('an accept error the server cannot skip: reported, counted, and the listener backs off instead of spinning', async (t) => {
  const fds = trackFds();
  const last: string[] = [];
  const reactor = new Reactor({ onError: (error) => void last.push(error.message) });
  const reported: Array<[string, Connection | null]> = [];
  const withOnError = new Server(reactor, {}, { onError: (error, connection) => void reported.push([error.message, connection]), acceptBackoffMs: 10 });
  const without = new Server(reactor, {});
  const throwing = new Server(reactor, {}, {
    onError: () => {
      throw new Error('server onError failed');
    },
  });
  withOnError.fail(new Error('accept4 EINVAL'));
  without.fail('accept4 EBADF');
  throwing.fail(new Error('third'));
  t.same(reported, [['accept4 EINVAL', null]], 'the server onError, with no connection');
  t.same(last, ['a handler threw a non-Error value: accept4 EBADF', 'server onError failed'], "the reactor's onError took the rest");
  t.same([withOnError.stats.acceptErrors, without.stats.acceptErrors, withOnError.stats.acceptBackoffs], [1, 1, 1]);
  const socket = await connectClient(withOnError.port); // accepted again once the back-off ends
  await until(() => withOnError.connections.size === 1, 'the accept after the back-off');
  socket.destroy();
  await withOnError.close();
  await without.close();
  await throwing.close();
  reactor.close();
  fds.assertNone(t);
});

t.test('a connect that fails before it starts rejects; a thrown string becomes a coded Error with its cause', async (t) => {
  const fds = trackFds();
  const reactor = new Reactor();
  t.throws(() => connect(reactor, {}, { host: 'not-an-address', port: 1 }), { name: 'TypeError', code: 'ERR_INVALID_ARG_VALUE', message: /"host"/ }, 'a host that is not an address: thrown at once');
  const unreachable = await connect(reactor, {}, { host: '::1', port: 1 }).catch((error: unknown) => error);
  t.match(unreachable, { name: 'ZepollSystemError', syscall: 'connect', address: '::1', port: 1 }, 'a failed connect rejects with the address');
  const errors: unknown[] = [];
  const server = new Server(reactor, {
    onData: () => {
      throw 'a string'; // eslint-disable-line no-throw-literal -- what careless code does
    },
    onError: (_connection, error) => void errors.push(error),
  });
  const socket = await connectClient(server.port);
  socket.write('x');
  await closed(socket.on('error', () => {}));
  t.match(errors, [{ code: 'ERR_ZEPOLL_HANDLER', cause: 'a string', message: /a string/ }]);
  t.ok(errors[0] instanceof Error);
  await server.close();
  reactor.close();
  fds.assertNone(t);
});

t.test("a reactor onError that throws itself: the last resort logs both, nothing reaches the process", async (t) => {
  const fds = trackFds();
  const reactor = new Reactor({
    onError: () => {
      throw new Error('reactor onError failed');
    },
  });
  const logged: unknown[][] = [];
  const original = console.error;
  console.error = (...args: unknown[]): void => void logged.push(args);
  try {
    const server = new Server(reactor, {
      onData: () => {
        throw new Error('handler');
      },
    });
    const caught = await captureUncaught(async () => {
      const socket = await connectClient(server.port);
      socket.write('x');
      await closed(socket.on('error', () => {}));
    });
    t.same(caught, []);
    await server.close();
  } finally {
    console.error = original;
  }
  t.match(logged, [[/handler failed/, { message: 'reactor onError failed' }]]);
  reactor.close();
  fds.assertNone(t);
});

t.test('HTTP: a streamed body after Expect: 100-continue; an onError that throws; a late response on a connection the layer ended', async (t) => {
  const fds = trackFds();
  const last: string[] = [];
  const reactor = new Reactor({ onError: (error) => void last.push(error.message) });
  let held: HttpResponse | null = null;
  const server = createHttpServer(
    reactor,
    async (request, response) => {
      if (request.path === '/upload') {
        response.end(`got ${await request.text()}`);
        return;
      }
      if (request.path === '/hold') {
        held = response;
        return;
      }
      throw new Error('handler failed');
    },
    {
      streamBodies: true,
      onError: () => {
        throw new Error('http onError failed');
      },
    },
  );
  const answer = await new Promise<string>((resolve) => {
    const socket = net.connect(server.port, '127.0.0.1', () => socket.write('POST /upload HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nExpect: 100-continue\r\nConnection: close\r\n\r\n'));
    let text = '';
    socket.setEncoding('latin1').on('data', (part: string) => {
      text += part;
      if (text === 'HTTP/1.1 100 Continue\r\n\r\n') socket.write('hello');
    });
    socket.on('close', () => resolve(text));
  });
  t.match(answer, /^HTTP\/1\.1 100 Continue\r\n\r\nHTTP\/1\.1 200 OK[^]*got hello$/);
  const failed = await new Promise<string>((resolve) => {
    const socket = net.connect(server.port, '127.0.0.1', () => socket.write('GET /boom HTTP/1.1\r\nHost: a\r\n\r\n'));
    let text = '';
    socket.setEncoding('latin1').on('data', (part: string) => (text += part));
    socket.on('close', () => resolve(text));
  });
  t.match(failed, /^HTTP\/1\.1 500 /);
  t.same(last, ['http onError failed'], "onError's own throw went to the reactor");
  const socket = net.connect(server.port, '127.0.0.1', () => socket.write('GET /hold HTTP/1.1\r\nHost: a\r\n\r\n'));
  socket.on('error', () => {});
  await until(() => held !== null, 'the held request');
  const closing = server.close(60_000);
  socket.destroy();
  await closing;
  const response = held! as HttpResponse;
  await response.sendFile(0, 0, 10); // the connection is gone: a quiet no-op, as end() would be
  t.equal(response.finished, true);
  reactor.close();
  await fds.assertNoneSettled(t);
});

t.test('end() inside onDrain after a write the kernel only partly took: every byte goes out before the FIN', async (t) => {
  const fds = trackFds();
  const reactor = new Reactor();
  const big = Buffer.alloc(8 * 1024 * 1024, 0x62);
  const server = new Server(reactor, {
    onOpen: (connection) => {
      // Outside a turn: writeMany queues, then flushes at once; over the high-water mark, onDrain runs inside that flush.
      setTimeout(() => connection.writeMany(['x']), 1);
    },
    onDrain: (connection) => {
      connection.write(big); // more than the socket takes at once: queued
      connection.end();
    },
  }, { highWaterMark: 1 });
  const socket = await connectClient(server.port);
  let received = 0;
  socket.on('data', (data: Buffer) => void (received += data.length));
  await new Promise((resolve) => socket.once('end', resolve));
  t.equal(received, 1 + big.length, 'the whole body arrived, then the FIN');
  socket.destroy();
  await server.close();
  reactor.close();
  await fds.assertNoneSettled(t);
});

t.test('writeMany outside a turn past the high-water mark: a false return is always followed by onDrain', async (t) => {
  const fds = trackFds();
  const reactor = new Reactor();
  const part = Buffer.alloc(16 * 1024, 0x63);
  let returned: boolean | null = null;
  let drainsAfter = 0;
  const server = new Server(reactor, {
    onOpen: (connection) => {
      // Outside a turn the flush runs inside writeMany: when the kernel takes it all, the drain it owed is paid there,
      // so false would have the caller wait for an onDrain that already ran.
      setTimeout(() => (returned = connection.writeMany([part, part])), 1);
    },
    onDrain: () => void (returned !== null && (drainsAfter += 1)),
  }, { highWaterMark: 1024 });
  const socket = await connectClient(server.port);
  let received = 0;
  socket.on('data', (data: Buffer) => void (received += data.length));
  await until(() => received === 2 * part.length, 'both parts');
  t.ok(returned === true || drainsAfter === 1, `writeMany returned ${String(returned)}; onDrain ran ${drainsAfter} times after that`);
  // epoll writes at once outside a turn; io_uring's send is a request, so false there is the rule (and onDrain follows).
  if (reactor.stats.backend === 'epoll') t.equal(returned, true, 'the kernel took both parts at once here, so there is nothing to wait for');
  socket.destroy();
  await server.close();
  reactor.close();
  await fds.assertNoneSettled(t);
});
