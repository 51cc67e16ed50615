//! Per-poller counts of system calls and of EAGAIN results, so the reactor
//! can report system calls per request. Plain u64s: counting costs an add.
const std = @import("std");
const errno = @import("sys/errno.zig");

/// The order is the wire format of Poller.readCounters (a Float64Array);
/// packages/reactor/src/native.ts lists the same names in the same order.
pub const Kind = enum(u8) {
    epoll_wait,
    epoll_ctl,
    read,
    write,
    writev,
    accept4,
    sendfile,
    splice,
    close,
    eagain,
};

pub const kinds_count: u32 = @typeInfo(Kind).Enum.fields.len;

pub const Counters = struct {
    values: [kinds_count]u64 = [_]u64{0} ** kinds_count,

    /// Counts one call of `kind` and, when it returned EAGAIN, one EAGAIN.
    /// Returns `rc` so a call site reads `return counters.count(.read, rc)`.
    pub fn count(self: *Counters, kind: Kind, rc: i32) i32 {
        std.debug.assert(kind != .eagain);
        self.values[@intFromEnum(kind)] += 1;
        if (rc == errno.eagain) self.values[@intFromEnum(Kind.eagain)] += 1;
        return rc;
    }
};

test "count adds the call and the EAGAIN" {
    var counters = Counters{};
    _ = counters.count(.read, 5);
    _ = counters.count(.read, errno.eagain);
    try std.testing.expectEqual(@as(u64, 2), counters.values[@intFromEnum(Kind.read)]);
    try std.testing.expectEqual(@as(u64, 1), counters.values[@intFromEnum(Kind.eagain)]);
}
