//! createPoller and the poller's interest, wait, loop and counter methods.
const std = @import("std");
const assert = std.debug.assert;
const linux = std.os.linux;
const c = @import("../c.zig");
const napi = @import("../napi.zig");
const limits = @import("../limits.zig");
const epoll = @import("../sys/epoll.zig");
const counters = @import("../counters.zig");
const poller_module = @import("../poller.zig");
const Poller = poller_module.Poller;
const loop = @import("../loop.zig");
const receiver = @import("receiver.zig");
const guard = @import("guard.zig");
const io = @import("io.zig");
const ring_binding = @import("ring.zig");

/// Interest bits a caller may ask for (epoll_ctl(2)).
pub const interest_allowed: u32 = linux.EPOLL.IN | linux.EPOLL.PRI | linux.EPOLL.OUT |
    linux.EPOLL.ERR | linux.EPOLL.HUP | linux.EPOLL.RDHUP | linux.EPOLL.ET |
    linux.EPOLL.ONESHOT | linux.EPOLL.EXCLUSIVE;

const Method = io.Method;

const methods = [_]Method{
    .{ .name = "add", .callback = add },
    .{ .name = "modify", .callback = modify },
    .{ .name = "remove", .callback = remove },
    .{ .name = "wait", .callback = wait },
    .{ .name = "start", .callback = start },
    .{ .name = "stop", .callback = stop },
    .{ .name = "ref", .callback = ref },
    .{ .name = "unref", .callback = unref },
    .{ .name = "close", .callback = close },
    .{ .name = "isClosed", .callback = is_closed },
    .{ .name = "readCounters", .callback = read_counters },
    .{ .name = "fd", .callback = epoll_fd },
} ++ io.methods ++ ring_binding.methods;

/// createPoller(events: Uint32Array) → Poller object, or -errno when
/// epoll_create1 fails. Capacity is events.length / event_words.
pub fn create(env: napi.Env, info: napi.Info) callconv(.C) napi.Value {
    return create_checked(env, info) catch return null;
}

fn create_checked(env: napi.Env, info: napi.Info) napi.Error!napi.Value {
    const call = try napi.args(env, info, 1);
    const words = try napi.typed_array(env, call.values[0], "events", .uint32);
    const capacity_max_words = limits.events_max * limits.event_words;
    if (words.len == 0 or words.len % limits.event_words != 0 or words.len > capacity_max_words) {
        return napi.throw_range(env, .ERR_OUT_OF_RANGE, "The length of \"events\" is out of range. It must be a multiple of {d} from {d} to {d}. Received {d}", .{ limits.event_words, limits.event_words, capacity_max_words, words.len });
    }
    const capacity: u32 = @intCast(words.len / limits.event_words);
    const epfd = epoll.create();
    if (epfd < 0) return napi.int(env, epfd);

    var events_ref: c.napi_ref = null;
    napi.check(env, c.napi_create_reference(env, call.values[0], 1, &events_ref)) catch |err| {
        _ = linux.close(epfd);
        return err;
    };
    const poller = Poller.create(env, epfd, events_ref, capacity) orelse {
        _ = c.napi_delete_reference(env, events_ref);
        _ = linux.close(epfd);
        return napi.throw_error(env, .ERR_ZEPOLL_NATIVE, "Could not allocate a poller or its uv handle", .{});
    };
    // From here the poller owns the fd; failures close it through the state
    // machine and the finalizer releases the object's share.
    const object = napi.object(env) catch |err| {
        poller.close();
        poller.release(); // no object will ever be finalized
        return err;
    };
    napi.check(env, c.napi_add_finalizer(env, object, poller, poller_module.on_object_finalized, null, &poller.object)) catch |err| {
        poller.close();
        poller.release();
        return err;
    };
    define_methods(env, object, poller) catch |err| {
        poller.close();
        return err;
    };
    napi.check(env, c.napi_add_async_cleanup_hook(env, poller_module.on_env_cleanup, poller, &poller.cleanup_hook)) catch |err| {
        poller.close();
        return err;
    };
    return object;
}

fn define_methods(env: napi.Env, object: napi.Value, poller: *Poller) napi.Error!void {
    var descriptors: [methods.len]c.napi_property_descriptor = undefined;
    for (methods, 0..) |method, index| {
        var function: napi.Value = null;
        try napi.check(env, c.napi_create_function(env, method.name, method.name.len, method.callback, poller, &function));
        // Each method owns a share of the native memory: a method kept after
        // its object is gone (`const read = poller.read`) finds a closed
        // poller, never freed memory.
        try napi.check(env, c.napi_add_finalizer(env, function, poller, poller_module.on_method_finalized, null, null));
        poller.owners += 1;
        // And it holds the object (read-only, not deletable), so the poller
        // is not finalized while a method can still be called.
        var holder = std.mem.zeroes(c.napi_property_descriptor);
        holder.utf8name = "poller";
        holder.value = object;
        holder.attributes = c.napi_default;
        try napi.check(env, c.napi_define_properties(env, function, 1, &holder));
        descriptors[index] = std.mem.zeroes(c.napi_property_descriptor);
        descriptors[index].utf8name = method.name;
        descriptors[index].value = function;
        descriptors[index].attributes = c.napi_enumerable;
    }
    try napi.check(env, c.napi_define_properties(env, object, descriptors.len, &descriptors));
}

fn interest(env: napi.Env, value: napi.Value) napi.Error!u32 {
    // JS bit operators yield int32 (EPOLLIN | EPOLLET is negative): take
    // either reading of the 32 bits.
    const number = try napi.integer(env, value, "events", std.math.minInt(i32), std.math.maxInt(u32));
    const bits: u32 = @truncate(@as(u64, @bitCast(number)));
    if (bits & ~interest_allowed != 0) {
        return napi.throw_type(env, .ERR_INVALID_ARG_VALUE, "The \"events\" argument has bits epoll_ctl does not take: 0x{x}", .{bits & ~interest_allowed});
    }
    return bits;
}

fn control(env: napi.Env, info: napi.Info, op: epoll.Op) napi.Error!napi.Value {
    const call = try receiver.open(env, info, 3);
    const poller = call.poller;
    const fd = try guard.owned_fd(env, poller.instance, call.values[0], "fd");
    const bits = if (op == .remove) 0 else try interest(env, call.values[1]);
    const generation: u32 = if (op == .remove) 0 else @intCast(try napi.integer(env, call.values[2], "generation", 0, limits.generation_max));
    // An injected ENOMEM/ENOSPC on add: what a full or memory-starved epoll set answers.
    const fault = if (op == .add) poller.instance.faults.fail(.ctl_error) else 0;
    const rc = poller.counters.count(.epoll_ctl, if (fault != 0) fault else epoll.ctl(poller.epfd, op, fd, bits, generation));
    if (rc == 0) {
        switch (op) {
            .add => poller.registrations += 1,
            .remove => {
                assert(poller.registrations > 0); // the kernel found it, so we added it
                poller.registrations -= 1;
            },
            .modify => {},
        }
        poller.update_ref();
    }
    return napi.int(env, rc);
}

fn add(env: napi.Env, info: napi.Info) callconv(.C) napi.Value {
    return control(env, info, .add) catch return null;
}

fn modify(env: napi.Env, info: napi.Info) callconv(.C) napi.Value {
    return control(env, info, .modify) catch return null;
}

fn remove(env: napi.Env, info: napi.Info) callconv(.C) napi.Value {
    return control(env, info, .remove) catch return null;
}

fn wait(env: napi.Env, info: napi.Info) callconv(.C) napi.Value {
    const call = receiver.open(env, info, 1) catch return null;
    const timeout = napi.integer(env, call.values[0], "timeoutMs", -1, std.math.maxInt(i32)) catch return null;
    const rc = call.poller.wait(@intCast(timeout)) catch return null;
    return napi.int(env, rc);
}

fn start(env: napi.Env, info: napi.Info) callconv(.C) napi.Value {
    const call = receiver.open(env, info, 1) catch return null;
    const callback = napi.function(env, call.values[0], "callback") catch return null;
    if (call.poller.started) {
        _ = napi.throw_error(env, .ERR_ZEPOLL_POLLER_STARTED, "The poller is already started; stop() it first", .{}) catch {};
        return null;
    }
    if (call.poller.callback != null) {
        // stop() inside the callback keeps its async context until the call returns.
        _ = napi.throw_error(env, .ERR_ZEPOLL_POLLER_STARTED, "The poller was stopped inside its callback; start it again from a later tick", .{}) catch {};
        return null;
    }
    loop.start(call.poller, callback) catch return null;
    return napi.undefined_value(env);
}

fn stop(env: napi.Env, info: napi.Info) callconv(.C) napi.Value {
    const call = receiver.open(env, info, 0) catch return null;
    if (call.poller.started) call.poller.stop();
    return napi.undefined_value(env);
}

fn ref(env: napi.Env, info: napi.Info) callconv(.C) napi.Value {
    const call = receiver.any(env, info, 0, true) catch return null;
    call.poller.ref_wanted = true;
    call.poller.update_ref();
    return napi.undefined_value(env);
}

fn unref(env: napi.Env, info: napi.Info) callconv(.C) napi.Value {
    const call = receiver.any(env, info, 0, true) catch return null;
    call.poller.ref_wanted = false;
    call.poller.update_ref();
    return napi.undefined_value(env);
}

fn close(env: napi.Env, info: napi.Info) callconv(.C) napi.Value {
    const call = receiver.any(env, info, 0, true) catch return null;
    call.poller.close();
    return napi.undefined_value(env);
}

fn is_closed(env: napi.Env, info: napi.Info) callconv(.C) napi.Value {
    const call = receiver.any(env, info, 0, true) catch return null;
    var result: napi.Value = null;
    _ = c.napi_get_boolean(env, call.poller.state == .closed, &result);
    return result;
}

fn epoll_fd(env: napi.Env, info: napi.Info) callconv(.C) napi.Value {
    const call = receiver.any(env, info, 0, true) catch return null;
    return napi.int(env, call.poller.epfd);
}

/// readCounters(out: Float64Array) copies the counts in counters.Kind order.
/// Readable after close: the totals of a closed poller still tell its story.
fn read_counters(env: napi.Env, info: napi.Info) callconv(.C) napi.Value {
    const call = receiver.any(env, info, 1, true) catch return null;
    const out = napi.typed_array(env, call.values[0], "out", .float64) catch return null;
    if (out.len < counters.kinds_count) {
        _ = napi.throw_range(env, .ERR_OUT_OF_RANGE, "The length of \"out\" is out of range. It must be >= {d}. Received {d}", .{ counters.kinds_count, out.len }) catch {};
        return null;
    }
    for (call.poller.counters.values, 0..) |value, index| out[index] = @floatFromInt(value);
    return napi.uint(env, counters.kinds_count);
}
