/**
 * permessage-deflate negotiation (RFC 7692 §5, §7.1) beyond the server's
 * offer table in extensions.test.ts: the options' checks for each role,
 * the client's offer, the client's checks of an answer (what it must
 * accept, what fails the handshake), and the matrix over real sockets:
 * the `ws` package's client against zepoll's server and zepoll's client
 * against the `ws` server and zepoll's own, with parameters each way,
 * offers declined (the connection then runs uncompressed) and answers
 * refused (the client's handshake fails). Every socket test counts fds.
 */
import t from 'tap';
import net from 'node:net';
import WebSocket, { WebSocketServer as WsServer } from 'ws';
import { Reactor } from '../../packages/reactor/src/reactor.js';
import { connectWebSocket } from '../../packages/reactor/src/ws/client.js';
import { acceptDeflateAnswer, deflateOffer } from '../../packages/reactor/src/ws/deflate-client.js';
import { resolveDeflateOptions, type PerMessageDeflateOptions } from '../../packages/reactor/src/ws/deflate-options.js';
import { checkHandshakeAnswer } from '../../packages/reactor/src/ws/client-handshake.js';
import { acceptKey } from '../../packages/reactor/src/ws/handshake.js';
import { trackFds } from '../helpers/fds.js';
import { until } from '../helpers/wait.js';
import { ECHO, serve } from '../helpers/ws.js';

const clientOptions = (options: PerMessageDeflateOptions | true = true) => resolveDeflateOptions('options', options, 'client')!;

t.test('options: off unless given; defaults; types and ranges for each role', (t) => {
  t.equal(resolveDeflateOptions('o', undefined, 'server'), null);
  t.equal(resolveDeflateOptions('o', false, 'client'), null);
  t.same(resolveDeflateOptions('o', true, 'server'), { serverNoContextTakeover: false, clientNoContextTakeover: false, serverMaxWindowBits: 15, clientMaxWindowBits: null, threshold: 1024, level: 6, memLevel: 8 });
  t.same(resolveDeflateOptions('o', {}, 'client'), { serverNoContextTakeover: false, clientNoContextTakeover: false, serverMaxWindowBits: null, clientMaxWindowBits: null, threshold: 1024, level: 6, memLevel: 8 });
  t.same(resolveDeflateOptions('o', { serverMaxWindowBits: 8, clientMaxWindowBits: 8, threshold: 0, level: 1, memLevel: 9 }, 'client'), { serverNoContextTakeover: false, clientNoContextTakeover: false, serverMaxWindowBits: 8, clientMaxWindowBits: 8, threshold: 0, level: 1, memLevel: 9 });
  const bad: Array<[unknown, 'server' | 'client', string, RegExp]> = [
    [1, 'server', 'ERR_INVALID_ARG_TYPE', /"o" argument must be of type boolean or object/],
    [null, 'server', 'ERR_INVALID_ARG_TYPE', /boolean or object/],
    ['yes', 'client', 'ERR_INVALID_ARG_TYPE', /boolean or object/],
    [{ serverMaxWindowBits: 8 }, 'server', 'ERR_OUT_OF_RANGE', /o\.serverMaxWindowBits/],
    [{ serverMaxWindowBits: 7 }, 'client', 'ERR_OUT_OF_RANGE', /o\.serverMaxWindowBits/],
    [{ clientMaxWindowBits: 16 }, 'client', 'ERR_OUT_OF_RANGE', /o\.clientMaxWindowBits/],
    [{ threshold: -1 }, 'server', 'ERR_OUT_OF_RANGE', /o\.threshold/],
    [{ level: 0 }, 'server', 'ERR_OUT_OF_RANGE', /o\.level/],
    [{ memLevel: 10 }, 'server', 'ERR_OUT_OF_RANGE', /o\.memLevel/],
    [{ serverNoContextTakeover: 'yes' }, 'server', 'ERR_INVALID_ARG_TYPE', /o\.serverNoContextTakeover/],
    [{ clientNoContextTakeover: 1 }, 'client', 'ERR_INVALID_ARG_TYPE', /o\.clientNoContextTakeover/],
  ];
  for (const [value, role, code, message] of bad) t.throws(() => resolveDeflateOptions('o', value as PerMessageDeflateOptions, role), { code, message }, `${JSON.stringify(value)} for a ${role}`);
  const reactor = new Reactor();
  t.throws(() => serve(ECHO, { perMessageDeflate: { level: 10 } }), { code: 'ERR_OUT_OF_RANGE', message: /options\.perMessageDeflate\.level/ }, 'checked where the server is made');
  t.throws(() => connectWebSocket(reactor, 'ws://127.0.0.1:1/', {}, { perMessageDeflate: 'on' as unknown as boolean }), { code: 'ERR_INVALID_ARG_TYPE', message: /options\.perMessageDeflate/ }, 'and the client');
  reactor.close();
  t.end();
});

t.test("the client's offer: client_max_window_bits always, the rest as asked", (t) => {
  t.equal(deflateOffer(clientOptions()), 'permessage-deflate; client_max_window_bits');
  t.equal(deflateOffer(clientOptions({ clientMaxWindowBits: 10 })), 'permessage-deflate; client_max_window_bits=10');
  t.equal(
    deflateOffer(clientOptions({ serverNoContextTakeover: true, clientNoContextTakeover: true, serverMaxWindowBits: 9, clientMaxWindowBits: 8 })),
    'permessage-deflate; server_no_context_takeover; client_no_context_takeover; server_max_window_bits=9; client_max_window_bits=8',
  );
  t.end();
});

t.test("the client's checks of an answer: what it accepts, and the terms it reads", (t) => {
  const accepted: Array<[string[], PerMessageDeflateOptions, [boolean, boolean, number, number]]> = [
    [['permessage-deflate'], {}, [false, false, 15, 15]],
    [['permessage-deflate; server_no_context_takeover'], {}, [true, false, 15, 15]], // added unasked
    [['permessage-deflate; client_no_context_takeover'], {}, [false, true, 15, 15]], // the server's demand
    [['permessage-deflate'], { clientNoContextTakeover: true }, [false, true, 15, 15]], // our own choice binds us
    [['permessage-deflate; server_max_window_bits=10'], {}, [false, false, 10, 15]],
    [['permessage-deflate; server_max_window_bits="8"'], { serverMaxWindowBits: 9 }, [false, false, 8, 15]],
    [['permessage-deflate; client_max_window_bits=9'], {}, [false, false, 15, 9]],
    [['permessage-deflate'], { clientMaxWindowBits: 11 }, [false, false, 15, 11]],
    [['permessage-deflate; client_max_window_bits=11'], { clientMaxWindowBits: 11 }, [false, false, 15, 11]],
    [['permessage-deflate; server_no_context_takeover', ''], { serverNoContextTakeover: true }, [true, false, 15, 15]],
    [['PerMessage-Deflate; Server_Max_Window_Bits=12'], { serverMaxWindowBits: 12 }, [false, false, 12, 15]],
  ];
  for (const [values, options, [serverNoContextTakeover, clientNoContextTakeover, serverMaxWindowBits, clientMaxWindowBits]] of accepted) {
    t.same(acceptDeflateAnswer(values, clientOptions(options), 101), { serverNoContextTakeover, clientNoContextTakeover, serverMaxWindowBits, clientMaxWindowBits, header: values.join(', ') }, `${values.join(' | ')} to ${JSON.stringify(options)}`);
  }
  const refused: Array<[string[], PerMessageDeflateOptions, RegExp]> = [
    [['permessage-deflate;'], {}, /malformed/],
    [['x-webkit-deflate-frame'], {}, /not exactly permessage-deflate/],
    [['permessage-deflate, permessage-deflate'], {}, /not exactly permessage-deflate/],
    [['permessage-deflate', 'permessage-deflate'], {}, /not exactly permessage-deflate/],
    [['permessage-deflate; x=1'], {}, /unknown parameter x/],
    [['permessage-deflate; server_no_context_takeover; server_no_context_takeover'], {}, /named twice/],
    [['permessage-deflate; client_no_context_takeover=1'], {}, /with a value/],
    [['permessage-deflate; server_max_window_bits'], {}, /without a window size/],
    [['permessage-deflate; client_max_window_bits'], {}, /without a window size/],
    [['permessage-deflate; client_max_window_bits=16'], {}, /without a window size/],
    [['permessage-deflate'], { serverNoContextTakeover: true }, /server_no_context_takeover offered, not accepted/],
    [['permessage-deflate'], { serverMaxWindowBits: 10 }, /server_max_window_bits offered, not accepted/],
    [['permessage-deflate; server_max_window_bits=11'], { serverMaxWindowBits: 10 }, /server_max_window_bits over the 10 offered/],
    [['permessage-deflate; client_max_window_bits=12'], { clientMaxWindowBits: 10 }, /client_max_window_bits over the 10 offered/],
  ];
  for (const [values, options, message] of refused) {
    t.throws(() => acceptDeflateAnswer(values, clientOptions(options), 101), { name: 'WebSocketHandshakeError', code: 'ERR_ZEPOLL_WS_HANDSHAKE', status: 101, message }, `${values.join(' | ')} to ${JSON.stringify(options)}`);
  }
  t.end();
});

t.test('the answer head: an extension only when offered; the terms returned', (t) => {
  const key = 'dGhlIHNhbXBsZSBub25jZQ==';
  const head = (extra: string): string => `HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${acceptKey(key)}\r\n${extra}`;
  t.equal(checkHandshakeAnswer(head(''), key, [], clientOptions()).deflate, null, 'offered, not taken: uncompressed');
  t.same(checkHandshakeAnswer(head('Sec-WebSocket-Extensions: permessage-deflate\r\n'), key, [], clientOptions()).deflate?.header, 'permessage-deflate');
  t.throws(() => checkHandshakeAnswer(head('Sec-WebSocket-Extensions: permessage-deflate\r\n'), key, []), /an extension we did not offer/);
  t.end();
});

/** A `ws` server with `perMessageDeflate`, echoing; resolves once listening. */
function wsServer(perMessageDeflate: WebSocket.PerMessageDeflateOptions | boolean): Promise<WsServer> {
  return new Promise((resolve) => {
    const server: WsServer = new WsServer({ host: '127.0.0.1', port: 0, perMessageDeflate }, (): void => resolve(server));
    server.on('connection', (socket) => socket.on('message', (data, isBinary) => socket.send(data, { binary: isBinary })));
  });
}

t.test('matrix: the ws client against our server (the response header each way)', async (t) => {
  const fds = trackFds();
  const rows: Array<[PerMessageDeflateOptions | false, WebSocket.PerMessageDeflateOptions | false, string]> = [
    [{}, {}, 'permessage-deflate'],
    [{}, false, ''],
    [false, {}, ''],
    [{ serverNoContextTakeover: true }, {}, 'permessage-deflate; server_no_context_takeover'],
    [{}, { serverNoContextTakeover: true }, 'permessage-deflate; server_no_context_takeover'],
    [{}, { clientNoContextTakeover: true }, 'permessage-deflate; client_no_context_takeover'],
    [{ clientNoContextTakeover: true }, {}, 'permessage-deflate; client_no_context_takeover'],
    [{}, { serverMaxWindowBits: 10 }, 'permessage-deflate; server_max_window_bits=10'],
    [{ serverMaxWindowBits: 11 }, { serverMaxWindowBits: 13 }, 'permessage-deflate; server_max_window_bits=11'],
    [{ clientMaxWindowBits: 12 }, {}, 'permessage-deflate; client_max_window_bits=12'],
    [{}, { clientMaxWindowBits: 9 }, 'permessage-deflate; client_max_window_bits=9'],
    [{}, { serverMaxWindowBits: 8 }, 'permessage-deflate; server_max_window_bits=8'], // accepted: the server sends uncompressed
    [{ clientMaxWindowBits: 10 }, { clientMaxWindowBits: false as unknown as number }, ''], // declined: the client cannot be told a window
  ];
  for (const [server, client, expected] of rows) {
    const served = serve(ECHO, { perMessageDeflate: server });
    let header = '';
    const ws = new WebSocket(served.url, { perMessageDeflate: client });
    ws.once('upgrade', (response) => (header = response.headers['sec-websocket-extensions'] ?? ''));
    await new Promise((resolve) => ws.once('open', resolve));
    t.equal(header, expected, `server ${JSON.stringify(server)}, client ${JSON.stringify(client)}`);
    ws.send('x'.repeat(2000));
    const echoed = await new Promise<string>((resolve) => ws.once('message', (data: Buffer) => resolve(data.toString())));
    t.equal(echoed, 'x'.repeat(2000), 'echoed');
    ws.terminate();
    await served.close();
  }
  await fds.assertNoneSettled(t);
});

t.test('matrix: our client against the ws server and ours', async (t) => {
  const fds = trackFds();
  const reactor = new Reactor();
  const rows: Array<[WebSocket.PerMessageDeflateOptions | false, PerMessageDeflateOptions | false, string | null]> = [
    [{}, {}, 'permessage-deflate'],
    [{}, false, null],
    [false, {}, null],
    [{ clientNoContextTakeover: true }, {}, 'permessage-deflate; client_no_context_takeover'],
    [{ serverNoContextTakeover: true }, {}, 'permessage-deflate; server_no_context_takeover'],
    [{}, { serverNoContextTakeover: true }, 'permessage-deflate; server_no_context_takeover'],
    [{ clientMaxWindowBits: 8 }, {}, 'permessage-deflate; client_max_window_bits=8'], // we then send uncompressed
    [{ serverMaxWindowBits: 12 }, { serverMaxWindowBits: 13 }, 'permessage-deflate; server_max_window_bits=12'],
  ];
  for (const [server, client, expected] of rows) {
    const peer = await wsServer(server);
    const received: string[] = [];
    const socket = await connectWebSocket(reactor, `ws://127.0.0.1:${(peer.address() as net.AddressInfo).port}/`, { message: (_ws, data) => void received.push(data.toString()) }, { perMessageDeflate: client });
    t.equal(socket.extensions, expected, `ws server ${JSON.stringify(server)}, our client ${JSON.stringify(client)}`);
    socket.send('y'.repeat(3000));
    await until(() => received.length > 0, 'the echo');
    t.equal(received[0], 'y'.repeat(3000));
    socket.close();
    await new Promise((resolve) => peer.close(resolve));
  }
  const ours = serve(ECHO, { perMessageDeflate: { serverNoContextTakeover: true, clientMaxWindowBits: 10 } });
  const socket = await connectWebSocket(reactor, ours.url, {}, { perMessageDeflate: { clientMaxWindowBits: 12 } });
  t.equal(socket.extensions, 'permessage-deflate; server_no_context_takeover; client_max_window_bits=10', 'our client and our server');
  socket.close();
  await ours.close();
  reactor.close();
  await fds.assertNoneSettled(t);
});

/** A server that answers every upgrade with a valid 101 carrying `extensions`. */
function answering(extensions: string): Promise<net.Server> {
  return new Promise((resolve) => {
    const server = net.createServer((socket) => {
      socket.on('error', () => {});
      socket.once('data', (request: Buffer) => {
        const key = /Sec-WebSocket-Key: (\S+)/.exec(request.toString('latin1'))![1]!;
        socket.write(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${acceptKey(key)}\r\nSec-WebSocket-Extensions: ${extensions}\r\n\r\n`);
      });
    });
    server.listen(0, '127.0.0.1', () => resolve(server));
  });
}

t.test('an answer our offer cannot take fails the handshake; the connection is closed', async (t) => {
  const fds = trackFds();
  const reactor = new Reactor();
  for (const [extensions, options, message] of [
    ['permessage-deflate; server_max_window_bits=15', { serverMaxWindowBits: 10 }, /over the 10 offered/],
    ['permessage-deflate; foo', {}, /unknown parameter foo/],
    ['permessage-deflate', { serverNoContextTakeover: true }, /offered, not accepted/],
  ] as const) {
    const server = await answering(extensions);
    const url = `ws://127.0.0.1:${(server.address() as net.AddressInfo).port}/`;
    await t.rejects(connectWebSocket(reactor, url, {}, { perMessageDeflate: options }), { code: 'ERR_ZEPOLL_WS_HANDSHAKE', status: 101, message }, extensions);
    await new Promise((resolve) => server.close(resolve));
  }
  reactor.close();
  await fds.assertNoneSettled(t);
});
