/**
 * permessage-deflate's options (RFC 7692), as a server or a client is
 * given them, checked once where the server or client is made. The
 * extension is off unless `perMessageDeflate` is given: `true` takes every
 * default, an object sets some.
 *
 * What a socket costs (see deflate.ts for why): zlib's own state is made
 * per message and freed by the same call, one at a time per thread, so it
 * is not a per-socket cost: deflate's is about (1 << (windowBits + 2)) +
 * (1 << (memLevel + 9)) bytes (256 KiB at 15 and 8), inflate's about
 * (1 << windowBits) + 7 KiB. What a socket keeps is the window each
 * direction carries under context takeover: 1 << serverMaxWindowBits bytes
 * for what it sends (none with serverNoContextTakeover) and 1 <<
 * clientMaxWindowBits for what it receives (none with
 * clientNoContextTakeover), each made at that direction's first
 * compressed message. Those windows are the memory bound per socket: 64
 * KiB with every default, none with both no_context_takeover parameters.
 */
import { invalidArgType } from '../errors.js';
import { booleanOption, integerOption, optionsObject } from '../validate.js';
import { DEFLATE_THRESHOLD_DEFAULT } from './limits.js';

/** The largest LZ77 window, 2^15 bytes: deflate's own and the default when nothing limits it. */
export const WINDOW_BITS_MAX = 15;
/** The smallest window RFC 7692 allows in a parameter. */
export const WINDOW_BITS_MIN = 8;
/**
 * The smallest window zepoll deflates with: zlib (since 1.2.9) deflates a
 * raw stream with a 9-bit window when asked for 8, and nothing in its API
 * promises that a peer's 8-bit inflater can follow that (today it can:
 * zlib keeps its distances 262 bytes inside the window, an internal
 * detail). An end told to use 8 (a server by the
 * client's offer, a client by the server's answer) sends its messages
 * uncompressed (RSV1 is each message's choice); both inflate 8-bit
 * windows. A server's own option starts at 9: 8 would compress nothing.
 */
export const DEFLATE_WINDOW_BITS_MIN = 9;
/** zlib's compression levels: 1 fastest, 9 smallest; 6 is zlib's own default (Z_DEFAULT_COMPRESSION). */
export const DEFLATE_LEVEL_MIN = 1;
export const DEFLATE_LEVEL_MAX = 9;
export const DEFLATE_LEVEL_DEFAULT = 6;
/** zlib's memLevel: the hash table and pending buffer sizes, 1 << (memLevel + 9) bytes together; 8 is zlib's default. */
export const DEFLATE_MEM_LEVEL_MIN = 1;
export const DEFLATE_MEM_LEVEL_MAX = 9;
export const DEFLATE_MEM_LEVEL_DEFAULT = 8;

/**
 * permessage-deflate (RFC 7692) for a server's sockets or a client's;
 * each field optional. The four parameters say what a server accepts (or
 * a client offers); the rest are this end's own choices.
 */
export interface PerMessageDeflateOptions {
  /**
   * Server: compress each message alone, with no window kept between
   * messages (the socket keeps no send window; worse ratio for small
   * repetitive messages), and say so in every response. Client: ask the
   * server for that. Default false.
   */
  readonly serverNoContextTakeover?: boolean;
  /**
   * Server: require clients to compress each message alone (the socket
   * keeps no receive window). Client: compress each message alone, and say
   * so in the offer. Default false. A server also names it in its response
   * whenever the client's offer has it (a hint made binding, RFC 7692
   * §7.1.1.2), so no receive window is kept for such a client.
   */
  readonly clientNoContextTakeover?: boolean;
  /**
   * Server: the largest window it compresses with, 9-15 (default 15).
   * Client: ask the server for at most this window, 8-15 (default: not asked).
   */
  readonly serverMaxWindowBits?: number;
  /**
   * The largest window a client compresses with, 8-15. Server: set, it
   * declines clients that cannot be told a window (default: unset, so a
   * client's window is 15 unless it offers less). Client: offered with this
   * value (default: offered without one, as browsers do).
   */
  readonly clientMaxWindowBits?: number;
  /**
   * Messages shorter than this many bytes are sent uncompressed (default
   * 1024, as the `ws` package): below it deflate's block overhead and
   * the window load cost more than the bytes saved.
   */
  readonly threshold?: number;
  /** zlib's compression level, 1-9 (default 6). */
  readonly level?: number;
  /** zlib's memLevel, 1-9 (default 8): the deflate state is about (1 << (windowBits + 2)) + (1 << (memLevel + 9)) bytes. */
  readonly memLevel?: number;
}

/** PerMessageDeflateOptions checked, defaults filled in. */
export interface ResolvedDeflateOptions {
  readonly serverNoContextTakeover: boolean;
  readonly clientNoContextTakeover: boolean;
  /** Server: its window (9-15). Client: the window asked of the server, or null when none is asked. */
  readonly serverMaxWindowBits: number | null;
  /** The client window a server requires or a client offers, or null when unset. */
  readonly clientMaxWindowBits: number | null;
  readonly threshold: number;
  readonly level: number;
  readonly memLevel: number;
}

/**
 * `perMessageDeflate` checked for `role`: null when it is undefined or
 * false (no compression), the options with defaults filled in otherwise.
 * @throws TypeError `ERR_INVALID_ARG_TYPE` / RangeError `ERR_OUT_OF_RANGE` for a bad value.
 */
export function resolveDeflateOptions(name: string, value: boolean | PerMessageDeflateOptions | undefined, role: 'server' | 'client'): ResolvedDeflateOptions | null {
  if (value === undefined || value === false) return null;
  if (value !== true && (value === null || typeof value !== 'object')) throw invalidArgType(name, 'of type boolean or object', value);
  const options = optionsObject<PerMessageDeflateOptions>(name, value === true ? undefined : value);
  const server = options.serverMaxWindowBits;
  const client = options.clientMaxWindowBits;
  return {
    serverNoContextTakeover: booleanOption(`${name}.serverNoContextTakeover`, options.serverNoContextTakeover, false),
    clientNoContextTakeover: booleanOption(`${name}.clientNoContextTakeover`, options.clientNoContextTakeover, false),
    serverMaxWindowBits:
      role === 'server'
        ? integerOption(`${name}.serverMaxWindowBits`, server, WINDOW_BITS_MAX, DEFLATE_WINDOW_BITS_MIN, WINDOW_BITS_MAX)
        : server === undefined
          ? null
          : integerOption(`${name}.serverMaxWindowBits`, server, WINDOW_BITS_MAX, WINDOW_BITS_MIN, WINDOW_BITS_MAX),
    clientMaxWindowBits: client === undefined ? null : integerOption(`${name}.clientMaxWindowBits`, client, WINDOW_BITS_MAX, WINDOW_BITS_MIN, WINDOW_BITS_MAX),
    threshold: integerOption(`${name}.threshold`, options.threshold, DEFLATE_THRESHOLD_DEFAULT, 0, Number.MAX_SAFE_INTEGER),
    level: integerOption(`${name}.level`, options.level, DEFLATE_LEVEL_DEFAULT, DEFLATE_LEVEL_MIN, DEFLATE_LEVEL_MAX),
    memLevel: integerOption(`${name}.memLevel`, options.memLevel, DEFLATE_MEM_LEVEL_DEFAULT, DEFLATE_MEM_LEVEL_MIN, DEFLATE_MEM_LEVEL_MAX),
  };
}
