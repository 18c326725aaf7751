//! `labrt::select!` in each of crossbeam's syntaxes, on labrt's channels.

use labrt::channel::{self, Receiver, RecvError, SendError};
use labrt::thread;
use labrt::time::{Duration, Instant};

use super::PATIENCE;

#[test]
fn select_picks_the_ready_channel() {
    for _ in 0..200 {
        let (tx1, rx1) = channel::unbounded::<u32>();
        let (tx2, rx2) = channel::unbounded::<u32>();
        tx2.send(2).unwrap();
        let picked = labrt::select! {
            recv(rx1) -> m => (1, m),
            recv(rx2) -> m => (2, m),
        };
        assert_eq!(picked, (2, Ok(2)));
        drop(tx1);
    }
}

#[test]
fn select_wakes_when_a_channel_becomes_ready() {
    let (_tx1, rx1) = channel::unbounded::<u32>();
    let (tx2, rx2) = channel::unbounded::<u32>();
    let h = thread::spawn(move || {
        thread::sleep(Duration::from_millis(20));
        tx2.send(5).unwrap();
    });
    let got = labrt::select! {
        recv(rx1) -> _ => panic!("nothing is sent on rx1"),
        recv(rx2) -> m => m.unwrap(),
        default(PATIENCE) => panic!("rx2's message was lost"),
    };
    assert_eq!(got, 5);
    h.join().unwrap();
}

#[test]
fn select_default_runs_when_nothing_is_ready() {
    let (_tx, rx) = channel::unbounded::<u32>();
    let ran_default = labrt::select! {
        recv(rx) -> _ => false,
        default => true,
    };
    assert!(ran_default);
}

#[test]
fn select_default_timeout_waits_then_gives_up() {
    let (_tx, rx) = channel::unbounded::<u32>();
    let d = Duration::from_millis(40);
    let start = Instant::now();
    let timed_out = labrt::select! {
        recv(rx) -> _ => false,
        default(d) => true,
    };
    assert!(timed_out);
    assert!(start.elapsed() >= d, "gave up after {:?}", start.elapsed());
}

#[test]
fn select_reports_disconnection_as_ready() {
    let (tx, rx) = channel::unbounded::<u32>();
    drop(tx);
    let r = labrt::select! {
        recv(rx) -> m => m,
        default(PATIENCE) => panic!("a disconnected channel is ready at once"),
    };
    assert_eq!(r, Err(RecvError));
}

#[test]
fn select_sends() {
    let (tx_full, _rx_full) = channel::bounded::<u32>(0);
    let (tx, rx) = channel::bounded::<u32>(1);
    let which = labrt::select! {
        send(tx_full, 1) -> _ => "full",
        send(tx, 2) -> r => { r.unwrap(); "room" }
    };
    assert_eq!(which, "room");
    assert_eq!(rx.try_recv(), Ok(2));
    drop(rx);
    let r = labrt::select! {
        send(&tx, 3,) -> r => r,
    };
    assert_eq!(r, Err(SendError(3)));
}

#[test]
fn select_accepts_references_blocks_and_expressions() {
    let (tx, rx) = channel::unbounded::<u32>();
    let holder = [rx];
    tx.send(1).unwrap();
    tx.send(2).unwrap();
    tx.send(3).unwrap();
    // By reference, and from an indexing expression; block bodies without commas.
    let a = labrt::select! {
        recv(&holder[0]) -> m => { m.unwrap() }
        default => { 0 }
    };
    let maybe: Option<&Receiver<u32>> = std::hint::black_box(None);
    let never = channel::never();
    let b = labrt::select! {
        recv(maybe.unwrap_or(&never)) -> _ => 100,
        recv(holder[0]) -> m => m.unwrap() * 10,
    };
    let c = labrt::select_biased! {
        recv(holder[0]) -> m => m.unwrap(),
        default(Duration::from_secs(1)) => 0,
    };
    assert_eq!((a, b, c), (1, 20, 3));
}

#[test]
fn select_biased_prefers_the_first_ready_case() {
    for _ in 0..100 {
        let (tx1, rx1) = channel::unbounded::<u32>();
        let (tx2, rx2) = channel::unbounded::<u32>();
        tx1.send(1).unwrap();
        tx2.send(2).unwrap();
        let got = labrt::select_biased! {
            recv(rx1) -> m => m.unwrap(),
            recv(rx2) -> m => m.unwrap(),
        };
        assert_eq!(got, 1);
    }
}

#[test]
fn select_in_a_loop_drains_two_channels() {
    let (tx1, rx1) = channel::unbounded::<u32>();
    let (tx2, rx2) = channel::unbounded::<u32>();
    let h = thread::spawn(move || {
        for i in 0..100 {
            if i % 2 == 0 {
                tx1.send(i).unwrap()
            } else {
                tx2.send(i).unwrap()
            }
        }
    });
    let (mut evens, mut odds) = (0, 0);
    let (mut open1, mut open2) = (true, true);
    let never = channel::never();
    while open1 || open2 {
        labrt::select! {
            recv(if open1 { &rx1 } else { &never }) -> m => match m {
                Ok(v) => { assert_eq!(v % 2, 0); evens += 1 }
                Err(_) => open1 = false,
            },
            recv(if open2 { &rx2 } else { &never }) -> m => match m {
                Ok(v) => { assert_eq!(v % 2, 1); odds += 1 }
                Err(_) => open2 = false,
            },
            default(PATIENCE) => panic!("messages lost"),
        }
    }
    h.join().unwrap();
    assert_eq!((evens, odds), (50, 50));
}
