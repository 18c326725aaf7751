//! The safety check that runs all through every test: at most one leader
//! per term, ever.
//!
//! A watcher thread samples every running peer's [`crate::State`] every
//! [`SAMPLE_EVERY`] and remembers, for each term, the first peer seen
//! leading it. A second peer seen leading a term already led (at the same
//! moment or a minute later, whether either is connected or not) breaks
//! Election Safety and fails the test at once, from the watcher. The
//! watcher also checks that one incarnation's term never goes down.
//!
//! Sampling cannot see a leader that lasts less than one period; the
//! helpers ([`super::Config::check_one_leader`]) look too, each time they
//! are called.

use std::collections::BTreeMap;

use labrt::sync::atomic::{AtomicBool, Ordering};
use labrt::sync::{Arc, Mutex, MutexGuard};
use labrt::thread::{self, JoinHandle};
use labrt::time::Duration;

use testkit::cluster::Cluster;

use super::Peer;
use crate::State;

/// How often the watcher samples every peer's state.
pub const SAMPLE_EVERY: Duration = Duration::from_millis(10);

/// What the watcher has seen.
#[derive(Default)]
struct Seen {
    /// The peer first seen leading each term.
    leaders: BTreeMap<u64, usize>,
    /// The last term seen for each (peer, incarnation).
    terms: BTreeMap<(usize, u64), u64>,
}

/// The books of [`Watch`], shared with the helpers that look at states too.
pub(super) struct Ledger {
    seen: Mutex<Seen>,
    seed: u64,
}

impl Ledger {
    pub(super) fn new(seed: u64) -> Ledger {
        Ledger {
            seen: Mutex::new(Seen::default()),
            seed,
        }
    }

    fn seen(&self) -> MutexGuard<'_, Seen> {
        self.seen.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Records that incarnation `incarnation` of peer `i` reported `state`;
    /// fails the test if that breaks Election Safety or lowers its term.
    pub(super) fn observe(&self, i: usize, incarnation: u64, state: State) {
        let mut seen = self.seen();
        let last = seen.terms.entry((i, incarnation)).or_insert(state.term);
        if state.term < *last {
            let was = *last;
            drop(seen);
            panic!(
                "peer {i}'s term went down from {was} to {} without a restart (a term never decreases) (seed {})",
                state.term, self.seed
            );
        }
        *last = state.term;
        if state.is_leader {
            let first = *seen.leaders.entry(state.term).or_insert(i);
            if first != i {
                drop(seen);
                panic!(
                    "peers {first} and {i} were both leaders of term {} (at most one leader per term, ever: \
                     a peer becomes leader only with votes from a majority, and each peer votes once per term) (seed {})",
                    state.term, self.seed
                );
            }
        }
    }
}

/// The watcher thread; stopped and joined on drop.
pub(super) struct Watch {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Watch {
    /// Starts sampling `cluster` into `ledger`.
    pub(super) fn start(cluster: Arc<Cluster<Peer>>, ledger: Arc<Ledger>) -> Watch {
        let stop = Arc::new(AtomicBool::new(false));
        let stopping = Arc::clone(&stop);
        let thread = thread::Builder::new()
            .name("leader-watch".into())
            .spawn(move || {
                while !stopping.load(Ordering::Relaxed) {
                    cluster.each_running(|i, peer| {
                        ledger.observe(i, peer.incarnation, peer.raft.state());
                    });
                    thread::sleep(SAMPLE_EVERY);
                }
            })
            .unwrap_or_else(|e| panic!("tester: cannot start the leader watcher: {e}"));
        Watch {
            stop,
            thread: Some(thread),
        }
    }
}

impl Drop for Watch {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            // A watcher that panicked has already failed the run.
            let _ = t.join();
        }
    }
}
