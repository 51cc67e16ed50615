/** A parsed request as plain data, for comparing parses (any split, any model) with t.same or JSON. */
import type { HttpRequest } from '../../packages/reactor/src/http/request.js';

export const summary = (request: HttpRequest): unknown => ({
  method: request.method,
  target: request.target,
  version: request.versionMinor,
  headers: request.headers,
  body: Buffer.from(request.body).toString('latin1'),
  keepAlive: request.keepAlive,
});
