//! Part A: the replicated state machine layer. Three replicas of a counter,
//! each an `Rsm` of a `Counter`; the tests submit increments, decrements
//! and no-ops to the rsms directly and watch every replica's counter.
//!
//! Run them with `cargo test -p lab3-kvraft 3a`. Every test reads its
//! limits from `grade.toml`; the handout (`docs/lab3-kvraft.md`) says what
//! each checks.

use lab3_kvraft::SubmitError;
use lab3_kvraft::tester::checks::{limit_count, limit_secs};
use lab3_kvraft::tester::{CounterOp, ELECTION_TIMEOUT, RsmTester};
use labrt::channel;
use labrt::sync::Arc;
use labrt::thread;
use labrt::time::{Duration, Instant};

/// Starts `count` threads that each submit `op` once to server `i`, and
/// returns the channel their outcomes arrive on.
fn submit_many(
    t: &Arc<RsmTester>,
    i: usize,
    op: CounterOp,
    count: usize,
) -> channel::Receiver<Result<i64, SubmitError>> {
    let (tx, rx) = channel::unbounded();
    for k in 0..count {
        let (tx, t) = (tx.clone(), Arc::clone(t));
        thread::Builder::new()
            .name(format!("submit-{k}"))
            .spawn(move || {
                let _ = tx.send(t.submit(i, op));
            })
            .unwrap_or_else(|e| panic!("test: cannot start a submitting thread: {e}"));
    }
    rx
}

/// Increments, one at a time: each returns the new value, and every
/// replica applies it.
#[test]
fn rsm_basic_3a() {
    let run = testkit::begin!();
    let t = RsmTester::new(&run, limit_count(&run, "servers"), None);
    for _ in 0..limit_count(&run, "incs") {
        t.inc();
        t.converge_all();
    }
    t.check_sizes(None, 0);
    t.end(&run);
}

/// Many increments submitted at once: each gets a different value, and the
/// replicas end with all of them applied.
#[test]
fn rsm_concurrent_3a() {
    let run = testkit::begin!();
    let t = RsmTester::new(&run, limit_count(&run, "servers"), None);
    let n = limit_count(&run, "incs");
    let all: Vec<usize> = (0..t.n()).collect();
    let mut values: Vec<i64> = thread::scope(|s| {
        let threads: Vec<_> = (0..n)
            .map(|_| s.spawn(|| t.submit_anywhere(&all, CounterOp::Inc).1))
            .collect();
        threads
            .into_iter()
            .map(|h| {
                h.join().unwrap_or_else(|_| {
                    panic!("a submitting thread panicked; its message is above")
                })
            })
            .collect()
    });
    values.sort_unstable();
    if let Some(w) = values.windows(2).find(|w| w[0] == w[1]) {
        t.fail(format!(
            "two of the {n} concurrent increments both returned {}: each increment is applied \
             once and returns the value after it, so their replies must all differ. Look for a \
             reply handed to the wrong caller (two callers waiting on one log index)",
            w[0]
        ));
    }
    let last = t.converge_all();
    if values.last().is_some_and(|&v| v > last) {
        t.fail(format!(
            "an increment returned {:?}, more than the replicas' final counter {last}",
            values.last()
        ));
    }
    t.check_sizes(None, 0);
    t.end(&run);
}

/// The leader is cut off; the other two elect a new one and go on; the old
/// leader rejoins and catches up.
#[test]
fn rsm_leader_failure_3a() {
    let run = testkit::begin!();
    let t = RsmTester::new(&run, limit_count(&run, "servers"), None);
    t.inc();
    let leader = t.leader();
    t.disconnect(leader);
    let others: Vec<usize> = (0..t.n()).filter(|&i| i != leader).collect();
    t.inc_among(&others);
    t.connect(leader);
    t.converge_all();
    t.check_sizes(None, 0);
    t.end(&run);
}

/// The leader is cut off alone and `submits` decrements are submitted to it
/// at once; the majority elects a new leader and applies an increment. No
/// decrement may return `Ok` within `minority_secs` (the old leader cannot
/// commit); once the partition heals, every one must return an error within
/// `heal_secs` (another entry took its index), and none may be applied.
#[test]
fn rsm_leader_partition_3a() {
    let run = testkit::begin!();
    let t = Arc::new(RsmTester::new(&run, limit_count(&run, "servers"), None));
    let submits = limit_count(&run, "submits");
    let minority_wait = limit_secs(&run, "minority_secs");
    let heal_within = limit_secs(&run, "heal_secs");
    t.inc();
    let leader = t.leader();
    let others: Vec<usize> = (0..t.n()).filter(|&i| i != leader).collect();
    t.partition(&[&[leader], &others]);
    let outcomes = submit_many(&t, leader, CounterOp::Dec, submits);
    t.inc_among(&others);

    let quiet_until = Instant::now() + minority_wait;
    let mut returned = 0;
    while let Ok(outcome) = outcomes.recv_deadline(quiet_until) {
        returned += 1;
        if let Ok(value) = outcome {
            t.fail(format!(
                "a decrement submitted to the old leader {leader}, cut off from the other \
                 servers, returned Ok({value}): a server alone cannot commit anything, so it must \
                 not reply until its entry is applied, and it never will be"
            ));
        }
    }
    t.repair();
    let healed = Instant::now();
    while returned < submits {
        match outcomes.recv_deadline(healed + heal_within) {
            Ok(Ok(value)) => t.fail(format!(
                "after the partition healed, a decrement submitted to the old leader {leader} \
                 returned Ok({value}); its entry was replaced by the new leader's, so it must \
                 return an error (WrongLeader)"
            )),
            Ok(Err(_)) => returned += 1,
            Err(_) => t.fail(format!(
                "{} of the {submits} decrements submitted to the old leader {leader} had not \
                 returned {heal_within:?} after the partition healed: once another entry is \
                 applied at a waiting submit's index (or the term changes), the submit must \
                 give up",
                submits - returned
            )),
        }
    }
    // Every increment applied, and no decrement.
    t.converge_all();
    t.check_sizes(None, 0);
    t.end(&run);
}

/// `incs` increments, then every server crashes and restarts: the log is
/// replayed, and the next increment returns `incs + 1`.
#[test]
fn rsm_restart_replay_3a() {
    let run = testkit::begin!();
    let t = RsmTester::new(&run, limit_count(&run, "servers"), None);
    for _ in 0..limit_count(&run, "incs") {
        t.inc();
    }
    t.converge_all();
    t.crash_all();
    thread::sleep(ELECTION_TIMEOUT);
    t.restart_all();
    t.inc();
    t.converge_all();
    t.check_sizes(None, 0);
    t.end(&run);
}

/// The leader is cut off and `submits` no-ops are submitted to it (they
/// cannot commit, so they wait); then every server is shut down. Every
/// submit must return, with an error, within `shutdown_secs`.
#[test]
fn rsm_shutdown_3a() {
    let run = testkit::begin!();
    let t = Arc::new(RsmTester::new(&run, limit_count(&run, "servers"), None));
    let submits = limit_count(&run, "submits");
    let shutdown_within = limit_secs(&run, "shutdown_secs");
    t.inc();
    let leader = t.leader();
    t.disconnect(leader);
    let outcomes = submit_many(&t, leader, CounterOp::Null, submits);
    thread::sleep(Duration::from_millis(100));
    t.crash_all();
    let crashed = Instant::now();
    for k in 0..submits {
        match outcomes.recv_deadline(crashed + shutdown_within) {
            Ok(Ok(value)) => t.fail(format!(
                "a no-op submitted to leader {leader} while it was cut off returned Ok({value}): \
                 it cannot have been committed"
            )),
            Ok(Err(_)) => {}
            Err(_) => t.fail(format!(
                "{} of the {submits} submits waiting on leader {leader} had not returned \
                 {shutdown_within:?} after every server was shut down: kill must make waiting \
                 submits return (SubmitError::Shutdown)",
                submits - k
            )),
        }
    }
    t.check_sizes(None, 0);
    t.end(&run);
}

/// Replay after a restart, then a restart with submits in flight: `incs`
/// increments; everyone restarts; an increment returns `incs + 1`;
/// `submits` no-ops are submitted to the leader at once and every server is
/// shut down among them (each must return within `shutdown_secs`); everyone
/// restarts again, and an increment returns `incs + 2`.
#[test]
fn rsm_restart_submit_3a() {
    let run = testkit::begin!();
    let t = Arc::new(RsmTester::new(&run, limit_count(&run, "servers"), None));
    let submits = limit_count(&run, "submits");
    let shutdown_within = limit_secs(&run, "shutdown_secs");
    for _ in 0..limit_count(&run, "incs") {
        t.inc();
    }
    t.crash_all();
    thread::sleep(ELECTION_TIMEOUT);
    t.restart_all();
    t.inc();

    let leader = t.leader();
    let outcomes = submit_many(&t, leader, CounterOp::Null, submits);
    thread::sleep(Duration::from_millis(20));
    t.crash_all();
    let crashed = Instant::now();
    for k in 0..submits {
        if outcomes.recv_deadline(crashed + shutdown_within).is_err() {
            t.fail(format!(
                "{} of the {submits} submits to leader {leader} had not returned {shutdown_within:?} \
                 after every server was shut down: kill must make waiting submits return",
                submits - k
            ));
        }
    }
    t.restart_all();
    t.inc();
    t.converge_all();
    t.check_sizes(None, 0);
    t.end(&run);
}
