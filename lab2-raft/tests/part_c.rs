//! Part 2C: persistence. A crashed peer restarts from exactly what it
//! saved.
//!
//! Run with `cargo test -p lab2-raft 2c`.

use lab2_raft::Start;
use lab2_raft::tester::{Config, ELECTION_TIMEOUT, cmd, show};
use labrt::sync::atomic::{AtomicBool, Ordering};
use labrt::thread;
use labrt::time::Duration;

/// Restarts the peer (from its saved state) and connects it.
fn revive(cfg: &Config, i: usize) {
    cfg.restart(i);
    cfg.connect(i);
}

/// The cluster keeps its log through crashes of everyone, of the leader and
/// of a follower.
#[test]
fn persist1_2c() {
    let run = testkit::begin!();
    let n = 3;
    let cfg = Config::new(&run, n, true, false);
    cfg.one(&cmd(11), n, true);

    // Everyone crashes and comes back.
    for i in 0..n {
        cfg.crash(i);
    }
    for i in 0..n {
        revive(&cfg, i);
    }
    cfg.one(&cmd(12), n, true);

    let leader1 = cfg.check_one_leader();
    revive(&cfg, leader1);
    cfg.one(&cmd(13), n, true);

    let leader2 = cfg.check_one_leader();
    cfg.crash(leader2);
    cfg.one(&cmd(14), n - 1, true);
    revive(&cfg, leader2);
    // The restarted peer must catch up on index 4.
    cfg.wait(4, n, None);

    let i3 = (cfg.check_one_leader() + 1) % n;
    cfg.crash(i3);
    cfg.one(&cmd(15), n - 1, true);
    revive(&cfg, i3);
    cfg.one(&cmd(16), n, true);
    cfg.end(&run);
}

/// Five rounds of partial crashes and partitions across five peers.
#[test]
fn persist2_2c() {
    let run = testkit::begin!();
    let n = 5;
    let cfg = Config::new(&run, n, true, false);
    let mut next = 11u64;
    let mut one = |expected| {
        cfg.one(&cmd(next), expected, true);
        next += 1;
    };
    for _ in 0..5 {
        one(n);

        let leader1 = cfg.check_one_leader();
        cfg.disconnect((leader1 + 1) % n);
        cfg.disconnect((leader1 + 2) % n);
        one(n - 2);

        cfg.disconnect(leader1);
        cfg.disconnect((leader1 + 3) % n);
        cfg.disconnect((leader1 + 4) % n);
        // Two peers that missed the last entry restart; with a third they
        // form a majority that must not lose it.
        revive(&cfg, (leader1 + 1) % n);
        revive(&cfg, (leader1 + 2) % n);
        thread::sleep(ELECTION_TIMEOUT);
        revive(&cfg, (leader1 + 3) % n);
        one(n - 2);

        cfg.connect(leader1);
        cfg.connect((leader1 + 4) % n);
    }
    cfg.one(&cmd(1000), n, true);
    cfg.end(&run);
}

/// A partitioned leader and a follower crash; the leader restarts and,
/// with the third peer, must keep what was committed.
#[test]
fn persist3_2c() {
    let run = testkit::begin!();
    let n = 3;
    let cfg = Config::new(&run, n, true, false);
    cfg.one(&cmd(101), 3, true);

    let leader = cfg.check_one_leader();
    cfg.disconnect((leader + 2) % n);
    cfg.one(&cmd(102), 2, true);

    cfg.crash(leader);
    cfg.crash((leader + 1) % n);
    cfg.connect((leader + 2) % n);
    revive(&cfg, leader);
    cfg.one(&cmd(103), 2, true);

    revive(&cfg, (leader + 1) % n);
    cfg.one(&cmd(104), n, true);
    cfg.end(&run);
}

/// Figure 8 of the paper, 1000 times over: leaders crash right after
/// accepting entries, so logs diverge in many terms; only entries a leader
/// of the current term replicated may be committed.
#[test]
fn figure8_2c() {
    let run = testkit::begin!();
    let n = 5;
    let cfg = Config::new(&run, n, true, false);
    cfg.one(&cfg.random_cmd(), 1, true);

    let mut up = n;
    for _ in 0..1000 {
        let mut leader = None;
        for i in 0..n {
            if cfg.start(i, cfg.random_cmd()).is_some() {
                leader = Some(i);
            }
        }
        if cfg.random(1000) < 100 {
            cfg.sleep_random(500);
        } else {
            cfg.sleep_random(13);
        }
        if let Some(l) = leader {
            cfg.crash(l);
            up -= 1;
        }
        if up < 3 {
            let s = cfg.random(n as u64) as usize;
            if cfg.raft(s).is_none() {
                revive(&cfg, s);
                up += 1;
            }
        }
    }
    for i in 0..n {
        if cfg.raft(i).is_none() {
            revive(&cfg, i);
        }
    }
    cfg.one(&cfg.random_cmd(), n, true);
    cfg.end(&run);
}

/// Agreement over a network that loses and delays messages, with many
/// concurrent proposals.
#[test]
fn unreliable_agree_2c() {
    let run = testkit::begin!();
    let n = 5;
    let cfg = Config::new(&run, n, false, false);
    thread::scope(|s| {
        for round in 1..50u64 {
            for j in 0..4u64 {
                let cfg = &cfg;
                s.spawn(move || {
                    cfg.one(&cmd(100 * round + j), 1, true);
                });
            }
            cfg.one(&cmd(round), 1, true);
        }
    });
    cfg.unreliable(false);
    cfg.one(&cmd(100), n, true);
    cfg.end(&run);
}

/// Figure 8 over an unreliable network with long reordering: leaders are cut
/// off (not crashed) right after accepting entries.
#[test]
fn figure8_unreliable_2c() {
    let run = testkit::begin!();
    let n = 5;
    let cfg = Config::new(&run, n, false, false);
    cfg.one(&cmd(cfg.random(10_000)), 1, true);

    let mut up = n;
    for iteration in 0..1000 {
        if iteration == 200 {
            cfg.long_reordering(true);
        }
        let mut leader = None;
        for i in 0..n {
            if cfg.start(i, cmd(cfg.random(10_000))).is_some() && cfg.is_connected(i) {
                leader = Some(i);
            }
        }
        if cfg.random(1000) < 100 {
            cfg.sleep_random(500);
        } else {
            cfg.sleep_random(13);
        }
        // Cut the leader off half the time.
        if let Some(l) = leader
            && cfg.random(1000) < 500
        {
            cfg.disconnect(l);
            up -= 1;
        }
        if up < 3 {
            let s = cfg.random(n as u64) as usize;
            if !cfg.is_connected(s) {
                cfg.connect(s);
                up += 1;
            }
        }
    }
    for i in 0..n {
        if !cfg.is_connected(i) {
            cfg.connect(i);
        }
    }
    cfg.one(&cmd(cfg.random(10_000)), n, true);
    cfg.end(&run);
}

/// The paper's Figure 8, step by step: a leader must not count replicas of
/// an entry from an earlier term as committing it, because a peer holding a
/// later-term entry at that index can still win an election and overwrite it.
#[test]
fn figure8_replay_2c() {
    let run = testkit::begin!();
    let n = 5;
    let cfg = Config::new(&run, n, true, false);
    cfg.one(&cmd(1), n, true);

    // (a) S1 leads but reaches only S2: its entry x lands on S1 and S2.
    let s1 = cfg.check_one_leader();
    let s2 = (s1 + 1) % n;
    let rest: Vec<usize> = (2..n).map(|k| (s1 + k) % n).collect();
    for &i in &rest {
        cfg.disconnect(i);
    }
    match cfg.start(s1, cmd(2)) {
        Some(Start { index: 2, .. }) => {}
        other => cfg.fail(format!(
            "expected leader {s1} to accept x at index 2, start() returned {other:?}"
        )),
    }
    thread::sleep(ELECTION_TIMEOUT);

    // (b) The other three elect S5, which takes y at index 2 alone, then crashes.
    cfg.disconnect(s1);
    cfg.disconnect(s2);
    for &i in &rest {
        cfg.connect(i);
    }
    let s5 = cfg.check_one_leader();
    let others: Vec<usize> = rest.iter().copied().filter(|&i| i != s5).collect();
    for &i in &others {
        cfg.disconnect(i);
    }
    match cfg.start(s5, cmd(3)) {
        Some(Start { index: 2, .. }) => {}
        other => cfg.fail(format!(
            "expected leader {s5} to accept y at index 2, start() returned {other:?}"
        )),
    }
    cfg.crash(s5);

    // (c) S1 or S2 (their logs are the most up to date) wins a later term and
    // copies x to the other two: x is on a majority but from an old term.
    cfg.connect(s1);
    cfg.connect(s2);
    for &i in &others {
        cfg.connect(i);
    }
    let s3 = cfg.check_one_leader();
    thread::sleep(ELECTION_TIMEOUT);

    // (d) That leader goes; S5 returns, wins with the two others (its y is
    // from a later term than x) and commits y at index 2.
    let partner = if s3 == s1 { s2 } else { s1 };
    cfg.disconnect(s3);
    cfg.disconnect(partner);
    cfg.restart(s5);
    cfg.connect(s5);
    cfg.one(&cmd(4), 3, true);

    // Everyone agrees, on y.
    cfg.connect(s3);
    cfg.connect(partner);
    cfg.one(&cmd(5), n, true);
    if cfg.n_committed(2).1 != Some(cmd(3)) {
        cfg.fail("expected y, the entry of the later term, to be committed at index 2");
    }
    cfg.end(&run);
}

/// A vote survives a crash: peers that voted for a leader, then crashed and
/// restarted, must not vote again in that term for a peer that missed the
/// election, or the term gets two leaders.
#[test]
fn vote_survives_crash_2c() {
    let run = testkit::begin!();
    let n = 5;
    let cfg = Config::new(&run, n, true, false);
    cfg.one(&cmd(1), n, true);

    // Each round gives a late peer about even odds of campaigning in the
    // old leader's term before a voter campaigns in the next one.
    for round in 0..6 {
        // Everyone restarts with the same term and log; three of them elect
        // a leader, which needs both other votes.
        for i in 0..n {
            cfg.crash(i);
        }
        let group: Vec<usize> = (0..3).map(|k| (round + k) % n).collect();
        let late: Vec<usize> = (3..n).map(|k| (round + k) % n).collect();
        for &i in &group {
            cfg.restart(i);
            cfg.connect(i);
        }
        let leader = cfg.check_one_leader();
        let voters: Vec<usize> = group.iter().copied().filter(|&i| i != leader).collect();

        // The leader is cut off and stays leader of its term; its voters
        // crash and come back with the two peers that missed the election.
        cfg.disconnect(leader);
        for &v in &voters {
            cfg.crash(v);
        }
        for &i in voters.iter().chain(&late) {
            cfg.restart(i);
        }
        for &i in voters.iter().chain(&late) {
            cfg.connect(i);
        }
        // Fails if anyone else becomes leader of the cut-off leader's term.
        cfg.check_one_leader();

        cfg.connect(leader);
        cfg.one(&cmd(10 + round as u64), n, true);
    }
    cfg.end(&run);
}

/// Clients keep proposing while peers are cut off, crash and restart at
/// random; every value a client saw committed must be in the final log.
fn churn(reliable: bool) {
    let run = testkit::begin!();
    let n = 5;
    let cfg = Config::new(&run, n, reliable, false);
    let stop = AtomicBool::new(false);

    let seen: Vec<Vec<u64>> = thread::scope(|s| {
        let clients: Vec<_> = (0..3u64)
            .map(|me| {
                let (cfg, stop) = (&cfg, &stop);
                s.spawn(move || {
                    let mut seen = Vec::new();
                    while !stop.load(Ordering::Relaxed) {
                        let x = cfg.random(u64::MAX);
                        let started = (0..n).find_map(|i| cfg.start(i, cmd(x)));
                        let Some(Start { index, .. }) = started else {
                            thread::sleep(Duration::from_millis(79 + me * 17));
                            continue;
                        };
                        // Look for it a few times; it may never commit.
                        for pause in [10, 20, 50, 100, 200] {
                            let (got, c) = cfg.n_committed(index);
                            if got > 0 {
                                if c == Some(cmd(x)) {
                                    seen.push(x);
                                }
                                break;
                            }
                            thread::sleep(Duration::from_millis(pause));
                        }
                    }
                    seen
                })
            })
            .collect();

        for _ in 0..20 {
            if cfg.random(1000) < 200 {
                cfg.disconnect(cfg.random(n as u64) as usize);
            }
            if cfg.random(1000) < 500 {
                let i = cfg.random(n as u64) as usize;
                if cfg.raft(i).is_none() {
                    cfg.restart(i);
                }
                cfg.connect(i);
            }
            if cfg.random(1000) < 200 {
                cfg.crash(cfg.random(n as u64) as usize);
            }
            // Often enough to disrupt, seldom enough that a leader can
            // commit something between disruptions.
            thread::sleep(ELECTION_TIMEOUT * 7 / 10);
        }

        thread::sleep(ELECTION_TIMEOUT);
        cfg.unreliable(false);
        for i in 0..n {
            if cfg.raft(i).is_none() {
                cfg.restart(i);
            }
            cfg.connect(i);
        }
        stop.store(true, Ordering::Relaxed);
        clients
            .into_iter()
            .map(|c| {
                c.join()
                    .unwrap_or_else(|_| cfg.fail("a client thread panicked"))
            })
            .collect()
    });

    thread::sleep(ELECTION_TIMEOUT);
    let last = cfg.one(&cfg.random_cmd(), n, true);
    let mut log = Vec::new();
    for index in 1..=last {
        match cfg.wait(index, n, None) {
            Some(c) => log.push(c),
            None => cfg.fail(format!("index {index} was not applied by all peers")),
        }
    }
    for x in seen.iter().flatten() {
        if !log.contains(&cmd(*x)) {
            cfg.fail(format!(
                "command {} was seen committed but is not in the final log of {} entries",
                show(&cmd(*x)),
                log.len()
            ));
        }
    }
    cfg.end(&run);
}

/// Churn over a reliable network.
#[test]
fn reliable_churn_2c() {
    churn(true);
}

/// Churn over an unreliable network.
#[test]
fn unreliable_churn_2c() {
    churn(false);
}
