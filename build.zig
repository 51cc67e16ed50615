//! Builds native/ into the zepoll.node addon that packages/reactor loads.
//!
//! Node's own headers (node_api.h, uv.h) are required: pass their folder as
//! `-Dnode-include=<dir>`. `scripts/build-native.mjs` finds it next to the
//! running node (or from ZEPOLL_NODE_INCLUDE) and passes it for you.
const std = @import("std");

const headers_required = [_][]const u8{ "node_api.h", "uv.h" };

pub fn build(b: *std.Build) void {
    // A baseline CPU of the target's architecture, never the build host's:
    // the addon is shipped to machines other than the one that built it.
    // `-Dcpu=native` still asks for the host's on purpose. No libc (abi
    // none): the addon makes its system calls through std.os.linux and takes
    // memory from mmap, so one binary per architecture loads under glibc and
    // musl alike. `-Dtarget=aarch64-linux-none` cross-compiles.
    const target = b.standardTargetOptions(.{ .default_target = .{ .cpu_model = .baseline, .os_tag = .linux, .abi = .none } });
    // ReleaseFast unless asked: the addon is on every request's path.
    const optimize = b.option(std.builtin.OptimizeMode, "optimize", "Debug, ReleaseSafe, ReleaseFast (default) or ReleaseSmall") orelse .ReleaseFast;
    const node_include = b.option(
        []const u8,
        "node-include",
        "Folder holding node_api.h and uv.h (<node prefix>/include/node)",
    ) orelse std.os.getenv("ZEPOLL_NODE_INCLUDE") orelse {
        std.debug.print(
            \\zepoll: no Node headers folder given.
            \\  Pass -Dnode-include=<dir> or set ZEPOLL_NODE_INCLUDE to the folder that holds
            \\  node_api.h and uv.h (usually <dirname(node)>/../include/node), or build with
            \\  `npm run build`, which finds it next to the running node.
            \\
        , .{});
        std.process.exit(1);
    };
    check_headers(node_include);

    const lib = b.addSharedLibrary(.{
        .name = "zepoll",
        .root_source_file = .{ .path = "native/main.zig" },
        .target = target,
        .optimize = optimize,
    });
    // Release builds ship without debug info (1.3 MB unstripped); ReleaseSafe and Debug keep it for stack traces.
    lib.strip = optimize == .ReleaseFast or optimize == .ReleaseSmall;
    lib.addSystemIncludePath(.{ .path = node_include });
    add_libc_headers(b, lib, target);
    // N-API and libuv symbols resolve from the node executable at load time.
    lib.linker_allow_shlib_undefined = true;
    const install = b.addInstallArtifact(lib, .{
        .dest_dir = .{ .override = .prefix },
        .dest_sub_path = "zepoll.node",
    });
    b.getInstallStep().dependOn(&install.step);

    // Unit tests of the plain system-call layer (no N-API in native/sys/),
    // in every mode the addon ships or is tested in: ReleaseFast's missing
    // safety checks and ReleaseSafe's present ones both change behaviour.
    const test_step = b.step("test", "Run the Zig tests of native/sys/");
    for ([_]std.builtin.OptimizeMode{ .Debug, .ReleaseSafe, .ReleaseFast }) |mode| {
        const sys_tests = b.addTest(.{
            .root_source_file = .{ .path = "native/sys/all.zig" },
            // sys/ files import ../limits.zig: the module root is native/.
            .main_mod_path = .{ .path = "native" },
            .target = target,
            .optimize = mode,
        });
        test_step.dependOn(&b.addRunArtifact(sys_tests).step);
    }
}

/// uv.h includes libc headers (sys/types.h, pthread.h, ...) for types the
/// addon never uses; uv_poll_t itself is made of pointers and ints, and
/// native/main.zig checks its size against the loading libuv. Zig's bundled
/// musl headers for the target's architecture serve the @cImport without
/// linking any libc. The folders are those Zig itself uses for a musl target.
fn add_libc_headers(b: *std.Build, lib: *std.Build.Step.Compile, target: std.zig.CrossTarget) void {
    const arch = target.getCpuArch();
    const arch_any: []const u8 = switch (arch) {
        .x86_64 => "x86",
        .aarch64 => "aarch64",
        else => {
            std.debug.print("zepoll: {s} is not a supported architecture (x86_64 and aarch64 are)\n", .{@tagName(arch)});
            std.process.exit(1);
        },
    };
    const include = b.pathJoin(&.{ std.fs.path.dirname(b.zig_exe).?, "lib", "libc", "include" });
    const folders = [_][]const u8{
        b.fmt("{s}-linux-musl", .{@tagName(arch)}),
        "generic-musl",
        b.fmt("{s}-linux-any", .{arch_any}),
        "any-linux-any",
    };
    for (folders) |folder| lib.addSystemIncludePath(.{ .path = b.pathJoin(&.{ include, folder }) });
}

fn check_headers(dir: []const u8) void {
    for (headers_required) |name| {
        var path_buffer: [std.fs.MAX_PATH_BYTES]u8 = undefined;
        const path = std.fmt.bufPrint(&path_buffer, "{s}/{s}", .{ dir, name }) catch {
            std.debug.print("zepoll: Node headers folder path is too long: {s}\n", .{dir});
            std.process.exit(1);
        };
        std.fs.cwd().access(path, .{}) catch {
            std.debug.print(
                "zepoll: {s} not found in {s}. Set ZEPOLL_NODE_INCLUDE (or -Dnode-include) to " ++
                    "the folder of your Node's headers (<dirname(node)>/../include/node).\n",
                .{ name, dir },
            );
            std.process.exit(1);
        };
    }
}
