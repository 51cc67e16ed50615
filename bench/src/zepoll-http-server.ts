/**
 * The http example's routes on zepoll, for bench/: `node
 * bench/dist/zepoll-http-server.js <lt|et|et-infinity|oneshot|uring>`. Prints
 * "port N"; on SIGUSR2 prints the reactor's system-call counters and its
 * garbage figures as one JSON line (gc-watch.ts); exits on SIGTERM.
 */
import { Reactor, type ReactorOptions } from 'zepoll';
import { createHttpServer } from 'zepoll/http';
import { route } from '../../packages/examples/dist/servers/http-routes.js';
import { reportOnSignal } from './gc-watch.js';

const KINDS: Record<string, ReactorOptions> = {
  lt: { mode: 'lt' },
  et: { mode: 'et' },
  'et-infinity': { mode: 'et', readQuota: Infinity },
  oneshot: { mode: 'oneshot' },
  uring: { backend: 'io_uring' },
};

const config = KINDS[process.argv[2] ?? ''];
if (config === undefined) {
  process.stderr.write(`usage: zepoll-http-server ${Object.keys(KINDS).join('|')}\n`);
  process.exit(2);
}
const reactor = new Reactor(config);
const server = createHttpServer(reactor, route, { backlog: 4096 });
reportOnSignal(() => {
  const stats = reactor.stats;
  return { ...stats.syscalls, ...(stats.ring === null ? {} : { ioUringEnter: stats.ring.enter }), turns: stats.turns };
});
process.stdout.write(`port ${server.port}\n`);
process.once('SIGTERM', () => process.exit(0));
