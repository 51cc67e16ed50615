/**
 * Close codes and payloads (ws/close.ts, RFC 6455 §5.5.1, §7.4). How: all
 * 65,536 codes against the RFC's table; received payloads of each shape
 * (empty, 1 byte, a code that may not travel, a reason that is not UTF-8);
 * payloads written and read back, and each misuse with its error.
 */
import t from 'tap';
import {
  CLOSE_NO_STATUS,
  closePayloadSize,
  isValidCloseCode,
  readCloseCode,
  readCloseReason,
  writeClosePayload,
} from '../../packages/reactor/src/ws/close.js';
import { WebSocketProtocolError } from '../../packages/reactor/src/ws/protocol-error.js';

/** The RFC's verdict, written out as the brief has it. */
function expected(code: number): boolean {
  if (code >= 1000 && code <= 1003) return true;
  if (code === 1004 || code === 1005 || code === 1006 || code === 1015) return false;
  if (code >= 1007 && code <= 1014) return true;
  if (code >= 3000 && code <= 4999) return true;
  return false;
}

t.test('every 16-bit code: valid on the wire exactly as RFC 6455 §7.4 and the IANA registry say', (t) => {
  const wrong: number[] = [];
  for (let code = 0; code <= 0xffff; code += 1) if (isValidCloseCode(code) !== expected(code)) wrong.push(code);
  t.same(wrong, []);
  for (const code of [0, 999, 1004, 1005, 1006, 1015, 1016, 2999, 5000, 65535]) t.notOk(isValidCloseCode(code), `${code}`);
  for (const code of [1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014, 3000, 4999]) t.ok(isValidCloseCode(code), `${code}`);
  t.notOk(isValidCloseCode(1000.5), 'not an integer');
  t.notOk(isValidCloseCode(Number.NaN));
  t.end();
});

/** The close code a read throws, or 'ok'. */
function failure(read: () => unknown): number | 'ok' {
  try {
    read();
    return 'ok';
  } catch (error) {
    if (error instanceof WebSocketProtocolError) return error.closeCode;
    throw error;
  }
}

t.test('received payloads: empty is 1005, one byte is 1002, a code that may not travel is 1002, a reason not UTF-8 is 1007', (t) => {
  const payload = (...bytes: number[]): Uint8Array => new Uint8Array(bytes);
  t.equal(readCloseCode(payload(), 0, 0), CLOSE_NO_STATUS);
  t.equal(readCloseReason(payload(), 0, 0), '');
  t.equal(failure(() => readCloseCode(payload(0x03), 0, 1)), 1002);
  t.equal(readCloseCode(payload(0x03, 0xe8), 0, 2), 1000);
  t.equal(readCloseReason(payload(0x03, 0xe8), 0, 2), '', 'no reason');
  for (const code of [0, 999, 1004, 1005, 1006, 1015, 1016, 2999, 5000, 65535]) t.equal(failure(() => readCloseCode(payload(code >>> 8, code & 0xff), 0, 2)), 1002, `code ${code}`);
  const reason = Buffer.from([0x0f, 0xa0, ...Buffer.from('bye ☃', 'utf8')]);
  t.equal(readCloseCode(reason, 0, reason.length), 4000);
  t.equal(readCloseReason(reason, 0, reason.length), 'bye ☃');
  const framed = Buffer.concat([Buffer.from([0xaa]), reason, Buffer.from([0xbb])]);
  t.equal(readCloseReason(framed, 1, framed.length - 1), 'bye ☃', 'a range of a larger buffer');
  t.equal(failure(() => readCloseReason(payload(0x03, 0xe8, 0xed, 0xa0, 0x80), 0, 5)), 1007, 'a surrogate');
  t.equal(failure(() => readCloseReason(payload(0x03, 0xe8, 0xe2, 0x82), 0, 4)), 1007, 'a truncated character');
  const error = (() => {
    try {
      readCloseCode(payload(0x03), 0, 1);
    } catch (caught) {
      return caught;
    }
    return null;
  })();
  t.match(error, { name: 'WebSocketProtocolError', code: 'ERR_ZEPOLL_WS_PROTOCOL', closeCode: 1002 });
  t.end();
});

t.test('payloads written: a code alone, a code and a reason, nothing, read back the same', (t) => {
  const target = new Uint8Array(130);
  t.equal(closePayloadSize(undefined), 0);
  t.equal(writeClosePayload(target, 3, undefined), 3, 'nothing written');
  t.equal(closePayloadSize(1000), 2);
  t.equal(writeClosePayload(target, 0, 1000), 2);
  t.same([...target.subarray(0, 2)], [0x03, 0xe8]);
  t.equal(closePayloadSize(4001, 'é'), 4);
  const end = writeClosePayload(target, 5, 4001, 'é');
  t.equal(end, 9);
  t.equal(readCloseCode(target, 5, end), 4001);
  t.equal(readCloseReason(target, 5, end), 'é');
  const longest = 'x'.repeat(123);
  t.equal(writeClosePayload(target, 0, 1001, longest), 125, 'a 123-byte reason fits');
  t.equal(readCloseReason(target, 0, 125), longest);
  const lone = writeClosePayload(target, 0, 1000, '\ud800');
  t.equal(readCloseReason(target, 0, lone), '\ufffd', 'a lone surrogate is written as U+FFFD');
  t.end();
});

t.test('misuse: a code that may not be sent, a reason without a code or too long, wrong types, no room', (t) => {
  t.throws(() => closePayloadSize(1005), { code: 'ERR_OUT_OF_RANGE', name: 'RangeError' });
  t.throws(() => closePayloadSize(1006), { code: 'ERR_OUT_OF_RANGE' });
  t.throws(() => closePayloadSize(999), { code: 'ERR_OUT_OF_RANGE' });
  t.throws(() => closePayloadSize(undefined, 'why'), { code: 'ERR_OUT_OF_RANGE', message: /reason/ });
  t.throws(() => closePayloadSize(1000, 'x'.repeat(124)), { code: 'ERR_OUT_OF_RANGE', message: /123 bytes/ });
  t.throws(() => closePayloadSize(1000, '€'.repeat(42)), { code: 'ERR_OUT_OF_RANGE' }, '126 bytes as UTF-8');
  t.throws(() => closePayloadSize('1000' as unknown as number), { code: 'ERR_INVALID_ARG_TYPE', name: 'TypeError' });
  t.throws(() => closePayloadSize(1000, 5 as unknown as string), { code: 'ERR_INVALID_ARG_TYPE' });
  t.throws(() => writeClosePayload(new Uint8Array(3), 2, 1000), { code: 'ERR_OUT_OF_RANGE', message: /offset/ });
  t.throws(() => writeClosePayload(new Uint8Array(3), -1, 1000), { code: 'ERR_OUT_OF_RANGE' });
  t.throws(() => writeClosePayload(new Uint8Array(3), 0.5, 1000), { code: 'ERR_OUT_OF_RANGE' });
  t.end();
});
