/**
 * The part every ws-scenario server process shares: its counts, and the
 * IPC loop that answers the driver (ws-scale-protocol.ts): a report (after
 * full collections when asked), a broadcast. A `ws` cluster primary is
 * such a server too, answering with its workers' sums.
 */
import { broadcastPayload, type FromServer, type ServerCounts, type ToServer } from './ws-scale-protocol.js';

/** This process's sockets and messages, kept by its server's handlers. */
export const counts = { open: 0, closed: 0, messages: 0 };

/** Full collections before a heap reading: weak references and finalizers settle between them. */
const COLLECTIONS = 3;

/** How a server process answers the driver. */
export interface Served {
  /** Its counts, after full collections when `collect`. */
  report(collect: boolean): Promise<ServerCounts>;
  /** Sends `payload` to every socket; resolves with how many took it (or were asked to). */
  broadcast(payload: Buffer): Promise<number>;
}

/** This process's own report: its counts and heap. */
export async function localReport(collect: boolean): Promise<ServerCounts> {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (collect) {
    if (gc === undefined) throw new Error('run with node --expose-gc');
    for (let index = 0; index < COLLECTIONS; index += 1) {
      gc();
      await new Promise((resolve) => setImmediate(resolve));
    }
  }
  return { ...counts, heapUsed: process.memoryUsage().heapUsed };
}

const say = (message: FromServer): void => void process.send!(message);

/** Reports a failure to the driver, then exits. */
export function fail(error: string): void {
  process.send!({ type: 'failed', error } satisfies FromServer, () => process.exit(1));
}

/** Answers the driver's requests with `served`, after saying this server listens (with the pids whose /proc it should read). */
export function serve(served: Served, pids: readonly number[]): void {
  process.on('message', (message: ToServer) => {
    const answer =
      message.type === 'report'
        ? served.report(message.collect).then((report) => say({ type: 'report', ...report }))
        : served.broadcast(broadcastPayload(message.sequence, message.sentAt)).then((sent) => say({ type: 'broadcasted', sequence: message.sequence, sent }));
    answer.catch((error: unknown) => fail(String((error as Error).stack ?? error)));
  });
  // The driver going away (its run done, or failed) ends this process.
  process.on('disconnect', () => process.exit(0));
  say({ type: 'listening', pids: [...pids] });
}
