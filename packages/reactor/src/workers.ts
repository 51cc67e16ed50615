/**
 * Several reactors on one port, one per worker thread: each worker runs its
 * own Reactor and a Server with SO_REUSEPORT, so the kernel spreads new
 * connections across them; each worker may be pinned to a CPU.
 *
 * Main thread:   const group = await startWorkers({ entry, count: 2, pin: true });
 * In the entry:  const worker = workerSetup(); ...new Server(reactor, handler,
 *                { port: worker.port, reusePort: true }); worker.ready(() => server.close());
 */
import { availableParallelism } from 'node:os';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { ZepollError } from './errors.js';
import { closeOwnedFd, DEFAULT_HOST, listenTcp, pinToCpu } from './backend/sockets.js';

/** What startWorkers() takes. */
export interface WorkerGroupOptions {
  /** The worker's module (a file path or URL); it calls workerSetup(). */
  readonly entry: string | URL;
  /** Worker threads (default: the machine's available parallelism). */
  readonly count?: number;
  /** Pin worker i to CPU i mod cores (default false). */
  readonly pin?: boolean;
  /** The address every worker listens on (default 127.0.0.1). */
  readonly host?: string;
  /** The shared port; 0 (default) picks a free one. */
  readonly port?: number;
  /** Passed to every worker as `setup.data`. */
  readonly data?: unknown;
  /** Milliseconds a worker has to report ready (default 10 000). */
  readonly readyTimeoutMs?: number;
}

/** What workerSetup() returns inside a worker: where to listen, and how to report ready. */
export interface WorkerSetup {
  /** This worker's number, from 0 to `count - 1`. */
  readonly index: number;
  /** How many workers the group has. */
  readonly count: number;
  /** The CPU this thread is pinned to, or null. */
  readonly cpu: number | null;
  /** The address to listen on, as given to startWorkers() (default 127.0.0.1). */
  readonly host: string;
  /** The shared port to listen on with `reusePort: true` (never 0: a free port was picked already). */
  readonly port: number;
  /** The `data` given to startWorkers() (copied to the worker by structured clone). */
  readonly data: unknown;
  /**
   * Tells the main thread this worker listens. `onClose` runs on
   * group.close(); `onStats` answers group.stats().
   */
  ready(onClose: () => Promise<void> | void, onStats?: () => unknown): void;
}

interface SetupData {
  readonly zepollWorker: { index: number; count: number; cpu: number | null; host: string; port: number; data: unknown };
}

type ToWorker = { type: 'close' } | { type: 'stats'; id: number };
type FromWorker = { type: 'ready' } | { type: 'closed'; error: string | null } | { type: 'stats'; id: number; stats: unknown };

/** Milliseconds a worker has to call ready() when `readyTimeoutMs` is not given. */
export const READY_TIMEOUT_MS_DEFAULT = 10_000;
const CLOSE_TIMEOUT_MS = 10_000;

/**
 * Inside a worker started by startWorkers: pins the thread if asked, and returns its setup.
 * @throws ZepollError `ERR_INVALID_ARG_VALUE` when called outside a worker started by startWorkers().
 * @throws ZepollSystemError when pinning the thread fails (sched_setaffinity, e.g. `EINVAL`).
 */
export function workerSetup(): WorkerSetup {
  const setup = (workerData as SetupData | undefined)?.zepollWorker;
  if (isMainThread || parentPort === null || setup === undefined) {
    throw new ZepollError('ERR_INVALID_ARG_VALUE', 'workerSetup() runs only in a worker started by startWorkers()');
  }
  const port = parentPort;
  if (setup.cpu !== null) {
    pinToCpu(setup.cpu);
  }
  return {
    ...setup,
    ready(onClose, onStats) {
      port.on('message', (message: ToWorker) => {
        if (message.type === 'stats') {
          port.postMessage({ type: 'stats', id: message.id, stats: onStats?.() ?? null } satisfies FromWorker);
          return;
        }
        // onClose failing (a throw or a rejection) must not crash the worker, and through
        // an unhandled 'error' on the Worker, the main process: it is reported instead.
        const closed = (error?: unknown): void => {
          port.postMessage({ type: 'closed', error: error === undefined ? null : String((error as Error | undefined)?.stack ?? error) } satisfies FromWorker);
          port.close(); // nothing else keeps the worker's loop alive
        };
        let result: unknown;
        try {
          result = onClose();
        } catch (error) {
          closed(error);
          return;
        }
        Promise.resolve(result).then(() => closed(), closed);
      });
      port.postMessage({ type: 'ready' } satisfies FromWorker);
    },
  };
}

/**
 * The running workers that startWorkers() started, all listening on one
 * port: ask them for stats, close them, and read what failed in them.
 */
export class WorkerGroup {
  /** The address the workers listen on. */
  readonly host: string;
  /** The port the workers share. */
  readonly port: number;
  /** The worker threads, in index order. */
  readonly workers: readonly Worker[];
  private nextStatsId: number;

  /**
   * What went wrong in the workers after they were ready: an uncaught
   * error in a worker (its 'error' event, which unheard would end this
   * process) or an onClose that threw or rejected. Reported, never thrown.
   */
  readonly errors: Error[];

  /**
   * Made by startWorkers() once every worker is ready; listens to the
   * workers' errors and failed onClose reports (collected in `errors`).
   */
  constructor(host: string, port: number, workers: Worker[]) {
    this.host = host;
    this.port = port;
    this.workers = workers;
    this.nextStatsId = 0;
    this.errors = [];
    for (const worker of workers) {
      worker.on('error', (error: Error) => void this.errors.push(error));
      worker.on('message', (message: FromWorker) => {
        if (message.type === 'closed' && message.error !== null) this.errors.push(new ZepollError('ERR_ZEPOLL_HANDLER', `a worker's onClose failed: ${message.error}`));
      });
    }
  }

  /** Each worker's answer to its onStats. */
  stats(): Promise<unknown[]> {
    return Promise.all(
      this.workers.map(
        (worker) =>
          new Promise<unknown>((resolve) => {
            const id = (this.nextStatsId += 1);
            const onMessage = (message: FromWorker): void => {
              if (message.type !== 'stats' || message.id !== id) return;
              worker.off('message', onMessage);
              resolve(message.stats);
            };
            worker.on('message', onMessage);
            worker.postMessage({ type: 'stats', id } satisfies ToWorker);
          }),
      ),
    );
  }

  /** Asks every worker to close; terminates any that has not exited after a timeout. */
  async close(): Promise<void> {
    await Promise.all(
      this.workers.map(
        (worker) =>
          new Promise<void>((resolve) => {
            const timer = setTimeout(() => void worker.terminate(), CLOSE_TIMEOUT_MS);
            worker.once('exit', () => {
              clearTimeout(timer);
              resolve();
            });
            worker.postMessage({ type: 'close' } satisfies ToWorker);
          }),
      ),
    );
  }
}

/**
 * Starts `count` workers running `entry`, all told to listen on one port
 * with SO_REUSEPORT, and resolves once every one has called ready().
 *
 * Rejects (never throws) with ZepollError `ERR_OUT_OF_RANGE` when `count`
 * is not a positive integer; with listenTcp()'s errors when the port cannot
 * be reserved (`EADDRINUSE`, ...); and, with every worker terminated, when
 * a worker fails, exits or does not report ready within `readyTimeoutMs`
 * (`ERR_OUT_OF_RANGE`).
 */
export async function startWorkers(options: WorkerGroupOptions): Promise<WorkerGroup> {
  const cores = availableParallelism();
  const count = options.count ?? cores;
  if (!Number.isInteger(count) || count < 1) throw new ZepollError('ERR_OUT_OF_RANGE', `count must be a positive integer, received ${count}`);
  const host = options.host ?? DEFAULT_HOST;
  // A placeholder in the port's SO_REUSEPORT group reserves a free port
  // until the workers have joined it; it never accepts.
  const placeholder = listenTcp({ host, port: options.port ?? 0, reusePort: true, backlog: 1 });
  const workers: Worker[] = [];
  try {
    const readies: Array<Promise<void>> = [];
    for (let index = 0; index < count; index += 1) {
      const setup: SetupData = {
        zepollWorker: { index, count, cpu: options.pin === true ? index % cores : null, host, port: placeholder.port, data: options.data },
      };
      const worker = new Worker(options.entry, { workerData: setup });
      workers.push(worker);
      readies.push(waitReady(worker, options.readyTimeoutMs ?? READY_TIMEOUT_MS_DEFAULT));
    }
    await Promise.all(readies);
  } catch (error) {
    await Promise.all(workers.map((worker) => worker.terminate()));
    throw error;
  } finally {
    closeOwnedFd(placeholder.fd);
  }
  return new WorkerGroup(host, placeholder.port, workers);
}

function waitReady(worker: Worker, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new ZepollError('ERR_OUT_OF_RANGE', `a worker did not report ready within ${timeoutMs} ms`)), timeoutMs);
    const cleanup = (): void => {
      clearTimeout(timer);
      worker.off('message', onMessage);
      worker.off('error', onError);
      worker.off('exit', onExit);
    };
    const onMessage = (message: FromWorker): void => {
      if (message.type !== 'ready') return;
      cleanup();
      resolve();
    };
    const onError = (error: Error): void => {
      cleanup();
      reject(error);
    };
    const onExit = (code: number): void => {
      cleanup();
      reject(new Error(`a worker exited with code ${code} before it was ready`));
    };
    worker.on('message', onMessage);
    worker.on('error', onError);
    worker.on('exit', onExit);
  });
}
