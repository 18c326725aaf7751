//! What Raft hands to the service above it.

/// A message from a Raft peer to its service, sent on the channel given to
/// `Raft::new`, in log order.
///
/// Every peer must deliver the same commands at the same indexes, each index
/// exactly once per incarnation, in increasing order with no gaps; a
/// snapshot replaces everything through its index.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ApplyMsg {
    /// The command at `index` is committed: the service applies it.
    Command {
        /// Its log index (the first is 1).
        index: u64,
        /// The bytes given to `Raft::start`.
        command: Vec<u8>,
    },
    /// The service must replace its state with `snapshot`, which holds the
    /// effect of every command through `index` (whose log entry had `term`).
    /// Raft sends this after installing a snapshot received from the leader;
    /// the next command it delivers is at `index + 1`.
    Snapshot {
        /// The last log index the snapshot covers.
        index: u64,
        /// The term of the entry at `index`.
        term: u64,
        /// The service's bytes, as the leader's service made them.
        snapshot: Vec<u8>,
    },
}
