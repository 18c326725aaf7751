//! # Lab 1: a key/value server over an unreliable network
//!
//! One server holds a map from string keys to string values; clients reach
//! it through a *clerk* over labrpc's simulated network, which may lose any
//! request or any reply. The clerk retries until it hears back, so the lab is
//! about what a retry may and may not do.
//!
//! - **Part A, exactly once** ([`KvServer`], [`Clerk`], [`kv_rpc`]):
//!   `get`, `put`, and `append` returning the old value. Each operation takes
//!   effect exactly once however many times it is retried, and the server's
//!   memory for recognising retries stays bounded.
//! - **Part B, versioned puts and a lock** ([`VersionedServer`],
//!   [`VersionedClerk`], [`Lock`], [`versioned_rpc`]): every key carries a
//!   [`Version`]; a put applies only on a matching version, and a retried put
//!   that meets a mismatch is reported as [`PutError::Maybe`]. A lock is then
//!   built from nothing but that clerk.
//!
//! The student handout (`docs/lab1-kvsrv.md`) explains the tasks; the tests
//! are in `tests/part_a.rs` and `tests/part_b.rs`, driven by the harness in
//! [`tester`]. The files a student edits are listed in `grade.toml`
//! (`lab.student_files`).

#![warn(missing_docs)]
// The code policy refuses `unsafe` in student files; the compiler enforces
// it on whatever their macros expand to.
#![forbid(unsafe_code)]

// Part A: the student's files.
#[cfg(not(feature = "reference"))]
pub mod kv_rpc;
// distlab:reference-begin
#[cfg(feature = "reference")]
#[path = "reference/kv_rpc.rs"]
pub mod kv_rpc;
// distlab:reference-end

#[cfg(not(feature = "reference"))]
mod kv_server;
// distlab:reference-begin
#[cfg(feature = "reference")]
#[path = "reference/kv_server.rs"]
mod kv_server;
// distlab:reference-end

#[cfg(not(feature = "reference"))]
mod kv_clerk;
// distlab:reference-begin
#[cfg(feature = "reference")]
#[path = "reference/kv_clerk.rs"]
mod kv_clerk;
// distlab:reference-end

// Part B: the messages are fixed (harness); the rest is the student's.
pub mod versioned_rpc;

#[cfg(not(feature = "reference"))]
mod versioned_server;
// distlab:reference-begin
#[cfg(feature = "reference")]
#[path = "reference/versioned_server.rs"]
mod versioned_server;
// distlab:reference-end

#[cfg(not(feature = "reference"))]
mod versioned_clerk;
// distlab:reference-begin
#[cfg(feature = "reference")]
#[path = "reference/versioned_clerk.rs"]
mod versioned_clerk;
// distlab:reference-end

#[cfg(not(feature = "reference"))]
mod lock;
// distlab:reference-begin
#[cfg(feature = "reference")]
#[path = "reference/lock.rs"]
mod lock;
// distlab:reference-end

pub mod tester;

pub use kv_clerk::Clerk;
pub use kv_server::KvServer;
pub use lock::Lock;
pub use versioned_clerk::VersionedClerk;
pub use versioned_rpc::{PutError, Version};
pub use versioned_server::VersionedServer;
