//! The calls a peer makes to the others, and the flow control they obey.
//!
//! Each other peer has a [`Lane`] of sender threads: one started with the
//! peer, and another whenever every sender of the lane is in a call, up to
//! [`SENDERS_PER_PEER`]; senders beyond two retire after
//! [`SENDER_IDLE_RETIRE`] without a call. An idle sender waits on
//! `senders_cv` (with a timeout when a heartbeat will be due); when woken it
//! asks [`Peer::next_call`] what, if anything, to send, under the state
//! lock. It makes the call without the lock, then handles the reply (or its
//! loss) under the lock, and asks again. A call blocks until its reply
//! arrives or it fails, so at most `SENDERS_PER_PEER` calls are ever in
//! flight to one peer, however many RPCs the peer makes.
//!
//! What goes out, and when (the rules are in [`Peer::next_call`] and
//! [`Peer::next_replication_call`]):
//!
//! - a candidate sends each peer one RequestVote per term;
//! - a leader sends a follower entries (a batch of at most
//!   [`MAX_APPEND_BYTES`]) as soon as it has some to send, but only one batch
//!   at a time; after a batch is lost, the next goes with the next heartbeat
//!   (or as soon as there are new entries, or the follower answers another
//!   call), so a lossy network is never flooded with retries;
//! - a snapshot only while none is in flight to that follower, and only
//!   right after the newest call to it was answered (a snapshot sent into a
//!   partition would hold up the next one for as long as its call takes to
//!   fail, up to 7 s);
//! - a heartbeat (an AppendEntries with no entries, so no log is copied)
//!   when nothing was sent to the follower for a heartbeat interval, and a
//!   new commit index as soon as no call of this term is in flight to it
//!   (such a call's return is followed by one carrying it).
//!
//! A batch believed lost is re-sent: a batch counts as in flight until its
//! call returns or a call sent after it is answered (which proves the
//! follower reachable and the batch lost or late; AppendEntries is
//! idempotent, so a late duplicate does no harm).

use labrt::sync::Arc;
use labrt::time::{Duration, Instant};

#[cfg(doc)]
use super::MAX_APPEND_BYTES;
use super::rpc::{
    AppendEntriesArgs, AppendEntriesReply, InstallSnapshotArgs, InstallSnapshotReply,
    RequestVoteArgs, RequestVoteReply,
};
use super::types::{PeerId, Term};
use super::{Peer, Role, State};
use super::{SENDER_IDLE_RETIRE, SENDERS_PER_PEER, spawn};

/// The calls in flight to one other peer, and what their outcomes say about
/// the link. Lives as long as the peer (across terms and roles).
#[derive(Debug, Default)]
pub(super) struct Lane {
    /// Sender threads of this lane alive.
    pub threads: usize,
    /// Sender threads started so far (to name them).
    pub started: usize,
    /// The sequence numbers of the calls in flight (one per sender in a
    /// call).
    pub in_flight: Vec<u64>,
    /// How many calls were sent so far; a call's sequence number is the
    /// value after it was counted (the first call is 1).
    pub sent: u64,
    /// The highest sequence number of a call that was answered.
    pub answered: u64,
    /// The AppendEntries carrying entries that is believed in flight.
    pub entries_in_flight: Option<u64>,
    /// Whether an InstallSnapshot is in flight.
    pub snapshot_in_flight: bool,
    /// The last term in which this peer was sent a RequestVote.
    pub vote_term: Term,
}

impl Lane {
    /// Counts a new call and returns its sequence number.
    pub fn begin(&mut self) -> u64 {
        self.sent += 1;
        self.in_flight.push(self.sent);
        self.sent
    }

    /// Whether a call sent after call `seq` is in flight.
    pub fn in_flight_after(&self, seq: u64) -> bool {
        self.in_flight.iter().any(|&s| s > seq)
    }

    /// Senders of this lane not in a call.
    fn idle(&self) -> usize {
        self.threads - self.in_flight.len()
    }

    /// Whether the newest call sent was answered: the best evidence we have
    /// that the peer is reachable now.
    pub fn fresh(&self) -> bool {
        self.sent > 0 && self.answered == self.sent
    }

    /// Records that call `seq` completed, `answered` or not.
    fn complete(&mut self, seq: u64, answered: bool, snapshot: bool) {
        self.in_flight.retain(|&s| s != seq);
        if answered {
            self.answered = self.answered.max(seq);
        }
        // A batch's own outcome ends it; an answer to a later call means it
        // was lost or is late.
        if let Some(batch) = self.entries_in_flight
            && (batch == seq || (answered && batch < seq))
        {
            self.entries_in_flight = None;
        }
        if snapshot {
            self.snapshot_in_flight = false;
        }
    }
}

/// A call to make, its arguments built under the lock.
pub(super) enum Call {
    RequestVote(RequestVoteArgs),
    AppendEntries(AppendEntriesArgs),
    InstallSnapshot(InstallSnapshotArgs),
}

/// A completed call: its arguments and what came back (`None`: no reply).
enum Done {
    Vote(RequestVoteArgs, Option<RequestVoteReply>),
    Append(AppendEntriesArgs, Option<AppendEntriesReply>),
    Snapshot(InstallSnapshotArgs, Option<InstallSnapshotReply>),
}

impl Peer {
    /// Starts another sender thread for the calls to peer `to`.
    pub(super) fn spawn_sender(self: &Arc<Self>, st: &mut State, to: PeerId) {
        let lane = &mut st.lanes[to];
        lane.threads += 1;
        lane.started += 1;
        let peer = Arc::clone(self);
        spawn(
            format!("raft{}-to{to}-{}", self.me, lane.started),
            move || {
                peer.run_sender(to);
            },
        );
    }

    /// One sender thread for the calls to peer `to`; returns once the peer
    /// is killed, or when it retires.
    fn run_sender(self: Arc<Self>, to: PeerId) {
        let mut st = self.lock();
        let mut last_call = Instant::now();
        loop {
            if self.killed() {
                return;
            }
            let now = Instant::now();
            if let Some((seq, call)) = self.next_call(&mut st, to, now) {
                let lane = &st.lanes[to];
                if lane.idle() == 0 && lane.threads < SENDERS_PER_PEER {
                    // Keep one sender free for the next heartbeat while this
                    // call (perhaps to an unreachable peer) takes its time.
                    self.spawn_sender(&mut st, to);
                }
                drop(st);
                let done = self.make(to, call);
                st = self.lock();
                self.on_done(&mut st, to, seq, done);
                self.settle(&mut st);
                last_call = Instant::now();
                continue;
            }
            let spare = st.lanes[to].idle() > 2;
            if spare && now >= last_call + SENDER_IDLE_RETIRE {
                st.lanes[to].threads -= 1;
                return;
            }
            let retire_at = spare.then_some(last_call + SENDER_IDLE_RETIRE);
            let wake_at = match (self.heartbeat_due(&st, to), retire_at) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            };
            st = match wake_at {
                // At least a millisecond, so a clock that reads the same twice
                // cannot make this spin.
                Some(due) => {
                    let wait = due
                        .saturating_duration_since(now)
                        .max(Duration::from_millis(1));
                    let waited = self.senders_cv.wait_timeout(st, wait);
                    waited.unwrap_or_else(|e| e.into_inner()).0
                }
                None => self.senders_cv.wait(st).unwrap_or_else(|e| e.into_inner()),
            };
        }
    }

    /// What to send peer `to` now, if anything, counted on its lane.
    fn next_call(&self, st: &mut State, to: PeerId, now: Instant) -> Option<(u64, Call)> {
        match st.role {
            Role::Follower => None,
            Role::Candidate { .. } => {
                if st.lanes[to].vote_term >= st.current_term {
                    return None;
                }
                st.lanes[to].vote_term = st.current_term;
                let args = self.vote_request(st);
                Some((st.lanes[to].begin(), Call::RequestVote(args)))
            }
            Role::Leader(_) => self.next_replication_call(st, to, now),
        }
    }

    /// When a leader owes `to` a heartbeat (`None` if we do not lead).
    fn heartbeat_due(&self, st: &State, to: PeerId) -> Option<Instant> {
        match &st.role {
            Role::Leader(lead) => Some(lead.heartbeat_due[to]),
            _ => None,
        }
    }

    /// Makes the call, blocking until its reply arrives or it fails.
    fn make(&self, to: PeerId, call: Call) -> Done {
        let end = &self.peers[to];
        match call {
            Call::RequestVote(args) => {
                let reply = end.call("Raft.RequestVote", &args).ok();
                Done::Vote(args, reply)
            }
            Call::AppendEntries(args) => {
                let reply = end.call("Raft.AppendEntries", &args).ok();
                Done::Append(args, reply)
            }
            Call::InstallSnapshot(args) => {
                let reply = end.call("Raft.InstallSnapshot", &args).ok();
                Done::Snapshot(args, reply)
            }
        }
    }

    /// Call `seq` to `to` completed: update its lane, then let the reply (or
    /// its loss) teach what it can.
    fn on_done(&self, st: &mut State, to: PeerId, seq: u64, done: Done) {
        let (answered, snapshot) = match &done {
            Done::Vote(_, reply) => (reply.is_some(), false),
            Done::Append(_, reply) => (reply.is_some(), false),
            Done::Snapshot(_, reply) => (reply.is_some(), true),
        };
        st.lanes[to].complete(seq, answered, snapshot);
        match done {
            Done::Vote(args, reply) => self.on_vote_reply(st, to, &args, reply),
            Done::Append(args, reply) => self.on_append_reply(st, to, &args, reply),
            Done::Snapshot(args, reply) => self.on_snapshot_reply(st, to, &args, reply),
        }
    }
}
