/**
 * relay() taking over a connection whose bytes or end were already under
 * way: on io_uring the receive armed at open holds them (its completion
 * comes even though the relay cancelled it), on both backends the owner's
 * writes may still be queued. What came first goes first; an end that the
 * backend received is passed on as a half-close. The clients here connect,
 * write and end from a child process while this process is blocked
 * (spawnSync), so their bytes and FIN are in the socket before the reactor
 * accepts: the armed receive finds them at its first submit.
 */
import t from 'tap';
import { spawnSync } from 'node:child_process';
import * as net from 'node:net';
import { randomBytes } from 'node:crypto';
import { Reactor } from '../../packages/reactor/src/reactor.js';
import { Server } from '../../packages/reactor/src/server.js';
import { relay, type Relay } from '../../packages/reactor/src/relay.js';
import { connect } from '../../packages/reactor/src/connect.js';
import type { Connection } from '../../packages/reactor/src/connection.js';
import { ioUringSupport } from '../../packages/reactor/src/backend/io-uring-support.js';
import { trackFds } from '../helpers/fds.js';
import { until } from '../helpers/wait.js';

const BACKENDS = ['epoll', ...(ioUringSupport().available ? ['io_uring' as const] : [])] as const;

/** A child that connects, sends `bytes` (hex) with its FIN at once, and exits without reading. */
function sendAndEndFromChild(port: number, bytes: Buffer): void {
  const script = `const s = require('net').connect(${port}, '127.0.0.1', () => s.end(Buffer.from('${bytes.toString('hex')}', 'hex')));
s.on('finish', () => process.exit(0)); s.on('error', () => process.exit(1));`;
  const result = spawnSync(process.execPath, ['-e', script], { stdio: 'inherit' });
  if (result.status !== 0) throw new Error(`client child exited with ${result.status}`);
}

/** A plain Node server that records what each connection sent until its FIN, and ends it then. */
async function recordingUpstream(): Promise<{ server: net.Server; port: number; received: Buffer[] }> {
  const received: Buffer[] = [];
  const server = net.createServer({ allowHalfOpen: true }, (socket) => {
    const parts: Buffer[] = [];
    socket.on('data', (part: Buffer) => parts.push(part));
    socket.on('end', () => {
      received.push(Buffer.concat(parts));
      socket.end();
    });
    socket.on('error', () => {});
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, port: (server.address() as net.AddressInfo).port, received };
}

for (const backend of BACKENDS) {
  for (const [what, size] of [['bytes and the FIN', 3000], ['the FIN alone', 0]] as const) {
    t.test(`${backend}: a relay made at open takes over ${what} already in the socket, in order, and passes the end on`, async (t) => {
      const fds = trackFds();
      const upstream = await recordingUpstream();
      const reactor = new Reactor({ backend });
      const side = await connect(reactor, {}, { port: upstream.port });
      const relays: Relay[] = [];
      const server = new Server(reactor, {
        // In onOpen: on io_uring the receive armed at open goes to the kernel with the relay's cancel after it.
        onOpen: (client: Connection) => void relays.push(relay(client, side)),
      });
      const payload = randomBytes(size);
      sendAndEndFromChild(server.port, payload);
      await until(() => upstream.received.length === 1, 'the upstream got the relayed bytes and FIN');
      t.equal(upstream.received[0]!.toString('hex'), payload.toString('hex'), 'every byte, in order, then the FIN');
      await relays[0]!.closed;
      t.equal(relays[0]!.stats.bytesAToB, size, 'counted once');
      t.equal(reactor.stats.connectionsOpen, 0, 'both sides closed');
      await server.close();
      reactor.close();
      await new Promise((resolve) => upstream.server.close(resolve));
      await fds.assertNoneSettled(t);
    });
  }
}
