/**
 * WebSocket test helpers: an echo server on a reactor of its own, and
 * `ws` package clients whose events are awaited rather than timed.
 */
import net from 'node:net';
import WebSocket from 'ws';
import { Reactor } from '../../packages/reactor/src/reactor.js';
import { createWebSocketServer, type WebSocketServer, type WebSocketServerBehavior, type WebSocketServerOptions } from '../../packages/reactor/src/ws/server.js';

export interface Served<T> {
  readonly reactor: Reactor;
  readonly wss: WebSocketServer<T>;
  readonly url: string;
  /** Closes the server and the reactor. */
  close(): Promise<void>;
}

/** A server with `behavior` on a fresh reactor, listening on an ephemeral port. */
export function serve<T = undefined>(behavior: WebSocketServerBehavior<T>, options: WebSocketServerOptions<T> = {}): Served<T> {
  const reactor = new Reactor();
  const wss = createWebSocketServer<T>(reactor, behavior, { port: 0, ...options });
  return {
    reactor,
    wss,
    url: `ws://127.0.0.1:${wss.server.port}`,
    async close() {
      await wss.server.close(1000);
      reactor.close();
    },
  };
}

/** The echo behavior: every message back as it came. */
export const ECHO: WebSocketServerBehavior<undefined> = {
  message(ws, data, isBinary) {
    ws.send(data, isBinary);
  },
};

interface Inbox {
  readonly messages: Array<{ data: Buffer; isBinary: boolean }>;
  wake: (() => void) | null;
}
/** Messages a client got before a test asked for them (`ws` emits a message that came with the 101 before open() resolves). */
const inboxes = new WeakMap<WebSocket, Inbox>();

/** A `ws` client, open (offering `protocols`, when given); its messages are queued from the start for nextMessage(). */
export function open(url: string, options: WebSocket.ClientOptions = {}, protocols: string[] = []): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const client = new WebSocket(url, protocols, options);
    const inbox: Inbox = { messages: [], wake: null };
    inboxes.set(client, inbox);
    client.on('message', (data: Buffer, isBinary: boolean) => {
      inbox.messages.push({ data, isBinary });
      inbox.wake?.();
    });
    client.once('open', () => resolve(client));
    client.once('error', reject);
  });
}

/** The next message a `ws` client (made by open()) gets. */
export async function nextMessage(client: WebSocket): Promise<{ data: Buffer; isBinary: boolean }> {
  const inbox = inboxes.get(client)!;
  while (inbox.messages.length === 0) await new Promise<void>((resolve) => (inbox.wake = resolve));
  inbox.wake = null;
  return inbox.messages.shift()!;
}

/** A `ws` client's whole life: it connects to `url` and resolves with the close it sees, however soon that comes. */
export function closeOnOpen(url: string): Promise<{ code: number; reason: string }> {
  return new Promise((resolve, reject) => {
    const client = new WebSocket(url);
    client.once('close', (code: number, reason: Buffer) => resolve({ code, reason: reason.toString() }));
    client.once('error', reject);
  });
}

/** The close a `ws` client sees: code and reason. */
export function closeOf(client: WebSocket): Promise<{ code: number; reason: string }> {
  if (client.readyState === WebSocket.CLOSED) return Promise.reject(new Error('already closed'));
  return new Promise((resolve) => client.once('close', (code: number, reason: Buffer) => resolve({ code, reason: reason.toString() })));
}

/** A raw TCP client that sent an upgrade request and read the answer's head: the test writes frames by hand. */
export interface RawClient {
  readonly socket: net.Socket;
  /** The answer's head (status line and fields). */
  readonly head: string;
  /** Every byte received after the head, until now. */
  received(): Buffer;
  /** Resolves once the server closed the connection, with every byte it sent after the head. */
  ended(): Promise<Buffer>;
}

/** The RFC's sample key (§1.3) and its accept value. */
export const SAMPLE_KEY = 'dGhlIHNhbXBsZSBub25jZQ==';
export const SAMPLE_ACCEPT = 's3pPLMBiTxaQ9kYGzzhZRbK+xOo=';

/** Sends `request` (default: a valid upgrade of `path`) and reads up to the blank line. */
export function rawUpgrade(port: number, request: string | Buffer = upgradeRequest('/')): Promise<RawClient> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ port, host: '127.0.0.1' });
    let bytes = Buffer.alloc(0);
    let head: string | null = null;
    const endedPromise = new Promise<Buffer>((resolveEnd) => socket.once('close', () => resolveEnd(bytes)));
    socket.on('error', () => {});
    socket.on('data', (data: Buffer) => {
      bytes = Buffer.concat([bytes, data]);
      if (head !== null) return;
      const end = bytes.indexOf('\r\n\r\n');
      if (end === -1) return;
      head = bytes.toString('latin1', 0, end);
      bytes = bytes.subarray(end + 4);
      resolve({ socket, head, received: () => bytes, ended: () => endedPromise });
    });
    socket.once('close', () => {
      if (head === null) reject(new Error(`closed before a head: ${bytes.toString('latin1')}`));
    });
    socket.write(request);
  });
}

/** An upgrade request for `path`, with `extra` header lines. */
export function upgradeRequest(path: string, extra: readonly string[] = [], key: string = SAMPLE_KEY, version = '13'): string {
  return [`GET ${path} HTTP/1.1`, 'Host: 127.0.0.1', 'Upgrade: websocket', 'Connection: Upgrade', `Sec-WebSocket-Key: ${key}`, `Sec-WebSocket-Version: ${version}`, ...extra, '', ''].join('\r\n');
}

/** One unmasked frame of a server, read back. */
export interface ServerFrame {
  readonly fin: boolean;
  /** RSV1: compressed, under permessage-deflate. */
  readonly rsv1: boolean;
  readonly opcode: number;
  readonly payload: Buffer;
}

/** The frames in `bytes` (a server's: unmasked), in order; a cut frame at the end is left out. */
export function serverFrames(bytes: Buffer): ServerFrame[] {
  const frames: ServerFrame[] = [];
  let offset = 0;
  while (offset + 2 <= bytes.length) {
    let length = bytes[offset + 1]! & 0x7f;
    let cursor = offset + 2;
    if (length === 126) {
      length = bytes.readUInt16BE(cursor);
      cursor += 2;
    } else if (length === 127) {
      length = Number(bytes.readBigUInt64BE(cursor));
      cursor += 8;
    }
    if (cursor + length > bytes.length) break;
    frames.push({ fin: (bytes[offset]! & 0x80) !== 0, rsv1: (bytes[offset]! & 0x40) !== 0, opcode: bytes[offset]! & 0x0f, payload: bytes.subarray(cursor, cursor + length) });
    offset = cursor + length;
  }
  return frames;
}

/** The close code of a close frame's payload (1005 when empty). */
export function closeCodeOf(payload: Buffer): number {
  return payload.length >= 2 ? payload.readUInt16BE(0) : 1005;
}
