//! The addon's export table: one line per JS function.
//!
//! No state lives outside the pollers themselves (no globals, no statics):
//! every poller is created per env and its methods carry it as data, so the
//! addon loads and works in any number of worker threads.
const std = @import("std");
const builtin = @import("builtin");
const linux = std.os.linux;
const c = @import("c.zig");
const napi = @import("napi.zig");
const limits = @import("limits.zig");
const counters = @import("counters.zig");
const zerocopy = @import("sys/zerocopy.zig");
const poller = @import("bind/poller.zig");
const socket = @import("bind/socket.zig");
const compare = @import("bind/compare.zig");
const fault_binding = @import("bind/faults.zig");
const uring_binding = @import("bind/uring.zig");
const faults = @import("sys/faults.zig");
const instance = @import("instance.zig");

const Export = struct { name: [:0]const u8, callback: c.napi_callback };

const functions = [_]Export{
    .{ .name = "createPoller", .callback = poller.create },
    .{ .name = "listen", .callback = socket.listen },
    .{ .name = "connect", .callback = socket.connect },
    .{ .name = "socketError", .callback = socket.socket_error },
    .{ .name = "shutdown", .callback = socket.shutdown },
    .{ .name = "bytesReadable", .callback = socket.bytes_readable },
    .{ .name = "setOption", .callback = socket.set_option },
    .{ .name = "getOption", .callback = socket.get_option },
    .{ .name = "localAddress", .callback = socket.local_address },
    .{ .name = "peerAddress", .callback = socket.peer_address },
    .{ .name = "socketPair", .callback = socket.socket_pair },
    .{ .name = "pipe", .callback = socket.pipe },
    .{ .name = "setPipeSize", .callback = socket.set_pipe_size },
    .{ .name = "pipeSize", .callback = socket.pipe_size },
    .{ .name = "close", .callback = socket.close },
    .{ .name = "adopt", .callback = socket.adopt },
    .{ .name = "disown", .callback = socket.disown },
    .{ .name = "ownedCount", .callback = socket.owned_count },
    .{ .name = "setFaults", .callback = fault_binding.set_faults },
    .{ .name = "faultCounts", .callback = fault_binding.fault_counts },
    .{ .name = "poll", .callback = compare.poll },
    .{ .name = "select", .callback = compare.select },
    .{ .name = "setAffinity", .callback = compare.set_affinity },
    .{ .name = "nop", .callback = compare.nop },
    .{ .name = "ioUringProbe", .callback = uring_binding.probe },
};

const Constant = struct { name: [:0]const u8, value: u32 };

const constants = [_]Constant{
    .{ .name = "EPOLLIN", .value = linux.EPOLL.IN },
    .{ .name = "EPOLLPRI", .value = linux.EPOLL.PRI },
    .{ .name = "EPOLLOUT", .value = linux.EPOLL.OUT },
    .{ .name = "EPOLLERR", .value = linux.EPOLL.ERR },
    .{ .name = "EPOLLHUP", .value = linux.EPOLL.HUP },
    .{ .name = "EPOLLRDHUP", .value = linux.EPOLL.RDHUP },
    .{ .name = "EPOLLEXCLUSIVE", .value = linux.EPOLL.EXCLUSIVE },
    .{ .name = "EPOLLONESHOT", .value = linux.EPOLL.ONESHOT },
    .{ .name = "EPOLLET", .value = linux.EPOLL.ET },
    .{ .name = "POLLIN", .value = linux.POLL.IN },
    .{ .name = "POLLOUT", .value = linux.POLL.OUT },
    .{ .name = "POLLERR", .value = linux.POLL.ERR },
    .{ .name = "POLLHUP", .value = linux.POLL.HUP },
    .{ .name = "SPLICE_F_MOVE", .value = zerocopy.SPLICE_F_MOVE },
    .{ .name = "SPLICE_F_NONBLOCK", .value = zerocopy.SPLICE_F_NONBLOCK },
    .{ .name = "SPLICE_F_MORE", .value = zerocopy.SPLICE_F_MORE },
    .{ .name = "SHUT_RD", .value = linux.SHUT.RD },
    .{ .name = "SHUT_WR", .value = linux.SHUT.WR },
    .{ .name = "SHUT_RDWR", .value = linux.SHUT.RDWR },
    .{ .name = "AF_INET", .value = linux.AF.INET },
    .{ .name = "AF_INET6", .value = linux.AF.INET6 },
    .{ .name = "AF_UNIX", .value = linux.AF.UNIX },
    .{ .name = "OPTION_NO_DELAY", .value = @intFromEnum(socket.Option.no_delay) },
    .{ .name = "OPTION_KEEP_ALIVE", .value = @intFromEnum(socket.Option.keep_alive) },
    .{ .name = "OPTION_RECEIVE_BUFFER_SIZE", .value = @intFromEnum(socket.Option.receive_buffer_size) },
    .{ .name = "OPTION_SEND_BUFFER_SIZE", .value = @intFromEnum(socket.Option.send_buffer_size) },
};

/// Mirrored by packages/reactor/src/limits.ts, which throws at load when a
/// value differs.
const limit_values = [_]Constant{
    .{ .name = "EVENTS_MAX", .value = limits.events_max },
    .{ .name = "EVENT_WORDS", .value = limits.event_words },
    .{ .name = "REWAITS_MAX", .value = limits.rewaits_max },
    .{ .name = "ACCEPT_BATCH_MAX", .value = limits.accept_batch_max },
    .{ .name = "WRITEV_BUFFERS_MAX", .value = limits.writev_buffers_max },
    .{ .name = "IO_SIZE_MAX", .value = limits.io_size_max },
    .{ .name = "SELECT_FD_MAX", .value = limits.select_fd_max },
    .{ .name = "CPUS_MAX", .value = limits.cpus_max },
    .{ .name = "POLL_FDS_MAX", .value = limits.poll_fds_max },
    .{ .name = "BACKLOG_MAX", .value = limits.backlog_max },
    .{ .name = "HOST_SIZE_MAX", .value = limits.host_size_max - 1 },
    .{ .name = "ADDRESS_SIZE_MAX", .value = socket.address_size_max },
    .{ .name = "COUNTER_KINDS", .value = counters.kinds_count },
};

fn uint_table(env: napi.Env, comptime entries: []const Constant) napi.Error!napi.Value {
    const object = try napi.object(env);
    inline for (entries) |entry| try napi.set_named(env, object, entry.name, napi.uint(env, entry.value));
    return object;
}

fn enum_names(env: napi.Env, comptime Enum: type) napi.Error!napi.Value {
    var array: napi.Value = null;
    try napi.check(env, c.napi_create_array(env, &array));
    inline for (@typeInfo(Enum).Enum.fields, 0..) |field, index| {
        var name: napi.Value = null;
        try napi.check(env, c.napi_create_string_utf8(env, field.name.ptr, field.name.len, &name));
        try napi.check(env, c.napi_set_element(env, array, index, name));
    }
    return array;
}

/// What this binary was built for. Exported as `build`, and kept readable in
/// the stripped file so a test can check a prebuilt artifact it cannot load
/// (`strings`): a baseline CPU model, no libc (abi none), the Zig version.
pub const build_info: [:0]const u8 = "zepoll-build: arch=" ++ @tagName(builtin.cpu.arch) ++
    " cpu=" ++ builtin.cpu.model.name ++ " abi=" ++ @tagName(builtin.abi) ++
    " optimize=" ++ @tagName(builtin.mode) ++ " zig=" ++ builtin.zig_version_string;

/// The uv_poll_t layout came from headers other than the loading Node's libc
/// (the addon is built once per architecture, with Zig's bundled headers):
/// libuv says its real size, and a mismatch refuses to load rather than let
/// libuv write past the handle.
fn check_uv_layout(env: napi.Env) napi.Error!void {
    const size = c.uv_handle_size(c.UV_POLL);
    if (size != @sizeOf(c.uv_poll_t)) {
        return napi.throw_error(env, .ERR_ZEPOLL_NATIVE, "This Node's libuv has a {d}-byte uv_poll_t; the addon was built for {d} bytes: rebuild it from source", .{ size, @sizeOf(c.uv_poll_t) });
    }
}

fn init(env: napi.Env, exports: napi.Value) napi.Error!napi.Value {
    try check_uv_layout(env);
    try instance.create(env);
    inline for (functions) |entry| {
        var function: napi.Value = null;
        try napi.check(env, c.napi_create_function(env, entry.name, entry.name.len, entry.callback, null, &function));
        try napi.set_named(env, exports, entry.name, function);
    }
    try napi.set_named(env, exports, "constants", try uint_table(env, &constants));
    try napi.set_named(env, exports, "limits", try uint_table(env, &limit_values));
    try napi.set_named(env, exports, "counterNames", try enum_names(env, counters.Kind));
    try napi.set_named(env, exports, "faultKinds", try enum_names(env, faults.Kind));
    var build: napi.Value = null;
    try napi.check(env, c.napi_create_string_utf8(env, build_info.ptr, build_info.len, &build));
    try napi.set_named(env, exports, "build", build);
    return exports;
}

export fn napi_register_module_v1(env: napi.Env, exports: napi.Value) napi.Value {
    return init(env, exports) catch return null;
}

comptime {
    std.debug.assert(limits.events_max > 0);
}
