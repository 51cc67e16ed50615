/**
 * WebSockets from serve(), as Bun has them: a `websocket` handler object
 * on the server (open, message, drain, close, and the socket options),
 * and `server.upgrade(request, { data, headers })` called by the fetch
 * handler. Under it is zepoll/ws: one WebSocketHub per server does the
 * handshake's 101 (HttpResponse.switchProtocols) and the protocol; this
 * module maps Bun's names onto it, and a Request back to the HTTP
 * exchange it came from.
 */
import { TIMEOUT_MS_MAX } from '../handler.js';
import { invalidArgType, invalidArgValue, ZepollError } from '../errors.js';
import type { Reactor } from '../reactor.js';
import { booleanOption, handlerMethods, handlerObject, integerOption } from '../validate.js';
import type { HttpResponse } from '../http/response.js';
import type { HttpRequest } from '../http/request.js';
import { WebSocketHub } from '../ws/server.js';
import { checkUpgradeRequest, type WebSocketUpgrade } from '../ws/handshake.js';
import { WebSocketHandshakeError } from '../ws/handshake-error.js';
import { MESSAGE_SIZE_MAX } from '../ws/limits.js';
import type { WebSocketBehavior } from '../ws/behavior.js';
import { resolveDeflateOptions, type PerMessageDeflateOptions } from '../ws/deflate-options.js';
import { exchangeOf } from './request.js';
import { binaryMessage, ServerWebSocket, type WebSocketData } from './server-websocket.js';

/**
 * The `websocket` option of serve(): the handlers every socket of the
 * server shares (Bun's WebSocketHandler), and its sockets' options. A
 * handler that throws, or returns a promise that rejects, costs its own
 * socket: it is closed with 1011 (Internal Error), and the error reaches
 * serve()'s `onError` (with a null request; else the reactor's onError)
 * and `stats.handlerErrors`.
 */
export interface WebSocketHandler<T = undefined> {
  /** The socket is open (the 101 went out): it may send at once. Runs inside `server.upgrade()`. */
  open?(ws: ServerWebSocket<T>): unknown;
  /**
   * A whole message: a string for text, for binary a copy of its own in
   * the form `ws.binaryType` asks for (a Buffer by default), kept as long
   * as you like.
   */
  message?(ws: ServerWebSocket<T>, message: string | Buffer | ArrayBuffer | Uint8Array): unknown;
  /** The socket's queue emptied after a send answered -1 (backpressure). */
  drain?(ws: ServerWebSocket<T>): unknown;
  /**
   * The connection closed: always last, once, with the close handshake's
   * code and reason (1006 and '' when no close frame was exchanged).
   */
  close?(ws: ServerWebSocket<T>, code: number, reason: string): unknown;
  /**
   * Only for TypeScript, as on Bun: `data: {} as { user: string }` gives
   * `ws.data` (and serve()'s `T`) its type where nothing else says it. Not read.
   */
  readonly data?: T;
  /** Bytes of one message at most (default 16 MiB, as Bun): a longer one closes the socket with 1009. */
  readonly maxPayloadLength?: number;
  /**
   * Bytes a socket may have queued before sends to it are dropped (they
   * answer 0), default 16 MiB as Bun; with `closeOnBackpressureLimit` the
   * socket is closed instead.
   */
  readonly backpressureLimit?: number;
  /** Close a socket that reaches `backpressureLimit` instead of dropping messages (default false). */
  readonly closeOnBackpressureLimit?: boolean;
  /**
   * Seconds without traffic before the server pings; as long again with
   * nothing received and the connection is closed (default 120, as Bun;
   * 0: never). A connection with an idle timeout of its own (serve()'s
   * `http.idleTimeoutMs`) keeps that one instead.
   */
  readonly idleTimeout?: number;
  /**
   * permessage-deflate (RFC 7692), off by default as on Bun: `true` for
   * zepoll/ws's defaults, or its options (window sizes, context takeover,
   * threshold, level: see the guide). Bun's `{ compress, decompress }`
   * compressor names are not taken: they are uWS.js's fixed memory
   * presets, and zepoll/ws's options say the same with the RFC's terms.
   */
  readonly perMessageDeflate?: boolean | PerMessageDeflateOptions;
}

/** What `server.upgrade()` takes: the socket's `data`, and header fields to add to the 101. */
export interface WebSocketUpgradeOptions<T> {
  /** The socket's `ws.data`. */
  readonly data?: T;
  /**
   * More fields of the 101 response (Set-Cookie, ...). A
   * Sec-WebSocket-Protocol here picks the subprotocol (one the client
   * offered); without it the client's first is picked, as `ws` does.
   */
  readonly headers?: ConstructorParameters<typeof Headers>[0];
}

/** Bun's defaults: 16 MiB of queued bytes per socket, 120 s of idle time. */
export const BACKPRESSURE_LIMIT_DEFAULT = 16 * 1024 * 1024;
/** Bun's `idleTimeout` default, in seconds. */
export const IDLE_TIMEOUT_S_DEFAULT = 120;
const MS_PER_S = 1000;
const PROTOCOL_FIELD = 'sec-websocket-protocol';

/** The handler methods a `websocket` object may have, each a function when present. */
const HANDLER_METHODS = ['open', 'message', 'drain', 'close'] as const;

/** A request serve() can upgrade now: its exchange, and what its handshake asks for. */
interface Upgradable {
  readonly source: HttpRequest;
  readonly response: HttpResponse;
  readonly upgrade: WebSocketUpgrade;
}

/**
 * Why `request` cannot be upgraded now (a WebSocketHandshakeError with
 * the status to answer: 400, 405 or 426), or what it asks for.
 */
export function examineUpgrade(request: Request): Upgradable | WebSocketHandshakeError {
  if (!(request instanceof Request)) throw invalidArgType('request', 'an instance of Request', request);
  const exchange = exchangeOf(request);
  if (exchange === null) return new WebSocketHandshakeError(400, 'the request is not one this server received (a Request made by the app)');
  const { source, response } = exchange;
  if (response.sent || response.finished || !response.connection.isOpen) return new WebSocketHandshakeError(400, 'the request was answered already, or its client went away');
  // A GET with a body would have to be read to its end before the switch: refused, as nothing sends one.
  if (source.hasBody) return new WebSocketHandshakeError(400, 'an upgrade request with a body');
  try {
    return { source, response, upgrade: checkUpgradeRequest(source) };
  } catch (error) {
    return error as WebSocketHandshakeError; // an HttpRequest has the shape it asks for: only the handshake can fail
  }
}

/** The fields of `headers` as name, value pairs, Sec-WebSocket-Protocol apart. */
function extraFields(headers: WebSocketUpgradeOptions<unknown>['headers']): { fields: string[]; protocol: string | null } {
  if (headers === undefined) return { fields: [], protocol: null };
  let parsed: Headers;
  try {
    parsed = new Headers(headers);
  } catch (error) {
    throw invalidArgValue('options.headers', `must be header fields (${(error as Error).message})`, headers);
  }
  const fields: string[] = [];
  let protocol: string | null = null;
  for (const [name, value] of parsed) {
    if (name === PROTOCOL_FIELD) protocol = value;
    else fields.push(name, value);
  }
  return { fields, protocol };
}

/** zepoll/ws handlers that call a Bun-style handler object with its ServerWebSocket. */
function behaviorOf<T>(handler: WebSocketHandler<T>): WebSocketBehavior<ServerWebSocket<T>> {
  return {
    open(ws) {
      const face = ws.data;
      face.attach(ws);
      return handler.open?.(face);
    },
    message(ws, data, isBinary) {
      const face = ws.data;
      return handler.message?.(face, isBinary ? binaryMessage(face.binaryType, data) : data.toString('utf8'));
    },
    drain: (ws) => handler.drain?.(ws.data),
    close: (ws, code, reason) => handler.close?.(ws.data, code, reason),
  };
}

/** `websocket.perMessageDeflate`, checked under the name serve() got it by. */
function checkedDeflate(value: boolean | PerMessageDeflateOptions): boolean | PerMessageDeflateOptions {
  resolveDeflateOptions('options.websocket.perMessageDeflate', value, 'server');
  return value;
}

/** One serve() server's WebSockets: its hub, and the upgrade that feeds it. */
export class FetchWebSockets<T> {
  private readonly hub: WebSocketHub<ServerWebSocket<T>>;

  /**
   * The sockets of `handler` on `reactor`; their handlers' errors go to `onError` (else the reactor's).
   * @throws TypeError `ERR_INVALID_ARG_TYPE` / RangeError `ERR_OUT_OF_RANGE` for a bad handler or option.
   */
  constructor(reactor: Reactor, handler: WebSocketHandler<T>, onError: ((error: Error) => void) | undefined) {
    handlerObject('options.websocket', handler);
    handlerMethods('options.websocket', handler, HANDLER_METHODS);
    const idleTimeoutS = integerOption('options.websocket.idleTimeout', handler.idleTimeout, IDLE_TIMEOUT_S_DEFAULT, 0, Math.floor(TIMEOUT_MS_MAX / MS_PER_S));
    this.hub = new WebSocketHub(reactor, behaviorOf(handler), {
      maxPayloadLength: integerOption('options.websocket.maxPayloadLength', handler.maxPayloadLength, MESSAGE_SIZE_MAX, 1, Number.MAX_SAFE_INTEGER),
      maxBackpressure: integerOption('options.websocket.backpressureLimit', handler.backpressureLimit, BACKPRESSURE_LIMIT_DEFAULT, 1, Number.MAX_SAFE_INTEGER),
      closeOnBackpressureLimit: booleanOption('options.websocket.closeOnBackpressureLimit', handler.closeOnBackpressureLimit, false),
      idleTimeoutMs: idleTimeoutS * MS_PER_S,
      // Checked here first, so a bad value is named as serve() received it; the hub checks it again.
      ...(handler.perMessageDeflate === undefined ? {} : { perMessageDeflate: checkedDeflate(handler.perMessageDeflate) }),
      ...(onError === undefined ? {} : { onError: (error: Error) => onError(error) }),
    });
  }

  /**
   * Bun's `server.upgrade()`: true when `request` is a valid handshake
   * this server received and has not answered; then the 101 goes out at
   * once and the socket's `open` runs before this returns.
   * @throws TypeError `ERR_INVALID_ARG_TYPE` when `request` is not a Request; `ERR_INVALID_ARG_VALUE`
   *   for headers that are not header fields, or a Sec-WebSocket-Protocol the client did not offer.
   */
  upgrade(request: Request, options: WebSocketUpgradeOptions<T> | undefined): boolean {
    const upgradable = examineUpgrade(request);
    if (upgradable instanceof WebSocketHandshakeError) return false;
    const { fields, protocol } = extraFields(options?.headers);
    const chosen = protocol ?? upgradable.upgrade.protocols[0] ?? null;
    this.hub.accept(upgradable.upgrade, upgradable.response, new ServerWebSocket(options?.data as T), chosen, fields);
    return true;
  }

  /**
   * Bun's `server.publish()`: the message to every subscriber of `topic`.
   * @returns the payload's size when at least one subscriber took it, else 0.
   */
  publish(topic: string, data: WebSocketData, compress = true): number {
    const payload = typeof data === 'string' ? Buffer.from(data, 'utf8') : ArrayBuffer.isView(data) ? new Uint8Array(data.buffer, data.byteOffset, data.byteLength) : data;
    const size = payload.byteLength;
    return this.hub.publish(topic, payload, typeof data !== 'string', compress) > 0 ? size : 0;
  }

  /** Sockets subscribed to `topic`. */
  subscriberCount(topic: string): number {
    return this.hub.numSubscribers(topic);
  }
}

/** What serve() answers for upgrade() when it was given no `websocket` handlers. */
export function websocketsDisabled(): ZepollError {
  return new ZepollError('ERR_ZEPOLL_WS_NOT_ENABLED', 'server.upgrade() needs serve() to be given a `websocket` handler object');
}
