/** Reading a poller's batch as (fd, generation, flags) triples, for assertions. */
import { EVENT_WORDS } from '../../packages/reactor/src/limits.js';

export interface ReadyEvent {
  readonly fd: number;
  readonly generation: number;
  readonly flags: number;
}

export function readyEvents(events: Uint32Array, count: number): ReadyEvent[] {
  const result: ReadyEvent[] = [];
  for (let index = 0; index < count; index += 1) {
    const base = index * EVENT_WORDS;
    result.push({ fd: events[base]!, generation: events[base + 1]!, flags: events[base + 2]! });
  }
  return result;
}
