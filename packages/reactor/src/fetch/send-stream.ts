/**
 * Sends a Response's stream body as @hono/node-server sends it, so time to
 * first byte and framing match:
 *
 * - What the stream has ready at once (it is read without waiting beyond a
 *   few microtasks, and one timer turn once a first chunk came) is
 *   gathered; if the stream ends within that, the body goes out whole with
 *   its Content-Length.
 * - Otherwise the head goes out at once, with whatever chunk is ready, and
 *   the rest is written as it comes (chunked), each write waiting while the
 *   connection's queue is over its high-water mark. An SSE endpoint whose
 *   second event is far off shows the client its head and first event now.
 *
 * A Transfer-Encoding the app set skips the gathering, and so does a light
 * Response's stream (node-server sends its own light Response's stream as
 * it comes): the head goes at once.
 */
import type { HttpResponse } from '../http/response.js';

/** What readSoon() answers when the read is still pending. */
const NOT_YET = Symbol('zepoll.fetch.notYet');
type ReadResult = Awaited<ReturnType<ReadableStreamDefaultReader<Uint8Array>['read']>>;
/** Reads gathered before the head is sent: two, and a third after a timer turn when the first came at once (node-server's counts). */
const GATHER_READS = 2;
const GATHER_READS_AFTER_TURN = 3;

/**
 * The read's result if it settles within a few microtask turns, else
 * NOT_YET. The delay is node-server's (a promise resolved with a promise:
 * three turns), which lets a stream whose pull is itself async answer.
 */
function readSoon(pending: Promise<ReadResult>): Promise<ReadResult | typeof NOT_YET> {
  return Promise.race([pending, Promise.resolve().then(() => Promise.resolve(NOT_YET))]);
}

/** One timer turn: a producer that enqueues from a resolved promise or a zero timer gets to. */
function timerTurn(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 0));
}

/** Resolves when the connection can take more (drained) or is gone (closed). */
function writable(out: HttpResponse): Promise<void> {
  return new Promise((resolve) => out.onDrain(resolve));
}

/** Sends `body` on `out` (headers set); `gather`: read what is ready first (else the head goes at once). */
export async function sendStream(out: HttpResponse, body: ReadableStream<Uint8Array>, gather: boolean): Promise<void> {
  const reader = body.getReader();
  let closedEarly = false;
  out.onClose((aborted) => {
    if (!aborted) return;
    closedEarly = true;
    reader.cancel().catch(() => {}); // the client left: stop producing
  });
  const ready: Uint8Array[] = [];
  let pending: Promise<ReadResult> | null = null;
  let done = false;
  if (gather) {
    let reads = GATHER_READS;
    for (let index = 0; index < reads; index += 1) {
      pending ??= reader.read();
      const result = await readSoon(pending);
      if (result === NOT_YET) {
        if (index !== 1) break;
        await timerTurn(); // the first chunk came at once: give the end (or a second) one turn to come too
        reads = GATHER_READS_AFTER_TURN;
        continue;
      }
      pending = null;
      if (result.done) {
        done = true;
        break;
      }
      ready.push(result.value);
    }
  }
  if (done) return sendWhole(out, ready);
  let more = true;
  if (ready.length === 0) more = out.write(EMPTY); // the head, now: nothing is ready yet
  for (const chunk of ready) more = out.write(chunk) && more;
  for (;;) {
    if (!more) await writable(out);
    if (closedEarly) return;
    const next = await (pending ?? reader.read());
    pending = null;
    if (next.done) break;
    more = out.write(next.value);
  }
  out.end();
}

const EMPTY = new Uint8Array(0);

/**
 * A stream that ended while gathered: sent whole, with its Content-Length
 * (the gathering ends after one chunk and the end, so there is at most one).
 */
function sendWhole(out: HttpResponse, chunks: readonly Uint8Array[]): void {
  if (chunks.length === 0) out.end();
  else out.end(chunks[0]);
}
