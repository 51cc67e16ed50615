/**
 * The resp example with Debian's redis-cli and redis-benchmark (installed
 * by scripts/ensure-tools.mjs): commands and their errors as Redis words
 * them, expiry, pipelining, and a short benchmark run that completes.
 */
import t from 'tap';
import { program, startExample } from '../helpers/example.js';

t.test('redis-cli: commands, errors and expiry', async (t) => {
  const example = await startExample(['resp']);
  const cli = (...args: string[]): string => program('redis-cli', ['-p', String(example.port), ...args]).stdout.trim();
  t.equal(cli('PING'), 'PONG');
  t.equal(cli('PING', 'hi'), 'hi');
  t.equal(cli('ECHO', 'hello'), 'hello');
  t.equal(cli('SET', 'k', 'v'), 'OK');
  t.equal(cli('GET', 'k'), 'v');
  t.equal(cli('GET', 'missing'), '');
  t.equal(cli('EXISTS', 'k', 'missing'), '1');
  t.equal(cli('INCR', 'n'), '1');
  t.equal(cli('INCR', 'n'), '2');
  t.equal(cli('DECR', 'n'), '1');
  t.match(cli('INCR', 'k'), /ERR value is not an integer or out of range/);
  t.equal(cli('MSET', 'a', '1', 'b', '2'), 'OK');
  t.equal(cli('MGET', 'a', 'b', 'missing'), '1\n2', 'MGET: two values and a nil (an empty line)');
  t.equal(cli('SET', 'k', 'v2', 'NX'), '');
  t.equal(cli('SET', 'fresh', 'v', 'XX'), '');
  // TTL of a key that cannot expire during the test (a 100 ms one may already be gone on a busy machine).
  t.equal(cli('SET', 'lasting', 'v', 'PX', '60000'), 'OK');
  t.equal(cli('TTL', 'lasting'), '60');
  t.equal(cli('SET', 'temp', 'v', 'PX', '100'), 'OK');
  t.equal(cli('TTL', 'k'), '-1');
  t.equal(cli('TTL', 'missing'), '-2');
  t.equal(cli('EXPIRE', 'a', '100'), '1');
  t.equal(cli('EXPIRE', 'missing', '100'), '0');
  await new Promise((resolve) => setTimeout(resolve, 150));
  t.equal(cli('GET', 'temp'), '', 'expired');
  t.equal(cli('DEL', 'a', 'b', 'missing'), '2');
  t.equal(cli('DBSIZE'), '3');
  t.match(cli('GET'), /ERR wrong number of arguments for 'get' command/);
  t.match(cli('SET', 'x', 'y', 'EX', 'ten'), /ERR value is not an integer/);
  t.match(cli('SET', 'x', 'y', 'BOGUS'), /ERR syntax error/);
  t.match(cli('NOSUCH', 'arg'), /ERR unknown command 'NOSUCH', with args beginning with: 'arg'/);
  t.equal(cli('FLUSHALL'), 'OK');
  t.equal(cli('DBSIZE'), '0');
  const piped = program('sh', ['-c', `printf 'SET p 1\\nINCR p\\nGET p\\n' | redis-cli -p ${example.port} --pipe`]);
  t.match(piped.stdout, /errors: 0, replies: 3/, 'redis-cli --pipe: pipelined commands');
  t.equal(await example.stop(), 0);
});

t.test('redis-benchmark completes ping, set and get against resp', async (t) => {
  const example = await startExample(['resp']);
  const result = program('redis-benchmark', ['-p', String(example.port), '-t', 'ping,set,get', '-n', '20000', '-q'], 120_000);
  t.equal(result.status, 0, 'redis-benchmark exits 0');
  for (const test of ['PING_INLINE', 'PING_MBULK', 'SET', 'GET']) {
    const match = new RegExp(`${test}: ([\\d.]+) requests per second`).exec(result.stdout);
    t.ok(match !== null && Number(match[1]) > 0, `${test}: ${match?.[1] ?? 'no result'} requests/s`);
  }
  t.equal(await example.stop(), 0);
});
