/**
 * Fault soak: the echo, HTTP and proxy paths under random injected system-
 * call faults (native/sys/faults.zig), in a child process started with
 * ZEPOLL_FAULT_INJECTION=1, LT and ET, for a bounded time. Checked: no
 * crash; no byte lost or reordered on a connection that survives (every
 * echo whole, every early close a prefix); every server-side error coded;
 * opened = closed, no queued bytes, no fd leaked (the process's and
 * zepoll's owned count); each enabled fault kind injected (the child runs
 * past its 2.5 s until every kind fired once, 30 s at most, so a busy
 * machine still sees every fault). The seed is printed: ZEPOLL_FAULT_SEED
 * replays a run.
 */
import t from 'tap';
import { runFixture } from '../helpers/child.js';

const SOAK_MS = 2500;
const seed = Number(process.env['ZEPOLL_FAULT_SEED'] ?? Date.now() % 1_000_000);

interface SoakReport {
  readonly faults: Record<string, number>;
  readonly outcome: Record<string, number>;
  readonly serverErrors: Record<string, number>;
  readonly stats: { connectionsTotal: number; connectionsClosed: number; connectionsOpen: number; queuedBytes: number; acceptBackoffs: number };
  readonly servers: Record<string, { acceptErrors: number; acceptBackoffs: number }>;
  readonly fds: { before: number; after: number; ownedBefore: number; ownedAfter: number };
}

for (const mode of ['lt', 'et'] as const) {
  t.test(`${mode}: echo, HTTP and proxy under injected faults (seed ${seed})`, async (t) => {
    const previous = process.env['ZEPOLL_FAULT_INJECTION'];
    process.env['ZEPOLL_FAULT_INJECTION'] = '1';
    let result;
    try {
      result = await runFixture('fault-soak.mjs', { args: [mode, String(seed), String(SOAK_MS)], timeoutMs: 90_000 });
    } finally {
      if (previous === undefined) delete process.env['ZEPOLL_FAULT_INJECTION'];
      else process.env['ZEPOLL_FAULT_INJECTION'] = previous;
    }
    t.equal(result.signal, null, 'no crash');
    t.equal(result.code, 0, `exit 0 ${result.stderr.slice(-2000)}`);
    const report = JSON.parse(result.stdout) as SoakReport;
    t.comment(JSON.stringify(report));
    const { faults, outcome, serverErrors, stats, fds, servers } = report;
    const expected = ['read_error', 'write_error', 'accept_error', 'ctl_error', 'splice_error', ...(mode === 'lt' ? ['short_read', 'short_write'] : [])];
    for (const kind of expected) t.ok(faults[kind]! > 0, `${kind}: ${faults[kind]} injected`);
    if (mode === 'et') t.same([faults['short_read'], faults['short_write']], [0, 0], 'no short reads or writes in ET (they would stall a socket the kernel still reports as drained)');
    t.equal(outcome['corrupt'], 0, 'no lost or reordered byte: every echo whole, every early close a prefix, every HTTP body hashed right');
    t.ok(outcome['survived']! > 50, `${outcome['survived']} echo connections survived, ${outcome['bytesVerified']} bytes verified`);
    t.ok(outcome['closedEarly']! > 0, `${outcome['closedEarly']} closed by a fault, as they should`);
    t.equal(outcome['clientTimeouts'], 0, 'no client left hanging');
    t.ok(outcome['httpOk']! > 0, `${outcome['httpOk']} HTTP requests answered right`);
    t.same(Object.keys(serverErrors).filter((code) => !/^(E[A-Z]+|ERR_[A-Z_]+)$/.test(code)), [], `every server-side error coded: ${JSON.stringify(serverErrors)}`);
    // The books balance: each injected I/O error costs at most one connection (EINTR none: it is retried),
    // each injected accept error at most one skipped accept or one back-off.
    const connectionErrors = Object.values(serverErrors).reduce((sum, count) => sum + count, 0);
    const ioFaults = faults['read_error']! + faults['write_error']! + faults['splice_error']! + faults['ctl_error']! + faults['sendfile_error']!;
    t.ok(connectionErrors > 0 && connectionErrors <= ioFaults, `${connectionErrors} connections closed on an error, for ${ioFaults} injected I/O faults`);
    const acceptOutcomes = Object.values(servers).reduce((sum, server) => sum + server.acceptErrors + server.acceptBackoffs, 0);
    t.ok(acceptOutcomes > 0 && acceptOutcomes <= faults['accept_error']!, `${acceptOutcomes} accept errors and back-offs counted, for ${faults['accept_error']} injected`);
    t.equal(stats.connectionsTotal, stats.connectionsClosed, `opened = closed (${stats.connectionsTotal})`);
    t.equal(stats.connectionsOpen, 0);
    t.equal(stats.queuedBytes, 0, 'no bytes left queued');
    t.equal(fds.after, fds.before, `no fd leaked (${fds.before} before and after)`);
    t.equal(fds.ownedAfter, fds.ownedBefore, 'zepoll owns nothing more than before');
  });
}

t.test("setFaults checks its arguments where it is allowed", async (t) => {
  const previous = process.env['ZEPOLL_FAULT_INJECTION'];
  process.env['ZEPOLL_FAULT_INJECTION'] = '1';
  try {
    const result = await runFixture('faults-arguments.mjs');
    t.same(JSON.parse(result.stdout), ['RangeError ERR_OUT_OF_RANGE', 'RangeError ERR_OUT_OF_RANGE', 'RangeError ERR_OUT_OF_RANGE', 'ok']);
  } finally {
    if (previous === undefined) delete process.env['ZEPOLL_FAULT_INJECTION'];
    else process.env['ZEPOLL_FAULT_INJECTION'] = previous;
  }
});
