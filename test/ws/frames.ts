/**
 * Helpers for the WebSocket codec tests: frames built byte by byte from
 * the RFC's layout (not by the encoder under test), a FrameHandler that
 * records what a parser calls, and a parse of chunks that reports the
 * events and the close code of a failure.
 */
import type { FrameHandler } from '../../packages/reactor/src/ws/frame-handler.js';
import { FrameParser, type FrameParserOptions } from '../../packages/reactor/src/ws/frame-parser.js';
import { WebSocketProtocolError } from '../../packages/reactor/src/ws/protocol-error.js';

/** The masking key of RFC 6455 §5.7's examples. */
export const RFC_KEY = 0x37fa213d;

/** One frame, as the wire has it. */
export interface FrameSpec {
  readonly opcode: number;
  readonly payload?: Uint8Array | string;
  /** Default true. */
  readonly fin?: boolean;
  /** RSV bits as they sit in the first byte (0x40, 0x20, 0x10); default 0. */
  readonly rsv?: number;
  /** The masking key, or null for an unmasked frame; default RFC_KEY. */
  readonly mask?: number | null;
  /** The length encoding; default the shortest. Longer ones than needed are legal (RFC 6455 does not forbid them to a receiver). */
  readonly lengthForm?: 7 | 16 | 64;
  /** A length to write instead of the payload's (a lie, for limit tests). */
  readonly declaredLength?: number;
}

/** The bytes of one frame. */
export function frame(spec: FrameSpec): Buffer {
  const payload = typeof spec.payload === 'string' ? Buffer.from(spec.payload, 'utf8') : Buffer.from(spec.payload ?? new Uint8Array(0));
  const length = spec.declaredLength ?? payload.length;
  const form = spec.lengthForm ?? (length <= 125 ? 7 : length <= 0xffff ? 16 : 64);
  const mask = spec.mask === undefined ? RFC_KEY : spec.mask;
  const header: number[] = [(spec.fin === false ? 0 : 0x80) | (spec.rsv ?? 0) | spec.opcode];
  const maskBit = mask === null ? 0 : 0x80;
  if (form === 7) header.push(maskBit | length);
  else if (form === 16) header.push(maskBit | 126, length >>> 8, length & 0xff);
  else {
    const high = Math.floor(length / 2 ** 32);
    const low = length >>> 0;
    header.push(maskBit | 127, high >>> 24, (high >>> 16) & 0xff, (high >>> 8) & 0xff, high & 0xff, low >>> 24, (low >>> 16) & 0xff, (low >>> 8) & 0xff, low & 0xff);
  }
  if (mask !== null) {
    const key = [mask >>> 24, (mask >>> 16) & 0xff, (mask >>> 8) & 0xff, mask & 0xff];
    header.push(...key);
    const masked = payload.map((byte, index) => byte ^ key[index % 4]!);
    return Buffer.concat([Buffer.from(header), masked]);
  }
  return Buffer.concat([Buffer.from(header), payload]);
}

/** What a parser called, in order. */
export type FrameEvent =
  | { readonly type: 'start'; readonly binary: boolean; readonly compressed: boolean }
  | { readonly type: 'data'; readonly bytes: Buffer; readonly final: boolean }
  | { readonly type: 'ping' | 'pong'; readonly bytes: Buffer }
  | { readonly type: 'close'; readonly code: number; readonly reason: string };

/** A FrameHandler that records every call (copies of the bytes: the ranges are valid during the call only). */
export class Recorder implements FrameHandler {
  readonly events: FrameEvent[] = [];
  /** The buffers data arrived in, for zero-copy checks. */
  readonly buffers: Uint8Array[] = [];

  onMessageStart(binary: boolean, compressed: boolean): void {
    this.events.push({ type: 'start', binary, compressed });
  }

  onMessageData(data: Uint8Array, start: number, end: number, final: boolean): void {
    this.buffers.push(data);
    this.events.push({ type: 'data', bytes: Buffer.from(data.subarray(start, end)), final });
  }

  onPing(data: Uint8Array, start: number, end: number): void {
    this.events.push({ type: 'ping', bytes: Buffer.from(data.subarray(start, end)) });
  }

  onPong(data: Uint8Array, start: number, end: number): void {
    this.events.push({ type: 'pong', bytes: Buffer.from(data.subarray(start, end)) });
  }

  onClose(code: number, reason: string): void {
    this.events.push({ type: 'close', code, reason });
  }
}

/** Events with adjacent data pieces joined: what every split of the same bytes must give. */
export function joined(events: readonly FrameEvent[]): FrameEvent[] {
  const result: FrameEvent[] = [];
  for (const event of events) {
    const last = result[result.length - 1];
    if (event.type === 'data' && last?.type === 'data' && !last.final) result[result.length - 1] = { type: 'data', bytes: Buffer.concat([last.bytes, event.bytes]), final: event.final };
    else result.push(event);
  }
  return result;
}

/** What parsing some chunks gave: the events, and the close code of the failure that ended it (null when none). */
export interface ParseResult {
  readonly events: FrameEvent[];
  readonly failure: number | null;
  readonly message: string;
  readonly parser: FrameParser;
}

/** Feeds `chunks` (copied: the parser unmasks in place) to a new parser. */
export function parse(chunks: readonly Uint8Array[], options: FrameParserOptions = { role: 'server' }): ParseResult {
  const recorder = new Recorder();
  const parser = new FrameParser(recorder, options);
  try {
    for (const chunk of chunks) parser.execute(Uint8Array.from(chunk));
  } catch (error) {
    if (!(error instanceof WebSocketProtocolError)) throw error;
    return { events: recorder.events, failure: error.closeCode, message: error.message, parser };
  }
  return { events: recorder.events, failure: null, message: '', parser };
}

/** `bytes` cut at the given offsets (any order, repeats and out-of-range ones folded). */
export function cut(bytes: Uint8Array, cuts: readonly number[]): Uint8Array[] {
  const bounds = [...new Set([0, ...cuts.map((at) => at % (bytes.length + 1)), bytes.length])].sort((a, b) => a - b);
  const pieces: Uint8Array[] = [];
  for (let index = 0; index + 1 < bounds.length; index += 1) pieces.push(bytes.subarray(bounds[index]!, bounds[index + 1]!));
  return pieces;
}
