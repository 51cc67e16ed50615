/**
 * Topics (publish/subscribe) of one server's sockets. A publish encodes
 * its frame once and writes the same bytes to every subscriber: a server
 * frame is unmasked, so it is the same for all. Each subscriber applies
 * its own backpressure policy (session.ts: a socket over maxBackpressure
 * is skipped, or closed), so a slow subscriber neither slows the others
 * nor holds more than its own bound. A client's frames are masked with a
 * fresh key each (RFC 6455 §5.3), so a client socket's publish encodes
 * per subscriber.
 */
import type { FrameEncoder } from './frame-encoder.js';
import type { Opcode } from './wire.js';

/** What a topic holds: a socket's session, which sends a ready frame or a payload of its own. */
export interface Subscriber {
  /** Writes an encoded frame of `size` payload bytes as it is (the policy applies); true when it was queued. */
  sendFrame(frame: Buffer): boolean;
  /** Encodes and writes a payload (a client's masked frame); true when it was queued. */
  sendPayload(opcode: Opcode, payload: Uint8Array): boolean;
}

/** The subscribers of each topic: a Set per topic, removed when it empties. */
export class Topics {
  private readonly subscribers: Map<string, Set<Subscriber>>;
  private readonly encoder: FrameEncoder;

  /** An empty registry whose frames `encoder` makes. */
  constructor(encoder: FrameEncoder) {
    this.subscribers = new Map();
    this.encoder = encoder;
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
   * `except`; returns how many took it (were not dropped for backpressure).
   */
  publish(topic: string, opcode: Opcode, payload: Uint8Array, except: Subscriber | null): number {
    const set = this.subscribers.get(topic);
    if (set === undefined) return 0;
    let sent = 0;
    if (this.encoder.masked) {
      for (const subscriber of set) if (subscriber !== except && subscriber.sendPayload(opcode, payload)) sent += 1;
      return sent;
    }
    const frame = this.encoder.frame(opcode, payload);
    for (const subscriber of set) if (subscriber !== except && subscriber.sendFrame(frame)) sent += 1;
    return sent;
  }
}
