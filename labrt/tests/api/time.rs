use labrt::thread;
use labrt::time::{Duration, Instant};

#[test]
fn instant_never_goes_backwards() {
    let mut last = Instant::now();
    for _ in 0..10_000 {
        let now = Instant::now();
        assert!(now >= last, "{now:?} < {last:?}");
        last = now;
    }
}

#[test]
fn instants_are_ordered_across_threads() {
    let before = Instant::now();
    let inside = thread::spawn(Instant::now).join().unwrap();
    let after = Instant::now();
    assert!(before <= inside && inside <= after);
}

#[test]
fn elapsed_covers_a_sleep() {
    let start = Instant::now();
    labrt::time::sleep(Duration::from_millis(20));
    let e = start.elapsed();
    assert!(e >= Duration::from_millis(20), "elapsed {e:?}");
    assert!(Instant::now().duration_since(start) >= e);
}

#[test]
fn instant_arithmetic_round_trips() {
    let t = Instant::now();
    let d = Duration::from_millis(1500);
    let later = t + d;
    assert_eq!(later - t, d);
    assert_eq!(later.duration_since(t), d);
    assert_eq!(later - d, t);
    assert_eq!(t.checked_duration_since(later), None);
    assert_eq!(t.saturating_duration_since(later), Duration::ZERO);
    assert_eq!(t.duration_since(later), Duration::ZERO);
    assert_eq!(t.checked_add(d), Some(later));
    assert_eq!(later.checked_sub(d), Some(t));
    assert!(t.checked_add(Duration::MAX).is_none());
    let mut u = t;
    u += d;
    assert_eq!(u, later);
    u -= d;
    assert_eq!(u, t);
    assert!(later > t);
}
