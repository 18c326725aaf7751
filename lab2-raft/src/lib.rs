//! # lab2-raft: Raft with persistence and snapshots
//!
//! Students implement the Raft consensus protocol (Ongaro and Ousterhout,
//! "In Search of an Understandable Consensus Algorithm", extended version) in
//! [`src/raft.rs`](raft): leader election (part 2A), log replication (2B),
//! persistence across crashes (2C) and log compaction with snapshots (2D).
//! The tests in `tests/part_*.rs` drive it through the harness in
//! [`tester`], which crashes, partitions and lies to it over a simulated
//! [`labrpc`] network.
//!
//! The API a peer offers:
//!
//! - [`Raft::new`] starts a peer; [`Raft`] is a cheap-to-clone handle;
//! - [`Raft::start`] proposes a command and, on the leader, returns where it
//!   will be in the log ([`Start`]); [`Raft::state`] reports the term and
//!   whether this peer believes it is the leader ([`State`]);
//! - [`Raft::snapshot`] tells Raft the service has snapshotted its state
//!   through an index; [`Raft::kill`] stops the peer;
//! - [`service`] builds the labrpc `"Raft"` service holding the peer's RPC
//!   handlers;
//! - committed commands and snapshots to install reach the service as
//!   [`ApplyMsg`]s on the channel given to [`Raft::new`].
//!
//! [`ApplyMsg`], [`Start`] and [`State`] are shared by every implementation
//! (`src/apply.rs`, `src/api.rs`); students do not edit them.
// distlab:reference-begin
//!
//! In the kit, the `reference` feature (on by default) builds the reference
//! solution; `--no-default-features` builds the student skeleton.
// distlab:reference-end

#![warn(missing_docs)]
// The code policy refuses `unsafe` in student files; the compiler enforces
// it on whatever their macros expand to.
#![forbid(unsafe_code)]

mod api;
mod apply;
#[cfg(not(feature = "reference"))]
mod raft;
// distlab:reference-begin
#[cfg(feature = "reference")]
#[path = "reference/raft.rs"]
mod raft;
// distlab:reference-end
pub mod tester;

pub use api::{Start, State};
pub use apply::ApplyMsg;
pub use raft::{Raft, service};
