/**
 * What permessage-deflate's one-call design (packages/reactor/src/ws/
 * deflate.ts) costs per message, against the zlib stream kept open that
 * the `ws` package uses: Node's zlib only, no sockets. Measured per call,
 * after a warm-up, on a 228-byte JSON chat message:
 *
 * - deflate in one call, no window (no context takeover), at 15 bits;
 * - the same with the window as a preset dictionary: 32 KiB (15 bits) and
 *   4 KiB (12 bits), the cost of context takeover in this design;
 * - inflate in one call with a 32 KiB dictionary;
 * - a zlib stream kept open (write, then flush with Z_SYNC_FLUSH, awaited):
 *   the thread-pool round trip per message, one message at a time;
 * - and the rate of one-call deflate on 1 MiB of text at level 6, which
 *   bounds how long a large message holds the loop.
 *
 *   node bench/dist/deflate-micro.js [--json]
 */
import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import { constants, createDeflateRaw, deflateRawSync, inflateRawSync } from 'node:zlib';

const { values } = parseArgs({ options: { json: { type: 'boolean', default: false } } });
const { Z_SYNC_FLUSH } = constants;
const MESSAGE = Buffer.from(JSON.stringify({ type: 'chat', user: 'ada', text: 'hello there, how are you doing today? '.repeat(5) }));
const HISTORY = Buffer.from(randomBytes(16 * 1024).toString('hex'));

/** Microseconds per call of `run`, over `count` calls after a tenth as many to warm up. */
function perCall(count: number, run: () => unknown): number {
  for (let index = 0; index < count / 10; index += 1) run();
  const started = process.hrtime.bigint();
  for (let index = 0; index < count; index += 1) run();
  return Number(process.hrtime.bigint() - started) / count / 1000;
}

async function streamPerMessage(count: number): Promise<number> {
  const stream = createDeflateRaw({ windowBits: 15 });
  stream.on('data', () => {});
  const once = (): Promise<void> =>
    new Promise((resolve) => {
      stream.write(MESSAGE);
      stream.flush(Z_SYNC_FLUSH, () => resolve());
    });
  for (let index = 0; index < count / 10; index += 1) await once();
  const started = process.hrtime.bigint();
  for (let index = 0; index < count; index += 1) await once();
  stream.close();
  return Number(process.hrtime.bigint() - started) / count / 1000;
}

const compressed = deflateRawSync(MESSAGE, { finishFlush: Z_SYNC_FLUSH, windowBits: 15, dictionary: HISTORY });
const text = Buffer.from(JSON.stringify(Array.from({ length: 20_000 }, (_, id) => ({ id, name: `user-${id % 97}`, text: 'a line of chat text' })))).subarray(0, 1024 * 1024);
const result = {
  messageBytes: MESSAGE.length,
  deflateNoWindowUs: perCall(20_000, () => deflateRawSync(MESSAGE, { finishFlush: Z_SYNC_FLUSH, windowBits: 15 })),
  deflateWindow15Us: perCall(5_000, () => deflateRawSync(MESSAGE, { finishFlush: Z_SYNC_FLUSH, windowBits: 15, dictionary: HISTORY })),
  deflateWindow12Us: perCall(10_000, () => deflateRawSync(MESSAGE, { finishFlush: Z_SYNC_FLUSH, windowBits: 12, dictionary: HISTORY.subarray(-4096) })),
  inflateWindow15Us: perCall(20_000, () => inflateRawSync(compressed, { finishFlush: Z_SYNC_FLUSH, windowBits: 15, dictionary: HISTORY })),
  streamRoundTripUs: await streamPerMessage(5_000),
  deflateMsPerMiB: perCall(20, () => deflateRawSync(text, { finishFlush: Z_SYNC_FLUSH, windowBits: 15, level: 6 })) / 1000,
};
if (values.json) process.stdout.write(`${JSON.stringify(result)}\n`);
else for (const [name, value] of Object.entries(result)) process.stdout.write(`${name.padEnd(20)} ${value.toFixed(2)}\n`);
