/**
 * The ws scenario's table: one column per server, one line per figure
 * (four servers side by side read better than fifteen columns).
 */
import { BROADCASTS, WARM_UP, type Latency, type WsRow } from './ws-scale.js';

/** The servers' names as the table and the report print them. */
export const WS_SERVER_NAMES: Readonly<Record<string, string>> = {
  'zepoll-et': 'zepoll ET',
  'zepoll-uring': 'zepoll io_uring',
  uws: 'uWebSockets.js',
  ws: 'ws (Node http)',
};

const COLUMN = 25;
const LABEL = 40;
const whole = (value: number): string => (Number.isFinite(value) ? Math.round(value).toLocaleString('en-US') : 'n/a');
const fixed = (value: number, digits = 2): string => (Number.isFinite(value) ? value.toFixed(digits) : 'n/a');
const ms = (value: Latency): string => (Number.isFinite(value.p99) ? `${fixed(value.p50, 1)} / ${fixed(value.p99, 1)} / ${fixed(value.max, 1)}` : 'n/a');

const LINES: ReadonlyArray<[string, (row: WsRow) => string]> = [
  ['processes (server / client)', (row) => `${row.serverProcesses} / ${row.clientProcesses}`],
  ['held / dropped', (row) => `${whole(row.held)} / ${whole(row.dropped)}`],
  ['time to accept all, s (connect retries)', (row) => `${fixed(row.acceptSeconds, 1)} (${whole(row.retries)})`],
  ['RSS per idle connection, B', (row) => whole(row.idleRssPerConnection)],
  ['JS heap per idle connection, B', (row) => whole(row.idleHeapPerConnection)],
  ['RSS per connection, active, B', (row) => whole(row.activeRssPerConnection)],
  ['JS heap per connection, active, B', (row) => whole(row.activeHeapPerConnection)],
  ['RSS of the server processes, idle, MiB', (row) => fixed(row.idleRssTotalMiB, 0)],
  ['broadcast to all, ms p50 / p99 / last', (row) => ms(row.broadcast)],
  ['echo round trip, ms p50 / p99 / max', (row) => ms(row.echo)],
  ['echoes timed (in the window)', (row) => whole(row.echo.count)],
  ['echoes missing', (row) => whole(row.echoMissing)],
  ['messages/s (server)', (row) => whole(row.messagesPerSecond)],
  ['server CPU per message, µs', (row) => fixed(row.cpuUsPerMessage)],
  ['load average (1 min), start / end', (row) => `${fixed(row.load[0])} / ${fixed(row.load[1])}`],
  ['client CPU (share of its core)', (row) => (Number.isFinite(row.clientCpuShare) ? `${(row.clientCpuShare * 100).toFixed(0)}%` : 'n/a')],
];

/** The table as the bench prints it: a heading line, the servers' names, a line per figure, then any failure's reason. */
export function formatWsScale(rows: readonly WsRow[]): string {
  const first = rows[0];
  if (first === undefined) return '';
  const lines = [
    `ws: ${first.connections.toLocaleString('en-US')} WebSocket connections over loopback; per connection = (server processes' sum - their sum before, after a warm-up of up to ${WARM_UP} connections) / connections; broadcast: the median of ${BROADCASTS} by p99; active: 1 KiB per connection every ${first.periodMs / 1000} s, echo times and CPU over the middle two periods`,
    `${''.padEnd(LABEL)}${rows.map((row) => (WS_SERVER_NAMES[row.server] ?? row.server).padStart(COLUMN)).join('')}`,
  ];
  for (const [label, cell] of LINES) lines.push(`${label.padEnd(LABEL)}${rows.map((row) => (row.error === null ? cell(row) : 'failed').padStart(COLUMN)).join('')}`);
  for (const row of rows) if (row.error !== null) lines.push(`  ${WS_SERVER_NAMES[row.server]} failed: ${row.error}`);
  return lines.join('\n');
}
