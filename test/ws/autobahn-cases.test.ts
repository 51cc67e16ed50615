/**
 * The codec against the Autobahn|Testsuite's case sections 1-7, 9 and 10,
 * at the codec level: the suite's fuzzing client cannot run on this
 * machine (it needs Python 2.7 with Autobahn 0.10.9 and Twisted 19.10 from
 * PyPI, which is not reachable here, or a Docker engine, which is not
 * running), so these cases are written from its descriptions and
 * expectations. How: an echo endpoint made of the FrameParser and a
 * server FrameEncoder (what the coming zepoll/ws server does with each
 * event: echo a message whole, answer a ping with its pong, answer a close
 * with its code, fail with the error's close code), fed the client frames
 * of each case whole, in the suite's chop sizes or byte by byte; its
 * output is read back by a client parser. What needs the server itself
 * (timing between chops, write order against a close, throughput at
 * 16 MiB, sending auto-fragmented) is left to the server's suite.
 */
import t from 'tap';
import { FrameEncoder } from '../../packages/reactor/src/ws/frame-encoder.js';
import type { FrameHandler } from '../../packages/reactor/src/ws/frame-handler.js';
import { FrameParser } from '../../packages/reactor/src/ws/frame-parser.js';
import { WebSocketProtocolError } from '../../packages/reactor/src/ws/protocol-error.js';
import { OPCODE_BINARY, OPCODE_CLOSE, OPCODE_CONTINUATION, OPCODE_PING, OPCODE_PONG, OPCODE_TEXT } from '../../packages/reactor/src/ws/wire.js';
import { cut, frame, joined, parse, type FrameEvent, type FrameSpec } from './frames.js';

/** What the server will do with each parser event, in the order the events come. */
class EchoEndpoint implements FrameHandler {
  readonly output: Buffer[] = [];
  failure: number | null = null;
  private readonly encoder = new FrameEncoder('server');
  private readonly parser = new FrameParser(this, { role: 'server' });
  private parts: Buffer[] = [];
  private binary = false;

  feed(chunk: Uint8Array): void {
    if (this.failure !== null) return;
    try {
      this.parser.execute(Uint8Array.from(chunk));
    } catch (error) {
      if (!(error instanceof WebSocketProtocolError)) throw error;
      this.failure = error.closeCode;
      this.output.push(this.encoder.closeFrame(error.closeCode));
    }
  }

  onMessageStart(binary: boolean): void {
    this.binary = binary;
    this.parts = [];
  }

  onMessageData(data: Uint8Array, start: number, end: number, final: boolean): void {
    this.parts.push(Buffer.from(data.subarray(start, end)));
    if (final) this.output.push(this.encoder.frame(this.binary ? OPCODE_BINARY : OPCODE_TEXT, Buffer.concat(this.parts)));
  }

  onPing(data: Uint8Array, start: number, end: number): void {
    this.output.push(this.encoder.frame(OPCODE_PONG, data, start, end));
  }

  onPong(): void {}

  onClose(code: number): void {
    this.output.push(code === 1005 ? this.encoder.closeFrame() : this.encoder.closeFrame(code));
  }
}

interface Case {
  readonly id: string;
  readonly frames: readonly FrameSpec[];
  /** The server's frames, as a client reads them. */
  readonly expect: readonly FrameEvent[];
  /** The close code the connection is failed with, if it is. */
  readonly failure?: number;
  /** The suite's chop size (bytes per write); each case also runs whole and byte by byte. */
  readonly chop?: number;
}

const textFrame = (payload: string | Buffer, fin = true, rsv = 0): FrameSpec => ({ opcode: OPCODE_TEXT, payload, fin, rsv });
const binaryFrame = (payload: Buffer, fin = true, rsv = 0): FrameSpec => ({ opcode: OPCODE_BINARY, payload, fin, rsv });
const more = (payload: string | Buffer, fin = true): FrameSpec => ({ opcode: OPCODE_CONTINUATION, payload, fin });
const ping = (payload: string | Buffer = '', more: Partial<FrameSpec> = {}): FrameSpec => ({ opcode: OPCODE_PING, payload, ...more });
const pong = (payload: string | Buffer = '', more: Partial<FrameSpec> = {}): FrameSpec => ({ opcode: OPCODE_PONG, payload, ...more });
const closeWith = (code?: number, reason: Buffer | string = ''): FrameSpec => ({
  opcode: OPCODE_CLOSE,
  payload: code === undefined ? Buffer.alloc(0) : Buffer.concat([Buffer.from([code >>> 8, code & 0xff]), Buffer.from(reason)]),
});
const echo = (payload: string | Buffer, isBinary = false): FrameEvent[] => [
  { type: 'start', binary: isBinary, compressed: false },
  { type: 'data', bytes: Buffer.from(payload), final: true },
];
const ponged = (payload: string | Buffer = ''): FrameEvent => ({ type: 'pong', bytes: Buffer.from(payload) });
const closed = (code: number, reason = ''): FrameEvent => ({ type: 'close', code, reason });
const stars = (size: number): string => '*'.repeat(size);
const bytesOf = (size: number): Buffer => Buffer.alloc(size, 0xfe);
const hex = (text: string): Buffer => Buffer.from(text.replace(/ /g, ''), 'hex');

const CASES: Case[] = [
  // 1: framing, text and binary at each length boundary, whole and in 997-byte chops.
  ...[0, 125, 126, 127, 128, 65535, 65536].map((size, index) => ({ id: `1.1.${index + 1}`, frames: [textFrame(stars(size))], expect: echo(stars(size)) })),
  { id: '1.1.8', frames: [textFrame(stars(65536))], expect: echo(stars(65536)), chop: 997 },
  ...[0, 125, 126, 127, 128, 65535, 65536].map((size, index) => ({ id: `1.2.${index + 1}`, frames: [binaryFrame(bytesOf(size))], expect: echo(bytesOf(size), true) })),
  { id: '1.2.8', frames: [binaryFrame(bytesOf(65536))], expect: echo(bytesOf(65536), true), chop: 997 },
  // 2: pings and pongs.
  { id: '2.1', frames: [ping()], expect: [ponged()] },
  { id: '2.2', frames: [ping('Hello, world!')], expect: [ponged('Hello, world!')] },
  { id: '2.3', frames: [ping(hex('00 ff fe fd fc fb 00 ff'))], expect: [ponged(hex('00 ff fe fd fc fb 00 ff'))] },
  { id: '2.4', frames: [ping(bytesOf(125))], expect: [ponged(bytesOf(125))] },
  { id: '2.5', frames: [ping(bytesOf(126))], expect: [closed(1002)], failure: 1002 },
  { id: '2.6', frames: [ping(bytesOf(125))], expect: [ponged(bytesOf(125))], chop: 1 },
  { id: '2.7', frames: [pong()], expect: [] },
  { id: '2.8', frames: [pong('unsolicited pong payload')], expect: [] },
  { id: '2.9', frames: [pong('unsolicited pong payload'), ping('ping payload')], expect: [ponged('ping payload')] },
  { id: '2.10', frames: Array.from({ length: 10 }, (_, index) => ping(`payload-${index}`)), expect: Array.from({ length: 10 }, (_, index) => ponged(`payload-${index}`)) },
  { id: '2.11', frames: Array.from({ length: 10 }, (_, index) => ping(`payload-${index}`)), expect: Array.from({ length: 10 }, (_, index) => ponged(`payload-${index}`)), chop: 1 },
  // 3: reserved bits (no extension negotiated): what came before is echoed, then the connection fails; nothing after is answered.
  { id: '3.1', frames: [textFrame('Hello, world!', true, 0x10)], expect: [closed(1002)], failure: 1002 },
  { id: '3.2', frames: [textFrame('Hello, world!'), textFrame('Hello, world!', true, 0x20), ping()], expect: [...echo('Hello, world!'), closed(1002)], failure: 1002 },
  { id: '3.3', frames: [textFrame('Hello, world!'), textFrame('Hello, world!', true, 0x30), ping()], expect: [...echo('Hello, world!'), closed(1002)], failure: 1002, chop: 1 },
  { id: '3.4', frames: [textFrame('Hello, world!'), textFrame('Hello, world!', true, 0x40), ping()], expect: [...echo('Hello, world!'), closed(1002)], failure: 1002, chop: 1 },
  { id: '3.5', frames: [binaryFrame(hex('00 ff fe fd fc fb 00 ff'), true, 0x50)], expect: [closed(1002)], failure: 1002 },
  { id: '3.6', frames: [ping('Hello, world!', { rsv: 0x60 })], expect: [closed(1002)], failure: 1002 },
  { id: '3.7', frames: [{ ...closeWith(1000), rsv: 0x70 }], expect: [closed(1002)], failure: 1002 },
  // 4: reserved opcodes, alone and after a valid message.
  ...[3, 4, 5, 6, 7].map((opcode, index) => ({ id: `4.1.${index + 1}`, frames: [textFrame('Hello'), { opcode, payload: 'x' }, ping()], expect: [...echo('Hello'), closed(1002)], failure: 1002 })),
  ...[0xb, 0xc, 0xd, 0xe, 0xf].map((opcode, index) => ({ id: `4.2.${index + 1}`, frames: [textFrame('Hello'), { opcode, payload: 'x' }, ping()], expect: [...echo('Hello'), closed(1002)], failure: 1002 })),
  // 5: fragmentation.
  { id: '5.1', frames: [ping('fragment1', { fin: false }), more('fragment2')], expect: [closed(1002)], failure: 1002 },
  { id: '5.2', frames: [pong('fragment1', { fin: false }), more('fragment2')], expect: [closed(1002)], failure: 1002 },
  { id: '5.3', frames: [textFrame('fragment1', false), more('fragment2')], expect: echo('fragment1fragment2') },
  { id: '5.4', frames: [textFrame('fragment1', false), more('fragment2')], expect: echo('fragment1fragment2'), chop: 1 },
  { id: '5.6', frames: [textFrame('fragment1', false), ping('ping payload'), more('fragment2')], expect: [ponged('ping payload'), ...echo('fragment1fragment2')] },
  { id: '5.8', frames: [textFrame('fragment1', false), ping('ping payload'), more('fragment2')], expect: [ponged('ping payload'), ...echo('fragment1fragment2')], chop: 1 },
  { id: '5.9', frames: [more('non-continuation payload'), textFrame('Hello, world!')], expect: [closed(1002)], failure: 1002 },
  { id: '5.12', frames: [more('non-continuation payload', false), textFrame('Hello, world!')], expect: [closed(1002)], failure: 1002 },
  { id: '5.15', frames: [textFrame('fragment1', false), more('fragment2'), more('fragment3', false), textFrame('fragment4')], expect: [...echo('fragment1fragment2'), closed(1002)], failure: 1002 },
  { id: '5.17', frames: [more('fragment1'), textFrame('fragment2', false), more('fragment3')], expect: [closed(1002)], failure: 1002 },
  {
    id: '5.19',
    frames: [textFrame('fragment1', false), more('fragment2', false), ping('pongme 1!'), more('fragment3', false), more('fragment4', false), ping('pongme 2!'), more('fragment5')],
    expect: [ponged('pongme 1!'), ponged('pongme 2!'), ...echo('fragment1fragment2fragment3fragment4fragment5')],
  },
  { id: '5.20', frames: [textFrame('fragment1', false), more('fragment2', false), ping('pongme 1!'), more('fragment3', false), more('fragment4', false), ping('pongme 2!'), more('fragment5')], expect: [ponged('pongme 1!'), ponged('pongme 2!'), ...echo('fragment1fragment2fragment3fragment4fragment5')], chop: 1 },
  // 6: UTF-8 handling (the validator's own tests cover every sequence class against TextDecoder).
  { id: '6.1.1', frames: [textFrame('')], expect: echo('') },
  { id: '6.1.2', frames: [textFrame('', false), more('', false), more('')], expect: echo('') },
  { id: '6.2.1', frames: [textFrame('Hello-µ@ßöäüàá-UTF-8!!')], expect: echo('Hello-µ@ßöäüàá-UTF-8!!') },
  { id: '6.2.3', frames: [...[...Buffer.from('Hello-µ@ßöäüàá-UTF-8!!')].map((byte, index, all) => (index === 0 ? textFrame(Buffer.from([byte]), false) : more(Buffer.from([byte]), index === all.length - 1)))], expect: echo('Hello-µ@ßöäüàá-UTF-8!!') },
  { id: '6.3.1', frames: [textFrame(hex('ce ba e1 bd b9 cf 83 ce bc ce b5 ed a0 80 65 64 69 74 65 64'))], expect: [closed(1007)], failure: 1007 },
  { id: '6.4.1', frames: [textFrame(hex('ce ba e1 bd b9 cf 83 ce bc ce b5'), false), more(hex('f4 90 80 80'), false), more(hex('65 64 69 74 65 64'))], expect: [closed(1007)], failure: 1007 },
  { id: '6.4.3', frames: [textFrame(hex('ce ba e1 bd b9 cf 83 ce bc ce b5 f4 90 80 80 65 64 69 74 65 64'))], expect: [closed(1007)], failure: 1007, chop: 11 },
  { id: '6.6.1', frames: [textFrame(hex('ce'))], expect: [closed(1007)], failure: 1007 },
  { id: '6.6.11', frames: [textFrame(hex('ce ba e1 bd b9 cf 83 ce bc ce b5'))], expect: echo(hex('ce ba e1 bd b9 cf 83 ce bc ce b5')) },
  { id: '6.8.1 (5-byte form)', frames: [textFrame(hex('f8 88 80 80 80'))], expect: [closed(1007)], failure: 1007 },
  { id: '6.9.4 (last code point)', frames: [textFrame(hex('f4 8f bf bf'))], expect: echo(hex('f4 8f bf bf')) },
  { id: '6.11.5 (just past U+10FFFF)', frames: [textFrame(hex('f4 90 80 80'))], expect: [closed(1007)], failure: 1007 },
  { id: '6.12.1 (a lone continuation)', frames: [textFrame(hex('80'))], expect: [closed(1007)], failure: 1007 },
  { id: '6.14.10 (a truncated 4-byte form)', frames: [textFrame(hex('f4 8f bf'))], expect: [closed(1007)], failure: 1007 },
  { id: '6.17.1 (impossible byte)', frames: [textFrame(hex('fe'))], expect: [closed(1007)], failure: 1007 },
  { id: '6.18.1 (overlong "/")', frames: [textFrame(hex('c0 af'))], expect: [closed(1007)], failure: 1007 },
  { id: '6.19.1 (single surrogate)', frames: [textFrame(hex('ed a0 80'))], expect: [closed(1007)], failure: 1007 },
  { id: '6.20.1 (paired surrogates)', frames: [textFrame(hex('ed a0 80 ed b0 80'))], expect: [closed(1007)], failure: 1007 },
  { id: '6.22.1 (U+FFFE, a noncharacter: valid UTF-8)', frames: [textFrame(hex('ef bf be'))], expect: echo(hex('ef bf be')) },
  { id: '6.22.34 (U+10FFFF)', frames: [textFrame(hex('f4 8f bf bf'))], expect: echo(hex('f4 8f bf bf')) },
  { id: '6.23.1 (U+FFFD)', frames: [textFrame(hex('ef bf bd'))], expect: echo(hex('ef bf bd')) },
  // 7: closing.
  { id: '7.1.1', frames: [textFrame('Hello World!'), closeWith(1000)], expect: [...echo('Hello World!'), closed(1000)] },
  { id: '7.1.2', frames: [closeWith(1000), closeWith(1000)], expect: [closed(1000)] },
  { id: '7.1.3', frames: [closeWith(1000), ping('after close')], expect: [closed(1000)] },
  { id: '7.1.4', frames: [closeWith(1000), textFrame('after close')], expect: [closed(1000)] },
  { id: '7.1.5', frames: [textFrame('fragment1', false), closeWith(1000), more('fragment2')], expect: [closed(1000)] },
  { id: '7.3.1', frames: [closeWith()], expect: [closed(1005)] },
  { id: '7.3.2', frames: [{ opcode: OPCODE_CLOSE, payload: hex('03') }], expect: [closed(1002)], failure: 1002 },
  { id: '7.3.3', frames: [closeWith(1000)], expect: [closed(1000)] },
  { id: '7.3.4', frames: [closeWith(1000, 'Hello World!')], expect: [closed(1000)] },
  { id: '7.3.5', frames: [closeWith(1000, stars(123))], expect: [closed(1000)] },
  { id: '7.3.6', frames: [closeWith(1000, stars(124))], expect: [closed(1002)], failure: 1002 },
  { id: '7.5.1', frames: [closeWith(1000, hex('ce ba e1 bd b9 cf 83 ce bc ce b5 ed a0 80 65 64 69 74 65 64'))], expect: [closed(1007)], failure: 1007 },
  ...[1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 3000, 3999, 4000, 4999].map((code, index) => ({ id: `7.7.${index + 1}`, frames: [closeWith(code)], expect: [closed(code)] })),
  ...[0, 999, 1004, 1005, 1006, 1016, 1100, 2000, 2999].map((code, index) => ({ id: `7.9.${index + 1}`, frames: [closeWith(code)], expect: [closed(1002)], failure: 1002 })),
  { id: '7.13.1', frames: [closeWith(5000)], expect: [closed(1002)], failure: 1002 },
  { id: '7.13.2', frames: [closeWith(65535)], expect: [closed(1002)], failure: 1002 },
  // 9 (sizes; the suite's 1-16 MiB messages and their timing are the server's) and 10 (an auto-fragmented message).
  { id: '9.1.1', frames: [textFrame(stars(64 * 1024))], expect: echo(stars(64 * 1024)) },
  { id: '9.2.1', frames: [binaryFrame(bytesOf(64 * 1024))], expect: echo(bytesOf(64 * 1024), true) },
  { id: '9.4.1 (64 KiB in 64-byte frames)', frames: Array.from({ length: 1024 }, (_, index) => (index === 0 ? binaryFrame(bytesOf(64), false) : more(bytesOf(64), index === 1023))), expect: echo(bytesOf(64 * 1024), true) },
  { id: '10.1.1', frames: Array.from({ length: 51 }, (_, index) => (index === 0 ? textFrame(stars(1300), false) : more(stars(index === 50 ? 65536 - 50 * 1300 : 1300), index === 50))), expect: echo(stars(65536)) },
];

t.test('Autobahn sections 1-7, 9 and 10, case by case, at the codec level', (t) => {
  for (const testCase of CASES) {
    const wire = Buffer.concat(testCase.frames.map(frame));
    const splits: Array<[string, number[]]> = [['whole', []]];
    if (testCase.chop !== undefined) splits.push([`chop ${testCase.chop}`, Array.from({ length: Math.ceil(wire.length / testCase.chop) }, (_, index) => index * testCase.chop!)]);
    if (wire.length <= 4096) splits.push(['byte by byte', [...wire.keys()]]);
    for (const [how, cuts] of splits) {
      const endpoint = new EchoEndpoint();
      for (const chunk of cut(wire, cuts)) endpoint.feed(chunk);
      const reply = parse([Buffer.concat(endpoint.output)], { role: 'client' });
      const same = reply.failure === null && JSON.stringify(joined(reply.events)) === JSON.stringify(joined(testCase.expect)) && endpoint.failure === (testCase.failure ?? null);
      t.ok(same, `${testCase.id} (${how})`) || t.comment({ got: joined(reply.events).map((event) => event.type), failure: endpoint.failure });
    }
  }
  t.end();
});
