/**
 * The bench's Hono app (hono-app.ts) on zepoll/fetch. Prints "port N"; on
 * SIGUSR2 its reactor-less garbage figures (gc-watch.ts).
 */
import { serve } from 'zepoll/fetch';
import { honoApp } from './hono-app.js';
import { reportOnSignal } from './gc-watch.js';

const server = serve({ fetch: honoApp().fetch, port: 0 });
reportOnSignal(() => null);
process.stdout.write(`port ${server.port}\n`);
process.once('SIGTERM', () => process.exit(0));
