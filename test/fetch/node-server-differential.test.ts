/**
 * zepoll/fetch against @hono/node-server, side by side: the same Hono app
 * (test/fixtures/differential-server.ts) served by each adapter in a
 * worker thread of its own, and the same raw request bytes (node:net) sent
 * to both. Every response's status, reason, header fields (name and value,
 * in any order) and body must be the same, except for the differences
 * listed below, each deliberate and with its reason. For a stream, time to
 * first byte is compared as an event: the producer waits on a gate the test
 * opens only once the client has received the first chunk, so a server
 * that holds the head until a second chunk never answers (and times out).
 *
 * Header fields not compared:
 * - Date: the clock.
 * - Keep-Alive, and `Connection: keep-alive`: Node's http announces
 *   persistence on HTTP/1.1 (`Keep-Alive: timeout=5`), zepoll leaves it
 *   implied (RFC 9112 9.3: persistence is the 1.1 default). `Connection:
 *   close` is compared.
 * - The framing of an empty body (deliberate difference 7 below): read
 *   here as `content-length: 0` whichever way it came.
 *
 * Deliberate differences (also in docs/fetch.md):
 * 1. A custom statusText is sent as the reason phrase; node-server sends
 *    the status's usual one.
 * 2. A header value past Latin-1 (`€`) cannot be sent: zepoll answers 500
 *    (and the handler error goes to onError); node-server cuts the
 *    connection without a response, and its process gets an uncaught
 *    ERR_INVALID_CHAR (the fixture catches it).
 * 3. OPTIONS * (asterisk-form, RFC 9112 3.2.4) reaches the app (as
 *    `http://host/*`); node-server answers 400.
 * 4. A request without Host (HTTP/1.0) or with an empty one, on a server
 *    given its address (`host`, node-server's `hostname`), gets that
 *    address with the port in its URL; node-server leaves the port out
 *    (`http://127.0.0.1/...`), naming another origin. (Without the
 *    option both answer 400.)
 * 5. A request the HTTP layer refuses (`Host: :80`) gets its 400, with
 *    the reason in the body and `Connection: close`; node-server's URL
 *    400 has no body and keeps the connection. (A URL 400 of zepoll/fetch
 *    itself matches node-server's, but closes when the request has a
 *    body, which is then never read.)
 * 6. A Host the URL parser rewrites into another name (`127.1` into
 *    `127.0.0.1`) is a 400: the request named a host other than the one it
 *    wrote. node-server passes digit-and-dot forms through unparsed (its
 *    fast path) and refuses the others (`a%41`) as zepoll does.
 *
 * 7. An empty body is framed `Content-Length: 0`; Node's http, handed the
 *    head before end() (a redirect, a null body with headers,
 *    node-server's own 400), sends an empty chunked body. The same message
 *    (RFC 9112 6).
 *
 * 8. A body over `bodySizeMax` (1 MiB by default, raised through the
 *    `http` option) is answered 413 when the handler reads past the limit;
 *    node-server has no limit and reads any body into memory. The handler
 *    still sees the head first and may answer itself (docs/http.md).
 */
import t from 'tap';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { once } from 'node:events';
import { rawExchange, type RawExchange, type RawResponse } from '../helpers/raw-http.js';

type Adapter = 'zepoll' | 'node-server';
/** What is compared; 'responses' is how many came back. */
type Aspect = 'responses' | 'status' | 'reason' | 'headers' | 'body';
type ResponseAspect = Exclude<Aspect, 'responses'>;

interface Case {
  readonly name: string;
  readonly request: string | Buffer;
  readonly count?: number;
  readonly heads?: readonly boolean[];
  /** A stream's gate: opened when the client has the first body bytes. */
  readonly gate?: string;
  readonly destroyAfterWrite?: boolean;
  /** A second exchange whose answer depends on the first (what a handler saw). */
  readonly followUp?: string;
  /** A deliberate difference: these aspects may differ (at least one must), the rest must match. */
  readonly differ?: { readonly aspects: readonly Aspect[]; readonly reason: string };
}

/** Header fields left out of the comparison (see the file's comment). */
const IGNORED_HEADERS: ReadonlySet<string> = new Set(['date', 'keep-alive']);
const MEBIBYTE = 1024 * 1024;

const root = mkdtempSync(join(tmpdir(), 'zepoll-differential-'));
writeFileSync(join(root, 'hello.txt'), 'hello from a file\n');
mkdirSync(join(root, 'sub'));
writeFileSync(join(root, 'sub', 'index.html'), '<p>index</p>');
t.teardown(() => rmSync(root, { recursive: true, force: true }));

const get = (path: string, host = 'localhost', extra = ''): string => `GET ${path} HTTP/1.1\r\nHost: ${host}\r\n${extra}\r\n`;
const post = (path: string, body: string, extra = ''): string => `POST ${path} HTTP/1.1\r\nHost: localhost\r\nContent-Length: ${Buffer.byteLength(body)}\r\n${extra}\r\n${body}`;
const chunked = (path: string, parts: readonly string[]): string =>
  `POST ${path} HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\n\r\n${parts.map((part) => `${Buffer.byteLength(part).toString(16)}\r\n${part}\r\n`).join('')}0\r\n\r\n`;

const CASES: readonly Case[] = [
  // Routes, params, query, JSON, cookies, redirects, methods.
  { name: 'text', request: get('/') },
  { name: 'json', request: get('/json') },
  { name: 'params and query', request: get('/users/42?q=x&tag=a&tag=b') },
  { name: 'not found', request: get('/missing') },
  { name: 'method not routed', request: 'PUT / HTTP/1.1\r\nHost: localhost\r\nContent-Length: 0\r\n\r\n' },
  { name: 'set-cookie twice', request: get('/cookies') },
  { name: 'cookie read', request: get('/cookie-echo', 'localhost', 'Cookie: a=1; b=2\r\n') },
  { name: 'redirect', request: get('/redirect') },
  { name: 'redirect 301', request: get('/redirect-301') },
  { name: 'HEAD on a GET route', request: 'HEAD / HTTP/1.1\r\nHost: localhost\r\n\r\n', heads: [true] },
  { name: 'HEAD on a JSON route', request: 'HEAD /json HTTP/1.1\r\nHost: localhost\r\n\r\n', heads: [true] },
  { name: 'OPTIONS', request: 'OPTIONS /options HTTP/1.1\r\nHost: localhost\r\n\r\n' },
  { name: '201', request: get('/created') },
  { name: '204', request: get('/no-content') },
  { name: 'bytes body', request: get('/bytes') },
  { name: 'two pipelined', request: get('/') + get('/json'), count: 2 },
  // The URL the app sees: normalised path, host and port.
  { name: 'url', request: get('/url/a/b?x=1') },
  { name: 'dot-dot segment', request: get('/url/a/../b') },
  { name: 'dot segment', request: get('/url/./x') },
  { name: 'dot-dot at the end', request: get('/url/a/b/..') },
  { name: 'a name that starts with a dot', request: get('/url/.well-known/x') },
  { name: 'a dot-dot name', request: get('/url/..hidden') },
  { name: 'dot-dot out of a prefix, to another route', request: get('/static/../foo.txt') },
  { name: 'encoded dot-dot', request: get('/url/%2e%2e/url/y') },
  { name: 'encoded space', request: get('/url/a%20b') },
  { name: 'dots in the query', request: get('/url/q?a=/../b') },
  { name: 'host in upper case, default port', request: get('/url/h', 'LOCALHOST:80') },
  { name: 'port with a leading zero', request: get('/url/h', 'localhost:080') },
  { name: 'other port', request: get('/url/h', 'localhost:8080') },
  { name: 'IPv6 literal host', request: get('/url/h', '[::1]:3000') },
  { name: 'absolute-form', request: 'GET http://localhost/url/abs HTTP/1.1\r\nHost: localhost\r\n\r\n' },
  { name: 'port out of range', request: get('/url/h', 'localhost:65536') },
  { name: 'port without a host', request: get('/url/h', ':80'), differ: { aspects: ['headers', 'body'], reason: '(5) the HTTP layer says why, and closes' } },
  { name: 'percent-encoded host', request: get('/url/h', 'a%41') },
  { name: 'host the URL parser rewrites', request: get('/url/h', '127.1'), differ: { aspects: ['status', 'reason', 'headers', 'body'], reason: '(6) a rewritten host is refused' } },
  // Streams: time to first byte, framing.
  { name: 'stream() with a gap', request: get('/stream?gate=s1'), gate: 's1' },
  { name: 'streamText() with a gap', request: get('/stream-text?gate=s2'), gate: 's2' },
  { name: 'streamSSE() with a gap', request: get('/sse?gate=s3'), gate: 's3' },
  { name: 'web ReadableStream with a gap', request: get('/web-stream?gate=s4'), gate: 's4' },
  { name: 'a stream of one chunk', request: get('/single-chunk') },
  { name: 'an empty stream', request: get('/empty-stream') },
  { name: "the app's Content-Length digits", request: get('/length-zeros') },
  { name: 'Response by shape (ponyfill)', request: get('/ponyfill') },
  // serveStatic from a temporary directory.
  { name: 'static file', request: get('/static/hello.txt') },
  { name: 'static HEAD', request: 'HEAD /static/hello.txt HTTP/1.1\r\nHost: localhost\r\n\r\n', heads: [true] },
  { name: 'static missing', request: get('/static/nothing.txt') },
  { name: 'static range', request: get('/static/hello.txt', 'localhost', 'Range: bytes=0-4\r\n') },
  { name: 'static index', request: get('/static/sub/') },
  // Request bodies of every framing.
  { name: 'body with Content-Length', request: post('/echo', 'some bytes') },
  { name: 'chunked body', request: chunked('/echo', ['abc', 'defgh', 'i']) },
  { name: 'empty body (Content-Length: 0)', request: post('/echo', '') },
  { name: 'body of a POST with Content-Length: 0', request: post('/body-kind', '') },
  { name: 'body of a POST without framing', request: 'POST /body-kind HTTP/1.1\r\nHost: localhost\r\n\r\n' },
  { name: 'body of a DELETE', request: 'DELETE /body-kind HTTP/1.1\r\nHost: localhost\r\n\r\n' },
  { name: 'body of a chunked POST', request: chunked('/body-kind', ['x', 'yz']) },
  {
    name: 'aborted upload, then what the handler saw',
    request: 'POST /abortable?id=a1 HTTP/1.1\r\nHost: localhost\r\nContent-Length: 100\r\n\r\n0123456789',
    destroyAfterWrite: true,
    followUp: get('/outcome?id=a1'),
  },
  { name: 'unread body, then a pipelined request', request: post('/unread', 'x'.repeat(64 * 1024)) + get('/'), count: 2 },
  { name: 'over-limit body', request: post('/echo', 'x'.repeat(MEBIBYTE + 1)), differ: { aspects: ['status', 'reason', 'headers', 'body'], reason: '(8) bodySizeMax answers 413; node-server has no limit' } },
  // Deliberate differences.
  { name: 'custom statusText', request: get('/status-text'), differ: { aspects: ['reason'], reason: '(1) the reason phrase is kept' } },
  { name: 'header value past Latin-1', request: get('/euro'), differ: { aspects: ['responses'], reason: '(2) a 500, where node-server cuts the connection' } },
  { name: 'OPTIONS *', request: 'OPTIONS * HTTP/1.1\r\nHost: localhost\r\n\r\n', differ: { aspects: ['status', 'reason', 'headers', 'body'], reason: '(3) asterisk-form reaches the app' } },
  { name: 'HTTP/1.0 without Host', request: 'GET /url/old HTTP/1.0\r\n\r\n', differ: { aspects: ['headers', 'body'], reason: '(4) the port is part of the origin' } },
  { name: 'empty Host', request: 'GET /url/h HTTP/1.1\r\nHost: \r\n\r\n', differ: { aspects: ['headers', 'body'], reason: '(4) the port is part of the origin' } },
];

interface Side {
  readonly worker: Worker;
  readonly port: number;
}

async function start(adapter: Adapter): Promise<Side> {
  const worker = new Worker(new URL('../fixtures/differential-server.ts', import.meta.url), { workerData: { adapter, root } });
  const [message] = (await once(worker, 'message')) as [{ port: number }];
  return { worker, port: message.port };
}

/** One response as compared: status, reason, sorted header lines (ignored ones left out), body. */
function comparable(response: RawResponse): Record<ResponseAspect, string | number | string[]> {
  const headers = response.headers
    .filter(([name, value]) => !IGNORED_HEADERS.has(name) && !(name === 'connection' && value.toLowerCase() === 'keep-alive'))
    .map(([name, value]) => (name === 'transfer-encoding' && response.body.length === 0 && response.framing === 'chunked' ? 'content-length: 0' : `${name}: ${value}`))
    .sort();
  return { status: response.status, reason: response.reason, headers, body: response.body.toString('latin1') };
}

/** Runs a case on one side; for a gated stream, records whether the first body bytes came before the gate opened. */
async function run(side: Side, item: Case): Promise<{ exchanges: RawExchange[]; firstBeforeGate: boolean | null }> {
  let opened = false;
  let firstBeforeGate: boolean | null = null;
  const onBody =
    item.gate === undefined
      ? undefined
      : (_index: number, bytes: Buffer): void => {
          if (opened || bytes.length === 0) return;
          firstBeforeGate = true; // the gate opens only now: the producer has not sent its second chunk
          opened = true;
          side.worker.postMessage({ release: item.gate });
        };
  const exchanges = [
    await rawExchange(side.port, item.request, {
      ...(item.count === undefined ? {} : { count: item.count }),
      ...(item.heads === undefined ? {} : { heads: item.heads }),
      ...(onBody === undefined ? {} : { onBody }),
      ...(item.destroyAfterWrite === undefined ? {} : { destroyAfterWrite: item.destroyAfterWrite }),
    }),
  ];
  if (item.followUp !== undefined) exchanges.push(await rawExchange(side.port, item.followUp));
  if (item.gate !== undefined && !opened) side.worker.postMessage({ release: item.gate }); // let the producer finish
  return { exchanges, firstBeforeGate };
}

t.test('zepoll/fetch answers as @hono/node-server does, byte for byte but the listed differences', async (t) => {
  const zepoll = await start('zepoll');
  const nodeServer = await start('node-server');
  t.teardown(async () => {
    for (const side of [zepoll, nodeServer]) {
      side.worker.postMessage({ close: true });
      await once(side.worker, 'exit');
    }
  });
  let compared = 0;
  const differences: string[] = [];
  for (const item of CASES) {
    const [ours, theirs] = [await run(zepoll, item), await run(nodeServer, item)];
    if (item.gate !== undefined) {
      t.equal(ours.firstBeforeGate, true, `${item.name}: zepoll sent the head and first chunk before the producer's second`);
      t.equal(theirs.firstBeforeGate, true, `${item.name}: node-server did`);
    }
    const oursAll = ours.exchanges.flatMap((exchange) => exchange.responses.map(comparable));
    const theirsAll = theirs.exchanges.flatMap((exchange) => exchange.responses.map(comparable));
    t.notOk(ours.exchanges.some((exchange) => exchange.timedOut), `${item.name}: zepoll answered in time`);
    compared += Math.max(oursAll.length, theirsAll.length);
    const allowed = new Set<Aspect>(item.differ?.aspects ?? []);
    let differed = false;
    if (allowed.has('responses')) differed ||= oursAll.length !== theirsAll.length;
    else t.equal(oursAll.length, theirsAll.length, `${item.name}: as many responses`);
    for (let index = 0; index < Math.min(oursAll.length, theirsAll.length); index += 1) {
      for (const aspect of ['status', 'reason', 'headers', 'body'] as const) {
        const same = JSON.stringify(oursAll[index]![aspect]) === JSON.stringify(theirsAll[index]![aspect]);
        if (allowed.has(aspect)) differed ||= !same;
        else t.same(oursAll[index]![aspect], theirsAll[index]![aspect], `${item.name}: same ${aspect}`);
      }
    }
    if (item.differ !== undefined) {
      t.ok(differed, `${item.name}: differs as listed, ${item.differ.reason}`);
      differences.push(`${item.name}: ${item.differ.reason}`);
    }
  }
  t.comment(`${compared} responses compared; differences: ${differences.length}\n${differences.join('\n')}`);
});
