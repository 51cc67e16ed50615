/**
 * BufferPool on its own (bounds, no chunk handed out twice, leases and
 * use-after-release detection, waiters) and under a reactor: when handlers
 * keep every chunk, reading pauses instead of allocating, and resumes when
 * chunks come back, losing no byte.
 */
import t from 'tap';
import type { Connection } from '../../packages/reactor/src/connection.js';
import { randomBytes } from 'node:crypto';
import net from 'node:net';
import { BufferPool, Lease } from '../../packages/reactor/src/buffer-pool.js';
import { Reactor, type Mode } from '../../packages/reactor/src/reactor.js';
import { Server } from '../../packages/reactor/src/server.js';
import { trackFds } from '../helpers/fds.js';
import { sha256 } from '../helpers/net-client.js';

t.test('options are validated', (t) => {
  for (const options of [{ chunkSize: 0 }, { chunkSize: 1.5 }, { maxChunks: -1 }, { chunksPerSlab: 0 }]) {
    t.throws(() => new BufferPool(options), { code: 'ERR_OUT_OF_RANGE' }, JSON.stringify(options));
  }
  t.end();
});

t.test('exhaustion returns -1, counts a wait, and no chunk is handed out twice', (t) => {
  const pool = new BufferPool({ chunkSize: 16, chunksPerSlab: 2, maxChunks: 5 });
  const taken = new Set<number>();
  for (let index = 0; index < 5; index += 1) {
    const chunk = pool.acquire();
    t.ok(chunk >= 0);
    t.notOk(taken.has(chunk), `chunk ${chunk} not handed out before`);
    taken.add(chunk);
    t.equal(pool.bytes(chunk).length, 16);
  }
  t.equal(pool.acquire(), -1, 'at the bound');
  t.match(pool.stats, { chunkSize: 16, maxChunks: 5, allocated: 5, inUse: 5, highWater: 5, waits: 1 });
  for (const chunk of taken) pool.bytes(chunk).fill(chunk + 1);
  t.ok([...taken].every((chunk) => pool.bytes(chunk).every((byte) => byte === chunk + 1)), 'every chunk is distinct memory');
  let woke = 0;
  pool.onAvailable(() => (woke += 1));
  pool.release([...taken][0]!);
  t.equal(woke, 1, 'a waiter runs on release');
  t.equal(pool.stats.inUse, 4);
  t.throws(() => pool.release([...taken][0]!), { code: 'ERR_ZEPOLL_LEASE_RELEASED' }, 'released twice');
  t.throws(() => pool.retain([...taken][0]!), { code: 'ERR_ZEPOLL_LEASE_RELEASED' }, 'retain of a free chunk');
  t.end();
});

t.test('chunkOf finds pooled views only; leases detect use after release', (t) => {
  const pool = new BufferPool({ chunkSize: 32, chunksPerSlab: 4, maxChunks: 8 });
  const chunk = pool.acquire();
  const view = pool.bytes(chunk).subarray(5, 10);
  t.equal(pool.chunkOf(view), chunk);
  t.equal(pool.chunkOf(new Uint8Array(4)), -1, 'not pooled');
  view.set([1, 2, 3, 4, 5]);
  pool.retain(chunk);
  const lease = new Lease(pool, chunk, view);
  t.same([...lease.bytes], [1, 2, 3, 4, 5]);
  const copy = lease.copy();
  pool.release(chunk); // the reader's reference
  lease.release();
  lease.release(); // idempotent
  t.throws(() => lease.bytes, { code: 'ERR_ZEPOLL_LEASE_RELEASED' });
  t.same([...copy], [1, 2, 3, 4, 5], 'the copy outlives the lease');
  t.equal(pool.stats.inUse, 0);
  t.end();
});

t.test('a waiter that releases does not recurse into other waiters', (t) => {
  const pool = new BufferPool({ chunkSize: 8, chunksPerSlab: 1, maxChunks: 2 });
  const a = pool.acquire();
  const b = pool.acquire();
  const order: string[] = [];
  pool.onAvailable(() => {
    order.push('first');
    pool.release(b);
  });
  pool.onAvailable(() => order.push('second'));
  pool.release(a);
  t.same(order, ['first', 'second']);
  t.end();
});

const MODES: Mode[] = ['lt', 'et', 'oneshot'];
for (const mode of MODES) {
  t.test(`${mode}: pool exhaustion pauses reading and resumes without losing a byte`, async (t) => {
    const fds = trackFds();
    const pool = new BufferPool({ chunkSize: 4096, chunksPerSlab: 2, maxChunks: 4 });
    const reactor = new Reactor({ mode, pool });
    const kept: Array<{ lease: Lease; size: number }> = [];
    const received: Buffer[] = [];
    const server = new Server(reactor, {
      // The handler keeps every chunk: after 4 reads the pool is empty.
      onData: (connection, data) => void kept.push({ lease: connection.lease(data), size: data.length }),
    });
    const payload = randomBytes(256 * 1024);
    const socket = net.connect(server.port, '127.0.0.1');
    socket.end(payload);
    for (let wait = 0; wait < 200 && pool.stats.waits === 0; wait += 1) await new Promise((resolve) => setTimeout(resolve, 5));
    t.ok(pool.stats.waits > 0, 'reading met an empty pool');
    t.equal(pool.stats.inUse, 4, 'and did not allocate past the bound');
    // Give the chunks back one by one: reading resumes each time.
    let total = 0;
    for (let step = 0; step < 10_000 && total < payload.length; step += 1) {
      const next = kept.shift();
      if (next === undefined) {
        await new Promise((resolve) => setTimeout(resolve, 1));
        continue;
      }
      received.push(Buffer.from(next.lease.bytes));
      total += next.size;
      next.lease.release();
      await new Promise((resolve) => setImmediate(resolve));
    }
    t.equal(total, payload.length);
    t.equal(sha256(Buffer.concat(received)), sha256(payload), 'every byte, in order');
    t.ok(pool.stats.highWater <= 4);
    // A view kept past its onData call cannot be leased: its chunk may hold another connection's bytes by then.
    let late: { connection: Connection; data: Uint8Array } | null = null;
    const other = new Server(reactor, { onData: (connection, data) => void (late = { connection, data }) });
    const client = net.connect(other.port, '127.0.0.1');
    client.end('late');
    for (let wait = 0; wait < 200 && late === null; wait += 1) await new Promise((resolve) => setTimeout(resolve, 5));
    const kept2 = late as { connection: Connection; data: Uint8Array } | null;
    t.throws(() => kept2!.connection.lease(kept2!.data), { code: 'ERR_INVALID_ARG_VALUE', message: /during that call/ });
    await other.close();
    socket.destroy();
    client.destroy();
    await server.close(1000);
    reactor.close();
    t.equal(pool.stats.inUse, 0, 'all chunks back');
    await fds.assertNoneSettled(t); // Node's client sockets close in a later turn (slower on a busy machine)
  });
}
