/**
 * Slow and absent readers: a peer that never reads cannot grow the queue
 * past the connection's cap (the connection is destroyed with
 * ERR_ZEPOLL_WRITE_QUEUE_FULL and the reactor's queued bytes return to 0);
 * a slow reader gets every byte once it reads, with write() returning false
 * above the high-water mark and onDrain following.
 */
import t from 'tap';
import { randomBytes } from 'node:crypto';
import { Reactor, type Mode } from '../../packages/reactor/src/reactor.js';
import { Server } from '../../packages/reactor/src/server.js';
import type { Connection } from '../../packages/reactor/src/connection.js';
import { trackFds } from '../helpers/fds.js';
import { connect, receive, sha256 } from '../helpers/net-client.js';

const MODES: Mode[] = ['lt', 'et', 'oneshot'];
const CAP = 4 * 1024 * 1024;
const CHUNK = 256 * 1024;
const SLOW_TOTAL = 8 * 1024 * 1024;

for (const mode of MODES) {
  t.test(`${mode}: a peer that never reads is cut off at the cap`, async (t) => {
    const fds = trackFds();
    const reactor = new Reactor({ mode });
    const chunk = randomBytes(CHUNK);
    let maxQueued = 0;
    let closedWith: string | undefined;
    const server = new Server(
      reactor,
      {
        onOpen: (connection) => {
          // Keep writing whatever write() says: only the cap stops this.
          const pump = (): void => {
            for (let index = 0; index < 8 && connection.isOpen; index += 1) {
              connection.write(chunk);
              maxQueued = Math.max(maxQueued, connection.queuedBytes);
            }
            if (connection.isOpen) setTimeout(pump, 1);
          };
          setImmediate(pump);
        },
        onError: () => {},
        onClose: (_connection, error) => (closedWith = (error as (Error & { code?: string }) | undefined)?.code),
      },
      { maxQueuedBytes: CAP },
    );
    const socket = await connect(server.port);
    socket.pause(); // never reads
    for (let wait = 0; wait < 1000 && closedWith === undefined; wait += 1) await new Promise((resolve) => setTimeout(resolve, 5));
    t.equal(closedWith, 'ERR_ZEPOLL_WRITE_QUEUE_FULL');
    t.ok(maxQueued <= CAP, `queue peaked at ${maxQueued} bytes, cap ${CAP}`);
    t.equal(reactor.stats.queuedBytes, 0, 'nothing left queued in the reactor');
    socket.destroy();
    await server.close();
    reactor.close();
    fds.assertNone(t);
  });

  t.test(`${mode}: a slow reader gets every byte; write() returns false and onDrain follows`, async (t) => {
    const fds = trackFds();
    const reactor = new Reactor({ mode });
    const payload = randomBytes(SLOW_TOTAL);
    let falses = 0;
    let drains = 0;
    const send = (connection: Connection, from: number): void => {
      let offset = from;
      while (offset < payload.length) {
        const ok = connection.write(payload.subarray(offset, offset + CHUNK));
        offset += CHUNK;
        if (!ok) {
          falses += 1;
          connection.context = offset; // resume here on drain
          return;
        }
      }
      connection.end();
    };
    const server = new Server(reactor, {
      onOpen: (connection) => send(connection, 0),
      onDrain: (connection) => {
        drains += 1;
        send(connection, connection.context as number);
      },
    });
    const socket = await connect(server.port);
    socket.pause();
    await new Promise((resolve) => setTimeout(resolve, 100)); // the reader is slow to start
    const receiving = receive(socket, SLOW_TOTAL);
    socket.resume();
    const received = await receiving;
    t.equal(sha256(received), sha256(payload), 'every byte, in order');
    t.ok(falses > 0, `write() returned false ${falses} times`);
    t.equal(drains, falses, 'one onDrain for each false');
    socket.destroy();
    await server.close();
    reactor.close();
    fds.assertNone(t);
  });
}
