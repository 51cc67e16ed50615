//! A poller's native state and its lifetime state machine.
//!
//! open ──close()──▶ closed ──uv_close callback──▶ (handle released)
//! The memory has several owners: the uv handle (released in its close
//! callback), the JS object and each of its method functions (released by
//! their finalizers). It is freed when all are gone, so no late finalizer,
//! libuv callback or kept method can touch freed memory, whichever comes last.
const std = @import("std");
const assert = std.debug.assert;
const c = @import("c.zig");
const napi = @import("napi.zig");
const limits = @import("limits.zig");
const epoll = @import("sys/epoll.zig");
const socket = @import("sys/socket.zig");
const Counters = @import("counters.zig").Counters;
const RingState = @import("ring.zig").RingState;
const Instance = @import("instance.zig").Instance;
const instance = @import("instance.zig");

const allocator = @import("allocator.zig").allocator;

pub const State = enum { open, closed };

/// The uv handle and the JS object; each method function adds one.
const owners_count: u32 = 2;

pub const Poller = struct {
    env: napi.Env,
    /// The env's per-instance state: the owned-fd set and the fault switch.
    instance: *Instance,
    epfd: i32,
    state: State,
    /// Between start() and stop()/close(): the uv poll is active, the callback
    /// and async context exist and the JS object is held strongly.
    started: bool,
    /// Inside napi_make_callback: the async context is in use, so a stop()
    /// from the callback defers destroying it until the call returns.
    delivering: bool,
    /// The user's ref()/unref(); the handle holds the loop only when this is
    /// set, the poller is started and it has registrations.
    ref_wanted: bool,
    /// Successful adds minus successful removes.
    registrations: u32,
    owners: u32,
    handle: c.uv_poll_t,
    object: c.napi_ref,
    events: c.napi_ref,
    events_capacity: u32,
    callback: c.napi_ref,
    async_context: c.napi_async_context,
    cleanup_hook: c.napi_async_cleanup_hook_handle,
    counters: Counters,
    /// epoll_wait writes here; the batch is then copied into the caller's
    /// Uint32Array as (fd, generation, flags) words.
    staging: [limits.events_max]epoll.Event,
    /// writev's gather list, filled from the JS array on each call.
    iovecs: [limits.writev_buffers_max]socket.Iovec,
    /// The io_uring of the io_uring backend (ringOpen), or null.
    ring: ?*RingState,
    /// Batches the loop may still take from the ring alone, without an
    /// epoll_wait (loop.zig's next_batch): set by a wait that found only the
    /// ring ready, used up one a batch.
    waits_skippable: u32,

    /// Allocates a poller around an open epoll fd and nests it in the env's
    /// loop. Returns null (with the fd closed) when libuv refuses the handle.
    pub fn create(env: napi.Env, epfd: i32, events: c.napi_ref, capacity: u32) ?*Poller {
        assert(capacity > 0 and capacity <= limits.events_max);
        const self = allocator.create(Poller) catch return null;
        self.* = .{
            .env = env,
            .instance = instance.get(env),
            .epfd = epfd,
            .state = .open,
            .started = false,
            .delivering = false,
            .ref_wanted = true,
            .registrations = 0,
            .owners = owners_count,
            .handle = undefined,
            .object = null,
            .events = events,
            .events_capacity = capacity,
            .callback = null,
            .async_context = null,
            .cleanup_hook = null,
            .counters = .{},
            .staging = undefined,
            .iovecs = undefined,
            .ring = null,
            .waits_skippable = 0,
        };
        var loop: ?*c.uv_loop_t = null;
        if (c.napi_get_uv_event_loop(env, &loop) != c.napi_ok or
            c.uv_poll_init(loop, &self.handle, epfd) != 0)
        {
            allocator.destroy(self);
            return null;
        }
        self.handle.data = self;
        // Not started, no registrations: nothing to hold the loop for.
        c.uv_unref(@ptrCast(&self.handle));
        return self;
    }

    /// The handle holds the process open only while it can deliver
    /// something the user asked for, as a listening net.Server does: an
    /// epoll registration, or an io_uring request in flight.
    pub fn update_ref(self: *Poller) void {
        if (self.state == .closed) return;
        const ring_busy = if (self.ring) |ring| ring.in_flight > 0 else false;
        if (self.started and self.ref_wanted and (self.registrations > 0 or ring_busy)) {
            c.uv_ref(@ptrCast(&self.handle));
        } else {
            c.uv_unref(@ptrCast(&self.handle));
        }
    }

    /// Idempotent; safe from inside the poller's own callback (the memory
    /// lives until the uv close callback, which runs in a later loop phase).
    pub fn close(self: *Poller) void {
        if (self.state == .closed) return;
        self.state = .closed;
        if (self.started) self.stop();
        _ = c.napi_delete_reference(self.env, self.events);
        self.events = null;
        // Before the epoll fd goes: the ring waits for its requests, then closes (leaving the epoll set).
        if (self.ring) |ring| ring.destroy(self.env);
        self.ring = null;
        // uv_close first: it removes the fd from libuv's epoll while the
        // number is still ours, then the number is given back to the kernel.
        c.uv_close(@ptrCast(&self.handle), on_handle_closed);
        _ = self.counters.count(.close, socket.close(self.epfd));
        self.epfd = -1;
    }

    /// Ends delivery: stops the uv poll, drops the callback and async context,
    /// lets the JS object be collected again.
    pub fn stop(self: *Poller) void {
        assert(self.started);
        self.started = false;
        _ = c.uv_poll_stop(&self.handle);
        _ = c.napi_reference_unref(self.env, self.object, null);
        self.update_ref();
        if (!self.delivering) self.release_callback();
    }

    /// Drops the callback and its async context; after a stop() made inside
    /// the callback, loop.deliver calls this once napi_make_callback returns.
    pub fn release_callback(self: *Poller) void {
        assert(!self.started and !self.delivering);
        if (self.callback != null) _ = c.napi_delete_reference(self.env, self.callback);
        self.callback = null;
        if (self.async_context != null) _ = c.napi_async_destroy(self.env, self.async_context);
        self.async_context = null;
    }

    /// Waits up to `timeout_ms` and copies the batch into the events array.
    /// Returns the count or -errno.
    pub fn wait(self: *Poller, timeout_ms: i32) napi.Error!i32 {
        return self.wait_into(try self.event_words(), timeout_ms);
    }

    /// wait() into `words`, the events array event_words() gave this turn.
    pub fn wait_into(self: *Poller, words: []u32, timeout_ms: i32) i32 {
        assert(self.state == .open);
        const rc = self.counters.count(.epoll_wait, epoll.wait(self.epfd, self.staging[0..self.events_capacity], timeout_ms));
        if (rc <= 0) return rc;
        const count: u32 = @intCast(rc);
        assert(count <= self.events_capacity);
        for (self.staging[0..count], 0..) |event, index| {
            const base = index * limits.event_words;
            words[base] = epoll.token_fd(event.data.u64);
            words[base + 1] = epoll.token_generation(event.data.u64);
            words[base + 2] = event.events;
        }
        return rc;
    }

    /// The caller's Uint32Array, looked up again each turn: it may have been
    /// detached (transferred) since the poller was made.
    pub fn event_words(self: *Poller) napi.Error![]u32 {
        var value: napi.Value = null;
        try napi.check(self.env, c.napi_get_reference_value(self.env, self.events, &value));
        const words = try napi.typed_array(self.env, value, "events", .uint32);
        if (words.len < self.events_capacity * limits.event_words) {
            return napi.throw_error(self.env, .ERR_ZEPOLL_EVENTS_DETACHED, "The poller's events array was detached or shrunk", .{});
        }
        return words;
    }

    pub fn release(self: *Poller) void {
        assert(self.owners > 0);
        self.owners -= 1;
        if (self.owners == 0) allocator.destroy(self);
    }
};

fn on_handle_closed(handle: [*c]c.uv_handle_t) callconv(.C) void {
    const self: *Poller = @ptrCast(@alignCast(handle.*.data));
    assert(self.state == .closed);
    if (self.cleanup_hook != null) {
        _ = c.napi_remove_async_cleanup_hook(self.cleanup_hook);
        self.cleanup_hook = null;
    }
    self.release();
}

/// The JS object was collected: close a poller left open, then let go.
pub fn on_object_finalized(env: napi.Env, data: ?*anyopaque, hint: ?*anyopaque) callconv(.C) void {
    _ = hint;
    const self: *Poller = @ptrCast(@alignCast(data.?));
    self.close();
    _ = c.napi_delete_reference(env, self.object);
    self.object = null;
    self.release();
}

/// A method function was collected: one owner fewer.
pub fn on_method_finalized(env: napi.Env, data: ?*anyopaque, hint: ?*anyopaque) callconv(.C) void {
    _ = env;
    _ = hint;
    const self: *Poller = @ptrCast(@alignCast(data.?));
    self.release();
}

/// The env (main thread at exit, or a worker) is going away: the handle must
/// be closed before its loop is, and libuv finishes that asynchronously.
pub fn on_env_cleanup(hook: c.napi_async_cleanup_hook_handle, data: ?*anyopaque) callconv(.C) void {
    const self: *Poller = @ptrCast(@alignCast(data.?));
    assert(self.cleanup_hook == hook);
    self.close();
}
