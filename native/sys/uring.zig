//! io_uring over std.os.linux: a ring for one thread (SINGLE_ISSUER |
//! COOP_TASKRUN), a provided-buffer ring, and the SQEs std's IO_Uring
//! lacks (multishot accept and recv, cancel by fd, cancel-then-close). No
//! N-API here; the io_uring backend builds on this.
//!
//! The pinned Zig's std has no SINGLE_ISSUER/DEFER_TASKRUN flags, no
//! buffer-ring structs and no multishot helpers, so their values are named
//! here from the kernel's uapi header bundled with Zig
//! (lib/libc/include/any-linux-any/linux/io_uring.h).
const std = @import("std");
const assert = std.debug.assert;
const linux = std.os.linux;
const IO_Uring = linux.IO_Uring;
const errno = @import("errno.zig");

/// The kernel runs completion work only for the one task that submits.
pub const setup_single_issuer: u32 = 1 << 12;
/// Completion work waits for io_uring_enter(GETEVENTS). Not used by the
/// reactor: with it, a registered eventfd was signalled for that work late
/// (measured on Linux 6.18: 12-20 ms after the peer's bytes, FIN or
/// connection arrived, every time the ring was idle), so an idle reactor
/// saw its first event a timer tick late. Kept named for the tests that
/// show it (uring_test.zig).
pub const setup_defer_taskrun: u32 = 1 << 13;
/// Completion work runs when the thread next leaves the kernel, without an
/// interrupt: the thread asleep in epoll_wait is woken (EINTR, which libuv
/// retries), the work posts its completions and the ring's fd is readable.
pub const setup_coop_taskrun: u32 = linux.IORING_SETUP_COOP_TASKRUN;
/// IORING_SQ_TASKRUN is set while completion work waits (read by the reaper).
pub const setup_taskrun_flag: u32 = linux.IORING_SETUP_TASKRUN_FLAG;
/// One bad SQE does not stop the rest of a submission.
pub const setup_submit_all: u32 = linux.IORING_SETUP_SUBMIT_ALL;
/// The flags a reactor's ring is made with.
pub const reactor_setup_flags: u32 = setup_single_issuer | setup_coop_taskrun | setup_taskrun_flag | setup_submit_all | linux.IORING_SETUP_CQSIZE;

/// sqe.ioprio bits.
pub const accept_multishot: u16 = 1 << 0;
pub const recv_multishot: u16 = 1 << 1;
/// sqe.rw_flags (cancel_flags) bits for IORING_OP_ASYNC_CANCEL.
pub const cancel_all: u32 = 1 << 0;
pub const cancel_fd: u32 = 1 << 1;
pub const cancel_any: u32 = 1 << 2;
/// cqe.flags bits.
pub const cqe_buffer: u32 = linux.IORING_CQE_F_BUFFER;
pub const cqe_more: u32 = linux.IORING_CQE_F_MORE;
pub const cqe_buffer_shift: u5 = 16;

/// Completion-queue entries per submission-queue entry: multishot requests
/// post many completions for one SQE, so the CQ is the larger ring.
pub const cq_entries_per_sq: u32 = 4;

/// The opcodes the backend uses; a kernel missing any of them is refused.
pub const required_ops = [_]linux.IORING_OP{ .NOP, .ACCEPT, .RECV, .SEND, .WRITEV, .ASYNC_CANCEL, .CLOSE, .SPLICE, .SHUTDOWN };

/// A ring: std's IO_Uring with the reactor's setup and helpers.
pub const Ring = struct {
    io: IO_Uring,

    /// Sets up a ring with `flags`: 0, or -errno (ENOSYS on a kernel without
    /// io_uring, EPERM under a seccomp profile that forbids it, EINVAL when
    /// a flag is unknown to the kernel).
    pub fn open(self: *Ring, sq_entries: u13, flags: u32) i32 {
        assert(std.math.isPowerOfTwo(sq_entries));
        var params = std.mem.zeroInit(linux.io_uring_params, .{ .flags = flags, .cq_entries = @as(u32, sq_entries) * cq_entries_per_sq });
        const fd = errno.result(linux.io_uring_setup(sq_entries, &params));
        if (fd < 0) return fd;
        // Single mmap for both queues since 5.4; std maps only that layout.
        if (params.features & linux.IORING_FEAT_SINGLE_MMAP == 0) {
            _ = linux.close(fd);
            return errno.negative(.NOSYS);
        }
        var sq = linux.SubmissionQueue.init(fd, params) catch {
            _ = linux.close(fd);
            return errno.negative(.NOMEM);
        };
        const cq = linux.CompletionQueue.init(fd, params, sq) catch {
            sq.deinit();
            _ = linux.close(fd);
            return errno.negative(.NOMEM);
        };
        self.* = .{ .io = .{ .fd = fd, .sq = sq, .cq = cq, .flags = params.flags, .features = params.features } };
        return 0;
    }

    /// Unmaps the queues and closes the ring fd (requests still armed are cancelled by the kernel).
    pub fn deinit(self: *Ring) void {
        self.io.deinit();
    }

    /// Submits what is queued: the count taken, or -errno.
    pub fn submit(self: *Ring) i32 {
        return errno.result(linux.io_uring_enter(self.io.fd, self.io.flush_sq(), 0, 0, null));
    }

    /// Submits what is queued, runs deferred completion work and copies what
    /// is ready into `cqes` (never blocks): the count, or -errno.
    pub fn reap(self: *Ring, cqes: []linux.io_uring_cqe) i32 {
        const ready = self.copy_ready(cqes);
        if (ready > 0) return @intCast(ready);
        // GETEVENTS runs the completion work that waits (IORING_SQ_TASKRUN), posting its completions.
        return self.enter_and_copy(cqes);
    }

    /// Enters the kernel once: submits what is queued and runs the deferred
    /// completion work (GETEVENTS, never waiting), then copies what is ready.
    /// The count, or -errno (EINTR and EAGAIN count as nothing ready).
    pub fn enter_and_copy(self: *Ring, cqes: []linux.io_uring_cqe) i32 {
        const rc = errno.result(linux.io_uring_enter(self.io.fd, self.io.flush_sq(), 0, linux.IORING_ENTER_GETEVENTS, null));
        if (rc < 0 and rc != errno.negative(.INTR) and rc != errno.eagain) return rc;
        return @intCast(self.copy_ready(cqes));
    }

    /// Copies what is ready into `cqes` without a system call: the count.
    pub fn copy_ready(self: *Ring, cqes: []linux.io_uring_cqe) u32 {
        const count = @min(cqes.len, self.io.cq_ready());
        var head = self.io.cq.head.*;
        for (cqes[0..count]) |*cqe| {
            cqe.* = self.io.cq.cqes[head & self.io.cq.mask];
            head +%= 1;
        }
        self.io.cq_advance(count);
        return count;
    }

    /// Requests queued that the kernel has not taken yet: an enter must submit them.
    pub fn unsubmitted_count(self: *Ring) u32 {
        return self.io.sq_ready();
    }

    /// Whether deferred work waits (IORING_SQ_TASKRUN): reaping is not done.
    pub fn taskrun_pending(self: *Ring) bool {
        return @atomicLoad(u32, self.io.sq.flags, .Acquire) & linux.IORING_SQ_TASKRUN != 0;
    }

    /// Completions the kernel could not post (the CQ was full): IORING_SQ_CQ_OVERFLOW.
    pub fn overflowed(self: *Ring) bool {
        return @atomicLoad(u32, self.io.sq.flags, .Acquire) & linux.IORING_SQ_CQ_OVERFLOW != 0;
    }

    /// The next free SQE, or null when the submission queue is full (submit first).
    pub fn sqe(self: *Ring) ?*linux.io_uring_sqe {
        return self.io.get_sqe() catch null;
    }

    /// Whether `entry` is one of this ring's SQEs, taken and not yet
    /// submitted: the only kind a request may still be prepared in.
    pub fn unsubmitted(self: *const Ring, entry: *const linux.io_uring_sqe) bool {
        const sq = &self.io.sq;
        const first = @intFromPtr(sq.sqes.ptr);
        const address = @intFromPtr(entry);
        if (address < first or address >= first + sq.sqes.len * @sizeOf(linux.io_uring_sqe)) return false;
        const index: u32 = @intCast((address - first) / @sizeOf(linux.io_uring_sqe));
        // Taken and not flushed: sqe_head up to (not including) sqe_tail, in ring order.
        return (index -% sq.sqe_head) & sq.mask < sq.sqe_tail -% sq.sqe_head;
    }
};

/// Whether the kernel lists every opcode in `required_ops` as supported:
/// 0, -EOPNOTSUPP when one is missing, or the register call's -errno.
pub fn check_ops(ring: *Ring) i32 {
    const ops_max = 64;
    const Probe = extern struct { header: linux.io_uring_probe, ops: [ops_max]linux.io_uring_probe_op };
    var listing = std.mem.zeroes(Probe);
    const rc = errno.result(linux.io_uring_register(ring.io.fd, .REGISTER_PROBE, &listing, ops_max));
    if (rc < 0) return rc;
    for (required_ops) |op| {
        const index = @intFromEnum(op);
        if (index >= listing.header.ops_len) return errno.negative(.OPNOTSUPP);
        if (listing.ops[index].flags & linux.IO_URING_OP_SUPPORTED == 0) return errno.negative(.OPNOTSUPP);
    }
    return 0;
}

/// Whether a reactor's ring can be made here: sets one up with the reactor's
/// flags, checks the opcodes and registers a one-entry buffer ring, then
/// tears it all down. 0, or the first -errno met (what the error names).
pub fn probe() i32 {
    var ring: Ring = undefined;
    const opened = ring.open(2, reactor_setup_flags);
    if (opened < 0) return opened;
    defer ring.deinit();
    const ops = check_ops(&ring);
    if (ops < 0) return ops;
    var buffers: BufferRing = undefined;
    const registered = buffers.register(&ring, 0, 1);
    if (registered < 0) return registered;
    buffers.unregister(&ring);
    return 0;
}

/// One entry of a provided-buffer ring (struct io_uring_buf).
const BufferEntry = extern struct { addr: u64, len: u32, bid: u16, resv: u16 };
/// IORING_REGISTER_PBUF_RING's argument (struct io_uring_buf_reg).
const BufferRingRegistration = extern struct { ring_addr: u64, ring_entries: u32, bgid: u16, pad: u16, resv: [3]u64 };
/// The ring's tail overlays the first entry's `resv` (offset 14).
const tail_offset = @offsetOf(BufferEntry, "resv");

/// A provided-buffer ring: the application publishes buffers (address,
/// length, id) at the tail; a receive with IOSQE_BUFFER_SELECT takes the
/// one at the head and names its id in the completion.
pub const BufferRing = struct {
    entries: []align(std.mem.page_size) BufferEntry,
    group: u16,
    /// Local tail: entries added since the last publish sit between the
    /// published tail and this one.
    tail: u16,

    /// Allocates page-aligned entries and registers them as group `group`.
    /// `count` must be a power of two (the kernel masks with count - 1).
    pub fn register(self: *BufferRing, ring: *Ring, group: u16, count: u16) i32 {
        assert(std.math.isPowerOfTwo(count));
        const memory = std.heap.page_allocator.alignedAlloc(BufferEntry, std.mem.page_size, count) catch return errno.negative(.NOMEM);
        @memset(memory, std.mem.zeroes(BufferEntry));
        const registration = BufferRingRegistration{ .ring_addr = @intFromPtr(memory.ptr), .ring_entries = count, .bgid = group, .pad = 0, .resv = .{ 0, 0, 0 } };
        const rc = errno.result(linux.io_uring_register(ring.io.fd, .IORING_REGISTER_PBUF_RING, &registration, 1));
        if (rc < 0) {
            std.heap.page_allocator.free(memory);
            return rc;
        }
        self.* = .{ .entries = memory, .group = group, .tail = 0 };
        return 0;
    }

    pub fn unregister(self: *BufferRing, ring: *Ring) void {
        const registration = BufferRingRegistration{ .ring_addr = 0, .ring_entries = 0, .bgid = self.group, .pad = 0, .resv = .{ 0, 0, 0 } };
        _ = linux.io_uring_register(ring.io.fd, .IORING_UNREGISTER_PBUF_RING, &registration, 1);
        std.heap.page_allocator.free(self.entries);
    }

    /// Stages `buffer` under id `id`; the kernel sees it after publish().
    pub fn add(self: *BufferRing, buffer: []u8, id: u16) void {
        assert(buffer.len > 0 and buffer.len <= std.math.maxInt(u32));
        const mask: u16 = @intCast(self.entries.len - 1);
        self.entries[self.tail & mask] = .{ .addr = @intFromPtr(buffer.ptr), .len = @intCast(buffer.len), .bid = id, .resv = 0 };
        self.tail +%= 1;
    }

    /// Makes every staged buffer visible to the kernel (a release store of
    /// the tail: the entries are written before the kernel can read them).
    pub fn publish(self: *BufferRing) void {
        const tail: *u16 = @ptrFromInt(@intFromPtr(self.entries.ptr) + tail_offset);
        @atomicStore(u16, tail, self.tail, .Release);
    }
};

/// The buffer id a receive completion used (valid when `cqe_buffer` is set).
pub fn buffer_id(cqe: linux.io_uring_cqe) u16 {
    assert(cqe.flags & cqe_buffer != 0);
    return @intCast(cqe.flags >> cqe_buffer_shift);
}

/// Multishot accept on `listen_fd`: one completion per connection (the new
/// fd), with MORE set while it stays armed.
pub fn prep_accept_multishot(sqe: *linux.io_uring_sqe, listen_fd: i32, user_data: u64) void {
    linux.io_uring_prep_accept(sqe, listen_fd, null, null, linux.SOCK.NONBLOCK | linux.SOCK.CLOEXEC);
    sqe.ioprio |= accept_multishot;
    sqe.user_data = user_data;
}

/// Multishot receive on `fd` into buffers of group `group`: one completion
/// per receive, naming the buffer; it ends (no MORE) at end of stream, on
/// an error, or with -ENOBUFS when the group has no buffer left.
pub fn prep_recv_multishot(sqe: *linux.io_uring_sqe, fd: i32, group: u16, user_data: u64) void {
    linux.io_uring_prep_rw(.RECV, sqe, fd, 0, 0, 0);
    sqe.ioprio |= recv_multishot;
    sqe.flags |= linux.IOSQE_BUFFER_SELECT;
    sqe.buf_index = group;
    sqe.user_data = user_data;
}

/// A single receive into a buffer the kernel picks from group `group`: one
/// completion (no MORE), one buffer at most.
pub fn prep_recv_one(sqe: *linux.io_uring_sqe, fd: i32, group: u16, user_data: u64) void {
    linux.io_uring_prep_rw(.RECV, sqe, fd, 0, 0, 0);
    sqe.flags |= linux.IOSQE_BUFFER_SELECT;
    sqe.buf_index = group;
    sqe.user_data = user_data;
}

/// Cancels every request on `fd` (cancel by fd, all matches).
pub fn prep_cancel_fd(sqe: *linux.io_uring_sqe, fd: i32, user_data: u64) void {
    linux.io_uring_prep_rw(.ASYNC_CANCEL, sqe, fd, 0, 0, 0);
    sqe.rw_flags = cancel_fd | cancel_all;
    sqe.user_data = user_data;
}

/// Cancel-then-close: an armed receive holds a reference to the socket, so
/// a plain close would leave it open (the peer never sees the FIN). The
/// cancel is hard-linked to the close: the close runs after it whatever the
/// cancel's result (with CANCEL_ALL it answers the count cancelled, 0 when
/// nothing was armed; a failed cancel would break a soft link). Two SQEs.
pub fn prep_cancel_close(cancel: *linux.io_uring_sqe, closing: *linux.io_uring_sqe, fd: i32, cancel_data: u64, close_data: u64) void {
    prep_cancel_fd(cancel, fd, cancel_data);
    cancel.flags |= linux.IOSQE_IO_HARDLINK;
    linux.io_uring_prep_close(closing, fd);
    closing.user_data = close_data;
}
