use labrt::channel::{
    self, RecvError, RecvTimeoutError, SendError, SendTimeoutError, TryRecvError, TrySendError,
};
use labrt::sync::Arc;
use labrt::sync::atomic::{AtomicBool, Ordering};
use labrt::thread;
use labrt::time::{Duration, Instant};

use super::PATIENCE;

#[test]
fn messages_arrive_in_order_across_threads() {
    let (tx, rx) = channel::unbounded();
    let h = thread::spawn(move || {
        for i in 0..1000u32 {
            tx.send(i).unwrap();
        }
    });
    let got: Vec<u32> = rx.iter().collect();
    h.join().unwrap();
    assert_eq!(got, (0..1000).collect::<Vec<_>>());
}

#[test]
fn bounded_send_blocks_until_there_is_room() {
    let (tx, rx) = channel::bounded(1);
    tx.send(1).unwrap();
    assert!(tx.is_full());
    assert_eq!(tx.try_send(2), Err(TrySendError::Full(2)));
    let sent = Arc::new(AtomicBool::new(false));
    let sent2 = Arc::clone(&sent);
    let h = thread::spawn(move || {
        tx.send(2).unwrap(); // blocks: the channel is full
        sent2.store(true, Ordering::SeqCst);
    });
    thread::sleep(Duration::from_millis(50));
    assert!(
        !sent.load(Ordering::SeqCst),
        "send into a full channel returned before anything was received"
    );
    assert_eq!(rx.recv(), Ok(1));
    assert_eq!(rx.recv_timeout(PATIENCE), Ok(2));
    h.join().unwrap();
    assert!(sent.load(Ordering::SeqCst));
}

#[test]
fn zero_capacity_is_a_rendezvous() {
    let (tx, rx) = channel::bounded::<u8>(0);
    assert_eq!(tx.capacity(), Some(0));
    assert_eq!(
        tx.try_send(1),
        Err(TrySendError::Full(1)),
        "no receiver waiting"
    );
    let h = thread::spawn(move || rx.recv_timeout(PATIENCE));
    tx.send_timeout(9, PATIENCE).unwrap();
    assert_eq!(h.join().unwrap(), Ok(9));
}

#[test]
fn recv_timeout_times_out_on_an_empty_channel() {
    let (_tx, rx) = channel::unbounded::<u8>();
    let d = Duration::from_millis(50);
    let start = Instant::now();
    assert_eq!(rx.recv_timeout(d), Err(RecvTimeoutError::Timeout));
    assert!(start.elapsed() >= d, "returned after {:?}", start.elapsed());
    let deadline = Instant::now() + d;
    assert_eq!(rx.recv_deadline(deadline), Err(RecvTimeoutError::Timeout));
    assert!(Instant::now() >= deadline);
    assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
}

#[test]
fn send_timeout_times_out_on_a_full_channel() {
    let (tx, _rx) = channel::bounded(1);
    tx.send(1u8).unwrap();
    let start = Instant::now();
    assert_eq!(
        tx.send_timeout(2, Duration::from_millis(30)),
        Err(SendTimeoutError::Timeout(2))
    );
    assert!(start.elapsed() >= Duration::from_millis(30));
    assert_eq!(
        tx.send_deadline(3, Instant::now() + Duration::from_millis(5)),
        Err(SendTimeoutError::Timeout(3))
    );
}

#[test]
fn receivers_see_disconnection_after_draining() {
    let (tx, rx) = channel::unbounded();
    let tx2 = tx.clone();
    tx.send(1).unwrap();
    tx2.send(2).unwrap();
    drop(tx);
    assert_eq!(rx.recv(), Ok(1), "one sender left: still connected");
    drop(tx2);
    assert_eq!(rx.recv(), Ok(2), "queued messages outlive the senders");
    assert_eq!(rx.recv(), Err(RecvError));
    assert_eq!(rx.try_recv(), Err(TryRecvError::Disconnected));
    assert_eq!(
        rx.recv_timeout(Duration::from_secs(5)),
        Err(RecvTimeoutError::Disconnected)
    );
}

#[test]
fn a_blocked_receiver_wakes_on_disconnection() {
    let (tx, rx) = channel::unbounded::<u8>();
    let h = thread::spawn(move || rx.recv_timeout(PATIENCE));
    thread::sleep(Duration::from_millis(20));
    drop(tx);
    assert_eq!(h.join().unwrap(), Err(RecvTimeoutError::Disconnected));
}

#[test]
fn senders_see_disconnection_and_get_the_message_back() {
    let (tx, rx) = channel::bounded(4);
    drop(rx);
    assert_eq!(tx.send("kept"), Err(SendError("kept")));
    assert_eq!(tx.try_send("kept"), Err(TrySendError::Disconnected("kept")));
    assert_eq!(
        tx.send_timeout("kept", Duration::from_secs(5)),
        Err(SendTimeoutError::Disconnected("kept"))
    );
}

#[test]
fn cloned_receivers_share_the_messages() {
    let (tx, rx) = channel::unbounded();
    let rx2 = rx.clone();
    assert!(rx.same_channel(&rx2));
    for i in 0..10 {
        tx.send(i).unwrap();
    }
    drop(tx);
    let a: Vec<i32> = rx.try_iter().take(4).collect();
    let b: Vec<i32> = rx2.into_iter().collect();
    assert_eq!(a, [0, 1, 2, 3]);
    assert_eq!(b, [4, 5, 6, 7, 8, 9]);
}

#[test]
fn lengths_and_capacities_are_reported() {
    let (tx, rx) = channel::bounded(3);
    assert!(rx.is_empty() && tx.is_empty());
    tx.send(()).unwrap();
    tx.send(()).unwrap();
    assert_eq!((tx.len(), rx.len()), (2, 2));
    assert_eq!(rx.capacity(), Some(3));
    let (utx, urx) = channel::unbounded::<()>();
    assert_eq!(urx.capacity(), None);
    assert!(!utx.is_full());
    let other = channel::unbounded::<()>().0;
    assert!(!utx.same_channel(&other));
    assert_eq!(format!("{tx:?} {rx:?}"), "Sender { .. } Receiver { .. }");
}

#[test]
fn never_never_delivers() {
    let rx = channel::never::<u8>();
    assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
    assert_eq!(
        rx.recv_timeout(Duration::from_millis(5)),
        Err(RecvTimeoutError::Timeout)
    );
}
