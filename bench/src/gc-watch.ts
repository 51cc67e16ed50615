/**
 * What a Node-based bench server allocates and how long its collector
 * pauses it, between two reports: v8.GCProfiler records the heap before and
 * after every collection, so the bytes allocated in a window are what the
 * collections freed plus what the heap grew by. The servers print a report
 * on SIGUSR2 (serverReport), and the bench takes the window of its load run.
 */
import { GCProfiler, getHeapStatistics } from 'node:v8';

/** One window's collections. */
export interface GcFigures {
  /** Bytes allocated on the JavaScript heap in the window. */
  readonly allocatedBytes: number;
  readonly scavenges: number;
  /** Mark-sweep-compact and incremental marking collections. */
  readonly majorCollections: number;
  /** Sum and largest of the collections' times (the main thread's pauses), ms. */
  readonly pauseTotalMs: number;
  readonly pauseMaxMs: number;
  /** Collections that took more than a millisecond. */
  readonly pausesOver1Ms: number;
  /** Those collections, in order: V8's name for each (Scavenge, MinorMarkCompact, MarkSweepCompact, ...) and its time. */
  readonly longPauses: ReadonlyArray<{ readonly type: string; readonly ms: number }>;
  readonly windowMs: number;
}

interface GcStatistic {
  readonly gcType: string;
  readonly cost: number; // microseconds
  readonly beforeGC: { readonly heapStatistics: { readonly usedHeapSize: number } };
  readonly afterGC: { readonly heapStatistics: { readonly usedHeapSize: number } };
}

const MICROSECONDS_PER_MS = 1000;
const LONG_PAUSE_MS = 1;

let profiler = new GCProfiler();
let usedAtStart = getHeapStatistics().used_heap_size;
let startedAt = performance.now();
profiler.start();

/** The figures since the last call (or since the module loaded), and a new window. */
export function gcWindow(): GcFigures {
  const usedNow = getHeapStatistics().used_heap_size;
  const result = profiler.stop() as { statistics: GcStatistic[] };
  const now = performance.now();
  let freed = 0;
  let scavenges = 0;
  let majorCollections = 0;
  let pauseTotalMs = 0;
  let pauseMaxMs = 0;
  let pausesOver1Ms = 0;
  const longPauses: Array<{ type: string; ms: number }> = [];
  for (const statistic of result.statistics) {
    freed += statistic.beforeGC.heapStatistics.usedHeapSize - statistic.afterGC.heapStatistics.usedHeapSize;
    if (statistic.gcType === 'Scavenge' || statistic.gcType === 'MinorMarkCompact') scavenges += 1;
    else majorCollections += 1;
    const pauseMs = statistic.cost / MICROSECONDS_PER_MS;
    pauseTotalMs += pauseMs;
    pauseMaxMs = Math.max(pauseMaxMs, pauseMs);
    if (pauseMs > LONG_PAUSE_MS) {
      pausesOver1Ms += 1;
      longPauses.push({ type: statistic.gcType, ms: pauseMs });
    }
  }
  const figures = { allocatedBytes: Math.max(0, freed + usedNow - usedAtStart), scavenges, majorCollections, pauseTotalMs, pauseMaxMs, pausesOver1Ms, longPauses, windowMs: now - startedAt };
  profiler = new GCProfiler();
  usedAtStart = getHeapStatistics().used_heap_size;
  startedAt = performance.now();
  profiler.start();
  return figures;
}

/**
 * On SIGUSR2, one JSON line on stdout: `{"syscalls": {...} | null, "gc": {...}}`
 * (`counters` gives the system-call counts of servers that keep them). The
 * handler is in place before the caller announces its port: a SIGUSR2 that
 * came first would kill the process (its default action).
 */
export function reportOnSignal(counters: () => Record<string, number> | null): void {
  process.on('SIGUSR2', () => {
    process.stdout.write(`${JSON.stringify({ syscalls: counters(), gc: gcWindow() })}\n`);
  });
}
