//! The addon's one allocator.
//!
//! The addon links no libc (so one binary per architecture loads under a
//! glibc Node and a musl Node alike), hence no malloc: memory comes straight
//! from mmap. That suits what is allocated here: a few long-lived objects
//! (the per-env state, one per poller, the owned-fd set as it grows), never
//! anything per call.
const std = @import("std");

pub const allocator = std.heap.page_allocator;
