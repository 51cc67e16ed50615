//! Non-blocking TCP and Unix-socket system calls over std.os.linux.
//! Every socket made here is SOCK_NONBLOCK | SOCK_CLOEXEC.
const std = @import("std");
const linux = std.os.linux;
const errno = @import("errno.zig");
const limits = @import("../limits.zig");

pub const Address = std.net.Address;
const socket_flags: u32 = linux.SOCK.NONBLOCK | linux.SOCK.CLOEXEC;

/// 0 when `fd` is open, -EBADF when not (fcntl F_GETFD: no side effect).
pub fn check_open(fd: i32) i32 {
    const rc = errno.result(linux.fcntl(fd, linux.F.GETFD, 0));
    return if (rc < 0) rc else 0;
}

pub fn close(fd: i32) i32 {
    return errno.result(linux.close(fd));
}

/// A listening TCP socket bound to `address`: SO_REUSEADDR always (restarts
/// must not wait out TIME_WAIT), SO_REUSEPORT when asked (several reactors on
/// one port). Returns the fd or -errno; the fd is closed on any failure.
pub fn listen(address: Address, backlog: u32, reuse_port: bool) i32 {
    std.debug.assert(backlog <= limits.backlog_max);
    const fd = errno.result(linux.socket(address.any.family, linux.SOCK.STREAM | socket_flags, 0));
    if (fd < 0) return fd;
    const rc = bind_listen(fd, address, backlog, reuse_port);
    if (rc < 0) {
        _ = linux.close(fd);
        return rc;
    }
    return fd;
}

fn bind_listen(fd: i32, address: Address, backlog: u32, reuse_port: bool) i32 {
    var rc = set_int(fd, linux.SOL.SOCKET, linux.SO.REUSEADDR, 1);
    if (rc < 0) return rc;
    if (address.any.family == linux.AF.INET6) {
        // IPV6_V6ONLY off, whatever net.ipv6.bindv6only says: `::` then takes
        // IPv4 clients too (as v4-mapped addresses), as libuv sets it for
        // Node's server.listen(port). An IPv6 literal other than `::` is
        // unaffected: only the wildcard can match IPv4 peers.
        rc = set_int(fd, linux.IPPROTO.IPV6, linux.IPV6.V6ONLY, 0);
        if (rc < 0) return rc;
    }
    if (reuse_port) {
        rc = set_int(fd, linux.SOL.SOCKET, linux.SO.REUSEPORT, 1);
        if (rc < 0) return rc;
    }
    rc = errno.result(linux.bind(fd, &address.any, address.getOsSockLen()));
    if (rc < 0) return rc;
    return errno.result(linux.listen(fd, backlog));
}

/// Starts a non-blocking connect. Returns the fd when the connection is made
/// or in progress (EINPROGRESS: wait for writability, then read SO_ERROR).
pub fn connect(address: Address) i32 {
    return connect_from(address, null);
}

/// IP_BIND_ADDRESS_NO_PORT (linux/in.h, Linux 4.2): a bind() with port 0
/// fixes the source address only, and connect() picks the port, unique per
/// 4-tuple rather than per bound address.
const ip_bind_address_no_port: u32 = 24;

/// connect() from `local` when given: the socket is bound to it first (a
/// port 0 left to connect(), see ip_bind_address_no_port), so a client can
/// spread its connections over several source addresses (127.0.0.0/8 on
/// loopback) instead of exhausting one address's ephemeral ports. Returns
/// the fd or -errno; the fd is closed on any failure.
pub fn connect_from(address: Address, local: ?Address) i32 {
    const fd = errno.result(linux.socket(address.any.family, linux.SOCK.STREAM | socket_flags, 0));
    if (fd < 0) return fd;
    const rc = bind_connect(fd, address, local);
    if (rc >= 0 or rc == errno.negative(.INPROGRESS)) return fd;
    _ = linux.close(fd);
    return rc;
}

fn bind_connect(fd: i32, address: Address, local: ?Address) i32 {
    if (local) |source| {
        if (source.getPort() == 0) {
            const rc = set_int(fd, linux.IPPROTO.IP, ip_bind_address_no_port, 1);
            if (rc < 0) return rc;
        }
        const rc = errno.result(linux.bind(fd, &source.any, source.getOsSockLen()));
        if (rc < 0) return rc;
    }
    return errno.result(linux.connect(fd, &address.any, address.getOsSockLen()));
}

/// SO_ERROR as this layer's convention: 0 when the socket has no pending
/// error, -errno when it has one (or when getsockopt itself fails).
pub fn pending_error(fd: i32) i32 {
    const value = get_int(fd, linux.SOL.SOCKET, linux.SO.ERROR);
    if (value < 0) return value;
    return -value;
}

pub fn shutdown(fd: i32, how: i32) i32 {
    return errno.result(linux.shutdown(fd, how));
}

pub fn set_int(fd: i32, level: u32, name: u32, value: i32) i32 {
    return errno.result(linux.setsockopt(fd, level, name, std.mem.asBytes(&value), @sizeOf(i32)));
}

/// The option's value (>= 0 for every option this layer reads) or -errno.
pub fn get_int(fd: i32, level: u32, name: u32) i32 {
    var value: i32 = 0;
    var size: linux.socklen_t = @sizeOf(i32);
    const rc = errno.result(linux.getsockopt(fd, level, name, std.mem.asBytes(&value), &size));
    if (rc < 0) return rc;
    std.debug.assert(size == @sizeOf(i32));
    return value;
}

pub const Side = enum { local, peer };

/// Writes the socket's address (a struct sockaddr) into `out`; returns its
/// size in bytes or -errno.
pub fn address_of(fd: i32, side: Side, out: *linux.sockaddr.storage) i32 {
    var size: linux.socklen_t = @sizeOf(linux.sockaddr.storage);
    const target: *linux.sockaddr = @ptrCast(out);
    const rc = switch (side) {
        .local => linux.getsockname(fd, target, &size),
        .peer => linux.getpeername(fd, target, &size),
    };
    const result = errno.result(rc);
    if (result < 0) return result;
    return @intCast(size);
}

/// A connected pair of non-blocking Unix stream sockets (tests, benches).
pub fn socket_pair(fds: *[2]i32) i32 {
    return errno.result(linux.socketpair(linux.AF.UNIX, linux.SOCK.STREAM | socket_flags, 0, fds));
}

/// One accept4. The new fd is non-blocking and close-on-exec.
pub fn accept(listen_fd: i32) i32 {
    return errno.result(linux.accept4(listen_fd, null, null, socket_flags));
}

pub fn read(fd: i32, bytes: []u8) i32 {
    std.debug.assert(bytes.len <= limits.io_size_max);
    return errno.result(linux.read(fd, bytes.ptr, bytes.len));
}

pub fn write(fd: i32, bytes: []const u8) i32 {
    std.debug.assert(bytes.len <= limits.io_size_max);
    return errno.result(linux.write(fd, bytes.ptr, bytes.len));
}

/// Bytes waiting in the receive queue (FIONREAD), or -errno. Only for the
/// reactor's debug checks: it costs a system call.
pub fn readable_bytes(fd: i32) i32 {
    var count: c_int = 0;
    const rc = errno.result(linux.ioctl(fd, linux.T.FIONREAD, @intFromPtr(&count)));
    if (rc < 0) return rc;
    return count;
}

pub const Iovec = std.os.iovec_const;

pub fn writev(fd: i32, iovecs: []const Iovec) i32 {
    std.debug.assert(iovecs.len <= limits.writev_buffers_max);
    return errno.result(linux.writev(fd, iovecs.ptr, iovecs.len));
}

test "a listener on :: is dual-stack: an IPv4 client connects" {
    const fd = listen(try Address.parseIp("::", 0), 8, false);
    try std.testing.expect(fd >= 0);
    defer _ = close(fd);
    try std.testing.expectEqual(@as(i32, 0), get_int(fd, linux.IPPROTO.IPV6, linux.IPV6.V6ONLY));
    var bound: linux.sockaddr.storage = undefined;
    try std.testing.expect(address_of(fd, .local, &bound) > 0);
    const port = std.mem.bigToNative(u16, @as(*const linux.sockaddr.in6, @ptrCast(@alignCast(&bound))).port);
    const client = connect(try Address.parseIp("127.0.0.1", port));
    try std.testing.expect(client >= 0);
    _ = close(client);
}

test "socket pair carries bytes and reports EAGAIN when empty" {
    var fds: [2]i32 = undefined;
    try std.testing.expectEqual(@as(i32, 0), socket_pair(&fds));
    defer _ = close(fds[0]);
    defer _ = close(fds[1]);
    var buffer: [8]u8 = undefined;
    try std.testing.expectEqual(errno.eagain, read(fds[0], &buffer));
    try std.testing.expectEqual(@as(i32, 3), write(fds[1], "abc"));
    const parts = [_]Iovec{ .{ .iov_base = "de", .iov_len = 2 }, .{ .iov_base = "f", .iov_len = 1 } };
    try std.testing.expectEqual(@as(i32, 3), writev(fds[1], &parts));
    try std.testing.expectEqual(@as(i32, 6), readable_bytes(fds[0]));
    try std.testing.expectEqual(@as(i32, 6), read(fds[0], &buffer));
    try std.testing.expectEqualStrings("abcdef", buffer[0..6]);
}

test "listen on port 0, connect, accept" {
    const address = try Address.parseIp("127.0.0.1", 0);
    const listen_fd = listen(address, 16, false);
    try std.testing.expect(listen_fd >= 0);
    defer _ = close(listen_fd);
    var bound: linux.sockaddr.storage = undefined;
    try std.testing.expect(address_of(listen_fd, .local, &bound) > 0);
    const port = Address.initPosix(@ptrCast(&bound)).getPort();
    try std.testing.expect(port != 0);
    const client = connect(try Address.parseIp("127.0.0.1", port));
    try std.testing.expect(client >= 0);
    defer _ = close(client);
    var accepted: i32 = errno.eagain;
    var tries: u32 = 0;
    while (accepted == errno.eagain and tries < 1000) : (tries += 1) accepted = accept(listen_fd);
    try std.testing.expect(accepted >= 0);
    defer _ = close(accepted);
    try std.testing.expectEqual(@as(i32, 0), pending_error(client));
    try std.testing.expectEqual(@as(i32, 0), shutdown(accepted, linux.SHUT.WR));
}

test "connect from a source address: the peer sees it, the port picked at connect" {
    const listen_fd = listen(try Address.parseIp("127.0.0.1", 0), 16, false);
    try std.testing.expect(listen_fd >= 0);
    defer _ = close(listen_fd);
    var bound: linux.sockaddr.storage = undefined;
    try std.testing.expect(address_of(listen_fd, .local, &bound) > 0);
    const port = Address.initPosix(@ptrCast(&bound)).getPort();
    const client = connect_from(try Address.parseIp("127.0.0.1", port), try Address.parseIp("127.0.0.2", 0));
    try std.testing.expect(client >= 0);
    defer _ = close(client);
    var accepted: i32 = errno.eagain;
    var tries: u32 = 0;
    while (accepted == errno.eagain and tries < 1000) : (tries += 1) accepted = accept(listen_fd);
    try std.testing.expect(accepted >= 0);
    defer _ = close(accepted);
    var peer: linux.sockaddr.storage = undefined;
    try std.testing.expect(address_of(accepted, .peer, &peer) > 0);
    const seen = Address.initPosix(@ptrCast(@alignCast(&peer)));
    try std.testing.expectEqual(std.mem.nativeToBig(u32, 0x7f000002), seen.in.sa.addr);
    try std.testing.expect(seen.getPort() != 0);
}
