/**
 * OWS is SP and HTAB, nothing else (RFC 9110 5.6.3), and the list and
 * authority rules of RFC 9110/9112 that a differential against llhttp
 * found loose or over-strict (issue 22). How: each header the parser
 * interprets (Transfer-Encoding, Content-Length, Connection, Host, Expect,
 * Upgrade) gets each of 0x0B, 0x0C, 0x85 and 0xA0 before and after its
 * value, parsed by the RequestParser alone: refused with the right status,
 * or kept in the value byte for byte, never stripped. Then the response
 * fields a handler sets, the ows.ts helpers over all 256 bytes, the RFC
 * rules one by one, a server round trip for the HTTP/1.0 connection that
 * `keep-alive\xA0` used to keep open, and a scan of the HTTP, fetch and WebSocket
 * sources for Unicode-aware whitespace routines.
 */
import t, { type Test } from 'tap';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { HttpParseError, RequestParser } from '../../packages/reactor/src/http/parser.js';
import type { HttpRequest } from '../../packages/reactor/src/http/request.js';
import { ResponseHeaders } from '../../packages/reactor/src/http/response-headers.js';
import { isOws, ListReader, owsEnd, skipOws, trimOws } from '../../packages/reactor/src/http/ows.js';
import { Reactor } from '../../packages/reactor/src/reactor.js';
import { createHttpServer } from '../../packages/reactor/src/http/server.js';
import { route } from '../../packages/examples/src/servers/http-routes.js';
import { exchange } from '../helpers/http-exchange.js';
import { trackFds } from '../helpers/fds.js';

/** The request, or the status a parse error answers. */
function parse(input: string): HttpRequest | number {
  const requests: HttpRequest[] = [];
  const parser = new RequestParser({ onRequest: (request) => void requests.push(request) });
  try {
    parser.execute(Buffer.from(input, 'latin1'));
  } catch (error) {
    if (error instanceof HttpParseError) return error.status;
    throw error;
  }
  if (requests.length !== 1) throw new Error(`${requests.length} requests from ${JSON.stringify(input)}`);
  return requests[0]!;
}

const describe = (text: string): string => JSON.stringify(text).replace(/[\u0080-\u00ff]/g, (char) => `\\x${char.charCodeAt(0).toString(16)}`);

/** Bytes that String.prototype.trim() or /\s/ take for whitespace and HTTP does not. */
const NOT_OWS = [0x0b, 0x0c, 0x85, 0xa0];
/** Control bytes are refused anywhere in a field value (RFC 9110 5.5). */
const CONTROL = new Set([0x0b, 0x0c]);

interface HeaderCase {
  readonly header: string;
  /** The request with `VALUE` where the field value goes. */
  readonly request: string;
  readonly value: string;
  /** What an obs-text byte (0x85, 0xA0) next to the value must do: a status, or a check of the request. */
  readonly obsText: number | ((t: Test, request: HttpRequest, value: string) => void);
}

const CASES: HeaderCase[] = [
  { header: 'transfer-encoding', request: 'POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: VALUE\r\n\r\n5\r\nhello\r\n0\r\n\r\n', value: 'chunked', obsText: 400 },
  { header: 'content-length', request: 'POST / HTTP/1.1\r\nHost: a\r\nContent-Length: VALUE\r\n\r\nhello', value: '5', obsText: 400 },
  {
    header: 'connection',
    request: 'GET / HTTP/1.1\r\nHost: a\r\nConnection: VALUE\r\n\r\n',
    value: 'close',
    obsText: (t, request) => t.equal(request.keepAlive, true, 'not the close option: an HTTP/1.1 connection persists'),
  },
  {
    header: 'connection',
    request: 'GET / HTTP/1.0\r\nConnection: VALUE\r\n\r\n',
    value: 'keep-alive',
    obsText: (t, request) => t.equal(request.keepAlive, false, 'not the keep-alive option: an HTTP/1.0 connection closes'),
  },
  { header: 'host', request: 'GET / HTTP/1.1\r\nHost: VALUE\r\n\r\n', value: 'a', obsText: 400 },
  { header: 'expect', request: 'POST / HTTP/1.1\r\nHost: a\r\nExpect: VALUE\r\nContent-Length: 2\r\n\r\nok', value: '100-continue', obsText: 417 },
  {
    header: 'upgrade',
    request: 'GET / HTTP/1.1\r\nHost: a\r\nConnection: upgrade\r\nUpgrade: VALUE\r\n\r\n',
    value: 'websocket',
    obsText: (t, request) => t.equal(request.keepAlive, true, 'no upgrade happens: an ordinary request'),
  },
];

t.test('each interpreted header with 0x0B, 0x0C, 0x85 or 0xA0 before or after its value: refused, or kept as sent', (t) => {
  for (const { header, request, value, obsText } of CASES) {
    for (const byte of NOT_OWS) {
      const char = String.fromCharCode(byte);
      for (const sent of [`${char}${value}`, `${value}${char}`]) {
        const input = request.replace('VALUE', sent);
        const result = parse(input);
        const name = `${header}: ${describe(sent)}${input.includes('HTTP/1.0') ? ' (HTTP/1.0)' : ''}`;
        if (CONTROL.has(byte)) {
          t.equal(result, 400, `${name}: a control byte in a value is 400`);
        } else if (typeof obsText === 'number') {
          t.equal(result, obsText, `${name}: refused with ${obsText}, not read as ${JSON.stringify(value)}`);
        } else if (typeof result === 'number') {
          t.fail(`${name}: refused with ${result}, expected to be taken literally`);
        } else {
          t.equal(result.header(header), sent, `${name}: the value keeps the byte`);
          obsText(t, result, value);
        }
      }
    }
    // The control: the same request with SP and HTAB around the value is read as the value.
    const plain = parse(request.replace('VALUE', ` \t${value}\t `));
    t.type(plain, 'object', `${header}: SP and HTAB around ${JSON.stringify(value)} are OWS`);
    if (typeof plain !== 'number' && header !== 'upgrade') t.equal(plain.header(header), value, `${header}: OWS removed, nothing else`);
  }
  t.end();
});

t.test('response fields a handler sets: OWS is SP and HTAB there too', (t) => {
  const headers = new ResponseHeaders();
  headers.set('Transfer-Encoding', ' Chunked\t');
  t.equal(headers.chunked, true, 'SP, HTAB and case around chunked');
  headers.set('Content-Length', '\t5 ');
  t.equal(headers.declaredLength, 5);
  headers.set('Connection', ' CLOSE ');
  t.equal(headers.close, true);
  headers.set('Connection', 'keep-alive\t');
  t.equal(headers.close, false);
  for (const byte of [0x85, 0xa0]) {
    const char = String.fromCharCode(byte);
    for (const [name, value] of [['Transfer-Encoding', 'chunked'], ['Content-Length', '5'], ['Connection', 'close'], ['Connection', 'keep-alive']] as const) {
      for (const sent of [`${char}${value}`, `${value}${char}`]) {
        t.throws(() => headers.set(name, sent), { code: 'ERR_INVALID_ARG_VALUE' }, `${name}: ${describe(sent)} is not ${value}`);
      }
    }
  }
  for (const byte of [0x0b, 0x0c]) t.throws(() => headers.set('Connection', `close${String.fromCharCode(byte)}`), { code: 'ERR_INVALID_ARG_VALUE' }, `a control byte 0x${byte.toString(16)}`);
  t.equal(headers.close, false, 'a refused value changes nothing');
  t.end();
});

t.test('ows.ts: SP and HTAB are OWS, no other byte or character', (t) => {
  const ows: number[] = [];
  for (let code = 0; code < 256; code += 1) if (isOws(code)) ows.push(code);
  t.same(ows, [0x09, 0x20]);
  for (const code of [0x2028, 0x3000, 0xfeff, 0x1680]) t.notOk(isOws(code), `U+${code.toString(16)}`);
  const bytes = Buffer.from('\t \xa0x\x85 \t', 'latin1');
  t.equal(skipOws(bytes, 0, bytes.length), 2);
  t.equal(owsEnd(bytes, 0, bytes.length), 5);
  t.equal(owsEnd(Buffer.from(' \t '), 0, 3), 0, 'all OWS: empty');
  t.equal(trimOws('\t\xa0a\x85 '), '\xa0a\x85');
  const text = 'plain';
  t.equal(trimOws(text), text, 'nothing to remove: the same string');
  const elements = (value: string): string[] => {
    const found: string[] = [];
    for (const list = new ListReader().reset(value); list.advance(); ) found.push(list.text.slice(list.start, list.end));
    return found;
  };
  t.same(elements(''), []);
  t.same(elements(' , ,\t,'), [], 'only empty elements');
  t.same(elements('a'), ['a']);
  t.same(elements(',a ,, \tb\t,'), ['a', 'b'], 'empty elements skipped, OWS removed');
  t.same(elements('\xa0a, b\x0b'), ['\xa0a', 'b\x0b'], 'other bytes stay in the element');
  t.end();
});

t.test('RFC rules: empty host, one Host on every version, default ports, repeated and empty list elements', (t) => {
  const status = (input: string): number | 'accepted' => {
    const result = parse(input);
    return typeof result === 'number' ? result : 'accepted';
  };
  const table: Array<[string, string, number | 'accepted']> = [
    // RFC 9110 4.2.1: an http(s) URI with an empty host MUST be rejected.
    ['absolute-form, empty host and a port', 'GET http://:80/ HTTP/1.1\r\nHost: :80\r\n\r\n', 400],
    ['absolute-form, empty host and an empty port', 'GET http://:/ HTTP/1.1\r\nHost: a\r\n\r\n', 400],
    ['https absolute-form, empty host', 'GET https://:443/ HTTP/1.1\r\nHost: a\r\n\r\n', 400],
    ['Host with a port and no host', 'GET / HTTP/1.1\r\nHost: :80\r\n\r\n', 400],
    ['empty Host (no authority)', 'GET / HTTP/1.1\r\nHost: \r\n\r\n', 'accepted'],
    // RFC 9112 3.2: more than one Host line is 400 whatever the version.
    ['two Hosts in HTTP/1.0', 'GET / HTTP/1.0\r\nHost: a\r\nHost: b\r\n\r\n', 400],
    ['two equal Hosts in HTTP/1.0', 'GET / HTTP/1.0\r\nHost: a\r\nHost: a\r\n\r\n', 400],
    ['one Host in HTTP/1.0', 'GET / HTTP/1.0\r\nHost: a\r\n\r\n', 'accepted'],
    // RFC 9110 4.2.3: the default port is the same authority as none.
    ['http://a:80/ with Host a', 'GET http://a:80/ HTTP/1.1\r\nHost: a\r\n\r\n', 'accepted'],
    ['http://a/ with Host a:80', 'GET http://a/ HTTP/1.1\r\nHost: a:80\r\n\r\n', 'accepted'],
    ['https://a:443/ with Host a', 'GET https://a:443/ HTTP/1.1\r\nHost: a\r\n\r\n', 'accepted'],
    ['HTTPS://A/ with Host a:443', 'GET HTTPS://A/ HTTP/1.1\r\nHost: a:443\r\n\r\n', 'accepted'],
    ['http://a:/ (empty port) with Host a', 'GET http://a:/ HTTP/1.1\r\nHost: a\r\n\r\n', 'accepted'],
    ['http://a:080/ with Host a:80', 'GET http://a:080/ HTTP/1.1\r\nHost: a:80\r\n\r\n', 'accepted'],
    ['http://[::1]:80/ with Host [::1]', 'GET http://[::1]:80/ HTTP/1.1\r\nHost: [::1]\r\n\r\n', 'accepted'],
    ['http://a:8080/ with Host a:8080', 'GET http://a:8080/ HTTP/1.1\r\nHost: a:8080\r\n\r\n', 'accepted'],
    ['http://a:443/ with Host a (443 is https\'s)', 'GET http://a:443/ HTTP/1.1\r\nHost: a\r\n\r\n', 400],
    ['https://a:80/ with Host a (80 is http\'s)', 'GET https://a:80/ HTTP/1.1\r\nHost: a\r\n\r\n', 400],
    ['http://a:8080/ with Host a:80', 'GET http://a:8080/ HTTP/1.1\r\nHost: a:80\r\n\r\n', 400],
    ['http://a:0/ with Host a', 'GET http://a:0/ HTTP/1.1\r\nHost: a\r\n\r\n', 400],
    ['http://ab/ with Host a:80', 'GET http://ab/ HTTP/1.1\r\nHost: a:80\r\n\r\n', 400],
    // RFC 9110 5.6.1: empty list elements are ignored; a repeated expectation is the same expectation.
    ['Expect: 100-continue, 100-continue', 'POST / HTTP/1.1\r\nHost: a\r\nExpect: 100-continue, 100-continue\r\nContent-Length: 2\r\n\r\nok', 'accepted'],
    ['Expect: 100-continue twice', 'POST / HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nExpect: 100-Continue\r\nContent-Length: 2\r\n\r\nok', 'accepted'],
    ['Expect: , 100-continue ,', 'POST / HTTP/1.1\r\nHost: a\r\nExpect: , 100-continue ,\r\nContent-Length: 2\r\n\r\nok', 'accepted'],
    ['Expect: 100-continue, foo', 'POST / HTTP/1.1\r\nHost: a\r\nExpect: 100-continue, foo\r\nContent-Length: 2\r\n\r\nok', 417],
    ['Transfer-Encoding: chunked, then an empty Transfer-Encoding', 'POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding:\r\n\r\n5\r\nhello\r\n0\r\n\r\n', 'accepted'],
    ['Transfer-Encoding: , chunked ,', 'POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: , chunked ,\r\n\r\n5\r\nhello\r\n0\r\n\r\n', 'accepted'],
    ['Transfer-Encoding: an empty line, then chunked', 'POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: \r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n', 'accepted'],
    ['Transfer-Encoding: empty only', 'POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: ,\r\n\r\n', 400],
    ['Transfer-Encoding: chunked, then gzip', 'POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: gzip\r\n\r\n', 400],
    ['Transfer-Encoding: gzip, then chunked', 'POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n\r\n', 501],
    ['Transfer-Encoding: chunked, chunked', 'POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, chunked\r\n\r\n', 501],
    // A comma inside a quoted parameter only adds elements, which both fields refuse (ows.ts).
    ['Transfer-Encoding with chunked inside a quoted parameter', 'POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: foo;x=", chunked ,"\r\n\r\n', 400],
    ['Expect with a comma inside a quoted parameter', 'GET / HTTP/1.1\r\nHost: a\r\nExpect: 100-continue;x=","\r\n\r\n', 417],
  ];
  for (const [name, input, expected] of table) t.equal(status(input), expected, name);
  const chunked = parse('POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding:\r\n\r\n5\r\nhello\r\n0\r\n\r\n') as HttpRequest;
  t.equal(Buffer.from(chunked.body).toString(), 'hello', 'the empty element changes nothing: the body is chunked');
  t.end();
});

t.test('Connection options: lists, case, empty elements, and close over keep-alive (RFC 9112 9.3)', (t) => {
  const keepAlive = (version: string, connection: string): boolean => {
    const result = parse(`GET / HTTP/1.${version}\r\nHost: a\r\nConnection: ${connection}\r\n\r\n`);
    if (typeof result === 'number') throw new Error(`refused: ${result}`);
    return result.keepAlive;
  };
  t.equal(keepAlive('1', ', Close ,'), false, 'close among empty elements');
  t.equal(keepAlive('1', 'foo, close'), false, 'close after another option');
  t.equal(keepAlive('1', 'closed'), true, 'a longer token is not close');
  t.equal(keepAlive('0', ', keep-alive ,'), true, 'keep-alive among empty elements');
  t.equal(keepAlive('0', 'Keep-Alive'), true);
  t.equal(keepAlive('0', 'close, keep-alive'), false, 'close wins, in either order');
  t.equal(keepAlive('0', 'keep-alive, close'), false);
  t.equal(keepAlive('0', 'keep-alive\xa0'), false, 'keep-alive\\xA0 is another option');
  t.end();
});

t.test('a server closes an HTTP/1.0 connection whose keep-alive option carries 0xA0', async (t) => {
  const fds = trackFds();
  const reactor = new Reactor();
  const server = createHttpServer(reactor, route);
  // exchange() resolves when the server closes: with the option honoured, the second request would be answered too.
  const spoofed = await exchange(server.port, Buffer.from('GET / HTTP/1.0\r\nConnection: keep-alive\xa0\r\n\r\nGET /json HTTP/1.0\r\n\r\n', 'latin1'));
  t.equal(spoofed.match(/HTTP\/1\.[01] 200 /g)?.length, 1, 'one response, then the close');
  t.match(spoofed, /\r\nConnection: close\r\n/, 'and says so');
  const honest = await exchange(server.port, 'GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\nGET /json HTTP/1.0\r\n\r\n');
  t.equal(honest.match(/HTTP\/1\.[01] 200 /g)?.length, 2, 'the control: keep-alive as sent serves both');
  await server.close(500);
  reactor.close();
  fds.assertNone(t);
});

t.test('no Unicode-aware whitespace routine in the HTTP, fetch and WebSocket sources', (t) => {
  const root = fileURLToPath(new URL('../../packages/reactor/src/', import.meta.url));
  // Code only: comments may name what they warn against.
  const code = (source: string): string => source.replace(/\/\*[^]*?\*\//g, '').replace(/(^|[^:'"`])\/\/.*$/gm, '$1');
  const forbidden = /\.trim(Start|End|Left|Right)?\(|\\[sS]/;
  for (const folder of ['http', 'fetch', 'ws']) {
    for (const file of readdirSync(join(root, folder)).filter((name) => name.endsWith('.ts'))) {
      const match = forbidden.exec(code(readFileSync(join(root, folder, file), 'utf8')));
      t.equal(match?.[0], undefined, `${folder}/${file}`);
    }
  }
  t.end();
});
