/**
 * What a WebSocket with permessage-deflate costs its server, per socket.
 * A zepoll echo server (zepoll/ws) runs in this process with the deflate
 * options of --terms; a child (ws-deflate-memory-client.js, `ws` package
 * clients) opens --sockets sockets, each compressing one 2 KiB message
 * and reading its compressed echo, so every window a socket keeps exists.
 * Measured, after WARM_UP sockets came and went and three full
 * collections: `process.memoryUsage()` before and after, per socket:
 * `heapUsed` (objects), `arrayBuffers` (Buffer memory: the windows live
 * there), `rss`; and the windows the sessions report (MessageDeflate's
 * windowBytes), which the arrayBuffers figure should match. With
 * --server ws the `ws` package's server runs instead, with the same
 * terms (its zlib streams, one each way per socket, live outside the
 * JavaScript heap: rss is the figure to compare).
 *
 *   node --expose-gc bench/dist/ws-deflate-memory.js [--sockets 2000]
 *     [--terms off|default|no-takeover|server-no-takeover|windows-10] [--server zepoll|ws] [--json]
 */
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { WebSocketServer as WsServer } from 'ws';
import { Reactor } from 'zepoll';
import { createWebSocketServer, type PerMessageDeflateOptions, type WebSocket } from 'zepoll/ws';

const CLIENT = fileURLToPath(new URL('./ws-deflate-memory-client.js', import.meta.url));
const WARM_UP = 128;
const COLLECTIONS = 3;
const TIMEOUT_MS = 600_000;

/** The server's deflate options for each --terms. */
const TERMS: Record<string, PerMessageDeflateOptions | false> = {
  off: false,
  default: { threshold: 0 },
  'no-takeover': { threshold: 0, serverNoContextTakeover: true, clientNoContextTakeover: true },
  'server-no-takeover': { threshold: 0, serverNoContextTakeover: true },
  'windows-10': { threshold: 0, serverMaxWindowBits: 10, clientMaxWindowBits: 10 },
};

const { values } = parseArgs({
  options: { sockets: { type: 'string', default: '2000' }, terms: { type: 'string', default: 'default' }, server: { type: 'string', default: 'zepoll' }, json: { type: 'boolean', default: false } },
});
const count = Number(values.sockets);
const terms = TERMS[values.terms];
if (terms === undefined) throw new Error(`--terms: one of ${Object.keys(TERMS).join(', ')}`);
const gc = (globalThis as { gc?: () => void }).gc;
if (gc === undefined) {
  process.stderr.write('ws-deflate-memory: run with node --expose-gc\n');
  process.exit(2);
}

const reactor = new Reactor();
/** The open sockets: zepoll's, or the `ws` server's (counted only). */
const open = new Set<WebSocket<undefined> | object>();
let port: number;
let closeServer: () => Promise<void>;
if (values.server === 'ws') {
  const ws = await new Promise<WsServer>((resolve) => {
    const created: WsServer = new WsServer({ host: '127.0.0.1', port: 0, backlog: 4096, perMessageDeflate: terms }, (): void => resolve(created));
  });
  ws.on('connection', (socket) => {
    open.add(socket);
    socket.on('message', (data, isBinary) => socket.send(data, { binary: isBinary }));
    socket.on('close', () => open.delete(socket));
  });
  port = (ws.address() as { port: number }).port;
  closeServer = () => new Promise((resolve) => ws.close(() => resolve()));
} else {
  const { server } = createWebSocketServer(
    reactor,
    {
      open: (ws) => void open.add(ws),
      message: (ws, data, isBinary) => void ws.send(data, isBinary),
      close: (ws) => void open.delete(ws),
    },
    { port: 0, backlog: 4096, idleTimeoutMs: TIMEOUT_MS, perMessageDeflate: terms },
  );
  port = server.port;
  closeServer = () => server.close(1000);
}

async function clients(sockets: number): Promise<ChildProcess> {
  const child = fork(CLIENT, [String(port), String(sockets), terms === false ? 'none' : 'default'], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  await new Promise<void>((resolve, reject) => {
    child.once('message', () => resolve());
    child.once('exit', (code) => reject(new Error(`the client exited (${code}) before its sockets were there`)));
  });
  return child;
}

async function gone(child: ChildProcess): Promise<void> {
  child.kill('SIGKILL');
  while (open.size > 0) await new Promise((resolve) => setTimeout(resolve, 10));
}

async function reading(): Promise<NodeJS.MemoryUsage> {
  for (let index = 0; index < COLLECTIONS; index += 1) {
    gc!();
    await new Promise((resolve) => setImmediate(resolve));
  }
  return process.memoryUsage();
}

try {
  await gone(await clients(WARM_UP));
  const before = await reading();
  const child = await clients(count);
  if (open.size !== count) throw new Error(`${open.size} sockets open, ${count} expected`);
  const after = await reading();
  let windows = 0;
  // The session is internal (stripped from the published types): read here for the measurement only.
  for (const ws of open) windows += (ws as { session?: { deflate: { windowBytes: number } | null } }).session?.deflate?.windowBytes ?? 0;
  const per = (key: keyof NodeJS.MemoryUsage): number => (after[key] - before[key]) / count;
  const first = [...open][0] as { extensions: string | null | object };
  const extensions = typeof first.extensions === 'string' ? first.extensions : null;
  const result = { server: values.server, terms: values.terms, sockets: count, extensions, heapUsed: per('heapUsed'), arrayBuffers: per('arrayBuffers'), rss: per('rss'), windows: windows / count };
  await gone(child);
  if (values.json) process.stdout.write(`${JSON.stringify(result)}\n`);
  else {
    process.stdout.write(`ws deflate memory per socket (${result.server} server, --terms ${result.terms}: ${result.extensions ?? 'see the terms'}; ${count} sockets, each after one compressed message each way)\n`);
    for (const key of ['heapUsed', 'arrayBuffers', 'rss', 'windows'] as const) process.stdout.write(`  ${key.padEnd(12)} ${Math.round(result[key]).toString().padStart(8)} B\n`);
  }
} finally {
  await closeServer();
  reactor.close();
}
