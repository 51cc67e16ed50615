/**
 * A socket's own heartbeat (the `idleTimeoutMs` socket option), for a hub
 * in an HTTP server whose connections have no idle timeout: a silent peer
 * gets a ping after the idle time and is destroyed after as long again;
 * a peer that answers (the `ws` client pongs by itself) stays; the option
 * is checked where the hub is made. Every test counts fds before and after.
 */
import t from 'tap';
import { Reactor } from '../../packages/reactor/src/reactor.js';
import { createHttpServer } from '../../packages/reactor/src/http/server.js';
import { WebSocketHub } from '../../packages/reactor/src/ws/server.js';
import { trackFds } from '../helpers/fds.js';
import { until } from '../helpers/wait.js';
import { open, rawUpgrade, serverFrames, upgradeRequest } from '../helpers/ws.js';

const IDLE_MS = 50;

t.test('the heartbeat of a hub in a server without idle timeouts: ping, then the end of a silent peer; a live one stays', async (t) => {
  const fds = trackFds();
  const reactor = new Reactor();
  const closes: number[] = [];
  const hub = new WebSocketHub<undefined>(reactor, { close: (_ws, code) => void closes.push(code) }, { idleTimeoutMs: IDLE_MS });
  const server = createHttpServer(reactor, (request, response) => void hub.upgrade(request, response, undefined), { port: 0 });
  const live = await open(`ws://127.0.0.1:${server.port}/`);
  let pings = 0;
  live.on('ping', () => void (pings += 1));
  const started = performance.now(); // before the request: the connection's traffic is no earlier than this
  const silent = await rawUpgrade(server.port, upgradeRequest('/'));
  await until(() => serverFrames(silent.received()).some((frame) => frame.opcode === 0x9), 'the ping');
  t.ok(performance.now() - started >= IDLE_MS, 'not before the idle time');
  await silent.ended();
  t.same(closes, [1006], 'silent after its ping: destroyed, with no close frame');
  await until(() => pings >= 3, 'three pings answered');
  t.equal(live.readyState, live.OPEN, 'a peer that answers stays');
  live.terminate();
  await until(() => closes.length === 2, 'the live one closed by its client');
  await server.close(1000);
  reactor.close();
  await fds.assertNoneSettled(t);
});

t.test('idleTimeoutMs is checked where the hub is made', (t) => {
  const reactor = new Reactor();
  t.throws(() => new WebSocketHub(reactor, {}, { idleTimeoutMs: -1 }), { code: 'ERR_OUT_OF_RANGE', message: /options\.idleTimeoutMs/ });
  t.throws(() => new WebSocketHub(reactor, {}, { idleTimeoutMs: '5' as unknown as number }), { code: 'ERR_INVALID_ARG_TYPE' });
  reactor.close();
  t.end();
});
