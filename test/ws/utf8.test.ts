/**
 * The UTF-8 validator (ws/utf8.ts) says what Node's fatal TextDecoder
 * says, and says it at the same byte. How: TextDecoder('utf-8', { fatal:
 * true }) is the reference, whole (valid or not) and streaming byte by
 * byte (the byte at which it throws is where a fail-fast check must fail:
 * RFC 6455 §8.1). Every 1- and 2-byte sequence, every 3- and 4-byte
 * sequence over bytes that stand for each DFA class boundary, named cases
 * (surrogates, overlongs, code points over U+10FFFF, truncated
 * characters), then fast-check: random bytes and mutated text cut into
 * random pieces, short and long (pieces of 1 KiB and more go through
 * buffer.isUtf8 up to their last whole character).
 */
import t from 'tap';
import fc from 'fast-check';
import { Utf8Validator, isValidUtf8 } from '../../packages/reactor/src/ws/utf8.js';
import { UTF8_NATIVE_SIZE_MIN } from '../../packages/reactor/src/ws/limits.js';

const RUNS = 3_000;

/** TextDecoder's verdict on the whole. */
function referenceValid(bytes: Uint8Array): boolean {
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(bytes);
    return true;
  } catch {
    return false;
  }
}

/** The index of the byte at which a streaming fatal TextDecoder throws, or -1. */
function referenceFailIndex(bytes: Uint8Array): number {
  const decoder = new TextDecoder('utf-8', { fatal: true });
  for (let index = 0; index < bytes.length; index += 1) {
    try {
      decoder.decode(bytes.subarray(index, index + 1), { stream: true });
    } catch {
      return index;
    }
  }
  return -1;
}

/** The index of the byte at which the validator, fed one byte at a time, first answers false, or -1. */
function validatorFailIndex(bytes: Uint8Array): number {
  const validator = new Utf8Validator();
  for (let index = 0; index < bytes.length; index += 1) if (!validator.write(bytes, index, index + 1)) return index;
  return -1;
}

/** Bytes that stand for the boundaries of every byte class the DFA has. */
const REPRESENTATIVES = [0x00, 0x41, 0x7f, 0x80, 0x8f, 0x90, 0x9f, 0xa0, 0xbf, 0xc0, 0xc1, 0xc2, 0xdf, 0xe0, 0xe1, 0xec, 0xed, 0xee, 0xef, 0xf0, 0xf1, 0xf3, 0xf4, 0xf5, 0xff];

t.test('every 1- and 2-byte sequence: the same verdict and the same failing byte as TextDecoder', (t) => {
  let mismatches = 0;
  const bytes = new Uint8Array(2);
  for (let first = 0; first < 256; first += 1) {
    const one = new Uint8Array([first]);
    if (isValidUtf8(one) !== referenceValid(one)) mismatches += 1;
    for (let second = 0; second < 256; second += 1) {
      bytes[0] = first;
      bytes[1] = second;
      if (isValidUtf8(bytes) !== referenceValid(bytes)) mismatches += 1;
      if (validatorFailIndex(bytes) !== referenceFailIndex(bytes)) mismatches += 1;
    }
  }
  t.equal(mismatches, 0);
  t.end();
});

t.test('3- and 4-byte sequences over each class boundary: the same verdict and failing byte', (t) => {
  let mismatches = 0;
  let checked = 0;
  const three = new Uint8Array(3);
  const four = new Uint8Array(4);
  for (const a of REPRESENTATIVES) {
    for (const b of REPRESENTATIVES) {
      for (const c of REPRESENTATIVES) {
        three.set([a, b, c]);
        if (isValidUtf8(three) !== referenceValid(three) || validatorFailIndex(three) !== referenceFailIndex(three)) mismatches += 1;
        if (a < 0xf0) continue; // a 4th byte matters only after a 4-byte lead
        for (const d of REPRESENTATIVES) {
          four.set([a, b, c, d]);
          checked += 1;
          if (isValidUtf8(four) !== referenceValid(four) || validatorFailIndex(four) !== referenceFailIndex(four)) mismatches += 1;
        }
      }
    }
  }
  t.equal(mismatches, 0, `${checked} 4-byte sequences and ${REPRESENTATIVES.length ** 3} 3-byte ones`);
  t.end();
});

t.test('named cases: surrogates, overlongs, beyond U+10FFFF, truncated, and the edges of each range', (t) => {
  const cases: Array<[string, number[], boolean]> = [
    ['ASCII', [0x48, 0x69], true],
    ['U+0080, the first 2-byte character', [0xc2, 0x80], true],
    ['U+07FF, the last', [0xdf, 0xbf], true],
    ['U+0800, the first 3-byte character', [0xe0, 0xa0, 0x80], true],
    ['U+D7FF, just below the surrogates', [0xed, 0x9f, 0xbf], true],
    ['U+D800, a high surrogate', [0xed, 0xa0, 0x80], false],
    ['U+DFFF, a low surrogate', [0xed, 0xbf, 0xbf], false],
    ['a surrogate pair encoded as CESU-8', [0xed, 0xa0, 0xbd, 0xed, 0xb2, 0xa9], false],
    ['U+E000, just above the surrogates', [0xee, 0x80, 0x80], true],
    ['U+FFFF', [0xef, 0xbf, 0xbf], true],
    ['U+10000, the first 4-byte character', [0xf0, 0x90, 0x80, 0x80], true],
    ['U+1F600', [0xf0, 0x9f, 0x98, 0x80], true],
    ['U+10FFFF, the last code point', [0xf4, 0x8f, 0xbf, 0xbf], true],
    ['U+110000, beyond Unicode', [0xf4, 0x90, 0x80, 0x80], false],
    ['a 5-byte form', [0xf8, 0x88, 0x80, 0x80, 0x80], false],
    ['a 6-byte form', [0xfc, 0x84, 0x80, 0x80, 0x80, 0x80], false],
    ['overlong NUL in 2 bytes', [0xc0, 0x80], false],
    ['overlong "/" in 2 bytes', [0xc1, 0xbf], false],
    ['overlong in 3 bytes', [0xe0, 0x80, 0xaf], false],
    ['overlong U+07FF in 3 bytes', [0xe0, 0x9f, 0xbf], false],
    ['overlong in 4 bytes', [0xf0, 0x80, 0x80, 0xaf], false],
    ['overlong U+FFFF in 4 bytes', [0xf0, 0x8f, 0xbf, 0xbf], false],
    ['a lone continuation byte', [0x80], false],
    ['a lead byte followed by ASCII', [0xc3, 0x41], false],
    ['a truncated 2-byte character', [0xc3], false],
    ['a truncated 3-byte character', [0xe2, 0x82], false],
    ['a truncated 4-byte character', [0xf0, 0x9f, 0x98], false],
    ['0xFE', [0xfe], false],
    ['0xFF', [0xff], false],
  ];
  for (const [name, list, valid] of cases) {
    const bytes = new Uint8Array(list);
    t.equal(isValidUtf8(bytes), valid, name);
    t.equal(referenceValid(bytes), valid, `${name} (TextDecoder agrees)`);
    t.equal(validatorFailIndex(bytes), referenceFailIndex(bytes), `${name}: fails at the same byte`);
  }
  t.end();
});

t.test('a validator: complete only on a character boundary, false forever after an invalid byte, reset() starts over', (t) => {
  const validator = new Utf8Validator();
  t.ok(validator.valid && validator.complete, 'an empty text is complete');
  const euro = new Uint8Array([0xe2, 0x82, 0xac]);
  t.ok(validator.write(euro, 0, 1));
  t.ok(validator.valid);
  t.notOk(validator.complete, 'inside a character');
  t.ok(validator.write(euro, 1, 2));
  t.ok(validator.write(euro, 2, 3));
  t.ok(validator.complete, 'the character split over three pieces is whole');
  t.ok(validator.write(euro, 0, 0), 'an empty piece changes nothing');
  t.notOk(validator.write(new Uint8Array([0xff])), 'invalid');
  t.notOk(validator.valid);
  t.notOk(validator.complete);
  t.notOk(validator.write(new Uint8Array([0x41])), 'and stays invalid');
  validator.reset();
  t.ok(validator.valid && validator.complete);
  t.ok(validator.write(euro), 'defaults to the whole array');
  t.ok(isValidUtf8(euro, 0, 3) && !isValidUtf8(euro, 0, 2) && isValidUtf8(euro, 1, 1));
  t.end();
});

/** Bytes biased towards what breaks decoders: valid text, then bytes replaced, dropped or inserted. */
const textBytes = (sizeMax: number): fc.Arbitrary<Uint8Array> =>
  fc.oneof(
    fc.uint8Array({ maxLength: sizeMax, size: 'max' }),
    fc.array(fc.constantFrom(...REPRESENTATIVES), { maxLength: sizeMax }).map((list) => new Uint8Array(list)),
    fc
      .tuple(
        fc.string({ unit: 'grapheme', maxLength: sizeMax, size: 'max' }),
        fc.array(fc.tuple(fc.nat(), fc.constantFrom(...REPRESENTATIVES), fc.constantFrom('replace', 'insert', 'drop')), { maxLength: 3 }),
      )
      .map(([text, edits]) => {
        const list = [...Buffer.from(text, 'utf8')];
        for (const [at, byte, edit] of edits) {
          if (list.length === 0) break;
          const index = at % list.length;
          if (edit === 'replace') list[index] = byte;
          else if (edit === 'insert') list.splice(index, 0, byte);
          else list.splice(index, 1);
        }
        return new Uint8Array(list);
      }),
  );

/** The piece index at which pieces cut at `cuts` first fail, per the validator and per the byte-by-byte reference. */
function checkPieces(bytes: Uint8Array, cuts: number[]): { ours: number; reference: number; complete: boolean } {
  const bounds = [...new Set([0, ...cuts.map((cut) => cut % (bytes.length + 1)), bytes.length])].sort((a, b) => a - b);
  const failByte = referenceFailIndex(bytes);
  const validator = new Utf8Validator();
  let ours = -1;
  let reference = -1;
  for (let piece = 0; piece + 1 < bounds.length; piece += 1) {
    const [start, end] = [bounds[piece]!, bounds[piece + 1]!];
    if (reference === -1 && failByte >= start && failByte < end) reference = piece;
    if (ours === -1 && !validator.write(bytes, start, end)) ours = piece;
  }
  return { ours, reference, complete: validator.complete };
}

t.test('fast-check: random pieces fail in the piece TextDecoder fails in, and a whole text is complete exactly when TextDecoder accepts it', (t) => {
  fc.assert(
    fc.property(textBytes(64), fc.array(fc.nat(), { maxLength: 6 }), (bytes, cuts) => {
      const { ours, reference, complete } = checkPieces(bytes, cuts);
      return ours === reference && complete === referenceValid(bytes) && isValidUtf8(bytes) === referenceValid(bytes);
    }),
    { numRuns: RUNS },
  );
  t.pass(`${RUNS} runs`);
  t.end();
});

t.test('fast-check: long pieces (the native path) agree too, an unfinished last character carried to the next piece', (t) => {
  const long = fc
    .tuple(fc.string({ unit: 'binary', minLength: UTF8_NATIVE_SIZE_MIN, maxLength: UTF8_NATIVE_SIZE_MIN * 3 }), fc.option(fc.tuple(fc.nat(), fc.constantFrom(...REPRESENTATIVES))))
    .map(([text, edit]) => {
      const bytes = new Uint8Array(Buffer.from(text, 'utf8'));
      if (edit !== null) bytes[edit[0] % bytes.length] = edit[1];
      return bytes;
    });
  fc.assert(
    fc.property(long, fc.array(fc.nat(), { maxLength: 3 }), (bytes, cuts) => {
      const { ours, reference, complete } = checkPieces(bytes, cuts);
      return ours === reference && complete === referenceValid(bytes) && isValidUtf8(bytes) === referenceValid(bytes);
    }),
    { numRuns: 300 },
  );
  t.pass('300 runs');
  t.end();
});

t.test('long pieces that end inside a character, or on stray continuation bytes, or inside a buffer at an offset', (t) => {
  const ascii = Buffer.alloc(UTF8_NATIVE_SIZE_MIN + 5, 0x61);
  const tails: Array<[number[], number[]]> = [
    [[0xc3], [0xa9]],
    [[0xe2, 0x82], [0xac]],
    [[0xf0, 0x9f, 0x98], [0x80]],
    [[0xf0, 0x9f], [0x98, 0x80]],
    [[0xf0], [0x9f, 0x98, 0x80]],
  ];
  for (const [tail, completion] of tails) {
    const bytes = Buffer.concat([ascii, Buffer.from(tail)]);
    const validator = new Utf8Validator();
    t.ok(validator.write(bytes), `a piece ending in ${Buffer.from(tail).toString('hex')} is valid so far`);
    t.notOk(validator.complete, '... and unfinished');
    t.ok(validator.write(new Uint8Array(completion)) && validator.complete, '... and completed by the next piece');
  }
  const strays = Buffer.concat([ascii, Buffer.from([0x80, 0x80, 0x80])]);
  t.notOk(isValidUtf8(strays), 'continuation bytes with no lead in the last three');
  t.notOk(new Utf8Validator().write(strays), '... fail at once');
  const lead = Buffer.concat([ascii, Buffer.from([0xf5])]);
  t.notOk(new Utf8Validator().write(lead), 'a byte that never occurs, last');
  const early = Buffer.concat([Buffer.from([0xc0, 0xaf]), ascii]);
  t.notOk(new Utf8Validator().write(early), 'an overlong at the start of a long piece');
  const slab = Buffer.alloc(UTF8_NATIVE_SIZE_MIN * 4, 0x62);
  Buffer.from('€'.repeat(UTF8_NATIVE_SIZE_MIN), 'utf8').copy(slab, 3);
  t.ok(isValidUtf8(slab, 3, 3 + UTF8_NATIVE_SIZE_MIN * 3), 'a range of a larger buffer');
  t.notOk(isValidUtf8(slab, 4, 3 + UTF8_NATIVE_SIZE_MIN * 3), 'the same range one byte in: starts on a continuation byte');
  const split = new Utf8Validator();
  t.ok(split.write(slab, 3, 4) && split.write(slab, 4, 3 + UTF8_NATIVE_SIZE_MIN * 3) && split.complete, 'a character finished at the start of a long piece');
  t.end();
});
