/**
 * Property-based fuzzing of the HTTP request parser (fast-check), over
 * more than 100 000 generated requests per run:
 *
 * - valid pipelined requests from a model, cut into random packets: each
 *   parses to exactly the model, whatever the cuts;
 * - mutated requests (bytes replaced, inserted, deleted; hostile fragments
 *   such as a bare LF, a second Content-Length, Content-Length with
 *   Transfer-Encoding, an oversized header): the parser accepts them or
 *   throws an HttpParseError with a status it may answer, and never
 *   anything else; any split gives the same outcome;
 * - a sample of the mutated requests sent to a real server over sockets:
 *   each gets the answers the parser predicts (a status from the allowed
 *   set for a bad one, then a close), and no handler ever throws.
 *
 * The seed is random per run and printed on failure; ZEPOLL_FUZZ_SEED
 * replays one.
 */
import t from 'tap';
import fc from 'fast-check';
import net from 'node:net';
import { HttpParseError, RequestParser } from '../../packages/reactor/src/http/parser.js';
import type { HttpRequest } from '../../packages/reactor/src/http/request.js';
import { summary } from '../helpers/http-summary.js';
import { Reactor } from '../../packages/reactor/src/reactor.js';
import { createHttpServer } from '../../packages/reactor/src/http/server.js';
import { trackFds } from '../helpers/fds.js';
import { captureUncaught } from '../helpers/uncaught.js';
import { cutsOf, encode, expected, mutatedRequest, requestModel, split } from './http-requests.js';

/** The statuses a parse error may carry. */
const ALLOWED_STATUSES = [400, 413, 414, 417, 431, 501, 505];
const VALID_RUNS = 25_000; // 1 to 4 requests each
const MUTATED_RUNS = 45_000;
const REQUESTS_MIN = 100_000;
const SERVER_SAMPLES = 1_500;
const SOCKETS_AT_ONCE = 50;
const seed = process.env.ZEPOLL_FUZZ_SEED === undefined ? Date.now() : Number(process.env.ZEPOLL_FUZZ_SEED);

interface Outcome {
  readonly requests: unknown[];
  readonly status: number | null;
}


/** Parses the pieces in order; a non-HttpParseError is rethrown (a test failure). */
function outcome(pieces: readonly Buffer[]): Outcome {
  const requests: unknown[] = [];
  const parser = new RequestParser({ onRequest: (request) => void requests.push(summary(request)) });
  try {
    for (const piece of pieces) parser.execute(piece);
  } catch (error) {
    if (!(error instanceof HttpParseError)) throw error;
    return { requests, status: error.status };
  }
  return { requests, status: null };
}

let requestsTotal = 0;

t.test(`valid requests in random packets parse to their model (${VALID_RUNS} runs)`, (t) => {
  const property = fc.property(fc.array(requestModel, { minLength: 1, maxLength: 4 }), fc.nat(), (models, cutSeed) => {
    const bytes = Buffer.concat(models.map(encode));
    const want = models.map(expected);
    // Requests after one that closes the connection are still parsed: the parser does not decide keep-alive.
    const whole = outcome([bytes]);
    const cuts = fc.sample(cutsOf(bytes.length), { numRuns: 1, seed: cutSeed })[0]!;
    const pieces = outcome(split(bytes, cuts));
    requestsTotal += models.length;
    return whole.status === null && pieces.status === null && JSON.stringify(whole.requests) === JSON.stringify(want) && JSON.stringify(pieces.requests) === JSON.stringify(want);
  });
  t.doesNotThrow(() => fc.assert(property, { numRuns: VALID_RUNS, seed }), `seed ${seed}`);
  t.end();
});

t.test(`mutated requests: accepted or an allowed status, the same in any split (${MUTATED_RUNS} runs)`, (t) => {
  const statuses = new Map<number | null, number>();
  const property = fc.property(mutatedRequest, fc.nat(), (bytes, cutSeed) => {
    const whole = outcome([bytes]);
    const cuts = fc.sample(cutsOf(bytes.length), { numRuns: 1, seed: cutSeed })[0]!;
    const pieces = outcome(split(bytes, cuts));
    const byteByByte = bytes.length <= 512 ? outcome([...bytes].map((byte) => Buffer.from([byte]))) : pieces;
    requestsTotal += 1;
    statuses.set(whole.status, (statuses.get(whole.status) ?? 0) + 1);
    return (whole.status === null || ALLOWED_STATUSES.includes(whole.status)) && JSON.stringify(pieces) === JSON.stringify(whole) && JSON.stringify(byteByByte) === JSON.stringify(whole);
  });
  t.doesNotThrow(() => fc.assert(property, { numRuns: MUTATED_RUNS, seed }), `seed ${seed}`);
  const rejected = [...statuses].filter(([status]) => status !== null).reduce((sum, [, count]) => sum + count, 0);
  t.ok(rejected > MUTATED_RUNS / 4, `the mutations reach the error paths: ${JSON.stringify(Object.fromEntries(statuses))}`);
  for (const status of [400, 413, 431, 505]) t.ok((statuses.get(status) ?? 0) > 0, `status ${status} seen`);
  t.end();
});

t.test('at least 100 000 requests went through the parser', (t) => {
  t.ok(requestsTotal >= REQUESTS_MIN, `${requestsTotal} requests`);
  t.end();
});

/** Splits a byte stream of responses (every one with Content-Length, 1xx without a body) into statuses and headers. */
function responses(bytes: Buffer): Array<{ status: number; bodyLength: string | undefined }> {
  const found: Array<{ status: number; bodyLength: string | undefined }> = [];
  let offset = 0;
  while (offset < bytes.length) {
    const end = bytes.indexOf('\r\n\r\n', offset);
    if (end === -1) throw new Error(`a partial response: ${JSON.stringify(bytes.subarray(offset).toString('latin1'))}`);
    const head = bytes.toString('latin1', offset, end);
    const status = Number(/^HTTP\/1\.[01] (\d{3}) /.exec(head)?.[1]);
    const length = Number(/\r\ncontent-length: (\d+)/i.exec(head)?.[1] ?? '0');
    offset = end + 4 + (status >= 200 ? length : 0);
    if (status >= 200) found.push({ status, bodyLength: /\r\nx-body-length: (\d+)/i.exec(head)?.[1] });
  }
  return found;
}

/** What the server must answer: the requests up to the first that closes, then the error's status if it is reached. */
function prediction(bytes: Buffer): Array<{ status: number; bodyLength: string | undefined }> {
  const requests: HttpRequest[] = [];
  let status: number | null = null;
  const parser = new RequestParser({ onRequest: (request) => void requests.push(request) });
  try {
    parser.execute(bytes);
  } catch (error) {
    status = (error as HttpParseError).status;
  }
  const answered: Array<{ status: number; bodyLength: string | undefined }> = [];
  for (const request of requests) {
    answered.push({ status: 200, bodyLength: String(request.body.byteLength) });
    if (!request.keepAlive) return answered;
  }
  if (status !== null) answered.push({ status, bodyLength: undefined });
  return answered;
}

function exchange(port: number, bytes: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1', () => socket.end(bytes));
    const parts: Buffer[] = [];
    socket.on('data', (part: Buffer) => parts.push(part));
    socket.on('error', (error: NodeJS.ErrnoException) => (error.code === 'ECONNRESET' || error.code === 'EPIPE' ? undefined : reject(error)));
    socket.on('close', () => resolve(Buffer.concat(parts)));
    socket.setTimeout(10_000, () => {
      socket.destroy();
      reject(new Error('no close within 10 s'));
    });
  });
}

t.test(`a real server answers ${SERVER_SAMPLES} mutated requests as the parser predicts, and no handler throws`, async (t) => {
  const fds = trackFds();
  const reactor = new Reactor();
  let handled = 0;
  const server = createHttpServer(reactor, (request, response) => {
    handled += 1;
    response.setHeader('X-Body-Length', request.body.byteLength);
    response.end();
  });
  const inputs = fc.sample(mutatedRequest, { numRuns: SERVER_SAMPLES, seed });
  const mismatches: string[] = [];
  let rejected = 0;
  const uncaught = await captureUncaught(async () => {
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < inputs.length) {
        const bytes = inputs[next++]!;
        const want = prediction(bytes);
        if (want.some((answer) => answer.status !== 200)) rejected += 1;
        const got = responses(await exchange(server.port, bytes));
        if (JSON.stringify(got) !== JSON.stringify(want) && mismatches.length < 5) mismatches.push(`${JSON.stringify(bytes.toString('latin1').slice(0, 300))}: want ${JSON.stringify(want)}, got ${JSON.stringify(got)}`);
      }
    };
    await Promise.all(Array.from({ length: SOCKETS_AT_ONCE }, worker));
  });
  t.same(mismatches, [], 'every answer as predicted (status, order, body length), then a clean close');
  t.ok(rejected > SERVER_SAMPLES / 4, `${rejected} of the inputs were answered with an error status`);
  t.ok(handled > 0, `${handled} requests reached the handler`);
  t.same(uncaught, [], 'nothing escaped');
  t.equal(reactor.stats.handlerErrors, 0, 'no handler error');
  await server.close();
  t.equal(reactor.stats.connectionsOpen, 0, 'every connection closed');
  reactor.close();
  fds.assertNone(t);
});
