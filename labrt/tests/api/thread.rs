use labrt::sync::Arc;
use labrt::sync::atomic::{AtomicUsize, Ordering};
use labrt::thread::{self, Builder};
use labrt::time::{Duration, Instant};

#[test]
fn spawned_threads_join_with_their_values() {
    let handles: Vec<_> = (0..8u64).map(|i| thread::spawn(move || i * i)).collect();
    let values: Vec<u64> = handles.into_iter().map(|h| h.join().unwrap()).collect();
    assert_eq!(values, [0, 1, 4, 9, 16, 25, 36, 49]);
}

#[test]
fn a_panicking_thread_joins_with_its_payload() {
    let h = thread::spawn(|| -> u32 { panic!("boom") });
    let payload = h.join().expect_err("the thread panicked");
    assert_eq!(payload.downcast_ref::<&str>(), Some(&"boom"));
}

#[test]
fn builder_names_the_thread() {
    let h = Builder::new()
        .name("worker-7".to_owned())
        .stack_size(256 * 1024)
        .spawn(|| thread::current().name().map(str::to_owned))
        .unwrap();
    assert_eq!(h.name(), Some("worker-7"));
    assert_eq!(h.join().unwrap().as_deref(), Some("worker-7"));
    let unnamed = thread::spawn(|| thread::current().name().map(str::to_owned));
    assert_eq!(unnamed.join().unwrap(), None);
}

#[test]
fn thread_ids_differ_between_threads() {
    let here = thread::current().id();
    let h = thread::spawn(|| thread::current().id());
    let there_seen_by_handle = h.id();
    let there = h.join().unwrap();
    assert_eq!(there, there_seen_by_handle);
    assert_ne!(here, there);
}

#[test]
fn scoped_threads_borrow_and_are_all_joined() {
    let mut data = vec![1u64, 2, 3, 4];
    let total = AtomicUsize::new(0);
    let doubled = thread::scope(|s| {
        for x in &data {
            let total = &total;
            s.spawn(move || total.fetch_add(*x as usize, Ordering::SeqCst));
        }
        let h = s.spawn(|| data.iter().map(|x| x * 2).collect::<Vec<_>>());
        h.join().unwrap()
    });
    assert_eq!(
        total.load(Ordering::SeqCst),
        10,
        "every scoped thread ran before scope returned"
    );
    assert_eq!(doubled, [2, 4, 6, 8]);
    data.push(5); // the borrows have ended
    assert_eq!(data.len(), 5);
}

#[test]
fn builder_spawns_scoped_threads() {
    let name = thread::scope(|s| {
        Builder::new()
            .name("scoped".into())
            .spawn_scoped(s, || thread::current().name().map(str::to_owned))
            .unwrap()
            .join()
            .unwrap()
    });
    assert_eq!(name.as_deref(), Some("scoped"));
}

#[test]
fn sleep_lasts_at_least_its_duration() {
    let d = Duration::from_millis(30);
    let start = Instant::now();
    thread::sleep(d);
    assert!(start.elapsed() >= d);
}

#[test]
fn is_finished_turns_true_once_the_thread_ends() {
    let go = Arc::new(labrt::sync::atomic::AtomicBool::new(false));
    let go2 = Arc::clone(&go);
    let h = thread::spawn(move || {
        while !go2.load(Ordering::Acquire) {
            thread::yield_now();
        }
    });
    assert!(!h.is_finished(), "the thread is still waiting for go");
    go.store(true, Ordering::Release);
    let deadline = Instant::now() + super::PATIENCE;
    while !h.is_finished() {
        assert!(Instant::now() < deadline, "thread did not finish");
        thread::sleep(Duration::from_millis(1));
    }
    h.join().unwrap();
}

#[test]
fn mode_is_real() {
    assert_eq!(labrt::mode(), labrt::Mode::Real);
    assert!(thread::available_parallelism().unwrap().get() >= 1);
    assert!(!thread::panicking());
}
