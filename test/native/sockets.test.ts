/**
 * TCP and socket calls: listen (IPv4, IPv6, port 0, SO_REUSEPORT, address
 * in use), non-blocking connect and SO_ERROR (success and refusal), accept
 * in batches, read/write/writev, shutdown, options, addresses; the
 * comparison helpers poll, select (and its FD_SETSIZE refusal) and
 * setAffinity (in a worker, so the runner is not pinned).
 */
import t from 'tap';
import { Worker } from 'node:worker_threads';
import { binding, constants } from '../../packages/reactor/src/native.js';
import { PollerCounters, openPoller } from '../../packages/reactor/src/backend/poller.js';
import { connectTcp, listenTcp, resolveHost, setNoDelay, socketPair } from '../../packages/reactor/src/backend/sockets.js';
import { decodeAddress, formatIpv6, localAddress, peerAddress } from '../../packages/reactor/src/backend/address.js';
import { FIXTURES } from '../helpers/child.js';
import { trackFds } from '../helpers/fds.js';
import { readyEvents } from '../helpers/events.js';

const EAGAIN = -11;
const WAIT_MS = 2000;
const ipv6Available = binding.listen('::1', 0, 1, false) >= 0 ? ((fd: number) => (binding.close(fd), true)) : () => false;

/** Connects a client to `port` and accepts it; returns [client, server]. */
function connectedPair(port: number, listenFd: number, host = '127.0.0.1'): [number, number] {
  const { native: poller } = openPoller(2);
  const client = connectTcp(host, port);
  poller.add(listenFd, constants.EPOLLIN, 0);
  poller.wait(WAIT_MS);
  const accepted = new Int32Array(4);
  const count = poller.accept(listenFd, accepted);
  poller.close();
  if (count !== 1) throw new Error(`accept returned ${count}`);
  return [client, accepted[0]!];
}

t.test('listen on 127.0.0.1 port 0, connect, accept, exchange, shut down', (t) => {
  const fds = trackFds();
  const listener = listenTcp();
  t.equal(listener.host, '127.0.0.1', 'loopback by default');
  t.ok(listener.port > 0, 'a real port');
  t.same(localAddress(listener.fd), { family: 'IPv4', address: '127.0.0.1', port: listener.port });
  const { native: poller, events } = openPoller(8);
  const client = connectTcp('localhost', listener.port);
  t.equal(poller.add(client, constants.EPOLLOUT, 1), 0);
  t.equal(poller.wait(WAIT_MS), 1);
  t.equal(readyEvents(events, 1)[0]!.flags & constants.EPOLLOUT, constants.EPOLLOUT, 'writable once connected');
  t.equal(binding.socketError(client), 0, 'SO_ERROR: connected');
  const accepted = new Int32Array(8);
  t.equal(poller.accept(listener.fd, accepted), 1, 'one connection in the batch');
  t.equal(poller.accept(listener.fd, accepted), EAGAIN, 'backlog drained: EAGAIN as a value');
  const server = accepted[0]!;
  t.equal(peerAddress(server).port, localAddress(client).port, 'peer of one is the other');
  setNoDelay(server, false);
  t.equal(binding.getOption(server, constants.OPTION_NO_DELAY), 0, 'TCP_NODELAY cleared');
  setNoDelay(server, true);
  t.equal(binding.getOption(server, constants.OPTION_NO_DELAY), 1, 'TCP_NODELAY set');
  t.equal(binding.setOption(server, constants.OPTION_KEEP_ALIVE, 1), 0);
  t.equal(binding.getOption(server, constants.OPTION_KEEP_ALIVE), 1);
  t.equal(binding.setOption(server, constants.OPTION_RECEIVE_BUFFER_SIZE, 65536), 0);
  t.ok(binding.getOption(server, constants.OPTION_RECEIVE_BUFFER_SIZE) >= 65536, 'SO_RCVBUF (the kernel doubles it)');
  t.equal(binding.setOption(server, constants.OPTION_SEND_BUFFER_SIZE, 65536), 0);
  t.ok(binding.getOption(server, constants.OPTION_SEND_BUFFER_SIZE) >= 65536);
  const parts = [Buffer.from('hel'), Buffer.from('lo '), Buffer.from('world')];
  t.equal(poller.writev(client, parts, 3), 11);
  t.equal(poller.add(server, constants.EPOLLIN | constants.EPOLLRDHUP, 2), 0);
  t.equal(binding.shutdown(client, constants.SHUT_WR), 0);
  const received = Buffer.alloc(64);
  let got = 0;
  for (let step = 0; step < 10; step += 1) {
    poller.wait(WAIT_MS);
    const rc = poller.read(server, received, got, received.length - got);
    if (rc <= 0) break;
    got += rc;
  }
  t.equal(received.subarray(0, got).toString(), 'hello world');
  t.equal(poller.read(server, received, 0, 1), 0, 'end of stream after the peer shut down writing');
  t.equal(poller.write(server, received, 0, 5), 5, 'the other direction still open (half-close)');
  const counters = new PollerCounters(poller);
  counters.refresh();
  // The first batch accepted one and stopped at EAGAIN; the second call
  // met EAGAIN at once.
  t.equal(counters.get('accept4'), 3);
  t.equal(counters.get('writev'), 1);
  t.match(counters.snapshot(), { accept4: 3, writev: 1, eagain: 2 });
  poller.close();
  for (const fd of [client, server, listener.fd]) binding.close(fd);
  fds.assertNone(t);
  t.end();
});

t.test('connect from a source address: the server sees it, the port is picked at connect', (t) => {
  const fds = trackFds();
  const listener = listenTcp();
  const { native: poller } = openPoller(2);
  const clients = ['127.0.0.2', '127.0.0.3'].map((source) => connectTcp('127.0.0.1', listener.port, source));
  t.equal(poller.add(listener.fd, constants.EPOLLIN, 0), 0);
  const accepted = new Int32Array(4);
  let count = 0;
  for (let turn = 0; count < clients.length && turn < 10; turn += 1) {
    poller.wait(WAIT_MS);
    const batch = poller.accept(listener.fd, accepted.subarray(count));
    if (batch > 0) count += batch;
  }
  t.equal(count, 2, 'both accepted');
  const peers = Array.from(accepted.subarray(0, count), (fd) => peerAddress(fd)).sort((a, b) => a.address.localeCompare(b.address));
  t.same(peers.map((peer) => peer.address), ['127.0.0.2', '127.0.0.3'], 'each leaves from its own address');
  t.ok(peers.every((peer) => peer.port > 0), 'a port picked at connect');
  t.equal(localAddress(clients[0]!).address, '127.0.0.2');
  t.throws(() => connectTcp('127.0.0.1', listener.port, 'not-an-address'), { name: 'TypeError', code: 'ERR_INVALID_ARG_VALUE', message: /localHost/ });
  t.throws(() => binding.connect('127.0.0.1', listener.port, 7 as unknown as string), { name: 'TypeError', code: 'ERR_INVALID_ARG_TYPE' });
  // 192.0.2.1 (TEST-NET-1) is on no interface here: bind refuses it.
  t.throws(() => connectTcp('127.0.0.1', listener.port, '192.0.2.1'), { code: 'EADDRNOTAVAIL', syscall: 'connect' });
  for (const fd of [...clients, ...accepted.subarray(0, count), listener.fd]) binding.close(fd);
  poller.close();
  fds.assertNone(t);
  t.end();
});

t.test('accept takes several connections in one batch', (t) => {
  const fds = trackFds();
  const listener = listenTcp({ backlog: 64 });
  const clients = Array.from({ length: 5 }, () => connectTcp('127.0.0.1', listener.port));
  const { native: poller } = openPoller(2);
  poller.add(listener.fd, constants.EPOLLIN, 0);
  const accepted = new Int32Array(16);
  let total = 0;
  for (let step = 0; step < 50 && total < clients.length; step += 1) {
    poller.wait(WAIT_MS);
    const count = poller.accept(listener.fd, accepted);
    if (count > 0) {
      for (let index = 0; index < count; index += 1) binding.close(accepted[index]!);
      total += count;
    }
  }
  t.equal(total, 5);
  poller.close();
  for (const fd of [...clients, listener.fd]) binding.close(fd);
  fds.assertNone(t);
  t.end();
});

t.test('a refused connect reports ECONNREFUSED through SO_ERROR', (t) => {
  const fds = trackFds();
  const listener = listenTcp();
  const port = listener.port;
  binding.close(listener.fd); // nobody listens there now
  const { native: poller } = openPoller(2);
  const client = connectTcp('127.0.0.1', port);
  poller.add(client, constants.EPOLLOUT, 0);
  t.equal(poller.wait(WAIT_MS), 1, 'the failed connect is reported');
  t.equal(binding.socketError(client), -111, 'ECONNREFUSED');
  poller.close();
  binding.close(client);
  fds.assertNone(t);
  t.end();
});

t.test('address in use, SO_REUSEPORT and IPv6', (t) => {
  const fds = trackFds();
  const first = listenTcp({ reusePort: true });
  const second = listenTcp({ port: first.port, reusePort: true });
  t.equal(second.port, first.port, 'two listeners share a port with SO_REUSEPORT');
  const plain = listenTcp();
  t.throws(() => listenTcp({ port: plain.port }), { code: 'EADDRINUSE', syscall: 'listen', errno: -98 });
  t.throws(() => listenTcp({ backlog: -1 }), { code: 'ERR_OUT_OF_RANGE' });
  t.throws(() => connectTcp('not-an-address', 80), { name: 'TypeError', code: 'ERR_INVALID_ARG_VALUE' });
  t.equal(resolveHost('localhost'), '127.0.0.1');
  t.equal(resolveHost('::1'), '::1');
  for (const fd of [first.fd, second.fd, plain.fd]) binding.close(fd);
  if (ipv6Available(binding.listen('::1', 0, 1, false))) {
    const six = listenTcp({ host: '::1' });
    t.same(localAddress(six.fd), { family: 'IPv6', address: '::1', port: six.port });
    const [client, server] = connectedPair(six.port, six.fd, '::1');
    t.equal(peerAddress(server).address, '::1');
    for (const fd of [client, server, six.fd]) binding.close(fd);
  } else {
    t.comment('IPv6 loopback unavailable here: IPv6 listen not exercised');
  }
  fds.assertNone(t);
  t.end();
});

t.test('addresses decode like Node: IPv6 text per RFC 5952, Unix paths', (t) => {
  const bytes = (groups: number[]): Uint8Array => new Uint8Array(groups.flatMap((group) => [group >> 8, group & 0xff]));
  t.equal(formatIpv6(bytes([0, 0, 0, 0, 0, 0, 0, 1])), '::1');
  t.equal(formatIpv6(bytes([0x2001, 0xdb8, 0, 0, 1, 0, 0, 1])), '2001:db8::1:0:0:1', 'the first of two equal runs');
  t.equal(formatIpv6(bytes([0x2001, 0xdb8, 0, 1, 1, 1, 1, 1])), '2001:db8:0:1:1:1:1:1', 'one zero group stays');
  t.equal(formatIpv6(bytes([0x2001, 0xdb8, 1, 2, 3, 4, 5, 6])), '2001:db8:1:2:3:4:5:6');
  t.equal(formatIpv6(bytes([0, 0, 0, 0, 0, 0xffff, 0x7f00, 1])), '::ffff:127.0.0.1');
  t.equal(formatIpv6(bytes([0, 0, 0, 0, 0, 0, 0, 0])), '::');
  const fds = trackFds();
  const [a, b] = socketPair();
  const scratch = new Uint8Array(128);
  const size = binding.localAddress(a, scratch);
  t.same(decodeAddress(scratch, size), { family: 'unix', address: '', port: 0 }, 'an unnamed Unix socket');
  scratch.set([1, 0, 0x2f, 0x74, 0x6d, 0x70], 0); // AF_UNIX, "/tmp" with no terminating NUL
  t.same(decodeAddress(scratch.subarray(0, 6), 6), { family: 'unix', address: '/tmp', port: 0 });
  t.throws(() => decodeAddress(new Uint8Array([99, 0]), 2), RangeError);
  // fds zepoll did not open are refused before any system call (the owned-fd guard).
  t.throws(() => localAddress(1_000_000), { code: 'ERR_ZEPOLL_FD_NOT_OWNED', message: /fd 1000000/ });
  t.throws(() => peerAddress(a === 0 ? 1 : 0), { code: 'ERR_ZEPOLL_FD_NOT_OWNED' });
  const listener = listenTcp();
  t.throws(() => peerAddress(listener.fd), { code: 'ENOTCONN', syscall: 'getpeername' }, 'an owned fd reaches the system call: a listener has no peer');
  binding.close(listener.fd);
  binding.close(a);
  binding.close(b);
  fds.assertNone(t);
  t.end();
});

t.test('poll and select report readiness; select refuses fds at or above FD_SETSIZE', (t) => {
  const fds = trackFds();
  const [a, b] = socketPair();
  const [c, d] = socketPair();
  const pollfds = new Int32Array([a, constants.POLLIN, c, constants.POLLIN]);
  t.equal(binding.poll(pollfds, 2, 0), 0, 'nothing readable');
  binding.close(d); // c sees a hang-up
  t.equal((binding as unknown as Record<string, unknown>).write === undefined, true, 'writes go through a poller, not the module');
  t.equal(binding.poll(pollfds, 2, 0), 1);
  t.ok((pollfds[3]! >>> 16) & constants.POLLIN, 'revents written in place, high 16 bits');
  const ready = new Int32Array(2);
  t.equal(binding.select(new Int32Array([a, c]), 2, ready, 0), 1);
  t.equal(ready[0], c);
  t.throws(() => binding.select(new Int32Array([1024]), 1, ready, 0), { name: 'RangeError', code: 'ERR_OUT_OF_RANGE', message: /FD_SETSIZE/ });
  t.throws(() => binding.select(new Int32Array([-1]), 1, ready, 0), { name: 'RangeError', code: 'ERR_OUT_OF_RANGE' });
  t.throws(() => binding.select(new Int32Array([a]), 2, ready, 0), { code: 'ERR_OUT_OF_RANGE', message: /"count"/ });
  t.throws(() => binding.select(new Int32Array([a, c]), 2, new Int32Array(1), 0), { code: 'ERR_OUT_OF_RANGE', message: /"ready"/ });
  t.throws(() => binding.poll(pollfds, 3, 0), { code: 'ERR_OUT_OF_RANGE', message: /"count"/ });
  t.equal(binding.poll(new Int32Array([1_000_000, constants.POLLIN]), 1, 0), 1, 'a closed fd is POLLNVAL, not a crash');
  for (const fd of [a, b, c]) binding.close(fd);
  fds.assertNone(t);
  t.end();
});

t.test('setAffinity pins the calling thread (checked in a worker)', async (t) => {
  const source = `
    const { parentPort, workerData } = require('node:worker_threads');
    const binding = require(workerData.addon);
    parentPort.postMessage(binding.setAffinity(0));
  `;
  const rc = await new Promise<unknown>((resolve, reject) => {
    const worker = new Worker(source, { eval: true, workerData: { addon: `${FIXTURES}addon.cjs` } });
    let message: unknown;
    worker.once('message', (value: unknown) => (message = value));
    worker.once('error', reject);
    // Wait for the exit: the worker's own loop fds close only then.
    worker.once('exit', () => resolve(message));
  });
  t.equal(rc, 0, 'CPU 0 exists on every machine');
});

t.test('set-up failures throw system errors with code, errno and syscall', (t) => {
  const fds = trackFds();
  const [a, b] = socketPair();
  t.throws(() => setNoDelay(a, true), { code: 'ENOTSUP', errno: -95, syscall: 'setsockopt', fd: a }, 'TCP_NODELAY on a Unix socket');
  t.throws(() => connectTcp('255.255.255.255', 80), { code: 'ENETUNREACH', syscall: 'connect' }, 'a connect that fails at once');
  const scratch = new Uint8Array(128);
  scratch.set([1, 0, 0x2f, 0x61, 0, 0x62]); // AF_UNIX, "/a" then a NUL and garbage
  t.same(decodeAddress(scratch, 6), { family: 'unix', address: '/a', port: 0 }, 'a Unix path ends at its NUL');
  binding.close(a);
  binding.close(b);
  fds.assertNone(t);
  t.end();
});
