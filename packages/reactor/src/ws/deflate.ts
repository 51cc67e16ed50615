/**
 * permessage-deflate's data (RFC 7692 §7.2): one socket's compression
 * both ways (MessageDeflate), and the one-call deflate a publish shares.
 *
 * Synchronous, on the loop thread, as uWS.js and Bun do it, not in
 * libuv's thread pool as the `ws` package does. A message is inflated in
 * the turn its last byte arrives and compressed inside send(): messages
 * keep their order with no queue per socket, a message lying in a pooled
 * chunk is read before the chunk goes back, send() answers its status at
 * once as without compression, and there is no thread-pool round trip
 * per message nor a limiter against the pool's memory fragmentation (ws
 * issue 1202). The price: a large message holds the loop while it is
 * (de)compressed, about 6-18 ms per MiB of text at level 6;
 * maxPayloadLength bounds it, `compress: false` skips it.
 *
 * One call per message, not a zlib stream per socket: Node's zlib has no
 * synchronous stream (its sync calls end their stream), so context
 * takeover is the window a direction carried (deflate-window.ts) given as
 * the call's preset dictionary, which is what the peer's inflater holds.
 * So a socket keeps only those windows (64 KiB at 15 bits both ways,
 * against about 245 KiB of zlib streams per socket in `ws`), and zlib's
 * state (about 256 KiB to deflate at 15 bits and memLevel 8) exists
 * during a call only. What a window costs instead is its load, per
 * message: deflateSetDictionary hashes it, so a small message takes about
 * 65 us to compress with a 32 KiB window against 20 us alone and 25 us
 * with a 4 KiB one; an inflater's load is a copy. A zlib stream round
 * trip, for comparison, takes about 70 us. (bench/dist/deflate-micro.js
 * and ws-deflate-memory.js in the repository, whose benchmark notes have the runs.)
 *
 * Compressing: Z_SYNC_FLUSH, so the output ends with an empty stored
 * block, whose last 4 bytes (00 00 ff ff) are removed (§7.2.1); a message
 * that does not get smaller goes out uncompressed (RSV1 is each message's
 * choice), and stays out of the window. Inflating: the 4 bytes appended
 * (§7.2.2), the output bounded by maxPayloadLength as it is made, so a
 * zip bomb fails with 1009 after at most that many bytes (and one 16 KiB
 * chunk), and data that does not inflate with 1007, as `ws` does.
 */
import { constants as bufferConstants } from 'node:buffer';
import { constants as zlibConstants, deflateRawSync, inflateRawSync, type ZlibOptions } from 'node:zlib';
import { CLOSE_INVALID_PAYLOAD, CLOSE_MESSAGE_TOO_BIG } from './close.js';
import { DEFLATE_WINDOW_BITS_MIN, type ResolvedDeflateOptions } from './deflate-options.js';
import { DeflateWindow } from './deflate-window.js';
import { INFLATE_SCRATCH_SIZE_MAX } from './limits.js';
import type { PerMessageDeflateAgreement } from './permessage-deflate.js';
import { WebSocketProtocolError } from './protocol-error.js';
import type { WebSocketRole } from './wire.js';

const { Z_SYNC_FLUSH } = zlibConstants;

/** The end of an empty stored block: removed by the sender, appended by the receiver (§7.2.1, §7.2.2). */
export const DEFLATE_TRAILER = Buffer.from([0x00, 0x00, 0xff, 0xff]);
const TRAILER_SIZE = DEFLATE_TRAILER.length;
/** What zlib's one-call functions take; `dictionary` set per call where a window is kept. */
type ZlibCall = ZlibOptions & { dictionary?: Buffer | undefined };

/** `payload` deflated in one call under `options`, its trailer removed; null when that is not smaller. */
function deflateWith(payload: Uint8Array, options: ZlibCall): Buffer | null {
  const output = deflateRawSync(payload, options);
  const size = output.length - TRAILER_SIZE;
  return size < payload.length ? output.subarray(0, size) : null;
}

/**
 * `payload` deflated alone (no window) with `windowBits`, for any number
 * of sockets whose peers inflate with at least that window: a publish
 * compresses once per window size. Null when it does not get smaller.
 */
export function deflateShared(payload: Uint8Array, windowBits: number, options: ResolvedDeflateOptions): Buffer | null {
  return deflateWith(payload, { finishFlush: Z_SYNC_FLUSH, windowBits, level: options.level, memLevel: options.memLevel });
}

let scratch = Buffer.alloc(0);

/**
 * A buffer for `size` compressed bytes and the trailer: the thread's
 * scratch buffer (reused; valid until the next call) up to
 * INFLATE_SCRATCH_SIZE_MAX, a buffer of its own above.
 */
export function inflateInput(size: number): Buffer {
  const total = size + TRAILER_SIZE;
  if (total > INFLATE_SCRATCH_SIZE_MAX) return Buffer.allocUnsafe(total);
  if (scratch.length < total) scratch = Buffer.allocUnsafeSlow(Math.min(INFLATE_SCRATCH_SIZE_MAX, Math.max(total, scratch.length * 2)));
  return scratch.subarray(0, total);
}

/** One socket's permessage-deflate, both directions, under the agreed terms (see above). */
export class MessageDeflate {
  /** The window this end compresses with; 0 when it sends every message uncompressed (told a window under 9). */
  readonly sendWindowBits: number;
  private readonly sendTakeover: boolean;
  private readonly receiveWindowBits: number;
  private readonly receiveTakeover: boolean;
  private readonly threshold: number;
  private readonly inflatedSizeMax: number;
  /** The windows carried between messages, made at each direction's first compressed message. */
  private sendWindow: DeflateWindow | null;
  private receiveWindow: DeflateWindow | null;
  /** The options of every call, made once; `dictionary` is set per call under context takeover. */
  private readonly deflateCall: ZlibCall;
  private readonly inflateCall: ZlibCall;

  /** The codec for one socket of `role` under `agreement`; inflated messages bounded by `inflatedSizeMax`. */
  constructor(agreement: PerMessageDeflateAgreement, role: WebSocketRole, options: ResolvedDeflateOptions, inflatedSizeMax: number) {
    const server = role === 'server';
    const sendBits = server ? agreement.serverMaxWindowBits : agreement.clientMaxWindowBits;
    this.sendWindowBits = sendBits < DEFLATE_WINDOW_BITS_MIN ? 0 : sendBits;
    this.sendTakeover = !(server ? agreement.serverNoContextTakeover : agreement.clientNoContextTakeover);
    this.receiveWindowBits = server ? agreement.clientMaxWindowBits : agreement.serverMaxWindowBits;
    this.receiveTakeover = !(server ? agreement.clientNoContextTakeover : agreement.serverNoContextTakeover);
    this.threshold = options.threshold;
    this.inflatedSizeMax = Math.min(inflatedSizeMax, bufferConstants.MAX_LENGTH);
    this.sendWindow = null;
    this.receiveWindow = null;
    this.deflateCall = { finishFlush: Z_SYNC_FLUSH, windowBits: this.sendWindowBits, level: options.level, memLevel: options.memLevel, dictionary: undefined };
    this.inflateCall = { finishFlush: Z_SYNC_FLUSH, windowBits: this.receiveWindowBits, maxOutputLength: this.inflatedSizeMax, dictionary: undefined };
  }

  /**
   * `payload` compressed for this socket, with the window it carries (the
   * window then slides over it: the caller sends what this returns), or
   * null to send it uncompressed: under the threshold, no window to
   * compress with, or no smaller compressed.
   */
  compress(payload: Uint8Array): Buffer | null {
    if (payload.length < this.threshold || this.sendWindowBits === 0) return null;
    if (!this.sendTakeover) return deflateWith(payload, this.deflateCall);
    this.deflateCall.dictionary = this.sendWindow?.dictionary();
    const compressed = deflateWith(payload, this.deflateCall);
    if (compressed !== null) (this.sendWindow ??= new DeflateWindow(1 << this.sendWindowBits)).append(payload);
    return compressed;
  }

  /** For a publish: the window a shared compressed frame of `size` bytes needs for this socket, or 0 to send it uncompressed. */
  sharedWindowBits(size: number): number {
    return size < this.threshold ? 0 : this.sendWindowBits;
  }

  /** A shared compressed frame of `payload` went to this socket: the peer's window slid over it, so ours does. */
  sharedSent(payload: Uint8Array): void {
    if (this.sendTakeover) (this.sendWindow ??= new DeflateWindow(1 << this.sendWindowBits)).append(payload);
  }

  /** Bytes held in this socket's windows (for measurements: a socket's deflate memory). */
  get windowBytes(): number {
    return (this.sendWindow === null ? 0 : 1 << this.sendWindowBits) + (this.receiveWindow === null ? 0 : 1 << this.receiveWindowBits);
  }

  /**
   * Inflates a message whose compressed bytes fill `input` (from
   * inflateInput()) but for the last 4, where the trailer goes.
   * @throws WebSocketProtocolError 1009 when it inflates to more than the bound, 1007 when it does not inflate.
   */
  inflate(input: Buffer): Buffer {
    DEFLATE_TRAILER.copy(input, input.length - TRAILER_SIZE);
    const window = this.receiveWindow;
    if (this.receiveTakeover) this.inflateCall.dictionary = window?.dictionary();
    let output: Buffer;
    try {
      output = inflateRawSync(input, this.inflateCall);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') throw new WebSocketProtocolError(CLOSE_MESSAGE_TOO_BIG, `message over ${this.inflatedSizeMax} bytes once inflated`);
      throw new WebSocketProtocolError(CLOSE_INVALID_PAYLOAD, `compressed message does not inflate: ${(error as Error).message}`);
    }
    if (this.receiveTakeover) (this.receiveWindow ??= new DeflateWindow(1 << this.receiveWindowBits)).append(output);
    return output;
  }
}
