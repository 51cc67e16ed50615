/**
 * A streaming reader of HTTP/1.1 responses on one connection, for tests
 * that count what a server sent: Content-Length and chunked bodies, any
 * split of the bytes, bodies hashed as they arrive (never held whole, so
 * hundreds of large responses fit in a test process). 1xx heads are
 * skipped.
 */
import { createHash, type Hash } from 'node:crypto';
import { BYTES_PATTERN } from '../../packages/examples/src/servers/http-routes.js';

export interface ReadResponse {
  readonly status: number;
  readonly length: number;
  readonly sha256: string;
}

const HEAD_SIZE_MAX = 64 * 1024;

export class ResponseReader {
  /** Complete responses, in order. */
  readonly responses: ReadResponse[] = [];
  private pending: Buffer = Buffer.alloc(0);
  private status = 0;
  private hash: Hash | null = null;
  private length = 0;
  /** Content-Length bytes left, or -1 when chunked. */
  private bodyLeft = 0;
  /** Chunked: bytes left of the current chunk plus its CRLF (0: a size line is next). */
  private chunkLeft = 0;
  private inBody = false;

  /** True when no response is partly in. */
  get atBoundary(): boolean {
    return !this.inBody && this.pending.length === 0;
  }

  push(part: Buffer): void {
    let bytes = this.pending.length === 0 ? part : Buffer.concat([this.pending, part]);
    this.pending = Buffer.alloc(0);
    while (bytes.length > 0) {
      if (!this.inBody) {
        const headEnd = bytes.indexOf('\r\n\r\n');
        if (headEnd === -1) {
          if (bytes.length > HEAD_SIZE_MAX) throw new Error('a response head over 64 KiB');
          this.pending = Buffer.from(bytes);
          return;
        }
        const head = bytes.toString('latin1', 0, headEnd);
        bytes = bytes.subarray(headEnd + 4);
        const status = Number(/^HTTP\/1\.[01] (\d{3}) /.exec(head)?.[1]);
        if (!(status >= 100)) throw new Error(`not a response head: ${JSON.stringify(head.slice(0, 100))}`);
        if (status < 200) continue;
        this.status = status;
        this.hash = createHash('sha256');
        this.length = 0;
        this.inBody = true;
        this.chunkLeft = 0;
        this.bodyLeft = /\r\ntransfer-encoding: chunked/i.test(head) ? -1 : Number(/\r\ncontent-length: (\d+)/i.exec(head)?.[1] ?? '0');
        if (this.bodyLeft === 0) this.finish();
        continue;
      }
      if (this.bodyLeft > 0) {
        const take = Math.min(this.bodyLeft, bytes.length);
        this.body(bytes.subarray(0, take));
        this.bodyLeft -= take;
        bytes = bytes.subarray(take);
        if (this.bodyLeft === 0) this.finish();
        continue;
      }
      if (this.chunkLeft > 0) {
        const take = Math.min(this.chunkLeft, bytes.length);
        this.body(bytes.subarray(0, Math.min(take, Math.max(0, this.chunkLeft - 2)))); // the chunk's CRLF is not body
        this.chunkLeft -= take;
        bytes = bytes.subarray(take);
        continue;
      }
      const lineEnd = bytes.indexOf('\r\n');
      if (lineEnd === -1) {
        this.pending = Buffer.from(bytes);
        return;
      }
      const size = parseInt(bytes.toString('latin1', 0, lineEnd), 16);
      if (Number.isNaN(size)) throw new Error('a bad chunk-size line');
      if (size === 0) {
        // The last chunk; no trailers are sent by the servers under test.
        if (bytes.length < lineEnd + 4) {
          this.pending = Buffer.from(bytes);
          return;
        }
        bytes = bytes.subarray(lineEnd + 4);
        this.finish();
        continue;
      }
      bytes = bytes.subarray(lineEnd + 2);
      this.chunkLeft = size + 2;
    }
  }

  private body(data: Buffer): void {
    this.hash!.update(data);
    this.length += data.length;
  }

  private finish(): void {
    this.responses.push({ status: this.status, length: this.length, sha256: this.hash!.digest('hex') });
    this.hash = null;
    this.inBody = false;
  }
}

/** The sha256 of the body `GET /bytes/<total>` sends (BYTES_PATTERN repeated), as ResponseReader reports it. */
export function bytesRouteSha256(total: number): string {
  const hash = createHash('sha256');
  for (let sent = 0; sent < total; sent += BYTES_PATTERN.length) hash.update(BYTES_PATTERN.subarray(0, Math.min(BYTES_PATTERN.length, total - sent)));
  return hash.digest('hex');
}
