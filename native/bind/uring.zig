//! io_uring as seen from JavaScript: whether this kernel and process allow
//! the ring a reactor would make (the io_uring backend's precondition).
const napi = @import("../napi.zig");
const uring = @import("../sys/uring.zig");

/// ioUringProbe() → 0 when a ring with the reactor's flags, its opcodes and
/// a provided-buffer ring all work here, else the -errno that refused it.
pub fn probe(env: napi.Env, info: napi.Info) callconv(.C) napi.Value {
    _ = napi.args(env, info, 0) catch return null;
    return napi.int(env, uring.probe());
}
