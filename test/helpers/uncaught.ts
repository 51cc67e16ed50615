/**
 * Collects the uncaught exceptions raised while `body` runs (errors the
 * library rethrows on nextTick, as Node does for an 'error' nobody listens
 * to), instead of letting them fail the runner.
 */
export async function captureUncaught(body: () => Promise<void>): Promise<unknown[]> {
  const caught: unknown[] = [];
  process.setUncaughtExceptionCaptureCallback((error) => caught.push(error));
  try {
    await body();
    await new Promise((resolve) => setTimeout(resolve, 10)); // let nextTick rethrows land
  } finally {
    process.setUncaughtExceptionCaptureCallback(null);
  }
  return caught;
}
