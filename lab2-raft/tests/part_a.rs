//! Part 2A: leader election.
//!
//! Run with `cargo test -p lab2-raft 2a`.

use lab2_raft::tester::{Config, ELECTION_TIMEOUT};
use labrt::thread;
use labrt::time::Duration;

/// A fresh cluster elects one leader, and keeps it (and its term) while
/// nothing fails.
#[test]
fn initial_election_2a() {
    let run = testkit::begin!();
    let cfg = Config::new(&run, 3, true, false);

    cfg.check_one_leader();
    // Let the followers hear from the leader before comparing terms.
    thread::sleep(ELECTION_TIMEOUT / 20);
    let term1 = cfg.check_terms();
    if term1 < 1 {
        cfg.fail(format!(
            "a leader was elected in term {term1}; the first election is for term 1 or later"
        ));
    }
    // With no failures, the term should not change.
    thread::sleep(2 * ELECTION_TIMEOUT);
    let term2 = cfg.check_terms();
    if term1 != term2 {
        println!("warning: the term changed from {term1} to {term2} with no failures");
    }
    cfg.check_one_leader();
    cfg.end(&run);
}

/// A new leader is elected when the leader is cut off; a returning old
/// leader does not disturb it; no leader is elected without a majority.
#[test]
fn re_election_2a() {
    let run = testkit::begin!();
    let n = 3;
    let cfg = Config::new(&run, n, true, false);

    let leader1 = cfg.check_one_leader();
    cfg.disconnect(leader1);
    cfg.check_one_leader();

    // The old leader rejoins: there must still be exactly one leader.
    cfg.connect(leader1);
    let leader2 = cfg.check_one_leader();

    // Without a majority, nobody may become leader.
    cfg.disconnect(leader2);
    cfg.disconnect((leader2 + 1) % n);
    thread::sleep(2 * ELECTION_TIMEOUT);
    cfg.check_no_leader();

    // A majority again: a leader.
    cfg.connect((leader2 + 1) % n);
    cfg.check_one_leader();

    // The last peer rejoining does not break that.
    cfg.connect(leader2);
    cfg.check_one_leader();
    cfg.end(&run);
}

/// Seven peers keep electing leaders while random minorities come and go.
#[test]
fn many_elections_2a() {
    let run = testkit::begin!();
    let n = 7;
    let cfg = Config::new(&run, n, true, false);
    cfg.check_one_leader();

    for _ in 0..10 {
        let cut: Vec<usize> = (0..3).map(|_| cfg.random(n as u64) as usize).collect();
        for &i in &cut {
            cfg.disconnect(i);
        }
        // At least four of seven remain: they must elect a leader.
        cfg.check_one_leader();
        for &i in &cut {
            cfg.connect(i);
        }
    }
    cfg.check_one_leader();
    cfg.end(&run);
}

/// A deposed leader whose replies are all lost (so it never learns it was
/// deposed) keeps sending heartbeats of its old term; they must not stop
/// the others from electing a new leader.
#[test]
fn deaf_leader_yields_2a() {
    let run = testkit::begin!();
    let n = 3;
    let cfg = Config::new(&run, n, true, false);

    let old = cfg.check_one_leader();
    cfg.disconnect(old);
    let newer = cfg.check_one_leader();
    let follower = (0..n)
        .find(|&i| i != old && i != newer)
        .unwrap_or_else(|| cfg.fail("no third peer"));

    // The old leader returns, deaf; the newer one goes. The follower, in a
    // later term than the old leader, must campaign and win.
    cfg.disconnect(newer);
    cfg.deafen(old);
    cfg.connect(old);
    let elected = testkit::wait_for(2 * cfg.leader_timeout(), Duration::from_millis(20), || {
        cfg.state(follower).is_some_and(|s| s.is_leader)
    });
    if !elected {
        cfg.fail(format!(
            "peer {follower} never became leader while the deposed leader {old} (whose replies are lost) kept sending old-term heartbeats; \
             an AppendEntries from an older term must not reset the election timer"
        ));
    }
    cfg.check_one_leader();
    cfg.end(&run);
}

/// The highest term any running peer is in.
fn highest_term(cfg: &Config) -> u64 {
    (0..cfg.n())
        .filter_map(|i| cfg.state(i))
        .map(|s| s.term)
        .max()
        .unwrap_or(0)
}

/// A lossy network is no reason to elect: on five peers that lose a tenth
/// of their messages but are never cut off, the leader's heartbeats get
/// through often enough that followers do not time out. A follower that
/// does not reset its election timer on a heartbeat, or a leader that sends
/// them too rarely, starts an election every timeout.
#[test]
fn no_needless_elections_2a() {
    let run = testkit::begin!();
    let n = 5;
    let cfg = Config::new(&run, n, false, false);
    let watch = Duration::from_secs_f64(run.limit("watch_secs"));
    let allowed = run.limit("max_new_terms") as u64;

    cfg.check_one_leader();
    // Let every follower hear from the leader.
    thread::sleep(ELECTION_TIMEOUT / 2);
    let before = highest_term(&cfg);
    thread::sleep(watch);
    let after = highest_term(&cfg);
    println!("the highest term went from {before} to {after} in {watch:?}");
    if after > before + allowed {
        cfg.fail(format!(
            "on a cluster that lost messages but was never cut off, the term went from {before} to {after} in {watch:?} \
             (at most {allowed} new terms allowed): followers keep timing out; does a follower reset its election \
             timer on every AppendEntries from the current leader, and does the leader send heartbeats several times \
             per election timeout?"
        ));
    }
    cfg.check_one_leader();
    cfg.end(&run);
}

/// Elections while replies arrive up to seconds late (long reordering): a
/// vote granted in an earlier term must not count in a later one, and a
/// late reply from an old term must not unseat anyone. Each round cuts the
/// leader off, then, while the others campaign, cuts one of them off too:
/// the three left must elect a leader, and the lone peer, however many late
/// replies reach it, must never lead a term it started after it was cut off
/// (nobody could have voted for it in that term). The leader watcher fails
/// the test the moment two peers lead one term.
#[test]
fn elections_with_late_replies_2a() {
    let run = testkit::begin!();
    let n = 5;
    let cfg = Config::new(&run, n, true, false);
    cfg.long_reordering(true);

    let mut leader = cfg.check_one_leader();
    for _ in 0..6 {
        cfg.disconnect(leader);
        // Let the others' campaigns start, their replies still in flight.
        cfg.sleep_random(ELECTION_TIMEOUT.as_millis() as u64);
        let lone = (leader + 1 + cfg.random(n as u64 - 1) as usize) % n;
        cfg.disconnect(lone);
        // Every term the lone peer is in from now on was started alone.
        let cut_off_in = cfg.state(lone).map_or(0, |s| s.term);
        cfg.check_one_leader();
        // Late replies of its earlier campaigns reach it meanwhile.
        let deadline = labrt::time::Instant::now() + 3 * ELECTION_TIMEOUT;
        while labrt::time::Instant::now() < deadline {
            if let Some(s) = cfg.state(lone)
                && s.is_leader
                && s.term > cut_off_in
            {
                cfg.fail(format!(
                    "peer {lone} became leader of term {} while cut off from everyone since term {cut_off_in}: \
                     it counted votes from another term (a vote counts only in the term it was granted for)",
                    s.term
                ));
            }
            thread::sleep(Duration::from_millis(20));
        }
        cfg.connect(lone);
        cfg.connect(leader);
        leader = cfg.check_one_leader();
    }
    cfg.check_one_leader();
    cfg.end(&run);
}
