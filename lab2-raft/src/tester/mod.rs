//! The harness the lab's tests drive. Students read it to understand a
//! failure, never edit it: grading uses a pristine copy.
//!
//! A [`Config`] is a cluster of `n` Raft peers on the kit's shared cluster
//! harness ([`testkit::cluster`]), which every multi-server lab uses: one
//! simulated network, one client end per ordered pair of peers, and the
//! fault verbs. `Config` dereferences to that [`Cluster`], so a test can:
//!
//! - **partition**: `disconnect(i)` / `connect(i)` cut a peer off from
//!   everyone / join it back; `partition`, `deafen`, `partition_oneway`;
//! - **crash**: `crash(i)` cuts the peer off, deletes its server (so a reply
//!   it is computing is never delivered), keeps a copy of its persister
//!   (what it saved is all that survives) and kills it;
//! - **restart**: `restart(i)` starts a new Raft from that copy, with fresh
//!   ends so messages of the dead incarnation cannot arrive;
//! - turn the network's knobs: `unreliable`, `long_reordering`.
//!
//! `Config` adds what is Raft's, and checks safety all the time, in every
//! test, whatever the test itself looks at:
//!
//! - **one leader per term, ever** ([`watch`]): a watcher samples every
//!   peer's state every 10 ms, and every state a helper reads is checked
//!   too; no peer's term goes down;
//! - **what the peers apply** ([`applier`]): every peer applies index
//!   `k + 1` right after `k`, no two peers apply different commands at one
//!   index, and snapshots carry the index they were taken at. In snapshot
//!   mode the harness acts as a service that snapshots every
//!   [`applier::SNAPSHOT_EVERY`] entries;
//! - **the network was used** ([`Config::check_network_use`], at the end
//!   of each test): a peer received at least the bytes of every command it
//!   applied that the test did not give it.
//!
//! The helpers ([`Config::check_one_leader`], [`Config::one`], ...) wait for
//! conditions with deadlines and fail the test with a message that says what
//! was expected, what happened and the seed.

pub mod applier;
pub mod watch;

use std::collections::BTreeSet;

use labrpc::rng::splitmix64;
use labrt::channel::unbounded;
use labrt::sync::{Arc, Mutex, MutexGuard};
use labrt::thread;
use labrt::time::{Duration, Instant};
use testkit::Run;
use testkit::cluster::{Cluster, Fabric, Incarnation, Node, Peers};

use crate::{Raft, Start, State, service};
use applier::Applied;
use watch::{Ledger, Watch};

/// A generous bound on how long a healthy cluster takes to notice a lost
/// leader and elect another; tests sleep this long to let elections happen.
pub const ELECTION_TIMEOUT: Duration = Duration::from_secs(1);
/// How long [`Config::one`] tries to get a command committed.
pub const AGREEMENT_TIMEOUT: Duration = Duration::from_secs(10);
/// How long [`Config::one`] waits for agreement after each successful start.
pub const START_TIMEOUT: Duration = Duration::from_secs(2);

/// The bytes of a test command: the number, encoded like any message.
pub fn cmd(x: u64) -> Vec<u8> {
    labrpc::encode(&x).unwrap_or_else(|e| panic!("tester: cannot encode command {x}: {e}"))
}

/// Renders a command for messages: the number if it is one, else its size.
pub fn show(command: &[u8]) -> String {
    match labrpc::decode::<u64>(command) {
        Ok(x) => x.to_string(),
        Err(_) => format!("<{} bytes>", command.len()),
    }
}

/// What the harness keeps for each running peer: its Raft and which
/// incarnation of the peer it is.
#[derive(Clone)]
pub struct Peer {
    /// The peer's Raft.
    pub raft: Raft,
    /// How many times the peer has been started, this one included.
    pub incarnation: u64,
}

/// A Raft cluster under test. Shareable between threads (`&Config` is
/// `Sync`), so client threads can call [`Config::start`] concurrently.
///
/// The cluster itself (connect, disconnect, crash, restart, deafen, the
/// network knobs, counters, the seeded generator) is the kit's shared
/// harness, [`testkit::cluster::Cluster`]: `Config` dereferences to it, and
/// adds what is Raft's: starting commands, reading states, and the checks.
pub struct Config {
    // Declared first so it is dropped first: the watcher stops before the
    // cluster's peers are killed.
    _watch: Watch,
    cluster: Arc<Cluster<Peer>>,
    leader_timeout: Duration,
    applied: Arc<Applied>,
    ledger: Arc<Ledger>,
    /// The indices at which each peer accepted a [`Config::start`]: the
    /// commands the test handed it rather than the network.
    started: Mutex<Vec<BTreeSet<u64>>>,
}

impl std::ops::Deref for Config {
    type Target = Cluster<Peer>;

    fn deref(&self) -> &Cluster<Peer> {
        &self.cluster
    }
}

impl Config {
    /// Starts `n` connected peers on a network that is reliable or not,
    /// with long delays for unreachable peers (a call to a cut-off peer can
    /// take up to 7 s to fail). With `snapshots`, the harness snapshots every
    /// [`applier::SNAPSHOT_EVERY`] applied entries, as a service would.
    ///
    /// Reads `leader_secs` (how long a cluster may go without a leader) from
    /// the test's `grade.toml` limits and reports peers, RPCs and bytes
    /// through `run`. The leader watcher ([`watch`]) runs from the start.
    pub fn new(run: &Run, n: usize, reliable: bool, snapshots: bool) -> Config {
        let fabric = Fabric::new(run);
        fabric.unreliable(!reliable);
        fabric.long_delays(true);
        let seed = fabric.seed();
        let applied = Arc::new(Applied::new(n, seed));
        let factory_applied = Arc::clone(&applied);
        let cluster = Arc::new(Cluster::start(&fabric, Peers::new(n), move |node| {
            start_peer(&node, &factory_applied, snapshots, seed)
        }));
        let ledger = Arc::new(Ledger::new(seed));
        Config {
            _watch: Watch::start(Arc::clone(&cluster), Arc::clone(&ledger)),
            cluster,
            leader_timeout: Duration::from_secs_f64(run.limit("leader_secs")),
            applied,
            ledger,
            started: Mutex::new(vec![BTreeSet::new(); n]),
        }
    }

    /// A fresh random command value.
    pub fn random_cmd(&self) -> Vec<u8> {
        cmd(self.random(u64::MAX))
    }

    /// Peer `i`'s current Raft, if it is running.
    pub fn raft(&self, i: usize) -> Option<Raft> {
        self.handle(i).map(|p| p.raft)
    }

    /// Calls `start` on peer `i` if it is running.
    pub fn start(&self, i: usize, command: Vec<u8>) -> Option<Start> {
        let started = self.raft(i).and_then(|r| r.start(command));
        if let Some(s) = started {
            lock(&self.started)[i].insert(s.index);
        }
        started
    }

    /// Peer `i`'s term and whether it believes it leads, if it is running.
    /// Every state read is also checked by the leader watcher's rules.
    pub fn state(&self, i: usize) -> Option<State> {
        let peer = self.handle(i)?;
        let state = peer.raft.state();
        self.ledger.observe(i, peer.incarnation, state);
        Some(state)
    }

    /// How long a cluster may go without a leader (`leader_secs`).
    pub fn leader_timeout(&self) -> Duration {
        self.leader_timeout
    }

    /// The highest index any peer has applied.
    pub fn max_index(&self) -> u64 {
        self.applied.max_index()
    }

    /// Waits up to `leader_secs` for exactly one connected peer to believe
    /// it is the leader and returns it. Fails at once if two running peers,
    /// connected or not, lead the same term, now or ever (the leader
    /// watcher's rule, applied to every state read), and fails if no single
    /// leader emerges in time.
    pub fn check_one_leader(&self) -> usize {
        let deadline = Instant::now() + self.leader_timeout;
        loop {
            let connected_leaders: Vec<(usize, u64)> = (0..self.n())
                .filter_map(|i| match self.state(i) {
                    Some(State {
                        term,
                        is_leader: true,
                    }) if self.is_connected(i) => Some((i, term)),
                    _ => None,
                })
                .collect();
            // A deposed leader that has just rejoined still believes in its
            // old term until it hears from the new leader: wait for that.
            if let [(leader, _)] = connected_leaders[..] {
                return leader;
            }
            if Instant::now() >= deadline {
                self.fail(format!(
                    "expected exactly one leader among the connected peers within {:?}, got {} (peer, term): {connected_leaders:?}",
                    self.leader_timeout,
                    connected_leaders.len()
                ));
            }
            thread::sleep(Duration::from_millis(50));
        }
    }

    /// Checks that the connected peers agree on the term and returns it.
    pub fn check_terms(&self) -> u64 {
        let mut term = None;
        for i in 0..self.n() {
            if !self.is_connected(i) {
                continue;
            }
            if let Some(State { term: t, .. }) = self.state(i) {
                match term {
                    None => term = Some(t),
                    Some(t0) if t0 != t => self.fail(format!(
                        "connected peers disagree on the term: {t0} and {t}"
                    )),
                    Some(_) => {}
                }
            }
        }
        term.unwrap_or_else(|| self.fail("no connected peer to read a term from"))
    }

    /// Checks that no connected peer thinks it is the leader.
    pub fn check_no_leader(&self) {
        for i in 0..self.n() {
            if self.is_connected(i)
                && let Some(State {
                    term,
                    is_leader: true,
                }) = self.state(i)
            {
                self.fail(format!(
                    "expected no leader among the connected peers, but peer {i} leads term {term}"
                ));
            }
        }
    }

    /// How many peers have applied index `index`, and the command there.
    pub fn n_committed(&self, index: u64) -> (usize, Option<Vec<u8>>) {
        self.applied.n_committed(index)
    }

    /// Waits (up to about 30 s, backing off) for at least `n` peers to apply
    /// `index`, and returns the command. Gives up early with `None` if some
    /// peer has moved past `start_term` (the entry may never commit).
    pub fn wait(&self, index: u64, n: usize, start_term: Option<u64>) -> Option<Vec<u8>> {
        let mut pause = Duration::from_millis(10);
        for _ in 0..30 {
            if self.n_committed(index).0 >= n {
                break;
            }
            thread::sleep(pause);
            pause = (pause * 2).min(Duration::from_secs(1));
            if let Some(t0) = start_term {
                for i in 0..self.n() {
                    if self.state(i).is_some_and(|s| s.term > t0) {
                        return None;
                    }
                }
            }
        }
        let (got, command) = self.n_committed(index);
        if got < n {
            self.fail(format!(
                "only {got} peers applied index {index}; wanted {n}"
            ));
        }
        command
    }

    /// Gets `command` committed and applied by at least `expected` peers:
    /// offers it to each connected peer in turn until a leader accepts it,
    /// then waits for agreement. With `retry`, a command that was accepted
    /// but not agreed on is offered again (the leader may have changed).
    /// Returns its index; fails after [`AGREEMENT_TIMEOUT`].
    pub fn one(&self, command: &[u8], expected: usize, retry: bool) -> u64 {
        let deadline = Instant::now() + AGREEMENT_TIMEOUT;
        let mut next = 0;
        while Instant::now() < deadline {
            let mut index = None;
            for _ in 0..self.n() {
                next = (next + 1) % self.n();
                if self.is_connected(next)
                    && let Some(started) = self.start(next, command.to_vec())
                {
                    index = Some(started.index);
                    break;
                }
            }
            let Some(index) = index else {
                thread::sleep(Duration::from_millis(50));
                continue;
            };
            let agreed = testkit::wait_for(START_TIMEOUT, Duration::from_millis(20), || {
                let (got, c) = self.n_committed(index);
                got >= expected && c.as_deref() == Some(command)
            });
            if agreed {
                return index;
            }
            if !retry {
                self.fail(format!(
                    "command {} was started at index {index} but fewer than {expected} peers applied it within {START_TIMEOUT:?}",
                    show(command)
                ));
            }
        }
        self.fail(format!(
            "command {} did not reach agreement on {expected} peers within {AGREEMENT_TIMEOUT:?}",
            show(command)
        ))
    }

    /// Ends the test: checks that every peer learned through the network
    /// what it knows ([`Config::check_network_use`]) and reports the
    /// commands committed (the summary's ops).
    pub fn end(&self, run: &Run) {
        self.check_network_use();
        run.add_ops(self.max_index());
    }

    /// Checks that each peer received, in the arguments of RPCs it
    /// executed, at least the bytes of every command it applied that the
    /// test did not hand it through [`Config::start`]. Peers that share
    /// memory instead of sending messages fail here.
    pub fn check_network_use(&self) {
        let started = lock(&self.started).clone();
        for (i, started) in started.iter().enumerate() {
            let learned = self.applied.bytes_applied_except(i, started);
            let received = self.served_bytes(i);
            if received < learned {
                self.fail(format!(
                    "peer {i} applied commands holding {learned} bytes that the test never gave it, \
                     but the RPCs it executed carried only {received} bytes: a peer must learn \
                     the log from its leader's RPCs, not from memory shared between peers"
                ));
            }
        }
    }
}

/// Starts one incarnation of a peer for the cluster harness: a Raft on the
/// node's ends and persister, its applier thread, its `"Raft"` service.
fn start_peer(
    node: &Node,
    applied: &Arc<Applied>,
    snapshots: bool,
    seed: u64,
) -> Incarnation<Peer> {
    let i = node.me();
    let persister = node.persister();
    let incarnation = applied.new_incarnation(i, &persister.read_snapshot(), snapshots);
    let (tx, rx) = unbounded();
    let raft = Raft::new(
        node.ends().to_vec(),
        i,
        persister,
        tx,
        peer_seed(seed, i, incarnation),
    );
    let for_snapshots = snapshots.then(|| raft.clone());
    let applier = Arc::clone(applied);
    thread::Builder::new()
        .name(format!("applier-{i}"))
        .spawn(move || applier.run(i, incarnation, rx, for_snapshots))
        .unwrap_or_else(|e| panic!("tester: cannot start an applier thread: {e}"));
    let killed = raft.clone();
    Incarnation::new(Peer {
        raft: raft.clone(),
        incarnation,
    })
    .service(service(&raft))
    .on_kill(move || killed.kill())
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// The seed for incarnation `incarnation` of peer `i` (its `Raft::new`
/// argument): fixed by the run's seed, and different for every peer and
/// every restart.
fn peer_seed(run_seed: u64, i: usize, incarnation: u64) -> u64 {
    let mut state =
        run_seed ^ (i as u64 + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ incarnation.rotate_left(32);
    splitmix64(&mut state)
}
