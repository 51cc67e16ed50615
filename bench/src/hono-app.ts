/**
 * The Hono app both Hono servers of the bench run, unchanged: GET / →
 * "hello world" (text/plain), GET /json, POST /echo, else Hono's 404. The
 * same routes as the http example, written as a Hono user would.
 */
import { Hono } from 'hono';

export function honoApp(): Hono {
  const app = new Hono();
  app.get('/', (c) => c.text('hello world'));
  app.get('/json', (c) => c.json({ message: 'hello world', server: 'hono' }));
  app.post('/echo', async (c) => c.body(await c.req.arrayBuffer(), 200, { 'Content-Type': c.req.header('content-type') ?? 'application/octet-stream' }));
  return app;
}
