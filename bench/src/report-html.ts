/**
 * The HTML report of a bench run: bar charts as inline SVG (readable with
 * no network), one section per scenario, the targets, the machine.
 */
import type { EchoRow } from './echo.js';
import { serverName, type HttpTable } from './http-scenario.js';
import type { TargetResult } from './targets.js';
import type { FairnessRow } from './fairness.js';
import type { ScalingPoint } from './scaling.js';
import type { ZerocopyRow } from './zerocopy.js';
import type { WsRow } from './ws-scale.js';
import { WS_SERVER_NAMES } from './ws-scale-format.js';

export interface ReportData {
  readonly machine: Record<string, string | number>;
  readonly startedAt: string;
  readonly micro: ReadonlyArray<{ name: string; unit: string; median: number; c?: number }>;
  readonly http: readonly HttpTable[];
  readonly echo: readonly EchoRow[];
  readonly echoLarge: readonly EchoRow[];
  readonly fairness: readonly FairnessRow[];
  readonly scaling: readonly ScalingPoint[];
  readonly zerocopy: readonly ZerocopyRow[];
  readonly ws: readonly WsRow[];
  readonly targets: readonly TargetResult[];
}

const escape = (text: string): string => text.replace(/[&<>"]/g, (char) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[char]!);
const BAR_HEIGHT = 22;
/** Two decimals, or n/a for a figure the client could not give (pipelined wrk latency). */
const fixed = (value: number): string => (Number.isFinite(value) ? value.toFixed(2) : 'n/a');
const LABEL_WIDTH = 120;
const CHART_WIDTH = 800;

/** A horizontal bar chart: one bar per (label, value), with the value written at its end. */
export function barChart(title: string, unit: string, bars: ReadonlyArray<{ label: string; value: number; note?: string }>): string {
  const max = Math.max(...bars.map((bar) => (Number.isFinite(bar.value) ? bar.value : 0)), 1e-9);
  const height = bars.length * BAR_HEIGHT + 30;
  const rows = bars
    .map((bar, index) => {
      const y = 24 + index * BAR_HEIGHT;
      const width = Number.isFinite(bar.value) ? Math.max(1, ((CHART_WIDTH - LABEL_WIDTH - 160) * bar.value) / max) : 0;
      const value = Number.isFinite(bar.value) ? (bar.value >= 100 ? Math.round(bar.value).toLocaleString('en-US') : bar.value.toFixed(2)) : 'n/a';
      return `<text x="0" y="${y + 15}" font-size="12">${escape(bar.label)}</text><rect x="${LABEL_WIDTH}" y="${y + 3}" width="${width.toFixed(1)}" height="${BAR_HEIGHT - 6}" fill="#3b6ea8"/><text x="${LABEL_WIDTH + width + 6}" y="${y + 15}" font-size="12">${escape(value)} ${escape(unit)}${bar.note ? ` ${escape(bar.note)}` : ''}</text>`;
    })
    .join('');
  return `<figure><svg xmlns="http://www.w3.org/2000/svg" width="${CHART_WIDTH}" height="${height}" role="img" aria-label="${escape(title)}"><text x="0" y="14" font-size="13" font-weight="bold">${escape(title)}</text>${rows}</svg></figure>`;
}

function httpSection(table: HttpTable): string {
  const { config, rows } = table;
  const title = `${config.client} -c ${config.connections}, pipelining ${config.pipelining}`;
  const charts = [
    barChart(`requests/s — ${title}`, 'req/s', rows.map((row) => ({ label: serverName(row.server), value: row.requestsPerSecond.median, ...(row.clientSaturated ? { note: '(client-bound)' } : {}) }))),
    barChart(`server CPU per request — ${title}`, 'µs', rows.map((row) => ({ label: serverName(row.server), value: row.serverCpuUsPerRequest.median }))),
    rows.some((row) => Number.isFinite(row.p99ms)) ? barChart(`latency p99 — ${title}`, 'ms', rows.map((row) => ({ label: serverName(row.server), value: row.p99ms }))) : '',
    barChart(`garbage per request (JavaScript heap) — ${title}`, 'B', rows.filter((row) => Number.isFinite(row.garbageBytesPerRequest)).map((row) => ({ label: serverName(row.server), value: row.garbageBytesPerRequest, note: `(${row.scavengesPerSecond.toFixed(1)} scavenges/s, longest GC ${row.gcPauseMaxMs.toFixed(2)} ms)` }))),
  ].join('');
  const header = '<tr><th>server</th><th>requests/s (min–max)</th><th>p50 ms</th><th>p99 ms</th><th>max ms</th><th>errors / timeouts</th><th>CPU µs/req</th><th>RSS MiB</th><th>garbage B/req</th><th>GC/s, longest GC ms</th><th>ctx switches/s vol / invol</th><th>system calls per request</th><th>client CPU</th></tr>';
  const body = rows
    .map((row) => {
      const calls = row.syscallsPerRequest === null ? 'n/a' : Object.entries(row.syscallsPerRequest).filter(([, value]) => value >= 0.005).map(([name, value]) => `${name} ${value.toFixed(2)}`).join(', ');
      const rate = row.requestsPerSecond;
      return `<tr><td>${serverName(row.server)}</td><td>${Math.round(rate.median).toLocaleString('en-US')} (${Math.round(rate.min).toLocaleString('en-US')}–${Math.round(rate.max).toLocaleString('en-US')})</td><td>${fixed(row.p50ms)}</td><td>${fixed(row.p99ms)}</td><td>${row.maxMs.toFixed(1)}</td><td>${row.errors} / ${row.timeouts}</td><td>${row.serverCpuUsPerRequest.median.toFixed(2)}</td><td>${row.rssMiB.toFixed(1)}</td><td>${Number.isFinite(row.garbageBytesPerRequest) ? row.garbageBytesPerRequest.toFixed(1) : 'n/a'}</td><td>${Number.isFinite(row.scavengesPerSecond) ? `${row.scavengesPerSecond.toFixed(1)}, ${row.gcPauseMaxMs.toFixed(2)}` : 'n/a'}</td><td>${Math.round(row.voluntarySwitchesPerSecond)} / ${Math.round(row.involuntarySwitchesPerSecond)}</td><td>${escape(calls)}</td><td>${(row.clientCpuShare * 100).toFixed(0)}%${row.clientSaturated ? ' (client-bound)' : ''}</td></tr>`;
    })
    .join('');
  return `<section><h2>HTTP GET / — ${escape(title)}</h2>${charts}<table>${header}${body}</table></section>`;
}

function echoSection(rows: readonly EchoRow[], size = '64 B'): string {
  if (rows.length === 0) return '';
  const charts = [
    barChart(`echo round trips/s (50 connections, ${size})`, 'rt/s', rows.map((row) => ({ label: row.kind, value: row.roundTripsPerSecond.median, ...(row.clientSaturated ? { note: '(client-bound)' } : {}) }))),
    barChart('echo server CPU per round trip', 'µs', rows.map((row) => ({ label: row.kind, value: row.serverCpuUsPerRoundTrip }))),
  ].join('');
  const body = rows
    .map((row) => {
      const calls = row.syscallsPerRoundTrip === null ? 'n/a' : Object.entries(row.syscallsPerRoundTrip).filter(([, value]) => value >= 0.005).map(([name, value]) => `${name} ${value.toFixed(2)}`).join(', ');
      return `<tr><td>${row.kind}</td><td>${Math.round(row.roundTripsPerSecond.median).toLocaleString('en-US')}</td><td>${row.p50us.toFixed(0)}</td><td>${row.p99us.toFixed(0)}</td><td>${row.serverCpuUsPerRoundTrip.toFixed(2)}</td><td>${escape(calls)}</td><td>${(row.clientCpuShare * 100).toFixed(0)}%</td></tr>`;
    })
    .join('');
  return `<section><h2>Echo, ${size}</h2>${charts}<table><tr><th>server</th><th>round trips/s</th><th>p50 µs</th><th>p99 µs</th><th>CPU µs/rt</th><th>system calls per round trip</th><th>client CPU</th></tr>${body}</table></section>`;
}

/** Cost per wait against idle connections, one line per mechanism, log-log axes. */
function scalingChart(points: readonly ScalingPoint[]): string {
  if (points.length === 0) return '';
  const width = 640;
  const height = 300;
  const left = 60;
  const bottom = 260;
  const idles = [...new Set(points.map((point) => point.idle))].sort((a, b) => a - b);
  const costs = points.map((point) => point.microsecondsPerWait);
  const [minX, maxX] = [Math.log10(idles[0]!), Math.log10(idles[idles.length - 1]!)];
  const [minY, maxY] = [Math.log10(Math.min(...costs)) - 0.1, Math.log10(Math.max(...costs)) + 0.1];
  const x = (idle: number): number => left + ((Math.log10(idle) - minX) / Math.max(maxX - minX, 1e-9)) * (width - left - 120);
  const y = (cost: number): number => bottom - ((Math.log10(cost) - minY) / Math.max(maxY - minY, 1e-9)) * (bottom - 30);
  const colors: Record<string, string> = { select: '#b5651d', poll: '#a83b3b', 'epoll-lt': '#3b6ea8', 'epoll-et': '#2e8b57' };
  const lines = Object.keys(colors)
    .map((mechanism) => {
      const mine = points.filter((point) => point.mechanism === mechanism).sort((a, b) => a.idle - b.idle);
      if (mine.length === 0) return '';
      const path = mine.map((point, index) => `${index === 0 ? 'M' : 'L'}${x(point.idle).toFixed(1)},${y(point.microsecondsPerWait).toFixed(1)}`).join(' ');
      const last = mine[mine.length - 1]!;
      const dots = mine.map((point) => `<circle cx="${x(point.idle).toFixed(1)}" cy="${y(point.microsecondsPerWait).toFixed(1)}" r="3" fill="${colors[mechanism]}"/>`).join('');
      return `<path d="${path}" stroke="${colors[mechanism]}" fill="none" stroke-width="2"/>${dots}<text x="${(x(last.idle) + 6).toFixed(1)}" y="${y(last.microsecondsPerWait).toFixed(1)}" font-size="12" fill="${colors[mechanism]}">${mechanism}</text>`;
    })
    .join('');
  const ticks = idles.map((idle) => `<text x="${x(idle).toFixed(1)}" y="${bottom + 18}" font-size="11" text-anchor="middle">${idle.toLocaleString('en-US')}</text>`).join('');
  const decades: number[] = [];
  for (let exponent = Math.ceil(minY); exponent <= Math.floor(maxY); exponent += 1) decades.push(10 ** exponent);
  const yTicks = decades.map((value) => `<text x="${left - 6}" y="${(y(value) + 4).toFixed(1)}" font-size="11" text-anchor="end">${value.toLocaleString('en-US')} µs</text><line x1="${left}" y1="${y(value).toFixed(1)}" x2="${width - 100}" y2="${y(value).toFixed(1)}" stroke="#eee"/>`).join('');
  return `<figure><svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" role="img" aria-label="cost per wait"><text x="0" y="14" font-size="13" font-weight="bold">µs per wait call against idle connections (log-log)</text><line x1="${left}" y1="${bottom}" x2="${width - 100}" y2="${bottom}" stroke="#999"/><line x1="${left}" y1="30" x2="${left}" y2="${bottom}" stroke="#999"/>${yTicks}${ticks}${lines}<text x="${left}" y="${bottom + 36}" font-size="11">idle connections</text></svg></figure>`;
}

/** The ws scenario: memory per connection, accept time, broadcast, echo and CPU per message, a chart each, and the table. */
function wsSection(rows: readonly WsRow[]): string {
  const measured = rows.filter((row) => row.error === null);
  if (rows.length === 0) return '';
  const count = rows[0]!.connections.toLocaleString('en-US');
  const bars = (value: (row: WsRow) => number): Array<{ label: string; value: number }> => measured.map((row) => ({ label: WS_SERVER_NAMES[row.server] ?? row.server, value: value(row) }));
  const charts = [
    barChart(`RSS per idle connection — ${count} WebSockets`, 'B', bars((row) => row.idleRssPerConnection)),
    barChart(`JavaScript heap per idle connection — ${count} WebSockets`, 'B', bars((row) => row.idleHeapPerConnection)),
    barChart(`time to accept and upgrade all ${count}`, 's', bars((row) => row.acceptSeconds)),
    barChart('broadcast to all: p99 across clients', 'ms', bars((row) => row.broadcast.p99)),
    barChart(`echo round trip p99 (1 KiB per connection every ${(rows[0]!.periodMs / 1000).toString()} s)`, 'ms', bars((row) => row.echo.p99)),
    barChart('server CPU per echoed message', 'µs', bars((row) => row.cpuUsPerMessage)),
  ].join('');
  const body = rows
    .map((row) => {
      const name = escape(WS_SERVER_NAMES[row.server] ?? row.server);
      if (row.error !== null) return `<tr><td>${name}</td><td colspan="12">failed: ${escape(row.error)}</td></tr>`;
      return `<tr><td>${name}</td><td>${row.serverProcesses} / ${row.clientProcesses}</td><td>${row.held.toLocaleString('en-US')} / ${row.dropped}</td><td>${row.acceptSeconds.toFixed(1)}</td><td>${Math.round(row.idleRssPerConnection)} / ${Math.round(row.idleHeapPerConnection)}</td><td>${Math.round(row.activeRssPerConnection)} / ${Math.round(row.activeHeapPerConnection)}</td><td>${row.idleRssTotalMiB.toFixed(0)}</td><td>${fixed(row.broadcast.p50)} / ${fixed(row.broadcast.p99)} / ${fixed(row.broadcast.max)}</td><td>${fixed(row.echo.p50)} / ${fixed(row.echo.p99)} / ${fixed(row.echo.max)}</td><td>${Math.round(row.messagesPerSecond).toLocaleString('en-US')}</td><td>${fixed(row.cpuUsPerMessage)}</td><td>${(row.clientCpuShare * 100).toFixed(0)}%</td><td>${fixed(row.load[0])} / ${fixed(row.load[1])}</td></tr>`;
    })
    .join('');
  return `<section><h2>WebSocket: ${count} connections</h2><p>Per connection: the server processes' sum after, less their sum before (after a warm-up), over the connections. Broadcast: one 1 KiB message to every connection, from the driver's send to each client's receipt. Active: every connection sends 1 KiB once a period and times its echo; echo times and server CPU over the middle two periods, heap and RSS after them with the load still running.</p>${charts}<table><tr><th>server</th><th>processes server / client</th><th>held / dropped</th><th>accept s</th><th>idle B/conn RSS / heap</th><th>active B/conn RSS / heap</th><th>server RSS MiB</th><th>broadcast ms p50 / p99 / last</th><th>echo ms p50 / p99 / max</th><th>messages/s</th><th>CPU µs/message</th><th>client CPU</th><th>load average start / end</th></tr>${body}</table></section>`;
}

export function renderHtml(data: ReportData): string {
  const targets = data.targets.map((target) => `<tr><td>${target.met === null ? '—' : target.met ? 'met' : '<b>not met</b>'}</td><td>${escape(target.target)}</td><td>${escape(target.measured)}</td></tr>`).join('');
  const machine = Object.entries(data.machine).map(([key, value]) => `<tr><td>${escape(key)}</td><td>${escape(String(value))}</td></tr>`).join('');
  const micro = data.micro.map((figure) => `<tr><td>${escape(figure.name)}</td><td>${figure.median.toFixed(1)} ${escape(figure.unit)}</td><td>${figure.c === undefined ? '' : `${figure.c.toFixed(1)} ns`}</td></tr>`).join('');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>zepoll bench ${escape(data.startedAt)}</title>
<style>body{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em}table{border-collapse:collapse;font-size:13px;margin:1em 0}td,th{border:1px solid #ccc;padding:3px 6px;text-align:right}td:first-child,th:first-child{text-align:left}section>table:first-of-type td{text-align:left}figure{margin:0.5em 0}</style>
</head><body>
<h1>zepoll benchmark, ${escape(data.startedAt)}</h1>
<p>Servers pinned to CPU 0 and load generators to CPU 1 where the machine has two CPUs. Each figure is the median of interleaved repeats. Servers are ranked by CPU per request, which does not depend on the client; a run marked client-bound measured the client.</p>
<section><h2>Targets</h2><table><tr><th>status</th><th>target</th><th>measured</th></tr>${targets}</table></section>
${data.http.map(httpSection).join('')}
${echoSection(data.echo)}
${echoSection(data.echoLarge, '16 KiB')}
${data.fairness.length === 0 ? '' : `<section><h2>Fairness: small round trips while firehoses queued in the kernel are drained</h2><table><tr><th>firehoses</th><th>mode</th><th>small p99 alone µs</th><th>with the 64 KiB quota (factor; drain rate; server CPU)</th><th>readQuota Infinity (factor; drain rate; server CPU)</th></tr>${data.fairness.map((row) => `<tr><td>${row.firehoses}</td><td>${row.mode}</td><td>${row.quietP99us.toFixed(0)}</td><td>${row.quotaP99us.toFixed(0)} (${row.quotaFactor.toFixed(2)}x, ${row.quotaFactorRange.min.toFixed(2)}-${row.quotaFactorRange.max.toFixed(2)}; ${row.quotaFirehoseMiBps.toFixed(0)} MiB/s; server CPU ${(row.quotaServerCpuShare * 100).toFixed(0)}%)</td><td>${row.mode === 'node' ? 'Node net: no quota' : `${row.noQuotaP99us.toFixed(0)} (${row.noQuotaFactor.toFixed(2)}x, ${row.noQuotaFactorRange.min.toFixed(2)}-${row.noQuotaFactorRange.max.toFixed(2)}; ${row.noQuotaFirehoseMiBps.toFixed(0)} MiB/s; server CPU ${(row.noQuotaServerCpuShare * 100).toFixed(0)}%)`}</td></tr>`).join('')}</table></section>`}
${data.scaling.length === 0 ? '' : `<section><h2>Scaling: select, poll, epoll</h2>${scalingChart(data.scaling)}<table><tr><th>mechanism</th><th>idle</th><th>µs per wait over the N idle, nothing ready (median; min-max)</th><th>round trips/s (10 active)</th></tr>${data.scaling.map((point) => `<tr><td>${point.mechanism}</td><td>${point.idle}</td><td>${point.microsecondsPerWait.toFixed(2)} (${point.waitRange.min.toFixed(2)}-${point.waitRange.max.toFixed(2)})</td><td>${Math.round(point.roundTripsPerSecond).toLocaleString('en-US')}</td></tr>`).join('')}</table></section>`}
${data.zerocopy.length === 0 ? '' : `<section><h2>Zero copy</h2>${barChart('server CPU seconds per GiB moved', 's/GiB', data.zerocopy.map((row) => ({ label: row.name.replace(/, .*/, ''), value: row.cpuSecondsPerGib, note: row.name.replace(/^[^,]*, /, '') })))}<table><tr><th>path</th><th>GiB/s</th><th>CPU s per GiB (min-max)</th></tr>${data.zerocopy.map((row) => `<tr><td>${escape(row.name)}</td><td>${row.gibPerSecond.toFixed(2)}</td><td>${row.cpuSecondsPerGib.toFixed(3)} (${row.cpuRange.min.toFixed(3)}-${row.cpuRange.max.toFixed(3)})</td></tr>`).join('')}</table></section>`}
${wsSection(data.ws)}
<section><h2>Binding</h2><table><tr><th>call</th><th>zepoll</th><th>same call from C</th></tr>${micro}</table></section>
<section><h2>Machine</h2><table>${machine}</table></section>
</body></html>
`;
}
