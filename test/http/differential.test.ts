/**
 * Differential parsing: every request of test/fixtures/http-corpus.json is
 * sent, as raw bytes, to the http example's routes on zepoll and to Node's
 * http server with the same routes; both must accept it or both reject it.
 * Accept: any response other than a parse-level error. Reject: 400, 413,
 * 414, 417, 431, 501, 505, or a close with no response. Where the two
 * differ on purpose, the corpus entry says so in `difference` (and the
 * test checks that they still differ, so the note stays true).
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
}

const corpus = JSON.parse(readFileSync(`${FIXTURES}http-corpus.json`, 'utf8')) as Entry[];
const REJECTIONS = new Set([400, 413, 414, 417, 431, 501, 505]);
const RESPONSE_WAIT_MS = 1000;

/** Node's http server with the example's routes (in Node's API). */
function nodeServer(): Promise<http.Server> {
  const hello = Buffer.from('hello world');
  const json = Buffer.from(JSON.stringify({ message: 'hello world', server: 'zepoll' }));
  const server = http.createServer((request, response) => {
    const path = (request.url ?? '/').split('?')[0];
    const parts: Buffer[] = [];
    request.on('data', (part: Buffer) => parts.push(part));
    request.on('end', () => {
      if (path === '/' && (request.method === 'GET' || request.method === 'HEAD')) return response.writeHead(200, { 'Content-Type': 'text/plain' }).end(hello);
      if (path === '/json' && (request.method === 'GET' || request.method === 'HEAD')) return response.writeHead(200, { 'Content-Type': 'application/json' }).end(json);
      if (path === '/echo' && request.method === 'POST') return response.writeHead(200).end(Buffer.concat(parts));
      return response.writeHead(404, { 'Content-Type': 'text/plain' }).end('not found\n');
    });
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

/** The first status code answered, or 'closed'/'silent' when none came. */
function outcome(port: number, request: string): Promise<number | 'closed' | 'silent'> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1', () => socket.end(Buffer.from(request, 'latin1')));
    let text = '';
    let settled = false;
    const settle = (value: number | 'closed' | 'silent'): void => {
      if (settled) return;
      settled = true;
      socket.destroy();
      resolve(value);
    };
    socket.setEncoding('latin1');
    socket.on('data', (part: string) => {
      text += part;
      const match = /^HTTP\/1\.[01] (\d{3}) /.exec(text.replace(/^HTTP\/1\.1 100 Continue\r\n\r\n/, ''));
      if (match !== null) settle(Number(match[1]));
    });
    socket.on('error', () => settle('closed'));
    socket.on('close', () => settle('closed'));
    setTimeout(() => settle('silent'), RESPONSE_WAIT_MS);
  });
}

const verdict = (result: number | 'closed' | 'silent'): 'accept' | 'reject' => (typeof result === 'number' && !REJECTIONS.has(result) ? 'accept' : 'reject');

t.test(`${corpus.length} requests: zepoll and Node's http accept or reject alike`, async (t) => {
  t.ok(corpus.length >= 60, `${corpus.length} requests in the corpus`);
  const fds = trackFds();
  const reactor = new Reactor();
  const zepoll = createHttpServer(reactor, route);
  const node = await nodeServer();
  const nodePort = (node.address() as net.AddressInfo).port;
  const table: string[] = [];
  for (const entry of corpus) {
    const [ours, theirs] = await Promise.all([outcome(zepoll.port, entry.request), outcome(nodePort, entry.request)]);
    table.push(`${entry.name}: zepoll ${ours}, node ${theirs}`);
    if (entry.difference === undefined) {
      t.equal(verdict(ours), verdict(theirs), `${entry.name} (zepoll ${ours}, node ${theirs})`);
    } else {
      t.not(verdict(ours), verdict(theirs), `${entry.name}: differs on purpose (zepoll ${ours}, node ${theirs}): ${entry.difference}`);
    }
  }
  t.comment(table.join('\n'));
  await zepoll.close(500);
  reactor.close();
  node.closeAllConnections();
  await new Promise((resolve) => node.close(resolve));
  fds.assertNone(t);
});
