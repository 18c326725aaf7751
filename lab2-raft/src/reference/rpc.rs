//! The three RPCs of Figure 2 and Figure 13, as they cross the network.

use serde::{Deserialize, Serialize};

use super::log::Entry;
use super::types::{LogIndex, PeerId, Term};

/// RequestVote arguments: a candidate asking for a vote.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct RequestVoteArgs {
    /// The candidate's term.
    pub term: Term,
    /// The candidate asking.
    pub candidate: PeerId,
    /// Index of the candidate's last log entry.
    pub last_log_index: LogIndex,
    /// Term of the candidate's last log entry.
    pub last_log_term: Term,
}

/// RequestVote reply.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct RequestVoteReply {
    /// The voter's current term, for the candidate to update itself.
    pub term: Term,
    /// Whether the candidate received this vote.
    pub vote_granted: bool,
}

/// AppendEntries arguments: replicate entries, or just assert leadership
/// (a heartbeat carries no entries).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct AppendEntriesArgs {
    /// The leader's term.
    pub term: Term,
    /// The leader, so followers know who it is.
    pub leader: PeerId,
    /// Index of the entry just before the new ones.
    pub prev_log_index: LogIndex,
    /// Term of the entry at `prev_log_index`.
    pub prev_log_term: Term,
    /// Entries to store, starting at `prev_log_index + 1`.
    pub entries: Vec<Entry>,
    /// The leader's commit index.
    pub leader_commit: LogIndex,
}

/// AppendEntries reply.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct AppendEntriesReply {
    /// The follower's current term, for the leader to update itself.
    pub term: Term,
    /// True if the follower's log matched at `prev_log_index` and now holds
    /// the entries.
    pub success: bool,
    /// On a mismatch, where the leader should retry from: lets it skip a
    /// whole conflicting term in one round trip instead of one entry.
    pub conflict: Option<Conflict>,
}

/// Why a follower's log did not match `prev_log_index`, and what it holds.
#[derive(Clone, Copy, Debug, Serialize, Deserialize)]
pub struct Conflict {
    /// The term of the follower's entry at `prev_log_index`, or `None` if
    /// its log is shorter (or that entry is inside its snapshot).
    pub term: Option<Term>,
    /// With `term`: the first index the follower holds of that term.
    /// Without: the first index the follower needs (its log's end + 1).
    pub index: LogIndex,
}

/// InstallSnapshot arguments: a leader sending its snapshot to a follower
/// that needs entries the leader has compacted away.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct InstallSnapshotArgs {
    /// The leader's term.
    pub term: Term,
    /// The leader.
    pub leader: PeerId,
    /// The last index the snapshot covers.
    pub last_included_index: LogIndex,
    /// The term of that entry.
    pub last_included_term: Term,
    /// The service's snapshot bytes (sent whole: no chunking).
    pub data: Vec<u8>,
}

/// InstallSnapshot reply.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct InstallSnapshotReply {
    /// The follower's current term, for the leader to update itself.
    pub term: Term,
}
