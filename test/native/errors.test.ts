/**
 * The error contract at the boundary: system-call failures are values
 * (-EAGAIN, -EBADF), misuse throws a TypeError/RangeError with a code that
 * names the argument, and errnoError turns a value into an error shaped like
 * Node's own system errors. One table drives every misuse case.
 */
import t from 'tap';
import { binding, constants } from '../../packages/reactor/src/native.js';
import { openPoller } from '../../packages/reactor/src/backend/poller.js';
import { adoptFd, disownFd, socketPair } from '../../packages/reactor/src/backend/sockets.js';
import { closeSync, openSync } from 'node:fs';
import { ERROR_CODES, ZepollError, errnoError } from '../../packages/reactor/src/errors.js';
import { checkLimits, LIMITS, EVENTS_MAX, WRITEV_BUFFERS_MAX, ACCEPT_BATCH_MAX, IO_SIZE_MAX } from '../../packages/reactor/src/limits.js';
import { trackFds } from '../helpers/fds.js';

const EAGAIN = -11;
const EBADF = -9;
const CLOSED_FD = 1_000_000; // above the fd limit: never open

t.test('EAGAIN and EBADF come back as values, not exceptions; an fd zepoll does not own is refused before any system call', (t) => {
  const fds = trackFds();
  const { native: poller } = openPoller(4);
  const [a, b] = socketPair();
  const [gone, other] = socketPair();
  closeSync(gone); // closed behind zepoll's back: still owned, so calls reach the kernel and get EBADF
  const buffer = new Uint8Array(16);
  t.equal(poller.read(a, buffer, 0, 16), EAGAIN, 'read on an empty socket');
  t.equal(poller.read(gone, buffer, 0, 16), EBADF, 'read on a closed fd');
  t.equal(poller.write(gone, buffer, 0, 16), EBADF);
  t.equal(poller.writev(gone, [buffer], 1), EBADF);
  t.equal(poller.accept(a, new Int32Array(4)), -22, 'EINVAL: accept on a socket that is not listening');
  t.equal(poller.sendfile(a, CLOSED_FD, 0, 1), EBADF, "sendfile's file fd is only read: it need not be owned");
  t.equal(poller.splice(a, gone, 1, 0), EBADF);
  t.equal(poller.closeFd(gone), EBADF, 'closeFd reaches close(2), and forgets the fd');
  const counts = new Float64Array(LIMITS.COUNTER_KINDS);
  poller.readCounters(counts);
  t.equal(counts[9], 1, 'one EAGAIN counted');
  const callsBefore = counts.reduce((sum, count) => sum + count, 0);
  const refused = { code: 'ERR_ZEPOLL_FD_NOT_OWNED' };
  t.throws(() => poller.read(CLOSED_FD, buffer, 0, 16), { ...refused, message: /"fd" argument is fd 1000000/ });
  t.throws(() => poller.write(CLOSED_FD, buffer, 0, 16), refused);
  t.throws(() => poller.writev(CLOSED_FD, [buffer], 1), refused);
  t.throws(() => poller.closeFd(gone), refused, 'a second close of the same number is refused');
  t.throws(() => binding.close(gone), refused);
  t.throws(() => binding.close(1), refused, "stdout is Node's: zepoll never closes it");
  t.throws(() => poller.accept(CLOSED_FD, new Int32Array(4)), { ...refused, message: /"listenFd"/ });
  t.throws(() => poller.splice(a, CLOSED_FD, 1, 0), { ...refused, message: /"outFd"/ });
  t.throws(() => poller.add(CLOSED_FD, constants.EPOLLIN, 1), refused);
  t.throws(() => binding.shutdown(CLOSED_FD, 1), refused);
  poller.readCounters(counts);
  t.equal(counts.reduce((sum, count) => sum + count, 0), callsBefore, 'no system call was made for a refused fd');
  poller.close();
  for (const fd of [a, b, other]) binding.close(fd);
  fds.assertNone(t);
  t.end();
});

t.test('adopt() hands zepoll an fd it did not open; disown() hands it back; ownedCount counts them', (t) => {
  const fds = trackFds();
  const owned = binding.ownedCount();
  const file = openSync('/dev/null', 'r');
  t.throws(() => binding.close(file), { code: 'ERR_ZEPOLL_FD_NOT_OWNED' });
  t.equal(binding.adopt(file), 0);
  t.equal(binding.ownedCount(), owned + 1);
  t.equal(binding.disown(file), 0, 'handed back without closing');
  t.equal(binding.ownedCount(), owned);
  closeSync(file); // still open: Node closes it
  t.equal(binding.adopt(CLOSED_FD), EBADF, 'an fd that is not open cannot be adopted');
  t.throws(() => binding.adopt(-1), { code: 'ERR_OUT_OF_RANGE' });
  const other = openSync('/dev/null', 'r');
  adoptFd(other);
  binding.close(other); // zepoll closes what it adopted
  t.throws(() => adoptFd(CLOSED_FD), { code: 'EBADF', syscall: 'fcntl' });
  const [x, y] = socketPair();
  disownFd(x);
  t.throws(() => binding.close(x), { code: 'ERR_ZEPOLL_FD_NOT_OWNED' });
  closeSync(x);
  binding.close(y);
  fds.assertNone(t);
  t.end();
});

t.test('errnoError is shaped like a Node system error', (t) => {
  const error = errnoError(-104, 'read', 7);
  t.match(error, { name: 'ZepollSystemError', code: 'ECONNRESET', errno: -104, syscall: 'read', fd: 7, message: 'read ECONNRESET' });
  t.ok(error instanceof Error);
  t.equal(errnoError(-11, 'accept4').fd, undefined);
  t.equal(errnoError(-200, 'read').code, 'ERRNO_200', 'an errno Node cannot name still gets a code');
  t.throws(() => errnoError(5, 'read'), RangeError, 'a success value is not an error');
  t.throws(() => errnoError(-1.5, 'read'), RangeError);
  const misuse = new ZepollError('ERR_OUT_OF_RANGE', 'capacity');
  t.match(misuse, { name: 'ZepollError', code: 'ERR_OUT_OF_RANGE' });
  t.end();
});

t.test('limits.ts refuses an addon built with other limits', (t) => {
  t.doesNotThrow(() => checkLimits(binding.limits));
  t.throws(() => checkLimits({ ...LIMITS, EVENTS_MAX: 1 }), /EVENTS_MAX: addon 1, limits.ts 1024/);
  t.end();
});

interface Misuse {
  readonly name: string;
  readonly call: () => unknown;
  readonly type: 'TypeError' | 'RangeError' | 'Error';
  readonly code: keyof typeof ERROR_CODES;
  readonly mentions: string;
}

t.test('misuse throws with the right class, code and argument name', (t) => {
  const fds = trackFds();
  const { native: poller } = openPoller(4);
  const closed = openPoller(4).native;
  closed.close();
  const [a, b] = socketPair();
  const buffer = new Uint8Array(8);
  const cases: Misuse[] = [
    { name: 'fd is a string', call: () => poller.read('3' as unknown as number, buffer, 0, 1), type: 'TypeError', code: 'ERR_INVALID_ARG_TYPE', mentions: '"fd"' },
    { name: 'fd is negative', call: () => poller.read(-1, buffer, 0, 1), type: 'RangeError', code: 'ERR_OUT_OF_RANGE', mentions: '"fd"' },
    { name: 'fd is a fraction', call: () => poller.write(1.5, buffer, 0, 1), type: 'RangeError', code: 'ERR_OUT_OF_RANGE', mentions: '"fd"' },
    { name: 'fd is NaN', call: () => poller.write(Number.NaN, buffer, 0, 1), type: 'RangeError', code: 'ERR_OUT_OF_RANGE', mentions: '"fd"' },
    { name: 'buffer is an array', call: () => poller.read(a, [0] as unknown as Uint8Array, 0, 1), type: 'TypeError', code: 'ERR_INVALID_ARG_TYPE', mentions: '"buffer"' },
    { name: 'buffer is a Uint16Array', call: () => poller.read(a, new Uint16Array(4) as unknown as Uint8Array, 0, 1), type: 'TypeError', code: 'ERR_INVALID_ARG_TYPE', mentions: '"buffer"' },
    { name: 'offset one past the end', call: () => poller.read(a, buffer, 9, 0), type: 'RangeError', code: 'ERR_OUT_OF_RANGE', mentions: '"offset"' },
    { name: 'length past the end', call: () => poller.read(a, buffer, 4, 5), type: 'RangeError', code: 'ERR_OUT_OF_RANGE', mentions: '"length"' },
    { name: 'length negative', call: () => poller.write(b, buffer, 0, -1), type: 'RangeError', code: 'ERR_OUT_OF_RANGE', mentions: '"length"' },
    { name: 'offset + length overflow', call: () => poller.read(a, buffer, 8, Number.MAX_SAFE_INTEGER), type: 'RangeError', code: 'ERR_OUT_OF_RANGE', mentions: '"length"' },
    { name: 'offset beyond 2^53', call: () => poller.read(a, buffer, 2 ** 60, 0), type: 'RangeError', code: 'ERR_OUT_OF_RANGE', mentions: '"offset"' },
    { name: 'BigInt length', call: () => poller.read(a, buffer, 0, 1n as unknown as number), type: 'TypeError', code: 'ERR_INVALID_ARG_TYPE', mentions: '"length"' },
    { name: 'closed poller', call: () => closed.read(a, buffer, 0, 1), type: 'Error', code: 'ERR_ZEPOLL_POLLER_CLOSED', mentions: 'closed' },
    { name: 'closed poller wait', call: () => closed.wait(0), type: 'Error', code: 'ERR_ZEPOLL_POLLER_CLOSED', mentions: 'closed' },
    { name: 'events array of the wrong kind', call: () => binding.createPoller(new Int32Array(3) as unknown as Uint32Array), type: 'TypeError', code: 'ERR_INVALID_ARG_TYPE', mentions: 'Uint32Array' },
    { name: 'events array not a multiple of 3', call: () => binding.createPoller(new Uint32Array(4)), type: 'RangeError', code: 'ERR_OUT_OF_RANGE', mentions: '"events"' },
    { name: 'events array over EVENTS_MAX', call: () => binding.createPoller(new Uint32Array((EVENTS_MAX + 1) * 3)), type: 'RangeError', code: 'ERR_OUT_OF_RANGE', mentions: '"events"' },
    { name: 'empty events array', call: () => binding.createPoller(new Uint32Array(0)), type: 'RangeError', code: 'ERR_OUT_OF_RANGE', mentions: '"events"' },
    { name: 'writev with a non-array', call: () => poller.writev(b, buffer as unknown as Uint8Array[], 1), type: 'TypeError', code: 'ERR_INVALID_ARG_TYPE', mentions: '"buffers"' },
    { name: 'writev count past the array', call: () => poller.writev(b, [buffer], 2), type: 'RangeError', code: 'ERR_OUT_OF_RANGE', mentions: '"count"' },
    { name: 'writev count over the limit', call: () => poller.writev(b, [], WRITEV_BUFFERS_MAX + 1), type: 'RangeError', code: 'ERR_OUT_OF_RANGE', mentions: '"count"' },
    { name: 'writev element not a buffer', call: () => poller.writev(b, ['x' as unknown as Uint8Array], 1), type: 'TypeError', code: 'ERR_INVALID_ARG_TYPE', mentions: 'buffers[i]' },
    { name: 'accept into an empty array', call: () => poller.accept(a, new Int32Array(0)), type: 'RangeError', code: 'ERR_OUT_OF_RANGE', mentions: '"out"' },
    { name: 'accept batch too large', call: () => poller.accept(a, new Int32Array(ACCEPT_BATCH_MAX + 1)), type: 'RangeError', code: 'ERR_OUT_OF_RANGE', mentions: '"out"' },
    { name: 'sendfile length over MAX_RW_COUNT', call: () => poller.sendfile(a, b, 0, IO_SIZE_MAX + 1), type: 'RangeError', code: 'ERR_OUT_OF_RANGE', mentions: '"length"' },
    { name: 'sendfile negative offset', call: () => poller.sendfile(a, b, -1, 1), type: 'RangeError', code: 'ERR_OUT_OF_RANGE', mentions: '"offset"' },
    { name: 'splice unknown flags', call: () => poller.splice(a, b, 1, 64), type: 'RangeError', code: 'ERR_OUT_OF_RANGE', mentions: '"flags"' },
    { name: 'start without a function', call: () => poller.start(42 as unknown as () => void), type: 'TypeError', code: 'ERR_INVALID_ARG_TYPE', mentions: '"callback"' },
    { name: 'wait timeout below -1', call: () => poller.wait(-2), type: 'RangeError', code: 'ERR_OUT_OF_RANGE', mentions: '"timeoutMs"' },
    { name: 'readCounters array too short', call: () => poller.readCounters(new Float64Array(2)), type: 'RangeError', code: 'ERR_OUT_OF_RANGE', mentions: '"out"' },
    { name: 'listen on a host name', call: () => binding.listen('example.com', 0, 1, false), type: 'TypeError', code: 'ERR_INVALID_ARG_VALUE', mentions: '"host"' },
    { name: 'listen host too long', call: () => binding.listen('1'.repeat(200), 0, 1, false), type: 'RangeError', code: 'ERR_OUT_OF_RANGE', mentions: '"host"' },
    { name: 'listen port above 65535', call: () => binding.listen('127.0.0.1', 65536, 1, false), type: 'RangeError', code: 'ERR_OUT_OF_RANGE', mentions: '"port"' },
    { name: 'listen reusePort not a boolean', call: () => binding.listen('127.0.0.1', 0, 1, 1 as unknown as boolean), type: 'TypeError', code: 'ERR_INVALID_ARG_TYPE', mentions: '"reusePort"' },
    { name: 'setOption unknown option', call: () => binding.setOption(a, 99, 1), type: 'RangeError', code: 'ERR_OUT_OF_RANGE', mentions: '"option"' },
    { name: 'setOption flag of 2', call: () => binding.setOption(a, binding.constants.OPTION_NO_DELAY, 2), type: 'RangeError', code: 'ERR_OUT_OF_RANGE', mentions: '"value"' },
    { name: 'shutdown how of 3', call: () => binding.shutdown(a, 3), type: 'RangeError', code: 'ERR_OUT_OF_RANGE', mentions: '"how"' },
    { name: 'address into a short buffer', call: () => binding.localAddress(a, new Uint8Array(16)), type: 'RangeError', code: 'ERR_OUT_OF_RANGE', mentions: '"out"' },
    { name: 'socketPair into a short array', call: () => binding.socketPair(new Int32Array(1)), type: 'RangeError', code: 'ERR_OUT_OF_RANGE', mentions: '"out"' },
    { name: 'bytesReadable fd of the wrong type', call: () => binding.bytesReadable('0' as unknown as number), type: 'TypeError', code: 'ERR_INVALID_ARG_TYPE', mentions: '"fd"' },
    { name: 'bytesReadable negative fd', call: () => binding.bytesReadable(-1), type: 'RangeError', code: 'ERR_OUT_OF_RANGE', mentions: '"fd"' },
    { name: 'setAffinity cpu out of range', call: () => binding.setAffinity(1024), type: 'RangeError', code: 'ERR_OUT_OF_RANGE', mentions: '"cpu"' },
  ];
  t.ok(cases.length >= 10, `${cases.length} misuse cases`);
  for (const misuse of cases) {
    t.throws(misuse.call, { name: misuse.type, code: misuse.code }, misuse.name);
    try {
      misuse.call();
    } catch (error) {
      t.match((error as Error).message, misuse.mentions, `${misuse.name}: the message names ${misuse.mentions}`);
    }
  }
  poller.close();
  binding.close(a);
  binding.close(b);
  fds.assertNone(t);
  t.end();
});

t.test('a detached events array is refused, never written', (t) => {
  const fds = trackFds();
  const events = new Uint32Array(12);
  const poller = binding.createPoller(events);
  if (typeof poller === 'number') throw errnoError(poller, 'epoll_create1');
  structuredClone(events.buffer, { transfer: [events.buffer] });
  t.equal(events.length, 0, 'detached');
  t.throws(() => poller.wait(0), { code: 'ERR_ZEPOLL_EVENTS_DETACHED' });
  poller.close();
  fds.assertNone(t);
  t.end();
});

t.test('writev reads every element before touching memory (a getter cannot detach a taken buffer)', (t) => {
  const fds = trackFds();
  const { native: poller } = openPoller(4);
  const [a, b] = socketPair();
  const first = new Uint8Array(new ArrayBuffer(4));
  const buffers: Uint8Array[] = [first];
  Object.defineProperty(buffers, 1, {
    get() {
      structuredClone(first.buffer, { transfer: [first.buffer] });
      return new Uint8Array([1, 2]);
    },
  });
  // The detached first buffer now reads as empty: 0 + 2 bytes are written.
  t.equal(poller.writev(b, buffers, 2), 2);
  poller.close();
  binding.close(a);
  binding.close(b);
  fds.assertNone(t);
  t.end();
});

t.test('poller.ts refuses an addon that counts other calls', async (t) => {
  const { checkCounterNames } = await import('../../packages/reactor/src/backend/poller.js');
  t.doesNotThrow(() => checkCounterNames(binding.counterNames));
  t.throws(() => checkCounterNames(['read']), /differ from poller.ts/);
});

t.test('fault injection is refused unless the process allowed it; its counts are readable', (t) => {
  t.same(binding.faultKinds, ['read_error', 'write_error', 'short_read', 'short_write', 'accept_error', 'ctl_error', 'sendfile_error', 'splice_error']);
  t.throws(() => binding.setFaults(1, new Uint32Array(binding.faultKinds.length)), { code: 'ERR_ZEPOLL_FAULTS_DISABLED', message: /ZEPOLL_FAULT_INJECTION=1/ }, 'this process was not started with ZEPOLL_FAULT_INJECTION=1');
  const counts = new Float64Array(binding.faultKinds.length);
  t.equal(binding.faultCounts(counts), binding.faultKinds.length);
  t.same([...counts], new Array<number>(binding.faultKinds.length).fill(0), 'none injected here');
  t.throws(() => binding.faultCounts(new Float64Array(2)), { name: 'RangeError', code: 'ERR_OUT_OF_RANGE', message: /"out"/ });
  t.end();
});
