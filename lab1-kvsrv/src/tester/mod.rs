//! The harness the lab's tests drive. Students do not edit it and should not
//! need to read it: the handout says what each test checks.
//!
//! - [`KvTester`] / [`VersionedTester`]: a network seeded by the run, one
//!   server, and as many clerks as a test asks for, each with its own end;
//! - [`workload`]: Part A's random clients and the checks on what they saw;
//! - [`appends`]: the append checker (every append present once, in order);
//! - [`versioned`]: Part B's scenarios (racing puts, lost replies, the lock);
//! - [`record`]: clerks that record a history for the linearizability check;
//! - [`checks`]: linearizability, budgets, and reading limits from `grade.toml`;
//! - [`memory`]: exact heap growth, and Part A's memory scenarios;
//! - [`reach`]: operations must reach the server through the network;
//! - [`Violation`]: how client threads report a broken rule to the test.
//!
//! Every random choice the harness makes comes from the run's seed.

pub mod appends;
pub mod checks;
#[cfg(test)]
mod grade_consistency;
mod kv;
pub mod memory;
pub mod reach;
pub mod record;
mod rig;
pub mod versioned;
mod violation;
pub mod workload;

pub use kv::KvTester;
pub use rig::Net;
pub use versioned::VersionedTester;
pub use violation::Violation;
