/**
 * Multi-core: startWorkers runs reactors in worker threads sharing one port
 * through SO_REUSEPORT, pinned to CPUs when asked. Both workers accept
 * connections, every echo is exact, the group closes cleanly.
 */
import t from 'tap';
import { availableParallelism } from 'node:os';
import { startWorkers, workerSetup } from '../../packages/reactor/src/workers.js';
import { roundTrip } from '../helpers/net-client.js';
import { FIXTURES } from '../helpers/child.js';
import { openFdCount } from '../helpers/fds.js';

const CONNECTIONS_MAX = 400;
/** A worker transpiles its TypeScript entry under the test loader: slow on a busy machine. A bound, not a target. */
const READY_TIMEOUT_MS = 60_000;

t.test('two reactors in worker threads share a port and both accept', async (t) => {
  const before = openFdCount();
  const group = await startWorkers({ entry: new URL(`file://${FIXTURES}echo-worker.ts`), count: 2, pin: true, readyTimeoutMs: READY_TIMEOUT_MS });
  t.ok(group.port > 0);
  const accepted = (): Promise<number[]> => group.stats().then((all) => (all as Array<{ accepted: number }>).map((one) => one.accepted));
  let sent = 0;
  // SO_REUSEPORT hashes each connection to a listener: keep connecting until both took some.
  while (sent < CONNECTIONS_MAX) {
    const batch = Array.from({ length: 20 }, (_, index) => Buffer.from(`message ${sent + index}`));
    const back = await Promise.all(batch.map((payload) => roundTrip(group.port, payload)));
    t.same(back.map(String), batch.map(String), `${batch.length} echoes exact`);
    sent += batch.length;
    if ((await accepted()).every((count) => count > 0)) break;
  }
  const counts = await accepted();
  t.ok(counts.every((count) => count > 0), `both workers accepted: ${counts.join(' + ')} of ${sent}`);
  const stats = (await group.stats()) as Array<{ index: number; cpu: number | null; port: number }>;
  t.same(stats.map((one) => one.port), [group.port, group.port], 'one port');
  t.same(stats.map((one) => one.cpu), [0, 1 % availableParallelism()], 'pinned to CPUs 0 and 1');
  await group.close();
  t.equal(openFdCount(), before, 'no fd left by the workers');
});

t.test('misuse: workerSetup outside a worker, a bad count, a worker that dies before ready', async (t) => {
  t.throws(() => workerSetup(), { code: 'ERR_INVALID_ARG_VALUE' });
  await t.rejects(startWorkers({ entry: new URL(`file://${FIXTURES}echo-worker.ts`), count: 0 }), { code: 'ERR_OUT_OF_RANGE' });
  await t.rejects(startWorkers({ entry: new URL('data:text/javascript,process.exit(3)'), count: 1 }), /exited with code 3/);
  await t.rejects(startWorkers({ entry: new URL('data:text/javascript,setTimeout(() => {}, 1000)'), count: 1, readyTimeoutMs: 50 }), { code: 'ERR_OUT_OF_RANGE' });
  await t.rejects(startWorkers({ entry: new URL('data:text/javascript,throw new Error("bad worker")'), count: 1 }), /bad worker/);
});

t.test("a worker's onClose that throws or rejects lands in group.errors; the main process goes on", async (t) => {
  const before = openFdCount();
  const group = await startWorkers({ entry: new URL(`file://${FIXTURES}failing-close-worker.ts`), count: 2, readyTimeoutMs: READY_TIMEOUT_MS });
  await group.close();
  const messages = group.errors.map((error) => `${(error as { code?: string }).code}: ${/onClose (threw|rejected)/.exec(error.message)?.[0]}`).sort();
  t.same(messages, ['ERR_ZEPOLL_HANDLER: onClose rejected', 'ERR_ZEPOLL_HANDLER: onClose threw']);
  t.equal(openFdCount(), before, 'no fd left by the workers');
});
