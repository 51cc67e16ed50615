/**
 * The routes of the HTTP example, shared with the tests and the bench's
 * Node http server so they answer the same: GET / → "hello world",
 * GET /json → a small JSON body, POST /echo → the request body, else 404.
 * Type-only imports: this file runs against any copy of the reactor.
 */
import type { HttpRequest, HttpResponse } from 'zepoll/http';

const HELLO = Buffer.from('hello world');
const JSON_BODY = Buffer.from(JSON.stringify({ message: 'hello world', server: 'zepoll' }));

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
  response.writeHead(404, { 'Content-Type': 'text/plain' });
  response.end('not found\n');
}

