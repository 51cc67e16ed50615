/**
 * The exchange of a server that streams request bodies (`streamBodies`):
 * the parser hands its handler a request at the end of the head, and the
 * body part by part as it arrives (the parser streams when its callbacks
 * have onBodyData). Everything else is HttpExchange's (exchange.ts).
 */
import { HttpExchange } from './exchange.js';

/** An HttpExchange whose requests' bodies stream (see above). */
export class StreamingExchange extends HttpExchange {
  /** ParserCallbacks: a part of the current request's body (a copy it owns). */
  onBodyData(part: Buffer): void {
    this.body?.push(part);
  }

  /** ParserCallbacks: the current request's body is complete. */
  onBodyEnd(): void {
    this.bodyEnded();
  }
}
