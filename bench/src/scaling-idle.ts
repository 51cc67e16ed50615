/**
 * Holds COUNT idle connections to 127.0.0.1:PORT open until SIGTERM, so the
 * server under test has them in its set. `node scaling-idle.js PORT COUNT`;
 * prints "idle N" once every connect has completed.
 */
import { binding, connectTcp, constants, errnoError, openPoller } from 'zepoll';

const CONNECT_WAIT_MS = 10_000;
const [portText = '0', countText = '0'] = process.argv.slice(2);
const count = Number(countText);
const { native: poller, events } = openPoller(1024);
const fds: number[] = [];
for (let index = 0; index < count; index += 1) {
  const fd = connectTcp('127.0.0.1', Number(portText));
  fds.push(fd);
  poller.add(fd, constants.EPOLLOUT, 0);
}
let connected = 0;
const deadline = performance.now() + CONNECT_WAIT_MS;
while (connected < count && performance.now() < deadline) {
  const ready = poller.wait(100);
  for (let index = 0; index < ready; index += 1) {
    const fd = events[index * 3]!;
    const rc = binding.socketError(fd);
    if (rc !== 0) throw errnoError(rc, 'connect', fd);
    poller.remove(fd); // writable stays ready: ask once
    connected += 1;
  }
}
if (connected < count) throw new Error(`only ${connected} of ${count} idle connections completed`);
process.stdout.write(`idle ${count}\n`);
process.once('SIGTERM', () => {
  for (const fd of fds) binding.close(fd);
  poller.close();
  process.exit(0);
});
setInterval(() => {}, 1 << 30);
