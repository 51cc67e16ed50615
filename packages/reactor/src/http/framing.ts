/**
 * What a request head says about its message (RFC 9112 6, 9.3; RFC 9110
 * 10.1.1): Content-Length (digits, at most once), Transfer-Encoding (its
 * last coding exactly `chunked`), one valid Host (the authority of an
 * absolute-form target, default port or not), the Connection options and
 * Expect. Anything ambiguous is an HttpParseError. List-valued fields are
 * read element by element (ows.ts): OWS is SP and HTAB only, empty
 * elements are skipped, and nothing is allocated per field.
 */
import { HttpParseError } from './parse-error.js';
import { isHostValue, sameAuthority } from './grammar.js';
import { ListReader } from './ows.js';

/** The facts of one head, filled by readHead (the parser reuses one object). */
export class HeadFacts {
  /** -1 when absent. */
  contentLength = -1;
  /** The body is chunked (Transfer-Encoding was sent, and valid). */
  chunked = false;
  keepAlive = true;
  expectContinue = false;
}

/** Connection options readHead acts on, as bits. */
const OPTION_CLOSE = 1;
const OPTION_KEEP_ALIVE = 2;
const CONTENT_LENGTH = /^\d{1,15}$/;
/** The reader of every list-valued field (readHead is never re-entered). */
const list = new ListReader();

/**
 * Reads the framing fields of `headers` (name/value pairs, names lower
 * case) into `facts`. `target` is an absolute-form target's scheme and
 * authority (`http://a:80`), or null.
 * @throws HttpParseError with the status to answer.
 */
export function readHead(headers: readonly string[], versionMinor: number, target: string | null, facts: HeadFacts): void {
  let contentLength = -1;
  let transferEncodings = 0;
  let hosts = 0;
  let options = 0;
  let expectContinue = false;
  for (let index = 0; index < headers.length; index += 2) {
    const name = headers[index]!;
    const value = headers[index + 1]!;
    switch (name) {
      case 'content-length':
        if (contentLength !== -1) throw new HttpParseError(400, 'more than one Content-Length');
        if (!CONTENT_LENGTH.test(value)) throw new HttpParseError(400, 'Content-Length is not a decimal number');
        contentLength = Number(value);
        break;
      case 'transfer-encoding':
        transferEncodings += 1; // read whole below: its codings may span several lines
        break;
      case 'host':
        hosts += 1;
        if (!isHostValue(value)) throw new HttpParseError(400, 'Host is not uri-host [ ":" port ] (RFC 9112 3.2)');
        if (target !== null && !sameAuthority(target, value)) throw new HttpParseError(400, 'Host differs from the authority of an absolute-form target');
        break;
      case 'connection':
        options |= connectionOptions(value);
        break;
      case 'expect':
        if (expectsContinue(value)) expectContinue = versionMinor === 1; // RFC 9110 10.1.1: an HTTP/1.0 request's is ignored
        break;
    }
  }
  // RFC 9112 3.2: "more than one Host header line" is 400 on every version; 1.1 needs one.
  if (hosts > 1) throw new HttpParseError(400, 'more than one Host');
  if (versionMinor === 1 && hosts === 0) throw new HttpParseError(400, 'HTTP/1.1 request without Host');
  if (transferEncodings > 0 && contentLength !== -1) throw new HttpParseError(400, 'both Content-Length and Transfer-Encoding');
  if (transferEncodings > 0) checkTransferCodings(headers, versionMinor);
  facts.contentLength = contentLength;
  facts.chunked = transferEncodings > 0;
  // RFC 9112 9.3: "close" ends the connection whatever else is listed; HTTP/1.0 persists only when asked.
  facts.keepAlive = (options & OPTION_CLOSE) === 0 && (versionMinor === 1 || (options & OPTION_KEEP_ALIVE) !== 0);
  facts.expectContinue = expectContinue;
}

/** The options of one Connection field that readHead acts on (others, such as `close\xA0`, are not these). */
function connectionOptions(value: string): number {
  let options = 0;
  for (list.reset(value); list.advance(); ) {
    if (list.is('close')) options |= OPTION_CLOSE;
    else if (list.is('keep-alive')) options |= OPTION_KEEP_ALIVE;
  }
  return options;
}

/**
 * Whether an Expect field asks for 100-continue. Repeating it asks for the
 * same thing; an empty list asks for nothing.
 * @throws HttpParseError 417 for any other expectation (RFC 9110 10.1.1).
 */
function expectsContinue(value: string): boolean {
  let asked = false;
  for (list.reset(value); list.advance(); ) {
    if (!list.is('100-continue')) throw new HttpParseError(417, `Expect: ${value} cannot be met`);
    asked = true;
  }
  return asked;
}

/**
 * The Transfer-Encoding lines of a head, as one list (RFC 9110 5.3): the
 * last coding must be exactly `chunked` (RFC 9112 6.3: else 400), and no
 * other coding is implemented (501). A request in HTTP/1.0 with one has
 * faulty framing (RFC 9112 6.1).
 * @throws HttpParseError 400 or 501.
 */
function checkTransferCodings(headers: readonly string[], versionMinor: number): void {
  let codings = 0;
  let chunkedLast = false;
  for (let index = 0; index < headers.length; index += 2) {
    if (headers[index] !== 'transfer-encoding') continue;
    for (list.reset(headers[index + 1]!); list.advance(); ) {
      codings += 1;
      chunkedLast = list.is('chunked');
    }
  }
  if (!chunkedLast) throw new HttpParseError(400, 'Transfer-Encoding does not end in chunked');
  if (codings > 1) throw new HttpParseError(501, `transfer codings other than chunked are not supported: ${transferEncodingOf(headers)}`);
  if (versionMinor === 0) throw new HttpParseError(400, 'Transfer-Encoding in an HTTP/1.0 request');
}

/** The Transfer-Encoding lines joined, for an error message. */
function transferEncodingOf(headers: readonly string[]): string {
  const values: string[] = [];
  for (let index = 0; index < headers.length; index += 2) if (headers[index] === 'transfer-encoding') values.push(headers[index + 1]!);
  return values.join(', ');
}
