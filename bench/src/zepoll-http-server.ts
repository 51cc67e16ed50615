/**
 * The http example's routes on zepoll, for bench/: `node
 * bench/dist/zepoll-http-server.js <lt|et|et-infinity|oneshot>`. Prints
 * "port N"; on SIGUSR2 prints the reactor's system-call counters as one
 * JSON line; exits on SIGTERM.
 */
import { Reactor, type Mode } from 'zepoll';
import { createHttpServer } from 'zepoll/http';
import { route } from '../../packages/examples/dist/servers/http-routes.js';

const KINDS: Record<string, { mode: Mode; readQuota?: number }> = {
  lt: { mode: 'lt' },
  et: { mode: 'et' },
  'et-infinity': { mode: 'et', readQuota: Infinity },
  oneshot: { mode: 'oneshot' },
};

const config = KINDS[process.argv[2] ?? ''];
if (config === undefined) {
  process.stderr.write(`usage: zepoll-http-server ${Object.keys(KINDS).join('|')}\n`);
  process.exit(2);
}
const reactor = new Reactor(config);
const server = createHttpServer(reactor, route, { backlog: 4096 });
// The handler is in place before the port is announced: a SIGUSR2 that
// arrived first would kill the process (its default action).
process.on('SIGUSR2', () => {
  const stats = reactor.stats;
  process.stdout.write(`${JSON.stringify({ ...stats.syscalls, turns: stats.turns })}\n`);
});
process.stdout.write(`port ${server.port}\n`);
process.once('SIGTERM', () => process.exit(0));
