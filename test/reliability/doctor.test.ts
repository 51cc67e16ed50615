/**
 * `zepoll-examples doctor` reads the limits a busy server needs and prints
 * each with the wanted value and, when low, the command that would change
 * it. It changes nothing: the values it reads are the same after it ran.
 */
import t from 'tap';
import { existsSync, readFileSync } from 'node:fs';
import { runCli } from '../helpers/example.js';
import { trackFds } from '../helpers/fds.js';
import { ioUringSupport } from 'zepoll';

const KEYS = ['fs/nr_open', 'fs/file-max', 'net/core/somaxconn', 'net/ipv4/tcp_max_syn_backlog', 'net/ipv4/ip_local_port_range', 'net/ipv4/tcp_rmem', 'net/ipv4/tcp_wmem'];
const read = (): string[] => KEYS.map((key) => (existsSync(`/proc/sys/${key}`) ? readFileSync(`/proc/sys/${key}`, 'utf8') : 'absent'));

t.test('doctor prints every limit with its wanted value, and changes nothing', (t) => {
  const before = read();
  const fds = trackFds();
  const result = runCli(['doctor']);
  t.equal(result.status, 0);
  for (const name of ['open files, soft limit', 'open files, hard limit', 'fs.nr_open', 'fs.file-max', 'net.core.somaxconn', 'net.ipv4.tcp_max_syn_backlog', 'net.ipv4.ip_local_port_range', 'net.ipv4.tcp_rmem', 'net.ipv4.tcp_wmem', 'net.netfilter.nf_conntrack_max']) {
    t.match(result.stdout, name, `reports ${name}`);
  }
  t.match(result.stdout, /read only; nothing was changed/);
  const uring = ioUringSupport();
  t.match(result.stdout, uring.available ? /io_uring .*\n\s+now: available/ : new RegExp(`io_uring .*\\n\\s+now: unavailable \\(${uring.code!}\\)`), `reports io_uring as this process finds it (${uring.available ? 'available' : uring.reason})`);
  const lows = result.stdout.split('\n').filter((line) => line.startsWith('LOW')).length;
  const fixes = result.stdout.split('\n').filter((line) => line.trim().startsWith('change:')).length;
  t.equal(fixes, lows, 'every LOW item says how to change it');
  t.same(read(), before, 'the values are unchanged');
  fds.assertNone(t);
  t.end();
});
