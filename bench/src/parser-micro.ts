/**
 * The HTTP request parser alone: nanoseconds per request for wrk-style
 * requests, 16 pipelined per chunk, on one keep-alive parser (median of 5
 * rounds). `node bench/dist/parser-micro.js`. Compare builds by running it
 * on each (git stash, npm run build).
 */
import { RequestParser } from 'zepoll/http';

const PIPELINED = 16;
const WARM_CHUNKS = 20_000;
const CHUNKS_PER_ROUND = 100_000;
const ROUNDS = 5;

const chunk = Buffer.from('GET / HTTP/1.1\r\nHost: 127.0.0.1:41907\r\n\r\n'.repeat(PIPELINED));
let requests = 0;
const parser = new RequestParser({ onRequest: () => void (requests += 1) });
for (let index = 0; index < WARM_CHUNKS; index += 1) parser.execute(chunk);
const rounds: number[] = [];
for (let round = 0; round < ROUNDS; round += 1) {
  const started = process.hrtime.bigint();
  for (let index = 0; index < CHUNKS_PER_ROUND; index += 1) parser.execute(chunk);
  rounds.push(Number(process.hrtime.bigint() - started) / (CHUNKS_PER_ROUND * PIPELINED));
}
rounds.sort((a, b) => a - b);
process.stdout.write(`parser: ${rounds[ROUNDS >> 1]!.toFixed(1)} ns per request (median of ${ROUNDS} rounds, min ${rounds[0]!.toFixed(1)}, max ${rounds[ROUNDS - 1]!.toFixed(1)}; ${requests} requests)\n`);
