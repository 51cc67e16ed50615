/**
 * Calls into user code off the hot path (onClose, onError, a response's
 * callbacks): a throw or a returned promise that rejects is handed to
 * `report`, never to the caller, whose stack may be a timer, a promise job
 * or another connection's turn.
 */

/** A promise-like value: its rejection is the callback's failure. */
export function isThenable(value: unknown): value is PromiseLike<unknown> {
  return value !== null && typeof value === 'object' && typeof (value as { then?: unknown }).then === 'function';
}

/**
 * `callback.call(self, first, second)`; a throw or a rejection goes to
 * `report`. Arguments are passed, not closed over: no closure per call.
 */
export function callSafely<A, B>(callback: (this: unknown, first: A, second: B) => unknown, self: unknown, first: A, second: B, report: (error: unknown) => void): void {
  let result: unknown;
  try {
    result = callback.call(self, first, second);
  } catch (error) {
    report(error);
    return;
  }
  if (isThenable(result)) result.then(undefined, report);
}
