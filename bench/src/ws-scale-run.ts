/**
 * The ws scenario as `npm run bench -- --scenarios ws` runs it: the
 * options checked, the servers that cannot run here left out with a line
 * (uWS.js is an optional dependency; io_uring may be refused by the
 * kernel or a sandbox), the layout planned for this machine's limits,
 * then the run (ws-scale.ts).
 */
import { spawnSync } from 'node:child_process';
import { loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { ioUringSupport } from 'zepoll';
import { machineLimits } from './ws-scale-fleet.js';
import { planWs } from './ws-scale-plan.js';
import { WS_SERVERS, type WsServerKind } from './ws-scale-protocol.js';
import { runWsScale, type WsRow } from './ws-scale.js';

/** Connections of a run that does not ask: a quick look (about a minute a server); the issue's figure is 100 000. */
export const WS_CONNECTIONS_DEFAULT = 10_000;
/** The issue's load: each connection sends 1 KiB every 10 s. */
export const WS_PERIOD_MS_DEFAULT = 10_000;
/** The options' bounds (the plan then refuses what this machine cannot hold). */
const CONNECTIONS_MAX = 1_000_000;
const PERIOD_MS_MIN = 100;
const PERIOD_MS_MAX = 60_000;
const HERE = fileURLToPath(new URL('.', import.meta.url));

/** The scenario's command-line options, as given (checked by runWsScenario). */
export interface WsScenarioOptions {
  readonly connections: string;
  readonly servers: string | undefined;
  readonly periodMs: string;
}

/** The servers asked for that can run here; a line for each left out. */
function available(wanted: readonly WsServerKind[], say: (text: string) => void): WsServerKind[] {
  return wanted.filter((kind) => {
    if (kind === 'uws') {
      const check = spawnSync(process.execPath, [`${HERE}uws-server.js`, '--check'], { encoding: 'utf8' });
      if (check.status === 0) return true;
      say(`ws: uWebSockets.js left out: ${check.stderr.trim().split('\n')[0] || `exit ${check.status}`} (it is the optional dependency @rjweb/uws)`);
      return false;
    }
    if (kind === 'zepoll-uring') {
      const support = ioUringSupport();
      if (support.available) return true;
      say(`ws: zepoll io_uring left out: ${support.reason}`);
      return false;
    }
    return true;
  });
}

/**
 * Runs the scenario; `failed` when it could not run or a server failed
 * (its row says why), so the bench exits non-zero.
 */
export async function runWsScenario(options: WsScenarioOptions, progress: (text: string) => void): Promise<{ rows: WsRow[]; failed: boolean }> {
  const connections = Number(options.connections);
  const periodMs = Number(options.periodMs);
  const wanted = (options.servers === undefined ? [...WS_SERVERS] : options.servers.split(',').map((name) => name.trim())) as WsServerKind[];
  const unknown = wanted.filter((name) => !(WS_SERVERS as readonly string[]).includes(name));
  if (!Number.isInteger(connections) || connections < 1 || connections > CONNECTIONS_MAX || !Number.isInteger(periodMs) || periodMs < PERIOD_MS_MIN || periodMs > PERIOD_MS_MAX || unknown.length > 0) {
    progress(`ws: bad options (--ws-connections 1..${CONNECTIONS_MAX}, --ws-period-ms ${PERIOD_MS_MIN}..${PERIOD_MS_MAX}, --ws-servers ${WS_SERVERS.join(',')})${unknown.length > 0 ? `: ${unknown.join(', ')}` : ''}`);
    return { rows: [], failed: true };
  }
  let plan;
  try {
    plan = planWs(connections, machineLimits());
  } catch (error) {
    progress((error as Error).message);
    return { rows: [], failed: true };
  }
  progress(`ws: load average before the run ${loadavg().map((load) => load.toFixed(2)).join(' ')}`);
  const rows = await runWsScale(available(wanted, progress), plan, periodMs, progress);
  return { rows, failed: rows.some((row) => row.error !== null) };
}
