//! Splitting one grading or stress job over machines: `--shard K/N` gives a
//! process its share (submissions for `grade`, run indices for `run` and
//! `stress`), `--campaign S` gives every run a seed that depends only on
//! the campaign, the test and the run's index (so a shard's runs are the
//! single machine's runs, and any one of them reruns on a laptop), and
//! `grader merge` (module [`crate::merge`]) puts the shards' JSON results
//! back together.

use std::fmt;
use std::str::FromStr;

use labrpc::rng::{splitmix64, stable_hash};
use serde::{Deserialize, Serialize};

/// One share of a job split `count` ways: shard `index` of `count`, both
/// 1-based as written (`--shard 2/4`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Shard {
    /// Which share, 1..=count.
    pub index: u64,
    /// How many shares.
    pub count: u64,
}

impl Shard {
    /// Whether item `i` (a submission's position, a run's iteration; 0-based)
    /// belongs to this shard: round robin, so every shard gets every test.
    pub fn holds(self, i: u64) -> bool {
        i % self.count == self.index - 1
    }

    /// How many of the items `0..n` this shard holds.
    pub fn share_of(self, n: u64) -> u64 {
        (0..n).filter(|&i| self.holds(i)).count() as u64
    }
}

impl fmt::Display for Shard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

impl FromStr for Shard {
    type Err = String;

    fn from_str(text: &str) -> Result<Shard, String> {
        let bad = || {
            format!(
                "{text:?} is not a shard; give K/N with 1 <= K <= N, e.g. --shard 2/4 for the second of four"
            )
        };
        let (k, n) = text.trim().split_once('/').ok_or_else(bad)?;
        let index: u64 = k.trim().parse().map_err(|_| bad())?;
        let count: u64 = n.trim().parse().map_err(|_| bad())?;
        if count == 0 || index == 0 || index > count {
            return Err(bad());
        }
        Ok(Shard { index, count })
    }
}

/// What one grader call was asked to do, written into its `--json` export
/// so that `grader merge` can tell that shards belong together (equal jobs
/// but for [`Job::shard`]'s index) and what the whole job was.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct Job {
    /// `run`, `stress` or `grade`.
    pub command: String,
    /// The `LAB[/PART]` selection (`--lab` for `grade`).
    pub labs: Vec<String>,
    /// `--test` names.
    pub tests: Vec<String>,
    /// Runs of each test: `-n`, or stress's `--count`.
    pub per_test: Option<u64>,
    /// Stress's `--duration` in seconds, and whether `--until-fail`.
    pub stress: Option<(Option<u64>, bool)>,
    /// `--policy`, by its `grade.toml` name.
    pub policy: Option<String>,
    /// `grade --reference` labs.
    pub reference: Vec<String>,
    /// `--campaign`.
    pub campaign: Option<u64>,
    /// `--shard`.
    pub shard: Option<Shard>,
    /// Every submission of the batch, by name, in order (`grade`).
    pub submissions: Vec<String>,
}

/// The seed of run `iteration` of `test` in campaign `campaign`: the same
/// on every machine and in every shard.
pub fn campaign_seed(campaign: u64, test: &str, iteration: u64) -> u64 {
    // The kit's own stable hash and mixer (labrpc's, which seeds its
    // faults the same way), not std's per-process hasher.
    let mut state = campaign ^ stable_hash(test) ^ iteration.rotate_left(32);
    // Seeds print in logs and rerun commands: keep them to 10 digits, as
    // fresh ones are.
    splitmix64(&mut state) % 10_000_000_000
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shards_parse_and_split_round_robin() {
        let s: Shard = "2/4".parse().expect("2/4");
        assert_eq!(s, Shard { index: 2, count: 4 });
        assert_eq!(s.to_string(), "2/4");
        let held: Vec<u64> = (0..10).filter(|&i| s.holds(i)).collect();
        assert_eq!(held, vec![1, 5, 9]);
        assert_eq!(s.share_of(10), 3);
        for bad in ["0/4", "5/4", "1/0", "2", "a/b", "-1/3"] {
            assert!(bad.parse::<Shard>().is_err(), "{bad}");
        }
        // Every item in exactly one shard.
        for i in 0..40 {
            let owners = (1..=4)
                .filter(|&k| Shard { index: k, count: 4 }.holds(i))
                .count();
            assert_eq!(owners, 1, "item {i}");
        }
    }

    #[test]
    fn campaign_seeds_depend_on_campaign_test_and_iteration_only() {
        let a = campaign_seed(7, "t", 3);
        assert_eq!(a, campaign_seed(7, "t", 3));
        assert_ne!(a, campaign_seed(8, "t", 3));
        assert_ne!(a, campaign_seed(7, "u", 3));
        assert_ne!(a, campaign_seed(7, "t", 4));
        assert!(a < 10_000_000_000);
    }
}
