//! Operations must go through the network: a clerk that cannot reach the
//! server must not complete an operation, and must complete it once the
//! server is reachable again.

use labrt::channel;
use labrt::thread;
use labrt::time::Duration;
use testkit::Run;

use super::checks::assert_network_used;
use super::kv::KvTester;
use super::rig::Net;

/// How long a cut-off clerk's call is watched for returning early.
const CUT_OFF_FOR: Duration = Duration::from_millis(1500);
/// How long the call may take once the server is reachable again.
const REJOIN_WITHIN: Duration = Duration::from_secs(10);

/// One clerk puts a value; its end is disabled; a get must not return while
/// the clerk can reach no server; once the end is enabled again, the get
/// must return the value.
pub fn unreachable_server_blocks_the_clerk(run: &Run) {
    let tester = KvTester::new(run, Net::Reliable);
    let (mut clerk, end) = tester.make_clerk_with_end();
    clerk.put("k", "reachable");
    run.add_ops(1);
    tester.network().enable(&end, false);
    let (tx, rx) = channel::unbounded();
    let worker = thread::Builder::new()
        .name("cut-off-clerk".into())
        .spawn(move || {
            let got = clerk.get("k");
            let _ = tx.send(got);
        })
        .unwrap_or_else(|e| panic!("tester: cannot start the clerk thread: {e}"));
    if let Ok(got) = rx.recv_timeout(CUT_OFF_FOR) {
        panic!(
            "the clerk's get returned {got:?} while its end to the server was disabled: the \
             operation never reached a server. A clerk must send every operation through its end \
             and keep retrying until a reply comes, never answer from memory of its own or \
             shared with the server (seed {})",
            run.seed()
        );
    }
    tester.network().enable(&end, true);
    match rx.recv_timeout(REJOIN_WITHIN) {
        Ok(got) if got == "reachable" => run.add_ops(1),
        Ok(got) => panic!(
            "after the server became reachable again, get(\"k\") returned {got:?}; expected \
             \"reachable\", the value put before (seed {})",
            run.seed()
        ),
        Err(_) => panic!(
            "the clerk's get had not returned {} s after its end to the server was enabled again: \
             a clerk must keep retrying until the server answers (seed {})",
            REJOIN_WITHIN.as_secs(),
            run.seed()
        ),
    }
    let _ = worker.join();
    assert_network_used(run, tester.network());
}
