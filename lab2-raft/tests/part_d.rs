//! Part 2D: log compaction. The harness snapshots every
//! `SNAPSHOT_EVERY` applied entries, as a service would; Raft must drop
//! the log before each snapshot and bring lagging peers up to date with
//! InstallSnapshot.
//!
//! Run with `cargo test -p lab2-raft 2d`.

use lab2_raft::tester::Config;
use lab2_raft::tester::applier::SNAPSHOT_EVERY;

/// How a victim is made to fall behind in [`snapshot_rounds`].
#[derive(Clone, Copy, PartialEq)]
enum Victim {
    /// Nobody: all peers keep up.
    Spared,
    /// Cut off from the others, then reconnected.
    Disconnected,
    /// Crashed, then restarted from its persister.
    Crashed,
}

/// The network of [`snapshot_rounds`].
#[derive(Clone, Copy, PartialEq)]
enum Network {
    Reliable,
    Unreliable,
    /// Unreliable, and replies may arrive seconds late (long reordering):
    /// InstallSnapshot and AppendEntries replies from long ago must not
    /// move a follower's progress backwards or forwards wrongly.
    LateReplies,
}

/// `rounds` rounds: a victim falls behind while enough entries are
/// committed for the others to snapshot past it, then returns and must
/// catch up; the persisted Raft state must stay small throughout.
fn snapshot_rounds(network: Network, victim_fate: Victim, rounds: usize) {
    let run = testkit::begin!();
    let n = 3;
    let cfg = Config::new(&run, n, network == Network::Reliable, true);
    cfg.long_reordering(network == Network::LateReplies);
    let max_state = run.limit("max_raft_state_bytes") as usize;
    cfg.one(&cfg.random_cmd(), n, true);
    let mut leader = cfg.check_one_leader();

    for round in 0..rounds {
        let (mut sender, mut victim) = (leader, (leader + 1) % n);
        if round % 3 == 1 {
            // Sometimes the victim is the leader, and a follower is asked.
            (sender, victim) = (victim, sender);
        }
        match victim_fate {
            Victim::Spared => {}
            Victim::Disconnected => cfg.disconnect(victim),
            Victim::Crashed => cfg.crash(victim),
        }
        if victim_fate != Victim::Spared {
            cfg.one(&cfg.random_cmd(), n - 1, true);
        }

        // Enough entries that a snapshot is probably taken past the victim.
        let batch = SNAPSHOT_EVERY / 2 + cfg.random(SNAPSHOT_EVERY);
        for _ in 0..batch {
            cfg.start(sender, cfg.random_cmd());
        }
        let up = if victim_fate == Victim::Spared {
            n
        } else {
            n - 1
        };
        cfg.one(&cfg.random_cmd(), up, true);

        for i in 0..n {
            let size = cfg.raft_state_size(i);
            if size >= max_state {
                cfg.fail(format!(
                    "peer {i}'s persisted Raft state is {size} bytes; it must stay below {max_state} (is the log trimmed at each snapshot?)"
                ));
            }
        }

        match victim_fate {
            Victim::Spared => {}
            Victim::Disconnected => cfg.connect(victim),
            Victim::Crashed => {
                cfg.restart(victim);
                cfg.connect(victim);
            }
        }
        if victim_fate != Victim::Spared {
            // The victim needs entries the others have compacted away.
            cfg.one(&cfg.random_cmd(), n, true);
            leader = cfg.check_one_leader();
        }
    }
    cfg.end(&run);
}

/// Snapshots are taken and the log is trimmed while all peers keep up.
#[test]
fn snapshot_basic_2d() {
    snapshot_rounds(Network::Reliable, Victim::Spared, 30);
}

/// A disconnected peer catches up through InstallSnapshot.
#[test]
fn snapshot_install_2d() {
    snapshot_rounds(Network::Reliable, Victim::Disconnected, 30);
}

/// The same over an unreliable network.
#[test]
fn snapshot_install_unreliable_2d() {
    snapshot_rounds(Network::Unreliable, Victim::Disconnected, 30);
}

/// A disconnected peer catches up through InstallSnapshot while replies
/// arrive up to seconds late.
#[test]
fn snapshot_install_late_replies_2d() {
    snapshot_rounds(Network::LateReplies, Victim::Disconnected, 8);
}

/// A crashed peer restarts from its snapshot and catches up.
#[test]
fn snapshot_install_crash_2d() {
    snapshot_rounds(Network::Reliable, Victim::Crashed, 30);
}

/// The same over an unreliable network.
#[test]
fn snapshot_install_uncrash_2d() {
    snapshot_rounds(Network::Unreliable, Victim::Crashed, 30);
}

/// Everyone crashes after snapshots were taken; the log resumes where it
/// stopped, never earlier.
#[test]
fn snapshot_all_crash_2d() {
    let run = testkit::begin!();
    let n = 3;
    let cfg = Config::new(&run, n, false, true);
    cfg.one(&cfg.random_cmd(), n, true);
    for _ in 0..5 {
        let batch = SNAPSHOT_EVERY / 2 + cfg.random(SNAPSHOT_EVERY);
        for _ in 0..batch {
            cfg.one(&cfg.random_cmd(), n, true);
        }
        let before = cfg.one(&cfg.random_cmd(), n, true);
        for i in 0..n {
            cfg.crash(i);
        }
        for i in 0..n {
            cfg.restart(i);
            cfg.connect(i);
        }
        let after = cfg.one(&cfg.random_cmd(), n, true);
        if after <= before {
            cfg.fail(format!(
                "after a full restart a command was committed at index {after}, not after the last one ({before})"
            ));
        }
    }
    cfg.end(&run);
}

/// A peer restarted from a snapshot (and nothing after it) works, and keeps
/// working through a second restart.
#[test]
fn snapshot_init_2d() {
    let run = testkit::begin!();
    let n = 3;
    let cfg = Config::new(&run, n, false, true);
    cfg.one(&cfg.random_cmd(), n, true);
    for _ in 0..=SNAPSHOT_EVERY {
        cfg.one(&cfg.random_cmd(), n, true);
    }
    for _ in 0..2 {
        for i in 0..n {
            cfg.crash(i);
        }
        for i in 0..n {
            cfg.restart(i);
            cfg.connect(i);
        }
        cfg.one(&cfg.random_cmd(), n, true);
    }
    cfg.end(&run);
}
