/**
 * A real Hono app, written as any Hono user writes one and run unchanged on
 * zepoll/fetch: routing, params, JSON, a posted body read whole, a large
 * upload read as a stream, headers and cookies out, a streamed response,
 * Hono's 404, and a route that throws (Hono's own onError answers 500).
 */
import t from 'tap';
import { Hono } from 'hono';
import { setCookie } from 'hono/cookie';
import { stream } from 'hono/streaming';
import { serve } from 'zepoll/fetch';
import { trackFds } from '../helpers/fds.js';

/** A body larger than the connection's read buffer and the HTTP layer's high-water mark: it must stream. */
const UPLOAD_BYTES = 8 * 1024 * 1024;
const STREAM_PARTS = 50;

function app(): Hono {
  const hono = new Hono();
  hono.get('/', (c) => c.text('hello world'));
  hono.get('/users/:id', (c) => c.json({ id: c.req.param('id'), q: c.req.query('q') ?? null, agent: c.req.header('x-agent') ?? null }));
  hono.post('/echo', async (c) => c.body(await c.req.arrayBuffer(), 200, { 'Content-Type': 'application/octet-stream' }));
  hono.post('/count', async (c) => {
    let total = 0;
    const reader = c.req.raw.body!.getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      total += value.byteLength;
    }
    return c.json({ total });
  });
  hono.get('/cookies', (c) => {
    setCookie(c, 'a', '1');
    setCookie(c, 'b', '2');
    c.header('X-Served-By', 'zepoll');
    return c.text('cookies');
  });
  hono.get('/stream', (c) =>
    stream(c, async (out) => {
      for (let part = 0; part < STREAM_PARTS; part += 1) await out.write(`part ${part}\n`);
    }),
  );
  hono.get('/boom', () => {
    throw new Error('boom');
  });
  hono.onError((error, c) => c.text(`handled: ${error.message}`, 500));
  return hono;
}

t.test('a Hono app runs unchanged on zepoll/fetch', async (t) => {
  const fds = trackFds();
  const server = serve({ fetch: app().fetch, port: 0, http: { bodySizeMax: 2 * UPLOAD_BYTES } });
  const base = `http://127.0.0.1:${server.port}`;

  const hello = await fetch(`${base}/`);
  t.equal(hello.status, 200);
  t.equal(hello.headers.get('content-type'), 'text/plain; charset=UTF-8', "@hono/node-server's default for a body without a type");
  t.equal(await hello.text(), 'hello world');

  const user = await fetch(`${base}/users/42?q=x`, { headers: { 'X-Agent': 'tap' } });
  t.same(await user.json(), { id: '42', q: 'x', agent: 'tap' }, 'params, query and headers reach the route');

  const payload = Buffer.alloc(100_000, 7);
  const echoed = await fetch(`${base}/echo`, { method: 'POST', body: payload });
  t.ok(Buffer.from(await echoed.arrayBuffer()).equals(payload), 'a posted body read whole and sent back');

  const upload = await fetch(`${base}/count`, { method: 'POST', body: new Uint8Array(UPLOAD_BYTES), headers: { 'content-type': 'application/octet-stream' } });
  t.same(await upload.json(), { total: UPLOAD_BYTES }, 'a large upload read as a stream');

  const cookies = await fetch(`${base}/cookies`);
  t.same(cookies.headers.getSetCookie(), ['a=1; Path=/', 'b=2; Path=/'], 'two Set-Cookie fields, not one joined');
  t.equal(cookies.headers.get('x-served-by'), 'zepoll');

  const streamed = await fetch(`${base}/stream`);
  t.equal(streamed.headers.get('transfer-encoding'), 'chunked', 'a streamed body is sent chunked');
  const text = await streamed.text();
  t.equal(text.split('\n').filter(Boolean).length, STREAM_PARTS, 'every part arrived');

  const missing = await fetch(`${base}/nope`);
  t.equal(missing.status, 404);
  t.equal(await missing.text(), '404 Not Found', "Hono's own 404");

  const boom = await fetch(`${base}/boom`);
  t.equal(boom.status, 500);
  t.equal(await boom.text(), 'handled: boom', "Hono's onError answers");

  await server.close();
  await fds.assertNoneSettled(t);
});
