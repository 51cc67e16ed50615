//! A poller's io_uring: the ring (its fd watched in the poller's own epoll
//! set: an io_uring fd is readable while its completion queue holds
//! entries, so the uv_poll that nests the poller in Node's loop wakes for
//! completions too, and stops once they are reaped), the provided-buffer
//! ring of pool chunks, the pinned slabs those chunks live in, the gather
//! lists of sends in flight, and the requests in flight.
//!
//! Memory the kernel may write (receive buffers) or read (send buffers)
//! must outlive every request that names it: slabs are pinned with a
//! napi_ref until the ring is gone, and the ring is only torn down after
//! every request in flight has completed (cancel all, then wait for them).
const std = @import("std");
const assert = std.debug.assert;
const linux = std.os.linux;
const c = @import("c.zig");
const napi = @import("napi.zig");
const limits = @import("limits.zig");
const uring = @import("sys/uring.zig");
const errno = @import("sys/errno.zig");
const socket = @import("sys/socket.zig");

const allocator = @import("allocator.zig").allocator;

/// What a request was, in the low byte of its user_data; JavaScript gets it back with the completion.
pub const Op = enum(u8) { recv = 1, accept = 2, send = 3, cancel = 4, close = 5 };

/// user_data: generation (high 32 bits) | fd (20 bits) | slot (8 bits) | op (4 bits).
/// Every request carries its owner's generation, so a completion for a
/// closed owner is told from one for the next holder of the fd number; a
/// writev also carries the gather list it holds until its completion.
pub fn user_data(op: Op, fd: i32, generation: u32, slot: u32) u64 {
    assert(fd >= 0 and fd < limits.ring_fd_limit and slot <= limits.ring_no_slot);
    const low: u32 = @as(u32, @intCast(fd)) << 12 | slot << 4 | @intFromEnum(op);
    return @as(u64, generation) << 32 | low;
}

fn data_op(data: u64) u8 {
    return @truncate(data & 0xf);
}

fn data_slot(data: u64) u32 {
    return @truncate((data >> 4) & 0xff);
}

fn data_fd(data: u64) u32 {
    return @truncate((data >> 12) & (limits.ring_fd_limit - 1));
}

fn data_tag(data: u64) u32 {
    return @truncate(data >> 32);
}

/// Completion flags as JavaScript reads them in a completion's third word.
pub const completion_more: u32 = 1 << 8;
pub const completion_buffer: u32 = 1 << 9;
pub const completion_buffer_shift: u5 = 16;

/// The ring's own counts; the order is the wire format of ringCounters.
/// enter is a system call; the rest are not.
pub const Count = enum(u8) { enter, sqes, cqes, enobufs, overflows };
pub const counts_count: u32 = @typeInfo(Count).Enum.fields.len;

/// An ArrayBuffer the pool carves chunks from, kept alive for the kernel.
const Slab = struct { reference: c.napi_ref, bytes: []u8 };

/// The gather list of one writev in flight.
const SendSlot = struct { iovecs: [limits.ring_send_iovecs_max]socket.Iovec };

pub const RingState = struct {
    ring: uring.Ring,
    buffers: uring.BufferRing,
    slabs: std.ArrayListUnmanaged(Slab),
    send_slots: []SendSlot,
    /// Free send slots, a stack: free_slots[0..free_count).
    free_slots: []u32,
    free_count: u32,
    /// Requests whose last completion has not come (a multishot one counts once).
    in_flight: u32,
    counts: [counts_count]u64,
    staging: [limits.completions_max]linux.io_uring_cqe,

    /// Sets up the ring and a buffer ring of `buffer_entries`:
    /// the state, or -errno. `sq_entries` and `buffer_entries` are powers of two.
    pub fn create(sq_entries: u13, buffer_entries: u16, out: *?*RingState) i32 {
        const self = allocator.create(RingState) catch return errno.negative(.NOMEM);
        self.slabs = .{};
        self.free_count = 0;
        self.in_flight = 0;
        self.counts = [_]u64{0} ** counts_count;
        var rc = self.ring.open(sq_entries, uring.reactor_setup_flags);
        if (rc < 0) {
            allocator.destroy(self);
            return rc;
        }
        rc = self.buffers.register(&self.ring, 0, buffer_entries);
        if (rc < 0) return self.fail_setup(rc, 1);
        const slots_count = @min(@as(u32, sq_entries) * limits.ring_send_slots_per_sqe, limits.ring_no_slot);
        self.send_slots = allocator.alloc(SendSlot, slots_count) catch return self.fail_setup(errno.negative(.NOMEM), 2);
        self.free_slots = allocator.alloc(u32, slots_count) catch {
            allocator.free(self.send_slots);
            return self.fail_setup(errno.negative(.NOMEM), 2);
        };
        for (self.free_slots, 0..) |*slot, index| slot.* = @intCast(slots_count - 1 - index);
        self.free_count = slots_count;
        out.* = self;
        return 0;
    }

    /// Undoes the first `stage` steps of create (1: ring, 2: + buffer ring).
    fn fail_setup(self: *RingState, rc: i32, stage: u8) i32 {
        if (stage >= 2) self.buffers.unregister(&self.ring);
        self.ring.deinit();
        allocator.destroy(self);
        return rc;
    }

    /// Cancels everything in flight and waits for the last completion (the
    /// kernel must be done with every buffer), then frees the ring (its fd
    /// leaves the poller's epoll set as it closes), the slots and the slab references. Fds the requests used
    /// stay open: their owners close them.
    pub fn destroy(self: *RingState, env: napi.Env) void {
        var round: u32 = 0;
        while (self.in_flight > 0 and round < limits.ring_drain_rounds_max) : (round += 1) {
            if (self.ring.sqe()) |entry| {
                linux.io_uring_prep_rw(.ASYNC_CANCEL, entry, -1, 0, 0, 0);
                entry.rw_flags = uring.cancel_any | uring.cancel_all;
                entry.user_data = 0;
            }
            _ = linux.io_uring_enter(self.ring.io.fd, self.ring.io.flush_sq(), 1, linux.IORING_ENTER_GETEVENTS, null);
            while (true) {
                const count = self.ring.reap(&self.staging);
                if (count <= 0) break;
                for (self.staging[0..@intCast(count)]) |cqe| _ = self.settle(cqe);
            }
        }
        self.buffers.unregister(&self.ring);
        self.ring.deinit();
        for (self.slabs.items) |slab| _ = c.napi_delete_reference(env, slab.reference);
        self.slabs.deinit(allocator);
        allocator.free(self.send_slots);
        allocator.free(self.free_slots);
        allocator.destroy(self);
    }

    /// A free SQE, submitting what is queued first when the queue is full; null if even that fails.
    pub fn sqe(self: *RingState) ?*linux.io_uring_sqe {
        const one = self.sqes(1) orelse return null;
        return one[0];
    }

    /// `count` free SQEs for one request (a linked pair), submitting what is
    /// queued first when the queue lacks room for all of them: they are taken
    /// together because a submit between them would send one unprepared.
    /// Null when even a submit leaves too little room.
    pub fn sqes(self: *RingState, comptime count: u32) ?[count]*linux.io_uring_sqe {
        const io = &self.ring.io;
        if (io.sq.sqes.len - io.sq_ready() < count) _ = self.submit();
        if (io.sq.sqes.len - io.sq_ready() < count) return null;
        var entries: [count]*linux.io_uring_sqe = undefined;
        for (&entries) |*entry| entry.* = io.get_sqe() catch unreachable; // room checked above
        self.counts[@intFromEnum(Count.sqes)] += count;
        return entries;
    }

    /// Submits what is queued: the count taken, or -errno.
    pub fn submit(self: *RingState) i32 {
        self.counts[@intFromEnum(Count.enter)] += 1;
        return self.ring.submit();
    }

    /// A send slot's gather list, or null when every slot is in flight.
    pub fn take_slot(self: *RingState) ?u32 {
        if (self.free_count == 0) return null;
        self.free_count -= 1;
        return self.free_slots[self.free_count];
    }

    pub fn give_slot(self: *RingState, slot: u32) void {
        assert(slot < self.send_slots.len and self.free_count < self.free_slots.len);
        self.free_slots[self.free_count] = slot;
        self.free_count += 1;
    }

    /// One completion's bookkeeping: the request in flight ends unless MORE
    /// says it stays armed; a writev's slot is free again. Returns its op.
    fn settle(self: *RingState, cqe: linux.io_uring_cqe) u8 {
        const op = data_op(cqe.user_data);
        if (cqe.user_data == 0) return 0; // the teardown's own cancel
        if (cqe.flags & uring.cqe_more == 0) {
            assert(self.in_flight > 0);
            self.in_flight -= 1;
        }
        if (op == @intFromEnum(Op.send) and data_slot(cqe.user_data) != limits.ring_no_slot) self.give_slot(data_slot(cqe.user_data));
        return op;
    }

    /// Takes every completion ready into `out` as four words each: fd,
    /// generation, op | flags, result; stops when `out` is full (the caller
    /// reaps again, and the ring's fd stays readable for what is left).
    /// Enters the kernel only when it must: once, to submit what is queued
    /// and run the deferred completion work, and again only while deferred
    /// work waits or requests were queued since; completions already in the
    /// queue are read from memory. No eventfd: the ring's fd in the poller's
    /// epoll set is level-triggered on the queue itself, so a reap that took
    /// everything leaves nothing to wake the loop for (an eventfd's counter
    /// outlived the completions it announced when an earlier reap took them:
    /// a third of the turns at -c100 woke for nothing), and nothing needs reading.
    pub fn reap_into(self: *RingState, out: []i32, on_accept: anytype) i32 {
        const capacity = out.len / limits.completion_words;
        var written: usize = 0;
        var entered = false;
        var empty_enters: u32 = 0;
        while (written < capacity) {
            if (self.ring.overflowed()) self.counts[@intFromEnum(Count.overflows)] += 1;
            const room = self.staging[0..@min(self.staging.len, capacity - written)];
            var rc: i32 = @intCast(self.ring.copy_ready(room));
            if (rc == 0 and (!entered or self.ring.taskrun_pending() or self.ring.unsubmitted_count() > 0)) {
                self.counts[@intFromEnum(Count.enter)] += 1;
                entered = true;
                rc = self.ring.enter_and_copy(room);
                if (rc < 0) return rc;
                if (rc == 0 and self.ring.taskrun_pending()) {
                    // Work keeps arriving (a busy peer): bounded, so one callback cannot
                    // spin. The work runs as this thread next leaves the kernel, and
                    // what it posts makes the ring's fd readable: the loop comes back.
                    empty_enters += 1;
                    if (empty_enters >= limits.ring_empty_enters_max) return @intCast(written);
                    continue;
                }
            }
            if (rc == 0) break;
            empty_enters = 0;
            for (self.staging[0..@intCast(rc)]) |cqe| {
                const op = self.settle(cqe);
                var result = cqe.res;
                if (op == @intFromEnum(Op.accept)) result = on_accept.record(result);
                if (op == @intFromEnum(Op.recv) and result == errno.negative(.NOBUFS)) self.counts[@intFromEnum(Count.enobufs)] += 1;
                var flags: u32 = op;
                if (cqe.flags & uring.cqe_more != 0) flags |= completion_more;
                if (cqe.flags & uring.cqe_buffer != 0) flags |= completion_buffer | @as(u32, uring.buffer_id(cqe)) << completion_buffer_shift;
                const base = written * limits.completion_words;
                out[base] = @intCast(data_fd(cqe.user_data));
                out[base + 1] = @bitCast(data_tag(cqe.user_data));
                out[base + 2] = @bitCast(flags);
                out[base + 3] = result;
                written += 1;
            }
            self.counts[@intFromEnum(Count.cqes)] += @intCast(rc);
        }
        return @intCast(written);
    }

    /// Pins `bytes` (a slab's whole ArrayBuffer view) for the kernel: its index, or -ENOMEM.
    pub fn pin(self: *RingState, env: napi.Env, value: napi.Value, bytes: []u8) napi.Error!i32 {
        if (self.slabs.items.len >= limits.ring_slabs_max) return errno.negative(.NOMEM);
        var reference: c.napi_ref = null;
        try napi.check(env, c.napi_create_reference(env, value, 1, &reference));
        self.slabs.append(allocator, .{ .reference = reference, .bytes = bytes }) catch {
            _ = c.napi_delete_reference(env, reference);
            return errno.negative(.NOMEM);
        };
        return @intCast(self.slabs.items.len - 1);
    }
};

comptime {
    assert(limits.ring_fd_limit == 1 << 20 and limits.ring_no_slot == 0xff);
}
