/**
 * Masking (ws/mask.ts) is byte i XOR key byte (i mod 4), wherever the
 * range lies and however it is cut. How: a one-line reference; fast-check
 * over ranges at every alignment of a shared ArrayBuffer (the word path
 * and its byte head and tail), phases, pieces, and copies into another
 * buffer; the random key pool drawing once per 2,048 keys.
 */
import t from 'tap';
import fc from 'fast-check';
import { RandomMaskKeys, maskInto, randomMaskKeys, readMaskKey, unmask, writeMaskKey } from '../../packages/reactor/src/ws/mask.js';
import { MASK_KEYS_POOL_SIZE, MASK_WORDS_SIZE_MIN } from '../../packages/reactor/src/ws/limits.js';

/** The definition (RFC 6455 §5.3): byte i of the payload XOR byte (i mod 4) of the key, first wire byte first. */
function reference(bytes: Uint8Array, key: number, phase: number): Uint8Array {
  const keyBytes = [key >>> 24, (key >>> 16) & 0xff, (key >>> 8) & 0xff, key & 0xff];
  return bytes.map((byte, index) => byte ^ keyBytes[(phase + index) % 4]!);
}

const key32 = fc.integer({ min: 0, max: 0xffff_ffff });

t.test('unmask in place, at any offset of a larger buffer, in any pieces, equals the reference', (t) => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 600, size: 'max' }), fc.nat(7), key32, fc.nat(3), fc.array(fc.nat(), { maxLength: 4 }), (payload, at, key, phase, cuts) => {
      const slab = new Uint8Array(new ArrayBuffer(payload.length + 16), 3); // byteOffset 3: the words are never where the view starts
      slab.set(payload, at);
      const bounds = [...new Set([0, ...cuts.map((cut) => cut % (payload.length + 1)), payload.length])].sort((a, b) => a - b);
      let running = phase;
      for (let piece = 0; piece + 1 < bounds.length; piece += 1) running = unmask(slab, at + bounds[piece]!, at + bounds[piece + 1]!, key, running);
      if (running !== (phase + payload.length) % 4) return false;
      return Buffer.from(slab.subarray(at, at + payload.length)).equals(reference(payload, key, phase)) && slab.subarray(0, at).every((byte) => byte === 0);
    }),
    { numRuns: 2_000 },
  );
  t.pass('2,000 runs');
  t.end();
});

t.test('maskInto copies masked and leaves the source alone, short and long, any alignment of either side', (t) => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 400, size: 'max' }), fc.nat(5), fc.nat(5), key32, fc.nat(3), (payload, sourceAt, targetAt, key, phase) => {
      const source = new Uint8Array(payload.length + 8);
      source.set(payload, sourceAt);
      const before = Buffer.from(source);
      const target = new Uint8Array(payload.length + 8);
      const after = maskInto(source, sourceAt, sourceAt + payload.length, target, targetAt, key, phase);
      return after === (phase + payload.length) % 4 && Buffer.from(target.subarray(targetAt, targetAt + payload.length)).equals(reference(payload, key, phase)) && before.equals(source);
    }),
    { numRuns: 2_000 },
  );
  t.pass('2,000 runs');
  t.end();
});

t.test('masking twice gives the payload back; the word path is used from MASK_WORDS_SIZE_MIN bytes', (t) => {
  const payload = new Uint8Array(MASK_WORDS_SIZE_MIN * 4).map((_, index) => index);
  const copy = Uint8Array.from(payload);
  unmask(copy, 1, copy.length - 1, 0xdeadbeef, 2);
  t.notSame(copy, payload);
  unmask(copy, 1, copy.length - 1, 0xdeadbeef, 2);
  t.same(copy, payload);
  t.equal(unmask(copy, 0, 0, 0x01020304), 0, 'an empty range, phase 0 by default');
  t.equal(maskInto(copy, 5, 5, copy, 0, 0x01020304), 0);
  t.end();
});

t.test('a key is written and read first wire byte first', (t) => {
  const bytes = new Uint8Array(6);
  writeMaskKey(bytes, 1, 0x11223344);
  t.same([...bytes], [0, 0x11, 0x22, 0x33, 0x44, 0]);
  t.equal(readMaskKey(bytes, 1), 0x11223344);
  writeMaskKey(bytes, 2, 0xffffffff);
  t.equal(readMaskKey(bytes, 2), 0xffffffff, 'unsigned');
  t.end();
});

t.test('RandomMaskKeys draws its pool once per MASK_KEYS_POOL_SIZE / 4 keys, and the keys differ', (t) => {
  const keys = new RandomMaskKeys();
  const seen = new Set<number>();
  const count = (MASK_KEYS_POOL_SIZE / 4) * 2 + 1; // two full pools and one key of a third
  let bad = 0;
  for (let index = 0; index < count; index += 1) {
    const key = keys.next();
    if (!Number.isInteger(key) || key < 0 || key > 0xffff_ffff) bad += 1;
    seen.add(key);
  }
  t.equal(bad, 0, 'every key a 32-bit unsigned integer');
  // 4,097 keys of 32 random bits: a collision is possible (p ~ 0.2%) but two are vanishingly rare.
  t.ok(seen.size >= count - 1, `${seen.size} distinct keys of ${count}`);
  t.type(randomMaskKeys.next(), 'number', 'the shared source');
  t.end();
});
