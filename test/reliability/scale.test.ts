/**
 * Scale: 10 000 idle connections plus active traffic on one reactor. The
 * idle clients live in a process of their own (each side needs 10 000 fds;
 * both start with the soft limit raised to the hard one). With them held,
 * 10 active clients do round trips; then every idle connection sends one
 * byte and must get it back. The same is run against Node's net, and the
 * resident memory per idle connection of each is reported side by side.
 */
import t, { type Test } from 'tap';
import net from 'node:net';
import { startLineChild } from '../helpers/line-child.js';
import { exchangeOn } from '../helpers/net-client.js';
import { trackFds } from '../helpers/fds.js';

const IDLE = 10_000;
const ACTIVE = 10;
const ROUND_TRIPS = 200;
const OPEN_WAIT_MS = 20_000;
/**
 * zepoll's bound per idle connection: a Connection object, its write
 * queue, an epoll registration and the kernel socket's share of RSS. Node's
 * net.Socket (a libuv handle, a stream, listeners) is measured beside it.
 */
const ZEPOLL_KIB_PER_IDLE_MAX = 2;

interface Stats {
  readonly open: number;
  readonly rssKiB: number;
}

async function measure(t: Test, kind: 'zepoll' | 'node'): Promise<{ kibPerIdle: number; pinged: number; roundTrips: number }> {
  const server = startLineChild('idle-server.mjs', { args: [kind], nodeArgs: ['--expose-gc'], raiseFdLimit: true });
  try {
    const port = Number((await server.next(/^port (\d+)$/))[1]);
    const stats = async (): Promise<Stats> => {
      server.send('stats');
      return JSON.parse((await server.next(/^\{.*\}$/))[0]) as Stats;
    };
    const before = await stats();
    const holder = startLineChild('idle-clients.mjs', { args: [String(port), String(IDLE)], raiseFdLimit: true });
    try {
      await holder.next(/^idle \d+$/, OPEN_WAIT_MS);
      let held = await stats();
      for (let waited = 0; held.open < IDLE && waited < OPEN_WAIT_MS; waited += 100) {
        await new Promise((resolve) => setTimeout(resolve, 100));
        held = await stats();
      }
      let roundTrips = 0;
      await Promise.all(
        Array.from({ length: ACTIVE }, async () => {
          const socket = net.connect(port, '127.0.0.1');
          for (let index = 0; index < ROUND_TRIPS; index += 1) {
            await exchangeOn(socket, `round trip ${index};`, (text) => text === `round trip ${index};`);
            roundTrips += 1;
          }
          socket.destroy();
        }),
      );
      holder.send('ping');
      const pinged = Number((await holder.next(/^pinged (\d+)$/))[1]);
      const kibPerIdle = (held.rssKiB - before.rssKiB) / held.open;
      t.equal(held.open, IDLE, `${kind}: ${held.open} connections held`);
      return { kibPerIdle, pinged, roundTrips };
    } finally {
      await holder.stop();
    }
  } finally {
    t.equal(await server.stop(), 0, `${kind} server exits 0`);
  }
}

t.test(`${IDLE} idle connections plus ${ACTIVE} active on one reactor; memory per idle connection beside Node's net`, async (t) => {
  const fds = trackFds();
  const zepoll = await measure(t, 'zepoll');
  t.equal(zepoll.roundTrips, ACTIVE * ROUND_TRIPS, `${zepoll.roundTrips} round trips on the active connections`);
  t.equal(zepoll.pinged, IDLE, 'every idle connection still answered afterwards');
  const node = await measure(t, 'node');
  t.equal(node.pinged, IDLE, "Node's net answers them all too");
  t.ok(zepoll.kibPerIdle <= ZEPOLL_KIB_PER_IDLE_MAX, `RSS per idle connection: zepoll ${zepoll.kibPerIdle.toFixed(2)} KiB, Node net ${node.kibPerIdle.toFixed(2)} KiB (${(zepoll.kibPerIdle / node.kibPerIdle).toFixed(2)}x; zepoll bound ${ZEPOLL_KIB_PER_IDLE_MAX} KiB)`);
  await fds.assertNoneSettled(t);
});
