//! The memory test: the duplicate table keeps one reply per client, not one
//! per operation.
//!
//! The test binary installs testkit's counting allocator, so the live heap
//! is known to the byte. Nothing is estimated: every byte every replica
//! keeps is counted (its data, duplicate table, Raft log and persisted
//! snapshot), which is why the budget is a multiple of what three replicas
//! must hold.

use labrt::thread;
use labrt::time::{Duration, Instant};
use testkit::Run;

use super::checks::limit_count;
use super::kv::{KvTester, Net};

const MIB: usize = 1024 * 1024;

/// How long the replicas get to apply and snapshot the last writes.
const SETTLE: Duration = Duration::from_secs(10);

/// Live heap bytes now.
///
/// # Panics
/// If the test binary does not count its heap (the test file must start
/// with `testkit::install_counting_allocator!();`).
fn live_bytes() -> usize {
    testkit::heap::live().unwrap_or_else(|| {
        panic!(
            "this memory test needs exact heap counts: put `testkit::install_counting_allocator!();` \
             at the top of its test file"
        )
    })
}

/// One clerk makes `appends` appends of `arg_bytes` bytes each to one key,
/// on 3 servers snapshotting at `max_raft_state`. Each append's reply is
/// the whole value before it, so a duplicate table that keeps every reply
/// holds about `appends² × arg_bytes / 2` bytes per replica; one that keeps
/// each client's last reply holds at most the value once more. Once every
/// replica has applied and snapshotted, the heap may have grown by at most
/// `max_growth_mib`.
///
/// Limits: `appends`, `arg_bytes`, `max_raft_state`, `max_growth_mib`.
pub fn one_reply_per_client(run: &Run) {
    let appends = limit_count(run, "appends");
    let arg_bytes = limit_count(run, "arg_bytes");
    let max_raft_state = limit_count(run, "max_raft_state");
    let max_growth = limit_count(run, "max_growth_mib") * MIB;
    let t = KvTester::new(run, 3, Net::Reliable, Some(max_raft_state));
    let mut ck = t.make_unrecorded_clerk();
    // The first operation waits for a leader and warms every replica up.
    ck.get("k");
    let base = live_bytes();
    let arg: String = "x".repeat(arg_bytes);
    for i in 0..appends {
        let old = ck.append("k", &arg);
        if old.len() != i * arg_bytes {
            t.fail(format!(
                "append {i} returned an old value of {} bytes; expected {} bytes, as {i} appends \
                 of {arg_bytes} bytes came before it. Look for an append applied twice or not \
                 at all",
                old.len(),
                i * arg_bytes
            ));
        }
    }
    drop(arg);
    let deadline = Instant::now() + SETTLE;
    while (0..t.n()).any(|i| t.raft_state_size(i) > max_raft_state) {
        if Instant::now() >= deadline {
            let (i, size) = t.largest_raft_state();
            t.fail(format!(
                "{SETTLE:?} after the last append, server {i}'s persisted Raft state is still \
                 {size} bytes, over max_raft_state = {max_raft_state}: every replica must \
                 snapshot once its Raft state nears the limit"
            ));
        }
        thread::sleep(Duration::from_millis(20));
    }
    let growth = live_bytes().saturating_sub(base);
    let value = appends * arg_bytes;
    println!(
        "after {appends} appends of {arg_bytes} bytes (a {value}-byte value) the live heap grew by \
         {growth} bytes (limit {max_growth})"
    );
    if growth > max_growth {
        t.fail(format!(
            "after {appends} appends of {arg_bytes} bytes by one clerk, the live heap grew by \
             {growth} bytes ({:.1} MiB); at most {} MiB are allowed (max_growth_mib in \
             grade.toml), room for each of 3 replicas to hold the {value}-byte value, one reply \
             and its snapshot of both a few times over. Look at the duplicate table: per client, \
             keep only the reply to its latest write, replaced when its next write is applied",
            growth as f64 / MIB as f64,
            max_growth / MIB
        ));
    }
    t.check_rpcs_per_op(run);
}
