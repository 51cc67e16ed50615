/**
 * What a request head says about its message (RFC 9112 6, 9.3; RFC 9110
 * 10.1.1): Content-Length (digits, at most once), Transfer-Encoding, one
 * valid Host (equal to an absolute-form target's authority), the
 * Connection options and Expect. Anything ambiguous is an HttpParseError.
 */
import { HttpParseError } from './parse-error.js';
import { isHostValue, sameAuthority } from './grammar.js';

/** The facts of one head, filled by readHead (the parser reuses one object). */
export class HeadFacts {
  /** -1 when absent. */
  contentLength = -1;
  /** The Transfer-Encoding values joined, or null when absent. */
  transferEncoding: string | null = null;
  keepAlive = true;
  expectContinue = false;
}

export function readHead(headers: readonly string[], versionMinor: number, authority: string | null, facts: HeadFacts): void {
  let contentLength = -1;
  let transferEncoding: string | null = null;
  let hosts = 0;
  let keepAlive = versionMinor === 1;
  let expectContinue = false;
  for (let index = 0; index < headers.length; index += 2) {
    const name = headers[index]!;
    const value = headers[index + 1]!;
    switch (name) {
      case 'content-length':
        if (contentLength !== -1) throw new HttpParseError(400, 'more than one Content-Length');
        if (!/^\d{1,15}$/.test(value)) throw new HttpParseError(400, 'Content-Length is not a decimal number');
        contentLength = Number(value);
        break;
      case 'transfer-encoding':
        transferEncoding = transferEncoding === null ? value : `${transferEncoding}, ${value}`;
        break;
      case 'host':
        hosts += 1;
        if (!isHostValue(value)) throw new HttpParseError(400, 'Host is not uri-host [ ":" port ] (RFC 9112 3.2)');
        if (authority !== null && !sameAuthority(authority, value)) {
          throw new HttpParseError(400, 'Host differs from the authority of an absolute-form target');
        }
        break;
      case 'connection':
        for (const token of value.toLowerCase().split(',')) {
          const option = token.trim();
          if (option === 'close') keepAlive = false;
          else if (option === 'keep-alive' && versionMinor === 0) keepAlive = true;
        }
        break;
      case 'expect':
        if (value.toLowerCase() !== '100-continue') throw new HttpParseError(417, `Expect: ${value} cannot be met`);
        expectContinue = versionMinor === 1;
        break;
    }
  }
  if (versionMinor === 1 && hosts !== 1) throw new HttpParseError(400, hosts === 0 ? 'HTTP/1.1 request without Host' : 'more than one Host');
  if (transferEncoding !== null && contentLength !== -1) throw new HttpParseError(400, 'both Content-Length and Transfer-Encoding');
  facts.contentLength = contentLength;
  facts.transferEncoding = transferEncoding;
  facts.keepAlive = keepAlive;
  facts.expectContinue = expectContinue;
}
