/**
 * The frame parser (ws/frame-parser.ts) against RFC 6455 §5: what it hands
 * its handler, and the close code each violation fails with, at the byte
 * that shows it. How: frames built byte by byte (frames.ts, not the
 * encoder), fed whole, at every split point, byte by byte and in random
 * cuts (fast-check over random message sequences with control frames
 * between fragments); every rule of §5.2-§5.5 and §8.1 once with its
 * close code; the limits; the zero-copy promise (a message in one chunk
 * is handed over in that chunk); options and handler checks.
 */
import t, { type Test } from 'tap';
import fc from 'fast-check';
import { FrameParser } from '../../packages/reactor/src/ws/frame-parser.js';
import { MESSAGE_SIZE_MAX } from '../../packages/reactor/src/ws/limits.js';
import { OPCODE_BINARY, OPCODE_CLOSE, OPCODE_CONTINUATION, OPCODE_PING, OPCODE_PONG, OPCODE_TEXT } from '../../packages/reactor/src/ws/wire.js';
import { Recorder, cut, frame, joined, parse, type FrameEvent, type FrameSpec } from './frames.js';

const bytes = (...specs: FrameSpec[]): Buffer => Buffer.concat(specs.map(frame));
const text = (payload: string | Uint8Array, more: Partial<FrameSpec> = {}): FrameSpec => ({ opcode: OPCODE_TEXT, payload, ...more });
const binary = (payload: string | Uint8Array, more: Partial<FrameSpec> = {}): FrameSpec => ({ opcode: OPCODE_BINARY, payload, ...more });
const continuation = (payload: string | Uint8Array, more: Partial<FrameSpec> = {}): FrameSpec => ({ opcode: OPCODE_CONTINUATION, payload, ...more });
const message = (isBinary: boolean, payload: string | Uint8Array, compressed = false): FrameEvent[] => [
  { type: 'start', binary: isBinary, compressed },
  { type: 'data', bytes: Buffer.from(payload), final: true },
];

/** The close code `input` fails with under `options` (whole, then byte by byte: the same), or null. */
function failureOf(t: Test, input: Buffer, options: { role: 'server' | 'client'; perMessageDeflate?: boolean; messageSizeMax?: number } = { role: 'server' }): number | null {
  const whole = parse([input], options);
  const bytewise = parse(cut(input, [...input.keys()]), options);
  t.equal(bytewise.failure, whole.failure, 'byte by byte fails the same way');
  return whole.failure;
}

t.test('single frames: text, binary, empty; 7-, 16- and 64-bit lengths at each boundary; longer encodings than needed', (t) => {
  t.same(parse([frame(text('Hello'))]).events, message(false, 'Hello'), 'a masked text frame (RFC 6455 §5.7)');
  t.same(parse([frame(binary(new Uint8Array([0, 1, 255])))]).events, message(true, new Uint8Array([0, 1, 255])));
  t.same(parse([frame(text(''))]).events, message(false, ''), 'an empty text message: one final piece, empty');
  for (const size of [125, 126, 127, 0xffff, 0x10000, 0x10001]) {
    const payload = new Uint8Array(size).map((_, index) => index & 0x7f);
    t.same(joined(parse([frame(binary(payload))]).events), message(true, payload), `${size} bytes`);
  }
  t.same(parse([frame(text('abc', { lengthForm: 16 }))]).events, message(false, 'abc'), 'a 16-bit length under 126');
  t.same(parse([frame(text('abc', { lengthForm: 64 }))]).events, message(false, 'abc'), 'a 64-bit length under 65536');
  const client = parse([frame(text('Hello', { mask: null }))], { role: 'client' });
  t.same(client.events, message(false, 'Hello'), 'an unmasked frame, read by a client');
  t.end();
});

t.test('a message in one chunk is handed over in that chunk (unmasked in place, no copy), in one final call', (t) => {
  const recorder = new Recorder();
  const parser = new FrameParser(recorder, { role: 'server' });
  const chunk = Buffer.concat([frame(text('one')), frame(binary('two'))]);
  parser.execute(chunk);
  t.equal(recorder.buffers.length, 2);
  t.ok(recorder.buffers.every((buffer) => buffer === chunk), 'the chunk itself');
  t.equal(chunk.toString('latin1', 6, 9), 'one', 'unmasked where it lay');
  t.ok(parser.idle);
  const ranged = new Recorder();
  const inner = Buffer.concat([Buffer.from('xx'), frame(text('mid')), Buffer.from('yy')]);
  new FrameParser(ranged, { role: 'server' }).execute(inner, 2, inner.length - 2);
  t.same(ranged.events, message(false, 'mid'), 'a range of a larger buffer');
  t.end();
});

t.test('a header, payload or control frame cut at every byte gives the same events', (t) => {
  const input = bytes(
    text('frag', { fin: false, lengthForm: 64 }),
    { opcode: OPCODE_PING, payload: 'are you there' },
    continuation('ment', { fin: false, lengthForm: 16 }),
    { opcode: OPCODE_PONG, payload: '' },
    continuation('ed', {}),
    binary(new Uint8Array(300).fill(7)),
    { opcode: OPCODE_CLOSE, payload: Buffer.from([0x03, 0xe8, 0x62, 0x79, 0x65]) },
  );
  const expected = joined(parse([input]).events);
  t.same(expected, [
    { type: 'start', binary: false, compressed: false },
    { type: 'data', bytes: Buffer.from('frag'), final: false },
    { type: 'ping', bytes: Buffer.from('are you there') },
    { type: 'data', bytes: Buffer.from('ment'), final: false },
    { type: 'pong', bytes: Buffer.alloc(0) },
    { type: 'data', bytes: Buffer.from('ed'), final: true },
    ...message(true, new Uint8Array(300).fill(7)),
    { type: 'close', code: 1000, reason: 'bye' },
  ]);
  let differ = 0;
  for (let at = 1; at < input.length; at += 1) if (!sameEvents(joined(parse(cut(input, [at])).events), expected)) differ += 1;
  t.equal(differ, 0, `all ${input.length - 1} two-piece splits`);
  t.ok(sameEvents(joined(parse(cut(input, [...input.keys()])).events), expected), 'one byte at a time');
  t.end();
});

function sameEvents(a: readonly FrameEvent[], b: readonly FrameEvent[]): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/** A random valid exchange: messages of 1-4 fragments (text cut anywhere, even inside a character), control frames between them. */
const exchange = fc.array(
  fc.record({
    isBinary: fc.boolean(),
    content: fc.oneof(fc.string({ unit: 'grapheme', maxLength: 40 }), fc.string({ unit: 'binary', minLength: 100, maxLength: 400 })),
    cuts: fc.array(fc.nat(), { maxLength: 3 }),
    controls: fc.array(fc.record({ opcode: fc.constantFrom(OPCODE_PING, OPCODE_PONG), payload: fc.uint8Array({ maxLength: 125, size: 'max' }) }), { maxLength: 2 }),
    forms: fc.array(fc.constantFrom<7 | 16 | 64 | undefined>(undefined, 16, 64), { minLength: 4, maxLength: 4 }),
    key: fc.integer({ min: 0, max: 0xffff_ffff }),
  }),
  { minLength: 1, maxLength: 5 },
);

t.test('fast-check: any exchange, in any cuts, gives the events of its model', (t) => {
  fc.assert(
    fc.property(exchange, fc.array(fc.nat(), { maxLength: 8 }), (messages, cuts) => {
      const specs: FrameSpec[] = [];
      const expected: FrameEvent[] = [];
      for (const { isBinary, content, cuts: fragmentCuts, controls, forms, key } of messages) {
        const payload = Buffer.from(content, 'utf8');
        const fragments = cut(payload, fragmentCuts);
        if (fragments.length === 0) fragments.push(payload);
        expected.push({ type: 'start', binary: isBinary, compressed: false });
        fragments.forEach((fragment, index) => {
          const fin = index === fragments.length - 1;
          const form = forms[index % 4]; // payloads stay under 64 KiB: any form fits
          specs.push({ opcode: index === 0 ? (isBinary ? OPCODE_BINARY : OPCODE_TEXT) : OPCODE_CONTINUATION, payload: fragment, fin, mask: key, ...(form === undefined ? {} : { lengthForm: form }) });
          if (fragment.length > 0 || fin) expected.push({ type: 'data', bytes: Buffer.from(fragment), final: fin });
          const control = controls[index];
          if (!fin && control !== undefined) {
            specs.push({ opcode: control.opcode, payload: control.payload, mask: key ^ 0x5a5a5a5a });
            expected.push({ type: control.opcode === OPCODE_PING ? 'ping' : 'pong', bytes: Buffer.from(control.payload) });
          }
        });
      }
      const input = bytes(...specs);
      const result = parse(cut(input, cuts));
      return result.failure === null && sameEvents(joined(result.events), joined(expected)) && result.parser.idle;
    }),
    { numRuns: 1_500 },
  );
  t.pass('1,500 exchanges');
  t.end();
});

t.test('masking (§5.1): a server fails an unmasked frame, a client a masked one, with 1002', (t) => {
  t.equal(failureOf(t, frame(text('hi', { mask: null }))), 1002);
  t.equal(failureOf(t, frame({ opcode: OPCODE_PING, mask: null })), 1002, 'control frames too');
  t.equal(failureOf(t, frame(text('hi')), { role: 'client' }), 1002);
  t.match(parse([frame(text('hi', { mask: null }))]).message, /unmasked frame from a client/);
  t.match(parse([frame(text('hi'))], { role: 'client' }).message, /masked frame from a server/);
  t.end();
});

t.test('RSV bits: RSV2 and RSV3 always 1002; RSV1 only on a first data frame under permessage-deflate', (t) => {
  const deflate = { role: 'server' as const, perMessageDeflate: true };
  t.equal(failureOf(t, frame(text('x', { rsv: 0x20 }))), 1002, 'RSV2');
  t.equal(failureOf(t, frame(text('x', { rsv: 0x10 }))), 1002, 'RSV3');
  t.equal(failureOf(t, frame(text('x', { rsv: 0x20 })), deflate), 1002, 'RSV2 under deflate');
  t.equal(failureOf(t, frame(text('x', { rsv: 0x40 }))), 1002, 'RSV1 without deflate');
  t.same(parse([frame(text('\xff\xfe', { rsv: 0x40 }))], deflate).events[0], { type: 'start', binary: false, compressed: true }, 'RSV1 with deflate: compressed');
  t.equal(parse([frame(text(Buffer.from([0xff]), { rsv: 0x40 }))], deflate).failure, null, "a compressed text's bytes are the inflater's to check");
  t.equal(failureOf(t, bytes(text('a', { fin: false, rsv: 0x40 }), continuation('b', { rsv: 0x40 })), deflate), 1002, 'RSV1 on a continuation');
  t.equal(failureOf(t, frame({ opcode: OPCODE_PING, rsv: 0x40 }), deflate), 1002, 'RSV1 on a control frame');
  const compressedFragments = parse([bytes(binary('a', { fin: false, rsv: 0x40 }), continuation('b'))], deflate);
  t.same(joined(compressedFragments.events), [{ type: 'start', binary: true, compressed: true }, { type: 'data', bytes: Buffer.from('ab'), final: true }]);
  t.end();
});

t.test('reserved opcodes 0x3-0x7 and 0xB-0xF fail with 1002, at the first byte pair', (t) => {
  for (const opcode of [0x3, 0x4, 0x5, 0x6, 0x7, 0xb, 0xc, 0xd, 0xe, 0xf]) {
    const result = parse([frame({ opcode, payload: 'x' }).subarray(0, 2)]);
    t.equal(result.failure, 1002, `opcode 0x${opcode.toString(16)}`);
    t.match(result.message, /reserved/);
  }
  t.end();
});

t.test('control frames: at most 125 bytes, never fragmented; a payload cut between chunks is gathered', (t) => {
  t.equal(failureOf(t, frame({ opcode: OPCODE_PING, payload: new Uint8Array(126) })), 1002, 'a 126-byte ping');
  t.equal(failureOf(t, frame({ opcode: OPCODE_PING, payload: new Uint8Array(5), lengthForm: 16 })), 1002, 'a 16-bit length on a control frame');
  t.equal(failureOf(t, frame({ opcode: OPCODE_PING, payload: 'x', fin: false })), 1002, 'a fragmented ping');
  t.equal(failureOf(t, frame({ opcode: OPCODE_CLOSE, fin: false })), 1002, 'a fragmented close');
  const big = new Uint8Array(125).map((_, index) => index);
  t.same(parse([frame({ opcode: OPCODE_PING, payload: big })]).events, [{ type: 'ping', bytes: Buffer.from(big) }], 'a 125-byte ping');
  const pieces = cut(frame({ opcode: OPCODE_PONG, payload: big }), [10, 50, 51, 100]);
  t.same(parse(pieces).events, [{ type: 'pong', bytes: Buffer.from(big) }], 'a pong in four pieces');
  const client = parse(cut(frame({ opcode: OPCODE_PING, payload: 'abc', mask: null }), [3]), { role: 'client' });
  t.same(client.events, [{ type: 'ping', bytes: Buffer.from('abc') }], 'an unmasked ping cut in two, read by a client');
  t.end();
});

t.test('fragmentation (§5.4): a continuation with no message, or a new message inside one, fails with 1002', (t) => {
  t.equal(failureOf(t, frame(continuation('x'))), 1002, 'a continuation first');
  t.equal(failureOf(t, bytes(text('a'), continuation('b'))), 1002, 'a continuation after a whole message');
  t.equal(failureOf(t, bytes(text('a', { fin: false }), text('b'))), 1002, 'text inside a message');
  t.equal(failureOf(t, bytes(binary('a', { fin: false }), binary('b'))), 1002, 'binary inside a message');
  const empty = parse([bytes(text('', { fin: false }), continuation('', { fin: false }), continuation('x', { fin: false }), continuation(''))]);
  t.same(empty.events, [{ type: 'start', binary: false, compressed: false }, { type: 'data', bytes: Buffer.from('x'), final: false }, { type: 'data', bytes: Buffer.alloc(0), final: true }], 'empty fragments give no piece but the final one');
  const recorder = new Recorder();
  const parser = new FrameParser(recorder, { role: 'server' });
  parser.execute(frame(text('a', { fin: false })));
  t.notOk(parser.idle, 'a message is unfinished');
  parser.execute(frame(continuation('b')));
  t.ok(parser.idle);
  t.end();
});

t.test('lengths and limits: a 64-bit length with its top bit set is 1002; past messageSizeMax is 1009, at the header', (t) => {
  t.equal(failureOf(t, frame(binary('x', { lengthForm: 64, declaredLength: 2 ** 63 }))), 1002, 'top bit set');
  t.equal(failureOf(t, frame(binary('x', { lengthForm: 64, declaredLength: 2 ** 62 }))), 1009, '2^62: no double holds it exactly, and no limit allows it');
  t.equal(failureOf(t, frame(binary('x', { lengthForm: 64, declaredLength: 2 ** 53 }))), 1009, '2^53');
  t.equal(failureOf(t, frame(binary('x', { lengthForm: 64, declaredLength: MESSAGE_SIZE_MAX + 1 }))), 1009, 'one byte over the default limit');
  const header = frame(binary('', { lengthForm: 64, declaredLength: MESSAGE_SIZE_MAX + 1 }));
  t.equal(header.length, 14);
  t.equal(parse([header]).failure, 1009, 'fails with the header alone: no payload byte has come');
  const small = { role: 'server' as const, messageSizeMax: 10 };
  t.equal(parse([frame(binary('0123456789'))], small).failure, null, 'exactly the limit');
  t.equal(failureOf(t, frame(binary('0123456789a')), small), 1009, 'one over');
  t.equal(failureOf(t, bytes(binary('012345', { fin: false }), continuation('6789'), binary('x')), small), null, 'ten in two fragments, then a new message');
  t.equal(failureOf(t, bytes(binary('012345', { fin: false }), { opcode: OPCODE_PING, payload: 'control frames do not count' }, continuation('6789a')), small), 1009, 'eleven over two fragments');
  t.end();
});

t.test('UTF-8 (§8.1): invalid text fails with 1007 in the fragment that shows it; a character may span fragments', (t) => {
  const euro = Buffer.from('€', 'utf8');
  t.same(joined(parse([bytes(text(euro.subarray(0, 1), { fin: false }), continuation(euro.subarray(1, 2), { fin: false }), continuation(euro.subarray(2)))]).events), message(false, '€'), 'a character over three fragments');
  const early = parse([frame(text(Buffer.from([0x61, 0xc0, 0x80]), { fin: false }))]);
  t.equal(early.failure, 1007, 'an overlong in a first fragment fails before the rest arrives');
  t.same(early.events, [{ type: 'start', binary: false, compressed: false }], 'and none of its bytes reach the handler');
  const partial = parse(cut(frame(text(Buffer.from('abcdef\xed\xa0\x80', 'latin1'))), [8, 12]));
  t.equal(partial.failure, 1007, 'a surrogate inside a frame cut between chunks');
  t.same(joined(partial.events), [{ type: 'start', binary: false, compressed: false }, { type: 'data', bytes: Buffer.from('abcdef'), final: false }], 'the valid bytes before it were handed over, the chunk with the surrogate was not');
  t.equal(failureOf(t, frame(text(euro.subarray(0, 2)))), 1007, 'a message that ends inside a character');
  t.equal(failureOf(t, bytes(text(euro.subarray(0, 2), { fin: false }), continuation(''))), 1007, '... even when its last fragment is empty');
  t.equal(failureOf(t, bytes(text('ok', { fin: false }), continuation(Buffer.from([0xf4, 0x90, 0x80, 0x80])))), 1007, 'above U+10FFFF in a continuation');
  t.equal(failureOf(t, frame(binary(Buffer.from([0xff])))), null, 'binary is not checked');
  t.end();
});

t.test('close frames: 1005 when empty, a code and a reason, 1002 for 1 byte or a code that may not travel, 1007 for a bad reason', (t) => {
  const close = (payload: number[] | Buffer): Buffer => frame({ opcode: OPCODE_CLOSE, payload: Buffer.from(payload) });
  t.same(parse([close([])]).events, [{ type: 'close', code: 1005, reason: '' }]);
  t.same(parse([close(Buffer.concat([Buffer.from([0x0b, 0xb8]), Buffer.from('é', 'utf8')]))]).events, [{ type: 'close', code: 3000, reason: 'é' }]);
  t.equal(failureOf(t, close([0x03])), 1002, 'a 1-byte payload');
  for (const code of [0, 999, 1004, 1005, 1006, 1015, 1016, 2000, 2999, 5000, 65535]) t.equal(parse([close([code >>> 8, code & 0xff])]).failure, 1002, `code ${code}`);
  for (const code of [1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014, 3000, 4999]) t.equal(parse([close([code >>> 8, code & 0xff])]).failure, null, `code ${code}`);
  t.equal(failureOf(t, close([0x03, 0xe8, 0xce, 0xba, 0xe1, 0xbd, 0xb9, 0xcf, 0x83, 0xce, 0xbc, 0xce, 0xb5, 0xed, 0xa0, 0x80, 0x65, 0x64, 0x69, 0x74, 0x65, 0x64])), 1007, 'a surrogate in the reason (Autobahn 7.5.1)');
  const afterClose = parse([bytes({ opcode: OPCODE_CLOSE, payload: Buffer.from([0x03, 0xe8]) }, text('late'), { opcode: OPCODE_PING })]);
  t.same(afterClose.events, [{ type: 'close', code: 1000, reason: '' }], 'nothing after a close frame is read');
  t.ok(afterClose.parser.closed);
  t.notOk(afterClose.parser.failed);
  const cutClose = parse(cut(close([0x03, 0xe9, 0x61]), [1, 2, 7]));
  t.same(cutClose.events, [{ type: 'close', code: 1001, reason: 'a' }], 'a close frame cut between chunks');
  t.end();
});

t.test('after a failure the parser reads nothing more', (t) => {
  const recorder = new Recorder();
  const parser = new FrameParser(recorder, { role: 'server' });
  t.throws(() => parser.execute(frame(text('x', { mask: null }))), { name: 'WebSocketProtocolError', code: 'ERR_ZEPOLL_WS_PROTOCOL', closeCode: 1002 });
  t.ok(parser.failed);
  t.notOk(parser.closed);
  parser.execute(frame(text('more')));
  t.same(recorder.events, [], 'ignored');
  t.end();
});

t.test('a throw from the handler leaves execute() with it', (t) => {
  const parser = new FrameParser(
    Object.assign(new Recorder(), {
      onPing(): void {
        throw new Error('handler bug');
      },
    }),
    { role: 'server' },
  );
  t.throws(() => parser.execute(frame({ opcode: OPCODE_PING })), /handler bug/);
  t.end();
});

t.test('options and handler are checked: role, messageSizeMax, perMessageDeflate, the five methods', (t) => {
  const handler = new Recorder();
  t.throws(() => new FrameParser(handler, { role: 'peer' as 'server' }), { code: 'ERR_INVALID_ARG_VALUE', message: /options.role/ });
  t.throws(() => new FrameParser(handler, { role: 'server', messageSizeMax: 0 }), { code: 'ERR_OUT_OF_RANGE', message: /messageSizeMax/ });
  t.throws(() => new FrameParser(handler, { role: 'server', messageSizeMax: 1.5 }), { code: 'ERR_OUT_OF_RANGE' });
  t.throws(() => new FrameParser(handler, { role: 'server', perMessageDeflate: 'yes' as unknown as boolean }), { code: 'ERR_INVALID_ARG_TYPE' });
  t.throws(() => new FrameParser(handler, null as unknown as { role: 'server' }), { code: 'ERR_INVALID_ARG_TYPE', message: /options/ });
  t.throws(() => new FrameParser(null as unknown as Recorder, { role: 'server' }), { code: 'ERR_INVALID_ARG_TYPE', message: /handler/ });
  const { onPong: _, ...partial } = { onMessageStart() {}, onMessageData() {}, onPing() {}, onPong() {}, onClose() {} };
  t.throws(() => new FrameParser(partial as unknown as Recorder, { role: 'server' }), { code: 'ERR_INVALID_ARG_TYPE', message: /handler.onPong/ });
  t.doesNotThrow(() => new FrameParser(handler, { role: 'client' }));
  t.end();
});
