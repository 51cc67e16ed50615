/**
 * The ET debug option: with it, a read turn that leaves bytes in the kernel
 * with nothing carried over is reported (a 'ZepollDebug' warning and
 * stats.debugWarnings). The reactor's own reads never trigger it — echo of
 * large and small payloads stays at zero warnings, which checks the
 * short-read rule — while a read hook that stops early does.
 */
import t from 'tap';
import { randomBytes } from 'node:crypto';
import { Reactor } from '../../packages/reactor/src/reactor.js';
import { coreOf } from '../../packages/reactor/src/core.js';
import { Server } from '../../packages/reactor/src/server.js';
import { connect, roundTrip, sha256 } from '../helpers/net-client.js';
import { trackFds } from '../helpers/fds.js';
import { until } from '../helpers/wait.js';

t.test('ET debug: the reactor’s own reads leave nothing behind', async (t) => {
  const fds = trackFds();
  const warnings: string[] = [];
  const onWarning = (warning: Error): void => void (warning.name === 'ZepollDebug' && warnings.push(warning.message));
  process.on('warning', onWarning);
  const reactor = new Reactor({ mode: 'et', debug: true, readQuota: 16 * 1024 });
  const server = new Server(reactor, { onData: (connection, data) => void connection.write(data) });
  for (const size of [1, 5000, 3 * 1024 * 1024]) {
    const payload = randomBytes(size);
    t.equal(sha256(await roundTrip(server.port, payload)), sha256(payload), `${size} bytes`);
  }
  await Promise.all(Array.from({ length: 20 }, (_, index) => roundTrip(server.port, randomBytes(100 + index))));
  t.equal(reactor.stats.debugWarnings, 0, 'no turn ended with unreported bytes');
  t.same(warnings, []);
  process.off('warning', onWarning);
  await server.close();
  reactor.close();
  fds.assertNone(t);
});

t.test('ET debug: a read hook that stops early is reported', async (t) => {
  const fds = trackFds();
  const warnings: string[] = [];
  const onWarning = (warning: Error): void => void (warning.name === 'ZepollDebug' && warnings.push(warning.message));
  process.on('warning', onWarning);
  const reactor = new Reactor({ mode: 'et', debug: true });
  const scratch = new Uint8Array(4);
  const server = new Server(reactor, {
    onOpen: (connection) => {
      // Reads 4 bytes and returns: no EAGAIN, no carry-over.
      connection.reader.hook = () => void coreOf(reactor).backend.receive(connection.fd, scratch, 0, scratch.length);
    },
  });
  const socket = await connect(server.port);
  socket.write('more than four bytes');
  await until(() => reactor.stats.debugWarnings >= 1, 'the debug warning counted');
  t.ok(reactor.stats.debugWarnings >= 1, 'reported');
  await until(() => warnings.length >= 1, 'the process warning (emitted on a later tick)');
  t.match(warnings[0], /ended its turn with 16 bytes unread and nothing carried over/);
  const levelTriggered = new Reactor({ mode: 'lt', debug: true });
  t.equal(levelTriggered.debug, false, 'LT re-reports by itself: the option is ET-only');
  levelTriggered.close();
  process.off('warning', onWarning);
  socket.destroy();
  await server.close(100);
  reactor.close();
  fds.assertNone(t);
});
