//! # lab3-kvraft: a fault-tolerant key/value service on Raft
//!
//! Lab 1's key/value server, replicated with lab 2's Raft: the service keeps
//! answering while a minority of its servers are down or cut off, every
//! operation takes effect exactly once however often it is retried, and what
//! clients see is linearizable, as if one copy of the store applied their
//! operations one at a time.
//!
//! - **Part A, the replicated state machine** ([`Rsm`], in `src/rsm.rs`):
//!   a layer between Raft and any deterministic service (a
//!   [`StateMachine`]). [`Rsm::submit`] hands a request to Raft, waits for
//!   the entry at its log index to be applied, and returns the reply, or a
//!   [`SubmitError`] when another entry took that index, the leader lost its
//!   office, or the replica was killed. Later labs (the shard controller and
//!   the shard groups) are built on it too.
//! - **Part B, the key/value service** ([`KvServer`], [`Clerk`], [`rpc`]):
//!   `get`, `put` and `append` (which returns the old value, as in lab 1) on
//!   top of the rsm. The clerk finds the leader, remembers it and retries;
//!   the duplicate table lives in the replicated state, so a retry sent to a
//!   new leader is still recognised.
//! - **Part C, snapshots**: when Raft's persisted state nears
//!   `max_raft_state` bytes, the rsm snapshots the service (its data and its
//!   duplicate table) and tells Raft to drop the log before it; a restarted
//!   replica, or a follower the leader sends its snapshot, resumes from it.
//!
//! The student handout (`docs/lab3-kvraft.md`) explains the tasks; the tests
//! are in `tests/part_a.rs`, `tests/part_b.rs` and `tests/part_c.rs`, driven
//! by the harness in [`tester`]. The files a student edits are listed in
//! `grade.toml` (`lab.student_files`). The Raft underneath is whatever the
//! `lab2-raft` crate builds: in a handout, the student's own.
// distlab:reference-begin
//!
//! In the kit, the `reference` feature (on by default) builds the reference
//! solution on lab 2's reference Raft; `--no-default-features` builds the
//! student skeleton (still on the reference Raft).
// distlab:reference-end

#![warn(missing_docs)]
// The code policy refuses `unsafe` in student files; the compiler enforces
// it on whatever their macros expand to.
#![forbid(unsafe_code)]

mod state_machine;

// Part A: the student's file.
#[cfg(not(feature = "reference"))]
mod rsm;
// distlab:reference-begin
#[cfg(feature = "reference")]
#[path = "reference/rsm.rs"]
mod rsm;
// distlab:reference-end

// Part B: the student's files.
#[cfg(not(feature = "reference"))]
pub mod rpc;
// distlab:reference-begin
#[cfg(feature = "reference")]
#[path = "reference/rpc.rs"]
pub mod rpc;
// distlab:reference-end

#[cfg(not(feature = "reference"))]
mod server;
// distlab:reference-begin
#[cfg(feature = "reference")]
#[path = "reference/server.rs"]
mod server;
// distlab:reference-end

#[cfg(not(feature = "reference"))]
mod clerk;
// distlab:reference-begin
#[cfg(feature = "reference")]
#[path = "reference/clerk.rs"]
mod clerk;
// distlab:reference-end

pub mod tester;

pub use clerk::Clerk;
pub use rsm::Rsm;
pub use server::KvServer;
pub use state_machine::{StateMachine, SubmitError};
