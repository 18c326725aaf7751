use labrt::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, AtomicUsize, Ordering};
use labrt::sync::{Arc, Condvar, Mutex, PoisonError, RwLock, TryLockError};
use labrt::thread;
use labrt::time::{Duration, Instant};

use super::PATIENCE;

#[test]
fn mutex_serializes_increments() {
    let m = Arc::new(Mutex::new(0u64));
    let hs: Vec<_> = (0..4)
        .map(|_| {
            let m = Arc::clone(&m);
            thread::spawn(move || {
                for _ in 0..10_000 {
                    *m.lock().unwrap() += 1;
                }
            })
        })
        .collect();
    for h in hs {
        h.join().unwrap();
    }
    assert_eq!(*m.lock().unwrap(), 40_000);
    let m = Arc::try_unwrap(m).unwrap();
    assert_eq!(m.into_inner().unwrap(), 40_000);
}

#[test]
fn try_lock_would_block_while_held() {
    let m = Mutex::new(1);
    let g = m.lock().unwrap();
    assert!(matches!(m.try_lock(), Err(TryLockError::WouldBlock)));
    drop(g);
    assert_eq!(*m.try_lock().unwrap(), 1);
}

#[test]
fn a_panic_while_locked_poisons_the_mutex() {
    let m = Arc::new(Mutex::new(5));
    let m2 = Arc::clone(&m);
    let r = thread::spawn(move || {
        let _g = m2.lock().unwrap();
        panic!("poison it");
    })
    .join();
    assert!(r.is_err());
    assert!(m.is_poisoned());
    let err = m.lock().expect_err("poisoned");
    assert_eq!(*err.into_inner(), 5, "the guard is inside the error");
    assert_eq!(*m.lock().unwrap_or_else(PoisonError::into_inner), 5);
    m.clear_poison();
    assert!(!m.is_poisoned());
    assert_eq!(*m.lock().unwrap(), 5);
}

#[test]
fn condvar_hands_off_between_threads() {
    // A ping-pong of 100 turns: each side waits for its turn, flips it, notifies.
    let pair = Arc::new((Mutex::new(0u32), Condvar::new()));
    let pair2 = Arc::clone(&pair);
    let other = thread::spawn(move || {
        let (lock, cv) = &*pair2;
        for turn in (1..200).step_by(2) {
            let mut g = cv.wait_while(lock.lock().unwrap(), |n| *n != turn).unwrap();
            *g += 1;
            cv.notify_all();
        }
    });
    let (lock, cv) = &*pair;
    for turn in (0..200).step_by(2) {
        let mut g = lock.lock().unwrap();
        while *g != turn {
            g = cv.wait(g).unwrap();
        }
        *g += 1;
        cv.notify_all();
    }
    other.join().unwrap();
    assert_eq!(*lock.lock().unwrap(), 200);
}

#[test]
fn wait_timeout_times_out_when_nobody_notifies() {
    let m = Mutex::new(false);
    let cv = Condvar::new();
    let d = Duration::from_millis(50);
    let start = Instant::now();
    let (g, r) = cv.wait_timeout(m.lock().unwrap(), d).unwrap();
    assert!(r.timed_out());
    assert!(!*g);
    assert!(start.elapsed() >= d, "returned after {:?}", start.elapsed());
    drop(g);
    let (g, r) = cv
        .wait_timeout_while(m.lock().unwrap(), d, |ready| !*ready)
        .unwrap();
    assert!(r.timed_out());
    assert!(!*g);
}

#[test]
fn wait_timeout_returns_early_when_notified() {
    let pair = Arc::new((Mutex::new(false), Condvar::new()));
    let pair2 = Arc::clone(&pair);
    let notifier = thread::spawn(move || {
        thread::sleep(Duration::from_millis(10));
        let (lock, cv) = &*pair2;
        *lock.lock().unwrap() = true;
        cv.notify_one();
    });
    let (lock, cv) = &*pair;
    let start = Instant::now();
    let (g, r) = cv
        .wait_timeout_while(lock.lock().unwrap(), PATIENCE, |ready| !*ready)
        .unwrap();
    assert!(*g, "the flag was set");
    assert!(!r.timed_out());
    assert!(start.elapsed() < PATIENCE);
    drop(g);
    notifier.join().unwrap();
}

#[test]
fn rwlock_allows_many_readers_and_one_writer() {
    let l = RwLock::new(vec![1]);
    {
        let r1 = l.read().unwrap();
        let r2 = l.try_read().expect("readers share");
        assert_eq!(r1.len() + r2.len(), 2);
        assert!(matches!(l.try_write(), Err(TryLockError::WouldBlock)));
    }
    {
        let mut w = l.write().unwrap();
        w.push(2);
        assert!(matches!(l.try_read(), Err(TryLockError::WouldBlock)));
    }
    assert_eq!(*l.read().unwrap(), [1, 2]);
    let l = Arc::new(l);
    let hs: Vec<_> = (0..4)
        .map(|i| {
            let l = Arc::clone(&l);
            thread::spawn(move || l.write().unwrap().push(10 + i))
        })
        .collect();
    for h in hs {
        h.join().unwrap();
    }
    let mut v = Arc::try_unwrap(l).unwrap().into_inner().unwrap();
    v.sort();
    assert_eq!(v, [1, 2, 10, 11, 12, 13]);
}

#[test]
fn statics_can_hold_locks_and_atomics() {
    static COUNT: AtomicUsize = AtomicUsize::new(0);
    static LOG: Mutex<Vec<u32>> = Mutex::new(Vec::new());
    static CV: Condvar = Condvar::new();
    static TABLE: RwLock<u32> = RwLock::new(3);
    COUNT.fetch_add(2, Ordering::SeqCst);
    LOG.lock().unwrap().push(1);
    CV.notify_all();
    assert_eq!(COUNT.load(Ordering::SeqCst), 2);
    assert_eq!(*LOG.lock().unwrap(), [1]);
    assert_eq!(*TABLE.read().unwrap(), 3);
}

#[test]
fn atomics_count_across_threads() {
    let n = Arc::new(AtomicU64::new(0));
    let hs: Vec<_> = (0..4)
        .map(|_| {
            let n = Arc::clone(&n);
            thread::spawn(move || {
                for _ in 0..10_000 {
                    n.fetch_add(1, Ordering::Relaxed);
                }
            })
        })
        .collect();
    for h in hs {
        h.join().unwrap();
    }
    assert_eq!(n.load(Ordering::SeqCst), 40_000);

    let x = AtomicI64::new(-5);
    assert_eq!(x.fetch_max(3, Ordering::SeqCst), -5);
    assert_eq!(x.fetch_min(-1, Ordering::SeqCst), 3);
    assert_eq!(
        x.compare_exchange(-1, 9, Ordering::SeqCst, Ordering::SeqCst),
        Ok(-1)
    );
    assert_eq!(
        x.compare_exchange(-1, 0, Ordering::SeqCst, Ordering::SeqCst),
        Err(9)
    );
    assert_eq!(x.swap(4, Ordering::SeqCst), 9);
    assert_eq!(
        x.fetch_update(Ordering::SeqCst, Ordering::SeqCst, |v| Some(v * 10)),
        Ok(4)
    );
    assert_eq!(x.into_inner(), 40);

    let b = AtomicBool::new(false);
    assert!(!b.fetch_or(true, Ordering::SeqCst));
    assert!(b.fetch_not(Ordering::SeqCst));
    assert!(!b.load(Ordering::SeqCst));
}
