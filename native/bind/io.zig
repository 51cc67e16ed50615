//! The counted hot-path calls, as poller methods: read, write, writev,
//! accept, closeFd, sendfile, splice. Each returns `>= 0` or `-errno`;
//! only misuse throws.
const std = @import("std");
const c = @import("../c.zig");
const napi = @import("../napi.zig");
const limits = @import("../limits.zig");
const socket = @import("../sys/socket.zig");
const zerocopy = @import("../sys/zerocopy.zig");
const errno = @import("../sys/errno.zig");
const receiver = @import("receiver.zig");
const guard = @import("guard.zig");

pub const Method = struct { name: [:0]const u8, callback: c.napi_callback };

pub const methods = [_]Method{
    .{ .name = "read", .callback = read },
    .{ .name = "write", .callback = write },
    .{ .name = "writev", .callback = writev },
    .{ .name = "accept", .callback = accept },
    .{ .name = "closeFd", .callback = close_fd },
    .{ .name = "sendfile", .callback = sendfile },
    .{ .name = "splice", .callback = splice },
};

/// (buffer, offset, length) arguments starting at `first`.
fn bytes(env: napi.Env, values: []const napi.Value) napi.Error![]u8 {
    const buffer = try napi.typed_array(env, values[0], "buffer", .uint8);
    const offset = try napi.integer(env, values[1], "offset", 0, limits.safe_integer_max);
    const length = try napi.integer(env, values[2], "length", 0, limits.safe_integer_max);
    return napi.slice(env, buffer, offset, length, limits.io_size_max);
}

/// read(fd, buffer, offset, length) → bytes read (0 at end of stream) | -errno
fn read(env: napi.Env, info: napi.Info) callconv(.C) napi.Value {
    const call = receiver.open(env, info, 4) catch return null;
    const faults = &call.poller.instance.faults;
    const fd = guard.owned_fd(env, call.poller.instance, call.values[0], "fd") catch return null;
    const target = bytes(env, call.values[1..4]) catch return null;
    const fault = faults.fail(.read_error);
    const rc = if (fault != 0) fault else socket.read(fd, target[0..faults.shorten(.short_read, target.len)]);
    return napi.int(env, call.poller.counters.count(.read, rc));
}

/// write(fd, buffer, offset, length) → bytes written | -errno
fn write(env: napi.Env, info: napi.Info) callconv(.C) napi.Value {
    const call = receiver.open(env, info, 4) catch return null;
    const faults = &call.poller.instance.faults;
    const fd = guard.owned_fd(env, call.poller.instance, call.values[0], "fd") catch return null;
    const source = bytes(env, call.values[1..4]) catch return null;
    const fault = faults.fail(.write_error);
    const rc = if (fault != 0) fault else socket.write(fd, source[0..faults.shorten(.short_write, source.len)]);
    return napi.int(env, call.poller.counters.count(.write, rc));
}

/// writev(fd, buffers: Uint8Array[], count) → bytes written | -errno.
/// Writes the first `count` buffers of the array, so a caller can keep one
/// array and reuse it every turn.
fn writev(env: napi.Env, info: napi.Info) callconv(.C) napi.Value {
    const call = receiver.open(env, info, 3) catch return null;
    const faults = &call.poller.instance.faults;
    const fd = guard.owned_fd(env, call.poller.instance, call.values[0], "fd") catch return null;
    const iovecs = &call.poller.iovecs;
    var iovecs_count = gather(env, call.values[1], call.values[2], iovecs) catch return null;
    const fault = faults.fail(.write_error);
    if (fault == 0 and faults.active and iovecs_count > 0) {
        // A short writev: part of the first buffer only, as a nearly full socket would take.
        const first = faults.shorten(.short_write, iovecs[0].iov_len);
        if (first < iovecs[0].iov_len) {
            iovecs[0].iov_len = first;
            iovecs_count = 1;
        }
    }
    const rc = if (fault != 0) fault else socket.writev(fd, iovecs[0..iovecs_count]);
    return napi.int(env, call.poller.counters.count(.writev, rc));
}

pub fn gather(env: napi.Env, array: napi.Value, count_value: napi.Value, iovecs: *[limits.writev_buffers_max]socket.Iovec) napi.Error!usize {
    var is_array = false;
    try napi.check(env, c.napi_is_array(env, array, &is_array));
    if (!is_array) return napi.throw_type(env, .ERR_INVALID_ARG_TYPE, "The \"buffers\" argument must be an Array of Uint8Array", .{});
    var length: u32 = 0;
    try napi.check(env, c.napi_get_array_length(env, array, &length));
    const count: u32 = @intCast(try napi.integer(env, count_value, "count", 0, limits.writev_buffers_max));
    if (count > length) {
        return napi.throw_range(env, .ERR_OUT_OF_RANGE, "The value of \"count\" is out of range. It must be <= {d} (buffers.length). Received {d}", .{ length, count });
    }
    // Two passes: napi_get_element may run a getter, and a getter could
    // detach a buffer taken earlier. Only after every element is read are
    // the buffers' memory addresses looked up (which runs no JS).
    var elements: [limits.writev_buffers_max]napi.Value = undefined;
    for (elements[0..count], 0..) |*element, index| {
        try napi.check(env, c.napi_get_element(env, array, @intCast(index), element));
    }
    for (elements[0..count], 0..) |element, index| {
        const buffer = try napi.typed_array(env, element, "buffers[i]", .uint8);
        iovecs[index] = .{ .iov_base = buffer.ptr, .iov_len = buffer.len };
    }
    return count;
}

/// accept(listenFd, out: Int32Array) → how many fds were written to out
/// (accepting stops at EAGAIN, an error or out.length) | -errno when the
/// first accept4 fails (-EAGAIN when the backlog was empty).
fn accept(env: napi.Env, info: napi.Info) callconv(.C) napi.Value {
    const call = receiver.open(env, info, 2) catch return null;
    const self = call.poller.instance;
    const listen_fd = guard.owned_fd(env, self, call.values[0], "listenFd") catch return null;
    const out = napi.typed_array(env, call.values[1], "out", .int32) catch return null;
    if (out.len == 0 or out.len > limits.accept_batch_max) {
        _ = napi.throw_range(env, .ERR_OUT_OF_RANGE, "The length of \"out\" is out of range. It must be from 1 to {d}. Received {d}", .{ limits.accept_batch_max, out.len }) catch {};
        return null;
    }
    var accepted: u32 = 0;
    while (accepted < out.len) {
        const fault = self.faults.fail(.accept_error);
        const rc = call.poller.counters.count(.accept4, if (fault != 0) fault else guard.record(self, socket.accept(listen_fd)));
        if (rc < 0) {
            if (accepted == 0) return napi.int(env, rc);
            break; // the next call reports the error (or EAGAIN) again
        }
        out[accepted] = rc;
        accepted += 1;
    }
    return napi.uint(env, accepted);
}

/// closeFd(fd) → 0 | -errno. The kernel drops a closed fd from every epoll
/// set, but only when no dup of it is left: remove() it first.
fn close_fd(env: napi.Env, info: napi.Info) callconv(.C) napi.Value {
    const call = receiver.open(env, info, 1) catch return null;
    const fd = guard.owned_fd(env, call.poller.instance, call.values[0], "fd") catch return null;
    // Forgotten before the close: a second close of this number is refused, whoever holds it by then.
    _ = call.poller.instance.owned.disown(fd);
    return napi.int(env, call.poller.counters.count(.close, socket.close(fd)));
}

/// sendfile(outFd, inFd, offset, length) → bytes sent | -errno. `offset` is
/// the file position to read from; the file's own position is not moved.
fn sendfile(env: napi.Env, info: napi.Info) callconv(.C) napi.Value {
    const call = receiver.open(env, info, 4) catch return null;
    const out_fd = guard.owned_fd(env, call.poller.instance, call.values[0], "outFd") catch return null;
    // The file is the caller's and only read from (its position is not moved): it need not be owned.
    const in_fd = napi.fd(env, call.values[1], "inFd") catch return null;
    const offset = napi.integer(env, call.values[2], "offset", 0, limits.safe_integer_max) catch return null;
    const length = napi.integer(env, call.values[3], "length", 0, limits.io_size_max) catch return null;
    const fault = call.poller.instance.faults.fail(.sendfile_error);
    const rc = if (fault != 0) fault else zerocopy.sendfile(out_fd, in_fd, offset, @intCast(length));
    return napi.int(env, call.poller.counters.count(.sendfile, rc));
}

/// splice(inFd, outFd, length, flags) → bytes moved | -errno.
fn splice(env: napi.Env, info: napi.Info) callconv(.C) napi.Value {
    const call = receiver.open(env, info, 4) catch return null;
    const in_fd = guard.owned_fd(env, call.poller.instance, call.values[0], "inFd") catch return null;
    const out_fd = guard.owned_fd(env, call.poller.instance, call.values[1], "outFd") catch return null;
    const length = napi.integer(env, call.values[2], "length", 0, limits.io_size_max) catch return null;
    const flags: u32 = @intCast(napi.integer(env, call.values[3], "flags", 0, zerocopy.splice_flags_allowed) catch return null);
    if (flags & ~zerocopy.splice_flags_allowed != 0) {
        _ = napi.throw_type(env, .ERR_INVALID_ARG_VALUE, "The \"flags\" argument has bits splice does not take: 0x{x}", .{flags & ~zerocopy.splice_flags_allowed}) catch {};
        return null;
    }
    const fault = call.poller.instance.faults.fail(.splice_error);
    const rc = if (fault != 0) fault else zerocopy.splice(in_fd, out_fd, @intCast(length), flags);
    return napi.int(env, call.poller.counters.count(.splice, rc));
}

comptime {
    std.debug.assert(errno.eagain < 0);
}
