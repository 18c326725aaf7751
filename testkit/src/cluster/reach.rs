//! Proof that a lab's operations went through the network, for every lab
//! alike. Results and upper bounds on RPCs do not show it: clerks that
//! share a process-wide map with the servers and never send an RPC give
//! right answers with no RPCs at all. Two checks do:
//!
//! - [`assert_network_used`]: at least one RPC entered the network per
//!   completed clerk operation (the run's [`Run::ops`]);
//! - [`blocks_while_cut_off`]: an operation whose clerk can reach no server
//!   must not complete, and must complete once it can again.

use labrt::channel;
use labrt::thread;
use labrt::time::Duration;

use crate::Run;

/// Fails the test if fewer than [`Run::ops`] RPCs entered the network
/// (`rpcs`, e.g. [`Fabric::rpc_total`](super::Fabric::rpc_total)): every
/// completed clerk operation must have reached a server at least once.
pub fn assert_network_used(run: &Run, rpcs: u64) {
    let ops = run.ops();
    assert!(
        rpcs >= ops,
        "{ops} clerk operations completed but only {rpcs} RPCs entered the network: some \
         operations never reached a server. A clerk must send every operation to a server \
         through its ends (and retry until a reply comes), never answer it from memory of its \
         own or shared with the servers (seed {})",
        run.seed()
    );
}

/// How long a cut-off operation is watched, and how long it may take once
/// its clerk can reach a server again.
#[derive(Clone, Copy, Debug)]
pub struct CutOff {
    /// The operation must not return for this long while cut off.
    pub watch: Duration,
    /// It must return within this long after [`blocks_while_cut_off`]'s
    /// `heal` ran.
    pub rejoin_within: Duration,
}

impl Default for CutOff {
    /// 1.5 s watched; 10 s to finish after healing (generous: a busy
    /// machine and a clerk's retry back-off).
    fn default() -> CutOff {
        CutOff {
            watch: Duration::from_millis(1500),
            rejoin_within: Duration::from_secs(10),
        }
    }
}

/// Runs `op` (one clerk operation, started on its own thread after the
/// caller cut the clerk off from every server) and fails the test if it
/// returns within `limits.watch`; then calls `heal` (reconnect the clerk)
/// and returns what `op` returned, failing the test if it takes longer than
/// `limits.rejoin_within`. `what` names the operation in messages
/// (`get("k")`).
pub fn blocks_while_cut_off<T, F, H>(run: &Run, what: &str, limits: CutOff, op: F, heal: H) -> T
where
    T: Send + std::fmt::Debug + 'static,
    F: FnOnce() -> T + Send + 'static,
    H: FnOnce(),
{
    let (tx, rx) = channel::unbounded();
    let worker = thread::Builder::new()
        .name("cut-off-clerk".into())
        .spawn(move || {
            let _ = tx.send(op());
        })
        .unwrap_or_else(|e| panic!("tester: cannot start the clerk thread: {e}"));
    if let Ok(got) = rx.recv_timeout(limits.watch) {
        panic!(
            "the clerk's {what} returned {got:?} while the clerk could reach no server: the \
             operation never reached a server. A clerk must send every operation through its \
             ends and keep retrying until a reply comes, never answer from memory of its own or \
             shared with the servers (seed {})",
            run.seed()
        );
    }
    heal();
    let got = rx.recv_timeout(limits.rejoin_within).unwrap_or_else(|_| {
        panic!(
            "the clerk's {what} had not returned {:.1} s after the clerk could reach the servers \
             again: a clerk must keep retrying until a server answers (seed {})",
            limits.rejoin_within.as_secs_f64(),
            run.seed()
        )
    });
    let _ = worker.join();
    got
}
