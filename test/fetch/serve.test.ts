/**
 * zepoll/fetch's own contract: the Request it hands over (a platform
 * Request, lazily built), the light Response and the global it installs
 * (or not), streamed and file bodies, backpressure on request bodies,
 * errors (500, counted by the HTTP layer, onError with the Request), the
 * AbortSignal's graceful close, bad options, worker threads, and no fd left
 * open.
 */
import t from 'tap';
import { once } from 'node:events';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { serve, fileResponse } from 'zepoll/fetch';
import { FILE_BODIES } from '../../packages/reactor/dist/fetch/file-response.js';
import { trackFds } from '../helpers/fds.js';

const root = resolve(import.meta.dirname, '..', '..');
/** The fd of a file Response's handle (FILE_BODIES is zepoll/fetch's own record of it). */
const FILE_HANDLE_FD = (response: Response): number => FILE_BODIES.get(response)!.file.fd;
const PlatformResponse = globalThis.Response;

/** A raw exchange on a fresh connection: the whole reply as text, until the server closes it (no FIN from here: that would count as leaving). */
async function raw(port: number, request: string): Promise<string> {
  const socket = connect(port, '127.0.0.1');
  await once(socket, 'connect');
  socket.write(request);
  const parts: Buffer[] = [];
  for await (const part of socket) parts.push(part as Buffer);
  return Buffer.concat(parts).toString('latin1');
}

t.test('overrideGlobalObjects: false leaves the global Response alone, and responses still go out', async (t) => {
  const server = serve({ fetch: () => new Response('plain', { headers: { 'x-a': '1' } }), port: 0, overrideGlobalObjects: false });
  const answer = await fetch(`http://127.0.0.1:${server.port}/`);
  t.equal(await answer.text(), 'plain');
  t.equal(answer.headers.get('x-a'), '1');
  t.equal(globalThis.Response, PlatformResponse, 'the global is untouched');
  await server.close();
});

t.test('the Request: a platform Request by prototype, lazily complete', async (t) => {
  const seen: Array<Record<string, unknown>> = [];
  const server = serve({
    port: 0,
    fetch: async (request) => {
      const clone = request.method === 'POST' ? request.clone() : null;
      seen.push({
        isRequest: request instanceof Request,
        method: request.method,
        url: request.url,
        header: request.headers.get('x-test'),
        signal: request.signal instanceof AbortSignal,
        body: request.method === 'POST' ? await request.text() : null,
        cloned: clone === null ? null : await clone.text(),
      });
      return new Response('ok');
    },
  });
  await fetch(`http://127.0.0.1:${server.port}/a/b?c=d`, { headers: { 'x-test': 'yes' } });
  await fetch(`http://127.0.0.1:${server.port}/post`, { method: 'POST', body: 'the body' });
  t.same(seen, [
    { isRequest: true, method: 'GET', url: `http://127.0.0.1:${server.port}/a/b?c=d`, header: 'yes', signal: true, body: null, cloned: null },
    { isRequest: true, method: 'POST', url: `http://127.0.0.1:${server.port}/post`, header: null, signal: true, body: 'the body', cloned: 'the body' },
  ]);
  const http10 = await raw(server.port, 'GET /old HTTP/1.0\r\n\r\n');
  t.match(http10, /^HTTP\/1\.[01] 400 /, 'an HTTP/1.0 request without Host is a 400 when serve() was given no host (node-server without hostname)');
  const badHost = await raw(server.port, 'GET / HTTP/1.1\r\nHost: a%2Fb\r\nConnection: close\r\n\r\n');
  t.match(badHost, /^HTTP\/1\.1 400 /, 'a Host the URL parser refuses is a 400, and the handler never runs');
  t.equal(seen.length, 2, 'the handler ran for neither');
  await server.close();
});

t.test('the light Response: instanceof, platform checks, statics, headers; the global put back on close', async (t) => {
  const installer = serve({ fetch: () => new Response(), port: 0 }); // installs it
  t.not(globalThis.Response, PlatformResponse, 'installed as the global');
  const light = new Response('x');
  t.ok(light instanceof Response && light instanceof PlatformResponse, 'instanceof both');
  t.ok(new PlatformResponse('y') instanceof Response, 'a platform Response is a Response too');
  t.equal(light.headers.get('content-type'), 'text/plain; charset=UTF-8', "node-server's default for a string");
  t.equal(light.status, 200);
  t.ok(light.ok);
  t.throws(() => new Response('body', { status: 204 }), TypeError, 'a body on a 204 throws as the platform does');
  t.throws(() => new Response(null, { status: 99 }), RangeError, 'a bad status throws as the platform does');
  t.equal(Response.json({ a: 1 }).headers.get('content-type'), 'application/json', 'static json() works');
  const read = new Response('read me');
  t.ok(read.body instanceof ReadableStream, 'the rest of Response is the platform one');
  await t.resolveMatch(new Response('as text').text(), 'as text', 'text() answered by the platform Response');
  await installer.close();
  t.equal(globalThis.Response, PlatformResponse, 'the global Response is put back once the last server closes');
});

t.test('streamed and file bodies', async (t) => {
  const folder = mkdtempSync(join(tmpdir(), 'zepoll-fetch-'));
  t.teardown(() => rmSync(folder, { recursive: true, force: true }));
  const file = join(folder, 'data.bin');
  const content = Buffer.alloc(300_000);
  for (let index = 0; index < content.length; index += 1) content[index] = index % 251;
  writeFileSync(file, content);
  const fds = trackFds();
  const PARTS = 200;
  const PART = Buffer.alloc(16 * 1024, 1);
  const server = serve({
    port: 0,
    fetch: async (request) => {
      const path = new URL(request.url).pathname;
      if (path === '/file') return fileResponse(await open(file), { headers: { 'content-type': 'application/octet-stream' } });
      if (path === '/range') return fileResponse(await open(file), { offset: 1000, length: 5000 });
      if (path === '/bytes') return new Response(new Uint8Array([1, 2, 3]));
      if (path === '/empty') return new Response(new ReadableStream({ start: (controller) => controller.close() }));
      if (path === '/none') return new PlatformResponse(null, { status: 202, headers: { 'x-none': '1' } });
      if (path === '/pairs') return new Response('paired', { headers: [['x-pair', 'a'], ['x-pair', 'b'], ['content-type', 'text/x-pair']] });
      let sent = 0;
      return new Response(new ReadableStream({
        pull(controller) {
          if (sent === PARTS) controller.close();
          else {
            sent += 1;
            controller.enqueue(new Uint8Array(PART));
          }
        },
      }));
    },
  });
  const base = `http://127.0.0.1:${server.port}`;
  const whole = await fetch(`${base}/file`);
  t.equal(whole.headers.get('content-length'), String(content.length));
  t.ok(Buffer.from(await whole.arrayBuffer()).equals(content), 'a file through sendfile');
  const range = await fetch(`${base}/range`);
  t.ok(Buffer.from(await range.arrayBuffer()).equals(content.subarray(1000, 6000)), 'a range of it');
  t.same([...new Uint8Array(await (await fetch(`${base}/bytes`)).arrayBuffer())], [1, 2, 3], 'bytes');
  const streamed = await fetch(`${base}/stream`);
  t.equal((await streamed.arrayBuffer()).byteLength, PARTS * PART.length, 'a ReadableStream body, every part');
  const empty = await fetch(`${base}/empty`);
  t.equal(await empty.text(), '', 'a stream that ends at once: an empty body');
  const none = await fetch(`${base}/none`);
  t.same([none.status, none.headers.get('x-none'), await none.text()], [202, '1', ''], 'a platform Response without a body');
  const pairs = await fetch(`${base}/pairs`);
  t.same([pairs.headers.get('x-pair'), pairs.headers.get('content-type'), await pairs.text()], ['a, b', 'text/x-pair', 'paired'], 'headers given as pairs, repeated names combined');
  const unsent = await fileResponse(await open(file), { length: 10 }); // small: one pull would read it all and close the handle
  const handleFd = FILE_HANDLE_FD(unsent);
  for (let tick = 0; tick < 20; tick += 1) await new Promise((resolve) => setImmediate(resolve));
  t.ok(existsSync(`/proc/self/fd/${handleFd}`), 'nothing reads the file before a reader asks (a pull would close it before sendfile)');
  await unsent.body!.cancel();
  const read = await fileResponse(await open(file), { offset: 5, length: 100_000 });
  t.ok(Buffer.from(await read.arrayBuffer()).equals(content.subarray(5, 100_005)), 'read outside serve(), the body streams the range (and closes the handle)');
  t.pass('a file Response cancelled unsent closes its handle (the fd check below)');
  await t.rejects(fileResponse(await open(file), { offset: content.length + 1, length: 1 }), { code: 'ERR_OUT_OF_RANGE' }, 'a range past the end (the handle is closed: the fd check below)');
  await t.rejects(fileResponse(await open(file), { length: 'all' as never }), { code: 'ERR_INVALID_ARG_TYPE', message: /init\.length/ }, 'a bad option type (the handle is closed too)');
  await t.rejects(fileResponse('a path' as never), { code: 'ERR_INVALID_ARG_TYPE' });
  await server.close();
  await fds.assertNoneSettled(t);
});

t.test('a request body is pulled, not buffered: an unread upload pauses the client', async (t) => {
  let release: () => void = () => {};
  const released = new Promise<void>((resolve) => (release = resolve));
  let received = 0;
  const server = serve({
    port: 0,
    http: { bodySizeMax: 64 * 1024 * 1024 },
    fetch: async (request) => {
      const reader = request.body!.getReader();
      const first = await reader.read();
      received += first.value?.byteLength ?? 0;
      await released; // the handler stops reading
      for (;;) {
        const next = await reader.read();
        if (next.done) break;
        received += next.value.byteLength;
      }
      return new Response(String(received));
    },
  });
  const UPLOAD = 32 * 1024 * 1024;
  const socket = connect(server.port, '127.0.0.1');
  await once(socket, 'connect');
  socket.write(`POST / HTTP/1.1\r\nHost: x\r\nContent-Length: ${UPLOAD}\r\nConnection: close\r\n\r\n`);
  const chunk = Buffer.alloc(1024 * 1024);
  let written = 0;
  while (written < UPLOAD && socket.write(chunk)) written += chunk.length;
  await new Promise((resolve) => setImmediate(resolve));
  t.ok(written < UPLOAD, `the client's writes backed up after ${written} of ${UPLOAD} bytes while the handler did not read`);
  t.ok(received < UPLOAD / 2, `the handler had ${received} bytes, not the whole upload`);
  release();
  const replies: Buffer[] = [];
  socket.on('data', (part: Buffer) => replies.push(part));
  // The write that returned false was queued all the same: count it, then send exactly the rest
  // (a byte past Content-Length would be unread when the server closes, and the kernel would reset).
  for (written += chunk.length; written < UPLOAD; written += chunk.length) if (!socket.write(chunk)) await once(socket, 'drain');
  // No FIN from this side: a client that half-closes before its answer has left (the HTTP layer's rule);
  // the server closes after answering, as the request's Connection: close asks.
  await once(socket, 'close');
  t.match(Buffer.concat(replies).toString(), new RegExp(`\\r\\n\\r\\n${UPLOAD}$`), 'then every byte arrived');
  await server.close();
});

t.test('a streamed response waits for the connection to drain: a client that does not read stops the producer', async (t) => {
  const fds = trackFds();
  const PARTS = 64;
  const PART = new Uint8Array(1024 * 1024);
  let pulled = 0;
  const server = serve({
    port: 0,
    fetch: () => new Response(new ReadableStream({
      pull(controller) {
        if (pulled === PARTS) controller.close();
        else {
          pulled += 1;
          controller.enqueue(PART);
        }
      },
    }, { highWaterMark: 0 })),
  });
  const socket = connect(server.port, '127.0.0.1');
  await once(socket, 'connect');
  socket.pause();
  socket.write('GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
  // Let the server run until it blocks: the kernel buffers fill and the producer waits for a drain.
  for (let turns = 0; turns < 50; turns += 1) await new Promise((resolve) => setTimeout(resolve, 2));
  t.ok(pulled < PARTS, `the producer stopped at ${pulled} of ${PARTS} parts while the client read nothing`);
  let received = 0;
  socket.on('data', (part: Buffer) => (received += part.length));
  socket.resume();
  await once(socket, 'close');
  t.equal(pulled, PARTS, 'then it produced the rest');
  t.ok(received > PARTS * PART.length, `every part arrived (${received} bytes with the head)`);
  await server.close();
  await fds.assertNoneSettled(t);
});

t.test('a request body the handler cancels: the answer still goes out', async (t) => {
  const fds = trackFds();
  const server = serve({
    port: 0,
    fetch: async (request) => {
      await request.body!.cancel();
      return new Response('cancelled');
    },
  });
  const answer = await fetch(`http://127.0.0.1:${server.port}/`, { method: 'POST', body: 'x'.repeat(100_000) });
  t.equal(await answer.text(), 'cancelled');
  await server.close();
  await fds.assertNoneSettled(t);
});

t.test('errors: a throw, a rejection and a non-Response answer 500 and reach onError with the Request', async (t) => {
  const errors: Array<[string, string | null]> = [];
  const server = serve({
    port: 0,
    onError: (error, request) => errors.push([(error as { code?: string }).code ?? error.message, request?.url ?? null]),
    fetch: (request) => {
      const path = new URL(request.url).pathname;
      if (path === '/throw') throw new Error('thrown');
      if (path === '/reject') return Promise.reject(new Error('rejected'));
      if (path === '/midstream') {
        return new Response(new ReadableStream({
          start(controller) {
            controller.enqueue(new TextEncoder().encode('partial'));
            controller.enqueue(new TextEncoder().encode('more')); // two parts: the head and both go out before the break
          },
          pull(controller) {
            controller.error(new Error('stream broke'));
          },
        }));
      }
      return 'not a response' as unknown as Response;
    },
  });
  const base = `http://127.0.0.1:${server.port}`;
  for (const path of ['/throw', '/reject', '/wrong']) {
    const answer = await fetch(`${base}${path}`);
    t.equal(answer.status, 500, `${path}: 500`);
    t.equal(answer.headers.get('connection'), 'close', `${path}: that connection closes`);
  }
  await t.rejects(fetch(`${base}/midstream`).then((answer) => answer.text()), 'a body that breaks after the head cuts the connection');
  t.same(errors, [
    ['thrown', `${base}/throw`],
    ['rejected', `${base}/reject`],
    ['ERR_INVALID_RETURN_VALUE', `${base}/wrong`],
    ['stream broke', `${base}/midstream`],
  ]);
  const after = await fetch(`${base}/wrong`);
  t.equal(after.status, 500, 'the server goes on');
  await server.close();
});

t.test('the signal closes gracefully: the request in flight is answered, then the port is closed', async (t) => {
  const fds = trackFds();
  const controller = new AbortController();
  let started: () => void = () => {};
  const inFlight = new Promise<void>((resolve) => (started = resolve));
  const server = serve({
    port: 0,
    signal: controller.signal,
    fetch: async () => {
      started();
      await new Promise((resolve) => setTimeout(resolve, 50));
      return new Response('finished');
    },
  });
  const pending = fetch(`http://127.0.0.1:${server.port}/`).then((answer) => answer.text());
  await inFlight;
  controller.abort();
  t.equal(await pending, 'finished', 'the request in flight got its answer');
  await server.closed;
  await t.rejects(fetch(`http://127.0.0.1:${server.port}/`), 'then nothing listens');
  await fds.assertNoneSettled(t);
  const aborted = new AbortController();
  aborted.abort();
  const never = serve({ fetch: () => new Response(), port: 0, signal: aborted.signal });
  await never.closed;
  t.pass('an already aborted signal closes at once');
});

t.test('bad options throw coded errors before anything listens', (t) => {
  t.throws(() => serve({ fetch: 'no' as never }), { code: 'ERR_INVALID_ARG_TYPE', message: /options\.fetch/ });
  t.throws(() => serve(undefined as never), { code: 'ERR_INVALID_ARG_TYPE' });
  t.throws(() => serve({ fetch: () => new Response(), port: -1 }), { code: 'ERR_OUT_OF_RANGE' });
  t.throws(() => serve({ fetch: () => new Response(), port: 0, workers: 0 }), { code: 'ERR_OUT_OF_RANGE', message: /options\.workers/ });
  t.throws(() => serve({ fetch: () => new Response(), port: 0, signal: {} as never }), { code: 'ERR_INVALID_ARG_TYPE', message: /options\.signal/ });
  t.throws(() => serve({ fetch: () => new Response(), port: 0, overrideGlobalObjects: 'yes' as never }), { code: 'ERR_INVALID_ARG_TYPE' });
  t.end();
});

t.test('workers: the main module runs again in each worker, which serves on the shared port', async (t) => {
  const child = spawn(process.execPath, [join(root, 'test', 'fixtures', 'fetch-workers.mjs')], { stdio: ['ignore', 'pipe', 'inherit'] });
  const lines: string[] = [];
  child.stdout.on('data', (part: Buffer) => lines.push(...part.toString().trim().split('\n')));
  const [code] = (await once(child, 'exit')) as [number];
  t.equal(code, 0, 'exit 0');
  const outcome = JSON.parse(lines.at(-1) ?? '{}') as { statuses: number[]; servedBy: number[]; echoed: string; mainThread: unknown[]; closed: boolean };
  t.ok(outcome.statuses.length > 0 && outcome.statuses.every((status) => status === 200), 'every request answered');
  t.ok(outcome.servedBy.every((id) => id > 0), 'by worker threads, not the main thread');
  t.match(outcome.echoed, /^[1-9]\d* hello$/, 'a WebSocket upgraded and served by a worker');
  t.same(outcome.mainThread, [false, 0, 0], 'the main thread has no request to upgrade and no sockets');
  t.ok(outcome.closed, 'the signal ended every worker');
});
