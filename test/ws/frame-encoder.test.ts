/**
 * The frame encoder (ws/frame-encoder.ts): byte-exact against RFC 6455
 * §5.7's examples and against the test helper's independent builder at
 * every length boundary; round trips through the parser for both roles,
 * by all three ways of sending (into a buffer, a frame of its own, a
 * header for a gather write), in random cuts; one frame shared by many
 * receivers; client keys from the pooled source, one per frame; each
 * misuse with its error, thrown before a byte is written.
 */
import t from 'tap';
import fc from 'fast-check';
import { FrameEncoder, frameHeaderSize, writeFrameHeader } from '../../packages/reactor/src/ws/frame-encoder.js';
import type { MaskKeySource } from '../../packages/reactor/src/ws/mask.js';
import { OPCODE_BINARY, OPCODE_CLOSE, OPCODE_CONTINUATION, OPCODE_PING, OPCODE_PONG, OPCODE_TEXT, type Opcode } from '../../packages/reactor/src/ws/wire.js';
import { FrameParser } from '../../packages/reactor/src/ws/frame-parser.js';
import { RFC_KEY, Recorder, cut, frame, joined, parse, type FrameEvent } from './frames.js';

const hex = (bytes: Uint8Array): string => Buffer.from(bytes).toString('hex');
const fixedKeys = (...keys: number[]): MaskKeySource => {
  let index = 0;
  return { next: () => keys[index++ % keys.length]! };
};

t.test("RFC 6455 §5.7's examples, byte for byte", (t) => {
  const server = new FrameEncoder('server');
  const client = new FrameEncoder('client', fixedKeys(RFC_KEY));
  const hello = Buffer.from('Hello');
  t.equal(hex(server.frame(OPCODE_TEXT, hello)), '810548656c6c6f', 'a single-frame unmasked text message');
  t.equal(hex(client.frame(OPCODE_TEXT, hello)), '818537fa213d7f9f4d5158', 'a single-frame masked text message');
  t.equal(hex(server.frame(OPCODE_TEXT, hello, 0, 3, false)), '010348656c', 'a fragmented unmasked text message: first');
  t.equal(hex(server.frame(OPCODE_CONTINUATION, hello, 3, 5, true)), '80026c6f', '... and last');
  t.equal(hex(server.frame(OPCODE_PING, hello)), '890548656c6c6f', 'an unmasked ping');
  t.equal(hex(client.frame(OPCODE_PONG, hello)), '8a8537fa213d7f9f4d5158', 'a masked pong');
  t.equal(hex(server.frame(OPCODE_BINARY, new Uint8Array(256)).subarray(0, 4)), '827e0100', '256 bytes: a 16-bit length');
  t.equal(hex(server.frame(OPCODE_BINARY, new Uint8Array(65536)).subarray(0, 10)), '827f0000000000010000', '64 KiB: a 64-bit length');
  t.same([...hello], [...Buffer.from('Hello')], 'the payload was not changed by the client frames');
  t.end();
});

t.test('headers at every length boundary match the independent builder; sizes are the shortest encoding', (t) => {
  const target = new Uint8Array(20);
  for (const size of [0, 1, 125, 126, 127, 0xffff, 0x10000, 2 ** 32 - 1, 2 ** 32, 2 ** 32 + 5, Number.MAX_SAFE_INTEGER]) {
    for (const key of [null, 0xa1b2c3d4]) {
      for (const [final, compressed] of [[true, false], [false, true], [false, false]] as const) {
        const end = writeFrameHeader(target, 3, OPCODE_BINARY, size, final, compressed, key);
        const expected = frame({ opcode: OPCODE_BINARY, declaredLength: size, fin: final, rsv: compressed ? 0x40 : 0, mask: key });
        t.equal(hex(target.subarray(3, end)), hex(expected), `${size} bytes, key ${key}, final ${final}, compressed ${compressed}`);
        t.equal(end - 3, frameHeaderSize(size, key !== null));
      }
    }
  }
  t.same([0, 125, 126, 65535, 65536].map((size) => frameHeaderSize(size, false)), [2, 2, 4, 4, 10]);
  t.same([0, 125, 126, 65535, 65536].map((size) => frameHeaderSize(size, true)), [6, 6, 8, 8, 14]);
  const client = new FrameEncoder('client');
  t.equal(client.headerSize(70000), 14);
  t.equal(client.frameSize(70000), 70014);
  t.equal(new FrameEncoder('server').frameSize(5), 7);
  t.end();
});

/** The events a receiver gets for one message sent whole. */
const received = (opcode: Opcode, payload: Uint8Array): FrameEvent[] =>
  opcode === OPCODE_PING || opcode === OPCODE_PONG
    ? [{ type: opcode === OPCODE_PING ? 'ping' : 'pong', bytes: Buffer.from(payload) }]
    : [{ type: 'start', binary: opcode === OPCODE_BINARY, compressed: false }, { type: 'data', bytes: Buffer.from(payload), final: true }];

t.test('fast-check: every way of sending, either role, parses back to the payload in any cuts', (t) => {
  const arbitrary = fc.record({
    role: fc.constantFrom<'server' | 'client'>('server', 'client'),
    way: fc.constantFrom('encodeFrame', 'frame', 'header'),
    opcode: fc.constantFrom<Opcode>(OPCODE_BINARY, OPCODE_PING, OPCODE_PONG),
    payload: fc.uint8Array({ maxLength: 70_000, size: 'max' }),
    at: fc.nat(9),
    cuts: fc.array(fc.nat(), { maxLength: 5 }),
  });
  fc.assert(
    fc.property(arbitrary, ({ role, way, opcode, payload: generated, at, cuts }) => {
      const payload = opcode === OPCODE_BINARY ? generated : generated.subarray(0, 125);
      const original = Buffer.from(payload);
      const encoder = new FrameEncoder(role);
      let wire: Uint8Array;
      if (way === 'frame') wire = encoder.frame(opcode, payload);
      else if (way === 'header') wire = Buffer.concat([encoder.header(opcode, payload), payload]);
      else {
        const target = new Uint8Array(at + encoder.frameSize(payload.length) + 3);
        const end = encoder.encodeFrame(target, at, opcode, payload);
        if (end !== at + encoder.frameSize(payload.length)) return false;
        wire = target.subarray(at, end);
      }
      const result = parse(cut(wire, cuts), { role: role === 'server' ? 'client' : 'server' });
      return result.failure === null && JSON.stringify(joined(result.events)) === JSON.stringify(received(opcode, original));
    }),
    { numRuns: 300 },
  );
  t.pass('300 frames');
  t.end();
});

t.test('a range of a payload, short and long, is copied (server) or masked (client) from where it lies', (t) => {
  const payload = Buffer.from(Array.from({ length: 300 }, (_, index) => index & 0xff));
  for (const role of ['server', 'client'] as const) {
    const encoder = new FrameEncoder(role);
    for (const [start, end] of [[5, 9], [7, 290], [0, 300], [300, 300]] as const) {
      const wire = encoder.frame(OPCODE_BINARY, payload, start, end);
      const result = parse([wire], { role: role === 'server' ? 'client' : 'server' });
      t.same(joined(result.events), received(OPCODE_BINARY, payload.subarray(start, end)), `${role}, [${start}, ${end})`);
    }
  }
  t.end();
});

t.test('text and fragments: a message sent in pieces with a ping between arrives whole', (t) => {
  const encoder = new FrameEncoder('client');
  const text = Buffer.from('fragmented €uro text', 'utf8');
  const wire = Buffer.concat([
    encoder.frame(OPCODE_TEXT, text, 0, 12, false),
    encoder.frame(OPCODE_PING, Buffer.from('p')),
    encoder.frame(OPCODE_CONTINUATION, text, 12, 14, false),
    encoder.frame(OPCODE_CONTINUATION, text, 14, text.length, true),
  ]);
  t.same(joined(parse([wire]).events), [
    { type: 'start', binary: false, compressed: false },
    { type: 'data', bytes: text.subarray(0, 12), final: false },
    { type: 'ping', bytes: Buffer.from('p') },
    { type: 'data', bytes: text.subarray(12), final: true },
  ]);
  const compressed = new FrameEncoder('server').frame(OPCODE_BINARY, Buffer.from('zz'), 0, 2, true, true);
  t.equal(compressed[0], 0xc2, 'FIN and RSV1');
  t.same(parse([compressed], { role: 'client', perMessageDeflate: true }).events[0], { type: 'start', binary: true, compressed: true });
  t.end();
});

t.test('a client draws a key per frame; a server frame is the same bytes for every receiver (broadcast)', (t) => {
  const client = new FrameEncoder('client');
  const payload = Buffer.from('same payload');
  t.not(hex(client.frame(OPCODE_BINARY, payload)), hex(client.frame(OPCODE_BINARY, payload)), 'two keys, two encodings');
  t.ok(client.masked);
  const server = new FrameEncoder('server');
  t.notOk(server.masked);
  const shared = server.frame(OPCODE_TEXT, Buffer.from('to all'));
  const before = hex(shared);
  for (let receiver = 0; receiver < 3; receiver += 1) {
    const recorder = new Recorder();
    new FrameParser(recorder, { role: 'client' }).execute(shared); // the shared bytes themselves, not a copy
    t.same(recorder.events, received(OPCODE_TEXT, Buffer.from('to all')), `receiver ${receiver}`);
  }
  t.equal(hex(shared), before, 'the shared frame is not changed by being read (a client unmasks nothing)');
  t.end();
});

t.test('header(): a server leaves the payload alone, a client masks it in place with the header key', (t) => {
  const payload = Buffer.from('large payload, sent by writev');
  const serverHeader = new FrameEncoder('server').header(OPCODE_BINARY, payload);
  t.equal(hex(serverHeader), '821d');
  t.equal(payload.toString(), 'large payload, sent by writev');
  const clientHeader = new FrameEncoder('client', fixedKeys(0x01020304)).header(OPCODE_BINARY, payload, 6, 13);
  t.equal(hex(clientHeader), '828701020304');
  t.equal(payload.toString('latin1', 0, 6), 'large ', 'outside the range: untouched');
  t.not(payload.toString('latin1', 6, 13), 'payload', 'the range is masked in place');
  t.same(parse([Buffer.concat([clientHeader, payload.subarray(6, 13)])]).events, received(OPCODE_BINARY, Buffer.from('payload')));
  t.end();
});

t.test('closeFrame(): a code and a reason, a code alone, nothing; masked for a client', (t) => {
  const server = new FrameEncoder('server');
  t.equal(hex(server.closeFrame()), '8800', 'no payload: the peer reports 1005');
  t.equal(hex(server.closeFrame(1000)), '880203e8');
  t.same(parse([server.closeFrame(4000, 'done ✓')], { role: 'client' }).events, [{ type: 'close', code: 4000, reason: 'done ✓' }]);
  const client = new FrameEncoder('client');
  t.same(parse([client.closeFrame(1001, 'bye')]).events, [{ type: 'close', code: 1001, reason: 'bye' }]);
  t.same(parse([client.closeFrame()]).events, [{ type: 'close', code: 1005, reason: '' }]);
  t.throws(() => server.closeFrame(1005), { code: 'ERR_OUT_OF_RANGE' });
  t.throws(() => server.closeFrame(1000, 'x'.repeat(124)), { code: 'ERR_OUT_OF_RANGE' });
  t.end();
});

t.test('misuse throws before anything is written: opcodes, control frame rules, RSV1 on a continuation, ranges, types', (t) => {
  const server = new FrameEncoder('server');
  const target = new Uint8Array(16);
  const payload = new Uint8Array(4);
  const untouched = (): boolean => target.every((byte) => byte === 0);
  const cases: Array<[string, () => unknown, string]> = [
    ['a reserved opcode', () => server.encodeFrame(target, 0, 0x3 as Opcode, payload), 'ERR_INVALID_ARG_VALUE'],
    ['an opcode that is no number', () => server.encodeFrame(target, 0, 'text' as unknown as Opcode, payload), 'ERR_INVALID_ARG_TYPE'],
    ['a 126-byte ping', () => server.frame(OPCODE_PING, new Uint8Array(126)), 'ERR_OUT_OF_RANGE'],
    ['a fragmented ping', () => server.encodeFrame(target, 0, OPCODE_PING, payload, 0, 4, false), 'ERR_INVALID_ARG_VALUE'],
    ['a compressed close', () => server.encodeFrame(target, 0, OPCODE_CLOSE, payload, 0, 2, true, true), 'ERR_INVALID_ARG_VALUE'],
    ['a compressed continuation', () => server.encodeFrame(target, 0, OPCODE_CONTINUATION, payload, 0, 4, true, true), 'ERR_INVALID_ARG_VALUE'],
    ['final not a boolean', () => server.encodeFrame(target, 0, OPCODE_BINARY, payload, 0, 4, 1 as unknown as boolean), 'ERR_INVALID_ARG_TYPE'],
    ['compressed not a boolean', () => server.encodeFrame(target, 0, OPCODE_BINARY, payload, 0, 4, true, 'no' as unknown as boolean), 'ERR_INVALID_ARG_TYPE'],
    ['no room for the frame', () => server.encodeFrame(target, 11, OPCODE_BINARY, payload), 'ERR_OUT_OF_RANGE'],
    ['a negative offset', () => server.encodeFrame(target, -1, OPCODE_BINARY, payload), 'ERR_OUT_OF_RANGE'],
    ['a fractional offset', () => server.encodeFrame(target, 0.5, OPCODE_BINARY, payload), 'ERR_OUT_OF_RANGE'],
    ['start past the payload', () => server.encodeFrame(target, 0, OPCODE_BINARY, payload, 5), 'ERR_OUT_OF_RANGE'],
    ['end before start', () => server.encodeFrame(target, 0, OPCODE_BINARY, payload, 3, 2), 'ERR_OUT_OF_RANGE'],
    ['end past the payload', () => server.frame(OPCODE_BINARY, payload, 0, 5), 'ERR_OUT_OF_RANGE'],
    ['a payload that is no Uint8Array', () => server.header(OPCODE_BINARY, 'text' as unknown as Uint8Array), 'ERR_INVALID_ARG_TYPE'],
    ['a target that is no Uint8Array', () => server.encodeFrame([] as unknown as Uint8Array, 0, OPCODE_BINARY, payload), 'ERR_INVALID_ARG_TYPE'],
    ['a negative payload size', () => writeFrameHeader(target, 0, OPCODE_BINARY, -1, true, false, null), 'ERR_OUT_OF_RANGE'],
    ['a payload size over 2^53 - 1', () => writeFrameHeader(target, 0, OPCODE_BINARY, 2 ** 53, true, false, null), 'ERR_OUT_OF_RANGE'],
    ['a key over 32 bits', () => writeFrameHeader(target, 0, OPCODE_BINARY, 1, true, false, 2 ** 32), 'ERR_OUT_OF_RANGE'],
    ['a negative key', () => writeFrameHeader(target, 0, OPCODE_BINARY, 1, true, false, -1), 'ERR_OUT_OF_RANGE'],
    ['no room for the header', () => writeFrameHeader(target, 10, OPCODE_BINARY, 70000, true, false, null), 'ERR_OUT_OF_RANGE'],
    ['a role that is neither', () => new FrameEncoder('both' as 'server'), 'ERR_INVALID_ARG_VALUE'],
    ['keys without next()', () => new FrameEncoder('client', {} as MaskKeySource), 'ERR_INVALID_ARG_TYPE'],
    ['keys null', () => new FrameEncoder('client', null as unknown as MaskKeySource), 'ERR_INVALID_ARG_TYPE'],
  ];
  for (const [name, call, code] of cases) t.throws(call, { code }, name);
  t.ok(untouched(), 'not a byte written by any of them');
  t.end();
});
