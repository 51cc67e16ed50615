/**
 * Differential parsing: every request of test/fixtures/http-corpus.json is
 * sent, as raw bytes, to the http example's routes on zepoll and to Node's
 * http server with the same routes; both must accept it or both reject it.
 * Accept: any response other than a parse-level error. Reject: 400, 413,
 * 414, 417, 431, 501, 505, or a close with no response. An entry marked
 * `persistence` is sent without a FIN, and whether each server closes the
 * connection after its answer is compared too (Connection and keep-alive
 * rules; the FIN would close it either way). Where the two differ on
 * purpose, the corpus entry says so in `difference` (and the test checks
 * that they still differ, so the note stays true).
 */
import t from 'tap';
import http from 'node:http';
import net from 'node:net';
import { readFileSync } from 'node:fs';
import { Reactor } from '../../packages/reactor/src/reactor.js';
import { createHttpServer } from '../../packages/reactor/src/http/server.js';
import { route } from '../../packages/examples/src/servers/http-routes.js';
import { FIXTURES } from '../helpers/child.js';
import { trackFds } from '../helpers/fds.js';

interface Entry {
  readonly name: string;
  readonly request: string;
  /** Why zepoll and Node answer differently, when they do on purpose. */
  readonly difference?: string;
  /** Also compare whether the connection stays open after the answer. */
  readonly persistence?: boolean;
}

/** The first status answered (or 'closed'/'silent' when none came), and whether the server then closed the connection. */
interface Outcome {
  readonly result: number | 'closed' | 'silent';
  readonly closedAfter: boolean;
}

const corpus = JSON.parse(readFileSync(`${FIXTURES}http-corpus.json`, 'utf8')) as Entry[];
const REJECTIONS = new Set([400, 413, 414, 417, 431, 501, 505]);
const RESPONSE_WAIT_MS = 1000;
/** How long a persistence entry waits, after the answer, for the server to close (both close within milliseconds when they do). */
const CLOSE_WAIT_MS = 500;

/**
 * Node's http server with the example's routes (in Node's API). Bodies go
 * with a Content-Length, as zepoll's do: without one Node closes every
 * HTTP/1.0 connection to delimit the body, whatever llhttp decided.
 */
function nodeServer(): Promise<http.Server> {
  const hello = Buffer.from('hello world');
  const json = Buffer.from(JSON.stringify({ message: 'hello world', server: 'zepoll' }));
  const server = http.createServer((request, response) => {
    const path = (request.url ?? '/').split('?')[0];
    const parts: Buffer[] = [];
    request.on('data', (part: Buffer) => parts.push(part));
    request.on('end', () => {
      const send = (status: number, type: string, body: Buffer): void => void response.writeHead(status, { 'Content-Type': type, 'Content-Length': body.length }).end(body);
      if (path === '/' && (request.method === 'GET' || request.method === 'HEAD')) return send(200, 'text/plain', hello);
      if (path === '/json' && (request.method === 'GET' || request.method === 'HEAD')) return send(200, 'application/json', json);
      if (path === '/echo' && request.method === 'POST') return send(200, 'application/octet-stream', Buffer.concat(parts));
      return send(404, 'text/plain', Buffer.from('not found\n'));
    });
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

/** Sends `request` (then a FIN, unless `persistence`) and waits for the first answer and, with `persistence`, for a close. */
function outcome(port: number, request: string, persistence: boolean): Promise<Outcome> {
  return new Promise((resolve) => {
    const bytes = Buffer.from(request, 'latin1');
    const socket = net.connect(port, '127.0.0.1', () => (persistence ? socket.write(bytes) : socket.end(bytes)));
    let text = '';
    let result: Outcome['result'] | null = null;
    let settled = false;
    const settle = (closedAfter: boolean): void => {
      if (settled) return;
      settled = true;
      socket.destroy();
      resolve({ result: result ?? (closedAfter ? 'closed' : 'silent'), closedAfter });
    };
    socket.setEncoding('latin1');
    socket.on('data', (part: string) => {
      text += part;
      if (result !== null) return;
      const match = /^HTTP\/1\.[01] (\d{3}) /.exec(text.replace(/^HTTP\/1\.1 100 Continue\r\n\r\n/, ''));
      if (match === null) return;
      result = Number(match[1]);
      if (persistence) setTimeout(() => settle(false), CLOSE_WAIT_MS);
      else settle(false);
    });
    socket.on('error', () => settle(true));
    socket.on('close', () => settle(true));
    setTimeout(() => settle(false), RESPONSE_WAIT_MS);
  });
}

/** What is compared: accept or reject, and with `persistence` whether the connection was closed after the answer. */
const verdict = (outcome: Outcome, persistence: boolean): string => {
  const accepted = typeof outcome.result === 'number' && !REJECTIONS.has(outcome.result) ? 'accept' : 'reject';
  return persistence ? `${accepted}, ${outcome.closedAfter ? 'then close' : 'kept open'}` : accepted;
};
const show = (outcome: Outcome, persistence: boolean): string => (persistence ? `${outcome.result} (${outcome.closedAfter ? 'closed' : 'open'})` : String(outcome.result));

t.test(`${corpus.length} requests: zepoll and Node's http accept or reject alike`, async (t) => {
  t.ok(corpus.length >= 60, `${corpus.length} requests in the corpus`);
  const fds = trackFds();
  const reactor = new Reactor();
  const zepoll = createHttpServer(reactor, route);
  const node = await nodeServer();
  const nodePort = (node.address() as net.AddressInfo).port;
  const table: string[] = [];
  for (const entry of corpus) {
    const persistence = entry.persistence === true;
    const [ours, theirs] = await Promise.all([outcome(zepoll.port, entry.request, persistence), outcome(nodePort, entry.request, persistence)]);
    const shown = `zepoll ${show(ours, persistence)}, node ${show(theirs, persistence)}`;
    table.push(`${entry.name}: ${shown}`);
    if (entry.difference === undefined) {
      t.equal(verdict(ours, persistence), verdict(theirs, persistence), `${entry.name} (${shown})`);
    } else {
      t.not(verdict(ours, persistence), verdict(theirs, persistence), `${entry.name}: differs on purpose (${shown}): ${entry.difference}`);
    }
  }
  t.comment(table.join('\n'));
  await zepoll.close(500);
  reactor.close();
  node.closeAllConnections();
  await new Promise((resolve) => node.close(resolve));
  fds.assertNone(t);
});
