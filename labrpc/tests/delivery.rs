//! Reliable delivery, counters and concurrency.

mod common;

use common::{counter_net, end_to};
use labrpc::{Network, Server, Service};
use labrt::channel;
use labrt::sync::atomic::Ordering;
use labrt::sync::{Arc, Mutex};
use labrt::thread;
use labrt::time::{Duration, Instant};

#[test]
fn reliable_calls_execute_exactly_once_each() {
    let (net, count) = counter_net(1);
    let end = end_to(&net, "c", "s");
    for i in 1..=500u64 {
        let r: u64 = end
            .call("Count.Inc", &1u64)
            .expect("reliable network delivers");
        assert_eq!(r, i, "call {i} saw count {r}");
    }
    assert_eq!(count.load(Ordering::SeqCst), 500);
    assert_eq!(net.server_rpcs("s"), 500);
    assert_eq!(net.total_rpcs(), 500);
}

#[test]
fn byte_and_rpc_counts_are_exact() {
    let (net, _) = counter_net(2);
    let end = end_to(&net, "c", "s");
    let payload = vec![7u8; 1000];
    // postcard: a 1000-byte Vec<u8> is a 2-byte varint length plus the bytes.
    let wire = labrpc::encode(&payload).expect("encodes").len() as u64;
    assert_eq!(wire, 1002);
    for _ in 0..10 {
        let back: Vec<u8> = end.call("Count.Echo", &payload).expect("delivered");
        assert_eq!(back, payload);
    }
    assert_eq!(net.total_rpcs(), 10);
    assert_eq!(
        net.total_bytes(),
        10 * 2 * wire,
        "args on send + reply on delivery"
    );

    // A call through a disabled end counts its RPC and its argument bytes, no reply bytes.
    net.enable("c", false);
    assert!(end.call::<_, Vec<u8>>("Count.Echo", &payload).is_err());
    assert_eq!(net.total_rpcs(), 11);
    assert_eq!(net.total_bytes(), 10 * 2 * wire + wire);
    assert_eq!(net.server_rpcs("s"), 10, "the disabled call never executed");
}

#[test]
fn a_thousand_concurrent_callers_all_get_their_replies() {
    let (net, count) = counter_net(3);
    let ends: Vec<_> = (0..1000)
        .map(|i| end_to(&net, &format!("c{i}"), "s"))
        .collect();
    thread::scope(|s| {
        for (i, end) in ends.iter().enumerate() {
            s.spawn(move || {
                let v = vec![i as u8; 16];
                let back: Vec<u8> = end.call("Count.Echo", &v).expect("reliable");
                assert_eq!(back, v, "caller {i} got someone else's reply");
                let _: u64 = end.call("Count.Inc", &1u64).expect("reliable");
            });
        }
    });
    assert_eq!(count.load(Ordering::SeqCst), 1000);
    assert_eq!(net.server_rpcs("s"), 2000);
}

#[test]
fn one_end_serves_many_threads_at_once() {
    let (net, count) = counter_net(4);
    let end = end_to(&net, "c", "s");
    thread::scope(|s| {
        for _ in 0..16 {
            let end = end.clone();
            s.spawn(move || {
                for _ in 0..100 {
                    let _: u64 = end.call("Count.Inc", &1u64).expect("reliable");
                }
            });
        }
    });
    assert_eq!(count.load(Ordering::SeqCst), 1600);
}

#[test]
fn a_blocking_handler_does_not_delay_other_calls() {
    let net = Network::with_seed(5);
    let (release_tx, release_rx) = channel::unbounded::<()>();
    let release_rx = Arc::new(Mutex::new(release_rx));
    let svc = Service::new("S")
        .method("Block", move |_: ()| {
            let rx = release_rx.lock().expect("one blocker at a time");
            let _ = rx.recv_timeout(Duration::from_secs(20));
        })
        .method("Quick", |x: u32| x + 1);
    net.add_server("s", Server::new([svc]));
    let blocker = end_to(&net, "b", "s");
    let quick = end_to(&net, "q", "s");
    let other_server = Service::new("T").method("Quick", |x: u32| x * 2);
    net.add_server("t", Server::new([other_server]));
    let quick_t = end_to(&net, "qt", "t");

    let blocked = thread::spawn(move || blocker.call::<_, ()>("S.Block", &()));
    // Let the blocking call reach its handler.
    assert!(testkit::wait_for(
        Duration::from_secs(10),
        Duration::from_millis(5),
        || net.server_rpcs("s") == 1
    ));
    let mut times = Vec::new();
    for i in 0..200u32 {
        let t = Instant::now();
        let r: u32 = quick
            .call("S.Quick", &i)
            .expect("same server, other method");
        assert_eq!(r, i + 1);
        let r: u32 = quick_t.call("T.Quick", &i).expect("other server");
        assert_eq!(r, i * 2);
        times.push(t.elapsed());
    }
    times.sort();
    let median = times[times.len() / 2];
    assert!(
        median < Duration::from_millis(5),
        "with one handler blocked, a pair of quick calls took a median of {median:?} (expected a few µs)"
    );
    assert!(!blocked.is_finished(), "the blocked call is still waiting");
    release_tx.send(()).expect("blocker waiting");
    assert_eq!(blocked.join().expect("no panic"), Ok(()));
}

#[test]
fn several_services_share_one_server() {
    let net = Network::with_seed(6);
    let kv = Service::new("KV").method("Get", |k: String| format!("value-of-{k}"));
    let raft = Service::new("Raft").method("Term", |_: ()| 7u64);
    net.add_server("peer", Server::new([kv, raft]));
    let end = end_to(&net, "c", "peer");
    let v: String = end.call("KV.Get", &"x".to_string()).expect("delivered");
    assert_eq!(v, "value-of-x");
    let t: u64 = end.call("Raft.Term", &()).expect("delivered");
    assert_eq!(t, 7);
}
