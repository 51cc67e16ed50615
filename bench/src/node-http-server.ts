/**
 * Node's own http server with the routes of the http example (GET / →
 * "hello world", GET /json, POST /echo, else 404): the baseline of the
 * HTTP benchmarks. Prints "port N".
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

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
  response.writeHead(404, { 'Content-Type': 'text/plain' }).end('not found\n');
});
server.keepAliveTimeout = 60_000;
server.listen(0, '127.0.0.1', () => process.stdout.write(`port ${(server.address() as AddressInfo).port}\n`));
process.once('SIGTERM', () => process.exit(0));
