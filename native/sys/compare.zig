//! poll(2), select(2) and sched_setaffinity(2): only for the comparison
//! benchmarks (the scaling curve) and for pinning a reactor thread.
const std = @import("std");
const linux = std.os.linux;
const errno = @import("errno.zig");
const limits = @import("../limits.zig");

pub const PollFd = linux.pollfd;

pub fn poll(fds: []PollFd, timeout_ms: i32) i32 {
    std.debug.assert(fds.len <= limits.poll_fds_max);
    return errno.result(linux.poll(fds.ptr, @intCast(fds.len), timeout_ms));
}

/// The kernel's fd_set: one bit per fd below FD_SETSIZE.
pub const FdSet = [limits.select_fd_max / 64]u64;

pub fn fd_set_add(set: *FdSet, fd: u32) void {
    std.debug.assert(fd < limits.select_fd_max);
    set[fd / 64] |= @as(u64, 1) << @intCast(fd % 64);
}

pub fn fd_set_has(set: *const FdSet, fd: u32) bool {
    std.debug.assert(fd < limits.select_fd_max);
    return set[fd / 64] & (@as(u64, 1) << @intCast(fd % 64)) != 0;
}

/// select(2) for readability (through pselect6, which every architecture
/// has). `set` is replaced by the ready set, as select does.
pub fn select_readable(fd_count: u32, set: *FdSet, timeout_ms: i32) i32 {
    std.debug.assert(fd_count <= limits.select_fd_max);
    var timeout: linux.timespec = .{
        .tv_sec = @divTrunc(timeout_ms, 1000),
        .tv_nsec = @rem(timeout_ms, 1000) * std.time.ns_per_ms,
    };
    const timeout_address: usize = if (timeout_ms < 0) 0 else @intFromPtr(&timeout);
    return errno.result(linux.syscall6(.pselect6, fd_count, @intFromPtr(set), 0, 0, timeout_address, 0));
}

/// Pins the calling thread (tid 0) to one CPU.
pub fn set_affinity(cpu: u32) i32 {
    std.debug.assert(cpu < limits.cpus_max);
    var mask = std.mem.zeroes([limits.cpus_max / 64]u64);
    mask[cpu / 64] = @as(u64, 1) << @intCast(cpu % 64);
    return errno.result(linux.syscall3(.sched_setaffinity, 0, @sizeOf(@TypeOf(mask)), @intFromPtr(&mask)));
}

test "select and poll see a readable pipe" {
    var fds: [2]i32 = undefined;
    try std.testing.expectEqual(@as(usize, 0), linux.pipe2(&fds, linux.O.NONBLOCK | linux.O.CLOEXEC));
    defer for (fds) |fd| {
        _ = linux.close(fd);
    };
    var set = std.mem.zeroes(FdSet);
    fd_set_add(&set, @intCast(fds[0]));
    try std.testing.expectEqual(@as(i32, 0), select_readable(@intCast(fds[0] + 1), &set, 0));
    _ = linux.write(fds[1], "x", 1);
    set = std.mem.zeroes(FdSet);
    fd_set_add(&set, @intCast(fds[0]));
    try std.testing.expectEqual(@as(i32, 1), select_readable(@intCast(fds[0] + 1), &set, 0));
    try std.testing.expect(fd_set_has(&set, @intCast(fds[0])));
    var poll_fds = [_]PollFd{.{ .fd = fds[0], .events = linux.POLL.IN, .revents = 0 }};
    try std.testing.expectEqual(@as(i32, 1), poll(&poll_fds, 0));
    try std.testing.expect(poll_fds[0].revents & linux.POLL.IN != 0);
}
