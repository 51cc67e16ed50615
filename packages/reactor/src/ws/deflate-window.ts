/**
 * The LZ77 window one direction of a socket carries from message to
 * message under context takeover (RFC 7692 §7.2.1, §7.2.2): the last
 * 2^windowBits bytes of the uncompressed data of the messages that
 * direction compressed, oldest first. An inflater's whole state between
 * two messages is this window (the trailer's empty stored block leaves it
 * on a byte boundary between blocks), so a message compressed or
 * inflated in one call with the window as its preset dictionary is the
 * same on the wire as one through a stream kept open (deflate.ts).
 *
 * One buffer of exactly the window's size, made once: a message shifts
 * the bytes it does not replace towards the start (one memmove of at most
 * the window) and is copied in behind them.
 */

/** The last `size` bytes of a direction's compressed messages' data (see above). */
export class DeflateWindow {
  private readonly bytes: Buffer;
  private filled: number;

  /** An empty window of `size` bytes (2^windowBits). */
  constructor(size: number) {
    // Not from Node's shared pool: the window is this socket's alone, for as long as it lives.
    this.bytes = Buffer.allocUnsafeSlow(size);
    this.filled = 0;
  }

  /** Bytes held: the window's size once that much has gone through it. */
  get size(): number {
    return this.filled;
  }

  /** The window's bytes, oldest first, as a preset dictionary; undefined while empty. */
  dictionary(): Buffer | undefined {
    const capacity = this.bytes.length;
    if (this.filled === capacity) return this.bytes; // the common case, no view made
    return this.filled === 0 ? undefined : this.bytes.subarray(capacity - this.filled);
  }

  /** Slides the window over `data`, the uncompressed bytes of the next message. */
  append(data: Uint8Array): void {
    const capacity = this.bytes.length;
    const count = data.length;
    if (count >= capacity) {
      this.bytes.set(data.subarray(count - capacity));
      this.filled = capacity;
      return;
    }
    const kept = Math.min(this.filled, capacity - count);
    this.bytes.copyWithin(capacity - count - kept, capacity - kept, capacity);
    this.bytes.set(data, capacity - count);
    this.filled = kept + count;
  }
}
