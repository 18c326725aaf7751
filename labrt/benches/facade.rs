//! The facade's cost in the real mode: each labrt call beside the std or
//! crossbeam-channel call it stands for, on one thread (no contention), so
//! that only the wrapper's overhead differs.
//!
//! Run with `cargo bench -p labrt`. Figures and ratios are in labrt's README.

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};

fn mutex(c: &mut Criterion) {
    let mut g = c.benchmark_group("mutex_lock_unlock");
    let m = std::sync::Mutex::new(0u64);
    g.bench_function("std", |b| b.iter(|| *black_box(&m).lock().unwrap() += 1));
    let m = labrt::sync::Mutex::new(0u64);
    g.bench_function("labrt", |b| b.iter(|| *black_box(&m).lock().unwrap() += 1));
    g.finish();
}

fn condvar(c: &mut Criterion) {
    // notify_one with no waiter: the cost a server pays on every state change.
    let mut g = c.benchmark_group("condvar_notify_one");
    let cv = std::sync::Condvar::new();
    g.bench_function("std", |b| b.iter(|| black_box(&cv).notify_one()));
    let cv = labrt::sync::Condvar::new();
    g.bench_function("labrt", |b| b.iter(|| black_box(&cv).notify_one()));
    g.finish();
}

fn atomic(c: &mut Criterion) {
    let mut g = c.benchmark_group("atomic_fetch_add");
    let a = std::sync::atomic::AtomicU64::new(0);
    g.bench_function("std", |b| {
        b.iter(|| black_box(&a).fetch_add(1, std::sync::atomic::Ordering::SeqCst))
    });
    let a = labrt::sync::atomic::AtomicU64::new(0);
    g.bench_function("labrt", |b| {
        b.iter(|| black_box(&a).fetch_add(1, labrt::sync::atomic::Ordering::SeqCst))
    });
    g.finish();
}

fn channel_unbounded(c: &mut Criterion) {
    let mut g = c.benchmark_group("unbounded_send_recv");
    let (tx, rx) = crossbeam_channel::unbounded::<u64>();
    g.bench_function("crossbeam", |b| {
        b.iter(|| {
            tx.send(black_box(7)).unwrap();
            rx.recv().unwrap()
        })
    });
    let (tx, rx) = labrt::channel::unbounded::<u64>();
    g.bench_function("labrt", |b| {
        b.iter(|| {
            tx.send(black_box(7)).unwrap();
            rx.recv().unwrap()
        })
    });
    g.finish();
}

fn channel_bounded(c: &mut Criterion) {
    let mut g = c.benchmark_group("bounded1_send_recv");
    let (tx, rx) = crossbeam_channel::bounded::<u64>(1);
    g.bench_function("crossbeam", |b| {
        b.iter(|| {
            tx.send(black_box(7)).unwrap();
            rx.recv().unwrap()
        })
    });
    let (tx, rx) = labrt::channel::bounded::<u64>(1);
    g.bench_function("labrt", |b| {
        b.iter(|| {
            tx.send(black_box(7)).unwrap();
            rx.recv().unwrap()
        })
    });
    g.finish();
}

fn select(c: &mut Criterion) {
    // Two receivers, the second ready: the macro's rewriting must cost nothing.
    let mut g = c.benchmark_group("select2_send_recv");
    let (_tx1, rx1) = crossbeam_channel::unbounded::<u64>();
    let (tx2, rx2) = crossbeam_channel::unbounded::<u64>();
    g.bench_function("crossbeam", |b| {
        b.iter(|| {
            tx2.send(black_box(7)).unwrap();
            crossbeam_channel::select! {
                recv(rx1) -> m => m.unwrap(),
                recv(rx2) -> m => m.unwrap(),
            }
        })
    });
    let (_tx1, rx1) = labrt::channel::unbounded::<u64>();
    let (tx2, rx2) = labrt::channel::unbounded::<u64>();
    g.bench_function("labrt", |b| {
        b.iter(|| {
            tx2.send(black_box(7)).unwrap();
            labrt::select! {
                recv(rx1) -> m => m.unwrap(),
                recv(rx2) -> m => m.unwrap(),
            }
        })
    });
    g.finish();
}

fn instant(c: &mut Criterion) {
    let mut g = c.benchmark_group("instant_now");
    g.bench_function("std", |b| b.iter(std::time::Instant::now));
    g.bench_function("labrt", |b| b.iter(labrt::time::Instant::now));
    g.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3));
    targets = mutex, condvar, atomic, channel_unbounded, channel_bounded, select, instant
}
criterion_main!(benches);
