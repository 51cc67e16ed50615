//! How should a file reach a socket on the io_uring backend? Measures, per
//! GiB sent over loopback TCP from a file in the page cache, the sending
//! process's CPU (user + system, io-wq worker threads included: they are
//! threads of this process) and wall time of:
//!   sendfile   sendfile(2) on a non-blocking socket, epoll_wait for
//!              writability on EAGAIN (what the reactor does today on both
//!              backends: "readiness");
//!   splice     io_uring: IORING_OP_SPLICE file -> pipe linked to
//!              IORING_OP_SPLICE pipe -> socket, one pair per pipeful;
//!   read-send  io_uring: IORING_OP_READ file -> buffer linked to
//!              IORING_OP_SEND buffer -> socket (a copy in, a copy out).
//! The receiver is a child process that reads and drops everything.
//!
//! Each request (a sendfile call, a splice pair, a read-send pair) moves at
//! most one chunk: 1 MiB by default (a large file), or what `chunk KiB`
//! says (many small files: each request pays its own hand-offs).
//!
//! `npx zig run -O ReleaseFast bench/native/file_send.zig -- [MiB] [repeats] [chunk KiB]`
//! (bench/src/file-send.ts runs it and prints the table).
const std = @import("std");
const linux = std.os.linux;
const IO_Uring = linux.IO_Uring;

/// What one request moves at most, by default; the pipe's capacity (F_SETPIPE_SZ) and the read buffer's size.
const chunk_kib_default: usize = 1024;
const file_mib_default: usize = 256;
const repeats_default: usize = 3;
const ring_entries: u13 = 8;
const F_SETPIPE_SZ: i32 = 1031;
const SPLICE_F_MOVE: u32 = 1;

fn check(rc: usize, what: []const u8) !usize {
    const signed: isize = @bitCast(rc);
    if (signed < 0) {
        std.debug.print("{s}: errno {d}\n", .{ what, -signed });
        return error.SystemCall;
    }
    return rc;
}

/// A file of `size` bytes in /tmp, read once so it is in the page cache; unlinked at once (the fd keeps it).
fn makeFile(size: usize) !i32 {
    const path = "/tmp/zepoll-file-send.bin";
    const fd: i32 = @intCast(try check(linux.open(path, linux.O.RDWR | linux.O.CREAT | linux.O.TRUNC | linux.O.CLOEXEC, 0o600), "open"));
    _ = linux.unlink(path);
    var block: [1 << 16]u8 = undefined;
    for (&block, 0..) |*byte, index| byte.* = @truncate(index * 31);
    var written: usize = 0;
    while (written < size) written += try check(linux.write(fd, &block, @min(block.len, size - written)), "write");
    var offset: i64 = 0;
    while (offset < size) offset += @intCast(try check(linux.pread(fd, &block, block.len, offset), "pread"));
    return fd;
}

/// A connected loopback TCP pair: [sender, receiver].
fn tcpPair() ![2]i32 {
    const listener: i32 = @intCast(try check(linux.socket(linux.AF.INET, linux.SOCK.STREAM | linux.SOCK.CLOEXEC, 0), "socket"));
    defer _ = linux.close(listener);
    var address = std.net.Address.initIp4(.{ 127, 0, 0, 1 }, 0);
    _ = try check(linux.bind(listener, &address.any, address.getOsSockLen()), "bind");
    _ = try check(linux.listen(listener, 1), "listen");
    var length: linux.socklen_t = address.getOsSockLen();
    _ = try check(linux.getsockname(listener, &address.any, &length), "getsockname");
    const sender: i32 = @intCast(try check(linux.socket(linux.AF.INET, linux.SOCK.STREAM | linux.SOCK.CLOEXEC, 0), "socket"));
    _ = try check(linux.connect(sender, &address.any, address.getOsSockLen()), "connect");
    const receiver: i32 = @intCast(try check(linux.accept4(listener, null, null, linux.SOCK.CLOEXEC), "accept4"));
    return .{ sender, receiver };
}

/// Forks a child that reads `receiver` until EOF and exits; returns its pid.
fn drainInChild(receiver: i32, sender: i32) !i32 {
    const pid: i32 = @intCast(try check(linux.fork(), "fork"));
    if (pid == 0) {
        _ = linux.close(sender);
        var buffer: [1 << 18]u8 = undefined;
        while (true) {
            const rc: isize = @bitCast(linux.read(receiver, &buffer, buffer.len));
            if (rc <= 0) linux.exit(0);
        }
    }
    _ = linux.close(receiver);
    return pid;
}

fn setNonBlocking(fd: i32, on: bool) !void {
    const flags = try check(linux.fcntl(fd, linux.F.GETFL, 0), "fcntl");
    const wanted = if (on) flags | linux.O.NONBLOCK else flags & ~@as(usize, linux.O.NONBLOCK);
    _ = try check(linux.fcntl(fd, linux.F.SETFL, wanted), "fcntl");
}

fn viaSendfile(file: i32, socket: i32, size: usize, chunk: usize) !void {
    try setNonBlocking(socket, true);
    const epfd: i32 = @intCast(try check(linux.epoll_create1(linux.EPOLL.CLOEXEC), "epoll_create1"));
    defer _ = linux.close(epfd);
    var event = linux.epoll_event{ .events = linux.EPOLL.OUT, .data = .{ .fd = socket } };
    _ = try check(linux.epoll_ctl(epfd, linux.EPOLL.CTL_ADD, socket, &event), "epoll_ctl");
    var offset: i64 = 0;
    while (@as(usize, @intCast(offset)) < size) {
        const rc: isize = @bitCast(linux.sendfile(socket, file, &offset, @min(chunk, size - @as(usize, @intCast(offset)))));
        if (rc == -@as(isize, @intFromEnum(linux.E.AGAIN))) {
            var ready: [1]linux.epoll_event = undefined;
            _ = linux.epoll_wait(epfd, &ready, 1, -1);
            continue;
        }
        if (rc <= 0) return error.SystemCall;
    }
}

/// Submits what is queued and waits for `count` completions; every one must have succeeded.
fn completeAll(ring: *IO_Uring, count: u32) !void {
    _ = try ring.submit_and_wait(count);
    var left = count;
    while (left > 0) : (left -= 1) {
        const cqe = try ring.copy_cqe();
        if (cqe.res < 0) {
            std.debug.print("request {d}: errno {d}\n", .{ cqe.user_data, -cqe.res });
            return error.SystemCall;
        }
    }
}

fn viaSplice(ring: *IO_Uring, file: i32, socket: i32, size: usize, chunk: usize) !void {
    try setNonBlocking(socket, false); // io-wq runs the splice blocking: a full socket waits there
    var pipe: [2]i32 = undefined;
    _ = try check(linux.pipe2(&pipe, linux.O.CLOEXEC), "pipe2");
    defer for (pipe) |fd| {
        _ = linux.close(fd);
    };
    _ = try check(linux.fcntl(pipe[1], F_SETPIPE_SZ, @max(chunk, std.mem.page_size)), "F_SETPIPE_SZ");
    var offset: usize = 0;
    while (offset < size) {
        const length = @min(chunk, size - offset);
        const in = try ring.splice(1, file, @intCast(offset), pipe[1], -1, length);
        in.flags |= linux.IOSQE_IO_LINK;
        in.rw_flags = SPLICE_F_MOVE;
        const out = try ring.splice(2, pipe[0], -1, socket, -1, length);
        out.rw_flags = SPLICE_F_MOVE;
        try completeAll(ring, 2);
        offset += length;
    }
}

fn viaReadSend(ring: *IO_Uring, file: i32, socket: i32, size: usize, buffer: []u8) !void {
    try setNonBlocking(socket, false);
    var offset: usize = 0;
    while (offset < size) {
        const length = @min(buffer.len, size - offset);
        const in = try ring.read(1, file, .{ .buffer = buffer[0..length] }, offset);
        in.flags |= linux.IOSQE_IO_LINK;
        _ = try ring.send(2, socket, buffer[0..length], linux.MSG.WAITALL);
        try completeAll(ring, 2);
        offset += length;
    }
}

const Mode = enum { sendfile, splice, @"read-send" };

/// Process CPU (all threads, io-wq workers included) in microseconds.
fn cpuMicros() u64 {
    var usage: linux.rusage = undefined;
    _ = linux.getrusage(linux.rusage.SELF, &usage);
    const user: u64 = @intCast(usage.utime.tv_sec * 1_000_000 + usage.utime.tv_usec);
    const system: u64 = @intCast(usage.stime.tv_sec * 1_000_000 + usage.stime.tv_usec);
    return user + system;
}

pub fn main() !void {
    var args = std.process.args();
    _ = args.skip();
    const mib = if (args.next()) |text| try std.fmt.parseInt(usize, text, 10) else file_mib_default;
    const repeats = if (args.next()) |text| try std.fmt.parseInt(usize, text, 10) else repeats_default;
    const chunk = (if (args.next()) |text| try std.fmt.parseInt(usize, text, 10) else chunk_kib_default) << 10;
    const size = mib << 20;
    const file = try makeFile(size);
    defer _ = linux.close(file);
    var ring = try IO_Uring.init(ring_entries, 0);
    defer ring.deinit();
    const buffer = try std.heap.page_allocator.alloc(u8, chunk);
    defer std.heap.page_allocator.free(buffer);
    const out = std.io.getStdOut().writer();
    for (0..repeats) |repeat| {
        inline for (std.meta.fields(Mode)) |field| {
            const mode: Mode = @enumFromInt(field.value);
            const pair = try tcpPair();
            const child = try drainInChild(pair[1], pair[0]);
            const cpu_before = cpuMicros();
            const started = std.time.nanoTimestamp();
            switch (mode) {
                .sendfile => try viaSendfile(file, pair[0], size, chunk),
                .splice => try viaSplice(&ring, file, pair[0], size, chunk),
                .@"read-send" => try viaReadSend(&ring, file, pair[0], size, buffer),
            }
            _ = linux.shutdown(pair[0], linux.SHUT.WR);
            var status: u32 = 0;
            _ = linux.waitpid(child, &status, 0);
            const wall_ns: u64 = @intCast(std.time.nanoTimestamp() - started);
            const cpu = cpuMicros() - cpu_before;
            _ = linux.close(pair[0]);
            const gib = @as(f64, @floatFromInt(size)) / (1 << 30);
            // One JSON line per run: the TypeScript side makes the table.
            try out.print("{{\"mode\":\"{s}\",\"repeat\":{d},\"bytes\":{d},\"chunk\":{d},\"cpuSecondsPerGiB\":{d:.4},\"wallSecondsPerGiB\":{d:.4}}}\n", .{ field.name, repeat, size, chunk, @as(f64, @floatFromInt(cpu)) / 1e6 / gib, @as(f64, @floatFromInt(wall_ns)) / 1e9 / gib });
        }
    }
}
