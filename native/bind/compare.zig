//! poll(2), select(2) and sched_setaffinity(2) for the comparison
//! benchmarks, plus the empty call that measures the boundary itself.
const std = @import("std");
const c = @import("../c.zig");
const napi = @import("../napi.zig");
const limits = @import("../limits.zig");
const compare = @import("../sys/compare.zig");

/// poll(pollfds: Int32Array, count, timeoutMs) → ready count | -errno.
/// pollfds holds struct pollfd in place, two words per fd: the fd, then
/// events in the low 16 bits and revents (written by the kernel) in the high
/// 16, as a poll(2) server keeps its array between calls.
pub fn poll(env: napi.Env, info: napi.Info) callconv(.C) napi.Value {
    const call = napi.args(env, info, 3) catch return null;
    const words = napi.typed_array(env, call.values[0], "pollfds", .int32) catch return null;
    const count: usize = @intCast(napi.integer(env, call.values[1], "count", 0, limits.poll_fds_max) catch return null);
    const timeout = napi.integer(env, call.values[2], "timeoutMs", -1, std.math.maxInt(i32)) catch return null;
    if (count > words.len / 2) {
        _ = napi.throw_range(env, .ERR_OUT_OF_RANGE, "The value of \"count\" is out of range. It must be <= {d} (pollfds.length / 2). Received {d}", .{ words.len / 2, count }) catch {};
        return null;
    }
    comptime std.debug.assert(@sizeOf(compare.PollFd) == 2 * @sizeOf(i32));
    const fds: [*]compare.PollFd = @ptrCast(words.ptr);
    return napi.int(env, compare.poll(fds[0..count], @intCast(timeout)));
}

/// select(fds: Int32Array, count, ready: Int32Array, timeoutMs) → how many of
/// fds[0..count] are readable, written to `ready` | -errno. Rebuilds the
/// fd_set every call, as a select(2) server must.
pub fn select(env: napi.Env, info: napi.Info) callconv(.C) napi.Value {
    return select_checked(env, info) catch return null;
}

fn select_checked(env: napi.Env, info: napi.Info) napi.Error!napi.Value {
    const call = try napi.args(env, info, 4);
    const fds = try napi.typed_array(env, call.values[0], "fds", .int32);
    const count: usize = @intCast(try napi.integer(env, call.values[1], "count", 0, limits.select_fd_max));
    const ready = try napi.typed_array(env, call.values[2], "ready", .int32);
    const timeout = try napi.integer(env, call.values[3], "timeoutMs", -1, std.math.maxInt(i32));
    if (count > fds.len) {
        return napi.throw_range(env, .ERR_OUT_OF_RANGE, "The value of \"count\" is out of range. It must be <= {d} (fds.length). Received {d}", .{ fds.len, count });
    }
    if (ready.len < count) {
        return napi.throw_range(env, .ERR_OUT_OF_RANGE, "The length of \"ready\" is out of range. It must be >= count ({d}). Received {d}", .{ count, ready.len });
    }
    var set = std.mem.zeroes(compare.FdSet);
    var fd_count: u32 = 0;
    // JS memory is read once: `fds` may sit on a SharedArrayBuffer another
    // thread changes, so the second pass uses the checked copy.
    var checked: [limits.select_fd_max]u32 = undefined;
    for (fds[0..count], 0..) |fd, index| {
        if (fd < 0 or fd >= limits.select_fd_max) {
            return napi.throw_range(env, .ERR_OUT_OF_RANGE, "select(2) cannot watch fd {d}: its fd_set holds only fds below FD_SETSIZE ({d}); use poll or epoll", .{ fd, limits.select_fd_max });
        }
        checked[index] = @intCast(fd);
        compare.fd_set_add(&set, checked[index]);
        fd_count = @max(fd_count, checked[index] + 1);
    }
    const rc = compare.select_readable(fd_count, &set, @intCast(timeout));
    if (rc <= 0) return napi.int(env, rc);
    var written: usize = 0;
    for (checked[0..count]) |fd| {
        if (!compare.fd_set_has(&set, fd)) continue;
        ready[written] = @intCast(fd);
        written += 1;
    }
    std.debug.assert(written <= count);
    return napi.int(env, @intCast(written));
}

/// setAffinity(cpu) → 0 | -errno: pins the calling thread to one CPU.
pub fn set_affinity(env: napi.Env, info: napi.Info) callconv(.C) napi.Value {
    const call = napi.args(env, info, 1) catch return null;
    const cpu = napi.integer(env, call.values[0], "cpu", 0, limits.cpus_max - 1) catch return null;
    return napi.int(env, compare.set_affinity(@intCast(cpu)));
}

/// nop() → 0: does nothing, so bench/ can measure the cost of a call.
pub fn nop(env: napi.Env, info: napi.Info) callconv(.C) napi.Value {
    _ = info;
    return napi.int(env, 0);
}

comptime {
    _ = c;
}
