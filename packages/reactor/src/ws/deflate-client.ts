/**
 * permessage-deflate negotiation, the client's side (RFC 7692 §5, §7.1):
 * the one offer a client sends, and the checks of the server's answer.
 *
 * The offer names `client_max_window_bits` always (with the option's
 * value, or none: "this client can be told a window", as browsers offer),
 * and the other parameters when their options ask. The answer must be
 * that one extension, its parameters known, each once, with valid values;
 * and it must accept the offer (a server accepts an offer whole):
 * `server_no_context_takeover` named when offered (§7.1.1.1),
 * `server_max_window_bits` named when offered, no larger (§7.1.2.1),
 * `client_max_window_bits` no larger than offered (§7.1.2.2). A server
 * may add `server_no_context_takeover`, `client_no_context_takeover` and
 * `server_max_window_bits` unasked. Anything else fails the handshake.
 */
import type { ResolvedDeflateOptions } from './deflate-options.js';
import { WINDOW_BITS_MAX } from './deflate-options.js';
import { formatExtension, parseExtensions, type ExtensionParam } from './extensions.js';
import { WebSocketHandshakeError } from './handshake-error.js';
import {
  CLIENT_MAX_WINDOW_BITS,
  CLIENT_NO_CONTEXT_TAKEOVER,
  PERMESSAGE_DEFLATE,
  SERVER_MAX_WINDOW_BITS,
  SERVER_NO_CONTEXT_TAKEOVER,
  windowBits,
  type PerMessageDeflateAgreement,
} from './permessage-deflate.js';

/** The Sec-WebSocket-Extensions value of a client's offer under `options`. */
export function deflateOffer(options: ResolvedDeflateOptions): string {
  const params: ExtensionParam[] = [];
  if (options.serverNoContextTakeover) params.push({ name: SERVER_NO_CONTEXT_TAKEOVER, value: null });
  if (options.clientNoContextTakeover) params.push({ name: CLIENT_NO_CONTEXT_TAKEOVER, value: null });
  if (options.serverMaxWindowBits !== null) params.push({ name: SERVER_MAX_WINDOW_BITS, value: String(options.serverMaxWindowBits) });
  params.push({ name: CLIENT_MAX_WINDOW_BITS, value: options.clientMaxWindowBits === null ? null : String(options.clientMaxWindowBits) });
  return formatExtension({ name: PERMESSAGE_DEFLATE, params });
}

/** What an answer said, parameter by parameter (null: not named). */
interface AnswerTerms {
  serverNoContextTakeover: boolean;
  clientNoContextTakeover: boolean;
  serverMaxWindowBits: number | null;
  clientMaxWindowBits: number | null;
}

/** The answer's parameters, each known, once, and well-valued; throws the failure's reason otherwise. */
function readAnswer(params: readonly ExtensionParam[], fail: (why: string) => never): AnswerTerms {
  const terms: AnswerTerms = { serverNoContextTakeover: false, clientNoContextTakeover: false, serverMaxWindowBits: null, clientMaxWindowBits: null };
  const seen = new Set<string>();
  for (const { name, value } of params) {
    if (seen.has(name)) fail(`${name} named twice`);
    seen.add(name);
    if (name === SERVER_NO_CONTEXT_TAKEOVER || name === CLIENT_NO_CONTEXT_TAKEOVER) {
      if (value !== null) fail(`${name} with a value`);
      if (name === SERVER_NO_CONTEXT_TAKEOVER) terms.serverNoContextTakeover = true;
      else terms.clientNoContextTakeover = true;
    } else if (name === SERVER_MAX_WINDOW_BITS || name === CLIENT_MAX_WINDOW_BITS) {
      const bits = value === null ? null : windowBits(value);
      if (bits === null) fail(`${name} without a window size (8-15)`);
      if (name === SERVER_MAX_WINDOW_BITS) terms.serverMaxWindowBits = bits;
      else terms.clientMaxWindowBits = bits;
    } else {
      fail(`an unknown parameter ${name}`);
    }
  }
  return terms;
}

/**
 * The terms of the server's answer to our offer under `options`, from
 * its Sec-WebSocket-Extensions field values (`status`: the answer's, for
 * the error).
 * @throws WebSocketHandshakeError when the answer does not accept the offer as RFC 7692 allows (see above).
 */
export function acceptDeflateAnswer(values: readonly string[], options: ResolvedDeflateOptions, status: number): PerMessageDeflateAgreement {
  const header = values.join(', ');
  const fail = (why: string): never => {
    throw new WebSocketHandshakeError(status, `the server's Sec-WebSocket-Extensions does not answer our permessage-deflate offer (${why}): ${JSON.stringify(header)}`);
  };
  let offers;
  try {
    offers = parseExtensions(values);
  } catch {
    return fail('malformed');
  }
  if (offers.length !== 1 || offers[0]!.name !== PERMESSAGE_DEFLATE) return fail('not exactly permessage-deflate');
  const terms = readAnswer(offers[0]!.params, fail);
  if (options.serverNoContextTakeover && !terms.serverNoContextTakeover) fail(`${SERVER_NO_CONTEXT_TAKEOVER} offered, not accepted`);
  if (options.serverMaxWindowBits !== null) {
    if (terms.serverMaxWindowBits === null) fail(`${SERVER_MAX_WINDOW_BITS} offered, not accepted`);
    else if (terms.serverMaxWindowBits > options.serverMaxWindowBits) fail(`${SERVER_MAX_WINDOW_BITS} over the ${options.serverMaxWindowBits} offered`);
  }
  if (options.clientMaxWindowBits !== null && terms.clientMaxWindowBits !== null && terms.clientMaxWindowBits > options.clientMaxWindowBits) fail(`${CLIENT_MAX_WINDOW_BITS} over the ${options.clientMaxWindowBits} offered`);
  return {
    serverNoContextTakeover: terms.serverNoContextTakeover,
    // Our own option binds us whether or not the server named it (it was a hint in the offer).
    clientNoContextTakeover: terms.clientNoContextTakeover || options.clientNoContextTakeover,
    serverMaxWindowBits: terms.serverMaxWindowBits ?? WINDOW_BITS_MAX,
    clientMaxWindowBits: terms.clientMaxWindowBits ?? options.clientMaxWindowBits ?? WINDOW_BITS_MAX,
    header,
  };
}
