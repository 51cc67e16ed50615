//! The fds an env's zepoll opened (accept4, socket, socketpair, pipe2) or
//! was handed with adopt(): the only ones its calls act on. A descriptor
//! zepoll did not open (one of libuv's, a file Node opened) is refused
//! before any system call, so `close(fd)` on the wrong number cannot take
//! a descriptor away from its real owner, and a double close after the
//! number was reused by someone else becomes impossible through zepoll.
//!
//! A bit per fd number, grown on demand: fds are small integers bounded by
//! RLIMIT_NOFILE, so the set stays a few KiB (1 Mi fds: 128 KiB).
const std = @import("std");
const assert = std.debug.assert;

/// The set's first size, in fds (grown by doubling past it).
const bits_initial: usize = 1024;

pub const Owned = struct {
    bits: std.DynamicBitSetUnmanaged = .{},
    count: u32 = 0,

    /// Records `fd` as owned. Fails only when the set cannot grow.
    pub fn own(self: *Owned, allocator: std.mem.Allocator, fd: i32) error{OutOfMemory}!void {
        assert(fd >= 0);
        const index: usize = @intCast(fd);
        if (index >= self.bits.bit_length) {
            var size = @max(self.bits.bit_length, bits_initial);
            while (size <= index) size *= 2;
            try self.bits.resize(allocator, size, false);
        }
        if (!self.bits.isSet(index)) self.count += 1;
        self.bits.set(index);
    }

    /// Forgets `fd`; true when it was owned (the caller may then close it).
    pub fn disown(self: *Owned, fd: i32) bool {
        if (!self.owns(fd)) return false;
        self.bits.unset(@intCast(fd));
        assert(self.count > 0);
        self.count -= 1;
        return true;
    }

    pub fn owns(self: *const Owned, fd: i32) bool {
        if (fd < 0) return false;
        const index: usize = @intCast(fd);
        return index < self.bits.bit_length and self.bits.isSet(index);
    }

    pub fn deinit(self: *Owned, allocator: std.mem.Allocator) void {
        self.bits.deinit(allocator);
        self.* = .{};
    }
};

test "own, owns, disown; growth keeps what was owned" {
    const allocator = std.testing.allocator;
    var owned = Owned{};
    defer owned.deinit(allocator);
    try std.testing.expect(!owned.owns(3));
    try std.testing.expect(!owned.owns(-1));
    try owned.own(allocator, 3);
    try owned.own(allocator, 3);
    try std.testing.expectEqual(@as(u32, 1), owned.count);
    try owned.own(allocator, 70_000); // grows past the first size
    try std.testing.expect(owned.owns(3) and owned.owns(70_000));
    try std.testing.expect(!owned.owns(69_999));
    try std.testing.expect(owned.disown(3));
    try std.testing.expect(!owned.disown(3)); // a second close is refused
    try std.testing.expect(!owned.owns(3));
    try std.testing.expectEqual(@as(u32, 1), owned.count);
}
