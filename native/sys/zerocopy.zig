//! sendfile, pipe2 and splice: bytes that move between kernel objects
//! without entering user memory.
const std = @import("std");
const linux = std.os.linux;
const errno = @import("errno.zig");
const limits = @import("../limits.zig");

/// sendfile(2) from `in_fd` at `offset` (not the file position) to `out_fd`.
pub fn sendfile(out_fd: i32, in_fd: i32, offset: i64, length: u32) i32 {
    std.debug.assert(offset >= 0 and length <= limits.io_size_max);
    var position: i64 = offset;
    return errno.result(linux.sendfile(out_fd, in_fd, &position, length));
}

/// A non-blocking, close-on-exec pipe: fds[0] reads, fds[1] writes.
pub fn pipe(fds: *[2]i32) i32 {
    return errno.result(linux.pipe2(fds, linux.O.NONBLOCK | linux.O.CLOEXEC));
}

/// fcntl commands of linux/fcntl.h (F_LINUX_SPECIFIC_BASE + 7 and + 8).
const F_SETPIPE_SZ: i32 = 1024 + 7;
const F_GETPIPE_SZ: i32 = 1024 + 8;

/// Sets a pipe's capacity to at least `size` bytes (the kernel rounds up to a
/// power-of-two number of pages): the capacity set, or -errno (EPERM past
/// /proc/sys/fs/pipe-max-size or the user's pipe pages, EBUSY below what the
/// pipe holds now).
pub fn set_pipe_size(fd: i32, size: u32) i32 {
    std.debug.assert(size >= limits.pipe_size_min and size <= limits.pipe_size_max);
    return errno.result(linux.fcntl(fd, F_SETPIPE_SZ, size));
}

/// A pipe's capacity in bytes, or -errno.
pub fn pipe_size(fd: i32) i32 {
    return errno.result(linux.fcntl(fd, F_GETPIPE_SZ, 0));
}

pub const SPLICE_F_MOVE: u32 = 1;
pub const SPLICE_F_NONBLOCK: u32 = 2;
pub const SPLICE_F_MORE: u32 = 4;
pub const splice_flags_allowed: u32 = SPLICE_F_MOVE | SPLICE_F_NONBLOCK | SPLICE_F_MORE;

/// splice(2) between two fds at their current positions (one must be a pipe).
pub fn splice(in_fd: i32, out_fd: i32, length: u32, flags: u32) i32 {
    std.debug.assert(length <= limits.io_size_max);
    std.debug.assert(flags & ~splice_flags_allowed == 0);
    // std.os.linux has no splice wrapper in this Zig; the raw call takes
    // (fd_in, off_in, fd_out, off_out, len, flags) with null offsets.
    return errno.result(linux.syscall6(
        .splice,
        @as(usize, @bitCast(@as(isize, in_fd))),
        0,
        @as(usize, @bitCast(@as(isize, out_fd))),
        0,
        length,
        flags,
    ));
}

test "splice moves bytes through a pipe" {
    var source: [2]i32 = undefined;
    var relay: [2]i32 = undefined;
    try std.testing.expectEqual(@as(i32, 0), pipe(&source));
    defer for (source) |fd| {
        _ = linux.close(fd);
    };
    try std.testing.expectEqual(@as(i32, 0), pipe(&relay));
    defer for (relay) |fd| {
        _ = linux.close(fd);
    };
    _ = linux.write(source[1], "hello", 5);
    try std.testing.expectEqual(@as(i32, 5), splice(source[0], relay[1], 64, SPLICE_F_NONBLOCK));
    var buffer: [8]u8 = undefined;
    try std.testing.expectEqual(@as(usize, 5), linux.read(relay[0], &buffer, buffer.len));
    try std.testing.expectEqualStrings("hello", buffer[0..5]);
    try std.testing.expectEqual(errno.eagain, splice(source[0], relay[1], 64, SPLICE_F_NONBLOCK));
}

test "a pipe's capacity grows with F_SETPIPE_SZ, and a socket is no pipe" {
    var fds: [2]i32 = undefined;
    try std.testing.expectEqual(@as(i32, 0), pipe(&fds));
    defer for (fds) |fd| {
        _ = linux.close(fd);
    };
    const default_size = pipe_size(fds[0]);
    try std.testing.expect(default_size >= 4096);
    const rc = set_pipe_size(fds[1], 256 * 1024);
    // 256 KiB is under the default pipe-max-size (1 MiB); a user over its pipe pages gets EPERM.
    try std.testing.expect(rc == 256 * 1024 or rc == -@as(i32, @intFromEnum(linux.E.PERM)));
    if (rc > 0) try std.testing.expectEqual(rc, pipe_size(fds[0]));
}
