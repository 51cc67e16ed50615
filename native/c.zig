//! The only @cImport: Node-API and libuv, from the running Node's headers.
//! NAPI_VERSION 8 is the lowest that has napi_add_async_cleanup_hook and
//! napi_type_tag_object; Node 20 implements 9.
pub usingnamespace @cImport({
    @cDefine("NAPI_VERSION", "8");
    @cInclude("node_api.h");
    @cInclude("uv.h");
});
