/**
 * Limits of the WebSocket codec, as named constants with their reasons.
 * The wire's own bounds (125-byte control payloads, the 14-byte header)
 * are in wire.ts; these are the ones zepoll chooses.
 */

/**
 * Default `messageSizeMax`: bytes of one message as it arrives (all its
 * fragments, compressed bytes if compressed), 16 MiB as Bun's
 * `maxPayloadLength` default. uWS.js defaults to 16 KiB and `ws` to
 * 100 MiB; a larger message fails the connection with 1009 (Message Too Big).
 */
export const MESSAGE_SIZE_MAX = 16 * 1024 * 1024;

/**
 * Bytes of random data drawn at once for client masking keys (2,048 keys
 * per draw): one `crypto.randomFillSync` call serves many frames, as the
 * `ws` package does with its 8 KiB pool, instead of one call per frame.
 */
export const MASK_KEYS_POOL_SIZE = 8 * 1024;

/**
 * Payloads at least this long are (un)masked a 32-bit word at a time
 * (after a byte loop up to the first aligned word); shorter ones byte by
 * byte. Chosen, not measured: below it, the word loop's set-up (a view of
 * the buffer's words, found in a cache) is not paid back.
 */
export const MASK_WORDS_SIZE_MIN = 64;

/**
 * Text pieces at least this long that start on a character boundary are
 * checked by Node's `buffer.isUtf8` (native, SIMD) up to their last
 * complete character, the rest by the DFA. Chosen, not measured: below it,
 * the view and the call into C++ cost more than the DFA's ASCII loop.
 */
export const UTF8_NATIVE_SIZE_MIN = 1024;

/** A close frame's reason is at most 123 bytes: 125 (a control payload) less the 2-byte code (§5.5). */
export const CLOSE_REASON_SIZE_MAX = 123;

/**
 * Default permessage-deflate `threshold`: messages shorter than 1 KiB go
 * out uncompressed, as the `ws` package's default. Below it the bytes
 * saved do not pay for a deflate call (about 20 us for a 228-byte message,
 * 65 us with a 32 KiB window to load: bench/dist/deflate-micro.js).
 */
export const DEFLATE_THRESHOLD_DEFAULT = 1024;

/**
 * A compressed message up to this size is inflated from one buffer of the
 * thread's, reused (its bytes and the 4-byte trailer copied in); a larger
 * one from a buffer of its own. Chosen, not measured: it covers the
 * messages a chat or feed sends without keeping much memory per thread.
 */
export const INFLATE_SCRATCH_SIZE_MAX = 64 * 1024;
