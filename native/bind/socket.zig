//! Module-level socket functions (not counted: they are not on a poller's
//! hot path): listen, connect, options, addresses, pairs and pipes.
const std = @import("std");
const linux = std.os.linux;
const c = @import("../c.zig");
const napi = @import("../napi.zig");
const limits = @import("../limits.zig");
const socket = @import("../sys/socket.zig");
const zerocopy = @import("../sys/zerocopy.zig");
const guard = @import("guard.zig");
const instance = @import("../instance.zig");

/// Socket options settable by index; the order is the `SocketOption` table
/// exported to JS.
pub const Option = enum(u32) {
    no_delay,
    keep_alive,
    receive_buffer_size,
    send_buffer_size,

    fn level_name(self: Option) [2]u32 {
        return switch (self) {
            .no_delay => .{ linux.IPPROTO.TCP, linux.TCP.NODELAY },
            .keep_alive => .{ linux.SOL.SOCKET, linux.SO.KEEPALIVE },
            .receive_buffer_size => .{ linux.SOL.SOCKET, linux.SO.RCVBUF },
            .send_buffer_size => .{ linux.SOL.SOCKET, linux.SO.SNDBUF },
        };
    }
};

pub const options_count: u32 = @typeInfo(Option).Enum.fields.len;

fn address(env: napi.Env, host_value: napi.Value, port_value: napi.Value) napi.Error!socket.Address {
    var buffer: [limits.host_size_max]u8 = undefined;
    const host = try napi.string(env, host_value, "host", &buffer);
    const port: u16 = @intCast(try napi.integer(env, port_value, "port", 0, std.math.maxInt(u16)));
    return socket.Address.parseIp(host, port) catch {
        return napi.throw_type(env, .ERR_INVALID_ARG_VALUE, "The \"host\" argument must be an IPv4 or IPv6 address literal. Received '{s}'", .{host});
    };
}

/// listen(host, port, backlog, reusePort) → fd | -errno
pub fn listen(env: napi.Env, info: napi.Info) callconv(.C) napi.Value {
    const call = napi.args(env, info, 4) catch return null;
    const target = address(env, call.values[0], call.values[1]) catch return null;
    const backlog = napi.integer(env, call.values[2], "backlog", 0, limits.backlog_max) catch return null;
    const reuse_port = napi.boolean(env, call.values[3], "reusePort") catch return null;
    return napi.int(env, guard.record(instance.get(env), socket.listen(target, @intCast(backlog), reuse_port)));
}

/// connect(host, port, localHost?) → fd (connected or in progress) | -errno.
/// With `localHost` (an address literal) the socket is bound to it first,
/// its port picked at connect.
pub fn connect(env: napi.Env, info: napi.Info) callconv(.C) napi.Value {
    const call = napi.args(env, info, 3) catch return null;
    const target = address(env, call.values[0], call.values[1]) catch return null;
    const local = source_address(env, call.values[2]) catch return null;
    return napi.int(env, guard.record(instance.get(env), socket.connect_from(target, local)));
}

/// The optional source address of connect(): null when undefined, else an address literal (port 0).
fn source_address(env: napi.Env, value: napi.Value) napi.Error!?socket.Address {
    if (napi.is_undefined(env, value)) return null;
    var buffer: [limits.host_size_max]u8 = undefined;
    const host = try napi.string(env, value, "localHost", &buffer);
    return socket.Address.parseIp(host, 0) catch {
        return napi.throw_type(env, .ERR_INVALID_ARG_VALUE, "The \"localHost\" argument must be an IPv4 or IPv6 address literal. Received '{s}'", .{host});
    };
}

/// socketError(fd) → 0 | -errno (SO_ERROR: how a non-blocking connect ended)
pub fn socket_error(env: napi.Env, info: napi.Info) callconv(.C) napi.Value {
    const call = napi.args(env, info, 1) catch return null;
    const fd = guard.owned_fd(env, instance.get(env), call.values[0], "fd") catch return null;
    return napi.int(env, socket.pending_error(fd));
}

/// bytesReadable(fd) → bytes in the receive queue | -errno (FIONREAD; debug checks)
pub fn bytes_readable(env: napi.Env, info: napi.Info) callconv(.C) napi.Value {
    const call = napi.args(env, info, 1) catch return null;
    const fd = guard.owned_fd(env, instance.get(env), call.values[0], "fd") catch return null;
    return napi.int(env, socket.readable_bytes(fd));
}

/// shutdown(fd, how) with how 0 (read), 1 (write) or 2 (both) → 0 | -errno
pub fn shutdown(env: napi.Env, info: napi.Info) callconv(.C) napi.Value {
    const call = napi.args(env, info, 2) catch return null;
    const fd = guard.owned_fd(env, instance.get(env), call.values[0], "fd") catch return null;
    const how = napi.integer(env, call.values[1], "how", linux.SHUT.RD, linux.SHUT.RDWR) catch return null;
    return napi.int(env, socket.shutdown(fd, @intCast(how)));
}

fn option(env: napi.Env, value: napi.Value) napi.Error!Option {
    const index = try napi.integer(env, value, "option", 0, options_count - 1);
    return @enumFromInt(@as(u32, @intCast(index)));
}

/// setOption(fd, option, value) → 0 | -errno. Flags take 0 or 1; buffer
/// sizes take 1 .. 2^31 - 1 bytes (the kernel doubles and clamps them).
pub fn set_option(env: napi.Env, info: napi.Info) callconv(.C) napi.Value {
    const call = napi.args(env, info, 3) catch return null;
    const fd = guard.owned_fd(env, instance.get(env), call.values[0], "fd") catch return null;
    const which = option(env, call.values[1]) catch return null;
    const value = switch (which) {
        .no_delay, .keep_alive => napi.integer(env, call.values[2], "value", 0, 1),
        .receive_buffer_size, .send_buffer_size => napi.integer(env, call.values[2], "value", 1, limits.socket_buffer_size_max),
    } catch return null;
    const level_name = which.level_name();
    return napi.int(env, socket.set_int(fd, level_name[0], level_name[1], @intCast(value)));
}

/// getOption(fd, option) → value | -errno
pub fn get_option(env: napi.Env, info: napi.Info) callconv(.C) napi.Value {
    const call = napi.args(env, info, 2) catch return null;
    const fd = guard.owned_fd(env, instance.get(env), call.values[0], "fd") catch return null;
    const which = option(env, call.values[1]) catch return null;
    const level_name = which.level_name();
    return napi.int(env, socket.get_int(fd, level_name[0], level_name[1]));
}

/// Bytes needed by localAddress/peerAddress (struct sockaddr_storage).
pub const address_size_max: u32 = @sizeOf(linux.sockaddr.storage);

fn address_of(env: napi.Env, info: napi.Info, side: socket.Side) napi.Error!napi.Value {
    const call = try napi.args(env, info, 2);
    const fd = try guard.owned_fd(env, instance.get(env), call.values[0], "fd");
    const out = try napi.typed_array(env, call.values[1], "out", .uint8);
    if (out.len < address_size_max) {
        return napi.throw_range(env, .ERR_OUT_OF_RANGE, "The length of \"out\" is out of range. It must be >= {d}. Received {d}", .{ address_size_max, out.len });
    }
    var storage: linux.sockaddr.storage = undefined;
    const rc = socket.address_of(fd, side, &storage);
    if (rc > 0) @memcpy(out[0..@intCast(rc)], std.mem.asBytes(&storage)[0..@intCast(rc)]);
    return napi.int(env, rc);
}

/// localAddress(fd, out: Uint8Array(128)) → sockaddr size written | -errno
pub fn local_address(env: napi.Env, info: napi.Info) callconv(.C) napi.Value {
    return address_of(env, info, .local) catch return null;
}

/// peerAddress(fd, out: Uint8Array(128)) → sockaddr size written | -errno
pub fn peer_address(env: napi.Env, info: napi.Info) callconv(.C) napi.Value {
    return address_of(env, info, .peer) catch return null;
}

fn pair(env: napi.Env, info: napi.Info, comptime make: fn (*[2]i32) i32) napi.Error!napi.Value {
    const call = try napi.args(env, info, 1);
    const out = try napi.typed_array(env, call.values[0], "out", .int32);
    if (out.len < 2) {
        return napi.throw_range(env, .ERR_OUT_OF_RANGE, "The length of \"out\" is out of range. It must be >= 2. Received {d}", .{out.len});
    }
    var fds: [2]i32 = undefined;
    const rc = guard.record_pair(instance.get(env), make(&fds), &fds);
    if (rc == 0) @memcpy(out[0..2], &fds);
    return napi.int(env, rc);
}

/// socketPair(out: Int32Array(2)) → 0 | -errno (connected Unix stream sockets)
pub fn socket_pair(env: napi.Env, info: napi.Info) callconv(.C) napi.Value {
    return pair(env, info, socket.socket_pair) catch return null;
}

/// pipe(out: Int32Array(2)) → 0 | -errno; out[0] reads, out[1] writes
pub fn pipe(env: napi.Env, info: napi.Info) callconv(.C) napi.Value {
    return pair(env, info, zerocopy.pipe) catch return null;
}

/// setPipeSize(fd, size) → the pipe's capacity in bytes | -errno: fcntl
/// F_SETPIPE_SZ on a pipe zepoll owns (EBADF-like refusal for others). The
/// kernel rounds up; EPERM past /proc/sys/fs/pipe-max-size.
pub fn set_pipe_size(env: napi.Env, info: napi.Info) callconv(.C) napi.Value {
    const call = napi.args(env, info, 2) catch return null;
    const fd = guard.owned_fd(env, instance.get(env), call.values[0], "fd") catch return null;
    const size = napi.integer(env, call.values[1], "size", limits.pipe_size_min, limits.pipe_size_max) catch return null;
    return napi.int(env, zerocopy.set_pipe_size(fd, @intCast(size)));
}

/// pipeSize(fd) → the pipe's capacity in bytes | -errno (fcntl F_GETPIPE_SZ)
/// on a pipe zepoll owns.
pub fn pipe_size(env: napi.Env, info: napi.Info) callconv(.C) napi.Value {
    const call = napi.args(env, info, 1) catch return null;
    const fd = guard.owned_fd(env, instance.get(env), call.values[0], "fd") catch return null;
    return napi.int(env, zerocopy.pipe_size(fd));
}

/// close(fd) → 0 | -errno, for fds no poller counts (listeners in setup,
/// tests). Only an owned fd; it is forgotten before the close, so a second
/// close of the same number is refused, whoever holds the number by then.
pub fn close(env: napi.Env, info: napi.Info) callconv(.C) napi.Value {
    const call = napi.args(env, info, 1) catch return null;
    const self = instance.get(env);
    const fd = guard.owned_fd(env, self, call.values[0], "fd") catch return null;
    _ = self.owned.disown(fd);
    return napi.int(env, socket.close(fd));
}

/// adopt(fd) → 0 | -errno (EBADF when it is not open): zepoll may act on
/// and close an fd it did not open. The caller hands the fd over.
pub fn adopt(env: napi.Env, info: napi.Info) callconv(.C) napi.Value {
    const call = napi.args(env, info, 1) catch return null;
    const fd = napi.fd(env, call.values[0], "fd") catch return null;
    const rc = socket.check_open(fd);
    if (rc < 0) return napi.int(env, rc);
    return napi.int(env, @min(0, guard.record(instance.get(env), fd)));
}

/// disown(fd) → 0: zepoll forgets an owned fd without closing it (the
/// caller takes it back, e.g. to hand it to Node's net).
pub fn disown(env: napi.Env, info: napi.Info) callconv(.C) napi.Value {
    const call = napi.args(env, info, 1) catch return null;
    const self = instance.get(env);
    const fd = guard.owned_fd(env, self, call.values[0], "fd") catch return null;
    _ = self.owned.disown(fd);
    return napi.int(env, 0);
}

/// ownedCount() → how many fds this env's zepoll owns (leak checks).
pub fn owned_count(env: napi.Env, info: napi.Info) callconv(.C) napi.Value {
    _ = napi.args(env, info, 0) catch return null;
    return napi.uint(env, instance.get(env).owned.count);
}
