//! The reference Raft peer.
//!
//! The state is Figure 2 of the extended Raft paper, field for field
//! ([`State`]); the three RPCs are in [`rpc`]; the log with its snapshot
//! offset is [`log::Log`]. Behaviour is split by concern:
//!
//! - [`election`]: timeouts, RequestVote, becoming leader or follower;
//! - [`replication`]: AppendEntries and InstallSnapshot, both sides, and
//!   the leader's commit rule;
//! - [`persist`]: what survives a crash, and when it is written;
//! - this file: the public handle, the two background threads (the ticker
//!   that fires elections and heartbeats, and the applier that feeds the
//!   service), and [`Peer::with_state`], the one way code touches the state.
//!
//! Concurrency model: one mutex guards the whole [`State`]. Nothing blocks
//! while holding it: code that wants to talk to another peer queues an
//! [`Outgoing`] message; `with_state` persists whatever changed, releases the
//! lock, and only then sends, each call on its own thread (a call to a
//! disconnected peer can take seconds to fail, and must not hold anything
//! up). Replies re-enter through `with_state` like any other event.

mod election;
mod log;
mod persist;
mod replication;
mod rpc;
mod types;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread;
use std::time::{Duration, Instant};

use crossbeam_channel::Sender;
use labrpc::rng::Rng;
use labrpc::{ClientEnd, Persister, Service};

use crate::ApplyMsg;
use log::{Entry, Log};
use rpc::{AppendEntriesArgs, InstallSnapshotArgs, RequestVoteArgs};
use types::{LogIndex, PeerId, Term};

/// How often a leader sends heartbeats: 10 per second, the tester's limit.
const HEARTBEAT_INTERVAL: Duration = Duration::from_millis(100);

/// Election timeouts are drawn uniformly from this range (ms). At least four
/// heartbeat intervals, so a follower does not campaign over a few lost or
/// late heartbeats (on a busy machine threads can be descheduled for a
/// while), and randomized so split votes resolve quickly. The tests want a
/// new leader within 5 s, which leaves room for several split votes.
const ELECTION_TIMEOUT_MS: std::ops::Range<u64> = 400..800;

/// A Raft peer. Cheap to clone: clones are handles to the same peer.
#[derive(Clone)]
pub struct Raft {
    peer: Arc<Peer>,
}

/// What a peer is doing in its current term.
enum Role {
    Follower,
    Candidate {
        /// Votes granted so far in this election, including our own.
        votes: usize,
    },
    Leader(Leadership),
}

/// A leader's volatile state (Figure 2), reinitialized after each election.
struct Leadership {
    /// For each peer, the next log index to send it.
    next_index: Vec<LogIndex>,
    /// For each peer, the highest index known to be replicated on it.
    match_index: Vec<LogIndex>,
    /// For each peer, AppendEntries / InstallSnapshot calls awaiting a reply.
    in_flight: Vec<u32>,
    /// For each peer, whether it has something new (entries or a commit
    /// index) that no call in flight carries.
    pending: Vec<bool>,
    /// When the next round of heartbeats is due.
    next_heartbeat: Instant,
}

/// A snapshot received from the leader that the applier has yet to hand
/// to the service.
struct PendingSnapshot {
    index: LogIndex,
    term: Term,
    data: Vec<u8>,
}

/// A message to send once the state lock is released.
enum Outgoing {
    RequestVote(PeerId, RequestVoteArgs),
    AppendEntries(PeerId, AppendEntriesArgs),
    InstallSnapshot(PeerId, InstallSnapshotArgs),
}

/// Everything a peer knows, guarded by one mutex.
struct State {
    // Persistent state on all servers (Figure 2): saved before replying to
    // an RPC or sending one after it changes.
    /// Latest term this peer has seen.
    current_term: Term,
    /// The candidate that received this peer's vote in `current_term`.
    voted_for: Option<PeerId>,
    /// The log, after the snapshot.
    log: Log,

    // Volatile state on all servers.
    /// Highest index known to be committed.
    commit_index: LogIndex,
    /// Highest index handed to the applier.
    last_applied: LogIndex,
    role: Role,
    /// When a follower or candidate starts a new election.
    election_deadline: Instant,
    rng: Rng,
    snapshot_to_apply: Option<PendingSnapshot>,

    // Effects of the current event, carried out by `Peer::with_state`.
    /// The persistent state changed and must be saved.
    must_persist: bool,
    /// A new snapshot to save along with the state.
    new_snapshot: Option<Vec<u8>>,
    /// Messages to send after the lock is released.
    outbox: Vec<Outgoing>,
    /// The ticker must recompute its next wake-up (we became leader).
    wake_ticker: bool,
    /// The applier has work (commit advanced or a snapshot arrived).
    wake_applier: bool,
}

/// The shared core behind a [`Raft`] handle.
struct Peer {
    me: PeerId,
    peers: Vec<ClientEnd>,
    persister: Arc<Persister>,
    state: Mutex<State>,
    ticker_cv: Condvar,
    applier_cv: Condvar,
    /// `None` once killed; the applier sends while holding this lock, so
    /// after `kill` returns nothing more is ever sent.
    apply_tx: Mutex<Option<Sender<ApplyMsg>>>,
    dead: AtomicBool,
}

impl Raft {
    /// Starts peer `me` of the cluster whose RPC ends are `peers`
    /// (`peers[me]` is this peer's own end, never called).
    ///
    /// The peer resumes from whatever `persister` holds (nothing for a fresh
    /// peer) and hands committed commands and snapshots to `apply_tx`. Returns
    /// at once; the peer runs on background threads until [`Raft::kill`].
    ///
    /// # Panics
    /// If the persisted state cannot be decoded: only this code writes it,
    /// so that is a bug here, not a fault to tolerate.
    pub fn new(
        peers: Vec<ClientEnd>,
        me: usize,
        persister: Arc<Persister>,
        apply_tx: Sender<ApplyMsg>,
    ) -> Raft {
        let saved = persist::restore(&persister.read_raft_state())
            .unwrap_or_else(|e| panic!("raft peer {me}: cannot decode its persisted state: {e}"));
        let seed = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos() as u64)
            ^ ((me as u64) << 48);
        // The snapshot's entries were applied by the service before the
        // crash, and it restores them from the persister itself.
        let applied = saved.log.snapshot_index();
        let mut state = State {
            current_term: saved.current_term,
            voted_for: saved.voted_for,
            log: saved.log,
            commit_index: applied,
            last_applied: applied,
            role: Role::Follower,
            election_deadline: Instant::now(),
            rng: Rng::new(seed),
            snapshot_to_apply: None,
            must_persist: false,
            new_snapshot: None,
            outbox: Vec::new(),
            wake_ticker: false,
            wake_applier: false,
        };
        state.reset_election_timer();
        let peer = Arc::new(Peer {
            me,
            peers,
            persister,
            state: Mutex::new(state),
            ticker_cv: Condvar::new(),
            applier_cv: Condvar::new(),
            apply_tx: Mutex::new(Some(apply_tx)),
            dead: AtomicBool::new(false),
        });
        let ticker = Arc::clone(&peer);
        thread::spawn(move || ticker.run_ticker());
        let applier = Arc::clone(&peer);
        thread::spawn(move || applier.run_applier());
        Raft { peer }
    }

    /// Proposes `command` for the log. Returns at once: `None` if this peer
    /// is not the leader, else the index the command will have if it is ever
    /// committed and the current term. Committing is not guaranteed (the
    /// leader may lose its office); the service learns the outcome from the
    /// apply channel.
    pub fn start(&self, command: Vec<u8>) -> Option<(u64, u64)> {
        self.peer.with_state(|st| {
            if !matches!(st.role, Role::Leader(_)) {
                return None;
            }
            let term = st.current_term;
            let index = st.log.append(Entry { term, command });
            st.must_persist = true;
            tracing::debug!(target: "client", peer = self.peer.me, %term, %index, "start");
            self.peer.replicate_to_all(st, false);
            Some((index.0, term.0))
        })
    }

    /// This peer's current term and whether it believes it is the leader.
    pub fn state(&self) -> (u64, bool) {
        let st = self.peer.lock();
        (st.current_term.0, matches!(st.role, Role::Leader(_)))
    }

    /// The service has saved a snapshot holding every command through
    /// `index`: Raft saves it with its state and drops the log before it.
    pub fn snapshot(&self, index: u64, snapshot: Vec<u8>) {
        self.peer.with_state(|st| {
            let index = LogIndex(index);
            if index <= st.log.snapshot_index() || index > st.last_applied {
                return;
            }
            st.log.compact_through(index);
            st.must_persist = true;
            st.new_snapshot = Some(snapshot);
            tracing::debug!(target: "snapshot", peer = self.peer.me, %index, "service snapshot");
        });
    }

    /// Stops the peer: its threads exit, its handlers answer nothing useful,
    /// and nothing more is sent on the apply channel once this returns.
    pub fn kill(&self) {
        self.peer.dead.store(true, Ordering::SeqCst);
        *self.peer.apply_tx.lock().unwrap_or_else(|e| e.into_inner()) = None;
        // Take the state lock so a thread between its dead-check and its
        // wait cannot miss the notification.
        drop(self.peer.lock());
        self.peer.ticker_cv.notify_all();
        self.peer.applier_cv.notify_all();
    }
}

/// Builds the `"Raft"` labrpc service whose handlers are `raft`'s
/// RequestVote, AppendEntries and InstallSnapshot.
pub fn service(raft: &Raft) -> Service {
    let (vote, append, install) = (
        Arc::clone(&raft.peer),
        Arc::clone(&raft.peer),
        Arc::clone(&raft.peer),
    );
    Service::new("Raft")
        .method("RequestVote", move |args| vote.handle_request_vote(args))
        .method("AppendEntries", move |args| {
            append.handle_append_entries(args)
        })
        .method("InstallSnapshot", move |args| {
            install.handle_install_snapshot(args)
        })
}

impl State {
    /// Draws a fresh election timeout, starting now.
    fn reset_election_timer(&mut self) {
        let ms = ELECTION_TIMEOUT_MS.start
            + self
                .rng
                .below(ELECTION_TIMEOUT_MS.end - ELECTION_TIMEOUT_MS.start);
        self.election_deadline = Instant::now() + Duration::from_millis(ms);
    }
}

impl Peer {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn killed(&self) -> bool {
        self.dead.load(Ordering::SeqCst)
    }

    /// Runs one event against the state, then carries out its effects in
    /// the order Raft's safety needs: save what must survive a crash, then
    /// release the lock, then send. Every entry point goes through here.
    fn with_state<R>(self: &Arc<Self>, event: impl FnOnce(&mut State) -> R) -> R {
        let mut st = self.lock();
        let result = event(&mut st);
        if st.must_persist {
            self.save(&mut st);
        }
        if std::mem::take(&mut st.wake_ticker) {
            self.ticker_cv.notify_all();
        }
        if std::mem::take(&mut st.wake_applier) {
            self.applier_cv.notify_all();
        }
        let outbox = std::mem::take(&mut st.outbox);
        drop(st);
        for message in outbox {
            self.send(message);
        }
        result
    }

    /// Sends one message on its own thread and feeds the reply back in.
    fn send(self: &Arc<Self>, message: Outgoing) {
        let peer = Arc::clone(self);
        thread::spawn(move || match message {
            Outgoing::RequestVote(to, args) => {
                let reply = peer.peers[to].call("Raft.RequestVote", &args);
                peer.with_state(|st| peer.on_vote_reply(st, to, &args, reply.ok()));
            }
            Outgoing::AppendEntries(to, args) => {
                let reply = peer.peers[to].call("Raft.AppendEntries", &args);
                peer.with_state(|st| peer.on_append_reply(st, to, &args, reply.ok()));
            }
            Outgoing::InstallSnapshot(to, args) => {
                let reply = peer.peers[to].call("Raft.InstallSnapshot", &args);
                peer.with_state(|st| peer.on_snapshot_reply(st, to, &args, reply.ok()));
            }
        });
    }

    /// The ticker thread: starts elections when the timer runs out and sends
    /// heartbeats while leader.
    fn run_ticker(self: Arc<Self>) {
        loop {
            let wake_at = self.with_state(|st| {
                let now = Instant::now();
                let heartbeat_due = match &mut st.role {
                    Role::Leader(lead) if now >= lead.next_heartbeat => {
                        lead.next_heartbeat = now + HEARTBEAT_INTERVAL;
                        true
                    }
                    Role::Leader(_) => false,
                    Role::Follower | Role::Candidate { .. } => {
                        if now >= st.election_deadline {
                            self.start_election(st);
                        }
                        false
                    }
                };
                if heartbeat_due {
                    self.replicate_to_all(st, true);
                }
                match &st.role {
                    Role::Leader(lead) => lead.next_heartbeat,
                    _ => st.election_deadline,
                }
            });
            let st = self.lock();
            if self.killed() {
                return;
            }
            let wait = wake_at.saturating_duration_since(Instant::now());
            if !wait.is_zero() {
                drop(self.ticker_cv.wait_timeout(st, wait));
            }
            if self.killed() {
                return;
            }
        }
    }

    /// The applier thread: hands committed entries and received snapshots to
    /// the service, in log order, without holding the state lock while the
    /// service receives them.
    fn run_applier(self: Arc<Self>) {
        loop {
            let batch = {
                let mut st = self.lock();
                loop {
                    if self.killed() {
                        return;
                    }
                    if let Some(snap) = st.snapshot_to_apply.take() {
                        st.last_applied = snap.index;
                        break vec![ApplyMsg::Snapshot {
                            index: snap.index.0,
                            term: snap.term.0,
                            snapshot: snap.data,
                        }];
                    }
                    if st.last_applied < st.commit_index {
                        let mut batch = Vec::new();
                        while st.last_applied < st.commit_index {
                            let index = st.last_applied.next();
                            let Some(entry) = st.log.get(index) else {
                                break;
                            };
                            batch.push(ApplyMsg::Command {
                                index: index.0,
                                command: entry.command.clone(),
                            });
                            st.last_applied = index;
                        }
                        tracing::trace!(target: "commit", peer = self.me, through = %st.last_applied, "applying");
                        break batch;
                    }
                    st = self.applier_cv.wait(st).unwrap_or_else(|e| e.into_inner());
                }
            };
            let tx = self.apply_tx.lock().unwrap_or_else(|e| e.into_inner());
            let Some(tx) = tx.as_ref() else { return };
            for msg in batch {
                if tx.send(msg).is_err() {
                    return;
                }
            }
        }
    }
}
