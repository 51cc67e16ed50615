//! The poller's io_uring methods, for the io_uring backend: open the ring,
//! pin the pool's slabs and provide chunks as receive buffers, arm
//! multishot receives and accepts, queue sends, cancel, cancel-then-close,
//! submit a turn's requests with one io_uring_enter, reap completions.
//! Requests are queued, not sent: ringSubmit (or the next ringReap) sends
//! them. Every fd must be owned; every buffer is checked before the kernel
//! is given its address.
const std = @import("std");
const assert = std.debug.assert;
const linux = std.os.linux;
const c = @import("../c.zig");
const napi = @import("../napi.zig");
const limits = @import("../limits.zig");
const epoll = @import("../sys/epoll.zig");
const errno = @import("../sys/errno.zig");
const socket = @import("../sys/socket.zig");
const uring = @import("../sys/uring.zig");
const ring_module = @import("../ring.zig");
const RingState = ring_module.RingState;
const Op = ring_module.Op;
const Poller = @import("../poller.zig").Poller;
const receiver = @import("receiver.zig");
const guard = @import("guard.zig");
const io = @import("io.zig");

pub const methods = [_]io.Method{
    .{ .name = "ringOpen", .callback = open },
    .{ .name = "ringPin", .callback = pin },
    .{ .name = "ringProvide", .callback = provide },
    .{ .name = "ringRecv", .callback = recv },
    .{ .name = "ringAccept", .callback = accept },
    .{ .name = "ringSend", .callback = send },
    .{ .name = "ringSendRange", .callback = send_range },
    .{ .name = "ringCancel", .callback = cancel },
    .{ .name = "ringClose", .callback = close },
    .{ .name = "ringSubmit", .callback = submit },
    .{ .name = "ringReap", .callback = reap },
    .{ .name = "ringCounters", .callback = counters },
};

fn power_of_two(env: napi.Env, value: napi.Value, name: []const u8, max: u32) napi.Error!u32 {
    const number: u32 = @intCast(try napi.integer(env, value, name, 1, max));
    if (!std.math.isPowerOfTwo(number)) {
        return napi.throw_range(env, .ERR_OUT_OF_RANGE, "The value of \"{s}\" is out of range. It must be a power of two. Received {d}", .{ name, number });
    }
    return number;
}

/// The poller's ring, or ERR_ZEPOLL_RING_CLOSED when ringOpen was not called.
fn ring_of(env: napi.Env, poller: *Poller) napi.Error!*RingState {
    return poller.ring orelse napi.throw_error(env, .ERR_ZEPOLL_POLLER_CLOSED, "The poller has no io_uring: call ringOpen() first", .{});
}

/// A request's generation tag (the owner's, as with epoll tokens).
fn tag(env: napi.Env, value: napi.Value) napi.Error!u32 {
    return @intCast(try napi.integer(env, value, "generation", 0, limits.generation_max));
}

/// An owned fd a request can name (user_data holds 24 bits of it).
fn ring_fd(env: napi.Env, poller: *Poller, value: napi.Value, name: []const u8) napi.Error!i32 {
    const fd = try guard.owned_fd(env, poller.instance, value, name);
    if (fd >= limits.ring_fd_limit) return napi.throw_range(env, .ERR_OUT_OF_RANGE, "The \"{s}\" argument is fd {d}: io_uring requests take fds below {d}", .{ name, fd, limits.ring_fd_limit });
    return fd;
}

/// ringOpen(sqEntries, bufferEntries) → the ring's fd (>= 0, in this poller's
/// epoll set with generation 0: readable while completions wait) | -errno.
fn open(env: napi.Env, info: napi.Info) callconv(.C) napi.Value {
    const call = receiver.open(env, info, 2) catch return null;
    const poller = call.poller;
    if (poller.ring != null) {
        _ = napi.throw_error(env, .ERR_ZEPOLL_POLLER_STARTED, "The poller's io_uring is already open", .{}) catch {};
        return null;
    }
    const sq_entries = power_of_two(env, call.values[0], "sqEntries", limits.ring_sq_entries_max) catch return null;
    const buffer_entries = power_of_two(env, call.values[1], "bufferEntries", limits.ring_buffers_max) catch return null;
    var state: ?*RingState = null;
    const rc = RingState.create(@intCast(sq_entries), @intCast(buffer_entries), &state);
    if (rc < 0) return napi.int(env, rc);
    const ring = state.?;
    const added = poller.counters.count(.epoll_ctl, epoll.ctl(poller.epfd, .add, ring.ring.io.fd, linux.EPOLL.IN, 0));
    if (added < 0) {
        ring.destroy(env);
        return napi.int(env, added);
    }
    poller.ring = ring;
    return napi.int(env, ring.ring.io.fd);
}

/// ringPin(slab: Uint8Array) → the slab's index: its memory stays alive
/// (and may be given to the kernel) until the poller closes.
fn pin(env: napi.Env, info: napi.Info) callconv(.C) napi.Value {
    const call = receiver.open(env, info, 1) catch return null;
    const ring = ring_of(env, call.poller) catch return null;
    const bytes = napi.typed_array(env, call.values[0], "slab", .uint8) catch return null;
    if (bytes.len == 0) {
        _ = napi.throw_range(env, .ERR_OUT_OF_RANGE, "The \"slab\" argument is empty (or detached)", .{}) catch {};
        return null;
    }
    const rc = ring.pin(env, call.values[0], bytes) catch return null;
    return napi.int(env, rc);
}

/// ringProvide(slab, offset, length, id) → 0: bytes [offset, offset +
/// length) of pinned slab `slab` become receive buffer `id`.
fn provide(env: napi.Env, info: napi.Info) callconv(.C) napi.Value {
    const call = receiver.open(env, info, 4) catch return null;
    const ring = ring_of(env, call.poller) catch return null;
    const index: usize = @intCast(napi.integer(env, call.values[0], "slab", 0, limits.ring_slabs_max - 1) catch return null);
    if (index >= ring.slabs.items.len) {
        _ = napi.throw_range(env, .ERR_OUT_OF_RANGE, "The value of \"slab\" is out of range. It must be < {d} (slabs pinned). Received {d}", .{ ring.slabs.items.len, index }) catch {};
        return null;
    }
    const offset = napi.integer(env, call.values[1], "offset", 0, limits.safe_integer_max) catch return null;
    const length = napi.integer(env, call.values[2], "length", 1, limits.safe_integer_max) catch return null;
    const buffer = napi.slice(env, ring.slabs.items[index].bytes, offset, length, limits.io_size_max) catch return null;
    const id: u16 = @intCast(napi.integer(env, call.values[3], "id", 0, std.math.maxInt(u16)) catch return null);
    ring.buffers.add(buffer, id);
    ring.buffers.publish();
    return napi.int(env, 0);
}

/// What JavaScript gets when the submission queue cannot take a request
/// even after RingState.sqes submitted what it held: the backend throws it.
const queue_full: i32 = errno.negative(.BUSY);

/// The submission queue had no room for a request, even after a submit.
const QueueError = error{QueueFull};

/// `count` SQEs for one request (cancel-then-close takes its linked pair
/// at once), or error.QueueFull. Nothing may fail between this and
/// `queued`: a taken SQE goes to the kernel with the next submit, prepared
/// or not, so each binding checks its arguments before it takes one.
fn take_sqes(ring: *RingState, comptime count: u32) QueueError![count]*linux.io_uring_sqe {
    return ring.sqes(count) orelse error.QueueFull;
}

fn take_sqe(ring: *RingState) QueueError!*linux.io_uring_sqe {
    const one = try take_sqes(ring, 1);
    return one[0];
}

/// When a request brings the poller's uv reference up to date: as it is
/// queued (`update`), or at the ringSubmit or ringReap that sends it
/// (`at_submit`; both call update_ref). The cancel and close bindings have
/// always left it to the submit, the others have not; kept as it was.
const Ref = enum { update, at_submit };

/// Ends one request's queuing, after the caller prepared `entry`: tags it
/// with `data`, counts it in flight until its last completion (RingState.settle
/// takes it off), then updates the poller's reference as `ref` says. The
/// sys/ preps that take a user_data were given the same `data`.
fn queued(poller: *Poller, ring: *RingState, entry: *linux.io_uring_sqe, data: u64, ref: Ref) void {
    assert(data != 0); // 0 is the teardown's own cancel, which settle() does not count
    assert(ring.ring.unsubmitted(entry)); // from take_sqes, not yet sent
    entry.user_data = data;
    ring.in_flight += 1;
    if (ref == .update) poller.update_ref();
}

/// ringRecv(fd, generation) → 0 | -EBUSY: a receive into one of the
/// provided buffers, completing once (no MORE); the backend arms the next.
///
/// One receive per request, not multishot: with COOP_TASKRUN the kernel
/// runs receive work whenever this thread leaves a system call, so a
/// multishot receive would drain a socket into the buffer ring (32 MiB by
/// default) between two of the reactor's batches, whatever the owner's
/// pause says, and a client's upload would never meet TCP backpressure.
/// One buffer per request bounds what a connection takes before the
/// reactor has seen it; the backend re-arms after each batch.
fn recv(env: napi.Env, info: napi.Info) callconv(.C) napi.Value {
    const call = receiver.open(env, info, 2) catch return null;
    const ring = ring_of(env, call.poller) catch return null;
    const fd = ring_fd(env, call.poller, call.values[0], "fd") catch return null;
    const generation = tag(env, call.values[1]) catch return null;
    const entry = take_sqe(ring) catch return full_after_update(env, call.poller);
    const data = ring_module.user_data(.recv, fd, generation, limits.ring_no_slot);
    uring.prep_recv_one(entry, fd, ring.buffers.group, data);
    queued(call.poller, ring, entry, data, .update);
    return napi.int(env, 0);
}

/// -EBUSY for ringRecv and ringAccept, which update the reference on that
/// path too (as they always have): a cancel or close queued before them
/// (`at_submit`) is counted in flight but not yet in the reference.
fn full_after_update(env: napi.Env, poller: *Poller) napi.Value {
    poller.update_ref();
    return napi.int(env, queue_full);
}

/// ringAccept(listenFd, generation) → 0 | -EBUSY: a multishot accept; each
/// completion's result is a new fd (owned, non-blocking) or -errno.
fn accept(env: napi.Env, info: napi.Info) callconv(.C) napi.Value {
    const call = receiver.open(env, info, 2) catch return null;
    const ring = ring_of(env, call.poller) catch return null;
    const fd = ring_fd(env, call.poller, call.values[0], "listenFd") catch return null;
    const generation = tag(env, call.values[1]) catch return null;
    const entry = take_sqe(ring) catch return full_after_update(env, call.poller);
    const data = ring_module.user_data(.accept, fd, generation, limits.ring_no_slot);
    uring.prep_accept_multishot(entry, fd, data);
    queued(call.poller, ring, entry, data, .update);
    return napi.int(env, 0);
}

/// ringSend(fd, generation, buffers: Uint8Array[], count) → 0 | -EBUSY: one send of
/// buffers[0..count) (at most ring_send_iovecs_max; more is a short send).
/// The caller keeps the buffers unchanged until the completion.
fn send(env: napi.Env, info: napi.Info) callconv(.C) napi.Value {
    const call = receiver.open(env, info, 4) catch return null;
    const poller = call.poller;
    const ring = ring_of(env, poller) catch return null;
    const fd = ring_fd(env, poller, call.values[0], "fd") catch return null;
    const generation = tag(env, call.values[1]) catch return null;
    var count = io.gather(env, call.values[2], call.values[3], &poller.iovecs) catch return null;
    if (count == 0) {
        _ = napi.throw_range(env, .ERR_OUT_OF_RANGE, "The value of \"count\" is out of range. It must be >= 1. Received 0", .{}) catch {};
        return null;
    }
    count = @min(count, limits.ring_send_iovecs_max);
    const slot = if (count > 1) ring.take_slot() else null;
    const entry = take_sqe(ring) catch {
        if (slot) |taken| ring.give_slot(taken);
        return napi.int(env, queue_full);
    };
    const data = ring_module.user_data(.send, fd, generation, slot orelse limits.ring_no_slot);
    if (slot) |index| {
        const iovecs = &ring.send_slots[index].iovecs;
        @memcpy(iovecs[0..count], poller.iovecs[0..count]);
        linux.io_uring_prep_writev(entry, fd, iovecs[0..count], 0);
    } else {
        // One buffer (or no gather list free): a send of the first, which may be short.
        const first = poller.iovecs[0];
        linux.io_uring_prep_send(entry, fd, first.iov_base[0..first.iov_len], linux.MSG.NOSIGNAL);
    }
    queued(poller, ring, entry, data, .update);
    return napi.int(env, 0);
}

/// ringSendRange(fd, generation, buffer, offset, length) → 0 | -EBUSY: one
/// send of buffer[offset, offset + length), kept unchanged until its completion.
fn send_range(env: napi.Env, info: napi.Info) callconv(.C) napi.Value {
    const call = receiver.open(env, info, 5) catch return null;
    const poller = call.poller;
    const ring = ring_of(env, poller) catch return null;
    const fd = ring_fd(env, poller, call.values[0], "fd") catch return null;
    const generation = tag(env, call.values[1]) catch return null;
    const buffer = napi.typed_array(env, call.values[2], "buffer", .uint8) catch return null;
    const offset = napi.integer(env, call.values[3], "offset", 0, limits.safe_integer_max) catch return null;
    const length = napi.integer(env, call.values[4], "length", 1, limits.safe_integer_max) catch return null;
    const bytes = napi.slice(env, buffer, offset, length, limits.io_size_max) catch return null;
    const entry = take_sqe(ring) catch return napi.int(env, queue_full);
    linux.io_uring_prep_send(entry, fd, bytes, linux.MSG.NOSIGNAL);
    queued(poller, ring, entry, ring_module.user_data(.send, fd, generation, limits.ring_no_slot), .update);
    return napi.int(env, 0);
}

/// ringCancel(fd, generation, op) → 0 | -EBUSY: cancels that request (a
/// paused connection's receive); its completion says -ECANCELED.
fn cancel(env: napi.Env, info: napi.Info) callconv(.C) napi.Value {
    const call = receiver.open(env, info, 3) catch return null;
    const ring = ring_of(env, call.poller) catch return null;
    const fd = ring_fd(env, call.poller, call.values[0], "fd") catch return null;
    const generation = tag(env, call.values[1]) catch return null;
    const op = napi.integer(env, call.values[2], "op", @intFromEnum(Op.recv), @intFromEnum(Op.send)) catch return null;
    const entry = take_sqe(ring) catch return napi.int(env, queue_full);
    // A receive is cancelled by its user_data; a send's carries its slot, so sends are cancelled by fd.
    if (op == @intFromEnum(Op.recv)) {
        linux.io_uring_prep_cancel(entry, ring_module.user_data(.recv, fd, generation, limits.ring_no_slot), 0);
    } else {
        uring.prep_cancel_fd(entry, fd, 0);
    }
    queued(call.poller, ring, entry, ring_module.user_data(.cancel, fd, generation, limits.ring_no_slot), .at_submit);
    return napi.int(env, 0);
}

/// ringClose(fd, generation) → 0 | -EBUSY: cancels every request on `fd`,
/// then closes it (hard-linked), so an armed receive cannot keep the socket
/// open. The fd is forgotten now (no call may name it again); the close
/// completion says when the kernel is done with it.
fn close(env: napi.Env, info: napi.Info) callconv(.C) napi.Value {
    const call = receiver.open(env, info, 2) catch return null;
    const ring = ring_of(env, call.poller) catch return null;
    const fd = ring_fd(env, call.poller, call.values[0], "fd") catch return null;
    const generation = tag(env, call.values[1]) catch return null;
    const pair = take_sqes(ring, 2) catch return napi.int(env, queue_full);
    _ = call.poller.instance.owned.disown(fd);
    const cancel_data = ring_module.user_data(.cancel, fd, generation, limits.ring_no_slot);
    const close_data = ring_module.user_data(.close, fd, generation, limits.ring_no_slot);
    uring.prep_cancel_close(pair[0], pair[1], fd, cancel_data, close_data);
    queued(call.poller, ring, pair[0], cancel_data, .at_submit);
    queued(call.poller, ring, pair[1], close_data, .at_submit);
    call.poller.counters.values[@intFromEnum(@import("../counters.zig").Kind.close)] += 1;
    return napi.int(env, 0);
}

/// ringSubmit() → SQEs taken | -errno: one io_uring_enter for what a turn queued.
fn submit(env: napi.Env, info: napi.Info) callconv(.C) napi.Value {
    const call = receiver.open(env, info, 0) catch return null;
    const ring = ring_of(env, call.poller) catch return null;
    const rc = ring.submit();
    call.poller.update_ref();
    return napi.int(env, rc);
}

/// Records the fds multishot accepts made as owned (closing one that cannot be).
const AcceptRecorder = struct {
    poller: *Poller,
    pub fn record(self: AcceptRecorder, result: i32) i32 {
        return guard.record(self.poller.instance, self.poller.counters.count(.accept4, result));
    }
};

/// ringReap(out: Int32Array) → completions written | -errno: submits what
/// is queued, runs deferred work, and copies completions as four words
/// each: fd, generation (or a send's slot), op | flags, result.
fn reap(env: napi.Env, info: napi.Info) callconv(.C) napi.Value {
    const call = receiver.open(env, info, 1) catch return null;
    const ring = ring_of(env, call.poller) catch return null;
    const out = napi.typed_array(env, call.values[0], "out", .int32) catch return null;
    if (out.len < limits.completion_words or out.len > limits.completions_max * limits.completion_words) {
        _ = napi.throw_range(env, .ERR_OUT_OF_RANGE, "The length of \"out\" is out of range. It must be from {d} to {d}. Received {d}", .{ limits.completion_words, limits.completions_max * limits.completion_words, out.len }) catch {};
        return null;
    }
    const rc = ring.reap_into(out, AcceptRecorder{ .poller = call.poller });
    call.poller.update_ref();
    return napi.int(env, rc);
}

/// ringCounters(out: Float64Array) → how many written: ring_module.Count's order.
fn counters(env: napi.Env, info: napi.Info) callconv(.C) napi.Value {
    const call = receiver.any(env, info, 1, true) catch return null;
    const out = napi.typed_array(env, call.values[0], "out", .float64) catch return null;
    const ring = call.poller.ring orelse return napi.uint(env, 0);
    const written = @min(out.len, ring_module.counts_count);
    for (ring.counts[0..written], 0..) |value, index| out[index] = @floatFromInt(value);
    return napi.uint(env, @intCast(written));
}
