//! The owned-fd guard at the boundary: every fd argument that zepoll acts
//! on must be one it opened (or was handed with adopt()), and every fd a
//! call creates is recorded. See sys/owned.zig for why.
const std = @import("std");
const linux = std.os.linux;
const napi = @import("../napi.zig");
const Instance = @import("../instance.zig").Instance;
const errno = @import("../sys/errno.zig");
const socket = @import("../sys/socket.zig");

const allocator = @import("../allocator.zig").allocator;
const enomem: i32 = -@as(i32, @intFromEnum(linux.E.NOMEM));

/// Reads an fd argument and refuses it unless this env owns it.
pub fn owned_fd(env: napi.Env, instance: *const Instance, value: napi.Value, name: []const u8) napi.Error!i32 {
    const fd = try napi.fd(env, value, name);
    if (!instance.owned.owns(fd)) {
        return napi.throw_error(env, .ERR_ZEPOLL_FD_NOT_OWNED, "The \"{s}\" argument is fd {d}, which zepoll did not open: it acts only on its own descriptors (adopt(fd) hands one over)", .{ name, fd });
    }
    return fd;
}

/// A system call's result: a new fd is recorded as owned. If the set
/// cannot grow, the fd is closed and -ENOMEM returned: nothing unowned escapes.
pub fn record(instance: *Instance, rc: i32) i32 {
    if (rc < 0) return rc;
    instance.owned.own(allocator, rc) catch {
        _ = socket.close(rc);
        return enomem;
    };
    return rc;
}

/// Both fds of a pair (socketpair, pipe2), or neither.
pub fn record_pair(instance: *Instance, rc: i32, fds: *[2]i32) i32 {
    if (rc < 0) return rc;
    if (record(instance, fds[0]) < 0) {
        _ = socket.close(fds[1]);
        return enomem;
    }
    if (record(instance, fds[1]) < 0) {
        _ = instance.owned.disown(fds[0]);
        _ = socket.close(fds[0]);
        return enomem;
    }
    return rc;
}

comptime {
    std.debug.assert(errno.eagain < 0 and enomem < 0);
}
