/**
 * Sec-WebSocket-Extensions (ws/extensions.ts, RFC 6455 §9.1) and the
 * permessage-deflate negotiation (ws/permessage-deflate.ts, RFC 7692 §7).
 * How: the grammar element by element (OWS, quoted values and their
 * escapes, empty elements, several field lines, ASCII-only case folding)
 * and each way to break it; then the negotiation as a table of offer,
 * server options and the response each gives (the offers browsers and the
 * `ws` package send among them), the offers RFC 7692 says to decline, and
 * the options' checks.
 */
import t from 'tap';
import { asciiLower, formatExtension, parseExtensions } from '../../packages/reactor/src/ws/extensions.js';
import { negotiatePerMessageDeflate } from '../../packages/reactor/src/ws/permessage-deflate.js';
import type { PerMessageDeflateOptions } from '../../packages/reactor/src/ws/deflate-options.js';
import { WebSocketHandshakeError } from '../../packages/reactor/src/ws/handshake-error.js';
import { checkUpgradeRequest, upgradeResponseHeaders } from '../../packages/reactor/src/ws/handshake.js';

t.test('the grammar: names and parameters, OWS, quoted values, empty elements, several lines', (t) => {
  t.same(parseExtensions([]), []);
  t.same(parseExtensions(['']), []);
  t.same(parseExtensions(['permessage-deflate']), [{ name: 'permessage-deflate', params: [] }]);
  t.same(parseExtensions(['permessage-deflate; client_max_window_bits']), [{ name: 'permessage-deflate', params: [{ name: 'client_max_window_bits', value: null }] }]);
  t.same(parseExtensions(['permessage-deflate; server_max_window_bits=10; client_max_window_bits, permessage-deflate']), [
    { name: 'permessage-deflate', params: [{ name: 'server_max_window_bits', value: '10' }, { name: 'client_max_window_bits', value: null }] },
    { name: 'permessage-deflate', params: [] },
  ]);
  t.same(parseExtensions([' \tfoo \t; \tbar \t= \t1 \t, \tbaz']), [{ name: 'foo', params: [{ name: 'bar', value: '1' }] }, { name: 'baz', params: [] }], 'OWS around everything');
  t.same(parseExtensions(['foo; bar="10"', 'baz; q="a\\bc"']), [{ name: 'foo', params: [{ name: 'bar', value: '10' }] }, { name: 'baz', params: [{ name: 'q', value: 'abc' }] }], 'quoted values unescaped, two field lines');
  t.same(parseExtensions([', ,foo,, ,']), [{ name: 'foo', params: [] }], 'empty elements skipped');
  t.same(parseExtensions(['PerMessage-Deflate; Server_No_Context_Takeover']), [{ name: 'permessage-deflate', params: [{ name: 'server_no_context_takeover', value: null }] }], 'names lowered');
  t.same(parseExtensions(['x; A=B']), [{ name: 'x', params: [{ name: 'a', value: 'B' }] }], 'values keep their case');
  t.same(parseExtensions(['x; a; a']), [{ name: 'x', params: [{ name: 'a', value: null }, { name: 'a', value: null }] }], 'a repeated parameter is kept: the extension decides');
  t.end();
});

/** The status parsing `values` is refused with, or 0. */
function refusal(values: string[]): number {
  try {
    parseExtensions(values);
    return 0;
  } catch (error) {
    if (error instanceof WebSocketHandshakeError) return error.status;
    throw error;
  }
}

t.test('malformed fields are refused with 400', (t) => {
  const malformed = [';', 'a;', 'a; ', 'a;=1', 'a; b=', 'a; b= ', 'a; b="', 'a; b="1', 'a; b="1\\', 'a; b="x y"', 'a; b=""', 'a; b="\\ "', 'a b', 'a=1', 'a; b=1 2', '"a"', 'a; b="1"x', '\u00a0a', 'a\u00a0', 'caf\u00e9', 'a; b=\u{1f600}'];
  for (const value of malformed) t.equal(refusal([value]), 400, JSON.stringify(value));
  t.equal(refusal(['fine', 'a;']), 400, 'in a second field line');
  t.throws(() => parseExtensions([';']), { name: 'WebSocketHandshakeError', code: 'ERR_ZEPOLL_WS_HANDSHAKE', message: /malformed Sec-WebSocket-Extensions/ });
  t.end();
});

t.test('formatExtension() writes what parseExtensions() reads; asciiLower() folds A-Z only', (t) => {
  for (const text of ['permessage-deflate', 'permessage-deflate; client_max_window_bits', 'x; a=1; b; c=d']) t.equal(formatExtension(parseExtensions([text])[0]!), text);
  t.equal(asciiLower('ABC-xyz'), 'abc-xyz');
  const lower = 'already lower';
  t.equal(asciiLower(lower), lower);
  t.equal(asciiLower('\u0130\u212aK'), '\u0130\u212ak', 'the dotted I and the Kelvin sign stay');
  t.end();
});

/** The response header value for one offer (a field value) under options, or null when declined. */
function respond(offer: string, options?: PerMessageDeflateOptions): string | null {
  return negotiatePerMessageDeflate(parseExtensions([offer]), options)?.header ?? null;
}

t.test('negotiation: what each offer and each server option make of the response', (t) => {
  const table: Array<[string, PerMessageDeflateOptions | undefined, string | null]> = [
    ['permessage-deflate', undefined, 'permessage-deflate'],
    ['permessage-deflate; client_max_window_bits', undefined, 'permessage-deflate'], // Chrome, Firefox, ws
    ['permessage-deflate; client_max_window_bits=12', undefined, 'permessage-deflate; client_max_window_bits=12'],
    ['permessage-deflate; client_max_window_bits', { clientMaxWindowBits: 10 }, 'permessage-deflate; client_max_window_bits=10'],
    ['permessage-deflate; client_max_window_bits=12', { clientMaxWindowBits: 10 }, 'permessage-deflate; client_max_window_bits=10'],
    ['permessage-deflate; client_max_window_bits=9', { clientMaxWindowBits: 14 }, 'permessage-deflate; client_max_window_bits=9'],
    ['permessage-deflate; client_max_window_bits="8"', undefined, 'permessage-deflate; client_max_window_bits=8'],
    ['permessage-deflate; server_no_context_takeover', undefined, 'permessage-deflate; server_no_context_takeover'],
    ['permessage-deflate', { serverNoContextTakeover: true }, 'permessage-deflate; server_no_context_takeover'],
    ['permessage-deflate; client_no_context_takeover', undefined, 'permessage-deflate; client_no_context_takeover'], // the hint, made binding
    ['permessage-deflate', { clientNoContextTakeover: true }, 'permessage-deflate; client_no_context_takeover'],
    ['permessage-deflate; server_max_window_bits=10', undefined, 'permessage-deflate; server_max_window_bits=10'],
    ['permessage-deflate; server_max_window_bits=10', { serverMaxWindowBits: 9 }, 'permessage-deflate; server_max_window_bits=9'],
    ['permessage-deflate; server_max_window_bits=15', undefined, 'permessage-deflate; server_max_window_bits=15'],
    ['permessage-deflate', { serverMaxWindowBits: 12 }, 'permessage-deflate; server_max_window_bits=12'],
    ['permessage-deflate', { serverMaxWindowBits: 15 }, 'permessage-deflate'],
    ['permessage-deflate; server_max_window_bits=8', undefined, 'permessage-deflate; server_max_window_bits=8'], // accepted; the server then sends uncompressed
    ['permessage-deflate', { clientMaxWindowBits: 10 }, null], // cannot be told a window
    ['permessage-deflate; x-unknown', undefined, null],
    ['permessage-deflate; server_no_context_takeover; server_no_context_takeover', undefined, null],
    ['permessage-deflate; client_max_window_bits; client_max_window_bits=10', undefined, null],
    ['permessage-deflate; server_no_context_takeover=1', undefined, null],
    ['permessage-deflate; client_no_context_takeover=true', undefined, null],
    ['permessage-deflate; server_max_window_bits', undefined, null],
    ['permessage-deflate; server_max_window_bits=7', undefined, null],
    ['permessage-deflate; server_max_window_bits=16', undefined, null],
    ['permessage-deflate; server_max_window_bits=010', undefined, null],
    ['permessage-deflate; server_max_window_bits=+9', undefined, null],
    ['permessage-deflate; client_max_window_bits=1e1', undefined, null],
    // The offers of Autobahn|Testsuite's sections 12 and 13, as autobahn 0.10.9's PerMessageDeflateOffer writes them.
    ['permessage-deflate; client_no_context_takeover; client_max_window_bits', undefined, 'permessage-deflate; client_no_context_takeover'],
    ['permessage-deflate; client_no_context_takeover; client_max_window_bits; server_no_context_takeover', undefined, 'permessage-deflate; server_no_context_takeover; client_no_context_takeover'],
    ['permessage-deflate; client_no_context_takeover; client_max_window_bits; server_max_window_bits=9', undefined, 'permessage-deflate; client_no_context_takeover; server_max_window_bits=9'],
    ['permessage-deflate; client_no_context_takeover; client_max_window_bits; server_max_window_bits=15', undefined, 'permessage-deflate; client_no_context_takeover; server_max_window_bits=15'],
    ['permessage-deflate; client_no_context_takeover; client_max_window_bits; server_no_context_takeover; server_max_window_bits=9', undefined, 'permessage-deflate; server_no_context_takeover; client_no_context_takeover; server_max_window_bits=9'],
    ['permessage-deflate; client_no_context_takeover; client_max_window_bits; server_no_context_takeover; server_max_window_bits=15', undefined, 'permessage-deflate; server_no_context_takeover; client_no_context_takeover; server_max_window_bits=15'],
    ['x-webkit-deflate-frame', undefined, null],
    ['', undefined, null],
  ];
  for (const [offer, options, expected] of table) t.equal(respond(offer, options), expected, `${offer || '(none)'} with ${JSON.stringify(options ?? {})}`);
  t.end();
});

t.test('the first acceptable offer wins; the agreement states the terms for both ends', (t) => {
  const offers = parseExtensions(['x-custom, permessage-deflate; server_max_window_bits=8, permessage-deflate; client_max_window_bits; server_no_context_takeover, permessage-deflate']);
  t.same(negotiatePerMessageDeflate(offers, { clientMaxWindowBits: 11, serverMaxWindowBits: 13, clientNoContextTakeover: true }), {
    serverNoContextTakeover: true,
    clientNoContextTakeover: true,
    serverMaxWindowBits: 13,
    clientMaxWindowBits: 11,
    header: 'permessage-deflate; server_no_context_takeover; client_no_context_takeover; server_max_window_bits=13; client_max_window_bits=11',
  });
  t.same(negotiatePerMessageDeflate(parseExtensions(['permessage-deflate'])), { serverNoContextTakeover: false, clientNoContextTakeover: false, serverMaxWindowBits: 15, clientMaxWindowBits: 15, header: 'permessage-deflate' });
  t.end();
});

t.test('from the request to the 101 response', (t) => {
  const upgrade = checkUpgradeRequest({
    method: 'GET',
    versionMinor: 1,
    headers: ['upgrade', 'websocket', 'connection', 'Upgrade', 'sec-websocket-key', 'dGhlIHNhbXBsZSBub25jZQ==', 'sec-websocket-version', '13', 'sec-websocket-extensions', 'permessage-deflate; client_max_window_bits'],
  });
  const agreement = negotiatePerMessageDeflate(upgrade.extensions, { serverNoContextTakeover: true });
  t.same(upgradeResponseHeaders(upgrade, null, agreement?.header ?? null).slice(6), ['Sec-WebSocket-Extensions', 'permessage-deflate; server_no_context_takeover']);
  t.end();
});

t.test("options are checked: types and ranges (the server's window is 9-15, a client's 8-15)", (t) => {
  const offers = parseExtensions(['permessage-deflate']);
  t.throws(() => negotiatePerMessageDeflate(offers, { serverMaxWindowBits: 8 }), { code: 'ERR_OUT_OF_RANGE', message: /serverMaxWindowBits/ });
  t.throws(() => negotiatePerMessageDeflate(offers, { serverMaxWindowBits: 16 }), { code: 'ERR_OUT_OF_RANGE' });
  t.throws(() => negotiatePerMessageDeflate(offers, { clientMaxWindowBits: 7 }), { code: 'ERR_OUT_OF_RANGE', message: /clientMaxWindowBits/ });
  t.throws(() => negotiatePerMessageDeflate(offers, { clientMaxWindowBits: '10' as unknown as number }), { code: 'ERR_INVALID_ARG_TYPE' });
  t.throws(() => negotiatePerMessageDeflate(offers, { serverNoContextTakeover: 1 as unknown as boolean }), { code: 'ERR_INVALID_ARG_TYPE' });
  t.throws(() => negotiatePerMessageDeflate(offers, null as unknown as PerMessageDeflateOptions), { code: 'ERR_INVALID_ARG_TYPE' });
  t.doesNotThrow(() => negotiatePerMessageDeflate(offers, { clientMaxWindowBits: 8, serverMaxWindowBits: 9 }));
  t.end();
});
