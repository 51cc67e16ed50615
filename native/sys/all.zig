//! Root of `zig build test`: the tests at the bottom of each sys/ file.
test {
    _ = @import("errno.zig");
    _ = @import("epoll.zig");
    _ = @import("socket.zig");
    _ = @import("zerocopy.zig");
    _ = @import("compare.zig");
    _ = @import("owned.zig");
    _ = @import("faults.zig");
    _ = @import("uring.zig");
    _ = @import("uring_test.zig");
    // Not in sys/, but plain Zig too: its test runs here (the module root is native/).
    _ = @import("../counters.zig");
}
