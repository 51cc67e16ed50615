/**
 * The io_uring backend's completions as the addon copies them out: four
 * words each (fd, generation, op | flags | buffer id << 16, result) in one
 * array reused by every reap, and the reaps of a turn (bounded, so one
 * turn cannot spin on a busy ring).
 */
import type { NativePoller } from '../native.js';
import { errnoError } from '../errors.js';

/** Completions copied out per reap: the words array holds this many. */
export const COMPLETIONS_PER_REAP = 1024;
/** Words per completion: fd, generation, op | flags, result (native/limits.zig's completion_words). */
export const COMPLETION_WORDS = 4;
/** Reaps in one turn, at most (each takes up to COMPLETIONS_PER_REAP). */
export const COMPLETION_REAPS_MAX = 8;
/** The op of a completion's flags word (RING_OP); its bits 16-31 are the buffer id. */
const OP_MASK = 0xff;
const BUFFER_ID_SHIFT = 16;

export class RingCompletions {
  private readonly poller: NativePoller;
  private readonly words: Int32Array;
  /** Reaps in this turn, and how many the last one copied. */
  private reaps: number;
  private lastCount: number;

  constructor(poller: NativePoller) {
    this.poller = poller;
    this.words = new Int32Array(COMPLETIONS_PER_REAP * COMPLETION_WORDS);
    this.reaps = 0;
    this.lastCount = 0;
  }

  /** A turn begins: its reaps are counted from 0. */
  beginTurn(): void {
    this.reaps = 0;
  }

  /** The turn may reap again. */
  get canReap(): boolean {
    return this.reaps < COMPLETION_REAPS_MAX;
  }

  /** The last reap filled the array: more may wait. */
  get full(): boolean {
    return this.lastCount === COMPLETIONS_PER_REAP;
  }

  /**
   * Submits what is queued and copies what completed: the count.
   * @throws ZepollSystemError when io_uring_enter fails.
   */
  reap(): number {
    this.reaps += 1;
    const count = this.poller.ringReap(this.words);
    this.lastCount = count > 0 ? count : 0;
    if (count < 0) throw errnoError(count, 'io_uring_enter');
    return count;
  }

  fd(index: number): number {
    return this.words[index * COMPLETION_WORDS]!;
  }

  generation(index: number): number {
    return this.words[index * COMPLETION_WORDS + 1]! >>> 0;
  }

  /** RING_OP of completion `index`. */
  op(index: number): number {
    return this.words[index * COMPLETION_WORDS + 2]! & OP_MASK;
  }

  /** RING_MORE, RING_BUFFER and the buffer id, as the flags word has them. */
  flags(index: number): number {
    return this.words[index * COMPLETION_WORDS + 2]!;
  }

  /** Bytes (or a new fd), 0, or -errno. */
  result(index: number): number {
    return this.words[index * COMPLETION_WORDS + 3]!;
  }

  /** The pool chunk a receive used (its buffer id). */
  chunk(index: number): number {
    return this.words[index * COMPLETION_WORDS + 2]! >>> BUFFER_ID_SHIFT;
  }
}
