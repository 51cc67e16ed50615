/**
 * WebSocket servers on zepoll/http. The opening handshake is an HTTP
 * request: checkUpgradeRequest() (handshake.ts) judges it, an invalid one
 * is answered 400, 405 or 426, and a valid one is accepted with a 101 by
 * HttpResponse.switchProtocols(), which hands the connection to the
 * socket's session. Two ways in:
 * - a WebSocketHub in any HTTP handler: `hub.upgrade(request, response, data)`;
 * - createWebSocketServer(): an HTTP server that upgrades every request,
 *   after an optional `upgrade` handler that may refuse it (answering
 *   through the response, as uWS.js's upgrade handler does), add headers
 *   to the 101, and give the socket its data.
 * With the `perMessageDeflate` option, the client's permessage-deflate
 * offers are negotiated at the 101 (permessage-deflate.ts) and the
 * socket's session compresses under the terms agreed.
 */
import { invalidArgType } from '../errors.js';
import { Reactor } from '../reactor.js';
import type { Server } from '../server.js';
import { optionsObject } from '../validate.js';
import { isThenable } from '../safe-call.js';
import { createHttpServer, type HttpServerOptions } from '../http/server.js';
import type { HttpRequest } from '../http/request.js';
import type { HttpResponse } from '../http/response.js';
import { checkBehavior, resolveWebSocketOptions, type WebSocketBehavior, type WebSocketOptions } from './behavior.js';
import { FrameEncoder } from './frame-encoder.js';
import { checkUpgradeRequest, isUpgradeRequest, upgradeResponseHeaders, WEBSOCKET_VERSION, type WebSocketUpgrade } from './handshake.js';
import { WebSocketHandshakeError } from './handshake-error.js';
import { negotiate } from './permessage-deflate.js';
import { WebSocketSession, type SessionSettings } from './session.js';
import { SessionHandler } from './session-handler.js';
import { OPCODE_BINARY, OPCODE_TEXT } from './wire.js';
import { Topics } from './topics.js';
import type { WebSocketMessage } from './socket.js';

/** One encoder serves every server socket: a server's frames carry no per-frame state. */
const serverEncoder = new FrameEncoder('server');

/**
 * The sockets one server accepts: their handlers, options and topics.
 * Its upgrade() accepts a request from any HTTP handler.
 */
export class WebSocketHub<T> {
  private readonly settings: SessionSettings<T>;
  private readonly handler: SessionHandler<T>;

  /**
   * Sockets with `behavior`'s handlers and `options`.
   * @throws TypeError `ERR_INVALID_ARG_TYPE` / RangeError `ERR_OUT_OF_RANGE` for a bad argument or option.
   */
  constructor(reactor: Reactor, behavior: WebSocketBehavior<T>, options?: WebSocketOptions<T>) {
    if (!(reactor instanceof Reactor)) throw invalidArgType('reactor', 'an instance of Reactor', reactor);
    checkBehavior('behavior', behavior);
    const resolved = resolveWebSocketOptions(optionsObject('options', options), 'options', 'server');
    this.settings = { behavior, options: resolved, role: 'server', encoder: serverEncoder, topics: new Topics(serverEncoder, resolved.perMessageDeflate) };
    this.handler = new SessionHandler();
  }

  /**
   * Answers an upgrade request: an invalid handshake gets its status (400,
   * 405 with Allow, 426 with Sec-WebSocket-Version) and false; a valid one
   * gets 101 (with the headers already set on `response`, and the
   * permessage-deflate terms when the option is on and an offer is
   * acceptable) and true, and the connection becomes a WebSocket with
   * `data`, its open handler run.
   * @throws as HttpResponse.switchProtocols() (a response already sent).
   */
  upgrade(request: HttpRequest, response: HttpResponse, data: T): boolean {
    const upgrade = checkHandshake(request, response);
    if (upgrade === null) return false;
    this.accept(upgrade, response, data);
    return true;
  }

  /**
   * The 101 for a checked handshake, unless the response was answered
   * already (an upgrade handler refused) or its connection closed; with
   * `protocol` (one the client offered) as Sec-WebSocket-Protocol, and
   * `fields` (names and values alternating) added to the 101.
   * @internal
   */
  accept(upgrade: WebSocketUpgrade, response: HttpResponse, data: T, protocol: string | null = null, fields: readonly string[] = []): void {
    if (response.sent || response.finished || !response.connection.isOpen) return;
    const deflate = this.settings.options.perMessageDeflate;
    const agreement = deflate === null ? null : negotiate(upgrade.extensions, deflate);
    const headers = upgradeResponseHeaders(upgrade, protocol, agreement?.header ?? null);
    const session = new WebSocketSession(response.connection, this.settings, data, agreement);
    this.handler.adopt(session);
    try {
      response.switchProtocols(this.handler, fields.length === 0 ? headers : headers.concat(fields));
    } finally {
      this.handler.forget();
    }
  }

  /**
   * Publishes a message to every socket subscribed to `topic`, encoded
   * once (and compressed once per window size for the sockets that agreed
   * to permessage-deflate, unless `compress` is false). Returns how many
   * took it (a socket over its maxBackpressure is skipped, or closed with
   * `closeOnBackpressureLimit`).
   * @throws TypeError `ERR_INVALID_ARG_TYPE` for a wrong type.
   */
  publish(topic: string, message: WebSocketMessage, isBinary: boolean = typeof message !== 'string', compress: boolean = true): number {
    if (typeof topic !== 'string') throw invalidArgType('topic', 'of type string', topic);
    if (typeof isBinary !== 'boolean') throw invalidArgType('isBinary', 'of type boolean', isBinary);
    if (typeof compress !== 'boolean') throw invalidArgType('compress', 'of type boolean', compress);
    let payload: Uint8Array;
    if (typeof message === 'string') payload = Buffer.from(message, 'utf8');
    else if (message instanceof Uint8Array) payload = message;
    else if (message instanceof ArrayBuffer) payload = new Uint8Array(message);
    else throw invalidArgType('message', 'of type string or an instance of Uint8Array or ArrayBuffer', message);
    return this.settings.topics.publish(topic, isBinary ? OPCODE_BINARY : OPCODE_TEXT, payload, null, compress);
  }

  /**
   * Sockets subscribed to `topic`.
   * @throws TypeError `ERR_INVALID_ARG_TYPE` when `topic` is not a string.
   */
  numSubscribers(topic: string): number {
    if (typeof topic !== 'string') throw invalidArgType('topic', 'of type string', topic);
    return this.settings.topics.count(topic);
  }
}

/** Answers an invalid handshake (its status and fields, then the reason as text); the checked upgrade, or null. */
function checkHandshake(request: HttpRequest, response: HttpResponse): WebSocketUpgrade | null {
  try {
    return checkUpgradeRequest(request);
  } catch (error) {
    if (!(error instanceof WebSocketHandshakeError)) throw error;
    for (let index = 0; index + 1 < error.headers.length; index += 2) response.setHeader(error.headers[index]!, error.headers[index + 1]!);
    response.statusCode = error.status;
    response.end(`${error.message}\n`);
    return null;
  }
}

/** The handlers of createWebSocketServer(): a socket's, and the upgrade's. */
export interface WebSocketServerBehavior<T> extends WebSocketBehavior<T> {
  /**
   * Decides on a valid upgrade request, before the 101: return (or
   * resolve) the socket's `data` to accept it, with the headers set on
   * `response` added to the 101; or answer through `response` (`end()`,
   * `json()`, with a 401, 403, ...) to refuse it. A throw or rejection
   * answers 500 and reaches onError (with `ws` null). Without it, every
   * valid request is accepted, `data` undefined.
   */
  upgrade?(request: HttpRequest, response: HttpResponse): T | Promise<T>;
}

/** What createWebSocketServer() takes: the HTTP server's options (port, limits, ...) and the sockets'. */
export interface WebSocketServerOptions<T> extends Omit<HttpServerOptions, 'onError'>, WebSocketOptions<T> {
  /**
   * The heartbeat, as the connections' idle timeout (default 120 000,
   * WS_IDLE_TIMEOUT_MS_DEFAULT; 0: none): a ping after this many
   * milliseconds without traffic, the connection destroyed after as long
   * again with nothing received.
   */
  readonly idleTimeoutMs?: number;
}

/**
 * The default idle timeout of createWebSocketServer()'s connections (the
 * heartbeat: a ping after this long without traffic, the close after
 * twice as long), 120 s as uWS.js's `idleTimeout`.
 */
export const WS_IDLE_TIMEOUT_MS_DEFAULT = 120_000;

/** What createWebSocketServer() makes: the HTTP server (port, close()) and its sockets' hub (publish()). */
export interface WebSocketServer<T> {
  /** The HTTP server the handshakes arrive at. */
  readonly server: Server;
  /** Its sockets: publish(), numSubscribers(). */
  readonly hub: WebSocketHub<T>;
}

const NOT_AN_UPGRADE = '426 Upgrade Required: this endpoint speaks WebSocket\n';

/**
 * An HTTP server on `reactor` whose every request is a WebSocket
 * handshake: a request that asks for no upgrade gets 426 (with
 * `Upgrade: websocket`), an invalid one its status, a valid one goes
 * through `behavior.upgrade` (when given) and becomes a socket.
 * `idleTimeoutMs` (default WS_IDLE_TIMEOUT_MS_DEFAULT) is the heartbeat.
 * @throws TypeError `ERR_INVALID_ARG_TYPE` / RangeError `ERR_OUT_OF_RANGE` for a bad argument or option.
 */
export function createWebSocketServer<T = undefined>(reactor: Reactor, behavior: WebSocketServerBehavior<T>, serverOptions?: WebSocketServerOptions<T>): WebSocketServer<T> {
  const options = optionsObject('options', serverOptions);
  const hub = new WebSocketHub<T>(reactor, behavior, options);
  const upgradeHandler = behavior.upgrade;
  if (upgradeHandler !== undefined && typeof upgradeHandler !== 'function') throw invalidArgType('behavior.upgrade', 'of type function', upgradeHandler);
  const { onError, maxPayloadLength: _payload, perMessageDeflate: _deflate, maxBackpressure: _backpressure, closeOnBackpressureLimit: _close, closeTimeoutMs: _closeTimeout, ...httpOptions } = options;
  const server = createHttpServer(
    reactor,
    (request, response) => {
      if (!isUpgradeRequest(request)) {
        response.writeHead(426, { Upgrade: 'websocket', 'Sec-WebSocket-Version': WEBSOCKET_VERSION }).end(NOT_AN_UPGRADE);
        return undefined;
      }
      const upgrade = checkHandshake(request, response);
      if (upgrade === null) return undefined;
      if (upgradeHandler === undefined) {
        hub.accept(upgrade, response, undefined as T);
        return undefined;
      }
      const data = upgradeHandler.call(behavior, request, response);
      if (!isThenable(data)) {
        hub.accept(upgrade, response, data);
        return undefined;
      }
      return Promise.resolve(data).then((resolved) => hub.accept(upgrade, response, resolved));
    },
    {
      ...httpOptions,
      idleTimeoutMs: httpOptions.idleTimeoutMs ?? WS_IDLE_TIMEOUT_MS_DEFAULT,
      ...(onError === undefined ? {} : { onError: (error: Error) => onError(error, null) }),
    },
  );
  return { server, hub };
}
