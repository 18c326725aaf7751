//! The persister's crash-model semantics.

use labrpc::Persister;
use labrt::sync::Arc;
use labrt::thread;

#[test]
fn save_stores_both_and_reads_return_copies() {
    let p = Persister::new();
    assert_eq!(p.read_raft_state(), Vec::<u8>::new());
    p.save(b"state-1", Some(b"snap-1"));
    assert_eq!(p.read_raft_state(), b"state-1");
    assert_eq!(p.read_snapshot(), b"snap-1");
    assert_eq!((p.raft_state_size(), p.snapshot_size()), (7, 6));
    let mut out = p.read_raft_state();
    out[0] = b'X';
    assert_eq!(
        p.read_raft_state(),
        b"state-1",
        "mutating a read does not change what was saved"
    );
}

#[test]
fn saving_without_a_snapshot_keeps_the_old_one() {
    let p = Persister::new();
    p.save(b"a", Some(b"snap"));
    p.save(b"bb", None);
    assert_eq!(p.read_raft_state(), b"bb");
    assert_eq!(p.read_snapshot(), b"snap");
}

#[test]
fn a_copy_is_independent_so_a_zombie_cannot_write_into_the_restarted_peer() {
    let old = Persister::new();
    old.save(b"before-crash", Some(b"s1"));
    let new = old.copy();
    old.save(b"zombie-write", Some(b"zombie-snap"));
    assert_eq!(new.read_raft_state(), b"before-crash");
    assert_eq!(new.read_snapshot(), b"s1");
    new.save(b"restarted", None);
    assert_eq!(old.read_raft_state(), b"zombie-write");
}

#[test]
fn concurrent_saves_are_atomic_pairs() {
    let p = Arc::new(Persister::new());
    thread::scope(|s| {
        for t in 0..4u8 {
            let p = Arc::clone(&p);
            s.spawn(move || {
                for i in 0..2000u32 {
                    let tag = [t, (i % 251) as u8];
                    p.save(&tag, Some(&tag));
                }
            });
        }
        let p = Arc::clone(&p);
        s.spawn(move || {
            for _ in 0..2000 {
                let copy = p.copy();
                assert_eq!(
                    copy.read_raft_state(),
                    copy.read_snapshot(),
                    "state and snapshot from one save"
                );
            }
        });
    });
}
