//! Per-env state, kept with napi_set_instance_data (never in a global, so
//! each worker thread's env has its own): the set of fds this env's zepoll
//! owns, and the fault-injection switch. Made when the module loads in an
//! env and freed by that env's finalizer.
const std = @import("std");
const assert = std.debug.assert;
const c = @import("c.zig");
const napi = @import("napi.zig");
const Owned = @import("sys/owned.zig").Owned;
const Faults = @import("sys/faults.zig").Faults;

const allocator = @import("allocator.zig").allocator;

/// The environment variable that allows setFaults() in this process.
pub const faults_variable = "ZEPOLL_FAULT_INJECTION";

pub const Instance = struct {
    owned: Owned = .{},
    faults: Faults = .{},
    /// ZEPOLL_FAULT_INJECTION=1 when the module loaded: only then may a test switch faults on.
    faults_allowed: bool = false,
};

fn finalize(env: napi.Env, data: ?*anyopaque, hint: ?*anyopaque) callconv(.C) void {
    _ = env;
    _ = hint;
    const self: *Instance = @ptrCast(@alignCast(data.?));
    self.owned.deinit(allocator);
    allocator.destroy(self);
}

/// Whether the process environment has `name=1`. Read through libuv (the
/// addon has no libc, so no environ of its own): a longer value does not fit
/// the buffer and is not "1".
fn variable_is_one(comptime name: [:0]const u8) bool {
    var value: [4]u8 = undefined;
    var size: usize = value.len;
    if (c.uv_os_getenv(name, &value, &size) != 0) return false;
    return std.mem.eql(u8, value[0..size], "1");
}

/// Creates the env's instance (once, at module registration).
pub fn create(env: napi.Env) napi.Error!void {
    const self = allocator.create(Instance) catch return napi.throw_error(env, .ERR_ZEPOLL_NATIVE, "Could not allocate the addon's per-env state", .{});
    self.* = .{};
    self.faults_allowed = variable_is_one(faults_variable);
    napi.check(env, c.napi_set_instance_data(env, self, finalize, null)) catch |err| {
        allocator.destroy(self);
        return err;
    };
}

/// The env's instance; create() ran when the module was registered.
pub fn get(env: napi.Env) *Instance {
    var data: ?*anyopaque = null;
    const status = c.napi_get_instance_data(env, &data);
    assert(status == c.napi_ok and data != null); // created in napi_register_module_v1
    return @ptrCast(@alignCast(data.?));
}
