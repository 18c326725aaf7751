//! The random-clients test behind most of parts B and C (MIT's
//! `GenericTest`): clients make random operations for a while, as often as
//! they can, while the harness loses messages, repartitions the servers
//! and crashes them all; afterwards every append must be in place and the
//! whole history linearizable.

use std::collections::BTreeMap;

use labrt::channel::{self, RecvTimeoutError};
use labrt::rand::{Rng, seeded};
use labrt::sync::Arc;
use labrt::sync::atomic::{AtomicBool, Ordering};
use labrt::thread;
use labrt::time::{Duration, Instant};
use testkit::Run;

use super::ELECTION_TIMEOUT;
use super::appends::{self, AppendLog, shorten, token};
use super::checks::{limit_count, limit_secs};
use super::kv::{KvTester, Net, TestClerk};
use super::problems::Problems;

/// The faults and the workload of one random-clients test. The numbers
/// (clients, servers, durations, sizes) come from `grade.toml`.
#[derive(Clone, Copy, Debug)]
pub struct Faults {
    /// Whether messages are lost.
    pub net: Net,
    /// Crash every server (and restart them) after each round of clients.
    pub crash: bool,
    /// Repartition the servers at random about every second while clients
    /// run.
    pub partitions: bool,
    /// Clients use a shared set of keys (and put as well as append, so only
    /// the linearizability check applies); otherwise each client has a key
    /// of its own, and every read and append is checked against what it
    /// wrote.
    pub random_keys: bool,
    /// Snapshot at `max_raft_state` (from `grade.toml`) and check the
    /// Raft state stays under `log_factor` times it; otherwise check that no
    /// server ever snapshots.
    pub snapshots: bool,
}

/// What a client did in one round.
struct ClientRound {
    id: u64,
    /// Its own key (own-key rounds) and the appends that returned.
    own: Option<(String, Vec<u64>)>,
}

/// Runs `iterations` rounds of `clients` fresh clerks against `servers`
/// replicas, each round `seconds` long, with `faults`. A client makes at
/// most `ops_per_client` operations a round, spread over it (the `k`-th
/// starts no sooner than `k × seconds / ops_per_client` into the round):
/// this keeps values, and so the history and its check, from growing
/// without bound on a fast service, while the faults still meet clients
/// that are busy all round long. After each round:
/// the partitioner stops and the network is repaired; with `crash`, every
/// server crashes and restarts; the clients must then finish their last
/// operation within `finish_secs`; every own key must hold exactly the
/// appends its client made, in order; the Raft state must be small (or no
/// snapshot exist). At the end, the whole history must be linearizable
/// within `check_secs`, and the servers must have executed at least one
/// key/value RPC per operation.
///
/// Limits: `clients`, `servers`, `iterations`, `seconds`, `ops_per_client`,
/// `finish_secs`, `check_secs`, and with snapshots `max_raft_state`, `log_factor`.
pub fn random_clients(run: &Run, faults: Faults) {
    let clients = limit_count(run, "clients").max(1);
    let servers = limit_count(run, "servers");
    let iterations = limit_count(run, "iterations");
    let seconds = limit_secs(run, "seconds");
    let ops_cap = limit_count(run, "ops_per_client").max(1);
    let pace = seconds / ops_cap as u32;
    let check_secs = limit_secs(run, "check_secs");
    // Generous: a correct service finishes in well under a second.
    let finish_within = limit_secs(run, "finish_secs");
    let (max_raft_state, log_factor) = if faults.snapshots {
        (
            Some(limit_count(run, "max_raft_state")),
            limit_count(run, "log_factor"),
        )
    } else {
        (None, 0)
    };
    let t = KvTester::new(run, servers, faults.net, max_raft_state);
    let problems = Arc::new(Problems::new());
    let shared_keys: Arc<Vec<String>> = Arc::new((0..clients).map(|k| format!("r{k}")).collect());

    for iteration in 0..iterations {
        let stop = Arc::new(AtomicBool::new(false));
        let (done_tx, done_rx) = channel::unbounded();
        let begun = Instant::now();
        for c in 0..clients {
            let ck = t.make_clerk();
            let rng = seeded(run.seed(), ((iteration as u64) << 32) | c as u64);
            let (stop, problems, keys, done) = (
                Arc::clone(&stop),
                Arc::clone(&problems),
                Arc::clone(&shared_keys),
                done_tx.clone(),
            );
            let seed = run.seed();
            thread::Builder::new()
                .name(format!("client-{iteration}-{c}"))
                .spawn(move || {
                    let mut pacer = Pacer {
                        stop: &stop,
                        begun,
                        pace,
                        made: 0,
                        cap: ops_cap,
                    };
                    let round = if faults.random_keys {
                        shared_keys_client(ck, rng, &keys, &mut pacer)
                    } else {
                        own_key_client(ck, rng, &mut pacer, &problems, seed)
                    };
                    let _ = done.send(round);
                })
                .unwrap_or_else(|e| panic!("tester: cannot start a client thread: {e}"));
        }
        drop(done_tx);

        let stop_partitioner = AtomicBool::new(false);
        thread::scope(|s| {
            let partitioner = faults
                .partitions
                .then(|| s.spawn(|| partitioner(&t, &stop_partitioner)));
            let until = Instant::now() + seconds;
            while Instant::now() < until && !problems.found() {
                thread::sleep(
                    Duration::from_millis(20).min(until.saturating_duration_since(Instant::now())),
                );
            }
            stop.store(true, Ordering::SeqCst);
            stop_partitioner.store(true, Ordering::SeqCst);
            if let Some(p) = partitioner {
                let _ = p.join();
                t.repair();
                thread::sleep(ELECTION_TIMEOUT);
            }
        });
        if faults.crash {
            t.crash_all();
            thread::sleep(ELECTION_TIMEOUT);
            t.restart_all();
        }

        let mut rounds = Vec::new();
        let deadline = Instant::now() + finish_within;
        while rounds.len() < clients {
            match done_rx.recv_deadline(deadline) {
                Ok(round) => rounds.push(round),
                Err(RecvTimeoutError::Timeout) => t.fail(format!(
                    "round {iteration}: {} of the {clients} clients had not finished their last \
                     operation {finish_within:?} after the clients were told to stop (the network \
                     was whole again{}). A clerk must keep retrying, and servers must answer once \
                     a majority can talk. Network:\n{}",
                    clients - rounds.len(),
                    if faults.crash {
                        ", and every server had been restarted"
                    } else {
                        ""
                    },
                    t.topology()
                )),
                // A client thread panicked: that panic has already failed
                // the test with its own message.
                Err(RecvTimeoutError::Disconnected) => {
                    t.fail("a client thread stopped without reporting; its panic is above")
                }
            }
        }
        problems.assert_none();

        let mut reader = t.make_clerk();
        for round in &rounds {
            if let Some((key, appended)) = &round.own {
                let value = reader.get(key);
                let log: AppendLog = BTreeMap::from([(round.id, appended.clone())]);
                if let Err(problem) = appends::check(key, &value, &log) {
                    t.fail(format!("after round {iteration}: {problem}"));
                }
            }
        }
        t.check_log_sizes(log_factor);
        tracing::info!(target: "test", iteration, ops = run.ops(), "round done");
    }
    t.check_linearizable(run, check_secs);
    t.check_rpcs_per_op(run);
}

/// A client with a key of its own: it resets the key, then appends (half
/// of its operations) and reads it. Nobody else writes the key, so every
/// read must return exactly what it appended so far, and every append the
/// value just before it.
fn own_key_client(
    mut ck: TestClerk,
    mut rng: Rng,
    pacer: &mut Pacer<'_>,
    problems: &Problems,
    seed: u64,
) -> ClientRound {
    let id = ck.id();
    let key = format!("k{id}");
    let mut expected = String::new();
    let mut appended = Vec::new();
    ck.put(&key, "");
    while pacer.next() && !problems.found() {
        if rng.below(1000) < 500 {
            let n = appended.len() as u64;
            let tok = token(id, n);
            let old = ck.append(&key, &tok);
            if old != expected {
                problems.report(format!(
                    "client {id} appended {tok} to its own key {key:?} and was told the value \
                     before was {}, but it holds what this client wrote and nobody else writes \
                     it: {}. Look for an append applied twice or not at all, a retry answered \
                     with another write's reply, or a stale leader answering (seed {seed})",
                    shorten(&old),
                    shorten(&expected)
                ));
                break;
            }
            expected.push_str(&tok);
            appended.push(n);
        } else {
            let value = ck.get(&key);
            if value != expected {
                problems.report(format!(
                    "client {id} read its own key {key:?} and got {}, but it holds exactly what \
                     this client appended: {}. Look for a read served by a stale leader or a \
                     lagging replica, or a write applied twice or lost (seed {seed})",
                    shorten(&value),
                    shorten(&expected)
                ));
                break;
            }
        }
    }
    ClientRound {
        id,
        own: Some((key, appended)),
    }
}

/// A client on the shared keys: half appends, one in twenty puts, the rest
/// gets, each on a random key; only the linearizability check judges it.
fn shared_keys_client(
    mut ck: TestClerk,
    mut rng: Rng,
    keys: &[String],
    pacer: &mut Pacer<'_>,
) -> ClientRound {
    let id = ck.id();
    let mut n = 0;
    while pacer.next() {
        let key = &keys[rng.index(keys.len())];
        let roll = rng.below(1000);
        if roll < 500 {
            ck.append(key, &token(id, n));
            n += 1;
        } else if roll < 550 {
            ck.put(key, &token(id, n));
            n += 1;
        } else {
            ck.get(key);
        }
    }
    ClientRound { id, own: None }
}

/// When a client may make its next operation.
struct Pacer<'a> {
    stop: &'a AtomicBool,
    begun: Instant,
    pace: Duration,
    made: usize,
    cap: usize,
}

impl Pacer<'_> {
    /// Waits until the next operation may start; false once the round is
    /// over for this client (told to stop, or `cap` operations made).
    fn next(&mut self) -> bool {
        if self.made >= self.cap {
            return false;
        }
        let at = self.begun + self.pace * self.made as u32;
        loop {
            if self.stop.load(Ordering::SeqCst) {
                return false;
            }
            let now = Instant::now();
            if now >= at {
                break;
            }
            thread::sleep(
                at.saturating_duration_since(now)
                    .min(Duration::from_millis(20)),
            );
        }
        self.made += 1;
        true
    }
}

/// Until `stop`: splits the servers into two random sides (either may be
/// empty), waits an election timeout and up to 200 ms more, and again.
fn partitioner(t: &KvTester, stop: &AtomicBool) {
    while !stop.load(Ordering::SeqCst) {
        let mut sides: [Vec<usize>; 2] = [Vec::new(), Vec::new()];
        for i in 0..t.n() {
            sides[t.random(2) as usize].push(i);
        }
        t.partition(&[&sides[0], &sides[1]]);
        let until = Instant::now() + ELECTION_TIMEOUT + Duration::from_millis(t.random(200));
        while Instant::now() < until && !stop.load(Ordering::SeqCst) {
            thread::sleep(
                Duration::from_millis(20).min(until.saturating_duration_since(Instant::now())),
            );
        }
    }
}
