/**
 * permessage-deflate negotiation, the server's side (RFC 7692 §5, §7.1):
 * the client's offers in order, the first this server can accept taken,
 * and the Sec-WebSocket-Extensions value that answers it.
 *
 * An offer is declined (and the next one tried; none left: no
 * compression, the handshake still succeeds) when it has a parameter RFC
 * 7692 does not define for offers, one twice, or a value out of place:
 * `server_no_context_takeover` and `client_no_context_takeover` take none,
 * `server_max_window_bits` takes 8-15, `client_max_window_bits` none or
 * 8-15 (decimal, no leading zero; quoted is allowed, RFC 6455 §9.1). An
 * offer is also declined when the server's options set clientMaxWindowBits
 * (a memory bound for its inflaters) and the offer has no
 * client_max_window_bits: such a client cannot be told a window, and the
 * response MUST NOT name one (§7.1.2.2).
 *
 * `server_max_window_bits=8` is accepted, though zlib (since 1.2.9)
 * deflates a raw stream with a 9-bit window when asked for 8, which a
 * peer's 8-bit inflater is not promised to follow (deflate-options.ts,
 * DEFLATE_WINDOW_BITS_MIN): this server then sends that
 * socket's messages uncompressed (RSV1 is each message's choice, §6) and
 * still inflates the client's. (The `ws` package deflates with 9 bits
 * there; declining would cost the client its compression too.)
 */
import { formatExtension, type ExtensionOffer, type ExtensionParam } from './extensions.js';
import { resolveDeflateOptions, WINDOW_BITS_MAX, type PerMessageDeflateOptions, type ResolvedDeflateOptions } from './deflate-options.js';

/** The extension's registered name (RFC 7692 §7). */
export const PERMESSAGE_DEFLATE = 'permessage-deflate';

/** The parameters RFC 7692 §7.1 defines, by name (the client's side of the negotiation reads them too). */
export const SERVER_NO_CONTEXT_TAKEOVER = 'server_no_context_takeover';
export const CLIENT_NO_CONTEXT_TAKEOVER = 'client_no_context_takeover';
export const SERVER_MAX_WINDOW_BITS = 'server_max_window_bits';
export const CLIENT_MAX_WINDOW_BITS = 'client_max_window_bits';

/** The terms both ends agreed on (from a server's negotiation, or a client's reading of the answer), and the response's Sec-WebSocket-Extensions value. */
export interface PerMessageDeflateAgreement {
  /** The server deflates each message with a fresh context. */
  readonly serverNoContextTakeover: boolean;
  /** The client deflates each message with a fresh context. */
  readonly clientNoContextTakeover: boolean;
  /** The server's deflate window, 8-15 (at 8 this server sends uncompressed: see above). */
  readonly serverMaxWindowBits: number;
  /** The largest window the client deflates with, 8-15 (the server's inflater needs at least this). */
  readonly clientMaxWindowBits: number;
  /** The Sec-WebSocket-Extensions value of the response: `permessage-deflate; ...`. */
  readonly header: string;
}

/** An offer's parameters, read and checked; null when the offer must be declined. */
interface OfferTerms {
  serverNoContextTakeover: boolean;
  clientNoContextTakeover: boolean;
  serverMaxWindowBits: number | null;
  /** null: not offered; 0: offered without a value; else the value. */
  clientMaxWindowBits: number | null;
}

const OFFERED_WITHOUT_VALUE = 0;

/** "8" to "15": decimal digits, no sign, no leading zero (RFC 7692 §7.1.2.1). */
const WINDOW_BITS_VALUE = /^(?:[89]|1[0-5])$/;

/** A window-bits value as a number, or null when it is not one. */
export function windowBits(value: string): number | null {
  return WINDOW_BITS_VALUE.test(value) ? Number(value) : null;
}

/** The offer's terms, or null when RFC 7692 §7 says to decline it (unknown, repeated or ill-valued parameters). */
function readOffer(params: readonly ExtensionParam[]): OfferTerms | null {
  const terms: OfferTerms = { serverNoContextTakeover: false, clientNoContextTakeover: false, serverMaxWindowBits: null, clientMaxWindowBits: null };
  const seen = new Set<string>();
  for (const { name, value } of params) {
    if (seen.has(name)) return null;
    seen.add(name);
    switch (name) {
      case SERVER_NO_CONTEXT_TAKEOVER:
      case CLIENT_NO_CONTEXT_TAKEOVER:
        if (value !== null) return null;
        if (name === SERVER_NO_CONTEXT_TAKEOVER) terms.serverNoContextTakeover = true;
        else terms.clientNoContextTakeover = true;
        break;
      case SERVER_MAX_WINDOW_BITS:
        terms.serverMaxWindowBits = value === null ? null : windowBits(value);
        if (terms.serverMaxWindowBits === null) return null;
        break;
      case CLIENT_MAX_WINDOW_BITS:
        terms.clientMaxWindowBits = value === null ? OFFERED_WITHOUT_VALUE : windowBits(value);
        if (terms.clientMaxWindowBits === null) return null;
        break;
      default:
        return null;
    }
  }
  return terms;
}

/** The agreement for one acceptable offer, or null when this server cannot honour it. */
function accept(terms: OfferTerms, options: ResolvedDeflateOptions): PerMessageDeflateAgreement | null {
  if (options.clientMaxWindowBits !== null && terms.clientMaxWindowBits === null) return null;
  const params: ExtensionParam[] = [];
  const serverNoContextTakeover = terms.serverNoContextTakeover || options.serverNoContextTakeover;
  if (serverNoContextTakeover) params.push({ name: SERVER_NO_CONTEXT_TAKEOVER, value: null });
  // The response binds the client only when it names the parameter (§7.1.1.2). An offer that has
  // it says the client will not take its context over anyway: named, it binds, and no receive
  // window is kept for this socket (the ws package's server echoes it too).
  const clientNoContextTakeover = options.clientNoContextTakeover || terms.clientNoContextTakeover;
  if (clientNoContextTakeover) params.push({ name: CLIENT_NO_CONTEXT_TAKEOVER, value: null });
  // A server's resolved options always have its window (resolveDeflateOptions fills 15 in).
  const serverMaxWindowBits = Math.min(terms.serverMaxWindowBits ?? WINDOW_BITS_MAX, options.serverMaxWindowBits!);
  if (terms.serverMaxWindowBits !== null || serverMaxWindowBits < WINDOW_BITS_MAX) params.push({ name: SERVER_MAX_WINDOW_BITS, value: String(serverMaxWindowBits) });
  // Named in the response only when offered (§7.1.2.2), at most the offered value: a hint the server takes.
  let clientMaxWindowBits = WINDOW_BITS_MAX;
  if (terms.clientMaxWindowBits !== null) {
    const offered = terms.clientMaxWindowBits === OFFERED_WITHOUT_VALUE ? WINDOW_BITS_MAX : terms.clientMaxWindowBits;
    clientMaxWindowBits = Math.min(offered, options.clientMaxWindowBits ?? WINDOW_BITS_MAX);
    if (terms.clientMaxWindowBits !== OFFERED_WITHOUT_VALUE || options.clientMaxWindowBits !== null) params.push({ name: CLIENT_MAX_WINDOW_BITS, value: String(clientMaxWindowBits) });
  }
  const header = formatExtension({ name: PERMESSAGE_DEFLATE, params });
  return { serverNoContextTakeover, clientNoContextTakeover, serverMaxWindowBits, clientMaxWindowBits, header };
}

/**
 * The first of `offers` (parsed Sec-WebSocket-Extensions, in the client's
 * order of preference) naming permessage-deflate that this server accepts
 * under `options`, as the agreed terms and the response header value; null
 * when there is none (then the connection runs uncompressed).
 * @throws TypeError `ERR_INVALID_ARG_TYPE` / RangeError `ERR_OUT_OF_RANGE` for a bad option.
 */
export function negotiatePerMessageDeflate(offers: readonly ExtensionOffer[], options?: PerMessageDeflateOptions): PerMessageDeflateAgreement | null {
  return negotiate(offers, resolveDeflateOptions('options', options === undefined ? true : options, 'server')!);
}

/** negotiatePerMessageDeflate() with options resolved once, where the server was made. */
export function negotiate(offers: readonly ExtensionOffer[], options: ResolvedDeflateOptions): PerMessageDeflateAgreement | null {
  for (const offer of offers) {
    if (offer.name !== PERMESSAGE_DEFLATE) continue;
    const terms = readOffer(offer.params);
    const agreement = terms === null ? null : accept(terms, options);
    if (agreement !== null) return agreement;
  }
  return null;
}
