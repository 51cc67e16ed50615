/**
 * sendfile and splice move exactly the bytes asked: a 6 MiB random file is
 * sent over a socket pair (sendfile) and relayed file → pipe → socket
 * (splice), both non-blocking, and the receiver's sha256 must equal the
 * file's. Offsets and lengths that do not divide the file evenly are used on
 * purpose.
 */
import t from 'tap';
import { createHash, randomBytes } from 'node:crypto';
import { closeSync, mkdtempSync, openSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { binding, constants } from '../../packages/reactor/src/native.js';
import { openPoller } from '../../packages/reactor/src/backend/poller.js';
import { pipe, socketPair } from '../../packages/reactor/src/backend/sockets.js';
import { trackFds } from '../helpers/fds.js';

const FILE_SIZE = 6 * 1024 * 1024 + 12345;
const CHUNK_SIZE = 200_000; // not a divisor of the file size
const READ_SIZE = 256 * 1024;
const STEPS_MAX = 100_000; // bounds each transfer loop
const EAGAIN = -11;

const directory = mkdtempSync(join(tmpdir(), 'zepoll-zerocopy-'));
const content = randomBytes(FILE_SIZE);
const path = join(directory, 'payload.bin');
writeFileSync(path, content);
t.teardown(() => rmSync(directory, { recursive: true, force: true }));

function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

t.test('sendfile moves exactly the bytes asked, from an offset', (t) => {
  const fds = trackFds();
  const { native: poller } = openPoller(4);
  const [a, b] = socketPair();
  const file = openSync(path, 'r');
  const offset = 777;
  const length = FILE_SIZE - offset - 1000;
  const received = new Uint8Array(length);
  let sent = 0;
  let got = 0;
  for (let step = 0; step < STEPS_MAX && got < length; step += 1) {
    if (sent < length) {
      const rc = poller.sendfile(a, file, offset + sent, Math.min(CHUNK_SIZE, length - sent));
      if (rc !== EAGAIN) {
        t.ok(rc > 0, 'sendfile progresses') || t.bailout(`sendfile returned ${rc}`);
        sent += rc;
      }
    }
    const rc = poller.read(b, received, got, Math.min(READ_SIZE, length - got));
    if (rc > 0) got += rc;
  }
  t.equal(sent, length);
  t.equal(got, length);
  t.equal(sha256(received), sha256(content.subarray(offset, offset + length)), 'sha256 of the received bytes');
  t.equal(poller.read(b, received, 0, 1), EAGAIN, 'not one byte more');
  const counts = new Float64Array(10);
  poller.readCounters(counts);
  t.ok(counts[6]! > 0, 'sendfile calls counted');
  closeSync(file);
  poller.close();
  binding.close(a);
  binding.close(b);
  fds.assertNone(t);
  t.end();
});

t.test('splice relays a file through a pipe to a socket, exactly', (t) => {
  const fds = trackFds();
  const { native: poller } = openPoller(4);
  const [a, b] = socketPair();
  const [pipeRead, pipeWrite] = pipe();
  const file = openSync(path, 'r');
  // splice consumes what it reads from its input: zepoll acts only on an fd it owns, so the file is handed over.
  t.equal(binding.adopt(file), 0);
  const received = new Uint8Array(FILE_SIZE);
  let intoPipe = 0;
  let outOfPipe = 0;
  let got = 0;
  const flags = constants.SPLICE_F_MOVE | constants.SPLICE_F_NONBLOCK;
  for (let step = 0; step < STEPS_MAX && got < FILE_SIZE; step += 1) {
    if (intoPipe < FILE_SIZE) {
      const rc = poller.splice(file, pipeWrite, Math.min(CHUNK_SIZE, FILE_SIZE - intoPipe), flags);
      if (rc > 0) intoPipe += rc;
    }
    if (outOfPipe < intoPipe) {
      const rc = poller.splice(pipeRead, a, intoPipe - outOfPipe, flags);
      if (rc > 0) outOfPipe += rc;
    }
    const rc = poller.read(b, received, got, Math.min(READ_SIZE, FILE_SIZE - got));
    if (rc > 0) got += rc;
  }
  t.equal(intoPipe, FILE_SIZE);
  t.equal(outOfPipe, FILE_SIZE);
  t.equal(got, FILE_SIZE);
  t.equal(sha256(received), sha256(content), 'sha256 of the relayed bytes');
  t.equal(poller.splice(pipeRead, a, 1, flags), EAGAIN, 'the pipe is empty');
  binding.disown(file); // handed back: Node's fs closes it
  closeSync(file);
  poller.close();
  for (const fd of [a, b, pipeRead, pipeWrite]) binding.close(fd);
  fds.assertNone(t);
  t.end();
});

t.test('setPipeSize: a pipe grows to the size asked (within pipe-max-size); bad sizes and fds are refused before any call', (t) => {
  const fds = trackFds();
  const [readFd, writeFd] = pipe();
  const rc = binding.setPipeSize(writeFd, 256 * 1024);
  t.ok(rc === 256 * 1024 || rc === -1, `256 KiB granted, or EPERM past the user's pipe pages (${rc})`);
  const large = binding.setPipeSize(readFd, 1 << 30);
  // Past /proc/sys/fs/pipe-max-size: EPERM for a user; root may be granted it, or get ENOMEM. A number either way.
  t.ok(Number.isInteger(large) && (large < 0 || large >= 1 << 30), `1 GiB asked: ${large}`);
  t.equal(binding.pipeSize(readFd), large > 0 ? large : binding.pipeSize(writeFd), 'pipeSize reads the capacity back');
  t.throws(() => binding.pipeSize(1), { code: 'ERR_ZEPOLL_FD_NOT_OWNED' });
  t.throws(() => binding.pipeSize('3' as unknown as number), { name: 'TypeError', code: 'ERR_INVALID_ARG_TYPE' });
  t.throws(() => binding.setPipeSize(writeFd, 100), { name: 'RangeError', code: 'ERR_OUT_OF_RANGE' });
  t.throws(() => binding.setPipeSize(writeFd, 2 ** 31), { name: 'RangeError', code: 'ERR_OUT_OF_RANGE' });
  t.throws(() => binding.setPipeSize(writeFd, '65536' as unknown as number), { name: 'TypeError', code: 'ERR_INVALID_ARG_TYPE' });
  t.throws(() => binding.setPipeSize(1, 65536), { code: 'ERR_ZEPOLL_FD_NOT_OWNED' }, 'stdout is not zepoll\'s');
  binding.close(readFd);
  binding.close(writeFd);
  fds.assertNone(t);
  t.end();
});
