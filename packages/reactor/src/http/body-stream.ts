/**
 * A request body that streams: parts queue here as the parser hands them
 * over and leave through an async iterator. Above the high-water mark the
 * producer is told to stop (the connection pauses reading, as a Node
 * stream's push() returning false would); once the reader has taken the
 * queue below it, the producer is told to go on.
 */
import { ZepollError } from '../errors.js';

/** Bytes queued before the producer pauses: one read quota's worth. */
export const BODY_HIGH_WATER_MARK = 64 * 1024;

/** What the stream tells its producer (the HTTP exchange). */
export interface BodyProducer {
  /** The reader is behind: stop reading from the socket. */
  pauseBody(): void;
  /** The reader caught up: read on. */
  resumeBody(): void;
}

const DONE: IteratorResult<Buffer> = { done: true, value: undefined };

export class BodyStream {
  private readonly parts: Buffer[];
  private queued: number;
  private ended: boolean;
  private error: Error | null;
  private iterated: boolean;
  private paused: boolean;
  private waiting: { resolve: (result: IteratorResult<Buffer>) => void; reject: (error: Error) => void } | null;
  private readonly producer: BodyProducer | null;

  constructor(producer: BodyProducer | null) {
    this.parts = [];
    this.queued = 0;
    this.ended = false;
    this.error = null;
    this.iterated = false;
    this.paused = false;
    this.waiting = null;
    this.producer = producer;
  }

  /** A stream of one part, already ended (a buffered body read the same way). */
  static once(body: Uint8Array): BodyStream {
    const stream = new BodyStream(null);
    if (body.byteLength > 0) stream.push(Buffer.from(body.buffer, body.byteOffset, body.byteLength));
    stream.end();
    return stream;
  }

  push(part: Buffer): void {
    if (this.ended || this.error !== null) return;
    const waiting = this.waiting;
    if (waiting !== null) {
      this.waiting = null;
      waiting.resolve({ done: false, value: part });
      return;
    }
    this.parts.push(part);
    this.queued += part.byteLength;
    if (this.queued >= BODY_HIGH_WATER_MARK && !this.paused && this.producer !== null) {
      this.paused = true;
      this.producer.pauseBody();
    }
  }

  end(): void {
    if (this.ended) return;
    this.ended = true;
    const waiting = this.waiting;
    if (waiting !== null && this.parts.length === 0) {
      this.waiting = null;
      waiting.resolve(DONE);
    }
  }

  /** The connection closed first: a reader waiting (or coming later) gets `error`. */
  fail(error: Error): void {
    if (this.ended || this.error !== null) return;
    this.error = error;
    this.parts.length = 0;
    this.queued = 0;
    const waiting = this.waiting;
    if (waiting !== null) {
      this.waiting = null;
      waiting.reject(error);
    }
  }

  /**
   * Nobody will read the rest (the response finished without it): what is
   * queued is dropped and the producer goes on, so the next request can be
   * parsed behind this body.
   */
  discard(): void {
    this.parts.length = 0;
    this.queued = 0;
    this.ended = true;
    this.resumeProducer();
  }

  iterator(): AsyncIterator<Buffer> {
    if (this.iterated) throw new ZepollError('ERR_ZEPOLL_HTTP_RESPONSE', 'a request body can be read once');
    this.iterated = true;
    return { next: () => this.next() };
  }

  private next(): Promise<IteratorResult<Buffer>> {
    if (this.error !== null) return Promise.reject(this.error);
    const part = this.parts.shift();
    if (part !== undefined) {
      this.queued -= part.byteLength;
      if (this.queued < BODY_HIGH_WATER_MARK) this.resumeProducer();
      return Promise.resolve({ done: false, value: part });
    }
    if (this.ended) return Promise.resolve(DONE);
    this.resumeProducer();
    return new Promise((resolve, reject) => {
      this.waiting = { resolve, reject };
    });
  }

  private resumeProducer(): void {
    if (!this.paused) return;
    this.paused = false;
    this.producer!.resumeBody();
  }
}
