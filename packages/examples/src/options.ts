/**
 * The command line of `zepoll-examples`: one parser and one usage text for
 * every example. A bad option is a UsageError (exit 2).
 */
import { parseArgs } from 'node:util';
import type { BackendName, Mode } from 'zepoll';
import { HEADERS_TIMEOUT_MS_DEFAULT } from 'zepoll/http';

/** Timers hold at most a signed 32-bit count of milliseconds. */
const TIMEOUT_MS_MAX = 2 ** 31 - 1;

export const EXAMPLES = ['echo', 'http', 'static', 'proxy', 'resp', 'chat'] as const;
export type ExampleName = (typeof EXAMPLES)[number];

export interface ExampleOptions {
  readonly name: ExampleName;
  readonly host: string;
  readonly port: number;
  readonly mode: Mode;
  /** The kernel interface: epoll (in `mode`) or io_uring; 'auto' takes io_uring where it works. */
  readonly backend: BackendName | 'auto';
  readonly quota: number;
  readonly idleTimeoutMs: number;
  /** http and static: how long a request head may take to arrive. */
  readonly headersTimeoutMs: number;
  readonly workers: number;
  readonly pin: boolean;
  readonly root: string | null;
  readonly upstream: { host: string; port: number } | null;
}

export const USAGE = `usage: zepoll-examples <name> [options]

examples:
  echo      TCP echo
  http      HTTP/1.1: GET / (hello world), GET /json, POST /echo, GET /bytes/<n>
            (n bytes streamed with backpressure); keep-alive, pipelining
  static    files under --root with sendfile, Range, If-Modified-Since, HEAD
  proxy     TCP proxy to --upstream host:port, bytes relayed with splice
  resp      in-memory key-value server speaking RESP2 (redis-cli works)
  chat      WebSocket chat: ws://host:port/ROOM joins room ROOM; each text
            message reaches every other member of the room
  doctor    read (never change) the system limits a busy server needs, with the fix for each

options:
  --host <address>       address to bind (default 127.0.0.1)
  --port <n>             port (default 0: a free port, printed when ready)
  --mode lt|et|oneshot   epoll dispatch (default et)
  --backend epoll|io_uring|auto   the kernel interface (default epoll; io_uring ignores --mode)
  --quota <bytes>        read quota per connection per turn, or Infinity (default 65536)
  --idle-timeout <ms>    close connections idle this long (default 0: never)
  --headers-timeout <ms> http, static: answer 408 and close when a request head
                         takes longer (default 60000; 0: never)
  --workers <n>          reactors in n worker threads sharing the port (SO_REUSEPORT)
  --pin                  pin worker i to CPU i (with --workers)
  --root <dir>           static: the folder to serve
  --upstream <host:port> proxy: where to connect
  --help                 this text

When ready it prints "listening on <scheme>://<host>:<port>". SIGINT or
SIGTERM closes gracefully and exits 0.`;

export class UsageError extends Error {}

/** The URL scheme of an example's ready line. */
export function schemeOf(name: ExampleName): string {
  if (name === 'http' || name === 'static') return 'http';
  return name === 'resp' ? 'redis' : name === 'chat' ? 'ws' : 'tcp';
}

function integer(name: string, text: string, min: number, max: number): number {
  const value = Number(text);
  if (!/^\d+$/.test(text) || value < min || value > max) throw new UsageError(`--${name} must be an integer from ${min} to ${max}, received ${JSON.stringify(text)}`);
  return value;
}

/** Parses argv; returns null for --help. */
export function parseOptions(argv: readonly string[]): ExampleOptions | null {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      allowPositionals: true,
      strict: true,
      options: {
        host: { type: 'string', default: '127.0.0.1' },
        port: { type: 'string', default: '0' },
        mode: { type: 'string', default: 'et' },
        backend: { type: 'string', default: 'epoll' },
        quota: { type: 'string', default: '65536' },
        'idle-timeout': { type: 'string', default: '0' },
        'headers-timeout': { type: 'string' },
        workers: { type: 'string', default: '0' },
        pin: { type: 'boolean', default: false },
        root: { type: 'string' },
        upstream: { type: 'string' },
        help: { type: 'boolean', default: false },
      },
    });
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const { values, positionals } = parsed;
  if (values.help) return null;
  if (positionals.length !== 1) throw new UsageError(positionals.length === 0 ? 'no example named' : `one example at a time, received ${positionals.join(' ')}`);
  const name = positionals[0] as ExampleName;
  if (!EXAMPLES.includes(name)) throw new UsageError(`unknown example ${JSON.stringify(positionals[0])}`);
  if (values.mode !== 'lt' && values.mode !== 'et' && values.mode !== 'oneshot') throw new UsageError(`--mode must be lt, et or oneshot, received ${JSON.stringify(values.mode)}`);
  if (values.backend !== 'epoll' && values.backend !== 'io_uring' && values.backend !== 'auto') throw new UsageError(`--backend must be epoll, io_uring or auto, received ${JSON.stringify(values.backend)}`);
  const quota = values.quota === 'Infinity' ? Infinity : integer('quota', values.quota, 1, 2 ** 31);
  if (name === 'static' && values.root === undefined) throw new UsageError('static needs --root <dir>');
  if (name !== 'static' && values.root !== undefined) throw new UsageError('--root is for static only');
  let upstream: ExampleOptions['upstream'] = null;
  if (name === 'proxy') {
    const match = /^(.+):(\d+)$/.exec(values.upstream ?? '');
    if (match === null) throw new UsageError('proxy needs --upstream <host:port>');
    upstream = { host: match[1]!.replace(/^\[(.*)\]$/, '$1'), port: integer('upstream port', match[2]!, 1, 65535) };
  } else if (values.upstream !== undefined) {
    throw new UsageError('--upstream is for proxy only');
  }
  if (values['headers-timeout'] !== undefined && name !== 'http' && name !== 'static') throw new UsageError('--headers-timeout is for http and static only');
  const workers = integer('workers', values.workers, 0, 256);
  if (values.pin && workers === 0) throw new UsageError('--pin needs --workers');
  return {
    name,
    host: values.host,
    port: integer('port', values.port, 0, 65535),
    mode: values.mode,
    backend: values.backend,
    quota,
    idleTimeoutMs: integer('idle-timeout', values['idle-timeout'], 0, TIMEOUT_MS_MAX),
    headersTimeoutMs: values['headers-timeout'] === undefined ? HEADERS_TIMEOUT_MS_DEFAULT : integer('headers-timeout', values['headers-timeout'], 0, TIMEOUT_MS_MAX),
    workers,
    pin: values.pin,
    root: values.root ?? null,
    upstream,
  };
}
