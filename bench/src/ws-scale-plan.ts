/**
 * How a ws run of N connections is laid out on this machine: how many
 * server and client processes the per-process fd limit asks for, how many
 * connects may be in flight for the accept queues, and whether memory and
 * the kernel's settings allow it. Nothing is changed on the system: what a
 * setting would need is printed, with the command, and a run that cannot
 * work stops here with the reason.
 */
import type { MachineLimits } from './ws-scale-fleet.js';

/**
 * Sockets one process holds at most: the fd hard limit here is 20 000,
 * and SO_REUSEPORT spreads connections by a hash (not evenly; the spread of
 * 100 000 over 6 processes is about ±120), so the rest is headroom. The
 * same bound serves the client processes, whose shares are exact.
 */
const CONNECTIONS_PER_PROCESS_MAX = 17_000;
/** fds a process needs besides its sockets (node's own, epoll, IPC, the listener). */
const FD_MARGIN = 1000;
/** More processes than this on a 2-core machine measure the scheduler: the run says why it stops instead. */
const PROCESSES_MAX = 32;
/** Connects and upgrades one client keeps in flight at once: the accept pacing. */
export const CONNECT_WINDOW = 128;
/**
 * A generous estimate of the memory one connection costs end to end (two
 * kernel sockets, the server's share in the heaviest server measured, the
 * client's slots), to refuse a run the machine cannot hold.
 */
const BYTES_PER_CONNECTION_ESTIMATE = 48 * 1024;

/** A run's layout: processes per side, each client's share, the connects in flight. */
export interface WsPlan {
  readonly connections: number;
  readonly serverProcesses: number;
  /** Connections per client process, in order. */
  readonly clientShares: readonly number[];
  readonly window: number;
  /** What the plan is and why, a line each (printed before the run). */
  readonly notes: readonly string[];
}

/**
 * The layout for `connections` under `limits`.
 * @throws Error with the reason and the remedy, when the fd limit or memory cannot hold the run.
 */
export function planWs(connections: number, limits: MachineLimits): WsPlan {
  const perProcess = Math.min(CONNECTIONS_PER_PROCESS_MAX, limits.fdHard - FD_MARGIN);
  const processes = Math.ceil(connections / Math.max(perProcess, 1));
  if (perProcess < 1 || processes > PROCESSES_MAX) {
    throw new Error(`ws: ${connections} connections need ${processes} server and as many client processes at the fd hard limit ${limits.fdHard} (ulimit -Hn); raise it (limits.conf nofile, up to fs.nr_open ${limits.nrOpen}) or ask for fewer with --ws-connections`);
  }
  const need = connections * BYTES_PER_CONNECTION_ESTIMATE;
  if (need > limits.memAvailableBytes) {
    throw new Error(`ws: ${connections} connections need about ${gib(need)} GiB, ${gib(limits.memAvailableBytes)} GiB available; ask for fewer with --ws-connections`);
  }
  const clientShares = Array.from({ length: processes }, (_, index) => Math.floor(connections / processes) + (index < connections % processes ? 1 : 0));
  const inFlight = processes * CONNECT_WINDOW;
  const notes = [
    `ws: ${connections.toLocaleString('en-US')} connections; fd hard limit ${limits.fdHard.toLocaleString('en-US')} per process, so ${processes} server process(es) sharing the port (at most ${perProcess.toLocaleString('en-US')} sockets each) and ${processes} client process(es) over 127.0.0.0/8 source addresses`,
    `ws: net.core.somaxconn ${limits.somaxconn}, net.ipv4.tcp_max_syn_backlog ${limits.synBacklog}; at most ${inFlight} connects in flight (${CONNECT_WINDOW} per client); MemAvailable ${gib(limits.memAvailableBytes)} GiB (about ${gib(need)} GiB needed at most)`,
  ];
  // Each server process has its own accept queue (SO_REUSEPORT) and gets about 1/processes of the connects in flight.
  if (limits.somaxconn < CONNECT_WINDOW) notes.push(`ws: somaxconn ${limits.somaxconn} is below the ${CONNECT_WINDOW} connects a queue may see: expect retries; to avoid them: sysctl -w net.core.somaxconn=4096 (not changed here)`);
  if (limits.synBacklog < inFlight) notes.push(`ws: tcp_max_syn_backlog ${limits.synBacklog} is below the ${inFlight} connects in flight: expect SYN retransmits; to avoid them: sysctl -w net.ipv4.tcp_max_syn_backlog=${inFlight * 2} (not changed here)`);
  return { connections, serverProcesses: processes, clientShares, window: CONNECT_WINDOW, notes };
}

const gib = (bytes: number): string => (bytes / 2 ** 30).toFixed(1);
