/**
 * The backend factory: the one place that names each backend class. The
 * reactor asks it which backend a choice resolves to, what that backend
 * needs of the pool, and for the backend itself; a third backend (kqueue,
 * say) is one more branch here and a sibling file, nothing above backend/.
 */
import { BufferPool, type BufferPoolOptions } from '../buffer-pool.js';
import { outOfRange } from '../errors.js';
import { EpollBackend } from './epoll.js';
import { RING_CHUNK_SIZE_DEFAULT, UringBackend } from './io-uring.js';
import { RING_POOL_CHUNKS_MAX } from './ring-buffers.js';
import { ioUringSupport, ioUringUnavailable } from './io-uring-support.js';
import { POLICIES, type Mode } from './policies.js';
import type { Backend, BackendName } from './backend.js';

/** 'auto' resolved: io_uring where it works here, else epoll. */
export function resolveBackend(choice: BackendName | 'auto'): BackendName {
  if (choice !== 'auto') return choice;
  return ioUringSupport().available ? 'io_uring' : 'epoll';
}

/**
 * The reactor's own pool for `backend` (io_uring keeps chunks waiting in
 * its ring: smaller ones by default, RING_CHUNK_SIZE_DEFAULT).
 */
export function poolFor(backend: BackendName, options: BufferPoolOptions): BufferPool {
  return new BufferPool(backend === 'io_uring' && options.chunkSize === undefined ? { ...options, chunkSize: RING_CHUNK_SIZE_DEFAULT } : options);
}

/**
 * Opens `backend` over `pool`, with `mode` for epoll and room for
 * `capacity` events per batch.
 * @throws RangeError `ERR_OUT_OF_RANGE` when io_uring is asked for with a pool of more than 65,536 chunks (16-bit buffer ids).
 * @throws ZepollError `ERR_ZEPOLL_IO_URING_UNAVAILABLE` when io_uring is asked for where it cannot serve.
 * @throws ZepollSystemError when epoll_create1 fails (EMFILE, ENFILE, ENOMEM).
 */
export function createBackend(backend: BackendName, mode: Mode, capacity: number, pool: BufferPool): Backend {
  if (backend === 'epoll') return new EpollBackend(POLICIES[mode], capacity);
  if (pool.maxChunks > RING_POOL_CHUNKS_MAX) {
    throw outOfRange('options.pool.maxChunks', `at most ${RING_POOL_CHUNKS_MAX} with the io_uring backend (buffer ids are 16 bits)`, pool.maxChunks);
  }
  const support = ioUringSupport();
  if (!support.available) throw ioUringUnavailable(support);
  return new UringBackend(capacity, pool);
}
