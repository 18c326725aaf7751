//! Part A's concurrent scenarios: random clients, and many clients
//! appending to one key.

use std::collections::BTreeMap;

use labcheck::models::Kv;
use labrpc::rng::{Rng, splitmix64};
use labrt::thread;
use labrt::time::Instant;
use testkit::Run;

use super::appends::{self, AppendLog, token};
use super::checks::{assert_budgets, assert_linearizable, limit_count, limit_secs};
use super::kv::KvTester;
use super::record::{KvRecorder, RecordingClerk};
use super::rig::Net;

/// A generator for client `client` that depends only on the run's seed.
fn client_rng(seed: u64, client: u64) -> Rng {
    let mut state = seed ^ client.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    Rng::new(splitmix64(&mut state))
}

/// Client threads, run `iterations` times with fresh clerks, each doing
/// random operations for `seconds` or `ops_per_client` operations: half
/// appends to one of `append_keys` keys, a tenth puts to one of `put_keys`
/// other keys, the rest gets of any key. Afterwards every append must be in
/// its key exactly once and in its client's order, and the whole history
/// must be linearizable.
///
/// Limits: `clients`, `iterations`, `seconds`, `ops_per_client`,
/// `append_keys`, `put_keys`, `check_secs`.
pub fn random_clients(run: &Run, net: Net) {
    let clients = limit_count(run, "clients");
    let iterations = limit_count(run, "iterations");
    let seconds = limit_secs(run, "seconds");
    let ops_cap = limit_count(run, "ops_per_client");
    let append_keys: Vec<String> = (0..limit_count(run, "append_keys").max(1))
        .map(|i| format!("a{i}"))
        .collect();
    let put_keys: Vec<String> = (0..limit_count(run, "put_keys").max(1))
        .map(|i| format!("p{i}"))
        .collect();
    let all_keys: Vec<&String> = append_keys.iter().chain(&put_keys).collect();

    let tester = KvTester::new(run, net);
    let rec = KvRecorder::start();
    let mut logs: BTreeMap<String, AppendLog> = BTreeMap::new();
    for iteration in 0..iterations {
        let deadline = Instant::now() + seconds;
        let appended: Vec<(u64, BTreeMap<String, Vec<u64>>)> = thread::scope(|s| {
            let threads: Vec<_> = (0..clients)
                .map(|i| {
                    let id = (iteration * clients + i) as u64;
                    let mut ck =
                        RecordingClerk::new(tester.make_clerk(), id, rec.clone(), run.op_counter());
                    let mut rng = client_rng(run.seed(), id);
                    let (append_keys, put_keys, all_keys) = (&append_keys, &put_keys, &all_keys);
                    s.spawn(move || {
                        let mut mine: BTreeMap<String, Vec<u64>> = BTreeMap::new();
                        let mut appends_made = 0;
                        for n in 0..ops_cap {
                            if Instant::now() >= deadline {
                                break;
                            }
                            let roll = rng.below(10);
                            if roll < 5 {
                                let key =
                                    &append_keys[rng.below(append_keys.len() as u64) as usize];
                                ck.append(key, &token(id, appends_made));
                                mine.entry(key.clone()).or_default().push(appends_made);
                                appends_made += 1;
                            } else if roll < 6 {
                                let key = &put_keys[rng.below(put_keys.len() as u64) as usize];
                                ck.put(key, &format!("{id} {n}"));
                            } else {
                                let key = all_keys[rng.below(all_keys.len() as u64) as usize];
                                ck.get(key);
                            }
                        }
                        (id, mine)
                    })
                })
                .collect();
            threads.into_iter().map(join_client).collect()
        });
        for (client, per_key) in appended {
            for (key, ns) in per_key {
                logs.entry(key).or_default().insert(client, ns);
            }
        }
    }

    let mut reader =
        RecordingClerk::new(tester.make_clerk(), u64::MAX, rec.clone(), run.op_counter());
    for key in &append_keys {
        let value = reader.get(key);
        let empty = AppendLog::new();
        if let Err(problem) = appends::check(key, &value, logs.get(key).unwrap_or(&empty)) {
            panic!("{problem} (seed {})", run.seed());
        }
    }
    assert_linearizable(run, &Kv, &rec.history(), limit_secs(run, "check_secs"));
    assert_budgets(run, tester.network());
}

/// `clients` clients each append `appends_per_client` tokens to the same
/// key at once. Every append must be in the value exactly once and in its
/// client's order, and every old value returned must fit a linearizable
/// order.
///
/// Limits: `clients`, `appends_per_client`, `check_secs`.
pub fn one_key_appends(run: &Run, net: Net) {
    let clients = limit_count(run, "clients");
    let per_client = limit_count(run, "appends_per_client") as u64;
    let tester = KvTester::new(run, net);
    let rec = KvRecorder::start();
    thread::scope(|s| {
        let threads: Vec<_> = (0..clients as u64)
            .map(|id| {
                let mut ck =
                    RecordingClerk::new(tester.make_clerk(), id, rec.clone(), run.op_counter());
                s.spawn(move || {
                    for n in 0..per_client {
                        ck.append("k", &token(id, n));
                    }
                })
            })
            .collect();
        threads.into_iter().for_each(join_client);
    });
    let log: AppendLog = (0..clients as u64)
        .map(|id| (id, (0..per_client).collect()))
        .collect();
    let value =
        RecordingClerk::new(tester.make_clerk(), u64::MAX, rec.clone(), run.op_counter()).get("k");
    if let Err(problem) = appends::check("k", &value, &log) {
        panic!("{problem} (seed {})", run.seed());
    }
    assert_linearizable(run, &Kv, &rec.history(), limit_secs(run, "check_secs"));
    assert_budgets(run, tester.network());
}

/// Waits for a client thread. Its panic has already failed the test (the
/// run's panic watch saw it); this only keeps the message in order.
fn join_client<T>(handle: thread::ScopedJoinHandle<'_, T>) -> T {
    handle
        .join()
        .unwrap_or_else(|_| panic!("a client thread panicked; its message is above"))
}
