/**
 * The scaling experiment's server: one echo loop on one readiness
 * mechanism, the classic way for each. `node scaling-server.js MECHANISM
 * CONNECTIONS SECONDS` with MECHANISM select | poll | epoll-lt | epoll-et.
 * Prints "port N", accepts CONNECTIONS connections, serves them for
 * SECONDS, then prints one JSON line: waits, nanoseconds spent in the wait
 * calls, round trips answered.
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
 * Every wait is made with timeout 0 (the loop spins on its own core): the
 * time measured is then what the call itself costs for N descriptors, not
 * time spent blocked until the client's next message.
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
/** Reads what is there and writes it back (the clients send one message and wait). */
function serve(fd: number): void {
  const got = poller.read(fd, buffer, 0, buffer.length);
  if (got > 0 && poller.write(fd, buffer, 0, got) === got) roundTrips += 1;
  else if (got !== EAGAIN && got <= 0) finished = true;
}

let waits = 0;
let waitNs = 0n;
const deadline = performance.now() + seconds * 1000;

if (mechanism === 'select') {
  const set = Int32Array.from(fds);
  const ready = new Int32Array(fds.length);
  while (performance.now() < deadline && !finished) {
    const start = process.hrtime.bigint();
    const count = binding.select(set, set.length, ready, WAIT_TIMEOUT_MS);
    waitNs += process.hrtime.bigint() - start;
    waits += 1;
    for (let index = 0; index < count; index += 1) serve(ready[index]!);
  }
} else if (mechanism === 'poll') {
  const pollfds = new Int32Array(fds.length * 2);
  fds.forEach((fd, index) => {
    pollfds[index * 2] = fd;
    pollfds[index * 2 + 1] = constants.POLLIN;
  });
  while (performance.now() < deadline && !finished) {
    const start = process.hrtime.bigint();
    let count = binding.poll(pollfds, fds.length, WAIT_TIMEOUT_MS);
    waitNs += process.hrtime.bigint() - start;
    waits += 1;
    // poll answers in place: walk the whole array for revents, as poll servers must.
    for (let index = 0; index < fds.length && count > 0; index += 1) {
      const word = pollfds[index * 2 + 1]!;
      if (word >>> 16 === 0) continue;
      count -= 1;
      pollfds[index * 2 + 1] = constants.POLLIN; // clear revents for the next call
      serve(pollfds[index * 2]!);
    }
  }
} else if (mechanism === 'epoll-lt' || mechanism === 'epoll-et') {
  const interest = mechanism === 'epoll-et' ? (constants.EPOLLIN | constants.EPOLLET) >>> 0 : constants.EPOLLIN;
  for (const fd of fds) poller.add(fd, interest, 0);
  while (performance.now() < deadline && !finished) {
    const start = process.hrtime.bigint();
    const count = poller.wait(WAIT_TIMEOUT_MS);
    waitNs += process.hrtime.bigint() - start;
    waits += 1;
    for (let index = 0; index < count; index += 1) serve(events[index * 3]!);
  }
} else {
  process.stderr.write('usage: scaling-server select|poll|epoll-lt|epoll-et CONNECTIONS SECONDS\n');
  process.exit(2);
}

process.stdout.write(`${JSON.stringify({ waits, waitNs: Number(waitNs), roundTrips })}\n`);
for (const fd of fds) binding.close(fd);
poller.close();
binding.close(listener.fd);
