//! What one key/value operation costs on a healthy cluster: 3 servers, a
//! reliable network, one clerk that already knows the leader, snapshots at
//! 1000 bytes of Raft state (so the log stays short however long the
//! benchmark runs). Each operation is one Raft round trip from the leader
//! to a follower and back, plus the clerk's call.
//!
//! Run with `cargo bench -p lab3-kvraft`; the time per iteration is the
//! time per operation.

use criterion::{Criterion, criterion_group, criterion_main};
use lab3_kvraft::tester::{KvTester, Net};
use labrt::time::Duration;
use testkit::Run;

fn ops(c: &mut Criterion) {
    let run = Run::with_limit(testkit::origin!(), "bench_ops", Duration::from_secs(3600));
    let t = KvTester::new(&run, 3, Net::Reliable, Some(1000));
    let mut ck = t.make_unrecorded_clerk();
    // The first operation waits for a leader and teaches the clerk who it is.
    ck.put("k", "v");
    let mut g = c.benchmark_group("kv_3_servers");
    g.bench_function("put", |b| b.iter(|| ck.put("k", "v")));
    g.bench_function("get", |b| b.iter(|| ck.get("k")));
    g.bench_function("append_then_put", |b| {
        b.iter(|| {
            ck.append("a", "x");
            ck.put("a", "");
        })
    });
    g.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(30).measurement_time(Duration::from_secs(5));
    targets = ops
}
criterion_main!(benches);
