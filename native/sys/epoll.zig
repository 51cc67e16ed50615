//! epoll over std.os.linux: create, interest changes, waits. No N-API here.
const std = @import("std");
const linux = std.os.linux;
const errno = @import("errno.zig");

pub const Event = linux.epoll_event;

/// A token is what epoll hands back with readiness: the fd in the low 32 bits
/// and the caller's generation in the high 32, so an event queued for a closed
/// fd cannot be mistaken for the new owner of the reused number.
pub fn token(fd: i32, generation: u32) u64 {
    std.debug.assert(fd >= 0);
    return @as(u64, generation) << 32 | @as(u64, @as(u32, @intCast(fd)));
}

pub fn token_fd(value: u64) u32 {
    return @truncate(value);
}

pub fn token_generation(value: u64) u32 {
    return @truncate(value >> 32);
}

pub fn create() i32 {
    return errno.result(linux.epoll_create1(linux.EPOLL.CLOEXEC));
}

pub const Op = enum(u32) {
    add = linux.EPOLL.CTL_ADD,
    modify = linux.EPOLL.CTL_MOD,
    remove = linux.EPOLL.CTL_DEL,
};

pub fn ctl(epfd: i32, op: Op, fd: i32, interest: u32, generation: u32) i32 {
    var event = Event{ .events = interest, .data = .{ .u64 = token(fd, generation) } };
    // Kernels before 2.6.9 wanted a non-null event even for DEL; passing one costs nothing.
    return errno.result(linux.epoll_ctl(epfd, @intFromEnum(op), fd, &event));
}

pub fn wait(epfd: i32, events: []Event, timeout_ms: i32) i32 {
    std.debug.assert(events.len > 0);
    return errno.result(linux.epoll_wait(epfd, events.ptr, @intCast(events.len), timeout_ms));
}

test "token round-trips fd and generation" {
    const value = token(1023, 0xdead_beef);
    try std.testing.expectEqual(@as(u32, 1023), token_fd(value));
    try std.testing.expectEqual(@as(u32, 0xdead_beef), token_generation(value));
}

test "a level-triggered pipe reports readable until drained" {
    var fds: [2]i32 = undefined;
    try std.testing.expectEqual(@as(usize, 0), linux.pipe2(&fds, linux.O.NONBLOCK | linux.O.CLOEXEC));
    defer _ = linux.close(fds[0]);
    defer _ = linux.close(fds[1]);
    const epfd = create();
    try std.testing.expect(epfd >= 0);
    defer _ = linux.close(epfd);
    try std.testing.expectEqual(@as(i32, 0), ctl(epfd, .add, fds[0], linux.EPOLL.IN, 7));
    var events: [4]Event = undefined;
    try std.testing.expectEqual(@as(i32, 0), wait(epfd, &events, 0));
    _ = linux.write(fds[1], "x", 1);
    try std.testing.expectEqual(@as(i32, 1), wait(epfd, &events, 0));
    try std.testing.expectEqual(@as(u32, 7), token_generation(events[0].data.u64));
    try std.testing.expectEqual(@as(i32, 1), wait(epfd, &events, 0)); // still unread
    try std.testing.expectEqual(errno.negative(.EXIST), ctl(epfd, .add, fds[0], linux.EPOLL.IN, 7));
}
