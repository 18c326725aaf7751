//! Operations must go through the network: a clerk that cannot reach the
//! server must not complete an operation, and must complete it once the
//! server is reachable again (the shared check of
//! `testkit::cluster::reach`).

use testkit::Run;
use testkit::cluster::reach::{self, CutOff};

use super::checks::assert_network_used;
use super::kv::KvTester;
use super::rig::Net;

/// One clerk puts a value; its end is disabled; a get must not return while
/// the clerk can reach no server; once the end is enabled again, the get
/// must return the value.
pub fn unreachable_server_blocks_the_clerk(run: &Run) {
    let tester = KvTester::new(run, Net::Reliable);
    let (mut clerk, end) = tester.make_clerk_with_end();
    clerk.put("k", "reachable");
    run.add_ops(1);
    tester.network().enable(&end, false);
    let got = reach::blocks_while_cut_off(
        run,
        "get(\"k\")",
        CutOff::default(),
        move || clerk.get("k"),
        || {
            tester.network().enable(&end, true);
        },
    );
    assert_eq!(
        got,
        "reachable",
        "after the server became reachable again, get(\"k\") returned {got:?}; expected \
         \"reachable\", the value put before (seed {})",
        run.seed()
    );
    run.add_ops(1);
    assert_network_used(run, tester.network());
}
