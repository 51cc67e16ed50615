/**
 * Node's own http server with the routes of the http example (GET / →
 * "hello world", GET /json, POST /echo, GET /bytes/<n>, else 404): the
 * baseline of the HTTP benchmarks. Prints "port N"; on SIGUSR2 its garbage
 * figures (gc-watch.ts).
 */
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { BYTES_PATTERN, BYTES_ROUTE_MAX } from '../../packages/examples/dist/servers/http-routes.js';
import { reportOnSignal } from './gc-watch.js';

const HELLO = Buffer.from('hello world');
const JSON_BODY = Buffer.from(JSON.stringify({ message: 'hello world', server: 'zepoll' }));

const server = createServer((request, response) => {
  const path = (request.url ?? '/').split('?')[0];
  if (path === '/' && request.method === 'GET') {
    response.writeHead(200, { 'Content-Type': 'text/plain' }).end(HELLO);
    return;
  }
  if (path === '/json' && request.method === 'GET') {
    response.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON_BODY);
    return;
  }
  if (path === '/echo' && request.method === 'POST') {
    const parts: Buffer[] = [];
    request.on('data', (part: Buffer) => parts.push(part));
    request.on('end', () => response.writeHead(200, { 'Content-Type': request.headers['content-type'] ?? 'application/octet-stream' }).end(Buffer.concat(parts)));
    return;
  }
  if (path?.startsWith('/bytes/') && request.method === 'GET') {
    const text = path.slice('/bytes/'.length);
    if (!/^\d{1,9}$/.test(text) || Number(text) > BYTES_ROUTE_MAX) {
      response.writeHead(400, { 'Content-Type': 'text/plain' }).end(`/bytes/<n>: n from 0 to ${BYTES_ROUTE_MAX}\n`);
      return;
    }
    streamBytes(response.writeHead(200, { 'Content-Type': 'application/octet-stream' }), Number(text));
    return;
  }
  response.writeHead(404, { 'Content-Type': 'text/plain' }).end('not found\n');
});

/** As the example: BYTES_PATTERN repeated, written again only after each drain. */
function streamBytes(response: ServerResponse, total: number): void {
  let sent = 0;
  const pump = (): void => {
    while (sent < total) {
      const size = Math.min(BYTES_PATTERN.length, total - sent);
      sent += size;
      if (!response.write(BYTES_PATTERN.subarray(0, size))) return void response.once('drain', pump);
    }
    response.end();
  };
  pump();
}
server.keepAliveTimeout = 60_000;
reportOnSignal(() => null); // garbage figures only: Node keeps no system-call counters
server.listen(0, '127.0.0.1', () => process.stdout.write(`port ${(server.address() as AddressInfo).port}\n`));
process.once('SIGTERM', () => process.exit(0));
