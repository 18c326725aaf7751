//! Reference solution.

use lab2_raft::tester::{Config, cmd};

/// Commits each of `values` through the cluster's Raft, in order, and
/// returns the log index each was committed at.
pub fn propose_all(cfg: &Config, values: &[u64]) -> Vec<u64> {
    values.iter().map(|&v| cfg.one(&cmd(v), cfg.n(), true)).collect()
}
