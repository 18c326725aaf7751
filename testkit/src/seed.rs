//! The run's seed: `DISTLAB_SEED` when set, else a fresh one.

use std::collections::hash_map::RandomState;
use std::hash::BuildHasher;
use std::time::{SystemTime, UNIX_EPOCH};

/// The environment variable that fixes a run's seed.
pub const SEED_VAR: &str = "DISTLAB_SEED";

/// Why `DISTLAB_SEED` could not be used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadSeed(pub String);

impl std::fmt::Display for BadSeed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{SEED_VAR} must be an unsigned 64-bit integer (as printed by a failed run), got {:?}; \
             unset it to get a fresh seed",
            self.0
        )
    }
}

/// Parses a seed as printed by a failed run.
pub fn parse_seed(text: &str) -> Result<u64, BadSeed> {
    text.trim()
        .parse::<u64>()
        .map_err(|_| BadSeed(text.to_owned()))
}

/// The seed for a new run: `DISTLAB_SEED` if set, else fresh.
pub fn run_seed() -> Result<u64, BadSeed> {
    match std::env::var(SEED_VAR) {
        Ok(text) => parse_seed(&text),
        Err(_) => Ok(fresh_seed()),
    }
}

/// A seed nobody chose: the clock mixed with the process's hasher keys.
pub fn fresh_seed() -> u64 {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64);
    // Keep seeds short enough to type: 10 decimal digits.
    RandomState::new().hash_one((nanos, std::process::id())) % 10_000_000_000
}
