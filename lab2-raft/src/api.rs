//! The values Raft's public API returns, named so that they cannot be
//! mixed up: an index and a term are both `u64`, and a tuple of two of them
//! reads the same either way round.

/// What [`Raft::start`](crate::Raft::start) returns when this peer, as the
/// leader, accepted the command: where the command will be in the log if it
/// is ever committed, and the term in which the leader received it.
///
/// Acceptance is not commitment: the leader may lose its office before the
/// entry reaches a majority, and another leader may put a different command
/// at `index`. The service learns what was committed from the apply channel
/// (an [`ApplyMsg::Command`](crate::ApplyMsg::Command) at `index`) and can
/// compare `term` with later terms to notice that it lost.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Start {
    /// The log index the command will have if it is committed (the first
    /// index is 1).
    pub index: u64,
    /// The leader's current term: the term of the new entry.
    pub term: u64,
}

/// What [`Raft::state`](crate::Raft::state) returns: this peer's current
/// term and whether it believes it is the leader of that term.
///
/// A peer can believe it leads after it has been deposed (it has not yet
/// heard of the newer term); at most one peer leads any one term.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct State {
    /// The latest term this peer has seen.
    pub term: u64,
    /// Whether this peer believes it is the leader of `term`.
    pub is_leader: bool,
}
