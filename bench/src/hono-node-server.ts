/**
 * The bench's Hono app (hono-app.ts) on @hono/node-server (Node's http):
 * how Hono apps run on Node today, with that adapter's defaults. Prints
 * "port N"; on SIGUSR2 its garbage figures (gc-watch.ts).
 */
import { serve } from '@hono/node-server';
import type { AddressInfo } from 'node:net';
import { honoApp } from './hono-app.js';
import { reportOnSignal } from './gc-watch.js';

const server = serve({ fetch: honoApp().fetch, port: 0, hostname: '127.0.0.1' }, (info: AddressInfo) => {
  process.stdout.write(`port ${info.port}\n`);
});
reportOnSignal(() => null);
process.once('SIGTERM', () => process.exit(0));
