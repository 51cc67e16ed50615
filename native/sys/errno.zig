//! The one place that decodes raw system-call returns: `>= 0` is the result,
//! `< 0` is `-errno`. The hot path returns these integers unchanged to JS.
const std = @import("std");
const linux = std.os.linux;

pub fn result(rc: usize) i32 {
    return switch (linux.getErrno(rc)) {
        .SUCCESS => @intCast(rc),
        else => |err| -@as(i32, @intFromEnum(err)),
    };
}

/// For calls whose success value is larger than an i32 could hold (none on the
/// hot path: read/write sizes are capped at limits.io_size_max).
pub fn failed(rc: usize) bool {
    return linux.getErrno(rc) != .SUCCESS;
}

pub fn negative(err: linux.E) i32 {
    return -@as(i32, @intFromEnum(err));
}

pub const eagain: i32 = negative(.AGAIN);

test "result passes values and negates errno" {
    try std.testing.expectEqual(@as(i32, 5), result(5));
    try std.testing.expectEqual(@as(i32, -@as(i32, @intFromEnum(linux.E.AGAIN))), result(@bitCast(@as(isize, -11))));
    try std.testing.expectEqual(@as(i32, -9), result(linux.close(-1)));
}
