//! Part 2B: log replication.
//!
//! Run with `cargo test -p lab2-raft 2b`.

use lab2_raft::Start;
use lab2_raft::tester::{Config, ELECTION_TIMEOUT, cmd, show};
use labrt::thread;

/// Three commands are committed, at indexes 1, 2, 3, and nothing is
/// committed before it is started.
#[test]
fn basic_agree_2b() {
    let run = testkit::begin!();
    let n = 3;
    let cfg = Config::new(&run, n, true, false);
    for index in 1..=3 {
        let (got, _) = cfg.n_committed(index);
        if got > 0 {
            cfg.fail(format!(
                "{got} peers applied index {index} before any command was started for it"
            ));
        }
        let at = cfg.one(&cmd(index * 100), n, false);
        if at != index {
            cfg.fail(format!(
                "expected the command at index {index}, it was committed at {at}"
            ));
        }
    }
    cfg.end(&run);
}

/// Each entry crosses each link about once: ten 5,000-byte commands must
/// not cost much more than peers x 50,000 bytes.
#[test]
fn rpc_bytes_2b() {
    let run = testkit::begin!();
    let n = 3;
    let cfg = Config::new(&run, n, true, false);
    let slack = run.limit("slack_bytes") as u64;
    cfg.one(&cmd(99), n, false);
    let before = cfg.bytes_total();
    let mut sent = 0u64;
    for index in 2..12 {
        let command: Vec<u8> = (0..5000).map(|_| cfg.random(256) as u8).collect();
        let at = cfg.one(&command, n, false);
        if at != index {
            cfg.fail(format!(
                "expected the command at index {index}, it was committed at {at}"
            ));
        }
        sent += command.len() as u64;
    }
    let got = cfg.bytes_total() - before;
    let budget = n as u64 * sent + slack;
    if got > budget {
        cfg.fail(format!(
            "too many RPC bytes: {got} for {sent} bytes of commands on {n} peers (budget {budget})"
        ));
    }
    cfg.end(&run);
}

/// Progress with one follower gone; none with both followers gone.
#[test]
fn follower_failure_2b() {
    let run = testkit::begin!();
    let n = 3;
    let cfg = Config::new(&run, n, true, false);
    cfg.one(&cmd(101), n, false);

    let leader1 = cfg.check_one_leader();
    cfg.disconnect((leader1 + 1) % n);
    // The leader and the remaining follower still form a majority.
    cfg.one(&cmd(102), n - 1, false);
    thread::sleep(ELECTION_TIMEOUT);
    cfg.one(&cmd(103), n - 1, false);

    // Cut off the remaining followers.
    let leader2 = cfg.check_one_leader();
    cfg.disconnect((leader2 + 1) % n);
    cfg.disconnect((leader2 + 2) % n);
    let Some(Start { index, .. }) = cfg.start(leader2, cmd(104)) else {
        cfg.fail(format!("peer {leader2}, the leader, refused start()"));
    };
    if index != 4 {
        cfg.fail(format!("expected index 4, start() returned {index}"));
    }
    thread::sleep(2 * ELECTION_TIMEOUT);
    let (got, _) = cfg.n_committed(index);
    if got > 0 {
        cfg.fail(format!(
            "{got} peers committed index {index} without a majority"
        ));
    }
    cfg.end(&run);
}

/// Progress after the leader fails; none after the next one fails too.
#[test]
fn leader_failure_2b() {
    let run = testkit::begin!();
    let n = 3;
    let cfg = Config::new(&run, n, true, false);
    cfg.one(&cmd(101), n, false);

    let leader1 = cfg.check_one_leader();
    cfg.disconnect(leader1);
    // The followers elect a leader among themselves.
    cfg.one(&cmd(102), n - 1, false);
    thread::sleep(ELECTION_TIMEOUT);
    cfg.one(&cmd(103), n - 1, false);

    let leader2 = cfg.check_one_leader();
    cfg.disconnect(leader2);
    // One peer left connected: nothing may commit, whoever accepts it.
    for i in 0..n {
        cfg.start(i, cmd(104));
    }
    thread::sleep(2 * ELECTION_TIMEOUT);
    let (got, _) = cfg.n_committed(4);
    if got > 0 {
        cfg.fail(format!(
            "{got} peers committed index 4 with no majority connected"
        ));
    }
    cfg.end(&run);
}

/// A follower that was cut off catches up when it returns.
#[test]
fn fail_agree_2b() {
    let run = testkit::begin!();
    let n = 3;
    let cfg = Config::new(&run, n, true, false);
    cfg.one(&cmd(101), n, false);

    let leader = cfg.check_one_leader();
    cfg.disconnect((leader + 1) % n);
    cfg.one(&cmd(102), n - 1, false);
    cfg.one(&cmd(103), n - 1, false);
    thread::sleep(ELECTION_TIMEOUT);
    cfg.one(&cmd(104), n - 1, false);
    cfg.one(&cmd(105), n - 1, false);

    cfg.connect((leader + 1) % n);
    // All three must now agree, including on the entries it missed.
    cfg.one(&cmd(106), n, true);
    thread::sleep(ELECTION_TIMEOUT);
    cfg.one(&cmd(107), n, true);
    cfg.end(&run);
}

/// Nothing commits while 3 of 5 peers are gone; afterwards the log goes on
/// from where the majority's log ends.
#[test]
fn fail_no_agree_2b() {
    let run = testkit::begin!();
    let n = 5;
    let cfg = Config::new(&run, n, true, false);
    cfg.one(&cmd(10), n, false);

    let leader = cfg.check_one_leader();
    for k in 1..=3 {
        cfg.disconnect((leader + k) % n);
    }
    let Some(Start { index, .. }) = cfg.start(leader, cmd(20)) else {
        cfg.fail(format!("peer {leader}, the leader, refused start()"));
    };
    if index != 2 {
        cfg.fail(format!("expected index 2, start() returned {index}"));
    }
    thread::sleep(2 * ELECTION_TIMEOUT);
    let (got, _) = cfg.n_committed(index);
    if got > 0 {
        cfg.fail(format!(
            "{got} peers committed index {index} with only 2 of {n} connected"
        ));
    }

    for k in 1..=3 {
        cfg.connect((leader + k) % n);
    }
    // The disconnected majority may have elected a leader of its own, so
    // index 2 may or may not have been reused.
    let leader2 = cfg.check_one_leader();
    let Some(Start { index: index2, .. }) = cfg.start(leader2, cmd(30)) else {
        cfg.fail(format!("peer {leader2}, the leader, refused start()"));
    };
    if !(2..=3).contains(&index2) {
        cfg.fail(format!(
            "expected index 2 or 3 after the partition healed, start() returned {index2}"
        ));
    }
    cfg.one(&cmd(1000), n, true);
    cfg.end(&run);
}

/// Five concurrent starts in one term all commit, each at its own index.
#[test]
fn concurrent_starts_2b() {
    let run = testkit::begin!();
    let n = 3;
    let cfg = Config::new(&run, n, true, false);
    for attempt in 0..5 {
        if attempt > 0 {
            // Give the cluster time to settle on a leader.
            thread::sleep(3 * ELECTION_TIMEOUT);
        }
        let leader = cfg.check_one_leader();
        let Some(Start { term, .. }) = cfg.start(leader, cmd(1)) else {
            continue;
        };
        let started: Vec<Option<(Start, u64)>> = thread::scope(|s| {
            let handles: Vec<_> = (0..5u64)
                .map(|i| {
                    let cfg = &cfg;
                    s.spawn(move || {
                        cfg.start(leader, cmd(100 + i))
                            .map(|started| (started, 100 + i))
                    })
                })
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().ok().flatten())
                .collect()
        });
        if (0..n).any(|j| cfg.state(j).is_some_and(|s| s.term != term)) {
            continue; // the term moved on: try again
        }
        let mut lost_leadership = false;
        let mut committed = Vec::new();
        for &(Start { index, term: t }, _) in started.iter().flatten() {
            if t != term {
                lost_leadership = true;
                break;
            }
            match cfg.wait(index, n, Some(term)) {
                Some(c) => committed.push(c),
                None => {
                    lost_leadership = true;
                    break;
                }
            }
        }
        if lost_leadership || started.iter().any(Option::is_none) {
            continue;
        }
        for &(_, value) in started.iter().flatten() {
            if !committed.contains(&cmd(value)) {
                cfg.fail(format!(
                    "command {value} was started in term {term} but never committed"
                ));
            }
        }
        cfg.end(&run);
        return;
    }
    cfg.fail("the term changed too often for five concurrent starts to commit in one term");
}

/// A deposed leader holding uncommitted entries rejoins: its entries are
/// discarded and the cluster agrees.
#[test]
fn rejoin_2b() {
    let run = testkit::begin!();
    let n = 3;
    let cfg = Config::new(&run, n, true, false);
    cfg.one(&cmd(101), n, true);

    // The leader is cut off and accepts entries nobody else will see.
    let leader1 = cfg.check_one_leader();
    cfg.disconnect(leader1);
    for x in [102, 103, 104] {
        cfg.start(leader1, cmd(x));
    }
    // The others elect a new leader and commit at index 2.
    cfg.one(&cmd(103), 2, true);

    // The new leader goes; the old one returns.
    let leader2 = cfg.check_one_leader();
    cfg.disconnect(leader2);
    cfg.connect(leader1);
    cfg.one(&cmd(104), 2, true);

    cfg.connect(leader2);
    cfg.one(&cmd(105), n, true);
    cfg.end(&run);
}

/// A leader brings followers whose logs diverge by 50 entries back in
/// line quickly (backing up more than one entry per round trip).
#[test]
fn backup_2b() {
    let run = testkit::begin!();
    let n = 5;
    let cfg = Config::new(&run, n, true, false);
    cfg.one(&cfg.random_cmd(), n, true);

    // The leader and one follower are left alone with 50 uncommittable entries.
    let leader1 = cfg.check_one_leader();
    for k in 2..=4 {
        cfg.disconnect((leader1 + k) % n);
    }
    for _ in 0..50 {
        cfg.start(leader1, cfg.random_cmd());
    }
    thread::sleep(ELECTION_TIMEOUT / 2);
    cfg.disconnect(leader1);
    cfg.disconnect((leader1 + 1) % n);

    // The other three commit 50 entries of their own.
    for k in 2..=4 {
        cfg.connect((leader1 + k) % n);
    }
    for _ in 0..50 {
        cfg.one(&cfg.random_cmd(), 3, true);
    }

    // Their leader and one follower: 50 more uncommittable entries.
    let leader2 = cfg.check_one_leader();
    let mut other = (leader1 + 2) % n;
    if other == leader2 {
        other = (leader2 + 1) % n;
    }
    cfg.disconnect(other);
    for _ in 0..50 {
        cfg.start(leader2, cfg.random_cmd());
    }
    thread::sleep(ELECTION_TIMEOUT / 2);

    // The first group returns, with the follower that missed the last batch.
    for i in 0..n {
        cfg.disconnect(i);
    }
    cfg.connect(leader1);
    cfg.connect((leader1 + 1) % n);
    cfg.connect(other);
    for _ in 0..50 {
        cfg.one(&cfg.random_cmd(), 3, true);
    }

    for i in 0..n {
        cfg.connect(i);
    }
    cfg.one(&cfg.random_cmd(), n, true);
    cfg.end(&run);
}

/// Raft is frugal: few RPCs to elect a leader, about one round per batch of
/// entries, and only heartbeats when idle.
#[test]
fn count_2b() {
    let run = testkit::begin!();
    let n = 3;
    let cfg = Config::new(&run, n, true, false);
    let election_rpcs = run.limit("election_rpcs") as u64;
    let agreement_rpcs = run.limit("agreement_rpcs") as u64;
    let idle_rpcs = run.limit("idle_rpcs_per_sec") as u64;
    let heartbeats = run.limit("heartbeats_per_sec") as u64;
    let executed = || (0..n).map(|i| cfg.rpc_count(i)).sum::<u64>();

    cfg.check_one_leader();
    let total = executed();
    if total < 1 || total > election_rpcs {
        cfg.fail(format!(
            "the first election used {total} RPCs; expected between 1 and {election_rpcs}"
        ));
    }

    let mut counted = false;
    for attempt in 0..5 {
        if attempt > 0 {
            thread::sleep(3 * ELECTION_TIMEOUT);
        }
        let leader = cfg.check_one_leader();
        let before = executed();
        let Some(Start { index: first, term }) = cfg.start(leader, cmd(1)) else {
            continue;
        };
        let mut commands = Vec::new();
        let mut same_term = true;
        for i in 1..=11u64 {
            let command = cfg.random_cmd();
            match cfg.start(leader, command.clone()) {
                Some(Start { index, term: t }) if t == term => {
                    if index != first + i {
                        cfg.fail(format!(
                            "start() returned index {index}; expected {}",
                            first + i
                        ));
                    }
                    commands.push(command);
                }
                _ => {
                    same_term = false;
                    break;
                }
            }
        }
        if !same_term {
            continue;
        }
        for i in 1..=10u64 {
            match cfg.wait(first + i, n, Some(term)) {
                Some(c) if c == commands[(i - 1) as usize] => {}
                Some(c) => cfg.fail(format!(
                    "index {} holds {}, not the command started there",
                    first + i,
                    show(&c)
                )),
                None => {
                    same_term = false;
                    break;
                }
            }
        }
        if !same_term || (0..n).any(|j| cfg.state(j).is_some_and(|s| s.term != term)) {
            continue;
        }
        let used = executed() - before;
        if used > agreement_rpcs {
            cfg.fail(format!(
                "{used} RPCs to commit 10 entries started together; the budget is {agreement_rpcs}"
            ));
        }
        counted = true;
        break;
    }
    if !counted {
        cfg.fail("the term changed too often to count the RPCs of one batch");
    }

    thread::sleep(ELECTION_TIMEOUT);
    let before: Vec<u64> = (0..n).map(|i| cfg.rpc_count(i)).collect();
    let idle = labrt::time::Duration::from_secs(1);
    thread::sleep(idle);
    let after: Vec<u64> = (0..n).map(|i| cfg.rpc_count(i)).collect();
    let used: u64 = after.iter().zip(&before).map(|(a, b)| a - b).sum();
    if used > idle_rpcs {
        cfg.fail(format!(
            "{used} RPCs in one idle second; the budget is {idle_rpcs}"
        ));
    }
    // A window of one second can hold one more tick than the rate.
    for (i, (a, b)) in after.iter().zip(&before).enumerate() {
        if a - b > heartbeats + 1 {
            cfg.fail(format!(
                "peer {i} received {} calls in one idle second: heartbeats must be at most {heartbeats} per second",
                a - b
            ));
        }
    }
    cfg.end(&run);
}
