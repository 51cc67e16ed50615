/**
 * Micro-benchmark of the native binding: what one crossing of the
 * JS → Zig boundary costs, and how fast a nested poller delivers events.
 *
 *   node bench/dist/binding-micro.js [--seconds 1] [--json]
 *
 * Each figure is the median of ROUNDS timed rounds (min–max shown), so one
 * noisy round on a shared machine does not set the number.
 */
import { parseArgs } from 'node:util';
import { execFileSync } from 'node:child_process';
import { binding, constants, openPoller, socketPair, errnoError } from 'zepoll';
import { buildReference } from './reference.js';

const ROUNDS = 5;
const CALLS_PER_BATCH = 1000;
/**
 * Writes per timed batch: a Unix socket charges each small message its
 * whole buffer overhead (about 1 KiB), so ~200 fill the default 208 KiB send
 * buffer; 100 writes stay well below it, then an untimed drain.
 */
const WRITES_PER_BATCH = 100;
const WRITE_SIZE = 64;
const SOCKET_PAIRS = 1000;
const EAGAIN = -11;

interface Figure {
  readonly name: string;
  readonly unit: string;
  readonly median: number;
  readonly min: number;
  readonly max: number;
  /** The same system call made from C, when there is one to compare. */
  readonly c?: number;
}

function summarize(name: string, unit: string, samples: number[]): Figure {
  const sorted = [...samples].sort((a, b) => a - b);
  return { name, unit, median: sorted[Math.floor(sorted.length / 2)]!, min: sorted[0]!, max: sorted[sorted.length - 1]! };
}

/** Nanoseconds per call of `body`, timed in batches for `seconds` per round. */
function nsPerCall(seconds: number, body: () => void, between: () => void = () => {}, batch = CALLS_PER_BATCH): number[] {
  const samples: number[] = [];
  for (let round = 0; round < ROUNDS; round += 1) {
    let elapsed = 0n;
    let calls = 0;
    const budget = BigInt(Math.round((seconds * 1e9) / ROUNDS));
    while (elapsed < budget) {
      const start = process.hrtime.bigint();
      for (let index = 0; index < batch; index += 1) body();
      elapsed += process.hrtime.bigint() - start;
      calls += batch;
      between(); // untimed: e.g. draining what the timed writes filled
    }
    samples.push(Number(elapsed) / calls);
  }
  return samples;
}

/** The C baseline: [read EAGAIN ns, 64-byte write ns]. */
function cBaseline(): [number, number] {
  const output = execFileSync(buildReference('syscalls'), { encoding: 'utf8' }).trim().split(' ').map(Number);
  return [output[0]!, output[1]!];
}

function benchCalls(seconds: number): Figure[] {
  const [cRead, cWrite] = cBaseline();
  const { native: poller } = openPoller(4);
  const [a, b] = socketPair();
  const scratch = new Uint8Array(256 * 1024);
  const message = new Uint8Array(WRITE_SIZE);
  const figures: Figure[] = [];
  figures.push(summarize('trivial call (nop)', 'ns/call', nsPerCall(seconds, () => binding.nop())));
  figures.push({
    ...summarize('read → EAGAIN', 'ns/call', nsPerCall(seconds, () => {
      if (poller.read(a, scratch, 0, 4096) !== EAGAIN) throw new Error('expected EAGAIN');
    })),
    c: cRead,
  });
  const drain = (): void => {
    while (poller.read(b, scratch, 0, scratch.length) > 0);
  };
  figures.push({
    ...summarize(`${WRITE_SIZE}-byte write (socketpair)`, 'ns/call', nsPerCall(seconds, () => {
      const rc = poller.write(a, message, 0, WRITE_SIZE);
      if (rc !== WRITE_SIZE) throw rc < 0 ? errnoError(rc, 'write', a) : new Error(`short write ${rc}`);
    }, drain, WRITES_PER_BATCH)),
    c: cWrite,
  });
  poller.close();
  binding.close(a);
  binding.close(b);
  return figures;
}

/**
 * Events per second delivered by a started (nested) poller: 1000 socket
 * pairs, each read end registered level-triggered with one unread byte, so
 * every loop turn delivers a full batch of 1000. Measures the path
 * libuv → epoll_wait → copy → napi_make_callback → JS loop, nothing else.
 */
async function benchDelivery(seconds: number): Promise<Figure> {
  const { native: poller, events } = openPoller(1024);
  const pairs = Array.from({ length: SOCKET_PAIRS }, () => socketPair());
  const one = new Uint8Array(1);
  for (const [reader, writer] of pairs) {
    poller.add(reader, constants.EPOLLIN, 0);
    poller.write(writer, one, 0, 1);
  }
  const samples: number[] = [];
  for (let round = 0; round < ROUNDS; round += 1) {
    let delivered = 0;
    let checksum = 0;
    const start = process.hrtime.bigint();
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        poller.stop();
        resolve();
      }, (seconds * 1000) / ROUNDS);
      timer.ref();
      poller.start((count) => {
        for (let index = 0; index < count; index += 1) checksum += events[index * 3]!;
        delivered += count;
      });
    });
    const elapsed = Number(process.hrtime.bigint() - start) / 1e9;
    if (checksum === 0) throw new Error('no events delivered');
    samples.push(delivered / elapsed);
  }
  poller.close();
  for (const [reader, writer] of pairs) {
    binding.close(reader);
    binding.close(writer);
  }
  return summarize(`nested poller, ${SOCKET_PAIRS} socketpairs`, 'events/s', samples);
}

function format(value: number): string {
  return value >= 1000 ? Math.round(value).toLocaleString('en-US') : value.toFixed(1);
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { seconds: { type: 'string', default: '1' }, json: { type: 'boolean', default: false } } });
  const seconds = Number(values.seconds);
  if (!(seconds > 0 && seconds <= 60)) throw new RangeError(`--seconds must be in (0, 60], received ${values.seconds}`);
  const figures = [...benchCalls(seconds), await benchDelivery(seconds)];
  if (values.json) {
    process.stdout.write(`${JSON.stringify({ node: process.version, figures }, null, 2)}\n`);
    return;
  }
  process.stdout.write(`zepoll binding micro-benchmark (node ${process.version}, median of ${ROUNDS} rounds)\n`);
  for (const figure of figures) {
    const versusC = figure.c === undefined ? '' : `  same call from C: ${format(figure.c)} ns (boundary +${format(figure.median - figure.c)} ns)`;
    process.stdout.write(`  ${figure.name.padEnd(34)} ${format(figure.median).padStart(12)} ${figure.unit.padEnd(9)} (min ${format(figure.min)}, max ${format(figure.max)})${versusC}\n`);
  }
}

await main();
