/** The HTTP example: the routes of http-routes.ts on a zepoll HTTP server. */
import type { Reactor, Server } from 'zepoll';
import { createHttpServer, type HttpServerOptions } from 'zepoll/http';
import { route } from './http-routes.js';

export function startHttp(reactor: Reactor, options: HttpServerOptions): Server {
  return createHttpServer(reactor, route, options);
}
