/**
 * The HTTP layer's side of the handler contract (a call into user code
 * is caught where it is made, its failure reported and counted): what a
 * request handler is, what every exchange of one server shares (the
 * handler, its onError, the limits and timeouts), and where a handler's
 * failure is reported. What then becomes of the connection (a 500, or a
 * destroy) is the exchange's business (exchange.ts).
 */
import { coreOf } from '../core.js';
import type { Connection } from '../connection.js';
import { callSafely } from '../safe-call.js';
import type { ResolvedHttpLimits } from './limits.js';
import type { ClockSettings } from './request-clock.js';
import type { HttpRequest } from './request.js';
import type { HttpResponse } from './response.js';
import type { ReaderPool } from './reader-pool.js';

/** What a request handler is: it answers through `response`, now or later (a returned promise is watched). */
export type HttpHandler = (request: HttpRequest, response: HttpResponse) => void | Promise<void>;

/** What every exchange of one server shares: its options, checked once by createHttpServer(). */
export interface ExchangeSettings extends ClockSettings {
  /** Called per request. */
  readonly handler: HttpHandler;
  /** The parser's limits, defaults filled in. */
  readonly limits: ResolvedHttpLimits;
  /** The server's resting request readers, which its connections take and give back (reader-pool.ts). */
  readonly readers: ReaderPool;
  /** Requests are handed over at their head, their bodies streamed. */
  readonly streamBodies: boolean;
  /** A client's FIN leaves a pending response to finish (else it aborts it). */
  readonly allowHalfOpen: boolean;
  /** Takes a handler's failures; undefined: the reactor's onError does. */
  readonly onError: ((error: Error, request: HttpRequest) => void) | undefined;
}

/**
 * A handler's failure, reported and counted: to the server's onError, or
 * without one to the reactor's. onError's own failure (a throw or a
 * rejection) goes to the reactor's: it must not replace the handler's.
 */
export function reportHandlerError(connection: Connection, onError: ExchangeSettings['onError'], error: Error, request: HttpRequest): void {
  const reactor = coreOf(connection.reactor);
  if (onError === undefined) {
    reactor.reportUnhandled(error, false);
    return;
  }
  reactor.noteHandlerError();
  callSafely(onError, null, error, request, reactor.reportLate);
}
