/**
 * Resets and half-closes against the HTTP server with the example's
 * routes, in each dispatch mode: clients that reset (SO_LINGER 0, an RST)
 * before sending, mid-request, mid-body and mid-response, and clients that
 * half-close after or in the middle of a request. Nothing escapes as an
 * exception, no handler fails, no fd leaks, the counters balance (every
 * connection opened is closed) and the server still answers afterwards.
 */
import t from 'tap';
import net from 'node:net';
import { Reactor, type Mode } from '../../packages/reactor/src/reactor.js';
import { createHttpServer } from '../../packages/reactor/src/http/server.js';
import { route } from '../../packages/examples/src/servers/http-routes.js';
import { trackFds } from '../helpers/fds.js';
import { captureUncaught } from '../helpers/uncaught.js';
import { exchangeOn } from '../helpers/net-client.js';
import { until } from '../helpers/wait.js';

const CLIENTS_PER_CASE = 40;
const LARGE_RESPONSE = 8 * 1024 * 1024;

type Case = (port: number) => Promise<string>;

/** Connects, runs `act`, and resolves once the socket is closed, with what it received. */
function client(port: number, act: (socket: net.Socket, received: () => string) => void): Promise<string> {
  return new Promise((resolve) => {
    const socket = net.connect({ port, host: '127.0.0.1', allowHalfOpen: true });
    let text = '';
    socket.setEncoding('latin1').on('data', (part: string) => (text += part));
    socket.on('error', () => {});
    socket.on('close', () => resolve(text));
    socket.once('connect', () => act(socket, () => text));
  });
}

const CASES: Record<string, Case> = {
  'reset before sending': (port) => client(port, (socket) => socket.resetAndDestroy()),
  'reset mid-request (half a head)': (port) =>
    client(port, (socket) => {
      socket.write('GET / HTTP/1.1\r\nHo');
      setTimeout(() => socket.resetAndDestroy(), 5);
    }),
  'reset mid-body (5 000 of 100 000 bytes)': (port) =>
    client(port, (socket) => {
      socket.write(`POST /echo HTTP/1.1\r\nHost: r\r\nContent-Length: 100000\r\n\r\n${'b'.repeat(5000)}`);
      setTimeout(() => socket.resetAndDestroy(), 5);
    }),
  'reset mid-response (8 MiB streamed)': (port) =>
    client(port, (socket) => {
      socket.write(`GET /bytes/${LARGE_RESPONSE} HTTP/1.1\r\nHost: r\r\n\r\n`);
      socket.once('data', () => socket.resetAndDestroy());
    }),
  'reset with pipelined requests unanswered': (port) =>
    client(port, (socket) => {
      socket.write('GET / HTTP/1.1\r\nHost: r\r\n\r\n'.repeat(20));
      socket.resetAndDestroy();
    }),
  'half-close after a request: answered, then closed': (port) =>
    client(port, (socket) => {
      socket.end('GET / HTTP/1.1\r\nHost: r\r\n\r\n');
    }),
  'half-close mid-request: closed without an answer': (port) =>
    client(port, (socket) => {
      socket.end('GET / HTTP/1.1\r\nHost: r\r\n');
    }),
  'half-close mid-response, then reset': (port) =>
    client(port, (socket) => {
      socket.end(`GET /bytes/${LARGE_RESPONSE} HTTP/1.1\r\nHost: r\r\n\r\n`);
      socket.once('data', () => setTimeout(() => socket.resetAndDestroy(), 5));
    }),
};

for (const mode of ['lt', 'et', 'oneshot'] as Mode[]) {
  t.test(`${mode}: resets and half-closes, ${CLIENTS_PER_CASE} clients per case, all at once`, async (t) => {
    const fds = trackFds();
    const reactor = new Reactor({ mode });
    const server = createHttpServer(reactor, route);
    const results: Record<string, string[]> = {};
    const uncaught = await captureUncaught(async () => {
      await Promise.all(
        Object.entries(CASES).map(async ([name, run]) => {
          results[name] = await Promise.all(Array.from({ length: CLIENTS_PER_CASE }, () => run(server.port)));
        }),
      );
      // Until every client was accepted and every connection closed (a client can be gone before its accept).
      const clients = Object.keys(CASES).length * CLIENTS_PER_CASE;
      await until(() => reactor.stats.connectionsTotal >= clients && reactor.stats.connectionsOpen === 0, 'every client accepted and every connection closed');
    });
    t.same(uncaught, [], 'no exception escaped');
    t.equal(reactor.stats.handlerErrors, 0, 'no handler failed');
    const answered = results['half-close after a request: answered, then closed']!;
    t.equal(answered.filter((text) => /^HTTP\/1\.1 200 OK\r\n[^]*\r\n\r\nhello world$/.test(text)).length, CLIENTS_PER_CASE, 'each half-closed request answered in full');
    t.ok(results['half-close mid-request: closed without an answer']!.every((text) => text === ''), 'an unfinished request is dropped, not answered');
    const stats = reactor.stats;
    const clients = Object.keys(CASES).length * CLIENTS_PER_CASE;
    t.equal(stats.connectionsTotal, clients, `${clients} connections opened`);
    t.equal(stats.connectionsClosed, stats.connectionsTotal, `opened = closed (${stats.connectionsClosed})`);
    t.equal(stats.connectionsOpen, 0, 'none left open');
    t.equal(stats.queuedBytes, 0, 'no queued bytes left behind');
    const socket = net.connect(server.port, '127.0.0.1');
    const answer = await exchangeOn(socket, 'GET / HTTP/1.1\r\nHost: after\r\n\r\n', (text) => text.endsWith('hello world'));
    t.match(answer, /^HTTP\/1\.1 200 OK/, 'still serving');
    socket.destroy();
    await server.close();
    reactor.close();
    await fds.assertNoneSettled(t);
  });
}
