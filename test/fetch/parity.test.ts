/**
 * zepoll/fetch's @hono/node-server parity (issue 23), case by case where
 * the differential test (node-server-differential.test.ts) cannot reach:
 * a platform Response's stream gathered or sent at once (first byte as an
 * event), a parent Response read at construction and given Headers kept
 * live, the dual-stack default address (IPv4 and IPv6 clients) and its
 * IPv4 fallback, the backend option and stats, statusText on the wire,
 * the global Response put back only when it is still ours, and URLs the
 * parser refuses.
 */
import t from 'tap';
import { connect } from 'node:net';
import { once } from 'node:events';
import { serve } from 'zepoll/fetch';
import { listenDualStack } from '../../packages/reactor/dist/fetch/dual-stack.js';
import { ioUringSupport } from '../../packages/reactor/dist/backend/io-uring-support.js';
import { rawExchange } from '../helpers/raw-http.js';
import { trackFds } from '../helpers/fds.js';

const PlatformResponse = globalThis.Response;
const encoder = new TextEncoder();

/** A gate a stream waits on; open() lets it go on. */
function gate(): { promise: Promise<void>; open: () => void } {
  let open!: () => void; // set by the executor, which runs at once
  const promise = new Promise<void>((resolve) => (open = resolve));
  return { promise, open };
}

const field = (headers: ReadonlyArray<readonly [string, string]>, name: string): string | undefined => headers.find(([key]) => key === name)?.[1];

t.test("a platform Response's stream: gathered when it ends at once, else the head and what is ready go now", async (t) => {
  const fds = trackFds();
  const gates = { late: gate(), nothing: gate(), chunked: gate() };
  const server = serve({
    port: 0,
    host: '127.0.0.1',
    overrideGlobalObjects: false,
    fetch: (request) => {
      const path = new URL(request.url).pathname;
      const stream = (parts: readonly string[], wait: Promise<void> | null, waitAt: number): ReadableStream<Uint8Array> => {
        let step = 0;
        return new ReadableStream<Uint8Array>({
          async pull(controller) {
            if (step === waitAt && wait !== null) await wait;
            if (step === parts.length) controller.close();
            else controller.enqueue(encoder.encode(parts[step]!));
            step += 1;
          },
        });
      };
      if (path === '/one') return new PlatformResponse(stream(['only'], null, 0));
      if (path === '/three') return new PlatformResponse(new ReadableStream({ start(controller) { for (const part of ['a', 'bb', 'ccc']) controller.enqueue(encoder.encode(part)); controller.close(); } }));
      if (path === '/end-soon') {
        let step = 0;
        return new PlatformResponse(new ReadableStream<Uint8Array>({
          async pull(controller) {
            step += 1;
            if (step === 1) return controller.enqueue(encoder.encode('soon'));
            for (let turn = 0; turn < 8; turn += 1) await Promise.resolve(); // later than the first look, before a timer turn
            controller.close();
          },
        }));
      }
      if (path === '/late') return new PlatformResponse(stream(['first', 'second'], gates.late.promise, 1));
      if (path === '/nothing') return new PlatformResponse(stream(['later'], gates.nothing.promise, 0));
      return new PlatformResponse(stream(['x', 'y'], gates.chunked.promise, 1), { headers: { 'transfer-encoding': 'chunked' } });
    },
  });
  const one = await rawExchange(server.port, 'GET /one HTTP/1.1\r\nHost: a\r\n\r\n');
  t.equal(one.responses[0]!.framing, 'length', 'one chunk then the end, at once: sent whole');
  t.equal(field(one.responses[0]!.headers, 'content-length'), '4');
  t.equal(field(one.responses[0]!.headers, 'content-type'), 'text/plain; charset=UTF-8', "node-server's type for a body without one");
  const three = await rawExchange(server.port, 'GET /three HTTP/1.1\r\nHost: a\r\n\r\n');
  t.equal(three.responses[0]!.framing, 'chunked', 'more than one chunk ready: streamed, as node-server (it looks at two reads)');
  t.equal(three.responses[0]!.body.toString(), 'abbccc');
  const soon = await rawExchange(server.port, 'GET /end-soon HTTP/1.1\r\nHost: a\r\n\r\n');
  t.equal(field(soon.responses[0]!.headers, 'content-length'), '4', 'a chunk, then the end within a timer turn: sent whole');
  for (const [path, open, first] of [['/late', gates.late.open, 'first'], ['/nothing', gates.nothing.open, 'later'], ['/te', gates.chunked.open, 'x']] as const) {
    let headBeforeGate = false;
    const socket = connect(server.port, '127.0.0.1');
    await once(socket, 'connect');
    socket.write(`GET ${path} HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n`);
    let text = '';
    for await (const part of socket) {
      text += (part as Buffer).toString('latin1');
      if (!headBeforeGate && text.includes('\r\n\r\n') && (path === '/nothing' || text.includes(path === '/late' ? 'first' : 'x\r\n'))) {
        headBeforeGate = true; // the producer is still waiting: this came before its next part
        open();
      }
    }
    t.ok(headBeforeGate, `${path}: the head (and what was ready) before the producer went on`);
    t.match(text, /transfer-encoding: chunked/i, `${path}: chunked`);
    t.match(text, new RegExp(first), `${path}: the body arrived`);
  }
  await server.close();
  await fds.assertNoneSettled(t);
});

t.test('a client that leaves mid-stream cancels the producer', async (t) => {
  const cancelled = gate();
  const server = serve({
    port: 0,
    host: '127.0.0.1',
    fetch: () => {
      let step = 0;
      return new Response(
        new ReadableStream<Uint8Array>({
          async pull(controller) {
            step += 1;
            if (step === 1) return controller.enqueue(encoder.encode('first'));
            await new Promise<void>((resolve) => setImmediate(resolve)); // a producer that goes on until told to stop
            controller.enqueue(encoder.encode('more'));
          },
          cancel() {
            cancelled.open();
          },
        }),
      );
    },
  });
  const socket = connect(server.port, '127.0.0.1');
  await once(socket, 'connect');
  socket.write('GET / HTTP/1.1\r\nHost: a\r\n\r\n');
  await once(socket, 'data');
  socket.destroy();
  await cancelled.promise;
  t.pass('the stream was cancelled');
  await server.close();
});

t.test('a parent Response is read at construction; given Headers stay live until sent', async (t) => {
  const server = serve({
    port: 0,
    host: '127.0.0.1',
    fetch: async (request) => {
      const path = new URL(request.url).pathname;
      if (path === '/child') {
        const parent = new Response('parent', { status: 202, statusText: 'Parent Text', headers: { 'x-parent': '1' } });
        const child = new Response('child', parent);
        parent.headers.set('x-late', 'leaked');
        return child;
      }
      const headers = new Headers({ 'x-early': '1' });
      const response = new Response(new ReadableStream({ start(controller) { controller.enqueue(encoder.encode('live')); controller.close(); } }), { headers });
      headers.set('x-after', 'set after the Response was made'); // as serveStatic's onFound does
      return response;
    },
  });
  const child = (await rawExchange(server.port, 'GET /child HTTP/1.1\r\nHost: a\r\n\r\n')).responses[0]!;
  t.equal(child.status, 202);
  t.equal(child.reason, 'Parent Text', "the parent's statusText");
  t.equal(field(child.headers, 'x-parent'), '1');
  t.equal(field(child.headers, 'x-late'), undefined, 'a change to the parent after the child was made does not leak in');
  const live = (await rawExchange(server.port, 'GET /live HTTP/1.1\r\nHost: a\r\n\r\n')).responses[0]!;
  t.equal(field(live.headers, 'x-after'), 'set after the Response was made');
  t.equal(live.body.toString(), 'live');
  const platformParent = new PlatformResponse('p', { status: 201, statusText: 'Made', headers: { 'x-p': '1' } });
  const fromPlatform = new Response(null, platformParent);
  t.equal(fromPlatform.status, 201);
  t.equal(fromPlatform.statusText, 'Made', "a platform parent's statusText");
  t.equal(fromPlatform.headers.get('x-p'), '1');
  t.throws(() => new Response('x', { statusText: 'bad\r\n' }), TypeError, 'a bad statusText throws as the platform does');
  const builtParent = new Response('built', { statusText: 'Built' });
  await builtParent.text(); // builds its platform Response
  t.equal(new Response(null, builtParent).statusText, 'Built', "a light parent's statusText once its platform Response exists");
  await server.close();
});

t.test("serve() listens on :: by default: IPv4 and IPv6 clients; the backend option; stats", async (t) => {
  const server = serve({ port: 0, backend: 'epoll', fetch: () => new Response('both') });
  t.equal(server.host, '::', 'the dual-stack default');
  for (const address of ['127.0.0.1', '::1']) {
    const answer = await fetch(`http://${address.includes(':') ? `[${address}]` : address}:${server.port}/`);
    t.equal(await answer.text(), 'both', `a client on ${address}`);
  }
  t.equal(server.stats?.backend, 'epoll');
  t.ok((server.stats?.connectionsTotal ?? 0) >= 2, 'the reactor counted the connections');
  await server.close();
  if (ioUringSupport().available) {
    const uring = serve({ port: 0, host: '127.0.0.1', backend: 'io_uring', fetch: () => new Response('ring') });
    t.equal(await (await fetch(`http://127.0.0.1:${uring.port}/`)).text(), 'ring');
    t.equal(uring.stats?.backend, 'io_uring');
    await uring.close();
  }
  t.throws(() => serve({ port: 0, backend: 'kqueue' as 'epoll', fetch: () => new Response('') }), { code: 'ERR_INVALID_ARG_VALUE' }, 'a bad backend throws before anything listens');
});

t.test('a port in use: serve() throws and leaves nothing open; a handler that returns no Response is a 500', async (t) => {
  const fds = trackFds();
  const taken = serve({ port: 0, host: '127.0.0.1', fetch: () => new Response('') });
  t.throws(() => serve({ port: taken.port, host: '127.0.0.1', fetch: () => new Response('') }), { code: 'EADDRINUSE' });
  await taken.close();
  const errors: string[] = [];
  const server = serve({
    port: 0,
    host: '127.0.0.1',
    onError: (error) => errors.push((error as { code?: string }).code ?? 'none'),
    fetch: (request) => {
      const path = new URL(request.url).pathname;
      if (path === '/text') return 'text' as unknown as Response;
      // A ponyfill's Headers: not the platform class, but pairs to iterate (a Map here), Set-Cookie kept apart.
      if (path === '/pairs') return { status: 203, headers: new Map([['x-pony', 'yes'], ['set-cookie', 'a=1']]), body: null } as unknown as Response;
      return { status: 200 } as unknown as Response;
    },
  });
  const pairs = (await rawExchange(server.port, 'GET /pairs HTTP/1.1\r\nHost: a\r\n\r\n')).responses[0]!;
  t.equal(pairs.status, 203);
  t.equal(field(pairs.headers, 'x-pony'), 'yes');
  t.equal(field(pairs.headers, 'set-cookie'), 'a=1');
  t.equal((await rawExchange(server.port, 'GET /text HTTP/1.1\r\nHost: a\r\n\r\n')).responses[0]!.status, 500);
  t.equal((await rawExchange(server.port, 'GET /shape HTTP/1.1\r\nHost: a\r\n\r\n')).responses[0]!.status, 500, 'a status without headers or body is not a Response');
  t.same(errors, ['ERR_INVALID_RETURN_VALUE', 'ERR_INVALID_RETURN_VALUE']);
  await server.close();
  await fds.assertNoneSettled(t);
});

t.test('the dual-stack default falls back to 0.0.0.0 where the kernel has no IPv6, and nowhere else', (t) => {
  const asked: string[] = [];
  const noIpv6 = listenDualStack(undefined, (host) => {
    asked.push(host);
    if (host === '::') throw Object.assign(new Error('socket EAFNOSUPPORT'), { code: 'EAFNOSUPPORT' });
    return 'listening';
  });
  t.same(noIpv6, { value: 'listening', host: '0.0.0.0' });
  t.same(asked, ['::', '0.0.0.0']);
  t.throws(() => listenDualStack(undefined, () => { throw Object.assign(new Error('listen EADDRINUSE'), { code: 'EADDRINUSE' }); }), { code: 'EADDRINUSE' }, 'a taken port is thrown as it came');
  t.throws(() => listenDualStack(undefined, () => { throw new Error('no code'); }), /no code/);
  t.same(listenDualStack('127.0.0.1', (host) => host), { value: '127.0.0.1', host: '127.0.0.1' }, 'an asked address is used as it is');
  t.end();
});

t.test('statusText on the wire; URLs the parser refuses; the global left alone when replaced meanwhile', async (t) => {
  const server = serve({
    port: 0,
    host: '127.0.0.1',
    fetch: (request) => {
      const path = new URL(request.url).pathname;
      if (path === '/platform') return new PlatformResponse('p', { status: 200, statusText: 'Platform Text' });
      return new Response('light', { status: 201, statusText: 'Light Text' });
    },
  });
  t.equal((await rawExchange(server.port, 'GET /light HTTP/1.1\r\nHost: a\r\n\r\n')).responses[0]!.reason, 'Light Text');
  t.equal((await rawExchange(server.port, 'GET /platform HTTP/1.1\r\nHost: a\r\n\r\n')).responses[0]!.reason, 'Platform Text');
  const absolute = await rawExchange(server.port, 'GET http://a:65536/ HTTP/1.1\r\nHost: a:65536\r\n\r\n');
  t.equal(absolute.responses[0]!.status, 400, 'an absolute-form target with a port past 65535');
  const withBody = await rawExchange(server.port, 'POST / HTTP/1.1\r\nHost: a:99999\r\nContent-Length: 3\r\n\r\nabc');
  t.equal(withBody.responses[0]!.status, 400);
  t.equal(field(withBody.responses[0]!.headers, 'connection'), 'close', 'a refused request with a body closes its connection');
  const empty = await rawExchange(server.port, 'GET /light HTTP/1.1\r\nHost: \r\n\r\n');
  t.equal(empty.responses[0]!.status, 201, 'an empty Host on a server given its host: that address');
  class Other extends PlatformResponse {}
  globalThis.Response = Other;
  await server.close();
  t.equal(globalThis.Response, Other, 'a global someone else installed meanwhile is left alone');
  globalThis.Response = PlatformResponse;
  const first = serve({ port: 0, host: '127.0.0.1', fetch: () => new Response('') });
  const second = serve({ port: 0, host: '127.0.0.1', fetch: () => new Response('') });
  await first.close();
  t.not(globalThis.Response, PlatformResponse, 'still installed while a server that installed it runs');
  await second.close();
  t.equal(globalThis.Response, PlatformResponse, 'put back when the last one closes');
  const bare = serve({ port: 0, fetch: () => new Response('never') });
  const noHost = await rawExchange(bare.port, 'GET / HTTP/1.1\r\nHost: \r\n\r\n');
  t.equal(noHost.responses[0]!.status, 400, 'an empty Host without a host option: 400, as node-server without hostname');
  await bare.close();
  globalThis.Response = PlatformResponse;
});
