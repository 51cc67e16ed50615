//! Fault injection for the test suite, after TigerBeetle's simulator and
//! FoundationDB's buggify: chosen system calls fail with chosen errnos, or
//! move fewer bytes, at a chosen rate, decided by a seeded PRNG so that a
//! failing run names the seed that replays it. Inert unless the process was
//! started with ZEPOLL_FAULT_INJECTION=1 and a test switched it on: the
//! check on the hot path is one load of `active`.
//!
//! Only faults the kernel can really produce are injected. Errors end the
//! call as the kernel would. Short reads and writes are offered separately:
//! they are real for level-triggered sockets, but in edge-triggered mode a
//! short read the kernel did not cause (bytes still queued) would wait for
//! an edge that never comes, so a test enables them per mode.
const std = @import("std");
const linux = std.os.linux;

/// What can fail; the order is the wire format of faultCounts().
pub const Kind = enum(u8) {
    read_error,
    write_error,
    short_read,
    short_write,
    accept_error,
    ctl_error,
    sendfile_error,
    splice_error,
};

pub const kinds_count: u32 = @typeInfo(Kind).Enum.fields.len;

/// Parts per million: the unit of a rate.
pub const rate_scale: u32 = 1_000_000;

fn e(comptime name: linux.E) i32 {
    return -@as(i32, @intFromEnum(name));
}

/// The errnos each kind may produce (man 2 read, write, accept4, epoll_ctl, sendfile, splice).
const read_errors = [_]i32{ e(.CONNRESET), e(.NOMEM), e(.NOBUFS), e(.INTR), e(.TIMEDOUT) };
const write_errors = [_]i32{ e(.PIPE), e(.CONNRESET), e(.NOBUFS), e(.NOMEM), e(.INTR) };
const accept_errors = [_]i32{ e(.CONNABORTED), e(.MFILE), e(.NFILE), e(.NOBUFS), e(.NOMEM), e(.INTR), e(.AGAIN), e(.PROTO) };
const ctl_errors = [_]i32{ e(.NOMEM), e(.NOSPC) };
const transfer_errors = [_]i32{ e(.IO), e(.NOMEM), e(.INTR) };

pub const Faults = struct {
    /// Switched on by a test; the hot path checks this first.
    active: bool = false,
    /// Per kind: a fault 1 in (rate_scale / rate) calls; 0 never.
    rates: [kinds_count]u32 = [_]u32{0} ** kinds_count,
    counts: [kinds_count]u64 = [_]u64{0} ** kinds_count,
    prng: std.rand.DefaultPrng = std.rand.DefaultPrng.init(0),

    pub fn configure(self: *Faults, seed: u64, rates: [kinds_count]u32) void {
        self.prng = std.rand.DefaultPrng.init(seed);
        self.rates = rates;
        self.active = false;
        for (rates) |rate| self.active = self.active or rate > 0;
    }

    fn roll(self: *Faults, kind: Kind) bool {
        const rate = self.rates[@intFromEnum(kind)];
        if (rate == 0) return false;
        if (self.prng.random().uintLessThan(u32, rate_scale) >= rate) return false;
        self.counts[@intFromEnum(kind)] += 1;
        return true;
    }

    fn pick(self: *Faults, comptime errors: []const i32) i32 {
        return errors[self.prng.random().uintLessThan(usize, errors.len)];
    }

    /// An errno to return instead of making the call of `kind`, or 0.
    pub fn fail(self: *Faults, kind: Kind) i32 {
        if (!self.active or !self.roll(kind)) return 0;
        return switch (kind) {
            .read_error => self.pick(&read_errors),
            .write_error => self.pick(&write_errors),
            .accept_error => self.pick(&accept_errors),
            .ctl_error => self.pick(&ctl_errors),
            .sendfile_error, .splice_error => self.pick(&transfer_errors),
            .short_read, .short_write => unreachable, // shorten() serves these
        };
    }

    /// A shorter length for a read or write of `length` bytes (1 .. length - 1), or `length`.
    pub fn shorten(self: *Faults, kind: Kind, length: usize) usize {
        std.debug.assert(kind == .short_read or kind == .short_write);
        if (!self.active or length < 2 or !self.roll(kind)) return length;
        return 1 + self.prng.random().uintLessThan(usize, length - 1);
    }
};

test "inert until configured; a seed replays the same faults" {
    var faults = Faults{};
    try std.testing.expectEqual(@as(i32, 0), faults.fail(.read_error));
    try std.testing.expectEqual(@as(usize, 10), faults.shorten(.short_read, 10));
    var rates = [_]u32{0} ** kinds_count;
    rates[@intFromEnum(Kind.read_error)] = rate_scale; // always
    rates[@intFromEnum(Kind.short_write)] = rate_scale / 2;
    faults.configure(42, rates);
    var first: [16]i32 = undefined;
    for (&first) |*rc| rc.* = faults.fail(.read_error);
    for (first) |rc| try std.testing.expect(std.mem.indexOfScalar(i32, &read_errors, rc) != null);
    faults.configure(42, rates);
    for (first) |rc| try std.testing.expectEqual(rc, faults.fail(.read_error));
    try std.testing.expectEqual(@as(i32, 0), faults.fail(.accept_error)); // rate 0
    var shortened: u32 = 0;
    for (0..1000) |_| {
        const length = faults.shorten(.short_write, 100);
        try std.testing.expect(length >= 1 and length <= 100);
        if (length < 100) shortened += 1;
    }
    try std.testing.expect(shortened > 300 and shortened < 700);
}
