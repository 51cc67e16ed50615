/** A parsed request: method, target, version, headers (names in lower case), body. */
export class HttpRequest {
  readonly method: string;
  /** The request-target as sent: origin form (`/path?query`) for most requests. */
  readonly target: string;
  /** 0 for HTTP/1.0, 1 for HTTP/1.1. */
  readonly versionMinor: number;
  /** Field names (lower case) and values, alternating, in the order received. */
  readonly headers: readonly string[];
  /** The whole body (empty when there is none). */
  body: Uint8Array;
  /** Whether the connection stays open after the response (HTTP/1.0 and 1.1 rules). */
  readonly keepAlive: boolean;
  readonly expectContinue: boolean;

  constructor(method: string, target: string, versionMinor: number, headers: string[], keepAlive: boolean, expectContinue: boolean) {
    this.method = method;
    this.target = target;
    this.versionMinor = versionMinor;
    this.headers = headers;
    this.body = EMPTY;
    this.keepAlive = keepAlive;
    this.expectContinue = expectContinue;
  }

  /** The first value of a field (name in any case), or undefined. */
  header(name: string): string | undefined {
    const wanted = name.toLowerCase();
    for (let index = 0; index < this.headers.length; index += 2) if (this.headers[index] === wanted) return this.headers[index + 1];
    return undefined;
  }

  /** The path part of the target, before any `?`. */
  get path(): string {
    const query = this.target.indexOf('?');
    return query === -1 ? this.target : this.target.slice(0, query);
  }
}

const EMPTY = new Uint8Array(0);
