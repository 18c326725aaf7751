//! # testkit: the plumbing every distlab test uses
//!
//! A separate crate because it is a separate concern from the network
//! (`labrpc`) and the checkers (`labcheck`): every lab's tests and the grader
//! share it. It depends on `labrpc` only for [`cluster`], the harness the
//! replicated labs build their testers on (labrpc's own tests use testkit as
//! a dev-dependency, a cycle Cargo allows), and not on labcheck.
//!
//! - [`begin!`] / [`Run`]: a test run with its seed, time limit, panic watch
//!   and report;
//! - [`cluster`]: peers on a simulated network, with partitions, crashes and
//!   restarts, shared by the testers of labs 2–5;
//! - [`heap`]: a counting global allocator for exact memory budgets (a
//!   run reports its own heap peak, see [`Run::heap_peak`]);
//! - [`grade`]: the `grade.toml` format the tests and the grader both read;
//! - [`report`]: the JSON line each run appends to `DISTLAB_REPORT`;
//! - [`seed`]: the `DISTLAB_SEED` variable;
//! - [`log`]: `tracing` output filtered by `DISTLAB_LOG`.
//!
//! ```no_run
//! # fn some_test() {
//! let run = testkit::begin!();             // reads grade.toml, prints the seed
//! let seed = run.seed();                  // seed the network and workloads with it
//! run.add_ops(10);
//! # }
//! ```

#![warn(missing_docs)]

pub mod cluster;
pub mod grade;
pub mod heap;
pub mod log;
pub mod report;
mod run;
pub mod seal;
pub mod seed;

pub use run::{Metrics, OpCounter, Origin, Run, wait_for};
