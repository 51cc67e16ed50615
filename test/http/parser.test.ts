/**
 * The request parser alone: what it accepts (methods, targets, headers in
 * lower case, Content-Length and chunked bodies, pipelined requests, any
 * split of the bytes), keep-alive rules, Expect: 100-continue, pause and
 * resume; and, from one table, every malformed or over-limit input with the
 * status it must answer.
 */
import t from 'tap';
import { HttpParseError, RequestParser } from '../../packages/reactor/src/http/parser.js';
import type { HttpRequest } from '../../packages/reactor/src/http/request.js';
import { summary } from '../helpers/http-summary.js';
import type { HttpLimits } from '../../packages/reactor/src/http/limits.js';

function parseAll(chunks: Array<string | Buffer>, limits?: HttpLimits): HttpRequest[] {
  const requests: HttpRequest[] = [];
  const parser = new RequestParser({ onRequest: (request) => void requests.push(request) }, limits);
  for (const chunk of chunks) parser.execute(typeof chunk === 'string' ? Buffer.from(chunk, 'latin1') : chunk);
  return requests;
}


const CHUNKED = 'POST /upload?x=1 HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5;name=value\r\nhello\r\n6\r\n world\r\n0\r\nTrailer-Field: x\r\n\r\n';

t.test('a GET, a Content-Length body and a chunked body', (t) => {
  const [get, post, chunked] = parseAll([
    'GET / HTTP/1.1\r\nHost: example\r\nX-Custom:  spaced value \t\r\n\r\n',
    'POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nabc',
    CHUNKED,
  ]);
  t.same(summary(get!), { method: 'GET', target: '/', version: 1, headers: ['host', 'example', 'x-custom', 'spaced value'], body: '', keepAlive: true });
  t.equal(get!.header('X-CUSTOM'), 'spaced value');
  t.equal(get!.header('absent'), undefined);
  t.equal(post!.path, '/echo');
  t.equal(Buffer.from(post!.body).toString(), 'abc');
  t.equal(Buffer.from(chunked!.body).toString(), 'hello world');
  t.equal(chunked!.path, '/upload');
  t.end();
});

t.test('any split of the bytes parses the same as one piece', (t) => {
  const whole = Buffer.from(`${CHUNKED}GET /next HTTP/1.1\r\nHost: b\r\n\r\n`, 'latin1');
  const expected = parseAll([whole]).map(summary);
  t.equal(expected.length, 2);
  let mismatches = 0;
  for (let cut = 1; cut < whole.length; cut += 1) {
    for (const second of [cut + 1, cut + 7, whole.length]) {
      const pieces = [whole.subarray(0, cut), whole.subarray(cut, Math.min(second, whole.length)), whole.subarray(Math.min(second, whole.length))];
      if (JSON.stringify(parseAll(pieces).map(summary)) !== JSON.stringify(expected)) mismatches += 1;
    }
  }
  t.equal(mismatches, 0, `every cut of ${whole.length} bytes into three pieces`);
  const byteByByte = parseAll([...whole].map((byte) => Buffer.from([byte])));
  t.same(byteByByte.map(summary), expected, 'one byte at a time');
  t.end();
});

t.test('pipelined requests come out in order; empty lines before a request are skipped', (t) => {
  const requests = parseAll(['\r\nGET /1 HTTP/1.1\r\nHost: a\r\n\r\nGET /2 HTTP/1.1\r\nHost: a\r\n\r\nGET /3 HTTP/1.1\r\nHost: a\r\n\r\n']);
  t.same(requests.map((request) => request.target), ['/1', '/2', '/3']);
  t.end();
});

t.test('keep-alive follows HTTP/1.0 and 1.1 rules', (t) => {
  const [a, b, c, d] = parseAll([
    'GET / HTTP/1.1\r\nHost: a\r\n\r\n',
    'GET / HTTP/1.1\r\nHost: a\r\nConnection: Close\r\n\r\n',
    'GET / HTTP/1.0\r\n\r\n',
    'GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n',
  ]);
  t.same([a!.keepAlive, b!.keepAlive, c!.keepAlive, d!.keepAlive], [true, false, false, true]);
  t.end();
});

t.test('Expect: 100-continue is announced before the body; pause keeps later bytes', (t) => {
  const events: string[] = [];
  const parser = new RequestParser({
    onRequest: (request) => {
      events.push(`request ${request.target}`);
      parser.pause();
    },
    onContinue: (request) => events.push(`continue ${request.target}`),
  });
  t.ok(parser.idle);
  parser.execute(Buffer.from('PUT /a HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\n'));
  t.same(events, ['continue /a'], 'announced before any body byte');
  parser.execute(Buffer.from('okGET /b HTTP/1.1\r\nHost: a\r\n\r\n'));
  t.same(events, ['continue /a', 'request /a'], 'paused after the first request');
  t.notOk(parser.idle, 'bytes of the next request are held');
  parser.execute(Buffer.from('GET /c HTTP/1.1\r\nHost: a\r\n\r\n'));
  parser.resume();
  t.same(events, ['continue /a', 'request /a', 'request /b']);
  parser.resume();
  t.same(events, ['continue /a', 'request /a', 'request /b', 'request /c']);
  parser.resume();
  parser.resume(); // not paused: nothing happens
  t.end();
});

interface Rejection {
  readonly name: string;
  readonly input: string;
  readonly status: number;
  readonly limits?: HttpLimits;
}

const HOST = 'Host: a\r\n';
const rejections: Rejection[] = [
  { name: 'bare LF ending the request line', input: 'GET / HTTP/1.1\nHost: a\r\n\r\n', status: 400 },
  { name: 'bare LF ending a header', input: `GET / HTTP/1.1\r\nHost: a\n\r\n`, status: 400 },
  { name: 'whitespace before the colon', input: `GET / HTTP/1.1\r\n${HOST}X-A : b\r\n\r\n`, status: 400 },
  { name: 'obsolete line folding', input: `GET / HTTP/1.1\r\n${HOST}X-A: b\r\n  c\r\n\r\n`, status: 400 },
  { name: 'header without a colon', input: `GET / HTTP/1.1\r\n${HOST}nocolon\r\n\r\n`, status: 400 },
  { name: 'invalid character in a header name', input: `GET / HTTP/1.1\r\n${HOST}X@A: b\r\n\r\n`, status: 400 },
  { name: 'control character in a header value', input: `GET / HTTP/1.1\r\n${HOST}X-A: b\x01c\r\n\r\n`, status: 400 },
  { name: 'invalid character in the method', input: `G(T / HTTP/1.1\r\n${HOST}\r\n`, status: 400 },
  { name: 'two spaces in the request line', input: `GET  / HTTP/1.1\r\n${HOST}\r\n`, status: 400 },
  { name: 'a space inside the target', input: `GET /a b HTTP/1.1\r\n${HOST}\r\n`, status: 400 },
  { name: 'no version', input: 'GET /\r\n\r\n', status: 400 },
  { name: 'lower-case version', input: `GET / http/1.1\r\n${HOST}\r\n`, status: 400 },
  { name: 'HTTP/2.0', input: `GET / HTTP/2.0\r\n${HOST}\r\n`, status: 505 },
  { name: 'Content-Length and Transfer-Encoding', input: `POST / HTTP/1.1\r\n${HOST}Content-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n`, status: 400 },
  { name: 'two Content-Lengths, different', input: `POST / HTTP/1.1\r\n${HOST}Content-Length: 3\r\nContent-Length: 4\r\n\r\n`, status: 400 },
  { name: 'two Content-Lengths, equal', input: `POST / HTTP/1.1\r\n${HOST}Content-Length: 3\r\nContent-Length: 3\r\n\r\nabc`, status: 400 },
  { name: 'Content-Length with a sign', input: `POST / HTTP/1.1\r\n${HOST}Content-Length: +3\r\n\r\nabc`, status: 400 },
  { name: 'Content-Length list', input: `POST / HTTP/1.1\r\n${HOST}Content-Length: 3, 3\r\n\r\nabc`, status: 400 },
  { name: 'Transfer-Encoding gzip, chunked', input: `POST / HTTP/1.1\r\n${HOST}Transfer-Encoding: gzip, chunked\r\n\r\n`, status: 501 },
  { name: 'Transfer-Encoding not ending in chunked', input: `POST / HTTP/1.1\r\n${HOST}Transfer-Encoding: gzip\r\n\r\n`, status: 400 },
  { name: 'Transfer-Encoding in HTTP/1.0', input: 'POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n', status: 400 },
  { name: 'chunk size not hex', input: `POST / HTTP/1.1\r\n${HOST}Transfer-Encoding: chunked\r\n\r\nzz\r\n`, status: 400 },
  { name: 'empty chunk size', input: `POST / HTTP/1.1\r\n${HOST}Transfer-Encoding: chunked\r\n\r\n\r\n`, status: 400 },
  { name: 'chunk data longer than its size', input: `POST / HTTP/1.1\r\n${HOST}Transfer-Encoding: chunked\r\n\r\n2\r\nabc\r\n0\r\n\r\n`, status: 400 },
  { name: 'control character in a chunk extension', input: `POST / HTTP/1.1\r\n${HOST}Transfer-Encoding: chunked\r\n\r\n1;a\x01\r\n`, status: 400 },
  { name: 'chunk-size line too long', input: `POST / HTTP/1.1\r\n${HOST}Transfer-Encoding: chunked\r\n\r\n1;${'x'.repeat(2000)}`, status: 400 },
  { name: 'HTTP/1.1 without Host', input: 'GET / HTTP/1.1\r\n\r\n', status: 400 },
  { name: 'two Host headers', input: `GET / HTTP/1.1\r\n${HOST}${HOST}\r\n`, status: 400 },
  { name: 'Expect other than 100-continue', input: `GET / HTTP/1.1\r\n${HOST}Expect: magic\r\n\r\n`, status: 417 },
  { name: 'request line over its limit', input: `GET /${'a'.repeat(100)} HTTP/1.1\r\n`, status: 414, limits: { requestLineSizeMax: 64 } },
  { name: 'request line over its limit, no LF yet', input: `GET /${'a'.repeat(100)}`, status: 414, limits: { requestLineSizeMax: 64 } },
  { name: 'headers over their limit', input: `GET / HTTP/1.1\r\n${HOST}X-A: ${'b'.repeat(200)}\r\n\r\n`, status: 431, limits: { headersSizeMax: 128 } },
  { name: 'too many headers', input: `GET / HTTP/1.1\r\n${HOST}${'X-A: b\r\n'.repeat(5)}\r\n`, status: 431, limits: { headersCountMax: 4 } },
  { name: 'Content-Length over the body limit', input: `POST / HTTP/1.1\r\n${HOST}Content-Length: 2000\r\n\r\n`, status: 413, limits: { bodySizeMax: 1000 } },
  { name: 'chunk over the body limit', input: `POST / HTTP/1.1\r\n${HOST}Transfer-Encoding: chunked\r\n\r\nfffff\r\n`, status: 413, limits: { bodySizeMax: 1000 } },
  { name: 'chunks adding up over the body limit', input: `POST / HTTP/1.1\r\n${HOST}Transfer-Encoding: chunked\r\n\r\n200\r\n${'a'.repeat(512)}\r\n200\r\n`, status: 413, limits: { bodySizeMax: 1000 } },
  { name: 'trailer with a bad header', input: `POST / HTTP/1.1\r\n${HOST}Transfer-Encoding: chunked\r\n\r\n0\r\nbad trailer\r\n\r\n`, status: 400 },
  { name: 'chunk size then a space (RFC 9112 7.1: BWS only before ";")', input: `POST / HTTP/1.1\r\n${HOST}Transfer-Encoding: chunked\r\n\r\n5 \r\nhello\r\n0\r\n\r\n`, status: 400 },
  { name: 'chunk size then a tab', input: `POST / HTTP/1.1\r\n${HOST}Transfer-Encoding: chunked\r\n\r\n5\t\r\nhello\r\n0\r\n\r\n`, status: 400 },
  { name: 'chunk extension without a name', input: `POST / HTTP/1.1\r\n${HOST}Transfer-Encoding: chunked\r\n\r\n5;\r\nhello\r\n0\r\n\r\n`, status: 400 },
  { name: 'chunk extension with an unterminated quoted string', input: `POST / HTTP/1.1\r\n${HOST}Transfer-Encoding: chunked\r\n\r\n5;a="b\r\nhello\r\n0\r\n\r\n`, status: 400 },
  { name: 'chunk extension value with a bad quoted-pair', input: `POST / HTTP/1.1\r\n${HOST}Transfer-Encoding: chunked\r\n\r\n5;a="b\\\x01"\r\nhello\r\n0\r\n\r\n`, status: 400 },
  { name: 'chunk extension value not a token', input: `POST / HTTP/1.1\r\n${HOST}Transfer-Encoding: chunked\r\n\r\n5;a=b c\r\nhello\r\n0\r\n\r\n`, status: 400 },
  { name: 'chunk extension "=" without a value', input: `POST / HTTP/1.1\r\n${HOST}Transfer-Encoding: chunked\r\n\r\n5;a=\r\nhello\r\n0\r\n\r\n`, status: 400 },
  { name: 'byte 0x80 in the target', input: `GET /caf\xe9 HTTP/1.1\r\n${HOST}\r\n`, status: 400 },
  { name: 'fragment in the target', input: `GET /a#f HTTP/1.1\r\n${HOST}\r\n`, status: 400 },
  { name: 'bad percent-encoding in the target', input: `GET /a%zz HTTP/1.1\r\n${HOST}\r\n`, status: 400 },
  { name: 'truncated percent-encoding at the end of the target', input: `GET /a%2 HTTP/1.1\r\n${HOST}\r\n`, status: 400 },
  { name: 'a target that is no form at all', input: `GET a HTTP/1.1\r\n${HOST}\r\n`, status: 400 },
  { name: 'authority-form on GET', input: `GET a:80 HTTP/1.1\r\n${HOST}\r\n`, status: 400 },
  { name: 'asterisk-form on GET', input: `GET * HTTP/1.1\r\n${HOST}\r\n`, status: 400 },
  { name: 'absolute-form with userinfo', input: `GET http://u@a/ HTTP/1.1\r\n${HOST}\r\n`, status: 400 },
  { name: 'absolute-form with no authority', input: `GET http:///x HTTP/1.1\r\n${HOST}\r\n`, status: 400 },
  { name: 'absolute-form with a bad path', input: `GET http://a/b{c} HTTP/1.1\r\n${HOST}\r\n`, status: 400 },
  { name: 'absolute-form whose authority is not the Host', input: `GET http://a/ HTTP/1.1\r\nHost: b\r\n\r\n`, status: 400 },
  { name: 'CONNECT (no tunnels)', input: 'CONNECT a:443 HTTP/1.1\r\nHost: a:443\r\n\r\n', status: 501 },
  { name: 'Host with a space', input: 'GET / HTTP/1.1\r\nHost: a b\r\n\r\n', status: 400 },
  { name: 'Host with userinfo', input: 'GET / HTTP/1.1\r\nHost: u@a\r\n\r\n', status: 400 },
  { name: 'Host with a bad port', input: 'GET / HTTP/1.1\r\nHost: a:8x\r\n\r\n', status: 400 },
  { name: 'Host with an unclosed IP literal', input: 'GET / HTTP/1.1\r\nHost: [::1\r\n\r\n', status: 400 },
  { name: 'Host with an empty IP literal', input: 'GET / HTTP/1.1\r\nHost: []\r\n\r\n', status: 400 },
  { name: 'Host with a bad IP literal', input: 'GET / HTTP/1.1\r\nHost: [a/b]\r\n\r\n', status: 400 },
  { name: 'Host with text after an IP literal', input: 'GET / HTTP/1.1\r\nHost: [::1]x\r\n\r\n', status: 400 },
  { name: 'Host with a bad percent-encoding', input: 'GET / HTTP/1.1\r\nHost: a%g1\r\n\r\n', status: 400 },
];

t.test('malformed and over-limit requests: the status each must answer', (t) => {
  for (const rejection of rejections) {
    t.throws(() => parseAll([rejection.input], rejection.limits), { name: 'HttpParseError', code: 'ERR_ZEPOLL_HTTP_PARSE', status: rejection.status }, `${rejection.name} → ${rejection.status}`);
  }
  const error = new HttpParseError(400, 'x');
  t.ok(error instanceof Error);
  t.throws(() => new RequestParser({ onRequest: () => {} }, { bodySizeMax: 0 }), { code: 'ERR_OUT_OF_RANGE' });
  t.end();
});

t.test('RFC 9112 forms that are accepted: chunk extensions with BWS and quoted strings, origin-form with pct-encoding, absolute-form, asterisk-form, IP-literal and empty Hosts', (t) => {
  const chunked = (line: string): string => `POST / HTTP/1.1\r\n${HOST}Transfer-Encoding: chunked\r\n\r\n${line}\r\nhello\r\n0\r\n\r\n`;
  for (const line of ['5;a', '5 ;a', '5; a = b', '5;a="b \\" c";d=e', '5;a=tok;b', 'A;x'.replace('A', '5')]) {
    const [request] = parseAll([chunked(line)]);
    t.equal(Buffer.from(request!.body).toString(), 'hello', `chunk line ${JSON.stringify(line)}`);
  }
  const [pct] = parseAll([`GET /caf%C3%A9/a:b@c;d=e?q=/x?y&z=%20 HTTP/1.1\r\n${HOST}\r\n`]);
  t.equal(pct!.target, '/caf%C3%A9/a:b@c;d=e?q=/x?y&z=%20', 'pchars, "/" and "?" in the query, pct-encodings');
  const [absolute] = parseAll(['GET HTTP://A:8080/json?x=1 HTTP/1.1\r\nHost: a:8080\r\n\r\n']);
  t.equal(absolute!.target, '/json?x=1', 'absolute-form: handlers see origin-form; the authority matched Host case-insensitively');
  t.equal(parseAll(['GET https://a HTTP/1.1\r\nHost: a\r\n\r\n'])[0]!.target, '/', 'an empty path is /');
  t.equal(parseAll(['GET http://a?q HTTP/1.1\r\nHost: a\r\n\r\n'])[0]!.target, '/?q');
  t.equal(parseAll(['GET http://[::1]:80/ HTTP/1.1\r\nHost: [::1]:80\r\n\r\n'])[0]!.target, '/');
  t.equal(parseAll(['OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n'])[0]!.target, '*');
  for (const host of ['', 'a', 'a:80', 'a:', '127.0.0.1:8080', '[::1]', '[v1.x]', 'xn--caf-dma.example', 'a%41b']) {
    t.equal(parseAll([`GET / HTTP/1.1\r\nHost: ${host}\r\n\r\n`]).length, 1, `Host ${JSON.stringify(host)}`);
  }
  t.end();
});
