//! The harness the lab's tests drive. Students read it to understand a
//! failure, never edit it: grading uses a pristine copy.
//!
//! A [`Config`] is a cluster of `n` Raft peers on one simulated [`Network`],
//! with one client end per ordered pair of peers, so any partition can be
//! made by enabling and disabling ends. It can:
//!
//! - **partition**: [`Config::disconnect`] / [`Config::connect`] cut a peer
//!   off from everyone / join it back;
//! - **crash**: [`Config::crash`] cuts the peer off, deletes its server (so a
//!   reply it is computing is never delivered), keeps a copy of its
//!   persister (what it saved is all that survives) and kills it;
//! - **restart**: [`Config::restart`] starts a new Raft from that copy, with
//!   fresh end names so messages of the dead incarnation cannot arrive;
//! - **check** what the peers apply ([`applier`]): every peer must apply the
//!   same command at each index, in order, and snapshots must carry the index
//!   they were taken at. In snapshot mode the harness acts as a service that
//!   snapshots every [`applier::SNAPSHOT_EVERY`] entries.
//!
//! The helpers ([`Config::check_one_leader`], [`Config::one`], ...) wait for
//! conditions with deadlines and fail the test with a message that says what
//! was expected, what happened and the seed.

pub mod applier;

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread;
use std::time::{Duration, Instant};

use crossbeam_channel::unbounded;
use labrpc::rng::{Rng, splitmix64};
use labrpc::{Fault, FaultId, Network, Persister, Server};
use testkit::Run;

use crate::{Raft, Start, State, service};
use applier::Applied;

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

/// The peers as the harness sees them.
struct World {
    rafts: Vec<Option<Raft>>,
    connected: Vec<bool>,
    /// Each peer's stable storage; replaced by a copy at every crash.
    saved: Vec<Arc<Persister>>,
    /// `end_names[i][j]`: the end peer `i` uses to call peer `j`.
    end_names: Vec<Vec<String>>,
    /// The faults that make each peer deaf (see [`Config::deafen`]).
    deaf: Vec<Vec<FaultId>>,
    next_end: u64,
}

/// A Raft cluster under test. Shareable between threads (`&Config` is
/// `Sync`), so client threads can call [`Config::start`] concurrently.
pub struct Config {
    net: Network,
    n: usize,
    seed: u64,
    snapshots: bool,
    leader_timeout: Duration,
    world: Mutex<World>,
    applied: Arc<Applied>,
    rng: Mutex<Rng>,
}

fn server_name(i: usize) -> String {
    format!("server-{i}")
}

impl Config {
    /// Starts `n` connected peers on a network that is reliable or not,
    /// with long delays for unreachable peers (a call to a cut-off peer can
    /// take up to 7 s to fail). With `snapshots`, the harness snapshots every
    /// [`applier::SNAPSHOT_EVERY`] applied entries, as a service would.
    ///
    /// Reads `leader_secs` (how long a cluster may go without a leader) from
    /// the test's `grade.toml` limits and reports peers, RPCs and bytes
    /// through `run`.
    pub fn new(run: &Run, n: usize, reliable: bool, snapshots: bool) -> Config {
        testkit::log::init();
        let seed = run.seed();
        let net = Network::with_seed(seed);
        net.set_reliable(reliable);
        net.set_long_delays(true);
        let measured = net.clone();
        let peers = n as u32;
        run.measure(move || testkit::Metrics {
            peers,
            rpcs: measured.total_rpcs(),
            bytes: measured.total_bytes(),
        });
        let mut world = World {
            rafts: vec![None; n],
            connected: vec![false; n],
            saved: (0..n).map(|_| Arc::new(Persister::new())).collect(),
            end_names: vec![Vec::new(); n],
            deaf: vec![Vec::new(); n],
            next_end: 0,
        };
        for i in 0..n {
            world.end_names[i] = fresh_end_names(&mut world.next_end, i, n);
        }
        let cfg = Config {
            net,
            n,
            seed,
            snapshots,
            leader_timeout: Duration::from_secs_f64(run.limit("leader_secs")),
            world: Mutex::new(world),
            applied: Arc::new(Applied::new(n, seed)),
            rng: Mutex::new(Rng::new(seed ^ 0x7e57_7e57)),
        };
        for i in 0..n {
            cfg.restart(i);
        }
        for i in 0..n {
            cfg.connect(i);
        }
        cfg
    }

    fn world(&self) -> MutexGuard<'_, World> {
        self.world.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Fails the test: `msg` plus the seed that reproduces the faults.
    #[track_caller]
    pub fn fail(&self, msg: impl std::fmt::Display) -> ! {
        panic!("{msg} (seed {})", self.seed)
    }

    /// Number of peers.
    pub fn n(&self) -> usize {
        self.n
    }

    /// The network, for the knobs tests turn (reliability, reordering).
    pub fn net(&self) -> &Network {
        &self.net
    }

    /// A number below `n` from the run's seeded generator.
    pub fn random(&self, n: u64) -> u64 {
        self.rng.lock().unwrap_or_else(|e| e.into_inner()).below(n)
    }

    /// A fresh random command value.
    pub fn random_cmd(&self) -> Vec<u8> {
        cmd(self.random(u64::MAX))
    }

    /// Sleeps a random time below `max_ms` milliseconds.
    pub fn sleep_random(&self, max_ms: u64) {
        thread::sleep(Duration::from_millis(self.random(max_ms)));
    }

    /// Peer `i`'s current Raft, if it is running.
    pub fn raft(&self, i: usize) -> Option<Raft> {
        self.world().rafts[i].clone()
    }

    /// Whether peer `i` is connected.
    pub fn is_connected(&self, i: usize) -> bool {
        self.world().connected[i]
    }

    /// Calls `start` on peer `i` if it is running.
    pub fn start(&self, i: usize, command: Vec<u8>) -> Option<Start> {
        self.raft(i).and_then(|r| r.start(command))
    }

    /// Peer `i`'s term and whether it believes it leads, if it is running.
    pub fn state(&self, i: usize) -> Option<State> {
        self.raft(i).map(|r| r.state())
    }

    /// Joins peer `i` to every connected peer (both directions).
    pub fn connect(&self, i: usize) {
        let mut w = self.world();
        w.connected[i] = true;
        for j in 0..self.n {
            if w.connected[j] {
                self.net.enable(&w.end_names[i][j], true);
                self.net.enable(&w.end_names[j][i], true);
            }
        }
        tracing::info!(target: "test", peer = i, "connected");
    }

    /// Cuts peer `i` off from every other peer (both directions).
    pub fn disconnect(&self, i: usize) {
        let mut w = self.world();
        w.connected[i] = false;
        for j in 0..self.n {
            self.net.enable(&w.end_names[i][j], false);
            self.net.enable(&w.end_names[j][i], false);
        }
        tracing::info!(target: "test", peer = i, "disconnected");
    }

    /// Makes peer `i` deaf: its requests still reach the others, but every
    /// reply to it is lost (a one-way network failure). Lasts until
    /// [`Config::undeafen`] or the peer's next restart.
    pub fn deafen(&self, i: usize) {
        let mut w = self.world();
        for j in (0..self.n).filter(|&j| j != i) {
            let fault = Fault::drop_reply().on_end(w.end_names[i][j].clone());
            let id = self.net.add_fault(fault);
            w.deaf[i].push(id);
        }
        tracing::info!(target: "test", peer = i, "deafened: replies to it are lost");
    }

    /// Undoes [`Config::deafen`].
    pub fn undeafen(&self, i: usize) {
        let mut w = self.world();
        for id in std::mem::take(&mut w.deaf[i]) {
            self.net.remove_fault(id);
        }
    }

    /// Crashes peer `i`: cut off, server deleted, persister copied (the
    /// dead incarnation keeps writing to the old one, which nobody reads),
    /// Raft killed. No-op if it is not running.
    pub fn crash(&self, i: usize) {
        self.disconnect(i);
        let mut w = self.world();
        self.net.delete_server(&server_name(i));
        // Copy before killing: whatever the dying peer saves from now on
        // never happened, as far as its next incarnation can tell.
        w.saved[i] = Arc::new(w.saved[i].copy());
        if let Some(raft) = w.rafts[i].take() {
            drop(w);
            raft.kill();
        }
        tracing::info!(target: "test", peer = i, "crashed");
    }

    /// (Re)starts peer `i` from its saved state, crashing it first if it is
    /// running. The peer starts disconnected: call [`Config::connect`].
    pub fn restart(&self, i: usize) {
        self.crash(i);
        self.undeafen(i);
        let mut w = self.world();
        let names = fresh_end_names(&mut w.next_end, i, self.n);
        w.end_names[i] = names;
        let ends = (0..self.n)
            .map(|j| {
                let end = self.net.make_end(w.end_names[i][j].clone());
                self.net.connect(&w.end_names[i][j], &server_name(j));
                end
            })
            .collect();
        let persister = Arc::new(w.saved[i].copy());
        w.saved[i] = Arc::clone(&persister);
        let incarnation =
            self.applied
                .new_incarnation(i, &persister.read_snapshot(), self.snapshots);
        let (tx, rx) = unbounded();
        let raft = Raft::new(ends, i, persister, tx, peer_seed(self.seed, i, incarnation));
        self.net
            .add_server(server_name(i), Server::new([service(&raft)]));
        let applied = Arc::clone(&self.applied);
        let for_snapshots = self.snapshots.then(|| raft.clone());
        thread::Builder::new()
            .name(format!("applier-{i}"))
            .spawn(move || applied.run(i, incarnation, rx, for_snapshots))
            .unwrap_or_else(|e| panic!("tester: cannot start an applier thread: {e}"));
        w.rafts[i] = Some(raft);
        tracing::info!(target: "test", peer = i, "restarted");
    }

    /// How long a cluster may go without a leader (`leader_secs`).
    pub fn leader_timeout(&self) -> Duration {
        self.leader_timeout
    }

    /// Total RPCs sent so far.
    pub fn rpc_total(&self) -> u64 {
        self.net.total_rpcs()
    }

    /// Total bytes carried so far.
    pub fn bytes_total(&self) -> u64 {
        self.net.total_bytes()
    }

    /// RPCs executed by peer `i`'s current server.
    pub fn rpc_count(&self, i: usize) -> u64 {
        self.net.server_rpcs(&server_name(i))
    }

    /// Size of peer `i`'s saved Raft state, in bytes.
    pub fn raft_state_size(&self, i: usize) -> usize {
        self.world().saved[i].raft_state_size()
    }

    /// The highest index any peer has applied.
    pub fn max_index(&self) -> u64 {
        self.applied.max_index()
    }

    /// Waits up to `leader_secs` for exactly one connected peer to believe
    /// it is the leader and returns it. Fails at once if two running peers,
    /// connected or not, lead the same term (Election Safety), and fails if
    /// no single leader emerges in time.
    pub fn check_one_leader(&self) -> usize {
        let deadline = Instant::now() + self.leader_timeout;
        loop {
            // Every running peer's claim, connected or not.
            let mut by_term: BTreeMap<u64, Vec<usize>> = BTreeMap::new();
            let mut connected_leaders = Vec::new();
            for i in 0..self.n {
                if let Some(State {
                    term,
                    is_leader: true,
                }) = self.state(i)
                {
                    by_term.entry(term).or_default().push(i);
                    if self.is_connected(i) {
                        connected_leaders.push((i, term));
                    }
                }
            }
            for (term, ls) in &by_term {
                if ls.len() > 1 {
                    self.fail(format!(
                        "term {term} has {} leaders: peers {ls:?} (at most one leader per term, ever)",
                        ls.len()
                    ));
                }
            }
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
        for i in 0..self.n {
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
        for i in 0..self.n {
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
                for i in 0..self.n {
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
            for _ in 0..self.n {
                next = (next + 1) % self.n;
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

    /// Reports the commands committed during the test (the summary's ops).
    pub fn end(&self, run: &Run) {
        run.add_ops(self.max_index());
    }
}

impl Drop for Config {
    fn drop(&mut self) {
        let rafts: Vec<Raft> = self
            .world()
            .rafts
            .iter_mut()
            .filter_map(Option::take)
            .collect();
        for raft in rafts {
            raft.kill();
        }
        self.net.cleanup();
    }
}

/// The seed for incarnation `incarnation` of peer `i` (its `Raft::new`
/// argument): fixed by the run's seed, and different for every peer and
/// every restart.
fn peer_seed(run_seed: u64, i: usize, incarnation: u64) -> u64 {
    let mut state =
        run_seed ^ (i as u64 + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ incarnation.rotate_left(32);
    splitmix64(&mut state)
}

/// New, never-used names for peer `i`'s outgoing ends.
fn fresh_end_names(counter: &mut u64, i: usize, n: usize) -> Vec<String> {
    (0..n)
        .map(|j| {
            *counter += 1;
            format!("end-{i}-{j}-{counter}")
        })
        .collect()
}
