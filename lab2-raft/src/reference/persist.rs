//! What survives a crash: Figure 2's persistent state, plus the snapshot's
//! boundary (kept inside [`Log`]).
//!
//! Saved through `Peer::with_state` whenever an event changed it, before
//! the peer replies or sends anything that depends on it: a vote must not
//! be forgotten after it was granted, nor an entry after it was
//! acknowledged. Commit and apply progress are volatile; a restarted peer
//! relearns them from the leader.

use serde::{Deserialize, Serialize};

use super::log::Log;
use super::types::{PeerId, Term};
use super::{Peer, State};

/// The persistent fields, as saved.
#[derive(Default, Deserialize)]
pub struct Saved {
    pub current_term: Term,
    pub voted_for: Option<PeerId>,
    pub log: Log,
}

/// The same fields, borrowed for saving (same layout as [`Saved`]).
#[derive(Serialize)]
struct SavedRef<'a> {
    current_term: Term,
    voted_for: Option<PeerId>,
    log: &'a Log,
}

/// Decodes what [`Peer::save`] wrote; empty bytes are a fresh peer.
pub fn restore(bytes: &[u8]) -> Result<Saved, String> {
    if bytes.is_empty() {
        return Ok(Saved::default());
    }
    labrpc::decode(bytes)
}

impl Peer {
    /// Saves the persistent state (and a new snapshot, if one is waiting)
    /// in one atomic write.
    pub(super) fn save(&self, st: &mut State) {
        let bytes = labrpc::encode(&SavedRef {
            current_term: st.current_term,
            voted_for: st.voted_for,
            log: &st.log,
        })
        .unwrap_or_else(|e| panic!("raft peer {}: cannot encode its state: {e}", self.me));
        let snapshot = st.new_snapshot.take();
        self.persister.save(&bytes, snapshot.as_deref());
        st.must_persist = false;
        tracing::trace!(target: "persist", peer = self.me, bytes = bytes.len(),
            snapshot = snapshot.as_ref().map(Vec::len), term = %st.current_term, "saved");
    }
}
