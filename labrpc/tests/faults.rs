//! Fault semantics against MIT's numbers, checked statistically for fixed seeds.

mod common;

use common::{counter_net, end_to};
use labrpc::{Fault, Network, RpcError};
use labrt::sync::atomic::Ordering;
use labrt::thread;
use labrt::time::{Duration, Instant};

/// Runs `threads × per_thread` `Count.Inc` calls concurrently, one end per
/// thread, returning (successes, durations of successful calls).
fn hammer(net: &Network, threads: usize, per_thread: usize) -> (u64, Vec<Duration>) {
    let ends: Vec<_> = (0..threads)
        .map(|i| end_to(net, &format!("h{i}"), "s"))
        .collect();
    let mut ok = 0;
    let mut times = Vec::new();
    thread::scope(|s| {
        let handles: Vec<_> = ends
            .iter()
            .map(|end| {
                s.spawn(move || {
                    let mut ok = 0;
                    let mut times = Vec::new();
                    for _ in 0..per_thread {
                        let t = Instant::now();
                        if end.call::<_, u64>("Count.Inc", &1u64).is_ok() {
                            ok += 1;
                            times.push(t.elapsed());
                        }
                    }
                    (ok, times)
                })
            })
            .collect();
        for h in handles {
            let (o, t) = h.join().expect("caller thread");
            ok += o;
            times.extend(t);
        }
    });
    (ok, times)
}

#[test]
fn unreliable_network_drops_a_tenth_of_requests_and_a_tenth_of_replies() {
    let (net, executed) = counter_net(11);
    net.set_reliable(false);
    let calls = 4000u64;
    let (ok, times) = hammer(&net, 40, (calls / 40) as usize);
    let executed = executed.load(Ordering::SeqCst);
    let exec_rate = executed as f64 / calls as f64;
    let reply_loss = 1.0 - ok as f64 / executed as f64;
    // Expected: 90% executed; of those, 10% of replies lost (81% succeed).
    assert!(
        (0.87..=0.93).contains(&exec_rate),
        "executed {executed}/{calls} = {exec_rate:.3}, expected ≈ 0.90"
    );
    assert!(
        (0.07..=0.13).contains(&reply_loss),
        "reply loss {reply_loss:.3}, expected ≈ 0.10"
    );
    // Each successful call waited a uniform 0–26 ms first.
    let mean_ms = times.iter().map(|d| d.as_secs_f64() * 1e3).sum::<f64>() / times.len() as f64;
    assert!(
        (10.0..=25.0).contains(&mean_ms),
        "mean latency {mean_ms:.1} ms, expected ≈ 13 ms"
    );
    let short = times
        .iter()
        .filter(|d| **d < Duration::from_millis(4))
        .count();
    assert!(short > 0, "some calls draw a delay near 0 ms");
    let long = times
        .iter()
        .filter(|d| **d > Duration::from_millis(60))
        .count();
    assert!(
        (long as f64) < 0.02 * times.len() as f64,
        "{long} of {} calls took over 60 ms; delays are at most 26 ms",
        times.len()
    );
}

#[test]
fn the_same_seed_makes_the_same_fault_decisions() {
    let pattern = |seed: u64| -> Vec<bool> {
        let (net, _) = counter_net(seed);
        net.set_reliable(false);
        let end = end_to(&net, "c", "s");
        (0..150)
            .map(|_| end.call::<_, u64>("Count.Inc", &1u64).is_ok())
            .collect()
    };
    let a = pattern(99);
    assert_eq!(a, pattern(99), "same seed, same sequence of losses");
    assert_ne!(a, pattern(100), "another seed, another sequence");
}

#[test]
fn unreachable_servers_fail_fast_without_long_delays_and_within_7s_with_them() {
    let (net, executed) = counter_net(12);
    let ends: Vec<_> = (0..30)
        .map(|i| {
            let name = format!("d{i}");
            let e = net.make_end(&name);
            net.connect(&name, "s"); // connected but never enabled
            e
        })
        .collect();
    let time_all = |ends: &[labrpc::ClientEnd]| -> Vec<Duration> {
        thread::scope(|s| {
            let hs: Vec<_> = ends
                .iter()
                .map(|e| {
                    s.spawn(move || {
                        let t = Instant::now();
                        assert_eq!(e.call::<_, u64>("Count.Inc", &1u64), Err(RpcError::NoReply));
                        t.elapsed()
                    })
                })
                .collect();
            hs.into_iter().map(|h| h.join().expect("caller")).collect()
        })
    };
    let short = time_all(&ends);
    let max_short = short.iter().max().copied().unwrap_or_default();
    assert!(
        max_short < Duration::from_millis(600),
        "short failure delay is 0–99 ms, saw {max_short:?}"
    );

    net.set_long_delays(true);
    let long = time_all(&ends);
    let max_long = long.iter().max().copied().unwrap_or_default();
    assert!(
        max_long < Duration::from_millis(7600),
        "long failure delay is 0–6999 ms, saw {max_long:?}"
    );
    assert!(
        max_long > Duration::from_millis(1000),
        "30 draws from 0–7 s should include one over 1 s: {long:?}"
    );
    assert_eq!(
        executed.load(Ordering::SeqCst),
        0,
        "nothing reached the server"
    );
}

#[test]
fn long_reordering_holds_two_thirds_of_replies_for_200_to_2200_ms() {
    let (net, _) = counter_net(13);
    net.set_long_reordering(true);
    let (ok, times) = hammer(&net, 100, 3);
    assert_eq!(ok, 300, "reordering delays, it does not drop");
    let held: Vec<_> = times
        .iter()
        .filter(|d| **d >= Duration::from_millis(200))
        .collect();
    let frac = held.len() as f64 / times.len() as f64;
    assert!(
        (0.56..=0.77).contains(&frac),
        "held fraction {frac:.2}, expected ≈ 2/3"
    );
    let max = times.iter().max().copied().unwrap_or_default();
    assert!(
        max < Duration::from_millis(2700),
        "holds are at most 2200 ms, saw {max:?}"
    );
    // Skewed short: more holds under 1.2 s than over.
    let under = held
        .iter()
        .filter(|d| ***d < Duration::from_millis(1200))
        .count();
    assert!(
        under * 2 > held.len(),
        "{under} of {} holds under 1.2 s; the skew is towards short",
        held.len()
    );
}

#[test]
fn disable_and_enable_cut_and_restore_an_end() {
    let (net, executed) = counter_net(14);
    let end = end_to(&net, "c", "s");
    let _: u64 = end.call("Count.Inc", &1u64).expect("enabled");
    net.enable("c", false);
    assert_eq!(
        end.call::<_, u64>("Count.Inc", &1u64),
        Err(RpcError::NoReply)
    );
    assert_eq!(
        executed.load(Ordering::SeqCst),
        1,
        "a disabled end delivers nothing"
    );
    net.enable("c", true);
    let r: u64 = end.call("Count.Inc", &1u64).expect("enabled again");
    assert_eq!(r, 2);

    let loose = net.make_end("loose");
    net.enable("loose", true);
    assert_eq!(
        loose.call::<_, u64>("Count.Inc", &1u64),
        Err(RpcError::NoReply),
        "unconnected end"
    );
    assert!(net.delete_end("c"));
    assert_eq!(
        end.call::<_, u64>("Count.Inc", &1u64),
        Err(RpcError::NoReply),
        "deleted end"
    );
    assert_eq!(executed.load(Ordering::SeqCst), 2);
}

#[test]
fn drop_request_fault_skips_the_handler_on_its_method_only() {
    let (net, executed) = counter_net(15);
    let end = end_to(&net, "c", "s");
    let id = net.add_fault(Fault::drop_request().on_method("Count.Inc"));
    assert_eq!(
        end.call::<_, u64>("Count.Inc", &1u64),
        Err(RpcError::NoReply)
    );
    assert_eq!(
        executed.load(Ordering::SeqCst),
        0,
        "request was lost before the handler"
    );
    let v: Vec<u8> = end
        .call("Count.Echo", &vec![1u8])
        .expect("other method unaffected");
    assert_eq!(v, vec![1]);
    assert!(net.remove_fault(id));
    let _: u64 = end.call("Count.Inc", &1u64).expect("fault removed");
}

#[test]
fn drop_reply_fault_runs_the_handler_but_fails_the_call() {
    let (net, executed) = counter_net(16);
    let victim = end_to(&net, "victim", "s");
    let other = end_to(&net, "other", "s");
    net.add_fault(Fault::drop_reply().on_end("victim"));
    assert_eq!(
        victim.call::<_, u64>("Count.Inc", &1u64),
        Err(RpcError::NoReply)
    );
    assert_eq!(executed.load(Ordering::SeqCst), 1, "the handler ran");
    let r: u64 = other
        .call("Count.Inc", &1u64)
        .expect("other end unaffected");
    assert_eq!(r, 2);
    net.clear_faults();
    let r: u64 = victim.call("Count.Inc", &1u64).expect("cleared");
    assert_eq!(r, 3);
}

#[test]
fn delay_fault_holds_matching_calls() {
    let (net, _) = counter_net(17);
    let end = end_to(&net, "c", "s");
    net.add_fault(Fault::delay(Duration::from_millis(300)).on_method("Count.Inc"));
    let t = Instant::now();
    let _: u64 = end.call("Count.Inc", &1u64).expect("delayed, not lost");
    assert!(
        t.elapsed() >= Duration::from_millis(300),
        "took {:?}",
        t.elapsed()
    );
}

#[test]
fn fault_probability_applies_to_about_that_share_of_calls() {
    let (net, executed) = counter_net(18);
    let end = end_to(&net, "c", "s");
    net.add_fault(Fault::drop_request().with_probability(0.25));
    let ok = (0..2000)
        .filter(|_| end.call::<_, u64>("Count.Inc", &1u64).is_ok())
        .count();
    assert!(
        (1400..=1600).contains(&ok),
        "{ok}/2000 got through, expected ≈ 1500"
    );
    assert_eq!(executed.load(Ordering::SeqCst), ok as u64);
}
