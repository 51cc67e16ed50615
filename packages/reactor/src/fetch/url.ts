/**
 * The URL a fetch handler's Request carries, built as @hono/node-server
 * builds it: a WHATWG URL, so the path is normalised (`/a/../b` is `/b`,
 * `%2e%2e` is `..`), the host is in lower case and a default port is
 * dropped (`LOCALHOST:80` is `localhost`). Apps route on `new
 * URL(request.url).pathname`; an un-normalised one would let `/static/../x`
 * reach a route that `/x` does not, or miss one it should.
 *
 * The URL parser is the slow part, so it runs once per distinct Host (the
 * last one is kept: a keep-alive client sends the same Host every time),
 * and on the target only when it holds a `%` or a dot segment; any other
 * origin-form target (the HTTP layer has checked its grammar) is what the
 * parser would give back unchanged.
 */
import type { HttpRequest } from '../http/request.js';
import { sameCaseless } from '../http/ows.js';
import { CLOSE_BRACKET, COLON, OPEN_BRACKET, PERCENT, QUESTION, SLASH } from '../http/bytes.js';

const DOT = 0x2e;

/** The last Host seen and the origin it gave (null: the URL parser refused it, or changed its name). */
let lastHost = '';
let lastOrigin: string | null = null;

/** Where the name of a Host value ends: after an IP-literal's bracket, else at the port's colon. */
function nameEnd(host: string): number {
  // An IP-literal has its closing bracket: the HTTP layer checked the Host's grammar.
  if (host.charCodeAt(0) === OPEN_BRACKET) return host.indexOf(String.fromCharCode(CLOSE_BRACKET)) + 1;
  const colon = host.indexOf(String.fromCharCode(COLON));
  return colon === -1 ? host.length : colon;
}

/**
 * `http://` and the URL parser's host (lower case, default port dropped),
 * or null when it refuses the Host (a port past 65535) or would rewrite
 * its name into another one (`127.1` into `127.0.0.1`, `a%41` into `aa`):
 * the request names a host other than the one it wrote, so, as
 * @hono/node-server, it is refused.
 */
function originOfHost(host: string): string | null {
  if (host === lastHost) return lastOrigin;
  let origin: string | null = null;
  try {
    const parsed = new URL(`http://${host}`);
    if (sameCaseless(host, 0, nameEnd(host), parsed.hostname)) origin = `http://${parsed.host}`;
  } catch {
    origin = null; // an invalid URL: the caller answers 400
  }
  lastHost = host;
  lastOrigin = origin;
  return origin;
}

/**
 * Whether the URL parser would keep this origin-form target as it is: no
 * pct-encoding (it decodes `%2e` into a dot) and no `.` or `..` segment in
 * the path. The query is not looked at: the parser leaves its dots alone.
 */
function plainTarget(target: string): boolean {
  for (let index = 0; index < target.length; index += 1) {
    const code = target.charCodeAt(index);
    if (code === PERCENT) return false;
    if (code === QUESTION) return true;
    if (code === SLASH && target.charCodeAt(index + 1) === DOT) {
      let after = index + 2;
      if (target.charCodeAt(after) === DOT) after += 1;
      const next = target.charCodeAt(after);
      if (after === target.length || next === SLASH || next === QUESTION) return false;
    }
  }
  return true;
}

/**
 * The absolute URL of a request: the Host field and the target (`/*` for
 * OPTIONS *), normalised as the URL parser does. (The HTTP layer hands an
 * absolute-form target over as origin-form, having checked that its
 * authority agrees with Host, and refuses CONNECT's authority-form.) A request without a Host (HTTP/1.0) or with an empty
 * one gets `origin`, the address the server was asked to bind, when there
 * is one (as @hono/node-server uses its `hostname` option). Null when it
 * cannot be a URL (no Host and no `origin`, a port past 65535, a Host the
 * parser rewrites): the caller answers 400 without calling the handler.
 */
export function requestUrl(source: HttpRequest, origin: string | null): string | null {
  const target = source.target;
  const host = source.header('host');
  const base = host === undefined || host === '' ? origin : originOfHost(host);
  if (base === null) return null;
  if (target === '*') return `${base}/*`;
  // A valid origin and an origin-form target (the HTTP layer checked its grammar): the parser cannot refuse them.
  return plainTarget(target) ? `${base}${target}` : new URL(`${base}${target}`).href;
}
