//! Part A: three values committed through Raft at indexes 1, 2, 3.

use lab2_raft::tester::Config;

#[test]
fn three_values_commit_in_order() {
    let run = testkit::begin!();
    let cfg = Config::new(&run, 3, true, false);
    let at = lab7_raft_consumer::propose_all(&cfg, &[10, 20, 30]);
    if at != [1, 2, 3] {
        cfg.fail(format!("expected the values at indexes [1, 2, 3], they were committed at {at:?}"));
    }
    cfg.end(&run);
}
