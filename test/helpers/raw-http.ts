/**
 * A raw HTTP/1.x client for differential tests: writes the given bytes on
 * a fresh connection (node:net, so the test controls every byte) and
 * parses what comes back into responses: status, reason, header fields in
 * order, and the body (Content-Length, chunked, or to the close), with the
 * framing used. Body bytes are reported as they are parsed, so a test can
 * act when the first part of a stream arrives.
 */
import { connect } from 'node:net';

export type Framing = 'length' | 'chunked' | 'close' | 'none';

export interface RawResponse {
  readonly status: number;
  readonly reason: string;
  readonly headers: ReadonlyArray<readonly [string, string]>;
  readonly body: Buffer;
  readonly framing: Framing;
}

export interface RawExchange {
  readonly responses: RawResponse[];
  /** The server closed the connection (or reset it) before the client did. */
  readonly closedByServer: boolean;
  /** A socket error's code (ECONNRESET, ...), or null. */
  readonly error: string | null;
  /** No complete answer within the time allowed. */
  readonly timedOut: boolean;
}

export interface RawOptions {
  /** How many responses to wait for (default 1); then the client closes. */
  readonly count?: number;
  /** Which responses answer HEAD (no body whatever the framing says). */
  readonly heads?: readonly boolean[];
  /** Called with each piece of body bytes, as parsed. */
  readonly onBody?: (index: number, bytes: Buffer) => void;
  /** Destroy the socket right after writing (an aborted upload). */
  readonly destroyAfterWrite?: boolean;
  readonly timeoutMs?: number;
}

const TIMEOUT_MS_DEFAULT = 10_000;

/** A parser of one connection's responses; feed it bytes, then end() it at the close. */
class ResponseParser {
  readonly responses: RawResponse[] = [];
  private pending: Buffer = Buffer.alloc(0);
  private head: { status: number; reason: string; headers: Array<[string, string]> } | null = null;
  private body: Buffer[] = [];
  private framing: Framing = 'none';
  private left = 0;
  /** Chunked: bytes of the current chunk left (its CRLF included); 0 when a size line is next. */
  private chunkLeft = 0;

  constructor(
    private readonly heads: readonly boolean[],
    private readonly onBody: (index: number, bytes: Buffer) => void,
  ) {}

  push(part: Buffer): void {
    this.pending = this.pending.length === 0 ? part : Buffer.concat([this.pending, part]);
    while (this.step());
  }

  /** The connection closed: a body delimited by the close is complete. */
  end(): void {
    if (this.head !== null && this.framing === 'close') this.finish();
  }

  private step(): boolean {
    if (this.head === null) return this.readHead();
    if (this.framing === 'close') return this.take(this.pending.length) && false;
    if (this.framing === 'length') {
      this.take(Math.min(this.left, this.pending.length));
      if (this.left === 0) this.finish();
      return this.left === 0;
    }
    return this.readChunked();
  }

  private readHead(): boolean {
    const end = this.pending.indexOf('\r\n\r\n');
    if (end === -1) return false;
    const lines = this.pending.toString('latin1', 0, end).split('\r\n');
    this.pending = this.pending.subarray(end + 4);
    const match = /^HTTP\/1\.[01] (\d{3}) ?(.*)$/.exec(lines[0]!);
    if (match === null) throw new Error(`not a status line: ${JSON.stringify(lines[0])}`);
    const headers = lines.slice(1).map((line): [string, string] => {
      const colon = line.indexOf(':');
      return [line.slice(0, colon).toLowerCase(), line.slice(colon + 1).replace(/^[ \t]+|[ \t]+$/g, '')];
    });
    const status = Number(match[1]);
    if (status < 200) return true; // an interim response: skipped
    this.head = { status, reason: match[2]!, headers };
    const field = (name: string): string | undefined => headers.find(([key]) => key === name)?.[1];
    const headOnly = this.heads[this.responses.length] === true || status === 204 || status === 304;
    if (headOnly) this.framing = 'none';
    else if (field('transfer-encoding')?.toLowerCase() === 'chunked') this.framing = 'chunked';
    else if (field('content-length') !== undefined) {
      this.framing = 'length';
      this.left = Number(field('content-length'));
    } else this.framing = 'close';
    if (this.framing === 'none' || (this.framing === 'length' && this.left === 0)) this.finish();
    return true;
  }

  private readChunked(): boolean {
    if (this.chunkLeft > 0) {
      const size = Math.min(this.chunkLeft, this.pending.length);
      const data = Math.max(0, Math.min(size, this.chunkLeft - 2));
      if (data > 0) this.report(this.pending.subarray(0, data));
      this.pending = this.pending.subarray(size);
      this.chunkLeft -= size;
      return this.pending.length > 0;
    }
    const lineEnd = this.pending.indexOf('\r\n');
    if (lineEnd === -1) return false;
    const size = parseInt(this.pending.toString('latin1', 0, lineEnd), 16);
    if (size === 0) {
      if (this.pending.length < lineEnd + 4) return false; // no trailers from the servers under test
      this.pending = this.pending.subarray(lineEnd + 4);
      this.finish();
      return true;
    }
    this.pending = this.pending.subarray(lineEnd + 2);
    this.chunkLeft = size + 2;
    return true;
  }

  private take(size: number): boolean {
    if (size > 0) this.report(this.pending.subarray(0, size));
    this.pending = this.pending.subarray(size);
    this.left -= size;
    return true;
  }

  private report(bytes: Buffer): void {
    const copy = Buffer.from(bytes);
    this.body.push(copy);
    this.onBody(this.responses.length, copy);
  }

  private finish(): void {
    const head = this.head!;
    this.responses.push({ ...head, body: Buffer.concat(this.body), framing: this.framing });
    this.head = null;
    this.body = [];
    this.framing = 'none';
    this.left = 0;
  }
}

/** Sends `request` on a new connection to 127.0.0.1:`port` and reads `count` responses (or to the close). */
export function rawExchange(port: number, request: string | Buffer, options: RawOptions = {}): Promise<RawExchange> {
  const count = options.count ?? 1;
  const parser = new ResponseParser(options.heads ?? [], options.onBody ?? (() => {}));
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    let closedByClient = false;
    let error: string | null = null;
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      closedByClient = true;
      socket.destroy();
    }, options.timeoutMs ?? TIMEOUT_MS_DEFAULT);
    socket.on('connect', () => {
      socket.write(request);
      if (options.destroyAfterWrite === true) {
        closedByClient = true;
        socket.destroy();
      }
    });
    socket.on('data', (part: Buffer) => {
      parser.push(part);
      if (parser.responses.length >= count) {
        closedByClient = true;
        socket.destroy();
      }
    });
    socket.on('error', (failure: NodeJS.ErrnoException) => (error = failure.code ?? failure.message));
    socket.on('close', () => {
      clearTimeout(timer);
      if (!closedByClient) parser.end();
      resolve({ responses: parser.responses, closedByServer: !closedByClient, error, timedOut });
    });
  });
}
