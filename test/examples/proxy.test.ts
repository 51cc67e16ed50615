/**
 * The proxy example in front of the http example: Node's http client with
 * a keep-alive agent sends a bounded load through it, every response is
 * right; when the upstream goes away, clients are closed and the proxy
 * keeps running (and serves again once the upstream is back).
 */
import t from 'tap';
import http from 'node:http';
import net from 'node:net';
import { startExample } from '../helpers/example.js';
import { trackFds } from '../helpers/fds.js';

const REQUESTS = 2000;
const SOCKETS = 20;

function get(agent: http.Agent, port: number, path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    http
      .get({ host: '127.0.0.1', port, path, agent }, (response) => {
        let body = '';
        response.setEncoding('utf8').on('data', (part: string) => (body += part));
        response.on('end', () => resolve({ status: response.statusCode!, body }));
      })
      .on('error', reject);
  });
}

t.test('proxy carries the http example under load', async (t) => {
  const fds = trackFds();
  const upstream = await startExample(['http']);
  const proxy = await startExample(['proxy', '--upstream', `127.0.0.1:${upstream.port}`]);
  const agent = new http.Agent({ keepAlive: true, maxSockets: SOCKETS });
  let right = 0;
  for (let sent = 0; sent < REQUESTS; sent += SOCKETS * 5) {
    const batch = await Promise.all(Array.from({ length: SOCKETS * 5 }, (_, index) => get(agent, proxy.port, index % 2 === 0 ? '/' : '/json')));
    right += batch.filter((result) => result.status === 200 && result.body.includes('hello world')).length;
  }
  t.equal(right, REQUESTS, `${REQUESTS} requests through the proxy over ${SOCKETS} keep-alive connections`);
  agent.destroy();
  // Upstream down: a new client is closed, the proxy stays up.
  t.equal(await upstream.stop(), 0);
  const closedByProxy = await new Promise<boolean>((resolve) => {
    const socket = net.connect(proxy.port, '127.0.0.1', () => socket.write('GET / HTTP/1.1\r\nHost: a\r\n\r\n'));
    socket.on('error', () => resolve(true));
    socket.on('close', () => resolve(true));
    setTimeout(() => resolve(false), 3000);
  });
  t.ok(closedByProxy, 'with the upstream down, the client is closed');
  t.equal(proxy.child.exitCode, null, 'the proxy keeps running');
  const back = await startExample(['http', '--port', String(upstream.port)]);
  const oneShot = new http.Agent();
  const again = await get(oneShot, proxy.port, '/');
  oneShot.destroy();
  t.equal(again.body, 'hello world', 'served again once the upstream is back');
  t.equal(await back.stop(), 0);
  t.equal(await proxy.stop(), 0);
  await fds.assertNoneSettled(t);
});
