/**
 * An echo server for bench/: `node bench/dist/echo-server.js <kind> [hold]`
 * with kind node (Node's net), lt, et, et-infinity (ET with readQuota
 * Infinity), oneshot or uring (the io_uring backend). Prints "port N" when listening; on SIGUSR2 prints
 * one JSON line of the reactor's counters (system calls by kind, turns) and
 * the firehose figures; exits on SIGTERM.
 *
 * A connection whose first byte is 'F' is a firehose: its bytes are read
 * and dropped. With `hold`, a firehose is paused after its first read and
 * held until SIGUSR1 resumes them all (the fairness scenario queues their
 * bytes in the kernel first, then measures while the server drains them).
 */
import { createServer, type AddressInfo } from 'node:net';
import { Reactor, Server, type ReactorOptions } from 'zepoll';

const KINDS: Record<string, ReactorOptions | 'node'> = {
  node: 'node',
  lt: { mode: 'lt' },
  et: { mode: 'et' },
  'et-infinity': { mode: 'et', readQuota: Infinity },
  'lt-infinity': { mode: 'lt', readQuota: Infinity },
  'oneshot-infinity': { mode: 'oneshot', readQuota: Infinity },
  oneshot: { mode: 'oneshot' },
  uring: { backend: 'io_uring' },
  'uring-infinity': { backend: 'io_uring', readQuota: Infinity },
};

/** The io_uring backend's system calls beside the poller's: io_uring_enter (submissions and reaps). */
function ringSyscalls(ring: { readonly enter: number } | null): Record<string, number> {
  return ring === null ? {} : { ioUringEnter: ring.enter };
}

/** First byte of the fairness firehose's stream ('F'); see fairness-firehose.ts. */
const FIREHOSE_MARK = 0x46;
const kind = process.argv[2] ?? '';
const hold = process.argv[3] === 'hold';

/** Firehose bytes read since SIGUSR1 and when the last of them came (ms after it). */
const firehose = { bytes: 0, lastMs: 0, resumedAt: -1 };
const held: Array<() => void> = [];
function firehoseRead(size: number): void {
  if (firehose.resumedAt < 0) return;
  firehose.bytes += size;
  firehose.lastMs = performance.now() - firehose.resumedAt;
}
process.on('SIGUSR1', () => {
  firehose.resumedAt = performance.now();
  for (const resume of held.splice(0)) resume();
});
const config = KINDS[kind];
if (config === undefined) {
  process.stderr.write(`usage: echo-server ${Object.keys(KINDS).join('|')}\n`);
  process.exit(2);
}

if (config === 'node') {
  const server = createServer({ noDelay: true }, (socket) => {
    let isFirehose: boolean | undefined;
    socket.on('data', (data) => {
      isFirehose ??= data[0] === FIREHOSE_MARK;
      if (!isFirehose) return void socket.write(data);
      firehoseRead(data.length);
      if (hold && firehose.resumedAt < 0) {
        socket.pause();
        held.push(() => socket.resume());
      }
    });
    socket.on('error', () => socket.destroy());
  });
  process.on('SIGUSR2', () => process.stdout.write(`${JSON.stringify({ firehose })}\n`)); // before the port line: see below
  server.listen(0, '127.0.0.1', () => process.stdout.write(`port ${(server.address() as AddressInfo).port}\n`));
  process.once('SIGTERM', () => process.exit(0));
} else {
  const reactor = new Reactor(config);
  const server = new Server(reactor, {
    onData: (connection, data) => {
      // The fairness firehose marks its stream with 'F': its bytes are read
      // and dropped. Echoing them would measure how fast the firehose client
      // reads, and fill this server's write queue until the cap closes it.
      if (connection.context === undefined) connection.context = data[0] === FIREHOSE_MARK;
      if (connection.context !== true) return void connection.write(data);
      firehoseRead(data.length);
      if (hold && firehose.resumedAt < 0) {
        connection.pause();
        held.push(() => connection.resume());
      }
    },
    onError: () => {},
  });
  // The handler is in place before the port is announced: a SIGUSR2 that
  // arrived first would kill the process (its default action).
  process.on('SIGUSR2', () => {
    const stats = reactor.stats;
    process.stdout.write(`${JSON.stringify({ ...stats.syscalls, ...ringSyscalls(stats.ring), turns: stats.turns, events: stats.events, carryRounds: stats.carryRounds, firehose })}\n`);
  });
  process.stdout.write(`port ${server.port}\n`);
  process.once('SIGTERM', () => process.exit(0));
}
