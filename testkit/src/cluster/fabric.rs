//! The shared network under one or more clusters: the labrpc [`Network`],
//! the bookkeeping of every end, the network-wide fault knobs, the seeded
//! generator for the harness's random choices, and the run report.

use labrpc::Network;
use labrpc::rng::Rng;
use labrt::sync::atomic::{AtomicU32, Ordering};
use labrt::sync::{Arc, Mutex, MutexGuard};

use super::client::Client;
use super::node::Dialer;
use super::wiring::{Owner, Wiring};
use crate::{Metrics, Run};

/// What the harness's own generator is seeded with, given the run's seed.
/// The same mix lab 2's tester used, so a seed picks the same peers.
const RNG_MIX: u64 = 0x7e57_7e57;

/// The network shared by every cluster of a test.
///
/// One cluster ([`crate::cluster::Cluster::new`]) makes its own; several
/// groups (a shard controller and replica groups, say) are started on one
/// fabric with [`crate::cluster::Cluster::start`] and can call each other
/// through [`crate::cluster::Dialer`]s.
///
/// Cheap to clone: clones are handles to the same fabric. When the last
/// handle, and the last cluster started on it, is dropped, the network is
/// shut down ([`Network::cleanup`]): pending and future calls fail at once.
#[derive(Clone)]
pub struct Fabric {
    pub(crate) inner: Arc<FabricInner>,
}

pub(crate) struct FabricInner {
    pub(crate) net: Network,
    seed: u64,
    wiring: Mutex<Wiring>,
    rng: Mutex<Rng>,
    /// Servers ever started on the fabric, for the report.
    peers: Arc<AtomicU32>,
}

impl Drop for FabricInner {
    fn drop(&mut self) {
        // A handle on the network lives on in the run's metrics closure, so
        // dropping ours would not shut it down.
        self.net.cleanup();
    }
}

impl FabricInner {
    pub(crate) fn wiring(&self) -> MutexGuard<'_, Wiring> {
        self.wiring.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub(crate) fn count_peers(&self, n: usize) {
        let n = u32::try_from(n).unwrap_or(u32::MAX);
        self.peers.fetch_add(n, Ordering::Relaxed);
    }

    pub(crate) fn random(&self, n: u64) -> u64 {
        assert!(n > 0, "cluster: random(0) has no value to return");
        self.rng.lock().unwrap_or_else(|e| e.into_inner()).below(n)
    }
}

impl Fabric {
    /// A fabric for `run`: seeded with the run's seed, logging through
    /// [`crate::log`], and reporting to the run the servers started on it
    /// and the network's RPC and byte totals ([`Fabric::report_to`]).
    ///
    /// The network starts reliable, without long delays or reordering.
    pub fn new(run: &Run) -> Fabric {
        crate::log::init();
        let fabric = Fabric::with_seed(run.seed());
        fabric.report_to(run);
        fabric
    }

    /// A fabric seeded with `seed` that reports to no run (call
    /// [`Fabric::report_to`] to make it report).
    pub fn with_seed(seed: u64) -> Fabric {
        let net = Network::with_seed(seed);
        Fabric {
            inner: Arc::new(FabricInner {
                wiring: Mutex::new(Wiring::new(net.clone())),
                net,
                seed,
                rng: Mutex::new(Rng::new(seed ^ RNG_MIX)),
                peers: Arc::new(AtomicU32::new(0)),
            }),
        }
    }

    /// Makes `run`'s report give this fabric's [`Fabric::metrics`]: the
    /// servers started on it (every group's), and the RPCs and bytes the
    /// network carried. Read when the report is written, also on failure.
    pub fn report_to(&self, run: &Run) {
        let net = self.inner.net.clone();
        let peers = Arc::clone(&self.inner.peers);
        run.measure(move || Metrics {
            peers: peers.load(Ordering::Relaxed),
            rpcs: net.total_rpcs(),
            bytes: net.total_bytes(),
        });
    }

    /// The figures [`Fabric::report_to`] reports, now.
    pub fn metrics(&self) -> Metrics {
        Metrics {
            peers: self.inner.peers.load(Ordering::Relaxed),
            rpcs: self.rpc_total(),
            bytes: self.bytes_total(),
        }
    }

    /// The seed the network and the harness's generator were seeded with.
    pub fn seed(&self) -> u64 {
        self.inner.seed
    }

    /// The labrpc network, for what the verbs do not cover (targeted
    /// [`labrpc::Fault`]s, extra servers). Ends and servers the harness made
    /// are its own: change them only through the verbs.
    pub fn network(&self) -> &Network {
        &self.inner.net
    }

    /// Makes the network unreliable (`true`: each request waits 0–26 ms,
    /// 10% of requests and 10% of replies are lost) or reliable again.
    pub fn unreliable(&self, on: bool) {
        self.inner.net.set_reliable(!on);
    }

    /// With long delays, a call that cannot be delivered fails after up to
    /// 7 s instead of up to 100 ms.
    pub fn long_delays(&self, on: bool) {
        self.inner.net.set_long_delays(on);
    }

    /// With long reordering, two thirds of replies are held 200–2200 ms.
    pub fn long_reordering(&self, on: bool) {
        self.inner.net.set_long_reordering(on);
    }

    /// A number below `n` from the harness's generator, which is seeded
    /// from the run's seed (so a rerun with the seed makes the same choices,
    /// as long as the test asks in the same order).
    ///
    /// # Panics
    /// If `n` is 0.
    pub fn random(&self, n: u64) -> u64 {
        self.inner.random(n)
    }

    /// RPCs that entered the network so far, from everyone.
    pub fn rpc_total(&self) -> u64 {
        self.inner.net.total_rpcs()
    }

    /// Bytes the network carried so far (arguments and delivered replies).
    pub fn bytes_total(&self) -> u64 {
        self.inner.net.total_bytes()
    }

    /// A client with no ends yet: it reaches servers through its
    /// [`Client::dialer`], and every server until cut off with
    /// [`crate::cluster::Cluster::connect_client`]. For clerks that talk to
    /// several groups; [`crate::cluster::Cluster::make_client`] gives one
    /// with an end to each peer of a group.
    pub fn make_client(&self) -> Client {
        let mut w = self.inner.wiring();
        let id = w.add_client();
        let owner = Owner::Client(id);
        let dialer = Dialer::new(&self.inner, &mut w, owner);
        Client::new(id, Vec::new(), dialer)
    }

    /// Deletes `client`'s ends: calls through them fail from now on.
    pub fn delete_client(&self, client: &Client) {
        let mut w = self.inner.wiring();
        w.remove_client(client.id());
        w.sync();
    }
}

impl std::fmt::Debug for Fabric {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let (ends, drops) = self.inner.wiring().counts();
        f.debug_struct("Fabric")
            .field("seed", &self.inner.seed)
            .field("peers", &self.inner.peers.load(Ordering::Relaxed))
            .field("ends", &ends)
            .field("reply_drops", &drops)
            .finish()
    }
}
