//! Nesting a poller's epoll fd in Node's loop, and the one place native code
//! calls JavaScript.
//!
//! The epoll fd is itself pollable: readable while any fd inside it is ready.
//! libuv watches it with uv_poll; on readiness we take the batch with a
//! zero-timeout epoll_wait and hand JS the count. napi_make_callback (not
//! napi_call_function) so that promise jobs queued by the handler run right
//! after the batch, and AsyncLocalStorage context is kept.
const std = @import("std");
const assert = std.debug.assert;
const c = @import("c.zig");
const napi = @import("napi.zig");
const limits = @import("limits.zig");
const Poller = @import("poller.zig").Poller;

const resource_name = "zepoll.Poller";

pub fn start(self: *Poller, callback: napi.Value) napi.Error!void {
    assert(self.state == .open and !self.started);
    const env = self.env;
    var object: napi.Value = null;
    try napi.check(env, c.napi_get_reference_value(env, self.object, &object));
    var name: napi.Value = null;
    try napi.check(env, c.napi_create_string_utf8(env, resource_name, resource_name.len, &name));
    try napi.check(env, c.napi_create_reference(env, callback, 1, &self.callback));
    if (c.napi_async_init(env, object, name, &self.async_context) != c.napi_ok) {
        _ = c.napi_delete_reference(env, self.callback);
        self.callback = null;
        return napi.throw_error(env, .ERR_ZEPOLL_NATIVE, "napi_async_init failed", .{});
    }
    const rc = c.uv_poll_start(&self.handle, c.UV_READABLE, on_readable);
    if (rc != 0) {
        _ = c.napi_delete_reference(env, self.callback);
        self.callback = null;
        _ = c.napi_async_destroy(env, self.async_context);
        self.async_context = null;
        return napi.throw_error(env, .ERR_ZEPOLL_NATIVE, "uv_poll_start failed: {s}", .{c.uv_strerror(rc)});
    }
    // A started poller keeps its JS object (the callback's receiver) alive.
    _ = c.napi_reference_ref(env, self.object, null);
    self.started = true;
    self.update_ref();
}

fn on_readable(handle: [*c]c.uv_poll_t, status: c_int, events: c_int) callconv(.C) void {
    _ = events;
    const self: *Poller = @ptrCast(@alignCast(handle.*.data));
    // status < 0 would be an error on the epoll fd itself; epoll_wait below
    // reports it as -errno to nobody, so deliver nothing and keep polling.
    if (status < 0 or self.state != .open or !self.started) return;
    var scope: c.napi_handle_scope = null;
    if (c.napi_open_handle_scope(self.env, &scope) != c.napi_ok) return;
    defer _ = c.napi_close_handle_scope(self.env, scope);
    // A full batch may mean more is ready: wait again, a bounded number of
    // times, so one busy poller cannot hold the loop.
    var round: u32 = 0;
    while (round <= limits.rewaits_max) : (round += 1) {
        const count = next_batch(self) catch {
            report_pending(self.env);
            self.stop();
            return;
        };
        if (count <= 0) return;
        deliver(self, count);
        if (self.state != .open or !self.started) return; // closed or stopped by the callback
        if (@as(u32, @intCast(count)) < self.events_capacity) return;
    }
}

/// The next batch into the events array: its count or -errno. With an
/// io_uring whose completions wait and a last wait that found nothing but
/// the ring ready, the batch is the ring's own event alone, written here
/// without the poller's epoll_wait: on the io_uring backend almost every
/// wakeup is completions, and that wait cost a system call a turn to learn
/// so. Bounded (limits.ring_waits_skipped_max in a row), so owners served
/// by readiness (a pending connect, a relay's reads) are still polled
/// while the ring stays busy.
fn next_batch(self: *Poller) napi.Error!i32 {
    const ring = self.ring orelse return self.wait(0);
    const ring_fd = ring.ring.io.fd;
    const words = try self.event_words(); // looked up once a batch, whichever way it is taken
    if (self.waits_skippable > 0 and ring.ring.io.cq_ready() > 0) {
        self.waits_skippable -= 1;
        words[0] = @intCast(ring_fd);
        words[1] = 0; // the ring's generation (ringOpen adds it with 0)
        words[2] = std.os.linux.EPOLL.IN;
        return 1;
    }
    const count = self.wait_into(words, 0);
    const only_ring = count == 1 and words[0] == ring_fd and words[1] == 0;
    self.waits_skippable = if (only_ring) limits.ring_waits_skipped_max else 0;
    return count;
}

/// Calls the callback with the batch's count. An exception it throws goes to
/// process 'uncaughtException' now; it must not surface later inside an
/// unrelated Node-API call.
fn deliver(self: *Poller, count: i32) void {
    const env = self.env;
    var receiver: napi.Value = null;
    var callback: napi.Value = null;
    if (c.napi_get_reference_value(env, self.object, &receiver) != c.napi_ok or receiver == null) return;
    if (c.napi_get_reference_value(env, self.callback, &callback) != c.napi_ok or callback == null) return;
    const argv = [_]napi.Value{napi.int(env, count)};
    var result: napi.Value = null;
    self.delivering = true;
    const status = c.napi_make_callback(env, self.async_context, receiver, callback, argv.len, &argv, &result);
    self.delivering = false;
    // A stop() or close() inside the callback left the async context for now.
    if (!self.started) self.release_callback();
    if (status != c.napi_ok) report_pending(env);
}

fn report_pending(env: napi.Env) void {
    var pending = false;
    _ = c.napi_is_exception_pending(env, &pending);
    if (!pending) return;
    var exception: napi.Value = null;
    if (c.napi_get_and_clear_last_exception(env, &exception) == c.napi_ok) {
        _ = c.napi_fatal_exception(env, exception);
    }
}
