//! Reading arguments, validating buffers and throwing: nothing else.
//!
//! Every helper that throws returns error.JsException right after, so a
//! binding function stops at once (`catch return null`) and never runs on
//! with a pending exception.
const std = @import("std");
const c = @import("c.zig");
const limits = @import("limits.zig");

pub const Env = c.napi_env;
pub const Value = c.napi_value;
pub const Info = c.napi_callback_info;
pub const Error = error{JsException};

/// Error codes thrown for misuse. Node's own codes where one fits; the
/// ERR_ZEPOLL_* ones are listed in packages/reactor/src/errors.ts.
pub const Code = enum {
    ERR_INVALID_ARG_TYPE,
    ERR_INVALID_ARG_VALUE,
    ERR_OUT_OF_RANGE,
    ERR_ZEPOLL_POLLER_CLOSED,
    ERR_ZEPOLL_POLLER_STARTED,
    ERR_ZEPOLL_EVENTS_DETACHED,
    ERR_ZEPOLL_NATIVE,
    ERR_ZEPOLL_FD_NOT_OWNED,
    ERR_ZEPOLL_FAULTS_DISABLED,
};

const message_size_max = 512;

fn format_z(buffer: []u8, comptime format: []const u8, format_args: anytype) [:0]const u8 {
    return std.fmt.bufPrintZ(buffer, format, format_args) catch blk: {
        // A message longer than the buffer is cut, never the error itself.
        buffer[buffer.len - 1] = 0;
        break :blk buffer[0 .. buffer.len - 1 :0];
    };
}

pub fn throw_type(env: Env, code: Code, comptime format: []const u8, format_args: anytype) Error {
    var buffer: [message_size_max]u8 = undefined;
    _ = c.napi_throw_type_error(env, @tagName(code), format_z(&buffer, format, format_args));
    return error.JsException;
}

pub fn throw_range(env: Env, code: Code, comptime format: []const u8, format_args: anytype) Error {
    var buffer: [message_size_max]u8 = undefined;
    _ = c.napi_throw_range_error(env, @tagName(code), format_z(&buffer, format, format_args));
    return error.JsException;
}

pub fn throw_error(env: Env, code: Code, comptime format: []const u8, format_args: anytype) Error {
    var buffer: [message_size_max]u8 = undefined;
    _ = c.napi_throw_error(env, @tagName(code), format_z(&buffer, format, format_args));
    return error.JsException;
}

/// Turns a failed Node-API status into a thrown error (unless one is
/// already pending, as after a getter that threw).
pub fn check(env: Env, status: c.napi_status) Error!void {
    if (status == c.napi_ok) return;
    var pending = false;
    _ = c.napi_is_exception_pending(env, &pending);
    if (pending) return error.JsException;
    var info: [*c]const c.napi_extended_error_info = null;
    _ = c.napi_get_last_error_info(env, &info);
    const text: [*:0]const u8 = if (info != null and info.*.error_message != null) info.*.error_message else "unknown";
    return throw_error(env, .ERR_ZEPOLL_NATIVE, "Node-API call failed: {s}", .{text});
}

pub fn Args(comptime count: usize) type {
    return struct { this: Value, values: [count]Value };
}

/// The receiver and exactly `count` argument slots (missing ones read as
/// undefined, which every reader below rejects with a TypeError).
pub fn args(env: Env, info: Info, comptime count: usize) Error!Args(count) {
    var result: Args(count) = undefined;
    var argc: usize = count;
    try check(env, c.napi_get_cb_info(env, info, &argc, &result.values, &result.this, null));
    return result;
}

fn type_of(env: Env, value: Value) c.napi_valuetype {
    var kind: c.napi_valuetype = c.napi_undefined;
    _ = c.napi_typeof(env, value, &kind);
    return kind;
}

/// True for an argument left out (or passed as undefined): optional arguments.
pub fn is_undefined(env: Env, value: Value) bool {
    return type_of(env, value) == c.napi_undefined;
}

/// An integer in [min, max]: rejects non-numbers (TypeError), NaN,
/// fractions and values out of range (RangeError), never truncates.
pub fn integer(env: Env, value: Value, name: []const u8, min: i64, max: i64) Error!i64 {
    std.debug.assert(min <= max and max <= limits.safe_integer_max);
    var number: f64 = 0;
    if (c.napi_get_value_double(env, value, &number) != c.napi_ok) {
        return throw_type(env, .ERR_INVALID_ARG_TYPE, "The \"{s}\" argument must be of type number", .{name});
    }
    if (!(number >= @as(f64, @floatFromInt(min)) and number <= @as(f64, @floatFromInt(max))) or @floor(number) != number) {
        return throw_range(env, .ERR_OUT_OF_RANGE, "The value of \"{s}\" is out of range. It must be an integer >= {d} and <= {d}. Received {d}", .{ name, min, max, number });
    }
    return @intFromFloat(number);
}

/// A file descriptor: an integer in [0, 2^31 - 1]. Whether it is open is
/// the kernel's answer (EBADF), not an exception.
pub fn fd(env: Env, value: Value, name: []const u8) Error!i32 {
    return @intCast(try integer(env, value, name, 0, std.math.maxInt(i32)));
}

pub fn boolean(env: Env, value: Value, name: []const u8) Error!bool {
    var result = false;
    if (c.napi_get_value_bool(env, value, &result) != c.napi_ok) {
        return throw_type(env, .ERR_INVALID_ARG_TYPE, "The \"{s}\" argument must be of type boolean", .{name});
    }
    return result;
}

pub fn function(env: Env, value: Value, name: []const u8) Error!Value {
    if (type_of(env, value) != c.napi_function) {
        return throw_type(env, .ERR_INVALID_ARG_TYPE, "The \"{s}\" argument must be of type function", .{name});
    }
    return value;
}

/// A UTF-8 string copied into `buffer`; longer than the buffer is an error.
pub fn string(env: Env, value: Value, name: []const u8, buffer: []u8) Error![]const u8 {
    std.debug.assert(buffer.len > 1);
    if (type_of(env, value) != c.napi_string) {
        return throw_type(env, .ERR_INVALID_ARG_TYPE, "The \"{s}\" argument must be of type string", .{name});
    }
    var size: usize = 0;
    try check(env, c.napi_get_value_string_utf8(env, value, null, 0, &size));
    if (size >= buffer.len) {
        return throw_range(env, .ERR_OUT_OF_RANGE, "The \"{s}\" argument is too long ({d} bytes, at most {d})", .{ name, size, buffer.len - 1 });
    }
    var copied: usize = 0;
    try check(env, c.napi_get_value_string_utf8(env, value, buffer.ptr, buffer.len, &copied));
    std.debug.assert(copied == size);
    return buffer[0..copied];
}

pub const ArrayKind = enum { uint8, int32, uint32, float64 };

fn ArrayElement(comptime kind: ArrayKind) type {
    return switch (kind) {
        .uint8 => u8,
        .int32 => i32,
        .uint32 => u32,
        .float64 => f64,
    };
}

fn array_type(comptime kind: ArrayKind) c.napi_typedarray_type {
    return switch (kind) {
        .uint8 => c.napi_uint8_array,
        .int32 => c.napi_int32_array,
        .uint32 => c.napi_uint32_array,
        .float64 => c.napi_float64_array,
    };
}

fn array_name(comptime kind: ArrayKind) []const u8 {
    return switch (kind) {
        .uint8 => "Uint8Array (or Buffer)",
        .int32 => "Int32Array",
        .uint32 => "Uint32Array",
        .float64 => "Float64Array",
    };
}

/// The elements of a typed array of exactly this kind. A detached buffer
/// reads as empty, so every later bound check fails safely.
pub fn typed_array(env: Env, value: Value, name: []const u8, comptime kind: ArrayKind) Error![]ArrayElement(kind) {
    var actual: c.napi_typedarray_type = undefined;
    var length: usize = 0;
    var data: ?*anyopaque = null;
    if (c.napi_get_typedarray_info(env, value, &actual, &length, &data, null, null) != c.napi_ok or actual != array_type(kind)) {
        return throw_type(env, .ERR_INVALID_ARG_TYPE, "The \"{s}\" argument must be an instance of " ++ array_name(kind), .{name});
    }
    const Element = ArrayElement(kind);
    if (data == null or length == 0) return empty(Element);
    const first: [*]Element = @ptrCast(@alignCast(data.?));
    return first[0..length];
}

/// A zero-length slice with a real address: a zero-sized array's pointer is
/// arbitrary, and the kernel answers EFAULT to an iovec base it cannot map
/// even when its length is 0. Never written (its length is 0).
fn empty(comptime Element: type) []Element {
    const Static = struct {
        var storage: [1]Element = undefined;
    };
    return Static.storage[0..0];
}

/// `length` bytes of `buffer` from `offset`, each checked on its own so
/// their sum cannot overflow; `size_max` bounds one system call.
pub fn slice(env: Env, buffer: []u8, offset: i64, length: i64, size_max: u32) Error![]u8 {
    std.debug.assert(offset >= 0 and length >= 0);
    const offset_index: usize = @intCast(offset);
    const length_size: usize = @intCast(length);
    if (offset_index > buffer.len) {
        return throw_range(env, .ERR_OUT_OF_RANGE, "The value of \"offset\" is out of range. It must be <= {d} (the buffer's length). Received {d}", .{ buffer.len, offset_index });
    }
    if (length_size > buffer.len - offset_index) {
        return throw_range(env, .ERR_OUT_OF_RANGE, "The value of \"length\" is out of range. It must be <= {d} (bytes from offset to the end). Received {d}", .{ buffer.len - offset_index, length_size });
    }
    if (length_size > size_max) {
        return throw_range(env, .ERR_OUT_OF_RANGE, "The value of \"length\" is out of range. It must be <= {d} per call. Received {d}", .{ size_max, length_size });
    }
    return buffer[offset_index..][0..length_size];
}

pub fn int(env: Env, value: i32) Value {
    var result: Value = null;
    _ = c.napi_create_int32(env, value, &result);
    return result;
}

pub fn uint(env: Env, value: u32) Value {
    var result: Value = null;
    _ = c.napi_create_uint32(env, value, &result);
    return result;
}

pub fn undefined_value(env: Env) Value {
    var result: Value = null;
    _ = c.napi_get_undefined(env, &result);
    return result;
}

pub fn set_named(env: Env, target: Value, name: [:0]const u8, value: Value) Error!void {
    try check(env, c.napi_set_named_property(env, target, name, value));
}

pub fn object(env: Env) Error!Value {
    var result: Value = null;
    try check(env, c.napi_create_object(env, &result));
    return result;
}
