/**
 * MessageAssembler (ws/message-assembler.ts): the bytes a message handler
 * gets from the pieces a FrameParser hands over. How: uncompressed
 * messages whole in one piece (a view of the chunk, not a copy), across
 * pieces (copied, joined; an empty last piece), compressed messages whole
 * and across pieces (inflated once, from a copy), compressed text that is
 * not UTF-8 once inflated (1007), and pieces dropped when the socket
 * closes mid-message.
 */
import t from 'tap';
import zlib from 'node:zlib';
import { MessageDeflate } from '../../packages/reactor/src/ws/deflate.js';
import { resolveDeflateOptions } from '../../packages/reactor/src/ws/deflate-options.js';
import { MessageAssembler } from '../../packages/reactor/src/ws/message-assembler.js';

const deflated = (payload: Buffer): Buffer => zlib.deflateRawSync(payload, { finishFlush: zlib.constants.Z_SYNC_FLUSH }).subarray(0, -4);
const agreement = { serverNoContextTakeover: false, clientNoContextTakeover: false, serverMaxWindowBits: 15, clientMaxWindowBits: 15, header: 'permessage-deflate' };
const assembler = () => new MessageAssembler(new MessageDeflate(agreement, 'server', resolveDeflateOptions('o', true, 'server')!, 1024 * 1024));

t.test('uncompressed: a view when whole, a join across pieces, an empty last piece', (t) => {
  const message = assembler();
  const chunk = Buffer.from('..hello..');
  message.begin(false, false);
  const whole = message.add(chunk, 2, 7, true)!;
  t.equal(whole.toString(), 'hello');
  t.ok(whole.buffer === chunk.buffer && whole.byteOffset === chunk.byteOffset + 2, 'a view of the chunk');
  message.begin(true, false);
  t.equal(message.add(Buffer.from('ab'), 0, 2, false), null);
  t.equal(message.add(Buffer.from(''), 0, 0, false), null, 'an empty piece keeps nothing');
  t.equal(message.add(Buffer.from('cd'), 0, 2, false), null);
  t.equal(message.add(Buffer.from('ef'), 0, 2, true)!.toString(), 'abcdef');
  t.equal(message.binary, true);
  message.begin(false, false);
  const source = Buffer.from('single');
  message.add(source, 0, 6, false);
  const joined = message.add(Buffer.alloc(0), 0, 0, true)!;
  t.equal(joined.toString(), 'single', 'one piece, then an empty last one: that piece');
  source.fill(0);
  t.equal(joined.toString(), 'single', 'a copy: the chunk may be reused');
  t.end();
});

t.test('compressed: inflated whole or across pieces; text checked after inflating', (t) => {
  const message = assembler();
  const text = Buffer.from('inflate me, '.repeat(50));
  const payload = deflated(text);
  message.begin(false, true);
  t.same(message.add(payload, 0, payload.length, true), text, 'whole');
  message.begin(false, true);
  t.equal(message.add(payload, 0, 5, false), null);
  t.equal(message.add(payload, 5, 9, false), null);
  t.same(message.add(payload, 9, payload.length, true), text, 'across pieces');
  const bad = deflated(Buffer.from([0x68, 0xc3, 0x28]));
  message.begin(false, true);
  t.throws(() => message.add(bad, 0, bad.length, true), { code: 'ERR_ZEPOLL_WS_PROTOCOL', closeCode: 1007, message: /not UTF-8 once inflated/ });
  message.begin(true, true);
  t.same(message.add(bad, 0, bad.length, true), Buffer.from([0x68, 0xc3, 0x28]), 'binary: not checked');
  t.end();
});

t.test('drop(): the pieces kept are forgotten', (t) => {
  const message = assembler();
  message.begin(false, false);
  message.add(Buffer.from('lost'), 0, 4, false);
  message.drop();
  message.begin(false, false);
  const fresh = Buffer.from('fresh');
  const result = message.add(fresh, 0, 5, true)!;
  t.equal(result.toString(), 'fresh');
  t.ok(result.buffer === fresh.buffer && result.byteOffset === fresh.byteOffset, 'the next message starts anew: a view');
  t.end();
});
