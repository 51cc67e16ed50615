/**
 * The callbacks a handler gives a response (onDrain, onClose), apart from
 * the response and made at the first: a response given one is never
 * reused (the reuse rule, docs/http.md), since a callback may run, or its
 * rejection arrive, once the response is complete, when a reused object
 * would be another request's response. Most responses never get one, so
 * most carry a null here instead of four fields. A callback's throw or
 * rejection goes to the response's owner, as the handler failing.
 */
import { callSafely } from '../safe-call.js';
import type { HttpResponse, ResponseOwner } from './response.js';

/** One response's onDrain and onClose callbacks (see above). */
export class ResponseCallbacks {
  private readonly response: HttpResponse;
  /** Runs once, at the next drain. */
  private drain: (() => unknown) | null;
  /** Runs once, when the response is done with. */
  private close: ((aborted: boolean) => unknown) | null;
  /** A callback failed: the owner treats it as the handler failing (one closure per response with callbacks). */
  private readonly report: (error: unknown) => void;

  /** The callbacks of `response`, whose failures go to `owner` (the response is never reused: the owner stays). */
  constructor(owner: ResponseOwner, response: HttpResponse) {
    this.response = response;
    this.drain = null;
    this.close = null;
    this.report = (error: unknown): void => owner.callbackFailed(response, error);
  }

  /** HttpResponse.onDrain(). */
  onDrain(callback: () => unknown): void {
    this.drain = callback;
  }

  /** HttpResponse.onClose(): kept for closed(), or run in a microtask when the response is done with already. */
  onClose(callback: (aborted: boolean) => unknown, alreadyClosed: boolean): void {
    if (alreadyClosed) {
      queueMicrotask(() => callSafely(callback, null, !this.response.finished, undefined, this.report));
      return;
    }
    this.close = callback;
  }

  /** The connection's write queue drained: onDrain's callback runs. */
  drained(): void {
    const callback = this.drain;
    this.drain = null;
    if (callback !== null) callSafely(callback, null, undefined, undefined, this.report);
  }

  /** The response is done with: onClose's callback runs, `aborted` unless the response was complete. */
  closed(aborted: boolean): void {
    const callback = this.close;
    this.close = null;
    if (callback !== null) callSafely(callback, null, aborted, undefined, this.report);
  }
}
