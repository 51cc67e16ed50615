/**
 * The addon's typed surface: `Binding` mirrors the export table of
 * native/main.zig, `NativePoller` the methods of native/bind/poller.zig,
 * native/bind/io.zig and native/bind/ring.zig, `NativeConstants` the
 * kernel's numbers. native.ts loads the addon under these types.
 *
 * Hot-path calls return a number: `>= 0` is the result, `< 0` is `-errno`
 * (EAGAIN is a value, not an exception). Misuse (a wrong type, an offset or
 * length outside the buffer, a closed poller) throws a TypeError or
 * RangeError with a `code`.
 */
import type { NativeLimits } from './limits.js';

/**
 * One poller: an epoll fd nested in Node's loop, and its counted I/O calls.
 * Every method but close, isClosed, ref, unref, fd and readCounters throws
 * an Error `ERR_ZEPOLL_POLLER_CLOSED` once the poller is closed, and every
 * fd argument must be one zepoll owns (else an Error `ERR_ZEPOLL_FD_NOT_OWNED`).
 */
export interface NativePoller {
  /**
   * epoll_ctl ADD: `events` are EPOLL* bits; the token is (fd, generation).
   * Returns 0 or -errno.
   * @throws TypeError `ERR_INVALID_ARG_VALUE` when `events` has bits epoll_ctl does not take.
   * @throws RangeError `ERR_OUT_OF_RANGE` when `generation` is not an integer from 0 to GENERATION_MAX.
   */
  add(fd: number, events: number, generation: number): number;
  /** epoll_ctl MOD with a new interest and token: 0 or -errno. Throws as add() does. */
  modify(fd: number, events: number, generation: number): number;
  /** epoll_ctl DEL: 0 or -errno (-ENOENT when the fd was not added). */
  remove(fd: number): number;
  /**
   * Blocking epoll_wait for tests and tight loops: copies the ready batch
   * into the events array as (fd, generation, flags) words and returns the
   * count (or -errno). `-1` waits without a time limit.
   * @throws RangeError `ERR_OUT_OF_RANGE` when `timeoutMs` is not an integer from -1 to 2^31 - 1.
   * @throws Error `ERR_ZEPOLL_EVENTS_DETACHED` when the events array was detached or shrunk.
   */
  wait(timeoutMs: number): number;
  /**
   * Nests the epoll fd in Node's loop: `callback(count)` runs once per ready
   * batch (with `this` the poller), through napi_make_callback, so promise
   * jobs queued by it run before the next batch. A throw reaches
   * process 'uncaughtException'.
   * @throws TypeError `ERR_INVALID_ARG_TYPE` when `callback` is not a function.
   * @throws Error `ERR_ZEPOLL_POLLER_STARTED` when already started, or stopped inside
   *   its callback that has not returned yet (start it again from a later tick).
   */
  start(callback: (this: NativePoller, count: number) => void): void;
  /**
   * Ends delivery: libuv stops watching the epoll fd and the callback is
   * dropped; registrations stay. Does nothing when not started.
   */
  stop(): void;
  /** Hold the process open while started with registrations (the default). */
  ref(): void;
  /** Let the process exit even while this poller is started. */
  unref(): void;
  /** Idempotent; safe inside the callback. Native memory is freed later, by libuv. */
  close(): void;
  /** True once the poller is closed; callable after close(). */
  isClosed(): boolean;
  /**
   * Copies the system-call counts (COUNTER_NAMES order); returns how many.
   * Works after close: a closed poller keeps its totals.
   * @throws RangeError `ERR_OUT_OF_RANGE` when `out` is shorter than COUNTER_KINDS.
   */
  readCounters(out: Float64Array): number;
  /** The epoll fd (-1 once closed). */
  fd(): number;
  /**
   * read(2) of up to `length` bytes into `buffer` at `offset`: the bytes read
   * (0 at end of stream) or -errno (-EAGAIN when nothing is waiting).
   * @throws RangeError `ERR_OUT_OF_RANGE` when the range is outside `buffer` or over IO_SIZE_MAX bytes.
   */
  read(fd: number, buffer: Uint8Array, offset: number, length: number): number;
  /**
   * write(2) of `length` bytes of `buffer` from `offset`: the bytes written
   * (maybe fewer) or -errno (-EAGAIN when the socket buffer is full).
   * @throws RangeError `ERR_OUT_OF_RANGE` when the range is outside `buffer` or over IO_SIZE_MAX bytes.
   */
  write(fd: number, buffer: Uint8Array, offset: number, length: number): number;
  /**
   * Writes buffers[0..count) with one writev: the bytes written or -errno.
   * Only the first `count` are sent, so one array can be reused every turn.
   * @throws TypeError `ERR_INVALID_ARG_TYPE` when `buffers` is not an Array of Uint8Array.
   * @throws RangeError `ERR_OUT_OF_RANGE` when `count` is over `buffers.length` or WRITEV_BUFFERS_MAX.
   */
  writev(fd: number, buffers: readonly Uint8Array[], count: number): number;
  /**
   * accept4 until EAGAIN or out is full; returns how many (or -errno if none).
   * The new fds are non-blocking and owned by zepoll.
   * @throws RangeError `ERR_OUT_OF_RANGE` when `out.length` is not from 1 to ACCEPT_BATCH_MAX.
   */
  accept(listenFd: number, out: Int32Array): number;
  /**
   * close(2) of an owned fd, counted: 0 or -errno. zepoll forgets the fd
   * first, so a second close is refused. The kernel drops a closed fd from
   * epoll sets only when no dup of it is left: remove() it first.
   */
  closeFd(fd: number): number;
  /**
   * sendfile from `inFd` at `offset` (the file position is not moved): the
   * bytes sent or -errno. `inFd` is only read, so it need not be owned.
   * @throws RangeError `ERR_OUT_OF_RANGE` when `offset` is negative or `length` over IO_SIZE_MAX bytes.
   */
  sendfile(outFd: number, inFd: number, offset: number, length: number): number;
  /**
   * splice(2) of up to `length` bytes from `inFd` to `outFd` at their current
   * positions (one must be a pipe); `flags` are SPLICE_F_* bits. Returns the
   * bytes moved or -errno.
   * @throws RangeError `ERR_OUT_OF_RANGE` when `length` is over IO_SIZE_MAX or `flags` has other bits.
   */
  splice(inFd: number, outFd: number, length: number, flags: number): number;
  /**
   * Opens this poller's io_uring (SINGLE_ISSUER | COOP_TASKRUN) with a
   * provided-buffer ring of `bufferEntries`: the ring's fd, added to this
   * poller's epoll set with generation 0 (readable while completions wait
   * to be reaped, level-triggered on the queue), or -errno (see ioUringSupport()). Requests below
   * are queued and go to the kernel with ringSubmit() or ringReap().
   * @throws RangeError `ERR_OUT_OF_RANGE` when either is not a power of two within its bound.
   * @throws Error `ERR_ZEPOLL_POLLER_STARTED` when the ring is open already.
   */
  ringOpen(sqEntries: number, bufferEntries: number): number;
  /**
   * Keeps `slab` (its memory) alive for the kernel until the poller closes:
   * its index for ringProvide.
   * @throws RangeError `ERR_OUT_OF_RANGE` when `slab` is empty.
   */
  ringPin(slab: Uint8Array): number;
  /**
   * Makes bytes [offset, offset + length) of pinned slab `slab` receive
   * buffer `id` (a receive completion names it). Returns 0.
   * @throws RangeError `ERR_OUT_OF_RANGE` when the slab is not pinned, the range is outside it, or `id` is past the buffer ring.
   */
  ringProvide(slab: number, offset: number, length: number, id: number): number;
  /** Queues a receive (one buffer, one completion) on `fd` into the provided buffers: 0, or -EBUSY when the submission queue is full. */
  ringRecv(fd: number, generation: number): number;
  /** Queues a multishot accept on `listenFd`: 0 or -EBUSY; each completion is a new owned fd or -errno. */
  ringAccept(listenFd: number, generation: number): number;
  /**
   * Queues one send of buffers[0..count) (16 at most; more is a short
   * send): 0 or -EBUSY. The buffers must stay unchanged until its completion.
   */
  ringSend(fd: number, generation: number, buffers: readonly Uint8Array[], count: number): number;
  /**
   * Queues one send of buffer[offset, offset + length): 0 or -EBUSY. The
   * bytes must stay unchanged until its completion.
   * @throws RangeError `ERR_OUT_OF_RANGE` when the range is empty or outside `buffer`.
   */
  ringSendRange(fd: number, generation: number, buffer: Uint8Array, offset: number, length: number): number;
  /** Queues the cancellation of `fd`'s request `op` (RING_OP): 0 or -EBUSY; the request completes with -ECANCELED. */
  ringCancel(fd: number, generation: number, op: number): number;
  /**
   * Queues cancel-then-close of `fd` (so an armed receive cannot keep the
   * socket open): 0 or -EBUSY. The fd is forgotten at once; the close's
   * completion says when the kernel is done with it.
   */
  ringClose(fd: number, generation: number): number;
  /** One io_uring_enter for every request queued: how many the kernel took, or -errno. */
  ringSubmit(): number;
  /**
   * Submits, runs deferred work and copies completions into `out`, four
   * words each (fd, generation, op | RING_MORE |
   * RING_BUFFER | buffer id << 16, result): how many, or -errno. A turn's
   * end submits and reaps with one io_uring_enter. The kernel is entered
   * only when it must (requests queued, deferred work waiting, or nothing
   * ready in memory).
   * @throws RangeError `ERR_OUT_OF_RANGE` when `out.length` is not from 4 to 4096.
   */
  ringReap(out: Int32Array): number;
  /** Copies the ring's counts (RING_COUNTER_NAMES order): how many (0 without a ring). */
  ringCounters(out: Float64Array): number;
}

/** What a ring request was (the low byte of a completion's third word). */
export const RING_OP = { recv: 1, accept: 2, send: 3, cancel: 4, close: 5 } as const;
/** A completion's third word: the request stays armed (multishot). */
export const RING_MORE = 1 << 8;
/** A completion's third word: a receive buffer was used; its id is the high 16 bits. */
export const RING_BUFFER = 1 << 9;
/** The ring's counts, in ringCounters' order. */
export const RING_COUNTER_NAMES = ['enter', 'sqes', 'cqes', 'enobufs', 'overflows'] as const;

/** The kernel's flag, family and option numbers, as the addon exports them (`binding.constants`). */
export interface NativeConstants {
  /** The EPOLLIN bit: readable. */
  readonly EPOLLIN: number;
  /** The EPOLLPRI bit: urgent (out-of-band) data to read. */
  readonly EPOLLPRI: number;
  /** The EPOLLOUT bit: writable. */
  readonly EPOLLOUT: number;
  /** The EPOLLERR bit: an error on the fd (always reported, never needs asking for). */
  readonly EPOLLERR: number;
  /** The EPOLLHUP bit: hang-up (always reported, never needs asking for). */
  readonly EPOLLHUP: number;
  /** The EPOLLRDHUP bit: the peer shut down its writing side. */
  readonly EPOLLRDHUP: number;
  /** The EPOLLEXCLUSIVE bit: wake one of the epoll sets sharing the fd, not all (add only). */
  readonly EPOLLEXCLUSIVE: number;
  /** The EPOLLONESHOT bit: report once, then stay disabled until a modify(). */
  readonly EPOLLONESHOT: number;
  /** The EPOLLET bit: edge-triggered, reporting changes rather than levels. */
  readonly EPOLLET: number;
  /** The POLLIN bit of poll(2): readable. */
  readonly POLLIN: number;
  /** The POLLOUT bit of poll(2): writable. */
  readonly POLLOUT: number;
  /** The POLLERR bit of poll(2): an error on the fd. */
  readonly POLLERR: number;
  /** The POLLHUP bit of poll(2): hang-up. */
  readonly POLLHUP: number;
  /** The SPLICE_F_MOVE flag of splice(2): move pages rather than copy (a hint). */
  readonly SPLICE_F_MOVE: number;
  /** The SPLICE_F_NONBLOCK flag of splice(2): do not block on the pipe. */
  readonly SPLICE_F_NONBLOCK: number;
  /** The SPLICE_F_MORE flag of splice(2): more data follows. */
  readonly SPLICE_F_MORE: number;
  /** shutdown(2) `how`: stop receiving. */
  readonly SHUT_RD: number;
  /** shutdown(2) `how`: stop sending (the peer reads end of stream). */
  readonly SHUT_WR: number;
  /** shutdown(2) `how`: stop both. */
  readonly SHUT_RDWR: number;
  /** The address family of IPv4, as the first field of a struct sockaddr holds it. */
  readonly AF_INET: number;
  /** The address family of IPv6. */
  readonly AF_INET6: number;
  /** The address family of Unix-domain sockets. */
  readonly AF_UNIX: number;
  /** setOption/getOption index of TCP_NODELAY: 1 sends small writes at once (no Nagle delay). */
  readonly OPTION_NO_DELAY: number;
  /** setOption/getOption index of SO_KEEPALIVE: 1 sends TCP keep-alive probes on an idle connection. */
  readonly OPTION_KEEP_ALIVE: number;
  /** setOption/getOption index of SO_RCVBUF: the receive buffer size in bytes. */
  readonly OPTION_RECEIVE_BUFFER_SIZE: number;
  /** setOption/getOption index of SO_SNDBUF: the send buffer size in bytes. */
  readonly OPTION_SEND_BUFFER_SIZE: number;
}

/**
 * The addon's export table (native/main.zig): the poller factory, socket
 * calls no poller counts, and the constant tables. Calls that take an fd
 * throw an Error `ERR_ZEPOLL_FD_NOT_OWNED` for one zepoll does not own;
 * arguments of the wrong type throw a TypeError `ERR_INVALID_ARG_TYPE`.
 */
export interface Binding {
  /**
   * A poller over a caller-allocated event array (length a multiple of EVENT_WORDS), or -errno.
   * @throws RangeError `ERR_OUT_OF_RANGE` when the length is not a multiple of EVENT_WORDS
   *   from EVENT_WORDS to EVENTS_MAX * EVENT_WORDS.
   */
  createPoller(events: Uint32Array): NativePoller | number;
  /** A non-blocking listening TCP socket (SO_REUSEADDR; SO_REUSEPORT if asked): fd or -errno. */
  listen(host: string, port: number, backlog: number, reusePort: boolean): number;
  /**
   * A non-blocking connect: the fd (connected or in progress) or -errno.
   * With `localHost` (an address literal) the socket is bound to that
   * source address first (IP_BIND_ADDRESS_NO_PORT: its port is picked at
   * connect, unique per 4-tuple).
   */
  connect(host: string, port: number, localHost?: string): number;
  /** SO_ERROR: 0 or -errno. */
  socketError(fd: number): number;
  /**
   * shutdown(2) with `how` SHUT_RD, SHUT_WR or SHUT_RDWR: 0 or -errno.
   * @throws RangeError `ERR_OUT_OF_RANGE` for another `how`.
   */
  shutdown(fd: number, how: number): number;
  /** Bytes waiting in the receive queue (FIONREAD), or -errno. For debug checks: one system call. */
  bytesReadable(fd: number): number;
  /**
   * Sets a socket option (an OPTION_* index) to `value`: 0 or -errno. Flags take 0 or 1;
   * buffer sizes take 1 to 2^31 - 1 bytes (the kernel doubles and clamps them).
   * @throws RangeError `ERR_OUT_OF_RANGE` for an unknown option or a value outside its range.
   */
  setOption(fd: number, option: number, value: number): number;
  /**
   * The value of a socket option (an OPTION_* index), or -errno.
   * @throws RangeError `ERR_OUT_OF_RANGE` for an unknown option.
   */
  getOption(fd: number, option: number): number;
  /**
   * Writes the socket's own struct sockaddr (getsockname) into out
   * (ADDRESS_SIZE_MAX bytes); returns its size or -errno.
   * @throws RangeError `ERR_OUT_OF_RANGE` when `out` is shorter than ADDRESS_SIZE_MAX bytes.
   */
  localAddress(fd: number, out: Uint8Array): number;
  /**
   * Writes the connected peer's struct sockaddr (getpeername) into out
   * (ADDRESS_SIZE_MAX bytes); returns its size or -errno (-ENOTCONN when not connected).
   * @throws RangeError `ERR_OUT_OF_RANGE` when `out` is shorter than ADDRESS_SIZE_MAX bytes.
   */
  peerAddress(fd: number, out: Uint8Array): number;
  /** A connected pair of non-blocking Unix stream sockets into out[0], out[1]. */
  socketPair(out: Int32Array): number;
  /** A non-blocking pipe: out[0] reads, out[1] writes. */
  pipe(out: Int32Array): number;
  /** fcntl F_SETPIPE_SZ on an owned pipe fd: the capacity set (bytes), or -errno. */
  setPipeSize(fd: number, size: number): number;
  /** fcntl F_GETPIPE_SZ on an owned pipe fd: its capacity (bytes), or -errno. */
  pipeSize(fd: number): number;
  /** close(2) of an fd zepoll owns (it is forgotten first: a second close throws ERR_ZEPOLL_FD_NOT_OWNED). */
  close(fd: number): number;
  /**
   * Hands zepoll an fd it did not open, so its calls may act on it and close
   * it. Returns 0, or -EBADF when the fd is not open. Every call that takes
   * an fd refuses (ERR_ZEPOLL_FD_NOT_OWNED) one that zepoll neither opened
   * nor was handed; sendfile's file fd is only read and need not be.
   */
  adopt(fd: number): number;
  /** Makes zepoll forget an owned fd without closing it (the caller takes it back). Returns 0. */
  disown(fd: number): number;
  /** How many fds this thread's zepoll owns now (leak checks). */
  ownedCount(): number;
  /**
   * Tests only, in a process started with ZEPOLL_FAULT_INJECTION=1 (else
   * ERR_ZEPOLL_FAULTS_DISABLED): from now on, calls of each kind in
   * `faultKinds` fail (or move fewer bytes) at `rates[i]` parts per million,
   * decided by a PRNG seeded with `seed`. All rates 0 switches it off.
   */
  setFaults(seed: number, rates: Uint32Array): void;
  /** Faults injected so far per kind (faultKinds order); returns the kind count. */
  faultCounts(out: Float64Array): number;
  /** The names of the fault kinds, in the order of setFaults' rates. */
  readonly faultKinds: readonly string[];
  /** poll(2) over pollfds in place: per fd, [fd, events | revents << 16]. */
  poll(pollfds: Int32Array, count: number, timeoutMs: number): number;
  /** select(2) for readability over fds below 1024; ready fds go to `ready`. */
  select(fds: Int32Array, count: number, ready: Int32Array, timeoutMs: number): number;
  /** Pins the calling thread to one CPU. */
  setAffinity(cpu: number): number;
  /** Does nothing: the cost of crossing the boundary. */
  nop(): number;
  /**
   * Whether the io_uring ring a reactor would make works here: set up with
   * SINGLE_ISSUER | COOP_TASKRUN, the opcodes it uses listed as supported,
   * a provided-buffer ring registered. 0, or the -errno that refused it
   * (ENOSYS: no io_uring; EPERM: forbidden, e.g. a seccomp profile; EINVAL
   * or EOPNOTSUPP: a kernel without a flag or opcode). See ioUringSupport().
   */
  ioUringProbe(): number;
  /** The kernel's numbers: EPOLL* and POLL* bits, SPLICE_F_* flags, SHUT_*, AF_* and OPTION_* indexes. */
  readonly constants: NativeConstants;
  /** The addon's fixed bounds (native/limits.zig); compared with limits.ts at load. */
  readonly limits: NativeLimits;
  /** The system calls each poller counts, in readCounters order; compared with COUNTER at load. */
  readonly counterNames: readonly string[];
  /** What the addon was built for: `zepoll-build: arch=… cpu=… abi=none optimize=… zig=…`. */
  readonly build: string;
}
