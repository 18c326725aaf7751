//! The seed each replica's incarnation gets: fixed by the run's seed, and
//! different for every server and every restart, so a rerun with the seed a
//! failure printed replays the replicas' random choices (Raft's election
//! timeouts) as well as the network's.

use labrt::rand::seeded;

/// The seed for incarnation `incarnation` of server `i` (its
/// `KvServer::new` / `Rsm::new` argument).
pub fn replica_seed(run_seed: u64, i: usize, incarnation: u64) -> u64 {
    let stream = ((i as u64) << 32) ^ incarnation;
    seeded(run_seed, stream).next_u64()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_server_and_restart_gets_its_own_seed_and_a_rerun_the_same() {
        let mut seen = std::collections::BTreeSet::new();
        for i in 0..7 {
            for life in 1..=5 {
                assert!(seen.insert(replica_seed(42, i, life)), "seed repeated");
                assert_eq!(replica_seed(42, i, life), replica_seed(42, i, life));
            }
        }
        assert_ne!(replica_seed(42, 0, 1), replica_seed(43, 0, 1));
    }
}
