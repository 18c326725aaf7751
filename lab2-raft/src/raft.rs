//! Your Raft peer. This is the file you edit (and the only one you hand in).
//!
//! Read the handout (`docs/lab2-raft.md`) and Figure 2 of the extended Raft
//! paper first. The public API below is what the tests call; keep its
//! signatures. Everything else (the state, the RPC structs, the threads)
//! is a suggestion you can reshape.
//!
//! Rules of thumb:
//! - never hold the state mutex while calling another peer: a call to a
//!   disconnected peer can take seconds to fail;
//! - persist before replying to an RPC or sending one, whenever Figure 2's
//!   persistent state changed;
//! - stop sending on the apply channel once [`Raft::kill`] has returned.
//!
//! Threads, locks, condition variables, atomics, channels, sleeping, the
//! clock and random numbers all come from `labrt`, the kit's runtime facade,
//! never from `std::thread`, `std::sync::{Mutex, Condvar, RwLock, mpsc,
//! atomic}`, `std::time::Instant`, `crossbeam_channel` or `rand`. Its API is
//! std's (and crossbeam-channel's, `labrt::select!` included) and so is its
//! behaviour; the grader refuses the std items in this file, and the
//! handout's `clippy.toml` flags them. What you will likely want:
//!
//! ```text
//! use labrt::rand::Rng;                              // Rng::new(seed): election timeouts
//! use labrt::sync::atomic::{AtomicBool, Ordering};   // a `dead` flag for kill()
//! use labrt::sync::{Arc, Condvar, Mutex, MutexGuard};
//! use labrt::thread;                                 // thread::spawn, thread::sleep
//! use labrt::time::{Duration, Instant};              // deadlines and timeouts
//! ```

use labrpc::{ClientEnd, Persister, Service};
use labrt::channel::Sender;
use labrt::sync::{Arc, Mutex};
use serde::{Deserialize, Serialize};

use crate::{ApplyMsg, Start, State};

/// A Raft peer. Must be cheap to clone: clones are handles to the same peer
/// (the tests keep one, your RPC handlers and threads keep others).
#[derive(Clone)]
pub struct Raft {
    /// Shared by every clone of the handle and every thread of the peer.
    peer: Arc<Peer>,
}

/// What one peer holds. A sketch: reshape it as you like.
#[allow(dead_code)] // Delete this line once your code uses every field.
struct Peer {
    /// This peer's index in `peers`.
    me: usize,
    /// One end per peer; `peers[me]` is our own and never called.
    peers: Vec<ClientEnd>,
    /// Where this peer saves what must survive a crash.
    persister: Arc<Persister>,
    /// Where committed commands and snapshots go, in log order.
    apply_tx: Sender<ApplyMsg>,
    /// Figure 2's state, behind one mutex.
    state: Mutex<PeerState>,
}

/// Figure 2's state. A sketch: reshape it as you like. (Not to be confused
/// with [`State`], what [`Raft::state`] returns.)
#[allow(dead_code)] // Delete this line once your code uses every field.
struct PeerState {
    // Persistent on all servers (save it before answering or sending).
    /// Latest term this peer has seen.
    current_term: u64,
    /// The candidate that got our vote in `current_term`, if any.
    voted_for: Option<usize>,
    /// The log; remember that after a snapshot (2D) it no longer starts at
    /// index 1.
    log: Vec<LogEntry>,

    // Volatile on all servers.
    /// Highest index known to be committed.
    commit_index: u64,
    /// Highest index handed to the service.
    last_applied: u64,
    /// Follower, candidate or leader.
    role: Role,

    // Volatile on leaders, reinitialized after each election.
    /// For each peer, the next index to send it.
    next_index: Vec<u64>,
    /// For each peer, the highest index known to be replicated on it.
    match_index: Vec<u64>,
}

/// What a peer is doing in its current term.
#[allow(dead_code)] // Delete this line once your code uses every variant.
enum Role {
    Follower,
    Candidate,
    Leader,
}

/// One log entry.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct LogEntry {
    /// The term in which the leader received the command.
    pub term: u64,
    /// The service's command, opaque to Raft.
    pub command: Vec<u8>,
}

/// RequestVote arguments (Figure 2).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct RequestVoteArgs {
    /// The candidate's term.
    pub term: u64,
    /// The candidate requesting the vote.
    pub candidate_id: usize,
    /// Index of the candidate's last log entry.
    pub last_log_index: u64,
    /// Term of the candidate's last log entry.
    pub last_log_term: u64,
}

/// RequestVote reply (Figure 2).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct RequestVoteReply {
    /// The voter's current term, for the candidate to update itself.
    pub term: u64,
    /// True means the candidate received the vote.
    pub vote_granted: bool,
}

/// AppendEntries arguments (Figure 2). Part 2B.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct AppendEntriesArgs {
    /// The leader's term.
    pub term: u64,
    /// So followers know who the leader is.
    pub leader_id: usize,
    /// Index of the entry just before the new ones.
    pub prev_log_index: u64,
    /// Term of the entry at `prev_log_index`.
    pub prev_log_term: u64,
    /// Entries to store (empty for a heartbeat).
    pub entries: Vec<LogEntry>,
    /// The leader's commit index.
    pub leader_commit: u64,
}

/// AppendEntries reply (Figure 2). Add fields to back up faster than one
/// entry per round trip (the handout explains how; `backup_2b` needs it).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct AppendEntriesReply {
    /// The follower's current term, for the leader to update itself.
    pub term: u64,
    /// True if the follower held an entry matching `prev_log_index` and
    /// `prev_log_term`.
    pub success: bool,
}

/// InstallSnapshot arguments (Figure 13, sent whole, without `offset` and
/// `done`). Part 2D.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct InstallSnapshotArgs {
    /// The leader's term.
    pub term: u64,
    /// So followers know who the leader is.
    pub leader_id: usize,
    /// The snapshot replaces every entry through this index.
    pub last_included_index: u64,
    /// The term of that entry.
    pub last_included_term: u64,
    /// The service's snapshot bytes.
    pub data: Vec<u8>,
}

/// InstallSnapshot reply (Figure 13).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct InstallSnapshotReply {
    /// The follower's current term, for the leader to update itself.
    pub term: u64,
}

impl Raft {
    /// Starts peer `me` of the cluster whose RPC ends are `peers`
    /// (`peers[me]` is this peer's own end). `persister` holds what this peer
    /// saved before it crashed (nothing, the first time): restore from it.
    /// Committed commands and installed snapshots go to `apply_tx`.
    ///
    /// `seed` is for this peer's random choices, such as its election
    /// timeouts: seed a generator with it (`labrt::rand::Rng::new(seed)`)
    /// rather than using the clock or another source of randomness, so that
    /// rerunning a test with the seed it printed replays those choices too.
    /// The tester derives it from the run's seed, the peer and how many times
    /// the peer was restarted.
    ///
    /// Must return quickly: start background threads (an election ticker,
    /// an applier) for long-running work.
    pub fn new(
        peers: Vec<ClientEnd>,
        me: usize,
        persister: Arc<Persister>,
        apply_tx: Sender<ApplyMsg>,
        seed: u64,
    ) -> Raft {
        let _ = (peers, me, persister, apply_tx, seed);
        todo!("Raft::new: build the peer's state, restore it from the persister, start its threads")
    }

    /// Proposes `command` for the log. Returns at once, without waiting for
    /// the command to commit: `None` if this peer is not the leader, else
    /// `Some(Start { index, term })`: the index the command will have if it
    /// is ever committed, and the current term.
    pub fn start(&self, command: Vec<u8>) -> Option<Start> {
        let _ = (&self.peer, command);
        todo!("Raft::start (part 2B)")
    }

    /// This peer's current term and whether it believes it is the leader:
    /// `State { term, is_leader }`.
    pub fn state(&self) -> State {
        todo!("Raft::state (part 2A)")
    }

    /// The service has snapshotted its state through `index` (which it has
    /// applied): save `snapshot` with your state and discard the log through
    /// `index`. Part 2D; until then, ignoring the call is fine.
    pub fn snapshot(&self, index: u64, snapshot: Vec<u8>) {
        let _ = (index, snapshot);
    }

    /// Stops the peer: its threads should exit soon, and nothing more may be
    /// sent on the apply channel once this returns.
    pub fn kill(&self) {}

    /// RequestVote handler (part 2A).
    fn request_vote(&self, args: RequestVoteArgs) -> RequestVoteReply {
        let _ = args;
        todo!("RequestVote handler (part 2A)")
    }

    /// AppendEntries handler (heartbeats in 2A, entries from 2B).
    fn append_entries(&self, args: AppendEntriesArgs) -> AppendEntriesReply {
        let _ = args;
        todo!("AppendEntries handler (part 2A)")
    }

    /// InstallSnapshot handler (part 2D).
    fn install_snapshot(&self, args: InstallSnapshotArgs) -> InstallSnapshotReply {
        let _ = args;
        todo!("InstallSnapshot handler (part 2D)")
    }
}

/// Builds the `"Raft"` service with this peer's RPC handlers; the tester
/// registers it on the peer's server. Other peers call
/// `peers[i].call::<RequestVoteArgs, RequestVoteReply>("Raft.RequestVote", &args)`.
pub fn service(raft: &Raft) -> Service {
    let (a, b, c) = (raft.clone(), raft.clone(), raft.clone());
    Service::new("Raft")
        .method("RequestVote", move |args| a.request_vote(args))
        .method("AppendEntries", move |args| b.append_entries(args))
        .method("InstallSnapshot", move |args| c.install_snapshot(args))
}
