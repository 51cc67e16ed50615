/**
 * Errors in Node's shapes: system errors of connect and listen carry the
 * address and port in the message and as fields; misuse throws a TypeError
 * for a wrong type and a RangeError for a value out of range, both with a
 * code naming the argument; every public option is checked where it is
 * passed, so nothing bad is accepted to crash later.
 */
import t from 'tap';
import net from 'node:net';
import { Reactor } from '../../packages/reactor/src/reactor.js';
import { Server } from '../../packages/reactor/src/server.js';
import { connect, ConnectionPool } from '../../packages/reactor/src/connect.js';
import { BufferPool } from '../../packages/reactor/src/buffer-pool.js';
import { describeReceived } from '../../packages/reactor/src/errors.js';
import { trackFds } from '../helpers/fds.js';

t.test('connect ECONNREFUSED and listen EADDRINUSE read as Node writes them, with address and port', async (t) => {
  const fds = trackFds();
  const reactor = new Reactor();
  const refused = await connect(reactor, {}, { port: 1 }).catch((error: unknown) => error);
  t.match(refused, { name: 'ZepollSystemError', code: 'ECONNREFUSED', errno: -111, syscall: 'connect', address: '127.0.0.1', port: 1, message: 'connect ECONNREFUSED 127.0.0.1:1' });
  const taken = net.createServer();
  await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
  const port = (taken.address() as net.AddressInfo).port;
  t.throws(() => new Server(reactor, {}, { port }), { code: 'EADDRINUSE', syscall: 'listen', address: '127.0.0.1', port, message: `listen EADDRINUSE: address already in use 127.0.0.1:${port}` });
  taken.close();
  reactor.close();
  await fds.assertNoneSettled(t);
});

t.test('every option and argument is checked at construction, with the class and code Node would use', async (t) => {
  const fds = trackFds();
  const reactor = new Reactor({ attach: false });
  const cases: Array<[string, () => unknown, string, string, RegExp]> = [
    ['Reactor options not an object', () => new Reactor(5 as unknown as object), 'TypeError', 'ERR_INVALID_ARG_TYPE', /"options"/],
    ['Reactor mode', () => new Reactor({ mode: 'fast' as 'et' }), 'TypeError', 'ERR_INVALID_ARG_VALUE', /'options.mode' must be one of 'lt', 'et', 'oneshot'/],
    ['Reactor readQuota 0', () => new Reactor({ readQuota: 0 }), 'RangeError', 'ERR_OUT_OF_RANGE', /options.readQuota/],
    ['Reactor readQuota string', () => new Reactor({ readQuota: '64k' as unknown as number }), 'TypeError', 'ERR_INVALID_ARG_TYPE', /options.readQuota/],
    ['Reactor maxEventsPerTurn', () => new Reactor({ maxEventsPerTurn: 5000 }), 'RangeError', 'ERR_OUT_OF_RANGE', /maxEventsPerTurn/],
    ['Reactor debug', () => new Reactor({ debug: 1 as unknown as boolean }), 'TypeError', 'ERR_INVALID_ARG_TYPE', /options.debug/],
    ['Reactor onError', () => new Reactor({ onError: 'log' as unknown as () => void }), 'TypeError', 'ERR_INVALID_ARG_TYPE', /options.onError/],
    ['Reactor pool', () => new Reactor({ pool: { chunkSize: 0 } }), 'RangeError', 'ERR_OUT_OF_RANGE', /options.chunkSize/],
    ['BufferPool maxChunks', () => new BufferPool({ maxChunks: 1.5 }), 'RangeError', 'ERR_OUT_OF_RANGE', /maxChunks/],
    ['Server reactor', () => new Server({} as Reactor, {}), 'TypeError', 'ERR_INVALID_ARG_TYPE', /"reactor" argument must be an instance of Reactor/],
    ['Server handler undefined', () => new Server(reactor, undefined as unknown as object), 'TypeError', 'ERR_INVALID_ARG_TYPE', /"handler" argument must be of type object. Received undefined/],
    ['Server handler method', () => new Server(reactor, { onData: 'echo' as unknown as () => void }), 'TypeError', 'ERR_INVALID_ARG_TYPE', /handler.onData/],
    ['Server idleTimeoutMs', () => new Server(reactor, {}, { idleTimeoutMs: '5s' as unknown as number }), 'TypeError', 'ERR_INVALID_ARG_TYPE', /options.idleTimeoutMs/],
    ['Server highWaterMark', () => new Server(reactor, {}, { highWaterMark: -1 }), 'RangeError', 'ERR_OUT_OF_RANGE', /highWaterMark/],
    ['Server port', () => new Server(reactor, {}, { port: 70000 }), 'RangeError', 'ERR_OUT_OF_RANGE', /options.port/],
    ['Server host', () => new Server(reactor, {}, { host: 1 as unknown as string }), 'TypeError', 'ERR_INVALID_ARG_TYPE', /options.host/],
    ['Server backlog', () => new Server(reactor, {}, { backlog: -5 }), 'RangeError', 'ERR_OUT_OF_RANGE', /options.backlog/],
    ['Server maxConnections', () => new Server(reactor, {}, { maxConnections: -1 }), 'RangeError', 'ERR_OUT_OF_RANGE', /maxConnections/],
    ['Server acceptBatch', () => new Server(reactor, {}, { acceptBatch: 0 }), 'RangeError', 'ERR_OUT_OF_RANGE', /acceptBatch/],
    ['Server noDelay', () => new Server(reactor, {}, { noDelay: 'yes' as unknown as boolean }), 'TypeError', 'ERR_INVALID_ARG_TYPE', /noDelay/],
    ['Server onError', () => new Server(reactor, {}, { onError: {} as unknown as () => void }), 'TypeError', 'ERR_INVALID_ARG_TYPE', /options.onError/],
    ['connect port missing', () => connect(reactor, {}, {} as { port: number }), 'TypeError', 'ERR_INVALID_ARG_TYPE', /options.port/],
    ['connect timeoutMs', () => connect(reactor, {}, { port: 1, timeoutMs: 0 }), 'RangeError', 'ERR_OUT_OF_RANGE', /timeoutMs/],
    ['connect reactor', () => connect(null as unknown as Reactor, {}, { port: 1 }), 'TypeError', 'ERR_INVALID_ARG_TYPE', /"reactor"/],
    ['connect handler', () => connect(reactor, 5 as unknown as object, { port: 1 }), 'TypeError', 'ERR_INVALID_ARG_TYPE', /"handler"/],
    ['pool maxIdle', () => new ConnectionPool(reactor, { port: 1, maxIdle: -1 }), 'RangeError', 'ERR_OUT_OF_RANGE', /maxIdle/],
    ['pool reactor', () => new ConnectionPool(undefined as unknown as Reactor, { port: 1 }), 'TypeError', 'ERR_INVALID_ARG_TYPE', /"reactor"/],
  ];
  for (const [name, make, errorName, code, message] of cases) {
    t.throws(make, { name: errorName, code, message }, name);
  }
  const pool = new ConnectionPool(reactor, { port: 1 });
  await t.rejects(pool.get(null as unknown as object), { name: 'TypeError', code: 'ERR_INVALID_ARG_TYPE' }, 'pool.get checks its handler');
  pool.close();
  reactor.close();
  fds.assertNone(t);
});

t.test('received values are described as Node describes them', (t) => {
  t.equal(describeReceived(undefined), 'Received undefined');
  t.equal(describeReceived(null), 'Received null');
  t.equal(describeReceived(42), 'Received type number (42)');
  t.equal(describeReceived('x'.repeat(30)), `Received type string ("${'x'.repeat(25)}...")`);
  t.equal(describeReceived(() => {}), 'Received function <anonymous>');
  t.equal(describeReceived(function named() {}), 'Received function named');
  t.equal(describeReceived(new Map()), 'Received an instance of Map');
  t.equal(describeReceived(Object.create(null)), 'Received an object');
  t.end();
});
