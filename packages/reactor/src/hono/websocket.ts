/**
 * Hono's WebSocket helper on zepoll/fetch: `upgradeWebSocket` for the
 * routes and `websocket` for serve(), as `hono/bun` pairs them for
 * Bun.serve(), so a Hono app's WebSocket routes run unchanged:
 *
 *   app.get('/ws', upgradeWebSocket((c) => ({ onMessage(event, ws) { ... } })));
 *   serve({ fetch: app.fetch, websocket });
 *
 * The route's upgradeWebSocket calls `c.env.upgrade()` (serve() passes
 * its server as the app's env, as Bun does) with the route's events as
 * the socket's data; `websocket`, serve()'s handlers, calls those events
 * with Hono's event objects and one WSContext per socket. Hono is used
 * for its types only: nothing of it is imported at run time.
 */
import type { UpgradeWebSocket, WSContext, WSEvents } from 'hono/ws';
import { ZepollError } from '../errors.js';
import { isThenable } from '../safe-call.js';
import { CLOSE_ABNORMAL } from '../ws/close.js';
import { isUpgradeRequest } from '../ws/handshake.js';
import { WebSocketHandshakeError } from '../ws/handshake-error.js';
import type { FetchServer } from '../fetch/serve.js';
import type { ServerWebSocket } from '../fetch/server-websocket.js';
import { examineUpgrade, type WebSocketHandler } from '../fetch/websocket.js';

/** The socket of a Hono WebSocket route, as serve()'s handlers get it. */
export type HonoServerWebSocket = ServerWebSocket<HonoWebSocketData>;

/** A Hono route's socket data (`ws.data`): its events, the request's URL, and the subprotocol picked. */
export interface HonoWebSocketData {
  /** The route's event handlers (what its `upgradeWebSocket` callback returned). */
  readonly events: WSEvents<HonoServerWebSocket>;
  /** The URL of the upgrade request. */
  readonly url: URL;
  /** The subprotocol picked (the client's first), or '' when it offered none. */
  readonly protocol: string;
  /** The context the events get, the same object for every event of one socket (made at open). */
  context: WSContext<HonoServerWebSocket> | null;
}

/** Hono's CloseEvent: Node 20 has no global one (as @hono/node-ws, which brings its own). */
class WebSocketCloseEvent extends Event {
  readonly code: number;
  readonly reason: string;
  readonly wasClean: boolean;

  constructor(code: number, reason: string) {
    super('close');
    this.code = code;
    this.reason = reason;
    this.wasClean = code !== CLOSE_ABNORMAL; // 1006: no close frame went either way
  }
}

/** The error event Hono's onError gets: an Event of type 'error' with the `error` (as hono/bun makes it). */
function errorEvent(error: unknown): Event {
  return Object.assign(new Event('error'), { error });
}

/**
 * Runs one of the route's events. A throw or rejection goes to the
 * route's onError (as on hono/bun), then on to zepoll: the socket is
 * closed with 1011 and serve()'s onError and the counters learn of it.
 */
function run(data: HonoWebSocketData, call: () => unknown): unknown {
  const failed = (error: unknown): never => {
    const onError = data.events.onError;
    if (onError !== undefined) {
      try {
        onError(errorEvent(error), data.context!);
      } catch {
        // The route's own failure is what zepoll reports, not its onError's.
      }
    }
    throw error;
  };
  let result: unknown;
  try {
    result = call();
  } catch (error) {
    return failed(error);
  }
  return isThenable(result) ? Promise.resolve(result).catch(failed) : result;
}

/** The socket's WSContext (Hono's shape, made once): sends and closes through the socket. */
function contextOf(ws: HonoServerWebSocket): WSContext<HonoServerWebSocket> {
  return {
    binaryType: 'arraybuffer',
    raw: ws,
    url: ws.data.url,
    protocol: ws.data.protocol,
    get readyState() {
      return ws.readyState;
    },
    send(source) {
      ws.send(source);
    },
    close(code, reason) {
      ws.close(code, reason);
    },
  };
}

/**
 * serve()'s `websocket` for Hono routes: `serve({ fetch: app.fetch,
 * websocket })`. Socket options go beside it:
 * `websocket: { ...websocket, idleTimeout: 30 }`.
 */
export const websocket: WebSocketHandler<HonoWebSocketData> = {
  open(ws) {
    ws.binaryType = 'arraybuffer'; // Hono's binary messages are ArrayBuffers (WSMessageReceive)
    const data = ws.data;
    const context = (data.context = contextOf(ws));
    const onOpen = data.events.onOpen;
    return onOpen === undefined ? undefined : run(data, () => onOpen(new Event('open'), context));
  },
  message(ws, message) {
    const data = ws.data;
    const onMessage = data.events.onMessage;
    return onMessage === undefined ? undefined : run(data, () => onMessage(new MessageEvent('message', { data: message }), data.context!));
  },
  close(ws, code, reason) {
    const data = ws.data;
    const onClose = data.events.onClose;
    return onClose === undefined ? undefined : run(data, () => onClose(new WebSocketCloseEvent(code, reason), data.context!));
  },
};

/** The server `c.env` holds: serve()'s (as Bun's fetch gets it), or `{ server }` around it, as hono/bun also reads it. */
function serverOf(env: unknown): FetchServer<HonoWebSocketData> {
  const candidate = env !== null && typeof env === 'object' && 'server' in env ? env.server : env;
  if (candidate !== null && typeof candidate === 'object' && typeof (candidate as { upgrade?: unknown }).upgrade === 'function') return candidate as FetchServer<HonoWebSocketData>;
  throw new ZepollError('ERR_ZEPOLL_WS_NOT_ENABLED', 'upgradeWebSocket needs the app served by zepoll/fetch, whose server is the env: serve({ fetch: app.fetch, websocket })');
}

/** The answer to a handshake that cannot be accepted: its status (400, 405, 426), fields and reason. */
function refusal(error: WebSocketHandshakeError): Response {
  const headers: Array<[string, string]> = [];
  for (let index = 0; index + 1 < error.headers.length; index += 2) headers.push([error.headers[index]!, error.headers[index + 1]!]);
  return new Response(`${error.message}\n`, { status: error.status, headers });
}

/** True when `request` asks for WebSocket (Upgrade lists it): else the route goes on to the next handler. */
function asksForWebSocket(request: Request): boolean {
  const upgrade = request.headers.get('upgrade');
  return upgrade !== null && isUpgradeRequest({ method: request.method, versionMinor: 1, headers: ['upgrade', upgrade] });
}

/** A Hono context, as far as the upgrade reads it. */
interface UpgradeContext {
  readonly env: unknown;
  readonly req: { readonly raw: Request; readonly url: string };
}

/**
 * The upgrade of one route: nothing (the next handler runs) when the
 * request asks for no WebSocket; the refusal (400, 405, 426) of an
 * invalid handshake; else the 101 goes out and the Response returned is
 * one serve() ignores.
 */
function upgrade(c: UpgradeContext, events: WSEvents<HonoServerWebSocket>): Response | undefined {
  const request = c.req.raw;
  if (!asksForWebSocket(request)) return undefined;
  const server = serverOf(c.env);
  const examined = examineUpgrade(request);
  if (examined instanceof WebSocketHandshakeError) return refusal(examined);
  const data: HonoWebSocketData = { events, url: new URL(c.req.url), protocol: examined.upgrade.protocols[0] ?? '', context: null };
  server.upgrade(request, { data }); // examined just now, in the same call: it accepts
  return new Response(null);
}

/**
 * Hono's `upgradeWebSocket` for zepoll/fetch, used as on every runtime:
 * `app.get('/ws', upgradeWebSocket((c) => ({ onOpen, onMessage, onClose, onError })))`.
 * Text messages arrive as strings, binary ones as ArrayBuffers; `ws.raw`
 * is the socket (a ServerWebSocket). Called as `upgradeWebSocket(c,
 * events)` it resolves to the Response, and rejects with a
 * WebSocketHandshakeError (426) when the request asks for no WebSocket.
 * @throws ZepollError `ERR_ZEPOLL_WS_NOT_ENABLED` (as the route's error) when the app is not
 *   served by serve() with `websocket`.
 */
export const upgradeWebSocket: UpgradeWebSocket<HonoServerWebSocket, undefined> = ((...args: unknown[]) => {
  if (typeof args[0] === 'function') {
    const createEvents = args[0] as (c: UpgradeContext) => WSEvents<HonoServerWebSocket> | Promise<WSEvents<HonoServerWebSocket>>;
    return async (c: UpgradeContext, next: () => Promise<void>): Promise<Response | undefined> => {
      const answer = upgrade(c, await createEvents(c));
      if (answer !== undefined) return answer;
      await next();
      return undefined;
    };
  }
  const [c, events] = args as [UpgradeContext, WSEvents<HonoServerWebSocket>];
  return (async () => {
    const answer = upgrade(c, events);
    if (answer === undefined) throw new WebSocketHandshakeError(426, 'the request asks for no WebSocket upgrade', ['Upgrade', 'websocket']);
    return answer;
  })();
}) as UpgradeWebSocket<HonoServerWebSocket, undefined>;

/** What createZepollWebSocket() returns (as @hono/node-ws's NodeWebSocket, for zepoll/fetch). */
export interface HonoWebSocketHelpers {
  /** For the routes: `app.get('/ws', upgradeWebSocket((c) => events))`. */
  readonly upgradeWebSocket: UpgradeWebSocket<HonoServerWebSocket, undefined>;
  /** For serve(): `serve({ fetch: app.fetch, websocket })`. */
  readonly websocket: WebSocketHandler<HonoWebSocketData>;
}

/** `{ upgradeWebSocket, websocket }`, as `createBunWebSocket()` gives them for Bun (the same two objects each call). */
export function createZepollWebSocket(): HonoWebSocketHelpers {
  return { upgradeWebSocket, websocket };
}
