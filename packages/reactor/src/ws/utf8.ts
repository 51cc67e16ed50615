/**
 * UTF-8 validation, incremental and fail-fast, for text messages and close
 * reasons (RFC 6455 §8.1: a text message that is not UTF-8 fails the
 * connection with 1007 as soon as the invalid bytes are seen, even in a
 * fragment before the last; a character split across fragments is fine
 * once completed).
 *
 * A DFA in the manner of Bjoern Hoehrmann's decoder: each byte maps to one
 * of 12 classes, and (state, class) to the next state. The states are the
 * Unicode Standard's table 3-7 (well-formed byte sequences): after E0 the
 * next byte is A0-BF (no overlong), after ED 80-9F (no surrogate), after
 * F0 90-BF (no overlong), after F4 80-8F (nothing above U+10FFFF); C0, C1
 * and F5-FF never occur. So a byte is refused the moment no well-formed
 * sequence can contain it, the same byte at which the WHATWG decoder (and
 * so `new TextDecoder('utf-8', { fatal: true })` with `stream: true`)
 * fails. Long pieces that start on a character boundary go to Node's
 * native `buffer.isUtf8` up to their last whole character.
 */
import { isUtf8 } from 'node:buffer';
import { UTF8_NATIVE_SIZE_MIN } from './limits.js';

const CLASS_COUNT = 12;
/** Byte classes. */
const ASCII = 0;
const CONTINUATION_80_8F = 1;
const CONTINUATION_90_9F = 2;
const CONTINUATION_A0_BF = 3;
const NEVER = 4; // C0, C1, F5-FF
const LEAD_2 = 5; // C2-DF
const LEAD_E0 = 6;
const LEAD_3 = 7; // E1-EC, EE-EF
const LEAD_ED = 8;
const LEAD_F0 = 9;
const LEAD_4 = 10; // F1-F3
const LEAD_F4 = 11;

/** States, premultiplied by CLASS_COUNT so that a transition is one lookup. */
const ACCEPT = 0;
const REJECT = 1 * CLASS_COUNT;
const TAIL_1 = 2 * CLASS_COUNT; // one continuation byte (80-BF) to go
const TAIL_2 = 3 * CLASS_COUNT;
const TAIL_3 = 4 * CLASS_COUNT;
const AFTER_E0 = 5 * CLASS_COUNT; // A0-BF, then TAIL_1
const AFTER_ED = 6 * CLASS_COUNT; // 80-9F, then TAIL_1
const AFTER_F0 = 7 * CLASS_COUNT; // 90-BF, then TAIL_2
const AFTER_F4 = 8 * CLASS_COUNT; // 80-8F, then TAIL_2
const STATE_COUNT = 9;

/** The last byte of 7-bit ASCII: below it no state but ACCEPT changes. */
const ASCII_END = 0x80;
/** Bits that mark a continuation byte (10xxxxxx), and the lead bytes' thresholds. */
const CONTINUATION_MASK = 0xc0;
const CONTINUATION_BITS = 0x80;
const LEAD_3_MIN = 0xe0;
const LEAD_4_MIN = 0xf0;
/** A character is at most 4 bytes: a boundary is at most 3 bytes back. */
const SEQUENCE_SIZE_MAX = 4;

function classOf(byte: number): number {
  if (byte < 0x80) return ASCII;
  if (byte < 0x90) return CONTINUATION_80_8F;
  if (byte < 0xa0) return CONTINUATION_90_9F;
  if (byte < 0xc0) return CONTINUATION_A0_BF;
  if (byte < 0xc2) return NEVER;
  if (byte < 0xe0) return LEAD_2;
  if (byte === 0xe0) return LEAD_E0;
  if (byte === 0xed) return LEAD_ED;
  if (byte < 0xf0) return LEAD_3;
  if (byte === 0xf0) return LEAD_F0;
  if (byte < 0xf4) return LEAD_4;
  if (byte === 0xf4) return LEAD_F4;
  return NEVER;
}

const CLASSES = new Uint8Array(256);
for (let byte = 0; byte < 256; byte += 1) CLASSES[byte] = classOf(byte);

const TRANSITIONS = new Uint8Array(STATE_COUNT * CLASS_COUNT).fill(REJECT);
{
  const set = (state: number, classes: readonly number[], next: number): void => {
    for (const byteClass of classes) TRANSITIONS[state + byteClass] = next;
  };
  const ANY_CONTINUATION = [CONTINUATION_80_8F, CONTINUATION_90_9F, CONTINUATION_A0_BF];
  set(ACCEPT, [ASCII], ACCEPT);
  set(ACCEPT, [LEAD_2], TAIL_1);
  set(ACCEPT, [LEAD_3], TAIL_2);
  set(ACCEPT, [LEAD_4], TAIL_3);
  set(ACCEPT, [LEAD_E0], AFTER_E0);
  set(ACCEPT, [LEAD_ED], AFTER_ED);
  set(ACCEPT, [LEAD_F0], AFTER_F0);
  set(ACCEPT, [LEAD_F4], AFTER_F4);
  set(TAIL_1, ANY_CONTINUATION, ACCEPT);
  set(TAIL_2, ANY_CONTINUATION, TAIL_1);
  set(TAIL_3, ANY_CONTINUATION, TAIL_2);
  set(AFTER_E0, [CONTINUATION_A0_BF], TAIL_1);
  set(AFTER_ED, [CONTINUATION_80_8F, CONTINUATION_90_9F], TAIL_1);
  set(AFTER_F0, [CONTINUATION_90_9F, CONTINUATION_A0_BF], TAIL_2);
  set(AFTER_F4, [CONTINUATION_80_8F], TAIL_2);
}

/**
 * Where bytes[start..end) ends once an unfinished last character is left
 * out: `end`, or the index of that character's lead byte. Only the last
 * three bytes are looked at; anything malformed there is left to the DFA.
 */
function characterBoundary(bytes: Uint8Array, start: number, end: number): number {
  const stop = Math.max(start, end - (SEQUENCE_SIZE_MAX - 1));
  for (let index = end - 1; index >= stop; index -= 1) {
    const byte = bytes[index]!;
    if ((byte & CONTINUATION_MASK) === CONTINUATION_BITS) continue;
    const size = byte < ASCII_END ? 1 : byte >= LEAD_4_MIN ? 4 : byte >= LEAD_3_MIN ? 3 : 2;
    return index + size > end ? index : end;
  }
  return end;
}

/** The DFA's state after bytes[start..end), from `state`; REJECT as soon as a byte is refused. */
function advance(state: number, bytes: Uint8Array, start: number, end: number): number {
  let index = start;
  // Finish a character begun in an earlier piece: at most three bytes.
  while (state !== ACCEPT && index < end) {
    state = TRANSITIONS[state + CLASSES[bytes[index]!]!]!;
    if (state === REJECT) return REJECT;
    index += 1;
  }
  if (end - index >= UTF8_NATIVE_SIZE_MIN) {
    const cut = characterBoundary(bytes, index, end);
    if (!isUtf8(new Uint8Array(bytes.buffer, bytes.byteOffset + index, cut - index))) return REJECT;
    index = cut;
  }
  for (; index < end; index += 1) {
    const byte = bytes[index]!;
    if (byte < ASCII_END && state === ACCEPT) continue;
    state = TRANSITIONS[state + CLASSES[byte]!]!;
    if (state === REJECT) return REJECT;
  }
  return state;
}

/**
 * An incremental UTF-8 check for one text message (or one close reason):
 * write() its pieces in order as they arrive; it answers false at the
 * first piece holding a byte no well-formed text could hold, and from then
 * on. `complete` says whether the text so far also ends on a character
 * boundary, which a message's last piece must. One validator is reused for
 * a connection's messages (reset() between them): no garbage per message.
 */
export class Utf8Validator {
  private state: number;

  /** A validator at the start of a text. */
  constructor() {
    this.state = ACCEPT;
  }

  /** False once an invalid byte was seen. */
  get valid(): boolean {
    return this.state !== REJECT;
  }

  /** True when the text so far is valid and ends on a character boundary (no character left unfinished). */
  get complete(): boolean {
    return this.state === ACCEPT;
  }

  /**
   * Checks the next piece, bytes[start..end) (`start`, `end` integers
   * within `bytes`). False when the text is (or already was) invalid: a
   * character split across pieces is valid once its last piece completes it.
   */
  write(bytes: Uint8Array, start: number = 0, end: number = bytes.length): boolean {
    if (this.state === REJECT) return false;
    this.state = advance(this.state, bytes, start, end);
    return this.state !== REJECT;
  }

  /** Starts a new text. */
  reset(): void {
    this.state = ACCEPT;
  }
}

/** True when bytes[start..end) is well-formed UTF-8, every character whole: a close reason, or a whole text message. */
export function isValidUtf8(bytes: Uint8Array, start: number = 0, end: number = bytes.length): boolean {
  return advance(ACCEPT, bytes, start, end) === ACCEPT;
}
