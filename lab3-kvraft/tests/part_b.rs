//! Part B: the key/value service on the rsm, without snapshots. Clerks make
//! random operations while the harness loses messages, repartitions the
//! servers and crashes them all; every history is checked for
//! linearizability, and no server may ever save a snapshot.
//!
//! Run them with `cargo test -p lab3-kvraft 3b`. Every test reads its
//! numbers from `grade.toml`; the handout (`docs/lab3-kvraft.md`) says what
//! each checks.

use lab3_kvraft::tester::generic::random_clients;
use lab3_kvraft::tester::{Faults, Net, scenarios};

/// The faults of a part B random-clients test: none unless named.
const CALM: Faults = Faults {
    net: Net::Reliable,
    crash: false,
    partitions: false,
    random_keys: false,
    snapshots: false,
};

/// One client, five servers, nothing goes wrong.
#[test]
fn basic_3b() {
    let run = testkit::begin!();
    random_clients(&run, CALM);
}

/// One clerk's appends, one after another, are fast: about one Raft round
/// trip each.
#[test]
fn speed_3b() {
    let run = testkit::begin!();
    scenarios::speed(&run, false);
}

/// Five clients at once, each on its own key.
#[test]
fn concurrent_3b() {
    let run = testkit::begin!();
    random_clients(&run, CALM);
}

/// Five clients on a network that loses a tenth of the requests and a
/// tenth of the replies: retries must not apply twice.
#[test]
fn unreliable_3b() {
    let run = testkit::begin!();
    random_clients(
        &run,
        Faults {
            net: Net::Unreliable,
            ..CALM
        },
    );
}

/// Five clients append to one key on an unreliable network: every append
/// once, in each client's order.
#[test]
fn unreliable_one_key_3b() {
    let run = testkit::begin!();
    scenarios::one_key_appends(&run, Net::Unreliable);
}

/// The leader is cut off in a minority: nothing completes there, the
/// majority goes on, and the minority's operations complete after healing.
#[test]
fn one_partition_3b() {
    let run = testkit::begin!();
    scenarios::one_partition(&run);
}

/// One client while the servers are repartitioned every second or so.
#[test]
fn many_partitions_one_client_3b() {
    let run = testkit::begin!();
    random_clients(
        &run,
        Faults {
            partitions: true,
            ..CALM
        },
    );
}

/// Five clients while the servers are repartitioned every second or so.
#[test]
fn many_partitions_many_clients_3b() {
    let run = testkit::begin!();
    random_clients(
        &run,
        Faults {
            partitions: true,
            ..CALM
        },
    );
}

/// One client; every server crashes and restarts after each round.
#[test]
fn persist_one_client_3b() {
    let run = testkit::begin!();
    random_clients(
        &run,
        Faults {
            crash: true,
            ..CALM
        },
    );
}

/// Five clients; every server crashes and restarts after each round.
#[test]
fn persist_concurrent_3b() {
    let run = testkit::begin!();
    random_clients(
        &run,
        Faults {
            crash: true,
            ..CALM
        },
    );
}

/// Five clients, lost messages, crashes.
#[test]
fn persist_concurrent_unreliable_3b() {
    let run = testkit::begin!();
    random_clients(
        &run,
        Faults {
            net: Net::Unreliable,
            crash: true,
            ..CALM
        },
    );
}

/// Five clients, partitions, crashes.
#[test]
fn persist_partition_3b() {
    let run = testkit::begin!();
    random_clients(
        &run,
        Faults {
            crash: true,
            partitions: true,
            ..CALM
        },
    );
}

/// Five clients, lost messages, partitions, crashes.
#[test]
fn persist_partition_unreliable_3b() {
    let run = testkit::begin!();
    random_clients(
        &run,
        Faults {
            net: Net::Unreliable,
            crash: true,
            partitions: true,
            ..CALM
        },
    );
}

/// Everything at once: fifteen clients on shared keys (puts as well as
/// appends), seven servers, lost messages, partitions, crashes; the history
/// must be linearizable.
#[test]
fn persist_partition_unreliable_linearizable_3b() {
    let run = testkit::begin!();
    random_clients(
        &run,
        Faults {
            net: Net::Unreliable,
            crash: true,
            partitions: true,
            random_keys: true,
            ..CALM
        },
    );
}

/// A clerk that can reach no server completes nothing, and completes once
/// it can reach them again.
#[test]
fn unreachable_servers_block_the_clerk_3b() {
    let run = testkit::begin!();
    scenarios::unreachable_servers_block_the_clerk(&run);
}
