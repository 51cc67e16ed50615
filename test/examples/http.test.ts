/**
 * The http and echo examples driven by clients nobody here wrote: curl
 * (routes, POST, keep-alive reuse of one connection for several URLs) and
 * Node's net with random payloads for echo.
 */
import t from 'tap';
import { randomBytes } from 'node:crypto';
import net from 'node:net';
import { program, startExample } from '../helpers/example.js';
import { trackFds } from '../helpers/fds.js';
import { roundTrip, sha256 } from '../helpers/net-client.js';

t.test('http: curl sees the routes, and reuses one connection', async (t) => {
  const fds = trackFds();
  const example = await startExample(['http']);
  const base = `http://127.0.0.1:${example.port}`;
  t.equal(program('curl', ['-s', `${base}/`]).stdout, 'hello world');
  t.same(JSON.parse(program('curl', ['-s', `${base}/json`]).stdout), { message: 'hello world', server: 'zepoll' });
  t.equal(program('curl', ['-s', '-X', 'POST', '--data-binary', 'posted body', `${base}/echo`]).stdout, 'posted body');
  t.match(program('curl', ['-s', '-o', '/dev/null', '-w', '%{http_code}', `${base}/nowhere`]).stdout, '404');
  const streamed = program('curl', ['-s', '-D', '-', `${base}/bytes/200000`]);
  t.match(streamed.stdout, /transfer-encoding: chunked/i, '/bytes/<n> streams');
  t.equal(streamed.stdout.slice(streamed.stdout.indexOf('\r\n\r\n') + 4).length, 200_000, 'n bytes');
  t.equal(program('curl', ['-s', `${base}/bytes/0`]).stdout, '', '/bytes/0: empty');
  for (const bad of ['abc', '67108865', '1e3']) t.match(program('curl', ['-s', '-w', ' %{http_code}', `${base}/bytes/${bad}`]).stdout, /n from 0 to 67108864\n 400$/, `/bytes/${bad}: 400`);
  const reused = program('curl', ['-sv', `${base}/`, `${base}/json`, `${base}/`]);
  t.equal(reused.stdout, `hello world${JSON.stringify({ message: 'hello world', server: 'zepoll' })}hello world`);
  t.match(reused.stderr, /Re-using existing connection/, 'keep-alive: curl reused the connection');
  // A client that resets in the middle of a request: the server drops that
  // connection (ECONNRESET) and keeps serving.
  await new Promise<void>((resolve) => {
    const socket = net.connect(example.port, '127.0.0.1', () => {
      socket.write('GET / HTTP/1.1\r\nHost: a\r\nX-Partial: ');
      setTimeout(() => {
        socket.resetAndDestroy();
        resolve();
      }, 20);
    });
    socket.on('error', () => {});
  });
  await new Promise((resolve) => setTimeout(resolve, 20));
  t.equal(program('curl', ['-s', `${base}/`]).stdout, 'hello world', 'still serving after a reset mid-request');
  const head = program('curl', ['-sI', `${base}/`]);
  t.match(head.stdout, /^HTTP\/1\.1 200 OK\r\n/);
  t.match(head.stdout, /Content-Length: 11\r\n/);
  t.equal(await example.stop(), 0);
  await fds.assertNoneSettled(t);
});

t.test('echo: random payloads come back exact', async (t) => {
  const fds = trackFds();
  const example = await startExample(['echo', '--mode', 'lt']);
  const payloads = Array.from({ length: 20 }, (_, index) => randomBytes(1 + ((index * 7919) % 200_000)));
  const results = await Promise.all(payloads.map((payload) => roundTrip(example.port, payload)));
  results.forEach((result, index) => t.equal(sha256(result), sha256(payloads[index]!), `payload ${index} (${payloads[index]!.length} bytes)`));
  t.equal(await example.stop(), 0);
  await fds.assertNoneSettled(t);
});
