/**
 * The JavaScript heap one accepted, idle HTTP connection holds. A zepoll
 * HTTP server (the http example's routes) runs in this process; a child
 * (heap-idle-client.js) opens the connections, since this process's fds and
 * the clients' together would pass the per-process limit. Measured:
 *
 * 1. warm-up: WARM_UP connections come and go (with their request, when
 *    asked), so the code, the pool and every per-server structure exist;
 * 2. with no connection open, a full collection, then `used_heap_size`
 *    and a heap snapshot;
 * 3. COUNT connections opened (each with one request and its response
 *    read, with --requests 1), waited for by count: the server's onOpen
 *    count and the client's word that each is there;
 * 4. a full collection, `used_heap_size` and a second snapshot.
 *
 * Reported: (used after − used before) / COUNT, with and without code
 * space (compiled code is the process's, not the connections'), and the
 * snapshot diff grouped by node type and constructor name (count and self
 * size per connection), largest first.
 *
 *   node --expose-gc bench/dist/heap-idle.js [--connections 10000] [--requests 0|1]
 *     [--backend epoll|io_uring] [--mode lt|et|oneshot] [--top 20] [--no-snapshots] [--keep] [--json]
 *
 * The server's timeouts are set far out (10 minutes), not off: a server
 * with timeouts tracks each connection in the reactor's idle sweep, and
 * the defaults would close an idle client within seconds.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { getHeapSpaceStatistics, getHeapStatistics, writeHeapSnapshot } from 'node:v8';
import { Reactor, type BackendName, type Connection, type Mode } from 'zepoll';
import { createHttpServer } from 'zepoll/http';
import { route } from '../../packages/examples/dist/servers/http-routes.js';

const CLIENT = fileURLToPath(new URL('./heap-idle-client.js', import.meta.url));
const WARM_UP = 256;
const TIMEOUT_MS = 600_000;
/** Full collections in a row before a reading: weak references and finalizers settle between them. */
const COLLECTIONS = 3;

const { values } = parseArgs({
  options: {
    connections: { type: 'string', default: '10000' },
    requests: { type: 'string', default: '0' },
    backend: { type: 'string', default: 'epoll' },
    mode: { type: 'string', default: 'et' },
    top: { type: 'string', default: '20' },
    'no-snapshots': { type: 'boolean', default: false },
    keep: { type: 'boolean', default: false },
    json: { type: 'boolean', default: false },
  },
});
const count = Number(values.connections);
const withRequest = values.requests === '1';
const gc = (globalThis as { gc?: () => void }).gc;
if (gc === undefined) {
  process.stderr.write('heap-idle: run with node --expose-gc\n');
  process.exit(2);
}

const reactor = new Reactor({ backend: values.backend as BackendName, mode: values.mode as Mode });
const server = createHttpServer(reactor, route, { backlog: 4096, headersTimeoutMs: TIMEOUT_MS, requestTimeoutMs: TIMEOUT_MS, keepAliveTimeoutMs: TIMEOUT_MS });

// Counted through the handler the server gives its connections: the wait is for these events, not for a timer.
let opened = 0;
let closed = 0;
let waiter: (() => void) | null = null;
const handler = server.handler;
const onOpen = handler.onOpen!.bind(handler);
const onClose = handler.onClose!.bind(handler);
handler.onOpen = (connection: Connection): void => {
  onOpen(connection);
  opened += 1;
  waiter?.();
};
handler.onClose = (connection: Connection, error?: Error): void => {
  onClose(connection, error);
  closed += 1;
  waiter?.();
};

/** Resolves once `done()` holds, checked after each open and close. */
function until(done: () => boolean): Promise<void> {
  return new Promise((resolve) => {
    const check = (): void => {
      if (!done()) return;
      waiter = null;
      resolve();
    };
    waiter = check;
    check();
  });
}

/** A client process holding `connections`, resolved once it says all are there (and the server opened as many). */
async function openClients(connections: number): Promise<ChildProcess> {
  const before = opened;
  const child = fork(CLIENT, [String(server.port), String(connections), withRequest ? '1' : '0'], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const ready = new Promise<void>((resolve, reject) => {
    child.once('message', () => resolve());
    child.once('exit', (code) => reject(new Error(`the client exited (${code}) before its connections were there`)));
  });
  await Promise.all([ready, until(() => opened - before >= connections)]);
  return child;
}

/** Ends a client process and waits for the server to close each of its connections. */
async function closeClients(child: ChildProcess, connections: number): Promise<void> {
  const before = closed;
  child.kill('SIGKILL');
  await until(() => closed - before >= connections);
}

async function settle(): Promise<void> {
  for (let index = 0; index < COLLECTIONS; index += 1) {
    gc!();
    await new Promise((resolve) => setImmediate(resolve));
  }
}

interface Reading {
  readonly used: number;
  readonly code: number;
  readonly snapshot: string | null;
}

async function reading(directory: string | null, name: string): Promise<Reading> {
  await settle();
  const used = getHeapStatistics().used_heap_size;
  const code = getHeapSpaceStatistics()
    .filter((space) => space.space_name.startsWith('code'))
    .reduce((sum, space) => sum + space.space_used_size, 0);
  // The snapshot is taken after the reading: writing one allocates.
  const snapshot = directory === null ? null : writeHeapSnapshot(join(directory, `${name}.heapsnapshot`));
  return { used, code, snapshot };
}

interface Group {
  count: number;
  size: number;
}

/** A node's group: its type, and for objects, closures and the like, its constructor or function name. */
function groupOf(type: string, name: string): string {
  switch (type) {
    case 'string':
    case 'concatenated string':
    case 'sliced string':
      return '(string)';
    case 'code':
      return '(code)';
    case 'number':
      return '(heap number)';
    case 'object':
      return name;
    default:
      return `(${type}) ${name}`;
  }
}

function groups(file: string): Map<string, Group> {
  const snapshot = JSON.parse(readFileSync(file, 'utf8')) as {
    snapshot: { meta: { node_fields: string[]; node_types: [string[], ...unknown[]] } };
    nodes: number[];
    strings: string[];
  };
  const fields = snapshot.snapshot.meta.node_fields;
  const width = fields.length;
  const typeField = fields.indexOf('type');
  const nameField = fields.indexOf('name');
  const sizeField = fields.indexOf('self_size');
  const types = snapshot.snapshot.meta.node_types[0];
  const { nodes, strings } = snapshot;
  const result = new Map<string, Group>();
  for (let base = 0; base < nodes.length; base += width) {
    const type = types[nodes[base + typeField]!]!;
    if (type === 'synthetic') continue;
    const key = groupOf(type, strings[nodes[base + nameField]!]!);
    const group = result.get(key);
    if (group === undefined) result.set(key, { count: 1, size: nodes[base + sizeField]! });
    else {
      group.count += 1;
      group.size += nodes[base + sizeField]!;
    }
  }
  return result;
}

interface Row {
  readonly group: string;
  readonly countPerConnection: number;
  readonly bytesPerConnection: number;
}

function diff(before: string, after: string): Row[] {
  const was = groups(before);
  const rows: Row[] = [];
  for (const [group, now] of groups(after)) {
    const old = was.get(group) ?? { count: 0, size: 0 };
    rows.push({ group, countPerConnection: (now.count - old.count) / count, bytesPerConnection: (now.size - old.size) / count });
  }
  return rows.sort((a, b) => b.bytesPerConnection - a.bytesPerConnection);
}

const directory = values['no-snapshots'] ? null : mkdtempSync(join(tmpdir(), 'zepoll-heap-'));
try {
  const warm = await openClients(WARM_UP);
  await closeClients(warm, WARM_UP);
  const before = await reading(directory, 'before');
  const client = await openClients(count);
  if (server.connections.size !== count) throw new Error(`${server.connections.size} connections open, ${count} expected`);
  const after = await reading(directory, 'after');
  const perConnection = (after.used - before.used) / count;
  const perConnectionNoCode = (after.used - after.code - (before.used - before.code)) / count;
  client.kill('SIGKILL');
  const rows = before.snapshot !== null && after.snapshot !== null ? diff(before.snapshot, after.snapshot) : [];
  const top = rows.slice(0, Number(values.top));
  const snapshotTotal = rows.reduce((sum, row) => sum + row.bytesPerConnection, 0);
  const setting = `${reactor.stats.backend}${reactor.stats.backend === 'epoll' ? ` ${reactor.stats.mode}` : ''}, ${withRequest ? 'after one request' : 'no request yet'}`;
  if (values.json) {
    process.stdout.write(`${JSON.stringify({ setting, connections: count, perConnection, perConnectionNoCode, snapshotTotal, top })}\n`);
  } else {
    process.stdout.write(`heap per idle connection (${setting}; ${count} connections)\n`);
    process.stdout.write(`  used_heap_size: ${before.used} -> ${after.used} bytes: ${perConnection.toFixed(1)} B/connection\n`);
    process.stdout.write(`  without code space: ${perConnectionNoCode.toFixed(1)} B/connection\n`);
    if (rows.length > 0) {
      process.stdout.write(`  snapshot diff: ${snapshotTotal.toFixed(1)} B/connection; largest groups:\n`);
      process.stdout.write(`  ${'bytes/conn'.padStart(10)} ${'count/conn'.padStart(10)}  group\n`);
      for (const row of top) process.stdout.write(`  ${row.bytesPerConnection.toFixed(1).padStart(10)} ${row.countPerConnection.toFixed(2).padStart(10)}  ${row.group}\n`);
    }
    if (directory !== null && values.keep) process.stdout.write(`  snapshots in ${directory}\n`);
  }
} finally {
  if (directory !== null && !values.keep) rmSync(directory, { recursive: true, force: true });
  reactor.close();
}
