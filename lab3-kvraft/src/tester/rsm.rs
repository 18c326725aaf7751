//! Part A's world: `n` replicas of a counter, each an [`Rsm`] of a
//! [`Counter`], on the kit's cluster harness; the tests submit to the rsms
//! directly (there are no clerks in part A).
//!
//! Every replica publishes its counter as it applies, so the tests can
//! watch all of them converge. A submission that came back with an error
//! after reaching a leader may still be applied later (that is what
//! [`SubmitError`] means), so the harness keeps two counts of increments:
//! those that returned `Ok`, and those whose fate is unknown. A healthy
//! cluster has none of the latter, and then every check is exact.

use std::ops::Deref;

use labrt::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use labrt::sync::{Arc, Mutex, MutexGuard};
use labrt::thread;
use labrt::time::{Duration, Instant};
use serde::{Deserialize, Serialize};
use testkit::Run;
use testkit::cluster::{Cluster, Fabric, Incarnation, Node, Peers};

use super::seeds::replica_seed;
use crate::{Rsm, StateMachine, SubmitError};

/// How long [`RsmTester::submit_anywhere`] keeps trying (MIT's `NSEC`).
pub const SUBMIT_ANYWHERE: Duration = Duration::from_secs(10);
/// How long the replicas get to agree on a value in [`RsmTester::converge`].
pub const CONVERGE: Duration = Duration::from_secs(10);

/// The counter's operations.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum CounterOp {
    /// Add one; the reply is the new value.
    Inc,
    /// Subtract one; the reply is the new value.
    Dec,
    /// Change nothing; the reply is the value.
    Null,
}

/// The state machine of part A: one integer.
///
/// `shown` lets the harness watch the value from outside the rsm (the
/// rsm owns the state machine and applies on its own thread).
#[derive(Debug)]
pub struct Counter {
    value: i64,
    shown: Arc<AtomicI64>,
}

impl Counter {
    /// A counter at 0 that publishes its value to `shown`.
    pub fn new(shown: Arc<AtomicI64>) -> Counter {
        shown.store(0, Ordering::SeqCst);
        Counter { value: 0, shown }
    }
}

impl StateMachine for Counter {
    type Request = CounterOp;
    type Reply = i64;

    fn apply(&mut self, op: CounterOp) -> i64 {
        match op {
            CounterOp::Inc => self.value += 1,
            CounterOp::Dec => self.value -= 1,
            CounterOp::Null => {}
        }
        self.shown.store(self.value, Ordering::SeqCst);
        self.value
    }

    fn snapshot(&self) -> Vec<u8> {
        labrpc::encode(&self.value)
            .unwrap_or_else(|e| panic!("tester: cannot encode the counter: {e}"))
    }

    fn restore(&mut self, snapshot: &[u8]) {
        self.value = labrpc::decode(snapshot).unwrap_or_else(|e| {
            panic!(
                "tester: the snapshot handed to the counter's restore ({} bytes) is not one its \
                 snapshot made: {e}. Restore must get exactly the bytes StateMachine::snapshot \
                 returned",
                snapshot.len()
            )
        });
        self.shown.store(self.value, Ordering::SeqCst);
    }
}

/// What the harness keeps for each running replica.
#[derive(Clone)]
pub struct CounterReplica {
    /// The replica's rsm.
    pub rsm: Arc<Rsm<Counter>>,
    /// The value it last applied (or restored).
    pub value: Arc<AtomicI64>,
}

/// Increments submitted through the harness, by outcome.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Incs {
    /// Returned `Ok`: applied exactly once each.
    pub ok: u64,
    /// Reached a server that believed it led, then returned an error: each
    /// may or may not be applied.
    pub unknown: u64,
}

/// A cluster of counter replicas under test. Dereferences to the
/// [`Cluster`] for the fault verbs and counters.
pub struct RsmTester {
    cluster: Cluster<CounterReplica>,
    incs: Mutex<Incs>,
    submits: AtomicU64,
}

impl Deref for RsmTester {
    type Target = Cluster<CounterReplica>;

    fn deref(&self) -> &Cluster<CounterReplica> {
        &self.cluster
    }
}

impl RsmTester {
    /// Starts `n` connected counter replicas on a reliable network with long
    /// delays (a call to a cut-off server can take up to 7 s to fail), each
    /// snapshotting when its Raft state nears `max_raft_state` bytes (never,
    /// with `None`).
    pub fn new(run: &Run, n: usize, max_raft_state: Option<usize>) -> RsmTester {
        let fabric = Fabric::new(run);
        fabric.long_delays(true);
        let seed = fabric.seed();
        let cluster = Cluster::start(&fabric, Peers::new(n), move |node| {
            start_replica(&node, max_raft_state, seed)
        });
        RsmTester {
            cluster,
            incs: Mutex::new(Incs::default()),
            submits: AtomicU64::new(0),
        }
    }

    fn incs_mut(&self) -> MutexGuard<'_, Incs> {
        self.incs.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The increments submitted so far, by outcome.
    pub fn incs(&self) -> Incs {
        *self.incs_mut()
    }

    /// Submissions made through the harness (for the run's report).
    pub fn submissions(&self) -> u64 {
        self.submits.load(Ordering::Relaxed)
    }

    /// Submits `op` once to server `i`'s rsm; a crashed server answers
    /// [`SubmitError::Shutdown`].
    pub fn submit(&self, i: usize, op: CounterOp) -> Result<i64, SubmitError> {
        let Some(replica) = self.handle(i) else {
            return Err(SubmitError::Shutdown);
        };
        let believed_leader = replica.rsm.raft().state().is_leader;
        self.submits.fetch_add(1, Ordering::Relaxed);
        let result = replica.rsm.submit(op);
        if op == CounterOp::Inc {
            let mut incs = self.incs_mut();
            match result {
                Ok(_) => incs.ok += 1,
                Err(_) if believed_leader => incs.unknown += 1,
                Err(_) => {}
            }
        }
        result
    }

    /// Submits `op` to each of `servers` in turn until one applies it, for
    /// up to [`SUBMIT_ANYWHERE`]; returns the server and the reply. Servers
    /// that do not believe they lead are skipped (a submission there would
    /// be refused anyway).
    pub fn submit_anywhere(&self, servers: &[usize], op: CounterOp) -> (usize, i64) {
        let deadline = Instant::now() + SUBMIT_ANYWHERE;
        let mut last_error = None;
        while Instant::now() < deadline {
            for &i in servers {
                let leads = self
                    .handle(i)
                    .is_some_and(|r| r.rsm.raft().state().is_leader);
                if !leads {
                    continue;
                }
                match self.submit(i, op) {
                    Ok(value) => return (i, value),
                    Err(e) => last_error = Some((i, e)),
                }
            }
            thread::sleep(Duration::from_millis(20));
        }
        let tried = match last_error {
            Some((i, e)) => format!("the last try, at server {i}, returned {e:?}"),
            None => "no server among them believed it was the leader".to_owned(),
        };
        self.fail(format!(
            "no server among {servers:?} applied {op:?} within {SUBMIT_ANYWHERE:?}; {tried}. \
             Network:\n{}",
            self.topology()
        ))
    }

    /// Submits an increment anywhere among `servers` and checks its reply:
    /// the value after this increment, one more than the increments that
    /// returned before it (plus at most those whose fate is unknown).
    pub fn inc_among(&self, servers: &[usize]) -> i64 {
        let before = self.incs();
        let (i, value) = self.submit_anywhere(servers, CounterOp::Inc);
        let (low, high) = (before.ok + 1, before.ok + 1 + before.unknown);
        if !(low as i64..=high as i64).contains(&value) {
            let range = if low == high {
                format!("{low}")
            } else {
                format!("between {low} and {high}")
            };
            self.fail(format!(
                "server {i} applied an increment and replied {value}; expected {range}: \
                 {} increments returned Ok before it{}. Look for a reply handed to the wrong \
                 caller, or a request applied twice or not at all",
                before.ok,
                if before.unknown > 0 {
                    format!(
                        " and {} more may or may not have been applied",
                        before.unknown
                    )
                } else {
                    String::new()
                }
            ));
        }
        value
    }

    /// [`RsmTester::inc_among`] all servers.
    pub fn inc(&self) -> i64 {
        let all: Vec<usize> = (0..self.n()).collect();
        self.inc_among(&all)
    }

    /// The connected server that believes it leads the highest term; waits
    /// up to [`SUBMIT_ANYWHERE`] for one.
    pub fn leader(&self) -> usize {
        let deadline = Instant::now() + SUBMIT_ANYWHERE;
        loop {
            let mut best: Option<(u64, usize)> = None;
            for i in self.connected() {
                if let Some(r) = self.handle(i) {
                    let s = r.rsm.raft().state();
                    if s.is_leader && best.is_none_or(|(t, _)| s.term > t) {
                        best = Some((s.term, i));
                    }
                }
            }
            if let Some((_, i)) = best {
                return i;
            }
            if Instant::now() >= deadline {
                self.fail(format!(
                    "no connected server became leader within {SUBMIT_ANYWHERE:?}:\n{}",
                    self.topology()
                ));
            }
            thread::sleep(Duration::from_millis(20));
        }
    }

    /// Server `i`'s counter as it last applied it, if it runs.
    pub fn value(&self, i: usize) -> Option<i64> {
        self.handle(i).map(|r| r.value.load(Ordering::SeqCst))
    }

    /// Waits up to [`CONVERGE`] for every server in `servers` to show a
    /// counter that every increment that returned `Ok` is in (and at most
    /// the uncertain ones besides), all the same; returns it.
    pub fn converge(&self, servers: &[usize]) -> i64 {
        let deadline = Instant::now() + CONVERGE;
        let mut pause = Duration::from_millis(5);
        loop {
            let incs = self.incs();
            let (low, high) = (incs.ok as i64, (incs.ok + incs.unknown) as i64);
            let values: Vec<Option<i64>> = servers.iter().map(|&i| self.value(i)).collect();
            if let Some(Some(first)) = values.first()
                && (low..=high).contains(first)
                && values.iter().all(|v| *v == Some(*first))
            {
                return *first;
            }
            if Instant::now() >= deadline {
                let shown: Vec<String> = servers
                    .iter()
                    .zip(&values)
                    .map(|(i, v)| match v {
                        Some(v) => format!("server {i}: {v}"),
                        None => format!("server {i}: not running"),
                    })
                    .collect();
                let want = if low == high {
                    format!("{low}")
                } else {
                    format!("the same value between {low} and {high}")
                };
                self.fail(format!(
                    "after {CONVERGE:?} the replicas' counters are [{}]; expected {want} on each \
                     ({} increments returned Ok, {} more may or may not have been applied). Every \
                     replica must apply every committed entry, in order, including after a \
                     restart",
                    shown.join(", "),
                    incs.ok,
                    incs.unknown
                ));
            }
            thread::sleep(pause);
            pause = (pause * 2).min(Duration::from_millis(200));
        }
    }

    /// [`RsmTester::converge`] on all servers.
    pub fn converge_all(&self) -> i64 {
        let all: Vec<usize> = (0..self.n()).collect();
        self.converge(&all)
    }

    /// With `max_raft_state`, fails if some server's persisted Raft state
    /// exceeds `factor` times it; without, fails if some server saved a
    /// snapshot.
    pub fn check_sizes(&self, max_raft_state: Option<usize>, factor: usize) {
        for i in 0..self.n() {
            match max_raft_state {
                Some(max) => {
                    let size = self.raft_state_size(i);
                    if size > factor * max {
                        self.fail(format!(
                            "server {i}'s persisted Raft state is {size} bytes; with \
                             max_raft_state = {max} it must stay at most {factor} x {max} = {} \
                             bytes: snapshot (and call Raft::snapshot) whenever the persister's \
                             Raft state nears max_raft_state",
                            factor * max
                        ));
                    }
                }
                None => {
                    let size = self.snapshot_size(i);
                    if size > 0 {
                        self.fail(format!(
                            "server {i} saved a snapshot of {size} bytes although max_raft_state \
                             is None: without a limit the rsm must never snapshot"
                        ));
                    }
                }
            }
        }
    }

    /// Ends the test: reports the submissions as the run's operations.
    pub fn end(&self, run: &Run) {
        run.add_ops(self.submissions());
    }
}

/// Starts one incarnation of a counter replica.
fn start_replica(
    node: &Node,
    max_raft_state: Option<usize>,
    run_seed: u64,
) -> Incarnation<CounterReplica> {
    let me = node.me();
    let value = Arc::new(AtomicI64::new(0));
    let rsm = Arc::new(Rsm::new(
        node.ends().to_vec(),
        me,
        node.persister(),
        max_raft_state,
        Counter::new(Arc::clone(&value)),
        replica_seed(run_seed, me, node.incarnation()),
    ));
    let raft = lab2_raft::service(rsm.raft());
    let killed = Arc::clone(&rsm);
    Incarnation::new(CounterReplica {
        rsm: Arc::clone(&rsm),
        value,
    })
    .service(raft)
    .on_kill(move || killed.kill())
}
