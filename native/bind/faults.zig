//! The test-only fault switch (sys/faults.zig): setFaults(seed, rates) and
//! faultCounts(out). Refused unless the process started with
//! ZEPOLL_FAULT_INJECTION=1, so release use cannot switch it on by mistake.
const std = @import("std");
const napi = @import("../napi.zig");
const limits = @import("../limits.zig");
const faults = @import("../sys/faults.zig");
const instance = @import("../instance.zig");

/// setFaults(seed, rates: Uint32Array(kinds)) → undefined. Rates are parts
/// per million per kind (faultKinds order); all zero switches faults off.
pub fn set_faults(env: napi.Env, info: napi.Info) callconv(.C) napi.Value {
    const call = napi.args(env, info, 2) catch return null;
    const self = instance.get(env);
    if (!self.faults_allowed) {
        _ = napi.throw_error(env, .ERR_ZEPOLL_FAULTS_DISABLED, "Fault injection is for tests: start the process with {s}=1", .{instance.faults_variable}) catch {};
        return null;
    }
    const seed = napi.integer(env, call.values[0], "seed", 0, limits.safe_integer_max) catch return null;
    const rates_in = napi.typed_array(env, call.values[1], "rates", .uint32) catch return null;
    if (rates_in.len != faults.kinds_count) {
        _ = napi.throw_range(env, .ERR_OUT_OF_RANGE, "The length of \"rates\" is out of range. It must be {d}. Received {d}", .{ faults.kinds_count, rates_in.len }) catch {};
        return null;
    }
    var rates: [faults.kinds_count]u32 = undefined;
    for (rates_in, &rates) |rate, *out| {
        if (rate > faults.rate_scale) {
            _ = napi.throw_range(env, .ERR_OUT_OF_RANGE, "The value of \"rates[i]\" is out of range. It must be <= {d}. Received {d}", .{ faults.rate_scale, rate }) catch {};
            return null;
        }
        out.* = rate;
    }
    self.faults.configure(@intCast(seed), rates);
    return napi.undefined_value(env);
}

/// faultCounts(out: Float64Array(kinds)) → kinds: faults injected so far, per kind.
pub fn fault_counts(env: napi.Env, info: napi.Info) callconv(.C) napi.Value {
    const call = napi.args(env, info, 1) catch return null;
    const out = napi.typed_array(env, call.values[0], "out", .float64) catch return null;
    if (out.len < faults.kinds_count) {
        _ = napi.throw_range(env, .ERR_OUT_OF_RANGE, "The length of \"out\" is out of range. It must be >= {d}. Received {d}", .{ faults.kinds_count, out.len }) catch {};
        return null;
    }
    for (instance.get(env).faults.counts, 0..) |count, index| out[index] = @floatFromInt(count);
    return napi.uint(env, faults.kinds_count);
}
