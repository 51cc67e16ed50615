//! Every fixed bound of the native layer, each with its reason.
//! packages/reactor/src/limits.ts mirrors these and compares them at load.
const std = @import("std");
const assert = std.debug.assert;

/// Most events copied out per epoll_wait; bounds the native staging array and
/// the capacity of the caller's Uint32Array.
pub const events_max: u32 = 1024;
/// Words per event in the shared Uint32Array: fd, generation, flags.
pub const event_words: u32 = 3;
/// Extra epoll_wait calls in one libuv callback after a batch that filled the
/// array; bounded so one busy poller cannot hold the loop.
pub const rewaits_max: u32 = 4;
/// io_uring: batches in a row taken without the poller's epoll_wait (the
/// ring's completions only, read from memory) while the last wait found
/// nothing but the ring ready; then a wait, so owners served by readiness
/// are polled at least this often however busy the ring is.
pub const ring_waits_skipped_max: u32 = 8;
/// Connections accepted by one accept() binding call.
pub const accept_batch_max: u32 = 256;
/// Buffers gathered by one writev; the kernel's IOV_MAX is 1024.
pub const writev_buffers_max: u32 = 256;
/// Largest single read/write/sendfile/splice request: the kernel's
/// MAX_RW_COUNT (INT_MAX rounded down to a page), so results fit an i32.
pub const io_size_max: u32 = 0x7fff_f000;
/// select(2) handles fds below FD_SETSIZE only.
pub const select_fd_max: u32 = 1024;
/// CPUs addressable by setAffinity (glibc's CPU_SETSIZE).
pub const cpus_max: u32 = 1024;
/// fds per poll(2) call (RLIMIT_NOFILE caps it in the kernel anyway).
pub const poll_fds_max: u32 = 1 << 20;
/// Largest listen(2) backlog accepted; the kernel clamps it to somaxconn.
pub const backlog_max: u32 = 65535;
/// Largest generation carried in a token (the high 32 bits of epoll data).
pub const generation_max: u32 = std.math.maxInt(u32);
/// Largest socket buffer size settable through setOption.
pub const socket_buffer_size_max: u32 = std.math.maxInt(i32);
/// Pipe capacities setPipeSize accepts: a page at least; the kernel's own
/// ceiling is /proc/sys/fs/pipe-max-size (1 MiB by default, root may raise it).
pub const pipe_size_min: u32 = 4096;
pub const pipe_size_max: u32 = 1 << 30;
/// Longest host string accepted by listen/connect (an IPv6 literal is 45).
pub const host_size_max: u32 = 64;

/// io_uring: the ring's submission entries (a power of two; the completion
/// queue is four times larger, for multishot requests).
pub const ring_sq_entries_max: u32 = 4096;
/// Buffers in the provided-buffer ring at once: the kernel's own bound is 32768.
pub const ring_buffers_max: u32 = 32768;
/// Completions copied out per ringReap call, and words per completion
/// (fd, tag, op | flags, result).
pub const completions_max: u32 = 1024;
pub const completion_words: u32 = 4;
/// fds a request can name: user_data keeps 20 bits for the fd (the
/// kernel's default fs.nr_open is 2^20 too).
pub const ring_fd_limit: u32 = 1 << 20;
/// Buffers one writev in flight gathers, and gather lists per SQ entry (at
/// most 255: user_data keeps 8 bits for a send's list; with none free a
/// send takes its first buffer only, a short send the caller continues).
pub const ring_send_iovecs_max: u32 = 16;
pub const ring_send_slots_per_sqe: u32 = 4;
/// The slot of a send that uses no gather list (one buffer).
pub const ring_no_slot: u32 = 0xff;
/// Slabs pinned for the kernel per ring (a pool of 65536 one-chunk slabs).
pub const ring_slabs_max: u32 = 65536;
/// Reaping: enters in a row that bring no completion while deferred work
/// keeps arriving, before the reaper yields to the loop (the work runs as
/// the thread next leaves the kernel; what it posts makes the ring fd readable).
pub const ring_empty_enters_max: u32 = 2;
/// Teardown: cancel-and-wait rounds before the ring is freed regardless.
pub const ring_drain_rounds_max: u32 = 1000;

comptime {
    assert(io_size_max <= std.math.maxInt(i32)); // results travel as i32
    assert(events_max * event_words <= std.math.maxInt(i32));
    assert(writev_buffers_max <= 1024); // IOV_MAX
    assert(accept_batch_max > 0 and rewaits_max > 0);
}

/// Largest integer a JS number holds exactly (Number.MAX_SAFE_INTEGER);
/// bounds file offsets passed to sendfile.
pub const safe_integer_max: i64 = (1 << 53) - 1;
