/**
 * Starts one example on a reactor of its own: used by the CLI in a single
 * thread and by each worker thread with --workers.
 */
import { Reactor, type Server, type ServerOptions } from 'zepoll';
import type { ExampleOptions } from './options.js';
import { startEcho } from './servers/echo.js';
import { startHttp } from './servers/http.js';
import { startStatic } from './servers/static.js';
import { startProxy } from './servers/proxy.js';
import { startResp } from './servers/resp.js';
import { startChat } from './servers/chat.js';

export interface RunningExample {
  readonly port: number;
  close(): Promise<void>;
}

/** Milliseconds a graceful close waits for connections before forcing them. */
export const CLOSE_TIMEOUT_MS = 5000;

export function startExample(options: ExampleOptions, reusePort: boolean): RunningExample {
  const reactor = options.backend === 'epoll' ? new Reactor({ mode: options.mode, readQuota: options.quota }) : new Reactor({ backend: options.backend, readQuota: options.quota });
  const serverOptions: Omit<ServerOptions, 'onError'> = { host: options.host, port: options.port, reusePort, ...(options.idleTimeoutMs > 0 ? { idleTimeoutMs: options.idleTimeoutMs } : {}) };
  let server: Server;
  let stop: () => void = () => {};
  try {
    switch (options.name) {
      case 'echo':
        server = startEcho(reactor, serverOptions);
        break;
      case 'http':
        server = startHttp(reactor, { ...serverOptions, headersTimeoutMs: options.headersTimeoutMs });
        break;
      case 'static':
        server = startStatic(reactor, { ...serverOptions, headersTimeoutMs: options.headersTimeoutMs }, options.root!);
        break;
      case 'proxy': {
        const proxy = startProxy(reactor, serverOptions, options.upstream!);
        server = proxy.server;
        stop = proxy.stop;
        break;
      }
      case 'chat':
        server = startChat(reactor, { ...serverOptions, headersTimeoutMs: options.headersTimeoutMs });
        break;
      case 'resp': {
        const resp = startResp(reactor, serverOptions);
        server = resp.server;
        stop = resp.stop;
        break;
      }
    }
  } catch (error) {
    reactor.close();
    throw error;
  }
  return {
    port: server.port,
    async close() {
      stop();
      await server.close(CLOSE_TIMEOUT_MS);
      reactor.close();
    },
  };
}
