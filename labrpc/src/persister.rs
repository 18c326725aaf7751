//! Stable storage for a peer, as the crash model sees it.
//!
//! A [`Persister`] holds two byte strings, the Raft state and the service's
//! snapshot, saved together atomically. What a peer saved here is all that
//! survives its crash: the harness crashes a peer by taking a
//! [`Persister::copy`] of its persister and starting the new incarnation from
//! the copy, so anything the old (zombie) incarnation writes afterwards goes to
//! the old object and is never read again.

use labrt::sync::{Mutex, MutexGuard};

#[derive(Clone, Default)]
struct Saved {
    raft_state: Vec<u8>,
    snapshot: Vec<u8>,
}

/// In-memory stable storage, safe to share between threads.
///
/// Bytes are copied on the way in and on the way out, so no caller can change
/// what was saved after the fact.
#[derive(Default)]
pub struct Persister {
    saved: Mutex<Saved>,
}

impl Persister {
    /// Empty storage.
    pub fn new() -> Persister {
        Persister::default()
    }

    fn lock(&self) -> MutexGuard<'_, Saved> {
        self.saved.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// An independent copy holding what this one holds now.
    pub fn copy(&self) -> Persister {
        Persister {
            saved: Mutex::new(self.lock().clone()),
        }
    }

    /// Saves `raft_state` and, when given, `snapshot`, as one atomic step: a
    /// reader sees both or neither. `None` keeps the snapshot saved before.
    pub fn save(&self, raft_state: &[u8], snapshot: Option<&[u8]>) {
        let mut s = self.lock();
        s.raft_state = raft_state.to_vec();
        if let Some(snap) = snapshot {
            s.snapshot = snap.to_vec();
        }
    }

    /// A copy of the saved Raft state (empty if nothing was saved).
    pub fn read_raft_state(&self) -> Vec<u8> {
        self.lock().raft_state.clone()
    }

    /// A copy of the saved snapshot (empty if none was saved).
    pub fn read_snapshot(&self) -> Vec<u8> {
        self.lock().snapshot.clone()
    }

    /// Size in bytes of the saved Raft state.
    pub fn raft_state_size(&self) -> usize {
        self.lock().raft_state.len()
    }

    /// Size in bytes of the saved snapshot.
    pub fn snapshot_size(&self) -> usize {
        self.lock().snapshot.len()
    }
}

impl std::fmt::Debug for Persister {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let s = self.lock();
        f.debug_struct("Persister")
            .field("raft_state_bytes", &s.raft_state.len())
            .field("snapshot_bytes", &s.snapshot.len())
            .finish()
    }
}
