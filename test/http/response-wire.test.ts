/**
 * What the HTTP layer's response puts on the wire for zepoll/fetch's
 * node-server parity (issue 23): a custom reason phrase (checked: no
 * control byte, nothing past Latin-1), a Content-Length sent with the
 * digits the handler wrote (leading zeros), a HEAD response without a
 * Content-Length unless one is known, and header errors that name the
 * character refused.
 */
import t from 'tap';
import { Reactor } from '../../packages/reactor/src/reactor.js';
import { createHttpServer } from '../../packages/reactor/src/http/server.js';
import type { HttpRequest } from '../../packages/reactor/src/http/request.js';
import type { HttpResponse } from '../../packages/reactor/src/http/response.js';
import { ResponseHeaders } from '../../packages/reactor/src/http/response-headers.js';
import { rawExchange } from '../helpers/raw-http.js';

const field = (headers: ReadonlyArray<readonly [string, string]>, name: string): string | undefined => headers.find(([key]) => key === name)?.[1];

t.test('reason phrases, Content-Length digits and HEAD framing on the wire', async (t) => {
  const reactor = new Reactor();
  const failures: string[] = [];
  const server = createHttpServer(
    reactor,
    (request: HttpRequest, response: HttpResponse) => {
      if (request.path === '/reason') {
        response.statusMessage = 'Quite Fine';
        return response.end('r');
      }
      if (request.path === '/usual-reason') {
        response.statusMessage = 'OK';
        return response.end('u');
      }
      if (request.path === '/bad-reason') {
        response.statusMessage = 'bad\r\nx-injected: 1';
        return response.end('never');
      }
      if (request.path === '/reason-type') {
        (response as unknown as { statusMessage: unknown }).statusMessage = 42;
        return response.end('never');
      }
      if (request.path === '/zeros') {
        response.setHeader('Content-Length', '00005');
        return response.end('hello');
      }
      if (request.path === '/head-body') return response.end('eleven byte');
      return response.end(); // a HEAD answered without a body: the GET length is not known here
    },
    { onError: (error) => failures.push((error as { code?: string }).code ?? 'none') },
  );
  const ask = (head: string, isHead = false) => rawExchange(server.port, `${head}\r\nHost: a\r\n\r\n`, { heads: [isHead] });
  const reason = (await ask('GET /reason HTTP/1.1')).responses[0]!;
  t.equal(reason.reason, 'Quite Fine');
  const again = (await ask('GET /reason HTTP/1.1')).responses[0]!;
  t.equal(again.reason, 'Quite Fine', 'a reused response starts from the default and is set again');
  t.equal((await ask('GET /usual-reason HTTP/1.1')).responses[0]!.reason, 'OK', 'the usual phrase given explicitly');
  t.equal((await ask('GET /bad-reason HTTP/1.1')).responses[0]!.status, 500, 'a reason with CR LF: the handler fails before a byte is sent');
  t.equal((await ask('GET /reason-type HTTP/1.1')).responses[0]!.status, 500);
  t.same(failures, ['ERR_INVALID_ARG_VALUE', 'ERR_INVALID_ARG_TYPE']);
  const zeros = (await ask('GET /zeros HTTP/1.1')).responses[0]!;
  t.equal(field(zeros.headers, 'content-length'), '00005', "the handler's digits, as written");
  t.equal(zeros.body.toString(), 'hello');
  const headZeros = (await ask('HEAD /zeros HTTP/1.1', true)).responses[0]!;
  t.equal(field(headZeros.headers, 'content-length'), '00005', 'and on HEAD');
  const plain = (await ask('GET / HTTP/1.1')).responses[0]!;
  t.equal(field(plain.headers, 'content-length'), '0', 'GET without a body: Content-Length: 0');
  const head = (await ask('HEAD / HTTP/1.1', true)).responses[0]!;
  t.equal(field(head.headers, 'content-length'), undefined, 'HEAD without a body: no Content-Length (RFC 9110 8.6)');
  const headBody = (await ask('HEAD /head-body HTTP/1.1', true)).responses[0]!;
  t.equal(field(headBody.headers, 'content-length'), '11', "HEAD given the body: that body's length");
  await server.close();
  reactor.close();
});

t.test('header values refused say what was wrong; Content-Length digits kept and checked', (t) => {
  const headers = new ResponseHeaders();
  t.throws(() => headers.set('x-price', '€5'), { code: 'ERR_INVALID_ARG_VALUE', message: /'€' \(U\+20AC\) at index 0, which is not Latin-1/ });
  t.throws(() => headers.set('x-mood', 'ok \u{1F600}'), { message: /'\u{1F600}' \(U\+1F600\) at index 3/u }, 'an emoji named whole');
  t.throws(() => headers.set('x-bell', 'a\u0007b'), { code: 'ERR_INVALID_ARG_VALUE', message: /control character U\+0007 at index 1/ });
  t.throws(() => headers.set('x-del', 'a\u007f'), { message: /control character U\+007F/ });
  headers.set('x-latin', 'caf\u00e9');
  t.equal(headers.get('x-latin'), 'caf\u00e9', 'Latin-1 is a byte each: allowed');
  headers.set('Content-Length', '00011');
  t.equal(headers.get('content-length'), '00011');
  t.equal(headers.declaredLength, 11);
  headers.set('Content-Length', '0');
  t.equal(headers.get('content-length'), '0', 'a single zero is the plain decimal');
  headers.set('Content-Length', '011');
  headers.delete('content-length');
  t.equal(headers.get('content-length'), undefined);
  t.throws(() => headers.set('Content-Length', '9'.repeat(20)), { code: 'ERR_INVALID_ARG_VALUE' }, 'past a safe integer');
  t.throws(() => headers.set('Content-Length', '1'.repeat(33)), { code: 'ERR_INVALID_ARG_VALUE' }, 'past 32 digits');
  t.end();
});
