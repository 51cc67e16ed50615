/**
 * The io_uring probe: it answers 0 or the errno that refused a reactor's
 * ring (never throws, leaks no fd), ioUringSupport() says the same once per
 * process, and each refusal a kernel or container can give is explained.
 */
import t from 'tap';
import { constants } from 'node:os';
import { binding, ioUringSupport } from 'zepoll';
import { describeIoUringProbe } from '../../packages/reactor/src/backend/io-uring-support.js';
import { trackFds } from '../helpers/fds.js';

const errno = constants.errno;
const REFUSALS = [errno.ENOSYS, errno.EPERM, errno.EINVAL, errno.EOPNOTSUPP, errno.ENOMEM, errno.EMFILE, errno.ENFILE].map((value) => -value);

t.test('the probe answers 0 or a refusal, and leaves no fd behind', (t) => {
  const fds = trackFds();
  const results = [binding.ioUringProbe(), binding.ioUringProbe()];
  t.ok(results.every((rc) => rc === 0 || REFUSALS.includes(rc)), `probe results ${results.join(', ')}`);
  t.equal(results[0], results[1], 'the same answer twice');
  fds.assertNone(t);
  const support = ioUringSupport();
  t.equal(support.available, results[0] === 0);
  t.equal(ioUringSupport(), support, 'probed once: the same answer object after');
  t.comment(`io_uring here: ${support.reason}`);
  t.end();
});

t.test('each refusal names its errno and what to do', (t) => {
  t.same(describeIoUringProbe(0), { available: true, code: null, reason: describeIoUringProbe(0).reason });
  t.match(describeIoUringProbe(0).reason, /multishot/);
  const cases: Array<[number, string, RegExp]> = [
    [-errno.ENOSYS, 'ENOSYS', /no io_uring/],
    [-errno.EPERM, 'EPERM', /seccomp.*io_uring_disabled.*epoll backend/],
    [-errno.EINVAL, 'EINVAL', /SINGLE_ISSUER, COOP_TASKRUN: Linux 6\.0/],
    [-errno.EOPNOTSUPP, 'EOPNOTSUPP', /provided-buffer rings/],
    [-errno.ENOMEM, 'ENOMEM', /ulimit -l/],
    [-errno.EMFILE, 'EMFILE', /file descriptor/],
    [-errno.ENFILE, 'ENFILE', /system-wide/],
    [-errno.EIO, 'EIO', /io_uring setup failed with EIO/],
    [-4000, 'E4000', /failed with E4000/],
  ];
  for (const [rc, code, reason] of cases) {
    const support = describeIoUringProbe(rc);
    t.equal(support.available, false, `${code}: unavailable`);
    t.equal(support.code, code);
    t.match(support.reason, reason);
  }
  t.end();
});
