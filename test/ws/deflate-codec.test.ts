/**
 * permessage-deflate's data path without sockets (ws/deflate.ts,
 * ws/deflate-window.ts). How: the window against a model (the last N
 * bytes of everything appended); the examples of RFC 7692 §7.2.3 and
 * pywebsocket's captured frames inflated (known answers, with and without
 * a shared window); a server's and a client's MessageDeflate talking to
 * each other over every agreement (both windows kept or not, 8-15 bits),
 * and to zlib streams kept open as the `ws` package keeps them (the other
 * way a peer can do it); the cases where compress() declines; the inflated
 * size bound (a zip bomb) and data that does not inflate; the scratch
 * input buffer.
 */
import t from 'tap';
import { randomBytes } from 'node:crypto';
import zlib from 'node:zlib';
import { DeflateWindow } from '../../packages/reactor/src/ws/deflate-window.js';
import { deflateShared, inflateInput, MessageDeflate } from '../../packages/reactor/src/ws/deflate.js';
import { resolveDeflateOptions, type PerMessageDeflateOptions } from '../../packages/reactor/src/ws/deflate-options.js';
import type { PerMessageDeflateAgreement } from '../../packages/reactor/src/ws/permessage-deflate.js';
import { WebSocketProtocolError } from '../../packages/reactor/src/ws/protocol-error.js';
import { INFLATE_SCRATCH_SIZE_MAX } from '../../packages/reactor/src/ws/limits.js';

const hex = (text: string): Buffer => Buffer.from(text.replace(/ /g, ''), 'hex');
const agreement = (terms: Partial<PerMessageDeflateAgreement> = {}): PerMessageDeflateAgreement => ({
  serverNoContextTakeover: false,
  clientNoContextTakeover: false,
  serverMaxWindowBits: 15,
  clientMaxWindowBits: 15,
  header: 'permessage-deflate',
  ...terms,
});
const options = (more: PerMessageDeflateOptions = {}) => resolveDeflateOptions('options', { threshold: 0, ...more }, 'server')!;
const LIMIT = 16 * 1024 * 1024;

/** A's message `payload` as the peer receives it: compressed by A (or sent as it is), inflated by B. */
function through(sender: MessageDeflate, receiver: MessageDeflate, payload: Buffer): { compressed: boolean; received: Buffer } {
  const compressed = sender.compress(payload);
  if (compressed === null) return { compressed: false, received: payload };
  const input = inflateInput(compressed.length);
  compressed.copy(input);
  return { compressed: true, received: receiver.inflate(input) };
}

/** The protocol error `fn` fails with, or null. */
function failure(fn: () => unknown): WebSocketProtocolError | null {
  try {
    fn();
    return null;
  } catch (error) {
    if (error instanceof WebSocketProtocolError) return error;
    throw error;
  }
}

/** Inflates a compressed payload (its trailer removed) as `deflate`'s socket receives it. */
function inflateAs(deflate: MessageDeflate, payload: Buffer): Buffer {
  const input = inflateInput(payload.length);
  payload.copy(input);
  return deflate.inflate(input);
}

t.test('the window holds the last N bytes of what went through it, oldest first', (t) => {
  const window = new DeflateWindow(64);
  t.equal(window.dictionary(), undefined, 'empty: no dictionary');
  let model = Buffer.alloc(0);
  const sizes = [1, 5, 0, 30, 20, 63, 64, 65, 3, 200, 7, 1, 1];
  for (const size of sizes) {
    const data = randomBytes(size);
    window.append(data);
    model = Buffer.concat([model, data]).subarray(-64);
    t.same(window.dictionary() ?? Buffer.alloc(0), model, `after ${size} bytes`);
    t.equal(window.size, model.length);
  }
  const full = window.dictionary()!;
  t.equal(full.length, 64);
  t.equal(window.dictionary(), full, 'full: the buffer itself, no view made');
  t.end();
});

t.test('RFC 7692 §7.2.3 examples and pywebsocket frames inflate to their text', (t) => {
  const server = () => new MessageDeflate(agreement(), 'server', options(), LIMIT);
  t.equal(inflateAs(server(), hex('f2 48 cd c9 c9 07 00')).toString(), 'Hello', '7.2.3.1: one message');
  const shared = server();
  t.equal(inflateAs(shared, hex('f2 48 cd c9 c9 07 00')).toString(), 'Hello', '7.2.3.2: first');
  t.equal(inflateAs(shared, hex('f2 00 11 00 00')).toString(), 'Hello', '7.2.3.2: second, from the shared window');
  t.equal(inflateAs(server(), hex('00 05 00 fa ff 48 65 6c 6c 6f 00')).toString(), 'Hello', '7.2.3.3: a block with no compression');
  t.equal(inflateAs(server(), hex('f3 48 cd c9 c9 07 00 00')).toString(), 'Hello', '7.2.3.4: BFINAL set');
  t.equal(inflateAs(server(), hex('f2 48 05 00 00 00 ff ff ca c9 c9 07 00')).toString(), 'Hello', '7.2.3.5: two blocks');
  t.equal(inflateAs(server(), hex('00')).toString(), '', 'an empty message');
  const tora = server();
  for (const payload of ['2a c9 2f 4a 04 00', '2a 01 62 00 00', '02 61 00 00']) t.equal(inflateAs(tora, hex(payload)).toString(), 'tora', `pywebsocket ${payload}`);
  const forgetful = new MessageDeflate(agreement({ clientNoContextTakeover: true }), 'server', options(), LIMIT);
  inflateAs(forgetful, hex('f2 48 cd c9 c9 07 00'));
  t.equal(failure(() => inflateAs(forgetful, hex('f2 00 11 00 00')))?.closeCode, 1007, 'no window kept: a reference into it does not inflate (1007)');
  t.end();
});

/** Messages a chat or feed sends: similar to each other, of many sizes, some incompressible. */
function messages(count: number): Buffer[] {
  const list: Buffer[] = [];
  for (let index = 0; index < count; index += 1) {
    const kind = index % 5;
    if (kind === 4) list.push(randomBytes((index * 37) % 3000));
    else list.push(Buffer.from(JSON.stringify({ index, user: `user-${index % 7}`, text: 'the quick brown fox '.repeat(1 + ((index * 13) % 200)) })));
  }
  return list;
}

t.test('a server and a client under every agreement: each message arrives whole, windows in step', (t) => {
  const list = messages(60);
  const compressible = list.filter((_, index) => index % 5 !== 4).length;
  for (const serverNoContextTakeover of [false, true])
    for (const clientNoContextTakeover of [false, true])
      for (const [serverMaxWindowBits, clientMaxWindowBits] of [
        [15, 15],
        [9, 8],
        [8, 12],
        [12, 10],
        [15, 9],
      ] as const) {
        const terms = agreement({ serverNoContextTakeover, clientNoContextTakeover, serverMaxWindowBits, clientMaxWindowBits });
        const server = new MessageDeflate(terms, 'server', options(), LIMIT);
        const client = new MessageDeflate(terms, 'client', options(), LIMIT);
        const name = JSON.stringify({ serverNoContextTakeover, clientNoContextTakeover, serverMaxWindowBits, clientMaxWindowBits });
        for (const [from, to, bits, who] of [
          [server, client, serverMaxWindowBits, 'server'],
          [client, server, clientMaxWindowBits, 'client'],
        ] as const) {
          let compressed = 0;
          let intact = 0;
          for (const message of list) {
            const result = through(from, to, message);
            if (result.compressed) compressed += 1;
            if (result.received.equals(message)) intact += 1;
          }
          t.equal(intact, list.length, `${name}: every message from the ${who} intact`);
          // Told an 8-bit window, an end sends uncompressed (zlib deflates 8 as 9); else all but the random ones shrink.
          t.equal(compressed, bits < 9 ? 0 : compressible, `${name}: ${compressed} of the ${who}'s ${list.length} compressed`);
          t.equal(from.sendWindowBits, bits < 9 ? 0 : bits);
        }
        // An end that sent nothing compressed made no window for it at the other end.
        const windows = (serverNoContextTakeover || serverMaxWindowBits < 9 ? 0 : 1 << serverMaxWindowBits) + (clientNoContextTakeover || clientMaxWindowBits < 9 ? 0 : 1 << clientMaxWindowBits);
        t.equal(server.windowBytes, windows, `${name}: the server keeps ${windows} bytes of windows`);
      }
  t.end();
});

/** A zlib stream kept open, as the `ws` package inflates: one write and one flush per message. */
function streamInflater(windowBits: number): (payload: Buffer) => Promise<Buffer> {
  const stream = zlib.createInflateRaw({ windowBits });
  const chunks: Buffer[] = [];
  stream.on('data', (chunk: Buffer) => chunks.push(chunk));
  return (payload) =>
    new Promise((resolve) => {
      stream.write(Buffer.concat([payload, hex('0000ffff')]));
      stream.flush(() => resolve(Buffer.concat(chunks.splice(0))));
    });
}

/** A zlib stream kept open, as the `ws` package deflates: Z_SYNC_FLUSH, the trailer removed. */
function streamDeflater(windowBits: number): (payload: Buffer) => Promise<Buffer> {
  const stream = zlib.createDeflateRaw({ windowBits });
  const chunks: Buffer[] = [];
  stream.on('data', (chunk: Buffer) => chunks.push(chunk));
  return (payload) =>
    new Promise((resolve) => {
      stream.write(payload);
      stream.flush(zlib.constants.Z_SYNC_FLUSH, () => resolve(Buffer.concat(chunks.splice(0)).subarray(0, -4)));
    });
}

t.test('against zlib streams kept open (how ws does it), with a window taken over both ways', async (t) => {
  for (const bits of [15, 10]) {
    const terms = agreement({ serverMaxWindowBits: bits, clientMaxWindowBits: bits });
    const server = new MessageDeflate(terms, 'server', options(), LIMIT);
    const peerInflate = streamInflater(bits);
    const peerDeflate = streamDeflater(bits);
    let intact = 0;
    const list = messages(40);
    for (const message of list) {
      const compressed = server.compress(message);
      if (compressed === null || (await peerInflate(compressed)).equals(message)) intact += 1;
      if (inflateAs(server, await peerDeflate(message)).equals(message)) intact += 1;
    }
    t.equal(intact, list.length * 2, `${bits} bits: every message both ways`);
  }
});

t.test('compress() declines under the threshold, without a window, and when it would not shrink', (t) => {
  const server = new MessageDeflate(agreement(), 'server', options({ threshold: 100 }), LIMIT);
  t.equal(server.compress(Buffer.from('a'.repeat(99))), null, 'under the threshold');
  t.type(server.compress(Buffer.from('a'.repeat(100))), Buffer, 'at the threshold');
  t.equal(server.compress(randomBytes(4000)), null, 'random bytes do not shrink');
  t.equal(server.windowBytes, 1 << 15, 'only the compressed message went into the window');
  t.equal(server.sharedWindowBits(99), 0, 'a publish under the threshold goes uncompressed');
  t.equal(server.sharedWindowBits(100), 15);
  const client = new MessageDeflate(agreement({ clientMaxWindowBits: 8 }), 'client', options(), LIMIT);
  t.equal(client.compress(Buffer.from('a'.repeat(1000))), null, 'told an 8-bit window: sends uncompressed');
  t.equal(client.sharedWindowBits(1000), 0);
  t.end();
});

t.test('a shared frame suits every peer with a window at least its own; a peer taking context over stays in step', (t) => {
  const payload = Buffer.from('shared news '.repeat(300));
  const shared = deflateShared(payload, 10, options());
  t.ok(shared !== null && shared.length < payload.length);
  t.equal(deflateShared(randomBytes(500), 15, options()), null, 'random bytes do not shrink');
  const terms = agreement({ serverMaxWindowBits: 10 });
  const server = new MessageDeflate(terms, 'server', options(), LIMIT);
  const client = new MessageDeflate(terms, 'client', options(), LIMIT);
  t.ok(through(server, client, Buffer.from('before '.repeat(100))).received.equals(Buffer.from('before '.repeat(100))));
  t.ok(inflateAs(client, shared!).equals(payload), 'the shared frame inflates at the peer');
  server.sharedSent(payload);
  const after = Buffer.from('shared news, after '.repeat(50));
  t.ok(through(server, client, after).received.equals(after), 'the next message refers to the shared one correctly');
  const forgetful = new MessageDeflate(agreement({ serverNoContextTakeover: true }), 'server', options(), LIMIT);
  forgetful.sharedSent(payload);
  t.equal(forgetful.windowBytes, 0, 'no context takeover: nothing kept');
  t.end();
});

t.test('the inflated size is bounded as it is made (1009); data that does not inflate is 1007', (t) => {
  const bomb = zlib.deflateRawSync(Buffer.alloc(64 * 1024 * 1024), { finishFlush: zlib.constants.Z_SYNC_FLUSH }).subarray(0, -4);
  const small = new MessageDeflate(agreement(), 'server', options(), 1024 * 1024);
  const started = process.hrtime.bigint();
  t.equal(failure(() => inflateAs(small, bomb))?.closeCode, 1009, `a ${bomb.length}-byte bomb of 64 MiB`);
  t.ok(Number(process.hrtime.bigint() - started) / 1e6 < 1000, 'stopped early');
  const exact = new MessageDeflate(agreement(), 'server', options(), 1000);
  t.equal(inflateAs(exact, zlib.deflateRawSync(Buffer.alloc(1000, 'x'), { finishFlush: zlib.constants.Z_SYNC_FLUSH }).subarray(0, -4)).length, 1000, 'exactly the bound');
  t.equal(failure(() => inflateAs(exact, zlib.deflateRawSync(Buffer.alloc(1001, 'x'), { finishFlush: zlib.constants.Z_SYNC_FLUSH }).subarray(0, -4)))?.closeCode, 1009, 'one byte over');
  t.match(failure(() => inflateAs(small, hex('ff ff ff'))), { closeCode: 1007, message: /does not inflate: invalid block type/ }, 'an invalid block type');
  t.end();
});

t.test('inflateInput: the thread scratch buffer while small, a buffer of its own above', (t) => {
  const first = inflateInput(10);
  const second = inflateInput(2000);
  t.equal(first.length, 14);
  t.equal(second.length, 2004);
  const again = inflateInput(2000);
  t.equal(again.buffer, second.buffer, 'reused');
  const large = inflateInput(INFLATE_SCRATCH_SIZE_MAX);
  t.equal(large.length, INFLATE_SCRATCH_SIZE_MAX + 4);
  t.not(large.buffer, again.buffer, 'its own');
  t.end();
});
