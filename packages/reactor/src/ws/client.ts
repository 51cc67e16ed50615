/**
 * A WebSocket client on the reactor: connect() to a ws:// URL, the
 * opening handshake (client-handshake.ts), then the same session as a
 * server's socket, in the client's role: its frames are masked with keys
 * from the encoder's pooled random source, and the server's must not be.
 * With the `perMessageDeflate` option it offers permessage-deflate and
 * checks the answer (deflate-client.ts); the session compresses under the
 * terms the server chose.
 */
import { connect } from '../connect.js';
import type { Connection, ConnectionHandler, ConnectionOptions } from '../connection.js';
import { invalidArgType, invalidArgValue } from '../errors.js';
import { TIMEOUT_MS_MAX } from '../handler.js';
import { Reactor } from '../reactor.js';
import { booleanOption, integerOption, optionsObject } from '../validate.js';
import { checkSwitchField } from '../http/response-headers.js';
import { checkBehavior, resolveWebSocketOptions, type WebSocketBehavior, type WebSocketOptions } from './behavior.js';
import { checkHandshakeAnswer, handshakeKey, handshakeRequest, headEnd, RESPONSE_HEAD_SIZE_MAX } from './client-handshake.js';
import { deflateOffer } from './deflate-client.js';
import { FrameEncoder } from './frame-encoder.js';
import { WebSocketHandshakeError } from './handshake-error.js';
import { WebSocketSession, type SessionSettings } from './session.js';
import { SessionHandler } from './session-handler.js';
import type { WebSocket } from './socket.js';
import { Topics } from './topics.js';

/** What connectWebSocket() takes: the socket's options, its connection's, and the handshake's. */
export interface WebSocketClientOptions<T> extends WebSocketOptions<T>, ConnectionOptions {
  /** The socket's `data` (default undefined). */
  readonly data?: T;
  /** More request header fields (Origin, Authorization, ...). */
  readonly headers?: Readonly<Record<string, string>>;
  /** Subprotocols to offer (Sec-WebSocket-Protocol), in order of preference. */
  readonly protocols?: readonly string[];
  /** Milliseconds the TCP connect, and then the handshake, may each take (default 10 000). */
  readonly timeoutMs?: number;
  /** TCP_NODELAY (default true). */
  readonly noDelay?: boolean;
  /**
   * The heartbeat: milliseconds without traffic before the client pings
   * (0, the default: none); after as long again with nothing received the
   * connection is destroyed. The connection's own idle timeout.
   */
  readonly idleTimeoutMs?: number;
}

/** The default `timeoutMs` of connectWebSocket(). */
export const HANDSHAKE_TIMEOUT_MS_DEFAULT = 10_000;
const DEFAULT_PORT = 80;

/** Masked frames: the encoder draws a fresh key per frame from its pooled random source. */
const clientEncoder = new FrameEncoder('client');
/**
 * The topics of this thread's client sockets, shared by all of them: a
 * client socket's publish() reaches the other client sockets subscribed
 * (each frame masked for its own socket).
 */
const clientTopics = new Topics(clientEncoder);

/** The handshake in progress: the request, then the answer's head, then the hand-over to the session. */
class ClientHandshake<T> implements ConnectionHandler {
  private received: Buffer | null;
  private timer: NodeJS.Timeout | null;
  private error: Error | null;
  private done: boolean;

  constructor(
    private readonly request: Buffer,
    private readonly key: string,
    private readonly protocols: readonly string[],
    private readonly settings: SessionSettings<T>,
    private readonly data: T,
    private readonly timeoutMs: number,
    private readonly resolve: (socket: WebSocket<T>) => void,
    private readonly reject: (error: Error) => void,
  ) {
    this.received = null;
    this.timer = null;
    this.error = null;
    this.done = false;
  }

  onOpen(connection: Connection): void {
    this.timer = setTimeout(() => connection.destroy(new WebSocketHandshakeError(0, `no handshake answer within ${this.timeoutMs} ms`)), this.timeoutMs);
    connection.write(this.request);
  }

  onData(connection: Connection, data: Buffer): void {
    const received = (this.received = this.received === null ? Buffer.from(data) : Buffer.concat([this.received, data]));
    const end = headEnd(received);
    if (end === -1) {
      if (received.length > RESPONSE_HEAD_SIZE_MAX) connection.destroy(new WebSocketHandshakeError(0, `the answer's head is over ${RESPONSE_HEAD_SIZE_MAX} bytes`));
      return;
    }
    let answer;
    try {
      answer = checkHandshakeAnswer(received.toString('latin1', 0, end), this.key, this.protocols, this.settings.options.perMessageDeflate);
    } catch (error) {
      connection.destroy(error as Error);
      return;
    }
    this.done = true;
    clearTimeout(this.timer!);
    const session = new WebSocketSession(connection, this.settings, this.data, answer.deflate);
    const handler = new SessionHandler<T>();
    handler.adopt(session);
    connection.handOver(handler);
    this.resolve(session.socket);
    // Frames the server sent right behind its 101.
    if (end < received.length && connection.isOpen) handler.onData(connection, received.subarray(end));
  }

  onEnd(connection: Connection): void {
    connection.destroy(new WebSocketHandshakeError(0, 'the server closed the connection before its answer'));
  }

  onError(_connection: Connection, error: Error): void {
    this.error = error;
  }

  onClose(): void {
    if (this.done) return;
    clearTimeout(this.timer!);
    this.reject(this.error ?? new WebSocketHandshakeError(0, 'the connection closed before the answer'));
  }
}

/** The request header fields of `headers`, checked, names and values alternating. */
function headerFields(headers: Readonly<Record<string, string>> | undefined): string[] {
  if (headers === undefined) return [];
  if (headers === null || typeof headers !== 'object') throw invalidArgType('options.headers', 'of type object', headers);
  const fields: string[] = [];
  for (const name of Object.keys(headers)) {
    checkSwitchField(name, headers[name]);
    fields.push(name, headers[name]!);
  }
  return fields;
}

/**
 * Opens a WebSocket to `url` (ws://host:port/path?query; a host is an IP
 * literal or localhost) and resolves with it once the server's 101 is
 * checked; its `open` handler has run by then. Rejects with a
 * WebSocketHandshakeError (`status`: the server's, 0 when it gave none)
 * when the server refuses or answers wrongly, a system error when the
 * connect fails, ERR_ZEPOLL_CONNECT_TIMEOUT when it takes too long.
 * @throws TypeError `ERR_INVALID_ARG_TYPE` / `ERR_INVALID_ARG_VALUE` / RangeError `ERR_OUT_OF_RANGE` for a bad argument or option (a URL not ws://).
 */
export function connectWebSocket<T = undefined>(reactor: Reactor, url: string | URL, behavior: WebSocketBehavior<T>, clientOptions?: WebSocketClientOptions<T>): Promise<WebSocket<T>> {
  if (!(reactor instanceof Reactor)) throw invalidArgType('reactor', 'an instance of Reactor', reactor);
  if (typeof url !== 'string' && !(url instanceof URL)) throw invalidArgType('url', 'of type string or an instance of URL', url);
  checkBehavior('behavior', behavior);
  const options = optionsObject('options', clientOptions);
  let target: URL;
  try {
    target = new URL(url);
  } catch {
    throw invalidArgValue('url', 'must be a URL', String(url));
  }
  if (target.protocol !== 'ws:') throw invalidArgValue('url', 'must be a ws:// URL (wss:// is not supported)', target.href);
  const protocols = options.protocols ?? [];
  if (!Array.isArray(protocols) || protocols.some((protocol) => typeof protocol !== 'string')) throw invalidArgType('options.protocols', 'an Array of strings', protocols);
  if (protocols.length > 0) checkSwitchField('Sec-WebSocket-Protocol', protocols.join(', '));
  const fields = headerFields(options.headers);
  const timeoutMs = integerOption('options.timeoutMs', options.timeoutMs, HANDSHAKE_TIMEOUT_MS_DEFAULT, 1, TIMEOUT_MS_MAX);
  const noDelay = booleanOption('options.noDelay', options.noDelay, true);
  const settings: SessionSettings<T> = { behavior, options: resolveWebSocketOptions(options, 'options', 'client'), role: 'client', encoder: clientEncoder, topics: clientTopics };
  const host = target.hostname.startsWith('[') ? target.hostname.slice(1, -1) : target.hostname;
  const port = target.port === '' ? DEFAULT_PORT : Number(target.port);
  const key = handshakeKey();
  const deflate = settings.options.perMessageDeflate;
  const request = handshakeRequest(`${target.pathname}${target.search}`, target.host, key, protocols, deflate === null ? null : deflateOffer(deflate), fields);
  const connectOptions = {
    host,
    port,
    timeoutMs,
    noDelay,
    ...(options.highWaterMark === undefined ? {} : { highWaterMark: options.highWaterMark }),
    ...(options.maxQueuedBytes === undefined ? {} : { maxQueuedBytes: options.maxQueuedBytes }),
    ...(options.idleTimeoutMs === undefined ? {} : { idleTimeoutMs: options.idleTimeoutMs }),
  };
  return new Promise<WebSocket<T>>((resolve, reject) => {
    const handshake = new ClientHandshake(request, key, protocols, settings, options.data as T, timeoutMs, resolve, reject);
    connect(reactor, handshake, connectOptions).then(undefined, (error: unknown) => {
      reject(error as Error);
    });
  });
}

