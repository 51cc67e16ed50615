/**
 * The opening handshake's server side (ws/handshake.ts, RFC 6455 §4.2):
 * the accept value of the RFC's example; which keys are the base64 of 16
 * bytes (fast-check over random keys, and each way a key can be wrong);
 * each rule of §4.2.1 with the status and header fields it answers with;
 * list fields read by RFC 9110's rules (case, OWS of SP and HTAB only,
 * several field lines); a request parsed by zepoll's own HTTP parser
 * passed as it is; and the 101 response's fields.
 */
import t from 'tap';
import fc from 'fast-check';
import { acceptKey, checkUpgradeRequest, isUpgradeRequest, isValidKey, upgradeResponseHeaders, type UpgradeRequestHead } from '../../packages/reactor/src/ws/handshake.js';
import { WebSocketHandshakeError } from '../../packages/reactor/src/ws/handshake-error.js';
import { RequestParser } from '../../packages/reactor/src/http/parser.js';
import type { HttpRequest } from '../../packages/reactor/src/http/request.js';

const KEY = 'dGhlIHNhbXBsZSBub25jZQ==';

/** A valid request, with fields replaced (a null value drops the field) and more appended. */
function request(replace: Record<string, string | null> = {}, more: string[] = [], method = 'GET', versionMinor = 1): UpgradeRequestHead {
  const fields: Record<string, string> = { host: 'example.com', upgrade: 'websocket', connection: 'Upgrade', 'sec-websocket-key': KEY, 'sec-websocket-version': '13' };
  const headers: string[] = [];
  for (const [name, value] of Object.entries({ ...fields, ...replace })) if (value !== null) headers.push(name, value);
  return { method, versionMinor, headers: [...headers, ...more] };
}

/** The status and answer fields a request is refused with, or 'ok'. */
function refusal(head: UpgradeRequestHead): { status: number; headers: readonly string[] } | 'ok' {
  try {
    checkUpgradeRequest(head);
    return 'ok';
  } catch (error) {
    if (!(error instanceof WebSocketHandshakeError)) throw error;
    return { status: error.status, headers: error.headers };
  }
}

t.test("the accept value of RFC 6455 §1.3's example", (t) => {
  t.equal(acceptKey(KEY), 's3pPLMBiTxaQ9kYGzzhZRbK+xOo=');
  t.end();
});

t.test('keys: the canonical base64 of 16 bytes and nothing else', (t) => {
  fc.assert(fc.property(fc.uint8Array({ minLength: 16, maxLength: 16 }), (bytes) => isValidKey(Buffer.from(bytes).toString('base64'))), { numRuns: 2_000 });
  t.ok(isValidKey(KEY));
  t.notOk(isValidKey(Buffer.alloc(15).toString('base64')), '15 bytes');
  t.notOk(isValidKey(Buffer.alloc(17).toString('base64')), '17 bytes');
  t.notOk(isValidKey('dGhlIHNhbXBsZSBub25jZR=='), 'the last character carries bits past the 16th byte');
  t.notOk(isValidKey('dGhlIHNhbXBsZSBub25jZQ'), 'no padding');
  t.notOk(isValidKey('dGhlIHNhbXBsZSBub25jZQ=='.replace('d', '-')), 'base64url');
  t.notOk(isValidKey(` ${KEY}`), 'space');
  t.notOk(isValidKey(`${KEY}\n`), 'a newline');
  t.notOk(isValidKey(''), 'empty');
  t.end();
});

t.test('a valid request: key, accept, offered protocols and extensions', (t) => {
  const upgrade = checkUpgradeRequest(request({}, ['Sec-WebSocket-Protocol', 'chat, superchat', 'sec-websocket-protocol', 'v2.json', 'Sec-WebSocket-Extensions', 'permessage-deflate; client_max_window_bits']));
  t.same(upgrade, {
    key: KEY,
    accept: 's3pPLMBiTxaQ9kYGzzhZRbK+xOo=',
    protocols: ['chat', 'superchat', 'v2.json'],
    extensions: [{ name: 'permessage-deflate', params: [{ name: 'client_max_window_bits', value: null }] }],
  });
  t.same(checkUpgradeRequest(request()).protocols, []);
  t.same(checkUpgradeRequest(request()).extensions, []);
  t.same(checkUpgradeRequest(request({ upgrade: 'h2c, WebSocket', connection: 'keep-alive, UPGRADE' })).key, KEY, 'tokens in lists, any case');
  t.equal(refusal({ method: 'GET', versionMinor: 1, headers: ['UPGRADE', 'websocket', 'Connection', 'upgrade', 'Sec-WebSocket-Key', KEY, 'SEC-WEBSOCKET-VERSION', '13', 'dangling'] }), 'ok', 'names in any case; a name without a value ignored');
  t.equal(refusal(request({ connection: 'close', upgrade: 'foo' }, ['Connection', 'Upgrade', 'Upgrade', 'websocket'])), 'ok', 'the token in a second field line');
  t.equal(refusal(request({}, ['Sec-WebSocket-Protocol', ' , chat ,, '])), 'ok', 'empty list elements skipped');
  t.equal(refusal(request({ origin: 'http://evil.example' })), 'ok', "Origin is the application's to judge");
  t.end();
});

t.test('each rule of §4.2.1 refuses with its status and answer fields', (t) => {
  const bad = (status: number, headers: string[] = []) => ({ status, headers });
  t.same(refusal(request({}, [], 'POST')), bad(405, ['Allow', 'GET']), 'POST');
  t.same(refusal(request({}, [], 'get')), bad(405, ['Allow', 'GET']), 'methods are case-sensitive');
  t.same(refusal(request({}, [], 'GET', 0)), bad(400), 'HTTP/1.0');
  t.same(refusal(request({ upgrade: null })), bad(400), 'no Upgrade');
  t.same(refusal(request({ upgrade: 'h2c' })), bad(400), 'Upgrade without websocket');
  t.same(refusal(request({ upgrade: 'websocket/13' })), bad(400), 'websocket with a version is another protocol token');
  t.same(refusal(request({ connection: null })), bad(400), 'no Connection');
  t.same(refusal(request({ connection: 'keep-alive' })), bad(400), 'Connection without upgrade');
  t.same(refusal(request({ connection: 'upgraded' })), bad(400), 'a token that only starts with upgrade');
  t.same(refusal(request({ 'sec-websocket-key': null })), bad(400), 'no key');
  t.same(refusal(request({}, ['Sec-WebSocket-Key', KEY])), bad(400), 'two keys');
  t.same(refusal(request({ 'sec-websocket-key': 'not base64 of anything' })), bad(400), 'a bad key');
  const upgradeRequired = bad(426, ['Sec-WebSocket-Version', '13']);
  t.same(refusal(request({ 'sec-websocket-version': null })), upgradeRequired, 'no version');
  t.same(refusal(request({ 'sec-websocket-version': '8' })), upgradeRequired, 'version 8');
  t.same(refusal(request({ 'sec-websocket-version': '13, 8' })), upgradeRequired, 'a list');
  t.same(refusal(request({}, ['Sec-WebSocket-Version', '13'])), upgradeRequired, 'twice');
  t.same(refusal(request({ 'sec-websocket-version': '013' })), upgradeRequired, 'a leading zero');
  t.same(refusal(request({}, ['Sec-WebSocket-Protocol', 'chat, chat'])), bad(400), 'a protocol twice');
  t.same(refusal(request({}, ['Sec-WebSocket-Protocol', 'chat', 'Sec-WebSocket-Protocol', 'chat'])), bad(400), 'a protocol twice over two lines');
  t.same(refusal(request({}, ['Sec-WebSocket-Protocol', 'a b'])), bad(400), 'a protocol with a space');
  t.same(refusal(request({}, ['Sec-WebSocket-Protocol', 'json/v1'])), bad(400), 'a protocol with a separator');
  t.same(refusal(request({}, ['Sec-WebSocket-Protocol', 'caf\u00e9'])), bad(400), 'a protocol with obs-text');
  t.same(refusal(request({}, ['Sec-WebSocket-Protocol', 'emoji\u{1f600}'])), bad(400), 'a protocol with a character past latin1');
  t.same(refusal(request({}, ['Sec-WebSocket-Extensions', 'permessage-deflate; ='])), bad(400), 'malformed extensions');
  const error = (() => {
    try {
      checkUpgradeRequest(request({}, [], 'PUT'));
    } catch (caught) {
      return caught;
    }
    return null;
  })();
  t.match(error, { name: 'WebSocketHandshakeError', code: 'ERR_ZEPOLL_WS_HANDSHAKE', status: 405 });
  t.end();
});

t.test("whitespace is SP and HTAB only; case folding is ASCII only (STYLE.md: protocol bytes are bytes)", (t) => {
  t.same(refusal(request({ upgrade: 'websocket\u00a0' })), { status: 400, headers: [] }, 'websocket with NBSP is not websocket');
  t.same(refusal(request({ upgrade: '\u0085websocket' })), { status: 400, headers: [] }, 'NEL before it');
  t.equal(refusal(request({ upgrade: '\twebsocket ', connection: ' \tUpgrade\t' })), 'ok', 'HTAB and SP around list elements');
  t.same(refusal(request({ connection: 'upgrad\u0130' })), { status: 400, headers: [] }, 'U+0130 does not fold to i');
  t.same(refusal(request({ 'sec-websocket-version': '13\u00a0' })), { status: 426, headers: ['Sec-WebSocket-Version', '13'] });
  t.end();
});

t.test('isUpgradeRequest(): Upgrade lists websocket', (t) => {
  t.ok(isUpgradeRequest(request()));
  t.ok(isUpgradeRequest({ method: 'POST', versionMinor: 1, headers: ['Upgrade', 'foo, WebSocket'] }), 'any method: checkUpgradeRequest() refuses it after');
  t.notOk(isUpgradeRequest(request({ upgrade: null })));
  t.notOk(isUpgradeRequest(request({ upgrade: 'h2c' })));
  t.notOk(isUpgradeRequest({ method: 'GET', versionMinor: 1, headers: ['upgrade'] }), 'a name without a value');
  t.end();
});

t.test("a request parsed by zepoll's HTTP parser is an UpgradeRequestHead as it is", (t) => {
  const requests: HttpRequest[] = [];
  const parser = new RequestParser({ onRequest: (parsed) => void requests.push(parsed) });
  parser.execute(Buffer.from(`GET /chat HTTP/1.1\r\nHost: server.example.com\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${KEY}\r\nOrigin: http://example.com\r\nSec-WebSocket-Protocol: chat, superchat\r\nSec-WebSocket-Version: 13\r\n\r\n`, 'latin1'));
  t.equal(requests.length, 1);
  const upgrade = checkUpgradeRequest(requests[0]!);
  t.equal(upgrade.accept, 's3pPLMBiTxaQ9kYGzzhZRbK+xOo=');
  t.same(upgrade.protocols, ['chat', 'superchat']);
  t.end();
});

t.test('the 101 response fields: Upgrade, Connection, Accept, then the chosen protocol and extensions', (t) => {
  const upgrade = checkUpgradeRequest(request({}, ['Sec-WebSocket-Protocol', 'chat, superchat']));
  t.same(upgradeResponseHeaders(upgrade), ['Upgrade', 'websocket', 'Connection', 'Upgrade', 'Sec-WebSocket-Accept', 's3pPLMBiTxaQ9kYGzzhZRbK+xOo=']);
  t.same(upgradeResponseHeaders(upgrade, 'superchat', 'permessage-deflate').slice(6), ['Sec-WebSocket-Protocol', 'superchat', 'Sec-WebSocket-Extensions', 'permessage-deflate']);
  t.same(upgradeResponseHeaders(upgrade, null, 'x').slice(6), ['Sec-WebSocket-Extensions', 'x']);
  t.throws(() => upgradeResponseHeaders(upgrade, 'mqtt'), { code: 'ERR_INVALID_ARG_VALUE', message: /chat, superchat/ }, 'a protocol the client did not offer (§4.2.2)');
  t.throws(() => upgradeResponseHeaders(checkUpgradeRequest(request()), 'chat'), { code: 'ERR_INVALID_ARG_VALUE', message: /none/ });
  t.throws(() => upgradeResponseHeaders(upgrade, null, 'permessage-deflate\r\nSet-Cookie: a=b'), { code: 'ERR_INVALID_ARG_VALUE', message: /extensions/ }, 'no CRLF into the response head');
  t.throws(() => upgradeResponseHeaders(upgrade, null, 'x\u0100'), { code: 'ERR_INVALID_ARG_VALUE' }, 'no character past latin1');
  t.throws(() => upgradeResponseHeaders(upgrade, null, 5 as unknown as string), { code: 'ERR_INVALID_ARG_VALUE' });
  t.end();
});

t.test('misuse: a request that is not an UpgradeRequestHead', (t) => {
  for (const value of [null, undefined, 'GET', { method: 'GET', versionMinor: 1 }, { method: 'GET', versionMinor: '1', headers: [] }, { method: 1, versionMinor: 1, headers: [] }]) {
    t.throws(() => checkUpgradeRequest(value as unknown as UpgradeRequestHead), { code: 'ERR_INVALID_ARG_TYPE', name: 'TypeError' }, JSON.stringify(value) ?? 'undefined');
  }
  t.throws(() => checkUpgradeRequest({ method: 'GET', versionMinor: 1, headers: ['upgrade', 5] as unknown as string[] }), { code: 'ERR_INVALID_ARG_TYPE', message: /request.headers\[1\]/ }, 'a value that is no string');
  t.throws(() => checkUpgradeRequest({ method: 'GET', versionMinor: 1, headers: ['a', 'b', null, 'c'] as unknown as string[] }), { code: 'ERR_INVALID_ARG_TYPE', message: /request.headers\[2\]/ }, 'a name that is no string');
  t.end();
});
