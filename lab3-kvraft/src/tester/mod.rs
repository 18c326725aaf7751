//! The harness the lab's tests drive. Students read it to understand a
//! failure, never edit it: grading uses a pristine copy.
//!
//! Both worlds run on the kit's shared cluster harness
//! ([`testkit::cluster`]): one simulated network, one end per ordered pair of
//! servers, partitions, crashes (a crash keeps a copy of the persister and
//! nothing else) and restarts with fresh ends. Their testers dereference to
//! that [`testkit::cluster::Cluster`], so a test can `partition`, `repair`,
//! `crash`, `restart_all`, ... directly.
//!
//! - [`rsm`] (part A): [`RsmTester`], replicas of a counter, each an
//!   [`Rsm`](crate::Rsm) of a [`Counter`]; tests submit to the rsms
//!   directly and watch every replica's counter.
//! - [`kv`] (parts B and C): [`KvTester`], key/value replicas and clerks
//!   that record every operation ([`TestClerk`]) for the linearizability
//!   check, and counts of the key/value RPCs the servers executed.
//! - [`generic`]: the random-clients test behind most of parts B and C
//!   (partitions, crashes, lost messages, snapshots).
//! - [`scenarios`]: the scripted tests (a leader in the minority, speed,
//!   a clerk that can reach no server, catching up through a snapshot,
//!   snapshot sizes).
//! - [`memory`]: the duplicate table's memory, counted exactly.
//! - [`appends`], [`checks`]: the append check and the linearizability
//!   verdict (an undecided check fails; a violation writes the HTML picture
//!   and names it).
//!
//! Every random choice the harness makes comes from the run's seed, and so
//! do the seeds the replicas get (a different one per server and restart).

use labrt::time::Duration;

/// How long a cluster that lost its leader, or was just restarted, is given
/// to elect one: tests sleep this long to let an election happen (MIT's
/// `electionTimeout`).
pub const ELECTION_TIMEOUT: Duration = Duration::from_secs(1);

pub mod appends;
pub mod checks;
pub mod generic;
#[cfg(test)]
mod grade_consistency;
pub mod kv;
pub mod memory;
mod problems;
pub mod rsm;
pub mod scenarios;
mod seeds;

pub use generic::Faults;
pub use kv::{KvTester, Net, TestClerk};
pub use problems::Problems;
pub use rsm::{Counter, CounterOp, RsmTester};
pub use seeds::replica_seed;
