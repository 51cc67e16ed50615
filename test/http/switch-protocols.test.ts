/**
 * HttpResponse.switchProtocols(), protocol-neutral: a 101 with the
 * handler's headers and the protocol's fields, then the connection in a
 * new handler's hands (bytes after the request given to it first, from a
 * synchronous and from a late answer), and the misuses refused before a
 * byte is sent.
 */
import t from 'tap';
import { Reactor } from '../../packages/reactor/src/reactor.js';
import { createHttpServer } from '../../packages/reactor/src/http/server.js';
import type { ConnectionHandler } from '../../packages/reactor/src/connection.js';
import { trackFds } from '../helpers/fds.js';
import { until } from '../helpers/wait.js';
import { connect, closed } from '../helpers/net-client.js';

/** A new protocol: every byte back, upper-cased (through onData: no ON_BYTES). */
const SHOUT: ConnectionHandler = {
  onOpen: (connection) => void connection.write('ready\n'),
  onData: (connection, data) => void connection.write(data.toString('latin1').toUpperCase()),
};

t.test('a 101, then the new handler gets the bytes behind the request and what follows', async (t) => {
  const fds = trackFds();
  const reported: string[] = [];
  const reactor = new Reactor({ onError: (error: Error) => void reported.push(error.message) });
  const failures: string[] = [];
  const server = createHttpServer(
    reactor,
    (request, response) => {
      const fields = ['Upgrade', 'shout', 'Connection', 'Upgrade'];
      if (request.path === '/late') {
        return new Promise<void>((resolve) => setTimeout(() => resolve(response.switchProtocols(SHOUT, fields)), 10));
      }
      if (request.path === '/misuse') {
        t.throws(() => response.switchProtocols(null as unknown as ConnectionHandler), { code: 'ERR_INVALID_ARG_TYPE' });
        t.throws(() => response.switchProtocols(SHOUT, 'x' as unknown as string[]), { code: 'ERR_INVALID_ARG_TYPE' });
        t.throws(() => response.switchProtocols(SHOUT, ['Bad Name', 'x']), { code: 'ERR_INVALID_ARG_VALUE' });
        t.throws(() => response.switchProtocols(SHOUT, ['Upgrade', 'a\r\nb']), { code: 'ERR_INVALID_ARG_VALUE' });
        t.throws(() => response.switchProtocols(SHOUT, ['Upgrade']), { code: 'ERR_INVALID_ARG_TYPE' });
        response.end('no switch');
        t.throws(() => response.switchProtocols(SHOUT), { code: 'ERR_ZEPOLL_HTTP_RESPONSE' });
        return undefined;
      }
      if (request.path === '/old') {
        t.throws(() => response.switchProtocols(SHOUT), { code: 'ERR_ZEPOLL_HTTP_RESPONSE' }, 'HTTP/1.0 cannot switch');
        response.end('old');
        return undefined;
      }
      if (request.path === '/throwing') {
        response.switchProtocols({ onData: () => { throw new Error('new handler broke'); } }, fields);
        return undefined;
      }
      response.setHeader('X-Before', 'yes');
      response.switchProtocols(SHOUT, fields);
      return undefined;
    },
    { port: 0, onError: (error) => void failures.push(error.message) },
  );
  for (const path of ['/now', '/late']) {
    const socket = await connect(server.port);
    let text = '';
    socket.setEncoding('latin1').on('data', (part: string) => (text += part));
    socket.write(`GET ${path} HTTP/1.1\r\nHost: x\r\nUpgrade: shout\r\nConnection: Upgrade\r\n\r\nfirst bytes `);
    await until(() => text.includes('FIRST BYTES '), `${path}: the bytes behind the request`);
    socket.write('and more');
    await until(() => text.endsWith('AND MORE'), `${path}: later bytes`);
    t.match(text, /^HTTP\/1\.1 101 Switching Protocols\r\n/);
    if (path === '/now') t.match(text, /X-Before: yes\r\nUpgrade: shout\r\nConnection: Upgrade\r\n\r\nready\n/);
    socket.destroy();
  }
  const misuse = await fetch(`http://127.0.0.1:${server.port}/misuse`);
  t.equal(await misuse.text(), 'no switch');
  const old = await connect(server.port);
  let oldText = '';
  old.setEncoding('latin1').on('data', (part: string) => (oldText += part));
  old.write('GET /old HTTP/1.0\r\n\r\n');
  await closed(old);
  t.match(oldText, /old$/);
  const throwing = await connect(server.port);
  throwing.write('GET /throwing HTTP/1.1\r\nHost: x\r\nUpgrade: x\r\nConnection: Upgrade\r\n\r\nboom');
  throwing.on('error', () => {});
  await closed(throwing);
  t.equal(reactor.stats.handlerErrors, 1, 'the new handler failing is counted once (on io_uring its chunk was once released twice, and the pool\'s refusal counted again)');
  t.same(reported, ['new handler broke']);
  t.same(failures, []);
  await server.close(1000);
  reactor.close();
  await fds.assertNoneSettled(t);
});

t.test('a streamed body still arriving cannot switch', async (t) => {
  const fds = trackFds();
  const reactor = new Reactor();
  let refused = false;
  const server = createHttpServer(
    reactor,
    (_request, response) => {
      try {
        response.switchProtocols(SHOUT);
      } catch (error) {
        refused = (error as { code?: string }).code === 'ERR_ZEPOLL_HTTP_RESPONSE';
      }
      response.end('no');
    },
    { port: 0, streamBodies: true },
  );
  const answer = await fetch(`http://127.0.0.1:${server.port}/`, { method: 'POST', body: 'body' });
  t.equal(await answer.text(), 'no');
  t.ok(refused);
  await server.close(1000);
  reactor.close();
  await fds.assertNoneSettled(t);
});
