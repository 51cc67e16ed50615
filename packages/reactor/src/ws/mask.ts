/**
 * Masking (RFC 6455 §5.3): payload byte i is XORed with byte (i mod 4) of
 * the frame's 4-byte masking key. A client masks every frame it sends, a
 * server unmasks every frame it receives; the operation is its own inverse.
 *
 * A key travels as one 32-bit number, its first wire byte most
 * significant, so that no frame needs a key buffer. The `phase` of a call
 * is the payload offset (mod 4) its first byte has, so a payload that
 * arrives in several pieces is unmasked piece by piece. Long ranges are
 * XORed a 32-bit word at a time through a Uint32Array over the bytes'
 * ArrayBuffer (one per buffer, cached: pooled chunks share a few large
 * buffers, so steady state makes none).
 *
 * Random keys for client frames come from RandomMaskKeys: one
 * `crypto.randomFillSync` per 2,048 keys, not one call (or buffer) per frame.
 */
import { randomFillSync } from 'node:crypto';
import { MASK_KEYS_POOL_SIZE, MASK_WORDS_SIZE_MIN } from './limits.js';
import { MASK_KEY_SIZE } from './wire.js';

const WORD_SIZE = 4;
const PHASE_MASK = WORD_SIZE - 1;
const BITS_PER_BYTE = 8;
const BYTE_MASK = 0xff;

/** Four key bytes in the order of a payload word, read back as a word in the platform's byte order. */
const keyBytes = new Uint8Array(WORD_SIZE);
const keyWord = new Uint32Array(keyBytes.buffer);
/** The words of each buffer masked a word at a time (weak: a buffer's view goes with it). */
const wordViews = new WeakMap<ArrayBufferLike, Uint32Array>();

/** Byte `phase` (0-3, 0 first on the wire) of `key`. */
function keyByte(key: number, phase: number): number {
  return (key >>> ((PHASE_MASK - (phase & PHASE_MASK)) * BITS_PER_BYTE)) & BYTE_MASK;
}

function wordsOf(buffer: ArrayBufferLike): Uint32Array {
  let words = wordViews.get(buffer);
  if (words === undefined) {
    words = new Uint32Array(buffer, 0, Math.floor(buffer.byteLength / WORD_SIZE));
    wordViews.set(buffer, words);
  }
  return words;
}

/** XORs bytes[start..end) with the key in place, a byte at a time; the phase after. */
function maskBytes(bytes: Uint8Array, start: number, end: number, key: number, phase: number): number {
  for (let index = start; index < end; index += 1) {
    bytes[index] = bytes[index]! ^ keyByte(key, phase);
    phase = (phase + 1) & PHASE_MASK;
  }
  return phase;
}

/** XORs bytes[start..end) with the key in place, aligned words at a time; the phase after. */
function maskWords(bytes: Uint8Array, start: number, end: number, key: number, phase: number): number {
  const misalignment = (bytes.byteOffset + start) & PHASE_MASK;
  const wordsStart = misalignment === 0 ? start : start + WORD_SIZE - misalignment;
  phase = maskBytes(bytes, start, wordsStart, key, phase);
  const wordCount = Math.floor((end - wordsStart) / WORD_SIZE);
  for (let index = 0; index < WORD_SIZE; index += 1) keyBytes[index] = keyByte(key, phase + index);
  const mask = keyWord[0]!;
  const words = wordsOf(bytes.buffer);
  const first = (bytes.byteOffset + wordsStart) / WORD_SIZE;
  const last = first + wordCount;
  for (let word = first; word < last; word += 1) words[word] = words[word]! ^ mask;
  // Whole words leave the phase as it was.
  return maskBytes(bytes, wordsStart + wordCount * WORD_SIZE, end, key, phase);
}

/**
 * XORs bytes[start..end) in place with `key` (its first wire byte most
 * significant), starting at key byte `phase` (the payload offset of
 * `start`, mod 4); returns the phase after `end`. Unmasks a received
 * payload in the chunk it arrived in, or masks a payload a client owns.
 */
export function unmask(bytes: Uint8Array, start: number, end: number, key: number, phase: number = 0): number {
  if (end - start < MASK_WORDS_SIZE_MIN) return maskBytes(bytes, start, end, key, phase);
  return maskWords(bytes, start, end, key, phase);
}

/**
 * Writes source[start..end) XORed with `key` into target from `targetStart`
 * (the source is left as it was); returns the phase after. Short payloads
 * are masked as they are copied; long ones are copied by the engine, then
 * masked in place a word at a time.
 */
export function maskInto(source: Uint8Array, start: number, end: number, target: Uint8Array, targetStart: number, key: number, phase: number = 0): number {
  if (end - start < MASK_WORDS_SIZE_MIN) {
    for (let index = start; index < end; index += 1) {
      target[targetStart + index - start] = source[index]! ^ keyByte(key, phase);
      phase = (phase + 1) & PHASE_MASK;
    }
    return phase;
  }
  target.set(source.subarray(start, end), targetStart);
  return maskWords(target, targetStart, targetStart + end - start, key, phase);
}

/** Writes `key` at bytes[offset..offset + 4), first wire byte first (as in a frame header). */
export function writeMaskKey(bytes: Uint8Array, offset: number, key: number): void {
  for (let index = 0; index < MASK_KEY_SIZE; index += 1) bytes[offset + index] = keyByte(key, index);
}

/** Reads a key from bytes[offset..offset + 4) (a frame header's masking key). */
export function readMaskKey(bytes: Uint8Array, offset: number): number {
  return ((bytes[offset]! << 24) | (bytes[offset + 1]! << 16) | (bytes[offset + 2]! << 8) | bytes[offset + 3]!) >>> 0;
}

/** Where a client's masking keys come from: RandomMaskKeys, or a fixed source in tests. */
export interface MaskKeySource {
  /** The next masking key, as a 32-bit unsigned number (first wire byte most significant). */
  next(): number;
}

/**
 * Masking keys from a strong source (RFC 6455 §5.3 asks for keys a proxy
 * cannot predict), drawn MASK_KEYS_POOL_SIZE bytes at a time into one
 * buffer that is refilled when used up.
 */
export class RandomMaskKeys implements MaskKeySource {
  private readonly pool: Buffer;
  private offset: number;

  /** A source whose first key fills its pool (nothing is drawn before). */
  constructor() {
    // allocUnsafeSlow: a buffer of its own, not a slice of Node's shared pool.
    this.pool = Buffer.allocUnsafeSlow(MASK_KEYS_POOL_SIZE);
    this.offset = MASK_KEYS_POOL_SIZE;
  }

  /** The next key: four fresh random bytes. */
  next(): number {
    if (this.offset === MASK_KEYS_POOL_SIZE) {
      randomFillSync(this.pool);
      this.offset = 0;
    }
    const key = readMaskKey(this.pool, this.offset);
    this.offset += MASK_KEY_SIZE;
    return key;
  }
}

/** The process's key source for client frames. */
export const randomMaskKeys: MaskKeySource = new RandomMaskKeys();
