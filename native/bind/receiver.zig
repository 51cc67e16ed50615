//! Poller methods are functions made per poller with the native poller as
//! their Node-API data pointer: a method can only ever reach its own poller,
//! and no unwrap or type check of `this` is needed on the hot path.
const c = @import("../c.zig");
const napi = @import("../napi.zig");
const Poller = @import("../poller.zig").Poller;

pub fn Call(comptime count: usize) type {
    return struct { poller: *Poller, values: [count]napi.Value };
}

/// The poller and `count` arguments; throws ERR_ZEPOLL_POLLER_CLOSED on a
/// closed poller unless `closed_ok`.
pub fn open(env: napi.Env, info: napi.Info, comptime count: usize) napi.Error!Call(count) {
    return any(env, info, count, false);
}

pub fn any(env: napi.Env, info: napi.Info, comptime count: usize, closed_ok: bool) napi.Error!Call(count) {
    var result: Call(count) = undefined;
    var argc: usize = count;
    var data: ?*anyopaque = null;
    const values_pointer: [*c]napi.Value = if (count == 0) null else &result.values;
    try napi.check(env, c.napi_get_cb_info(env, info, &argc, values_pointer, null, &data));
    result.poller = @ptrCast(@alignCast(data.?));
    if (!closed_ok and result.poller.state == .closed) {
        return napi.throw_error(env, .ERR_ZEPOLL_POLLER_CLOSED, "The poller is closed", .{});
    }
    return result;
}
