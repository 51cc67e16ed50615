/** What /proc says about a process: CPU seconds, RSS, context switches. */
import { readFileSync } from 'node:fs';

const CLOCK_TICKS = 100; // USER_HZ on Linux

export interface ProcSample {
  readonly cpuSeconds: number;
  readonly rssKiB: number;
  readonly voluntarySwitches: number;
  readonly involuntarySwitches: number;
}

export function procSample(pid: number): ProcSample {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const field = (name: string): number => Number(new RegExp(`^${name}:\\s+(\\d+)`, 'm').exec(status)?.[1] ?? Number.NaN);
  return {
    cpuSeconds: (Number(stat[11]) + Number(stat[12])) / CLOCK_TICKS, // utime + stime
    rssKiB: field('VmRSS'),
    voluntarySwitches: field('voluntary_ctxt_switches'),
    involuntarySwitches: field('nonvoluntary_ctxt_switches'),
  };
}
