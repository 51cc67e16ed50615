/**
 * Small writes are copied into one pooled staging chunk and leave with one
 * write(); larger ones are queued as they are and leave with writev. The
 * staging chunk is never held past a flush: a run the kernel did not take
 * whole waits as a copy, so a slow reader holds no chunk the readers need.
 * The bytes arrive intact and in order whatever the mix.
 */
import t from 'tap';
import { randomBytes } from 'node:crypto';
import { Reactor } from '../../packages/reactor/src/reactor.js';
import { Server } from '../../packages/reactor/src/server.js';
import { BufferPool } from '../../packages/reactor/src/buffer-pool.js';
import { BLOCKED, FLUSHED, WriteQueue } from '../../packages/reactor/src/write-queue.js';
import type { Backend, Owner } from '../../packages/reactor/src/backend/backend.js';

/** Where the fake backends below are asked to send: a number nobody opened. */
const TARGET: Owner = { fd: 3, slot: null, ready: () => {}, fail: () => {} };
import { trackFds } from '../helpers/fds.js';
import { connect, receive, sha256 } from '../helpers/net-client.js';

const SMALL = 100;
const LARGE = 4096;

t.test('small writes of one event leave in one write; a large one among them keeps the order (writev)', async (t) => {
  const fds = trackFds();
  const reactor = new Reactor({ mode: 'et' });
  const parts = Array.from({ length: 10 }, (_, index) => randomBytes(index === 5 ? LARGE : SMALL));
  const expected = Buffer.concat(parts);
  const server = new Server(reactor, {
    onData: (connection, data) => {
      if (data.toString() === 'small') for (const part of parts.filter((one) => one.length === SMALL)) connection.write(part);
      else for (const part of parts) connection.write(part);
    },
  });
  const socket = await connect(server.port);
  let before = reactor.stats.syscalls;
  socket.write('small');
  const small = await receive(socket, SMALL * 9);
  let after = reactor.stats.syscalls;
  t.equal(sha256(small), sha256(Buffer.concat(parts.filter((one) => one.length === SMALL))), 'nine small writes arrive in order');
  t.equal(after.write - before.write, 1, 'in one write');
  t.equal(after.writev - before.writev, 0);
  before = after;
  socket.write('mixed');
  const mixed = await receive(socket, expected.length);
  after = reactor.stats.syscalls;
  t.equal(sha256(mixed), sha256(expected), 'small, large, small: in order');
  t.equal(after.writev - before.writev, 1, 'staged runs and the large buffer in one writev');
  t.equal(reactor.pool.stats.inUse, 0, 'no chunk held after the flush');
  socket.destroy();
  await server.close();
  reactor.close();
  await fds.assertNoneSettled(t);
});

t.test('a staged run the kernel takes only part of: the rest waits as a copy and the chunk goes back to the pool', async (t) => {
  const pool = new BufferPool();
  const queue = new WriteQueue(pool);
  const parts = Array.from({ length: 5 }, () => randomBytes(SMALL));
  const expected = Buffer.concat(parts);
  for (const part of parts) queue.push(part);
  t.equal(pool.stats.inUse, 1, 'the run is in one staging chunk');
  const sent: Buffer[] = [];
  let take = 130; // the kernel takes 130 of the 500 bytes
  const backend = {
    sendRange: (_target: unknown, buffer: Uint8Array, offset: number, length: number): number => {
      const count = Math.min(take, length);
      sent.push(Buffer.from(buffer.subarray(offset, offset + count)));
      return count;
    },
    send: (_target: unknown, buffers: readonly Uint8Array[], count: number): number => {
      let total = 0;
      for (let index = 0; index < count; index += 1) {
        sent.push(Buffer.from(buffers[index]!));
        total += buffers[index]!.byteLength;
      }
      return total;
    },
  } as unknown as Backend;
  t.equal(queue.flush(backend, TARGET), BLOCKED);
  t.equal(queue.bytes, SMALL * 5 - 130);
  t.equal(pool.stats.inUse, 0, 'blocked, the queue holds no pool chunk');
  for (const part of parts) part.fill(0); // the caller reuses its buffers: small writes were copied
  take = Infinity;
  queue.push(randomBytes(SMALL)); // a queue waiting for the kernel takes writes as they are
  t.equal(pool.stats.inUse, 0);
  t.equal(queue.flush(backend, TARGET), FLUSHED);
  t.equal(Buffer.concat(sent).subarray(0, SMALL * 5).equals(expected), true, 'the five parts as written, in order, across the two flushes');
  t.equal(queue.bytes, 0);
  t.ok(queue.isEmpty);
});

t.test('a pool of chunks smaller than a write: queued as it is, nothing staged', async (t) => {
  const fds = trackFds();
  const reactor = new Reactor({ pool: { chunkSize: 64 } });
  const part = randomBytes(SMALL);
  const server = new Server(reactor, { onData: (connection) => void connection.write(part) });
  const socket = await connect(server.port);
  socket.write('x');
  t.equal(sha256(await receive(socket, SMALL)), sha256(part));
  socket.destroy();
  await server.close();
  reactor.close();
  await fds.assertNoneSettled(t);
});

t.test('a sealed run the kernel took only part of: its rest waits as a copy, the chunk goes back', async (t) => {
  const pool = new BufferPool();
  const queue = new WriteQueue(pool);
  const small = randomBytes(SMALL);
  const large = randomBytes(LARGE);
  queue.push(small); // staged
  queue.push(large); // over the staging size: the run is sealed, the large buffer queued as it is
  t.equal(pool.stats.inUse, 1);
  const sent: Buffer[] = [];
  let take = 40; // the kernel takes 40 of the run's 100 bytes
  const backend = {
    send: (_target: unknown, buffers: readonly Uint8Array[], count: number): number => {
      let left = take;
      let total = 0;
      for (let index = 0; index < count && left > 0; index += 1) {
        const part = buffers[index]!.subarray(0, left);
        sent.push(Buffer.from(part));
        left -= part.length;
        total += part.length;
      }
      return total;
    },
  } as unknown as Backend;
  t.equal(queue.flush(backend, TARGET), BLOCKED);
  t.equal(pool.stats.inUse, 0, 'blocked inside the sealed run, the queue holds no pool chunk');
  take = Infinity;
  t.equal(queue.flush(backend, TARGET), FLUSHED);
  t.ok(Buffer.concat(sent).equals(Buffer.concat([small, large])), 'the run, then the large buffer, in order');
});

t.test('writeMany re-entered from a getter on its parts: both writes go out whole, in order', async (t) => {
  const fds = trackFds();
  const reactor = new Reactor();
  const server = new Server(reactor, {
    onData: (connection) => {
      const parts = ['a', 'b'];
      // The getter of part 1 writes on its own: writeMany runs inside writeMany.
      Object.defineProperty(parts, 1, { get: () => (connection.writeMany(['x', 'y']), 'b') });
      connection.writeMany(parts);
    },
  });
  const socket = await connect(server.port);
  socket.write('go');
  t.equal((await receive(socket, 4)).toString(), 'xyab', 'the inner write was queued first (it ran while the outer one checked its parts)');
  socket.destroy();
  await server.close();
  reactor.close();
  await fds.assertNoneSettled(t);
});

