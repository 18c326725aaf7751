//! labrpc speed: one caller's round trip, and throughput with 8 callers.
//!
//! Run with `cargo bench -p labrpc`. Figures are in labrpc's README.

// Stays on std: the benchmark times itself on the real clock, whatever labrt's mode.
use std::time::Instant;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use labrpc::{ClientEnd, Network, Server, Service};
use labrt::sync::Arc;
use labrt::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use labrt::thread;
use labrt::time::Duration;

fn echo_network() -> (Network, Vec<ClientEnd>) {
    let net = Network::with_seed(1);
    let svc = Service::new("Bench").method("Echo", |x: u64| x);
    net.add_server("s", Server::new([svc]));
    let ends = (0..8)
        .map(|i| {
            let name = format!("c{i}");
            let end = net.make_end(name.clone());
            net.connect(&name, "s");
            net.enable(&name, true);
            end
        })
        .collect();
    (net, ends)
}

fn sequential(c: &mut Criterion) {
    let (_net, ends) = echo_network();
    let end = &ends[0];
    let mut group = c.benchmark_group("labrpc");
    group.throughput(Throughput::Elements(1));
    group.bench_function("sequential_call", |b| {
        b.iter(|| {
            let r: u64 = end.call("Bench.Echo", &7u64).expect("reliable call");
            r
        })
    });
    group.finish();
}

/// Calls per second with 8 threads calling as fast as they can.
fn concurrent(c: &mut Criterion) {
    let mut group = c.benchmark_group("labrpc");
    group.sample_size(10);
    group.throughput(Throughput::Elements(8 * 20_000));
    group.bench_function("8_callers_x_20000_calls", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                let (_net, ends) = echo_network();
                let start = Instant::now();
                thread::scope(|s| {
                    for end in &ends {
                        s.spawn(move || {
                            for i in 0..20_000u64 {
                                let r: u64 = end.call("Bench.Echo", &i).expect("reliable call");
                                assert_eq!(r, i);
                            }
                        });
                    }
                });
                total += start.elapsed();
            }
            total
        })
    });
    group.finish();
    // Also print a plain calls/s figure for the README.
    let (_net, ends) = echo_network();
    let stop = Arc::new(AtomicBool::new(false));
    let count = Arc::new(AtomicU64::new(0));
    let start = Instant::now();
    thread::scope(|s| {
        for end in &ends {
            let stop = Arc::clone(&stop);
            let count = Arc::clone(&count);
            s.spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    let _: u64 = end.call("Bench.Echo", &1u64).expect("reliable call");
                    count.fetch_add(1, Ordering::Relaxed);
                }
            });
        }
        thread::sleep(Duration::from_secs(3));
        stop.store(true, Ordering::Relaxed);
    });
    let secs = start.elapsed().as_secs_f64();
    println!(
        "labrpc/8_callers: {:.0} calls/s over {secs:.1} s",
        count.load(Ordering::Relaxed) as f64 / secs
    );
}

criterion_group!(benches, sequential, concurrent);
criterion_main!(benches);
