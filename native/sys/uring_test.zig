//! Tests of uring.zig against the running kernel: the ring the reactor
//! would make, multishot accept and receive into a buffer ring, the
//! ENOBUFS end of a receive whose ring ran dry, cancel-then-close sending
//! the FIN, the ring fd nested in epoll, and which SQEs are still unsubmitted.
//! Each test opens a Fixture with the parts it needs. Skipped (not passed)
//! where the kernel or a seccomp profile refuses io_uring; the probe test
//! says why.
const std = @import("std");
const assert = std.debug.assert;
const linux = std.os.linux;
const testing = std.testing;
const errno = @import("errno.zig");
const socket = @import("socket.zig");
const uring = @import("uring.zig");

const test_entries: u13 = 8;
/// Reaping rounds before a test gives up on a completion (each round enters the kernel).
const reap_rounds_max: u32 = 10_000;

/// Receive buffers a fixture can provide, and the size of each: room for
/// every test's payload ("hello" is the longest).
const buffers_max: u16 = 2;
const buffer_size: usize = 16;
/// The buffer group and the first buffer id a fixture registers: neither
/// is 0 (the reactor's group, and a zeroed field's value), so a completion
/// that names them shows the kernel used what it was given.
const buffer_group: u16 = 3;
const buffer_id_first: u16 = 40;

/// What a test needs beside the ring; every part is optional.
const Parts = struct {
    /// Buffers provided as group `buffer_group` with ids from
    /// `buffer_id_first`: a power of two up to `buffers_max`, or 0 for no
    /// buffer ring.
    buffers: u16 = 0,
    /// An epoll set watching the ring's fd for EPOLLIN, as the reactor's poller does.
    epoll: bool = false,
    /// A connected stream socket pair: [0] for the ring, [1] for the peer.
    pair: bool = false,
};

/// A ring with the reactor's flags and the parts a test asked for, torn
/// down in reverse. Initialised in place: the buffer ring holds addresses
/// inside `storage`. A part not asked for stays -1 (fds) or 0 (buffers).
const Fixture = struct {
    ring: uring.Ring,
    buffers: uring.BufferRing,
    buffers_count: u16,
    storage: [buffers_max][buffer_size]u8,
    epoll_fd: i32,
    pair: [2]i32,

    /// Opens the ring or skips the test (io_uring refused here), then sets up `parts`.
    fn init(self: *Fixture, parts: Parts) !void {
        assert(parts.buffers <= buffers_max);
        self.buffers_count = 0;
        self.epoll_fd = -1;
        self.pair = .{ -1, -1 };
        try open_or_skip(&self.ring);
        errdefer self.deinit();
        if (parts.epoll) {
            self.epoll_fd = errno.result(linux.epoll_create1(linux.EPOLL.CLOEXEC));
            try testing.expect(self.epoll_fd >= 0);
            var event = linux.epoll_event{ .events = linux.EPOLL.IN, .data = .{ .u64 = 0 } };
            try testing.expectEqual(@as(i32, 0), errno.result(linux.epoll_ctl(self.epoll_fd, linux.EPOLL.CTL_ADD, self.ring.io.fd, &event)));
        }
        if (parts.buffers > 0) {
            try testing.expectEqual(@as(i32, 0), self.buffers.register(&self.ring, buffer_group, parts.buffers));
            self.buffers_count = parts.buffers;
            for (0..parts.buffers) |index| self.provide(@intCast(index));
        }
        if (parts.pair) try testing.expectEqual(@as(i32, 0), socket.socket_pair(&self.pair));
    }

    fn deinit(self: *Fixture) void {
        for (self.pair) |fd| {
            if (fd >= 0) _ = socket.close(fd);
        }
        if (self.buffers_count > 0) self.buffers.unregister(&self.ring);
        if (self.epoll_fd >= 0) _ = socket.close(self.epoll_fd);
        self.ring.deinit();
    }

    /// Gives `storage[index]` (back) to the kernel as buffer `buffer_id_first + index`.
    fn provide(self: *Fixture, index: u16) void {
        assert(index < self.buffers_count);
        self.buffers.add(&self.storage[index], buffer_id_first + index);
        self.buffers.publish();
    }
};

/// A ring with the reactor's flags, or a skip with the reason when io_uring is refused here.
fn open_or_skip(ring: *uring.Ring) !void {
    const rc = ring.open(test_entries, uring.reactor_setup_flags);
    if (rc == errno.negative(.NOSYS) or rc == errno.negative(.PERM)) {
        std.debug.print("io_uring unavailable here ({d}): skipped\n", .{rc});
        return error.SkipZigTest;
    }
    try testing.expectEqual(@as(i32, 0), rc);
}

/// Reaps until at least `want` completions arrived (in order) or the rounds run out.
fn reap_at_least(ring: *uring.Ring, out: []linux.io_uring_cqe, want: usize) !usize {
    var got: usize = 0;
    var round: u32 = 0;
    while (got < want and round < reap_rounds_max) : (round += 1) {
        const rc = ring.reap(out[got..]);
        try testing.expect(rc >= 0);
        got += @intCast(rc);
    }
    return got;
}

test "the probe answers 0 or the errno that refused io_uring" {
    const rc = uring.probe();
    const refused = [_]i32{ errno.negative(.NOSYS), errno.negative(.PERM), errno.negative(.INVAL), errno.negative(.OPNOTSUPP) };
    try testing.expect(rc == 0 or std.mem.indexOfScalar(i32, &refused, rc) != null);
}

test "an SQE is unsubmitted from its taking until the submit, and only this ring's are" {
    var fixture: Fixture = undefined;
    try fixture.init(.{});
    defer fixture.deinit();
    const first = fixture.ring.sqe().?;
    linux.io_uring_prep_nop(first);
    const second = fixture.ring.sqe().?;
    linux.io_uring_prep_nop(second);
    try testing.expect(fixture.ring.unsubmitted(first) and fixture.ring.unsubmitted(second));
    const elsewhere = std.mem.zeroes(linux.io_uring_sqe);
    try testing.expect(!fixture.ring.unsubmitted(&elsewhere));
    try testing.expectEqual(@as(i32, 2), fixture.ring.submit());
    try testing.expect(!fixture.ring.unsubmitted(first) and !fixture.ring.unsubmitted(second));
    // The ring wraps: an SQE taken again at a slot used before is unsubmitted again.
    for (0..test_entries) |_| linux.io_uring_prep_nop(fixture.ring.sqe().?);
    try testing.expect(fixture.ring.unsubmitted(first) and fixture.ring.unsubmitted(second));
    var cqes: [test_entries + 2]linux.io_uring_cqe = undefined;
    try testing.expectEqual(@as(usize, test_entries + 2), try reap_at_least(&fixture.ring, &cqes, test_entries + 2));
}

test "multishot receive fills buffers from the ring, names each, and ends with ENOBUFS when it runs dry" {
    var fixture: Fixture = undefined;
    try fixture.init(.{ .buffers = 2, .pair = true });
    defer fixture.deinit();
    const ring = &fixture.ring;
    const peer = fixture.pair[1];
    uring.prep_recv_multishot(ring.sqe().?, fixture.pair[0], buffer_group, 7);
    try testing.expectEqual(@as(i32, 1), ring.submit());

    var cqes: [4]linux.io_uring_cqe = undefined;
    try testing.expectEqual(@as(i32, 5), socket.write(peer, "hello"));
    try testing.expectEqual(@as(usize, 1), try reap_at_least(ring, &cqes, 1));
    try testing.expectEqual(@as(u64, 7), cqes[0].user_data);
    try testing.expectEqual(@as(i32, 5), cqes[0].res);
    try testing.expect(cqes[0].flags & uring.cqe_more != 0);
    try testing.expectEqual(buffer_id_first, uring.buffer_id(cqes[0]));
    try testing.expectEqualStrings("hello", fixture.storage[0][0..5]);

    try testing.expectEqual(@as(i32, 3), socket.write(peer, "abc"));
    try testing.expectEqual(@as(usize, 1), try reap_at_least(ring, &cqes, 1));
    try testing.expectEqual(buffer_id_first + 1, uring.buffer_id(cqes[0]));

    // Both buffers are taken: the next receive has nowhere to go.
    try testing.expectEqual(@as(i32, 1), socket.write(peer, "z"));
    try testing.expectEqual(@as(usize, 1), try reap_at_least(ring, &cqes, 1));
    try testing.expectEqual(errno.negative(.NOBUFS), cqes[0].res);
    try testing.expect(cqes[0].flags & uring.cqe_more == 0); // ended: re-arm once buffers are back

    fixture.provide(0);
    uring.prep_recv_multishot(ring.sqe().?, fixture.pair[0], buffer_group, 8);
    try testing.expectEqual(@as(usize, 1), try reap_at_least(ring, &cqes, 1));
    try testing.expectEqual(@as(u64, 8), cqes[0].user_data);
    try testing.expectEqual(@as(i32, 1), cqes[0].res); // the byte that waited in the socket
    try testing.expectEqual(@as(u8, 'z'), fixture.storage[0][0]);
}

test "cancel-then-close with a receive armed: the peer sees the FIN" {
    var fixture: Fixture = undefined;
    try fixture.init(.{ .buffers = 1, .pair = true });
    defer fixture.deinit();
    const ring = &fixture.ring;
    uring.prep_recv_multishot(ring.sqe().?, fixture.pair[0], buffer_group, 1);
    try testing.expectEqual(@as(i32, 1), ring.submit());
    var cqes: [4]linux.io_uring_cqe = undefined;
    try testing.expectEqual(@as(i32, 0), ring.reap(&cqes)); // armed, nothing yet

    uring.prep_cancel_close(ring.sqe().?, ring.sqe().?, fixture.pair[0], 2, 3);
    fixture.pair[0] = -1; // the ring closes it
    try testing.expectEqual(@as(usize, 3), try reap_at_least(ring, &cqes, 3));
    var seen = [_]bool{false} ** 4;
    for (cqes[0..3]) |cqe| {
        seen[@intCast(cqe.user_data)] = true;
        switch (cqe.user_data) {
            1 => try testing.expectEqual(errno.negative(.CANCELED), cqe.res),
            2 => try testing.expectEqual(@as(i32, 1), cqe.res), // one request cancelled
            3 => try testing.expectEqual(@as(i32, 0), cqe.res),
            else => unreachable,
        }
    }
    try testing.expect(seen[1] and seen[2] and seen[3]);
    var byte: [1]u8 = undefined;
    try testing.expectEqual(@as(i32, 0), socket.read(fixture.pair[1], &byte)); // end of stream, not EAGAIN
}

test "cancel-then-close with nothing armed still closes (a hard link)" {
    var fixture: Fixture = undefined;
    try fixture.init(.{ .pair = true });
    defer fixture.deinit();
    const ring = &fixture.ring;
    uring.prep_cancel_close(ring.sqe().?, ring.sqe().?, fixture.pair[0], 2, 3);
    fixture.pair[0] = -1; // the ring closes it
    var cqes: [4]linux.io_uring_cqe = undefined;
    try testing.expectEqual(@as(usize, 2), try reap_at_least(ring, &cqes, 2));
    try testing.expectEqual(@as(u64, 2), cqes[0].user_data);
    try testing.expectEqual(@as(i32, 0), cqes[0].res); // CANCEL_ALL counts what it cancelled: none
    try testing.expectEqual(@as(u64, 3), cqes[1].user_data);
    try testing.expectEqual(@as(i32, 0), cqes[1].res);
    var byte: [1]u8 = undefined;
    try testing.expectEqual(@as(i32, 0), socket.read(fixture.pair[1], &byte));
}

test "multishot accept: one completion per connection, still armed" {
    var fixture: Fixture = undefined;
    try fixture.init(.{});
    defer fixture.deinit();
    const ring = &fixture.ring;
    const listen_fd = socket.listen(try socket.Address.parseIp("127.0.0.1", 0), 16, false);
    try testing.expect(listen_fd >= 0);
    defer _ = socket.close(listen_fd);
    var bound: linux.sockaddr.storage = undefined;
    try testing.expect(socket.address_of(listen_fd, .local, &bound) > 0);
    const address = socket.Address.initPosix(@ptrCast(&bound));
    uring.prep_accept_multishot(ring.sqe().?, listen_fd, 9);
    try testing.expectEqual(@as(i32, 1), ring.submit());
    const first = socket.connect(address);
    defer _ = socket.close(first);
    const second = socket.connect(address);
    defer _ = socket.close(second);
    var cqes: [4]linux.io_uring_cqe = undefined;
    try testing.expectEqual(@as(usize, 2), try reap_at_least(ring, &cqes, 2));
    for (cqes[0..2]) |cqe| {
        try testing.expectEqual(@as(u64, 9), cqe.user_data);
        try testing.expect(cqe.res >= 0);
        try testing.expect(cqe.flags & uring.cqe_more != 0);
        _ = socket.close(cqe.res);
    }
}

/// Whether the fixture's epoll set reports the ring's fd readable now (no wait).
fn ring_readable(fixture: *Fixture) bool {
    var events: [1]linux.epoll_event = undefined;
    return linux.epoll_wait(fixture.epoll_fd, &events, events.len, 0) == 1;
}

test "the ring's fd is readable in epoll while completions wait, and not once they are reaped" {
    var fixture: Fixture = undefined;
    try fixture.init(.{ .epoll = true });
    defer fixture.deinit();
    const ring = &fixture.ring;
    try testing.expect(!ring_readable(&fixture));
    linux.io_uring_prep_nop(ring.sqe().?);
    try testing.expectEqual(@as(i32, 1), ring.submit());
    try testing.expect(ring_readable(&fixture)); // level-triggered on the queue: no counter to read
    try testing.expect(ring_readable(&fixture));
    var cqes: [4]linux.io_uring_cqe = undefined;
    try testing.expectEqual(@as(usize, 1), try reap_at_least(ring, &cqes, 1));
    try testing.expect(!ring_readable(&fixture)); // reaped: nothing wakes the loop for nothing
}

test "a peer's bytes make the ring's fd readable before the peer's write returns: no reap, no wait" {
    // The reactor sleeps in epoll_wait with the ring's fd to wake it. With
    // DEFER_TASKRUN this kernel signalled completions 12-20 ms late (an idle
    // reactor saw each first byte, FIN or connection a timer tick late); with
    // COOP_TASKRUN the completion work runs as this thread leaves write(2).
    var fixture: Fixture = undefined;
    try fixture.init(.{ .epoll = true, .buffers = 1, .pair = true });
    defer fixture.deinit();
    const ring = &fixture.ring;
    uring.prep_recv_multishot(ring.sqe().?, fixture.pair[0], buffer_group, 5);
    try testing.expectEqual(@as(i32, 1), ring.submit());
    try testing.expect(!ring_readable(&fixture)); // armed, nothing to receive yet

    try testing.expectEqual(@as(i32, 2), socket.write(fixture.pair[1], "hi"));
    try testing.expect(ring_readable(&fixture)); // posted already
    var cqes: [2]linux.io_uring_cqe = undefined;
    try testing.expectEqual(@as(usize, 1), try reap_at_least(ring, &cqes, 1));
    try testing.expectEqual(@as(i32, 2), cqes[0].res);
}
