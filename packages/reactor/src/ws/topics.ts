/**
 * Topics (publish/subscribe) of one server's sockets. A publish encodes
 * its frame once and writes the same bytes to every subscriber: a server
 * frame is unmasked, so it is the same for all. Each subscriber applies
 * its own backpressure policy (session.ts: a socket over maxBackpressure
 * is skipped, or closed), so a slow subscriber neither slows the others
 * nor holds more than its own bound. A client's frames are masked with a
 * fresh key each (RFC 6455 §5.3), so a client socket's publish encodes
 * (and compresses) per subscriber.
 *
 * Under permessage-deflate a server's publish compresses once per window
 * size among its subscribers (almost always one: the server's), with no
 * window of past messages, so the same frame suits every subscriber that
 * inflates with at least that window, whether or not it takes context
 * over: one that does slides its send window over the message as if it
 * had compressed it itself (deflate.ts), since its peer's inflater does.
 * The price: a published message does not use the messages before it as
 * its dictionary.
 */
import { deflateShared } from './deflate.js';
import type { ResolvedDeflateOptions } from './deflate-options.js';
import type { FrameEncoder } from './frame-encoder.js';
import type { Opcode } from './wire.js';

/** What a topic holds: a socket's session, which sends a ready frame or a payload of its own. */
export interface Subscriber {
  /** Writes an encoded frame as it is (the policy applies); `compressedFrom`: its payload, when the frame is compressed. True when it was queued. */
  sendFrame(frame: Buffer, compressedFrom: Uint8Array | null): boolean;
  /** Encodes (and compresses, when `compress` and agreed) and writes a payload: a client's masked frame. True when it was queued. */
  sendPayload(opcode: Opcode, payload: Uint8Array, compress: boolean): boolean;
  /** The window a shared compressed frame of `size` bytes needs for this subscriber, or 0 when it gets the message uncompressed. */
  sharedWindowBits(size: number, compress: boolean): number;
}

/** A compressed frame per window size, made at most once per publish; null: that window does not shrink the message. */
type CompressedFrames = Array<Buffer | null | undefined>;

/** The subscribers of each topic: a Set per topic, removed when it empties. */
export class Topics {
  private readonly subscribers: Map<string, Set<Subscriber>>;
  private readonly encoder: FrameEncoder;
  private readonly deflate: ResolvedDeflateOptions | null;

  /** An empty registry whose frames `encoder` makes, compressed under `deflate` (a server's options) when agreed. */
  constructor(encoder: FrameEncoder, deflate: ResolvedDeflateOptions | null = null) {
    this.subscribers = new Map();
    this.encoder = encoder;
    this.deflate = deflate;
  }

  /** Adds `subscriber` to `topic`; false when it was there already. */
  add(topic: string, subscriber: Subscriber): boolean {
    let set = this.subscribers.get(topic);
    if (set === undefined) {
      set = new Set();
      this.subscribers.set(topic, set);
    }
    if (set.has(subscriber)) return false;
    set.add(subscriber);
    return true;
  }

  /** Removes `subscriber` from `topic`; false when it was not there. */
  remove(topic: string, subscriber: Subscriber): boolean {
    const set = this.subscribers.get(topic);
    if (set === undefined || !set.delete(subscriber)) return false;
    if (set.size === 0) this.subscribers.delete(topic);
    return true;
  }

  /** Sockets subscribed to `topic`. */
  count(topic: string): number {
    return this.subscribers.get(topic)?.size ?? 0;
  }

  /**
   * Sends payload as one message to every subscriber of `topic` but
   * `except` (compressed where agreed, unless `compress` is false);
   * returns how many took it (were not dropped for backpressure).
   */
  publish(topic: string, opcode: Opcode, payload: Uint8Array, except: Subscriber | null, compress: boolean = true): number {
    const set = this.subscribers.get(topic);
    if (set === undefined) return 0;
    let sent = 0;
    if (this.encoder.masked) {
      for (const subscriber of set) if (subscriber !== except && subscriber.sendPayload(opcode, payload, compress)) sent += 1;
      return sent;
    }
    let plain: Buffer | null = null;
    let compressed: CompressedFrames | null = null;
    for (const subscriber of set) {
      if (subscriber === except) continue;
      const bits = this.deflate === null ? 0 : subscriber.sharedWindowBits(payload.length, compress);
      let frame: Buffer | null | undefined = null;
      if (bits !== 0) {
        compressed ??= [];
        frame = compressed[bits];
        if (frame === undefined) frame = compressed[bits] = this.compressedFrame(opcode, payload, bits);
      }
      if (frame !== null) {
        if (subscriber.sendFrame(frame, payload)) sent += 1;
      } else if (subscriber.sendFrame((plain ??= this.encoder.frame(opcode, payload)), null)) {
        sent += 1;
      }
    }
    return sent;
  }

  /** The payload compressed alone with a `bits` window, as a frame; null when that does not shrink it. */
  private compressedFrame(opcode: Opcode, payload: Uint8Array, bits: number): Buffer | null {
    const compressed = deflateShared(payload, bits, this.deflate!);
    return compressed === null ? null : this.encoder.frame(opcode, compressed, 0, compressed.length, true, true);
  }
}
