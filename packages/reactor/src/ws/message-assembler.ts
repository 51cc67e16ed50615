/**
 * One socket's incoming message, from the pieces a FrameParser hands over
 * to the bytes the message handler gets.
 *
 * An uncompressed message that lies whole in one read is a view of the
 * chunk (valid during the handler's call, as onData's views); one that
 * spans reads is copied piece by piece and joined into one Buffer. A
 * compressed message (RSV1 under permessage-deflate) is gathered the same
 * way, its last piece read in place, copied once behind the others into
 * the inflater's input, and inflated in the turn its last byte arrived
 * (deflate.ts): a Buffer of its own, checked as UTF-8 when it is text
 * (the parser checks only uncompressed text, as it arrives).
 */
import { CLOSE_INVALID_PAYLOAD } from './close.js';
import { inflateInput, type MessageDeflate } from './deflate.js';
import { WebSocketProtocolError } from './protocol-error.js';
import { isValidUtf8 } from './utf8.js';

/** The message in progress (see above). */
export class MessageAssembler {
  /** The current message is binary (opcode 0x2). */
  binary: boolean;
  private compressed: boolean;
  /** Pieces of a message that spans reads, copied (null while none are kept). */
  private parts: Buffer[] | null;
  private size: number;
  private readonly deflate: MessageDeflate | null;

  /** An assembler for one socket; `deflate` when permessage-deflate was agreed. */
  constructor(deflate: MessageDeflate | null) {
    this.binary = false;
    this.compressed = false;
    this.parts = null;
    this.size = 0;
    this.deflate = deflate;
  }

  /** A message begins: binary or text, compressed or not (the parser allows RSV1 only when deflate was agreed). */
  begin(binary: boolean, compressed: boolean): void {
    this.binary = binary;
    this.compressed = compressed;
    this.size = 0;
  }

  /**
   * A piece data[start..end) of the message; returns the whole message
   * after its `final` piece, null before.
   * @throws WebSocketProtocolError 1009 / 1007 when a compressed message inflates past the bound, does not inflate, or is text that is not UTF-8.
   */
  add(data: Buffer, start: number, end: number, final: boolean): Buffer | null {
    if (!final) {
      if (end > start) {
        (this.parts ??= []).push(Buffer.from(data.subarray(start, end)));
        this.size += end - start;
      }
      return null;
    }
    const parts = this.parts;
    this.parts = null;
    if (this.compressed) return this.inflate(parts, data, start, end);
    if (parts === null) return data.subarray(start, end); // whole in one read: a view
    if (end > start) parts.push(Buffer.from(data.subarray(start, end)));
    return parts.length === 1 ? parts[0]! : Buffer.concat(parts, this.size + end - start);
  }

  /** Forgets the pieces kept (the socket is closing: what still comes is dropped). */
  drop(): void {
    this.parts = null;
  }

  /** The compressed message: the kept pieces and the last one copied into the inflater's input, inflated, checked. */
  private inflate(parts: Buffer[] | null, data: Buffer, start: number, end: number): Buffer {
    const input = inflateInput(this.size + end - start);
    let offset = 0;
    if (parts !== null) {
      for (const part of parts) offset += part.copy(input, offset);
    }
    data.copy(input, offset, start, end);
    const message = this.deflate!.inflate(input);
    if (!this.binary && !isValidUtf8(message)) throw new WebSocketProtocolError(CLOSE_INVALID_PAYLOAD, 'text message is not UTF-8 once inflated');
    return message;
  }
}
