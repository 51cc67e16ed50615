/**
 * The scaling experiment's server: one echo loop on one readiness
 * mechanism, the classic way for each. `node scaling-server.js MECHANISM
 * CONNECTIONS SECONDS` with MECHANISM select | poll | epoll-lt | epoll-et.
 * Prints "port N", accepts CONNECTIONS connections, serves them for
 * SECONDS, then probes the idle ones alone, and prints one JSON line:
 * round trips answered, and the probe's median nanoseconds per wait.
 *
 * The probe: the connections that never sent a byte (the idle N), asked
 * again and again with timeout 0 while nothing is ready: the cost of one
 * call over N descriptors and nothing else (no events to copy, no time
 * blocked). The median of the probe's calls is robust to the preemptions a
 * shared machine adds to a mean.
 *
 * select and poll are handed the whole set on every call (that is their
 * cost); epoll keeps the interest list in the kernel.
 */
import { binding, constants, listenTcp, openPoller } from 'zepoll';

const [mechanism = '', connectionsText = '0', secondsText = '0'] = process.argv.slice(2);
const connections = Number(connectionsText);
const seconds = Number(secondsText);
const MESSAGE_SIZE_MAX = 4096;
/**
 * The serving loop spins (timeout 0) on its own core, so the active
 * connections' round trips never wait on a wake-up; the cost per call is
 * measured by the probe below, not here.
 */
const WAIT_TIMEOUT_MS = 0;
const EAGAIN = -11;

const listener = listenTcp({ backlog: 65535 });
process.stdout.write(`port ${listener.port}\n`);

const { native: poller, events } = openPoller(1024);
const fds: number[] = [];
const accepted = new Int32Array(256);
poller.add(listener.fd, constants.EPOLLIN, 0);
while (fds.length < connections) {
  poller.wait(1000);
  const count = poller.accept(listener.fd, accepted);
  for (let index = 0; index < count; index += 1) fds.push(accepted[index]!);
}
poller.remove(listener.fd);

const buffer = new Uint8Array(MESSAGE_SIZE_MAX);
let roundTrips = 0;
/** The load generator closed its connections: the measured run is over. */
let finished = false;
/** fds that sent something: the active ones, left out of the probe. */
const active = new Set<number>();
/** Reads what is there and writes it back (the clients send one message and wait). */
function serve(fd: number): void {
  active.add(fd);
  const got = poller.read(fd, buffer, 0, buffer.length);
  if (got > 0 && poller.write(fd, buffer, 0, got) === got) roundTrips += 1;
  else if (got !== EAGAIN && got <= 0) finished = true;
}

/** The probe's bounds: this many calls, or this long, whichever comes first. */
const PROBE_CALLS_MAX = 20_000;
const PROBE_MS_MAX = 300;
/**
 * Calls are timed in batches of at least this long (ns): a sub-microsecond
 * call timed one by one carries the clock reads' own cost and granularity
 * (runs of epoll's probe sat at 0.47 or 0.73 µs, one or the other).
 */
const PROBE_BATCH_NS_MIN = 20_000;
/** Calls `wait` (which must find nothing ready) repeatedly; the median ns of one call over batches. */
function probe(wait: () => number): { medianNs: number; calls: number; nonEmpty: number } {
  let nonEmpty = 0;
  const once = (): number => {
    const start = performance.now();
    if (wait() !== 0) nonEmpty += 1;
    return (performance.now() - start) * 1e6;
  };
  const batch = Math.max(1, Math.ceil(PROBE_BATCH_NS_MIN / Math.max(1, once())));
  const samples: number[] = [];
  const end = performance.now() + PROBE_MS_MAX;
  let calls = 1;
  while (calls + batch <= PROBE_CALLS_MAX && performance.now() < end) {
    const start = performance.now();
    for (let index = 0; index < batch; index += 1) if (wait() !== 0) nonEmpty += 1;
    samples.push(((performance.now() - start) * 1e6) / batch);
    calls += batch;
  }
  samples.sort((a, b) => a - b);
  return { medianNs: samples.length === 0 ? Number.NaN : samples[samples.length >> 1]!, calls, nonEmpty };
}

const deadline = performance.now() + seconds * 1000;
let probed = { medianNs: Number.NaN, calls: 0, nonEmpty: 0 };
if (mechanism === 'select') {
  const set = Int32Array.from(fds);
  const ready = new Int32Array(fds.length);
  while (performance.now() < deadline && !finished) {
    const count = binding.select(set, set.length, ready, WAIT_TIMEOUT_MS);
    for (let index = 0; index < count; index += 1) serve(ready[index]!);
  }
  const idleSet = Int32Array.from(fds.filter((fd) => !active.has(fd)));
  probed = probe(() => binding.select(idleSet, idleSet.length, ready, 0));
} else if (mechanism === 'poll') {
  const pollfds = new Int32Array(fds.length * 2);
  fds.forEach((fd, index) => {
    pollfds[index * 2] = fd;
    pollfds[index * 2 + 1] = constants.POLLIN;
  });
  while (performance.now() < deadline && !finished) {
    let count = binding.poll(pollfds, fds.length, WAIT_TIMEOUT_MS);
    // poll answers in place: walk the whole array for revents, as poll servers must.
    for (let index = 0; index < fds.length && count > 0; index += 1) {
      const word = pollfds[index * 2 + 1]!;
      if (word >>> 16 === 0) continue;
      count -= 1;
      pollfds[index * 2 + 1] = constants.POLLIN; // clear revents for the next call
      serve(pollfds[index * 2]!);
    }
  }
  const idleFds = fds.filter((fd) => !active.has(fd));
  const idlePollfds = new Int32Array(idleFds.length * 2);
  idleFds.forEach((fd, index) => {
    idlePollfds[index * 2] = fd;
    idlePollfds[index * 2 + 1] = constants.POLLIN;
  });
  probed = probe(() => binding.poll(idlePollfds, idleFds.length, 0));
} else if (mechanism === 'epoll-lt' || mechanism === 'epoll-et') {
  const interest = mechanism === 'epoll-et' ? (constants.EPOLLIN | constants.EPOLLET) >>> 0 : constants.EPOLLIN;
  for (const fd of fds) poller.add(fd, interest, 0);
  while (performance.now() < deadline && !finished) {
    const count = poller.wait(WAIT_TIMEOUT_MS);
    for (let index = 0; index < count; index += 1) serve(events[index * 3]!);
  }
  for (const fd of active) poller.remove(fd); // the idle N stay registered
  probed = probe(() => poller.wait(0));
} else {
  process.stderr.write('usage: scaling-server select|poll|epoll-lt|epoll-et CONNECTIONS SECONDS\n');
  process.exit(2);
}

process.stdout.write(`${JSON.stringify({ roundTrips, probeMedianNs: probed.medianNs, probeCalls: probed.calls, probeNonEmpty: probed.nonEmpty })}\n`);
for (const fd of fds) binding.close(fd);
poller.close();
binding.close(listener.fd);
