//! The scripted key/value scenarios of parts B and C: one key many writers,
//! a leader cut off in the minority, speed, a clerk that can reach no
//! server, a lagging server caught up by a snapshot, and snapshot sizes.
//! Each reads its numbers from `grade.toml` and ends with the
//! linearizability check of everything its clerks saw.

use std::collections::BTreeMap;

use labrt::channel::{self, RecvTimeoutError};
use labrt::thread;
use labrt::time::{Duration, Instant};
use testkit::Run;

use super::ELECTION_TIMEOUT;
use super::appends::{self, AppendLog, shorten, token};
use super::checks::{limit_count, limit_secs};
use super::kv::{KvTester, Net, TestClerk};

/// How long a scenario waits for a first leader.
const FIRST_LEADER: Duration = Duration::from_secs(10);

/// Reads `key` through `ck` and fails unless it holds `want`.
#[track_caller]
pub fn expect_value(t: &KvTester, ck: &mut TestClerk, key: &str, want: &str) {
    let got = ck.get(key);
    if got != want {
        t.fail(format!(
            "get({key:?}) returned {}; expected {}, the value of the last write that completed",
            shorten(&got),
            shorten(want)
        ));
    }
}

/// Starts `f` on a thread of its own, returning a channel that delivers its
/// result.
fn on_thread<T: Send + 'static>(
    name: &str,
    f: impl FnOnce() -> T + Send + 'static,
) -> channel::Receiver<T> {
    let (tx, rx) = channel::bounded(1);
    thread::Builder::new()
        .name(name.to_owned())
        .spawn(move || {
            let _ = tx.send(f());
        })
        .unwrap_or_else(|e| panic!("tester: cannot start thread {name}: {e}"));
    rx
}

/// `clients` clients each append `appends_per_client` tokens to the same
/// key at once (3 servers). Every append must be in the value exactly once
/// and in its client's order, and the history linearizable.
///
/// Limits: `servers`, `clients`, `appends_per_client`, `check_secs`.
pub fn one_key_appends(run: &Run, net: Net) {
    let servers = limit_count(run, "servers");
    let clients = limit_count(run, "clients");
    let per_client = limit_count(run, "appends_per_client") as u64;
    let t = KvTester::new(run, servers, net, None);
    let ids: Vec<u64> = thread::scope(|s| {
        let threads: Vec<_> = (0..clients)
            .map(|_| {
                let mut ck = t.make_clerk();
                s.spawn(move || {
                    for n in 0..per_client {
                        ck.append("k", &token(ck.id(), n));
                    }
                    ck.id()
                })
            })
            .collect();
        threads
            .into_iter()
            .map(|h| {
                h.join()
                    .unwrap_or_else(|_| panic!("a client thread panicked; its message is above"))
            })
            .collect()
    });
    let log: AppendLog = ids
        .iter()
        .map(|&id| (id, (0..per_client).collect()))
        .collect();
    let value = t.make_clerk().get("k");
    if let Err(problem) = appends::check("k", &value, &log) {
        t.fail(problem);
    }
    t.check_log_sizes(0);
    t.check_linearizable(run, limit_secs(run, "check_secs"));
    t.check_rpcs_per_op(run);
}

/// The leader is cut off in a minority: operations there must not complete
/// (a minority never answers), while the majority goes on; once the
/// partition heals they must complete.
///
/// A clerk writes "13"; the servers split into a majority without the
/// leader and a minority with it, each side with clerks of its own. The
/// majority writes "14"; a put of "15" and a get start in the minority
/// and must not return within `minority_secs`; the majority writes "16".
/// Then everything heals: both minority operations must return within an
/// election timeout plus `heal_secs`, and the key must end as "15".
///
/// Limits: `servers`, `minority_secs`, `heal_secs`, `check_secs`.
pub fn one_partition(run: &Run) {
    let servers = limit_count(run, "servers");
    let minority_wait = limit_secs(run, "minority_secs");
    let heal_within = limit_secs(run, "heal_secs");
    let t = KvTester::new(run, servers, Net::Reliable, None);
    let all: Vec<usize> = (0..servers).collect();
    let mut ck = t.make_clerk();
    ck.put("1", "13");

    let (majority, minority) = t.leader_in_minority(FIRST_LEADER);
    t.partition(&[&majority, &minority]);
    tracing::info!(target: "test", ?majority, ?minority, "leader cut off in the minority");
    let mut ck_major = t.make_clerk_to(&majority);
    let mut ck_put = t.make_clerk_to(&minority);
    let mut ck_get = t.make_clerk_to(&minority);
    let (put_client, get_client) = (ck_put.client().clone(), ck_get.client().clone());
    ck_major.put("1", "14");
    expect_value(&t, &mut ck_major, "1", "14");

    let (tx, rx) = channel::unbounded();
    let put_tx = tx.clone();
    thread::Builder::new()
        .name("minority-put".into())
        .spawn(move || {
            ck_put.put("1", "15");
            let _ = put_tx.send(("put(\"1\", \"15\")", Instant::now()));
        })
        .unwrap_or_else(|e| panic!("tester: cannot start a client thread: {e}"));
    thread::Builder::new()
        .name("minority-get".into())
        .spawn(move || {
            ck_get.get("1");
            let _ = tx.send(("get(\"1\")", Instant::now()));
        })
        .unwrap_or_else(|e| panic!("tester: cannot start a client thread: {e}"));
    if let Ok((what, _)) = rx.recv_timeout(minority_wait) {
        t.fail(format!(
            "{what} completed on a clerk that can reach only the minority {minority:?} (which \
             holds the old leader); a minority must never answer, since it cannot know whether \
             the majority {majority:?} has moved on. Look for a server that replies before the \
             operation is committed, or a leader that does not notice it lost its majority"
        ));
    }
    expect_value(&t, &mut ck_major, "1", "14");
    ck_major.put("1", "16");
    expect_value(&t, &mut ck_major, "1", "16");

    t.repair();
    t.connect_client(&put_client, &all);
    t.connect_client(&get_client, &all);
    let healed = Instant::now();
    let deadline = healed + ELECTION_TIMEOUT + heal_within;
    for _ in 0..2 {
        match rx.recv_deadline(deadline) {
            Ok(_) => {}
            Err(RecvTimeoutError::Timeout) => t.fail(format!(
                "an operation started in the minority had not completed {:?} after the partition \
                 healed (allowed: an election timeout plus {heal_within:?}); once a majority can \
                 talk, a clerk must find the leader and the leader must commit",
                ELECTION_TIMEOUT + heal_within
            )),
            Err(RecvTimeoutError::Disconnected) => {
                t.fail("a minority client thread stopped without reporting; its panic is above")
            }
        }
    }
    expect_value(&t, &mut ck, "1", "15");
    t.check_log_sizes(0);
    t.check_linearizable(run, limit_secs(run, "check_secs"));
    t.check_rpcs_per_op(run);
}

/// One clerk appends `ops` times to one key as fast as it can (3 servers):
/// on average at most `max_ms_per_op` milliseconds each, which a leader that
/// sends new entries at once (not only with the next heartbeat) and a clerk
/// that remembers the leader meet easily. Each append must return the value
/// before it, and the key must end holding them all, in order.
///
/// Limits: `servers`, `ops`, `max_ms_per_op`, `check_secs`, and with
/// snapshots `max_raft_state`, `log_factor`.
pub fn speed(run: &Run, snapshots: bool) {
    let servers = limit_count(run, "servers");
    let ops = limit_count(run, "ops") as u64;
    let max_ms = run.limit("max_ms_per_op");
    let (max_raft_state, log_factor) = if snapshots {
        (
            Some(limit_count(run, "max_raft_state")),
            limit_count(run, "log_factor"),
        )
    } else {
        (None, 0)
    };
    let t = KvTester::new(run, servers, Net::Reliable, max_raft_state);
    let mut ck = t.make_clerk();
    // The first operation waits for a leader; it is not timed.
    ck.get("x");
    let mut expected = String::new();
    let start = Instant::now();
    for n in 0..ops {
        let tok = token(ck.id(), n);
        let old = ck.append("x", &tok);
        if old != expected {
            t.fail(format!(
                "append {n} to \"x\" returned {} as the value before it; expected {}",
                shorten(&old),
                shorten(&expected)
            ));
        }
        expected.push_str(&tok);
    }
    let took = start.elapsed();
    let log: AppendLog = BTreeMap::from([(ck.id(), (0..ops).collect())]);
    let value = ck.get("x");
    if let Err(problem) = appends::check("x", &value, &log) {
        t.fail(problem);
    }
    let per_op_ms = took.as_secs_f64() * 1000.0 / ops as f64;
    println!(
        "{ops} appends in {:.2} s: {per_op_ms:.2} ms per operation",
        took.as_secs_f64()
    );
    if per_op_ms > max_ms {
        t.fail(format!(
            "{ops} appends took {:.2} s, {per_op_ms:.2} ms each; at most {max_ms} ms each are \
             allowed (max_ms_per_op in grade.toml; heartbeats are 100 ms apart, so this is three \
             operations per heartbeat). Look for a leader that sends new entries only with \
             heartbeats, a server that waits by polling with sleeps, or a clerk that does not \
             remember the leader",
            took.as_secs_f64()
        ));
    }
    t.check_log_sizes(log_factor);
    t.check_linearizable(run, limit_secs(run, "check_secs"));
    t.check_rpcs_per_op(run);
}

/// Operations must go through the network: a clerk cut off from every
/// server must not complete an operation (a get, then an append), and must
/// complete it once it can reach the servers again, with the right value.
///
/// Limits: `servers`, `cut_off_secs`, `rejoin_secs`, `check_secs`.
pub fn unreachable_servers_block_the_clerk(run: &Run) {
    let servers = limit_count(run, "servers");
    let cut_off_for = limit_secs(run, "cut_off_secs");
    let rejoin_within = limit_secs(run, "rejoin_secs");
    let t = KvTester::new(run, servers, Net::Reliable, None);
    let all: Vec<usize> = (0..servers).collect();
    let mut ck = t.make_clerk();
    ck.put("k", "reachable");
    let client = ck.client().clone();

    for (what, want) in [
        ("get(\"k\")", "reachable"),
        ("append(\"k\", \"+\")", "reachable"),
    ] {
        t.connect_client(&client, &[]);
        let rx = on_thread("cut-off-clerk", move || {
            let got = if what.starts_with("get") {
                ck.get("k")
            } else {
                ck.append("k", "+")
            };
            (ck, got)
        });
        if let Ok((_, got)) = rx.recv_timeout(cut_off_for) {
            t.fail(format!(
                "the clerk's {what} returned {got:?} while the clerk could reach no server: the \
                 operation never reached one. A clerk must send every operation to a server and \
                 keep retrying until one applies it, never answer it from memory of its own or \
                 shared with the servers"
            ));
        }
        t.connect_client(&client, &all);
        ck = match rx.recv_timeout(rejoin_within) {
            Ok((ck, got)) if got == want => ck,
            Ok((_, got)) => t.fail(format!(
                "once the clerk could reach the servers again, {what} returned {got:?}; expected \
                 {want:?}"
            )),
            Err(_) => t.fail(format!(
                "the clerk's {what} had not returned {rejoin_within:?} after it could reach the \
                 servers again: a clerk must keep retrying until a server applies the operation"
            )),
        };
    }
    expect_value(&t, &mut ck, "k", "reachable+");
    t.check_log_sizes(0);
    t.check_linearizable(run, limit_secs(run, "check_secs"));
    t.check_rpcs_per_op(run);
}

/// A server that missed many writes is caught up with a snapshot (MIT's
/// snapshot RPC test, 3 servers). Servers 0 and 1 take `writes` puts while
/// server 2 is cut off, then must have trimmed their logs; then 0 and 2
/// must serve everything (2 can only learn the old writes from 0's
/// snapshot, since 0 dropped the log); then all three.
///
/// Limits: `max_raft_state`, `log_factor`, `writes`, `check_secs`.
pub fn snapshot_catches_up_a_lagging_server(run: &Run) {
    let max_raft_state = limit_count(run, "max_raft_state");
    let log_factor = limit_count(run, "log_factor");
    let writes = limit_count(run, "writes");
    let t = KvTester::new(run, 3, Net::Reliable, Some(max_raft_state));
    let mut ck = t.make_clerk();
    ck.put("a", "A");
    expect_value(&t, &mut ck, "a", "A");

    t.partition(&[&[0, 1], &[2]]);
    {
        let mut ck1 = t.make_clerk_to(&[0, 1]);
        for i in 0..writes {
            ck1.put(&i.to_string(), &i.to_string());
        }
        thread::sleep(ELECTION_TIMEOUT);
        ck1.put("b", "B");
    }
    for i in [0, 1] {
        let size = t.raft_state_size(i);
        if size > log_factor * max_raft_state {
            t.fail(format!(
                "after {writes} writes server {i}'s persisted Raft state is {size} bytes; with \
                 max_raft_state = {max_raft_state} it must be at most {log_factor} x \
                 {max_raft_state}: the servers did not snapshot and trim their logs"
            ));
        }
    }

    t.partition(&[&[0, 2], &[1]]);
    {
        let mut ck1 = t.make_clerk_to(&[0, 2]);
        ck1.put("c", "C");
        ck1.put("d", "D");
        let last = (writes - 1).to_string();
        for (k, v) in [
            ("a", "A"),
            ("b", "B"),
            ("1", "1"),
            (last.as_str(), last.as_str()),
        ] {
            expect_value(&t, &mut ck1, k, v);
        }
    }

    t.repair();
    ck.put("e", "E");
    for (k, v) in [("c", "C"), ("e", "E"), ("1", "1")] {
        expect_value(&t, &mut ck, k, v);
    }
    if t.snapshot_size(2) == 0 {
        t.fail(format!(
            "server 2 caught up on {writes} writes without ever saving a snapshot: it should \
             have installed the leader's (the others had trimmed the log it missed), or at \
             least snapshotted itself once its Raft state neared max_raft_state = \
             {max_raft_state}"
        ));
    }
    t.check_log_sizes(log_factor);
    t.check_linearizable(run, limit_secs(run, "check_secs"));
    t.check_rpcs_per_op(run);
}

/// Snapshots hold the state, not the history (MIT's snapshot size test, 3
/// servers): `rounds` rounds of put "0", get, put "1", get on one key.
/// Afterwards the Raft state must be under `log_factor` × `max_raft_state`
/// and every snapshot at most `max_snapshot_bytes`.
///
/// Limits: `max_raft_state`, `log_factor`, `rounds`, `max_snapshot_bytes`,
/// `check_secs`.
pub fn snapshot_size(run: &Run) {
    let max_raft_state = limit_count(run, "max_raft_state");
    let log_factor = limit_count(run, "log_factor");
    let rounds = limit_count(run, "rounds");
    let max_snapshot = limit_count(run, "max_snapshot_bytes");
    let t = KvTester::new(run, 3, Net::Reliable, Some(max_raft_state));
    let mut ck = t.make_clerk();
    for _ in 0..rounds {
        ck.put("x", "0");
        expect_value(&t, &mut ck, "x", "0");
        ck.put("x", "1");
        expect_value(&t, &mut ck, "x", "1");
    }
    t.check_log_sizes(log_factor);
    let (i, size) = t.largest_snapshot();
    if size > max_snapshot {
        t.fail(format!(
            "server {i}'s snapshot is {size} bytes; at most {max_snapshot} are allowed \
             (max_snapshot_bytes in grade.toml) for one key and one client. A snapshot holds \
             the state (the data and one duplicate-table entry per client), not the operations \
             that led to it"
        ));
    }
    if size == 0 {
        t.fail(format!(
            "no server saved a snapshot after {} operations with max_raft_state = \
             {max_raft_state}: the service must snapshot when the Raft state nears it",
            4 * rounds
        ));
    }
    t.check_linearizable(run, limit_secs(run, "check_secs"));
    t.check_rpcs_per_op(run);
}
