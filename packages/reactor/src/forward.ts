/**
 * Backpressure in one call, as `stream.pipe` gives Node users: bytes read
 * from one connection are written to another (or back to itself), and
 * when the target's queue passes its high-water mark the source stops
 * reading until the target has drained. The queue cap stays the last
 * resort for a peer that never reads; forward() keeps a reader that reads
 * slowly from ever reaching it.
 */
import type { Connection, WriteData } from './connection.js';

/**
 * Writes `data` to `target` (default: back to `source`, an echo). Returns
 * write()'s answer; when it is false, `source` is paused and resumes by
 * itself once `target` drains (or closes). Safe with pooled views: a
 * queued view holds its chunk until written.
 * @throws as Connection.write() (a wrong type, a closed or ended target).
 */
export function forward(source: Connection, data: WriteData, target: Connection = source): boolean {
  const written = target.write(data);
  if (!written) source.pauseUntilDrained(target);
  return written;
}
