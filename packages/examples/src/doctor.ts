/**
 * `zepoll-examples doctor`: reads (never writes) the system limits that
 * matter to a server holding many connections, and prints each beside the
 * value a server with 100 000 connections would want and the command that
 * would change it.
 */
import { existsSync, readFileSync } from 'node:fs';
import { ioUringSupport } from 'zepoll';

interface Check {
  readonly name: string;
  readonly current: string;
  readonly wanted: string;
  readonly ok: boolean | null; // null: not present on this system
  readonly fix: string;
}

const CONNECTIONS_TARGET = 100_000;

function sysctl(key: string): string | null {
  const path = `/proc/sys/${key.replace(/\./g, '/')}`;
  return existsSync(path) ? readFileSync(path, 'utf8').trim().replace(/\s+/g, ' ') : null;
}

function numbers(text: string | null): number[] {
  return text === null ? [] : text.split(' ').map(Number);
}

function openFileLimits(): { soft: string; hard: string } {
  const line = readFileSync('/proc/self/limits', 'utf8').split('\n').find((text) => text.startsWith('Max open files')) ?? '';
  const fields = line.split(/\s+/);
  return { soft: fields[3] ?? '?', hard: fields[4] ?? '?' };
}

const atLeast = (value: string | null, minimum: number): boolean | null => (value === null ? null : value === 'unlimited' || Number(value) >= minimum);

export function checks(): Check[] {
  const limits = openFileLimits();
  const fdsWanted = CONNECTIONS_TARGET + 10_000;
  const result: Check[] = [
    { name: 'open files, soft limit (ulimit -n)', current: limits.soft, wanted: `>= ${fdsWanted}`, ok: atLeast(limits.soft, fdsWanted), fix: `ulimit -n ${fdsWanted}   (or LimitNOFILE= in a systemd unit)` },
    { name: 'open files, hard limit (ulimit -Hn)', current: limits.hard, wanted: `>= ${fdsWanted}`, ok: atLeast(limits.hard, fdsWanted), fix: `/etc/security/limits.conf: * hard nofile ${fdsWanted}` },
  ];
  const add = (key: string, wanted: string, ok: (value: string) => boolean, fix: string): void => {
    const value = sysctl(key);
    result.push({ name: key, current: value ?? 'absent', wanted, ok: value === null ? null : ok(value), fix });
  };
  add('fs.nr_open', `>= ${fdsWanted}`, (value) => Number(value) >= fdsWanted, `sysctl -w fs.nr_open=${fdsWanted * 2}`);
  add('fs.file-max', `>= ${fdsWanted * 2}`, (value) => Number(value) >= fdsWanted * 2, `sysctl -w fs.file-max=${fdsWanted * 4}`);
  add('net.core.somaxconn', '>= 4096', (value) => Number(value) >= 4096, 'sysctl -w net.core.somaxconn=4096');
  add('net.ipv4.tcp_max_syn_backlog', '>= 4096', (value) => Number(value) >= 4096, 'sysctl -w net.ipv4.tcp_max_syn_backlog=8192');
  add('net.ipv4.ip_local_port_range', `a range of >= 50000 ports (for outbound connections)`, (value) => {
    const [low = 0, high = 0] = numbers(value);
    return high - low >= 50_000;
  }, "sysctl -w net.ipv4.ip_local_port_range='10000 65535'");
  add('net.ipv4.tcp_rmem', 'min <= 4096 (small idle buffers), max >= 4 MiB', (value) => {
    const [min = 0, , max = 0] = numbers(value);
    return min <= 4096 && max >= 4 * 2 ** 20;
  }, "sysctl -w net.ipv4.tcp_rmem='4096 131072 6291456'");
  add('net.ipv4.tcp_wmem', 'min <= 4096 (small idle buffers), max >= 4 MiB', (value) => {
    const [min = 0, , max = 0] = numbers(value);
    return min <= 4096 && max >= 4 * 2 ** 20;
  }, "sysctl -w net.ipv4.tcp_wmem='4096 16384 4194304'");
  const uring = ioUringSupport();
  result.push({
    name: "io_uring (the io_uring backend: new Reactor({ backend: 'io_uring' }))",
    current: uring.available ? 'available' : `unavailable (${String(uring.code)}): ${uring.reason}`,
    wanted: 'available (optional)',
    ok: uring.available ? true : null,
    fix: uring.reason,
  });
  add('net.netfilter.nf_conntrack_max', `>= ${CONNECTIONS_TARGET * 2} (if conntrack is loaded)`, (value) => Number(value) >= CONNECTIONS_TARGET * 2, `sysctl -w net.netfilter.nf_conntrack_max=${CONNECTIONS_TARGET * 4}`);
  return result;
}

export function doctorReport(): string {
  const lines = [`zepoll doctor: limits for a server holding ${CONNECTIONS_TARGET.toLocaleString('en-US')} connections (read only; nothing was changed)`, ''];
  for (const check of checks()) {
    const status = check.ok === null ? 'n/a ' : check.ok ? 'ok  ' : 'LOW ';
    lines.push(`${status} ${check.name}`);
    lines.push(`       now: ${check.current}`);
    lines.push(`       want: ${check.wanted}`);
    if (check.ok === false) lines.push(`       change: ${check.fix}`);
  }
  return lines.join('\n');
}
