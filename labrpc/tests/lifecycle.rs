//! Servers dying mid-call, shutdown, threads, and programming errors.

mod common;

use std::panic::{AssertUnwindSafe, catch_unwind};

use common::{counter_net, end_to};
use labrpc::{Network, RpcError, Server, Service};
use labrt::sync::atomic::{AtomicU64, Ordering};
use labrt::sync::{Arc, Mutex};
use labrt::thread;
use labrt::time::{Duration, Instant};

/// A server "s" whose `S.Hold` handler blocks until released (or 20 s),
/// then returns 1; returns (net, release).
fn holding_net(seed: u64) -> (Network, Arc<Mutex<bool>>, Arc<AtomicU64>) {
    let net = Network::with_seed(seed);
    let released = Arc::new(Mutex::new(false));
    let finished = Arc::new(AtomicU64::new(0));
    let (r, f) = (Arc::clone(&released), Arc::clone(&finished));
    let svc = Service::new("S").method("Hold", move |_: ()| {
        testkit::wait_for(Duration::from_secs(20), Duration::from_millis(2), || {
            *r.lock().expect("flag lock")
        });
        f.fetch_add(1, Ordering::SeqCst);
        1u64
    });
    net.add_server("s", Server::new([svc]));
    (net, released, finished)
}

#[test]
fn deleting_a_server_mid_call_fails_the_call_and_never_delivers_its_reply() {
    let (net, released, finished) = holding_net(21);
    let end = end_to(&net, "c", "s");
    let t = Instant::now();
    let call = thread::spawn(move || end.call::<_, u64>("S.Hold", &()));
    assert!(testkit::wait_for(
        Duration::from_secs(10),
        Duration::from_millis(2),
        || net.server_rpcs("s") == 1
    ));
    assert!(net.delete_server("s"));
    let result = call.join().expect("caller");
    assert_eq!(result, Err(RpcError::NoReply));
    assert!(
        t.elapsed() < Duration::from_secs(5),
        "failed after {:?}, expected ≈ 100 ms",
        t.elapsed()
    );
    assert_eq!(
        finished.load(Ordering::SeqCst),
        0,
        "the call gave up before the handler finished"
    );
    *released.lock().expect("flag lock") = true;
}

#[test]
fn a_reply_from_a_replaced_server_is_not_delivered_even_if_it_finishes() {
    let (net, released, finished) = holding_net(22);
    let end = end_to(&net, "c", "s");
    let call = thread::spawn(move || end.call::<_, u64>("S.Hold", &()));
    assert!(testkit::wait_for(
        Duration::from_secs(10),
        Duration::from_millis(2),
        || net.server_rpcs("s") == 1
    ));
    // Replace the server, then let the old handler finish at once: the reply
    // is checked against the new generation before it is handed back.
    net.add_server(
        "s",
        Server::new([Service::new("S").method("Hold", |_: ()| 2u64)]),
    );
    *released.lock().expect("flag lock") = true;
    assert_eq!(call.join().expect("caller"), Err(RpcError::NoReply));
    assert!(testkit::wait_for(
        Duration::from_secs(5),
        Duration::from_millis(2),
        || finished.load(Ordering::SeqCst) == 1
    ));
}

#[test]
fn cleanup_fails_pending_calls_promptly_and_leaves_no_threads() {
    let (net, released, _) = holding_net(23);
    net.set_long_delays(true);
    let held = end_to(&net, "c", "s");
    let stuck = net.make_end("unconnected");
    net.enable("unconnected", true);
    let t = Instant::now();
    let a = thread::spawn(move || held.call::<_, u64>("S.Hold", &()));
    let b = thread::spawn(move || {
        // Without cleanup this would wait up to 7 s before failing.
        (0..5)
            .map(|_| stuck.call::<_, u64>("S.Hold", &()))
            .collect::<Vec<_>>()
    });
    assert!(testkit::wait_for(
        Duration::from_secs(10),
        Duration::from_millis(2),
        || net.server_rpcs("s") == 1
    ));
    assert!(net.handler_threads() >= 1);
    net.cleanup();
    assert_eq!(a.join().expect("caller"), Err(RpcError::NetworkClosed));
    let b = b.join().expect("caller");
    assert!(b.iter().all(|r| r.is_err()), "{b:?}");
    assert!(
        t.elapsed() < Duration::from_secs(3),
        "pending calls took {:?} to fail",
        t.elapsed()
    );
    *released.lock().expect("flag lock") = true;
    assert!(
        testkit::wait_for(Duration::from_secs(10), Duration::from_millis(10), || net
            .handler_threads()
            == 0),
        "{} handler threads still alive after cleanup",
        net.handler_threads()
    );
}

#[test]
fn dropping_the_network_shuts_it_down() {
    let (net, _) = counter_net(24);
    let end = end_to(&net, "c", "s");
    let _: u64 = end.call("Count.Inc", &1u64).expect("alive");
    drop(net);
    assert_eq!(
        end.call::<_, u64>("Count.Inc", &1u64),
        Err(RpcError::NetworkClosed)
    );
}

#[test]
fn a_panicking_handler_fails_only_its_own_call() {
    let net = Network::with_seed(25);
    let svc = Service::new("S")
        .method("Boom", |_: ()| -> u64 { panic!("handler bug") })
        .method("Fine", |x: u64| x);
    net.add_server("s", Server::new([svc]));
    let end = end_to(&net, "c", "s");
    assert_eq!(end.call::<_, u64>("S.Boom", &()), Err(RpcError::NoReply));
    let r: u64 = end
        .call("S.Fine", &5u64)
        .expect("pool survives a handler panic");
    assert_eq!(r, 5);
}

fn panic_text(f: impl FnOnce()) -> String {
    let err = catch_unwind(AssertUnwindSafe(f)).expect_err("expected a panic");
    err.downcast_ref::<String>()
        .cloned()
        .or_else(|| err.downcast_ref::<&str>().map(|s| (*s).to_owned()))
        .unwrap_or_default()
}

#[test]
fn an_unknown_method_panics_naming_it_and_what_is_registered() {
    let (net, _) = counter_net(26);
    let end = end_to(&net, "c", "s");
    let text = panic_text(|| {
        let _ = end.call::<_, u64>("Count.Incr", &1u64);
    });
    assert!(text.contains("\"Count.Incr\""), "{text}");
    assert!(text.contains("Count.Echo, Count.Inc"), "{text}");
    let text = panic_text(|| {
        let _ = end.call::<_, u64>("NoDot", &1u64);
    });
    assert!(text.contains("\"Service.Method\""), "{text}");
}

#[test]
fn a_type_mismatch_panics_naming_both_sides_types() {
    let (net, executed) = counter_net(27);
    let end = end_to(&net, "c", "s");
    let text = panic_text(|| {
        let _ = end.call::<_, u64>("Count.Inc", &"one".to_string());
    });
    assert!(text.contains("alloc::string::String"), "{text}");
    assert!(text.contains("takes u64"), "{text}");
    assert_eq!(
        executed.load(Ordering::SeqCst),
        0,
        "the handler did not run on a mismatch"
    );
    let text = panic_text(|| {
        let _ = end.call::<_, String>("Count.Inc", &1u64);
    });
    assert!(text.contains("expects alloc::string::String"), "{text}");
    assert!(text.contains("returns u64"), "{text}");
}

#[test]
#[should_panic(expected = "already exists")]
fn a_duplicate_end_name_is_refused() {
    let net = Network::with_seed(28);
    let _a = net.make_end("x");
    let _b = net.make_end("x");
}
