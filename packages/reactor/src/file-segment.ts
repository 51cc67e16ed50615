/**
 * Part of a file queued on a connection: sent with sendfile(2) from the
 * page cache to the socket, never entering JavaScript memory. The write
 * queue (write-queue.ts) holds it in order with buffers and settles its
 * promise.
 */
import type { Backend } from './backend/backend.js';
import { IO_SIZE_MAX } from './limits.js';
import { errnoError, ZepollRangeError } from './errors.js';
import { EAGAIN, EINTR, EINTR_RETRIES_MAX, EIO } from './errno.js';

/** send(): every byte went. */
export const SEGMENT_SENT = 0;
/** send(): the socket is full; the rest goes when it is writable. */
export const SEGMENT_BLOCKED = 1;

/** Part of a file to send: `remaining` bytes from `offset`. */
export class FileSegment {
  readonly fd: number;
  offset: number;
  remaining: number;
  sent: number;
  readonly resolve: (sent: number) => void;
  readonly reject: (error: Error) => void;

  constructor(fd: number, offset: number, length: number, resolve: (sent: number) => void, reject: (error: Error) => void) {
    this.fd = fd;
    this.offset = offset;
    this.remaining = length;
    this.sent = 0;
    this.resolve = resolve;
    this.reject = reject;
  }

  /**
   * Sends what is left to socket `fd` through `backend`: SEGMENT_SENT,
   * SEGMENT_BLOCKED, or a negative errno after rejecting the segment (EIO
   * when the file ended before its length: the peer was promised bytes that
   * do not exist, so the connection cannot go on). `sent` counts what went.
   */
  send(backend: Backend, fd: number): number {
    let interrupted = 0;
    while (this.remaining > 0) {
      const rc = backend.sendFile(fd, this.fd, this.offset, Math.min(this.remaining, IO_SIZE_MAX));
      if (rc === EAGAIN) return SEGMENT_BLOCKED;
      if (rc === EINTR && interrupted < EINTR_RETRIES_MAX) {
        interrupted += 1;
        continue;
      }
      if (rc < 0) {
        this.reject(errnoError(rc, 'sendfile', this.fd));
        return rc;
      }
      if (rc === 0) {
        this.reject(new ZepollRangeError('ERR_OUT_OF_RANGE', `the file ended ${this.remaining} bytes before the length asked`));
        return EIO;
      }
      this.offset += rc;
      this.remaining -= rc;
      this.sent += rc;
    }
    return SEGMENT_SENT;
  }
}
