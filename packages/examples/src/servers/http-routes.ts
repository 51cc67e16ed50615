/**
 * The routes of the HTTP example, shared with the tests and the bench's
 * Node http server so they answer the same: GET / → "hello world",
 * GET /json → a small JSON body, POST /echo → the request body,
 * GET /bytes/<n> → n bytes streamed with backpressure (a large response
 * that never sits whole in memory), else 404.
 * Type-only imports: this file runs against any copy of the reactor.
 */
import type { HttpRequest, HttpResponse } from 'zepoll/http';

const HELLO = Buffer.from('hello world');
const JSON_BODY = Buffer.from(JSON.stringify({ message: 'hello world', server: 'zepoll' }));
/** The largest /bytes/<n> response. */
export const BYTES_ROUTE_MAX = 64 * 1024 * 1024;
/** /bytes/<n> repeats this block (byte i is i % 251, so a misplaced block shows). */
export const BYTES_PATTERN = Buffer.from(Array.from({ length: 64 * 1024 }, (_, index) => index % 251));

/**
 * Streams `total` bytes of BYTES_PATTERN, writing again only after each
 * drain. Each block is a fresh copy, as generated data would be: memory
 * then shows whether backpressure holds (a shared block would not).
 */
function streamBytes(response: HttpResponse, total: number): void {
  let sent = 0;
  const pump = (): void => {
    while (sent < total) {
      const size = Math.min(BYTES_PATTERN.length, total - sent);
      sent += size;
      if (!response.write(Buffer.from(BYTES_PATTERN.subarray(0, size)))) return response.onDrain(pump);
    }
    response.end();
  };
  response.setHeader('Content-Type', 'application/octet-stream');
  pump();
}

export function route(request: HttpRequest, response: HttpResponse): void {
  const path = request.path;
  if (path === '/' && (request.method === 'GET' || request.method === 'HEAD')) {
    response.setHeader('Content-Type', 'text/plain');
    response.end(HELLO);
    return;
  }
  if (path === '/json' && (request.method === 'GET' || request.method === 'HEAD')) {
    response.setHeader('Content-Type', 'application/json');
    response.end(JSON_BODY);
    return;
  }
  if (path === '/echo' && request.method === 'POST') {
    response.setHeader('Content-Type', request.header('content-type') ?? 'application/octet-stream');
    response.end(request.body);
    return;
  }
  if (path.startsWith('/bytes/') && request.method === 'GET') {
    const text = path.slice('/bytes/'.length);
    const total = Number(text);
    if (!/^\d{1,9}$/.test(text) || total > BYTES_ROUTE_MAX) {
      response.writeHead(400, { 'Content-Type': 'text/plain' });
      response.end(`/bytes/<n>: n from 0 to ${BYTES_ROUTE_MAX}\n`);
      return;
    }
    streamBytes(response, total);
    return;
  }
  response.writeHead(404, { 'Content-Type': 'text/plain' });
  response.end('not found\n');
}

