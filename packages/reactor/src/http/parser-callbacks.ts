/** What a RequestParser calls as requests are parsed (parser.ts). */
import type { HttpRequest } from './request.js';

/**
 * What a RequestParser calls as it parses: `onRequest` per request, and
 * optionally `onContinue`, and `onBodyData` with `onBodyEnd` to stream bodies.
 */
export interface ParserCallbacks {
  /**
   * A complete request (body included); with `onBodyData`, a request head
   * (its body, if any, follows through onBodyData and onBodyEnd).
   */
  onRequest(request: HttpRequest): void;
  /** Headers are in and a body is expected after `Expect: 100-continue`. */
  onContinue?(request: HttpRequest): void;
  /**
   * Streaming bodies: when given, body bytes are handed over as they are
   * parsed (a copy the callee owns) instead of being collected.
   */
  onBodyData?(part: Buffer): void;
  /** Streaming bodies: the body of the request last handed out is complete. */
  onBodyEnd?(): void;
}
