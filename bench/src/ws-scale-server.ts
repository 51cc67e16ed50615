/**
 * One server process of the ws scenario, zepoll/ws or uWebSockets.js:
 * every socket subscribes to one topic and echoes each message it gets;
 * a broadcast is one publish to that topic. Several such processes share
 * PORT through SO_REUSEPORT, as a user spreads sockets over processes when
 * one process's fd limit cannot hold them: zepoll with `reusePort: true`,
 * uWS.js by default on Linux for a port other than 0 (it sets
 * SO_REUSEPORT unless told LIBUS_LISTEN_EXCLUSIVE_PORT; checked: a second
 * process listens on the same port). Answers the driver over IPC
 * (ws-scale-serve.ts).
 *
 *   node --expose-gc ws-scale-server.js zepoll-et|zepoll-uring|uws PORT
 */
import { createRequire } from 'node:module';
import { Reactor } from 'zepoll';
import { createWebSocketServer } from 'zepoll/ws';
import { counts, fail, localReport, serve } from './ws-scale-serve.js';
import { IDLE_TIMEOUT_SECONDS, LISTEN_BACKLOG, MESSAGE_SIZE, TOPIC } from './ws-scale-protocol.js';

const [kind = '', portText = '0'] = process.argv.slice(2);
const port = Number(portText);
const HOST = '127.0.0.1';
/** Both servers' payload bound, well above the 1 KiB messages. */
const PAYLOAD_MAX = 16 * MESSAGE_SIZE;
/** uWS.js's maxBackpressure set to zepoll's default (1 MiB): neither drops a broadcast here. */
const BACKPRESSURE_MAX = 1024 * 1024;

function startZepoll(): void {
  const reactor = new Reactor(kind === 'zepoll-uring' ? { backend: 'io_uring' } : { backend: 'epoll', mode: 'et' });
  const { hub } = createWebSocketServer(
    reactor,
    {
      open(ws) {
        counts.open += 1;
        ws.subscribe(TOPIC);
      },
      message(ws, data, isBinary) {
        counts.messages += 1;
        ws.send(data, isBinary); // the pooled view goes back as it is
      },
      close() {
        counts.open -= 1;
        counts.closed += 1;
      },
    },
    { host: HOST, port, reusePort: true, backlog: LISTEN_BACKLOG, idleTimeoutMs: IDLE_TIMEOUT_SECONDS * 1000, maxPayloadLength: PAYLOAD_MAX },
  );
  serve({ report: localReport, broadcast: async (payload) => hub.publish(TOPIC, payload, true) }, [process.pid]);
}

/** The part of uWS.js's WebSocket API used here (the package's own types are optional too). */
interface UwsSocket {
  subscribe(topic: string): boolean;
  send(message: ArrayBuffer, isBinary: boolean): number;
}
interface UwsApp {
  ws(pattern: string, behavior: Record<string, unknown>): UwsApp;
  listen(host: string, port: number, done: (token: unknown) => void): UwsApp;
  publish(topic: string, message: Uint8Array, isBinary: boolean): boolean;
}

function startUws(): void {
  let uws: { App(): UwsApp; DISABLED: number };
  try {
    uws = createRequire(import.meta.url)('@rjweb/uws') as typeof uws;
  } catch (error) {
    return fail(`uws: @rjweb/uws cannot be loaded here (${(error as Error).message.split('\n')[0]})`);
  }
  const app = uws.App().ws('/*', {
    compression: uws.DISABLED,
    idleTimeout: IDLE_TIMEOUT_SECONDS,
    maxPayloadLength: PAYLOAD_MAX,
    maxBackpressure: BACKPRESSURE_MAX,
    open(ws: UwsSocket) {
      counts.open += 1;
      ws.subscribe(TOPIC);
    },
    message(ws: UwsSocket, message: ArrayBuffer, isBinary: boolean) {
      counts.messages += 1;
      ws.send(message, isBinary);
    },
    close() {
      counts.open -= 1;
      counts.closed += 1;
    },
  });
  app.listen(HOST, port, (token) => {
    if (!token) return fail(`uws: listen on ${HOST}:${port} failed`);
    // publish() says only whether it queued: the subscribers are the open sockets.
    serve({ report: localReport, broadcast: async (payload) => (app.publish(TOPIC, payload, true), counts.open) }, [process.pid]);
  });
}

if (kind === 'zepoll-et' || kind === 'zepoll-uring') startZepoll();
else if (kind === 'uws') startUws();
else fail(`ws-scale-server: unknown kind ${JSON.stringify(kind)}`);
