//! Part C: snapshots. The rsm snapshots the service when the Raft state
//! nears `max_raft_state`; restarted replicas and lagging followers resume
//! from snapshots; the Raft state must stay small and the snapshots too.
//!
//! Run them with `cargo test -p lab3-kvraft 3c`. Every test reads its
//! numbers from `grade.toml`; the handout (`docs/lab3-kvraft.md`) says what
//! each checks.

// The memory test counts every heap byte the process holds.
testkit::install_counting_allocator!();

use lab3_kvraft::tester::checks::limit_count;
use lab3_kvraft::tester::generic::random_clients;
use lab3_kvraft::tester::{ELECTION_TIMEOUT, Faults, Net, RsmTester, memory, scenarios};
use labrt::thread;

/// The faults of a part C random-clients test: snapshots, nothing else
/// unless named.
const SNAPSHOTS: Faults = Faults {
    net: Net::Reliable,
    crash: false,
    partitions: false,
    random_keys: false,
    snapshots: true,
};

/// The rsm snapshots the counter: `incs` increments keep the Raft state
/// under `log_factor` x `max_raft_state`; every server restarts from its
/// snapshot and the next increment returns `incs + 1`.
#[test]
fn rsm_snapshot_3c() {
    let run = testkit::begin!();
    let max = limit_count(&run, "max_raft_state");
    let factor = limit_count(&run, "log_factor");
    let t = RsmTester::new(&run, limit_count(&run, "servers"), Some(max));
    for _ in 0..limit_count(&run, "incs") {
        t.inc();
    }
    t.converge_all();
    t.check_sizes(Some(max), factor);
    if let Some(i) = (0..t.n()).find(|&i| t.snapshot_size(i) == 0) {
        t.fail(format!(
            "server {i} applied every increment but never saved a snapshot, although its Raft \
             state passed max_raft_state = {max}"
        ));
    }
    t.crash_all();
    thread::sleep(ELECTION_TIMEOUT);
    t.restart_all();
    t.inc();
    t.converge_all();
    t.check_sizes(Some(max), factor);
    t.end(&run);
}

/// A server that missed many writes catches up from the leader's snapshot.
#[test]
fn snapshot_rpc_3c() {
    let run = testkit::begin!();
    scenarios::snapshot_catches_up_a_lagging_server(&run);
}

/// Snapshots hold the state, not the history: small after many writes.
#[test]
fn snapshot_size_3c() {
    let run = testkit::begin!();
    scenarios::snapshot_size(&run);
}

/// Snapshots do not slow the service down.
#[test]
fn speed_snapshots_3c() {
    let run = testkit::begin!();
    scenarios::speed(&run, true);
}

/// One client; every server restarts from its snapshot after each round.
#[test]
fn snapshot_recover_3c() {
    let run = testkit::begin!();
    random_clients(
        &run,
        Faults {
            crash: true,
            ..SNAPSHOTS
        },
    );
}

/// Twenty clients; every server restarts from its snapshot after each
/// round.
#[test]
fn snapshot_recover_many_clients_3c() {
    let run = testkit::begin!();
    random_clients(
        &run,
        Faults {
            crash: true,
            ..SNAPSHOTS
        },
    );
}

/// Five clients on an unreliable network, with snapshots.
#[test]
fn snapshot_unreliable_3c() {
    let run = testkit::begin!();
    random_clients(
        &run,
        Faults {
            net: Net::Unreliable,
            ..SNAPSHOTS
        },
    );
}

/// Five clients, lost messages, crashes, snapshots.
#[test]
fn snapshot_unreliable_recover_3c() {
    let run = testkit::begin!();
    random_clients(
        &run,
        Faults {
            net: Net::Unreliable,
            crash: true,
            ..SNAPSHOTS
        },
    );
}

/// Five clients, lost messages, partitions, crashes, snapshots.
#[test]
fn snapshot_unreliable_recover_partition_3c() {
    let run = testkit::begin!();
    random_clients(
        &run,
        Faults {
            net: Net::Unreliable,
            crash: true,
            partitions: true,
            ..SNAPSHOTS
        },
    );
}

/// Everything at once with snapshots: fifteen clients on shared keys, seven
/// servers, lost messages, partitions, crashes; linearizable.
#[test]
fn snapshot_unreliable_recover_partition_linearizable_3c() {
    let run = testkit::begin!();
    random_clients(
        &run,
        Faults {
            net: Net::Unreliable,
            crash: true,
            partitions: true,
            random_keys: true,
            ..SNAPSHOTS
        },
    );
}

/// The duplicate table keeps each client's last reply, not all of them:
/// measured exactly, the heap grows by a few copies of the value, not by
/// every old value an append returned.
#[test]
fn mem_one_reply_per_client_3c() {
    let run = testkit::begin!();
    memory::one_reply_per_client(&run);
}
