//! The reference Raft peer.
//!
//! The state is Figure 2 of the extended Raft paper, field for field
//! ([`State`]); the three RPCs are in [`rpc`]; the log with its snapshot
//! offset is [`log::Log`]. Behaviour is split by concern:
//!
//! - [`election`]: timeouts, RequestVote, becoming leader or follower;
//! - [`replication`]: AppendEntries and InstallSnapshot, both sides, what a
//!   leader sends each follower next, and the leader's commit rule;
//! - [`senders`]: the threads that make the calls to other peers, and the
//!   per-peer flow control they obey;
//! - [`persist`]: what survives a crash, and when it is written;
//! - this file: the public handle, the ticker (election timeouts) and the
//!   applier (feeds the service), and [`Peer::with_state`] / [`Peer::settle`],
//!   the way every event touches the state.
//!
//! Concurrency model: one mutex guards the whole [`State`]. Nothing blocks
//! while holding it. Every event runs under the lock and ends with
//! [`Peer::settle`], which saves whatever must survive a crash and wakes the
//! threads that have new work, before the lock is released. Calls to other
//! peers are made by sender threads, at most [`SENDERS_PER_PEER`] per other
//! peer: a sender decides what to send under the lock, makes the call
//! without it (a call to a disconnected peer can take seconds to fail), and
//! handles the reply under the lock again. So a peer has at most
//! `2 + SENDERS_PER_PEER * (peers - 1)` threads (ticker, applier, senders),
//! however many RPCs it makes.

mod election;
mod log;
mod persist;
mod replication;
mod rpc;
mod senders;
mod types;

use labrpc::{ClientEnd, Persister, Service};
use labrt::channel::Sender;
use labrt::rand::Rng;
use labrt::sync::atomic::{AtomicBool, Ordering};
use labrt::sync::{Arc, Condvar, Mutex, MutexGuard};
use labrt::thread;
use labrt::time::{Duration, Instant};

use crate::{ApplyMsg, Start, State as PublicState};
use log::{Entry, Log};
use senders::Lane;
use types::{LogIndex, PeerId, Term};

/// How often a leader sends each follower a heartbeat when it has sent it
/// nothing else: 10 per second, the tester's limit.
const HEARTBEAT_INTERVAL: Duration = Duration::from_millis(100);

/// Election timeouts are drawn uniformly from this range (ms). At least four
/// heartbeat intervals, so a follower does not campaign over a few lost or
/// late heartbeats (on a busy machine threads can be descheduled for a
/// while), and randomized so split votes resolve quickly. The tests want a
/// new leader within 5 s, which leaves room for several split votes.
const ELECTION_TIMEOUT_MS: std::ops::Range<u64> = 400..800;

/// The most sender threads per other peer, hence the most calls in flight
/// to it. A lane starts with one and adds one whenever all of its senders are
/// in calls (see [`senders`]); a healthy peer is served by two.
///
/// More than one because labrpc (like a real network) makes a call to an
/// unreachable peer fail only after up to 7 s (uniformly), and a sender waits
/// for its call: with one sender, a follower that comes back could wait that
/// long for its next message. With `k` senders stuck on such calls, the first
/// frees up after 7/(2k+1) s on average (0.4 s for 8), and a follower cut off
/// for less than `k` heartbeat intervals finds one free at once. The flow
/// control in [`senders`] keeps them from carrying more than one batch of
/// entries, or one snapshot, at a time: the others carry only heartbeats.
const SENDERS_PER_PEER: usize = 8;

/// A sender beyond the first two of its lane exits after this long without
/// a call, once the lane has more idle senders than that.
const SENDER_IDLE_RETIRE: Duration = Duration::from_secs(10);

/// The most command bytes one AppendEntries carries (it always carries at
/// least one entry when any is due), so a call to a lagging follower copies
/// a bounded part of the log.
const MAX_APPEND_BYTES: usize = 64 * 1024;

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

/// A leader's volatile state (Figure 2, plus flow control), reinitialized
/// after each election. Every vector is indexed by peer.
struct Leadership {
    /// The next log index to send each peer.
    next_index: Vec<LogIndex>,
    /// The highest index known to be replicated on each peer.
    match_index: Vec<LogIndex>,
    /// The highest commit index sent to each peer in this term.
    commit_sent: Vec<LogIndex>,
    /// Whether a batch of entries to each peer was lost since it last
    /// answered: the next batch waits for a heartbeat to be due, or for new
    /// entries, instead of going at once.
    hold: Vec<bool>,
    /// When each peer is due a heartbeat: a heartbeat interval after the
    /// last call we sent it.
    heartbeat_due: Vec<Instant>,
    /// Each peer's call count ([`Lane::sent`]) when we took office: calls
    /// numbered after it were sent in this term.
    sent_before: Vec<u64>,
}

/// A snapshot received from the leader that the applier has yet to hand
/// to the service.
struct PendingSnapshot {
    index: LogIndex,
    term: Term,
    data: Vec<u8>,
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
    /// Draws election timeouts; seeded by the harness (see [`Raft::new`]).
    rng: Rng,
    snapshot_to_apply: Option<PendingSnapshot>,
    /// Per other peer: the calls in flight to it (see [`senders`]).
    lanes: Vec<Lane>,

    // Effects of the current event, carried out by `Peer::settle`.
    /// The persistent state changed and must be saved.
    must_persist: bool,
    /// A new snapshot to save along with the state.
    new_snapshot: Option<Vec<u8>>,
    /// The ticker must recompute its next wake-up (we stopped leading).
    wake_ticker: bool,
    /// The applier has work (commit advanced or a snapshot arrived).
    wake_applier: bool,
    /// The senders may have work (entries, a commit index, an election, a
    /// new leadership).
    wake_senders: bool,
}

/// The shared core behind a [`Raft`] handle.
struct Peer {
    me: PeerId,
    peers: Vec<ClientEnd>,
    persister: Arc<Persister>,
    state: Mutex<State>,
    ticker_cv: Condvar,
    applier_cv: Condvar,
    senders_cv: Condvar,
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
    /// peer) and hands committed commands and snapshots to `apply_tx`.
    /// `seed` seeds the peer's random choices (its election timeouts), so a
    /// run's seed reproduces them; the harness derives it from the run's
    /// seed, the peer and its incarnation. Returns at once; the peer runs on
    /// background threads until [`Raft::kill`].
    ///
    /// # Panics
    /// If the persisted state cannot be decoded: only this code writes it,
    /// so that is a bug here, not a fault to tolerate. Also if a thread
    /// cannot be started.
    pub fn new(
        peers: Vec<ClientEnd>,
        me: usize,
        persister: Arc<Persister>,
        apply_tx: Sender<ApplyMsg>,
        seed: u64,
    ) -> Raft {
        let saved = persist::restore(&persister.read_raft_state())
            .unwrap_or_else(|e| panic!("raft peer {me}: cannot decode its persisted state: {e}"));
        // The snapshot's entries were applied by the service before the
        // crash, and it restores them from the persister itself.
        let applied = saved.log.snapshot_index();
        let n = peers.len();
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
            lanes: (0..n).map(|_| Lane::default()).collect(),
            must_persist: false,
            new_snapshot: None,
            wake_ticker: false,
            wake_applier: false,
            wake_senders: false,
        };
        state.reset_election_timer();
        let peer = Arc::new(Peer {
            me,
            peers,
            persister,
            state: Mutex::new(state),
            ticker_cv: Condvar::new(),
            applier_cv: Condvar::new(),
            senders_cv: Condvar::new(),
            apply_tx: Mutex::new(Some(apply_tx)),
            dead: AtomicBool::new(false),
        });
        let ticker = Arc::clone(&peer);
        spawn(format!("raft{me}-ticker"), move || ticker.run_ticker());
        let applier = Arc::clone(&peer);
        spawn(format!("raft{me}-apply"), move || applier.run_applier());
        {
            let mut st = peer.lock();
            for to in peer.others() {
                peer.spawn_sender(&mut st, to);
            }
        }
        Raft { peer }
    }

    /// Proposes `command` for the log. Returns at once: `None` if this peer
    /// is not the leader, else the index the command will have if it is ever
    /// committed and the current term. Committing is not guaranteed (the
    /// leader may lose its office); the service learns the outcome from the
    /// apply channel.
    pub fn start(&self, command: Vec<u8>) -> Option<Start> {
        self.peer.with_state(|st| {
            if !matches!(st.role, Role::Leader(_)) {
                return None;
            }
            let term = st.current_term;
            let index = st.log.append(Entry { term, command });
            if let Role::Leader(lead) = &mut st.role {
                // New entries go at once, even where a batch was just lost.
                lead.hold.fill(false);
            }
            st.must_persist = true;
            st.wake_senders = true;
            tracing::debug!(target: "client", peer = self.peer.me, %term, %index, "start");
            Some(Start {
                index: index.0,
                term: term.0,
            })
        })
    }

    /// This peer's current term and whether it believes it is the leader.
    pub fn state(&self) -> PublicState {
        let st = self.peer.lock();
        PublicState {
            term: st.current_term.0,
            is_leader: matches!(st.role, Role::Leader(_)),
        }
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

    /// Stops the peer: its threads exit (a sender in a call exits when the
    /// call returns), its handlers answer nothing useful, and nothing more is
    /// sent on the apply channel once this returns.
    pub fn kill(&self) {
        self.peer.dead.store(true, Ordering::SeqCst);
        *self.peer.apply_tx.lock().unwrap_or_else(|e| e.into_inner()) = None;
        // Take the state lock so a thread between its dead-check and its
        // wait cannot miss the notification.
        drop(self.peer.lock());
        self.peer.ticker_cv.notify_all();
        self.peer.applier_cv.notify_all();
        self.peer.senders_cv.notify_all();
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

/// Starts a named thread of the peer (the names show in debuggers and in
/// `/proc/<pid>/task/*/comm`).
fn spawn(name: String, body: impl FnOnce() + Send + 'static) {
    thread::Builder::new()
        .name(name.clone())
        .spawn(body)
        .unwrap_or_else(|e| panic!("raft: cannot start thread {name}: {e}"));
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

    /// Runs one event against the state, then [`Peer::settle`]s it before
    /// the lock is released. Every entry point goes through here (or, on the
    /// ticker and sender threads, calls `settle` itself before it waits).
    fn with_state<R>(self: &Arc<Self>, event: impl FnOnce(&mut State) -> R) -> R {
        let mut st = self.lock();
        let result = event(&mut st);
        self.settle(&mut st);
        result
    }

    /// Carries out an event's effects in the order Raft's safety needs: save
    /// what must survive a crash, then wake the threads with new work (which
    /// run, and send, only once the caller releases the lock).
    fn settle(&self, st: &mut State) {
        if st.must_persist {
            self.save(st);
        }
        if std::mem::take(&mut st.wake_ticker) {
            self.ticker_cv.notify_all();
        }
        if std::mem::take(&mut st.wake_applier) {
            self.applier_cv.notify_all();
        }
        if std::mem::take(&mut st.wake_senders) {
            self.senders_cv.notify_all();
        }
    }

    /// The ticker thread: starts an election when the timer runs out. A
    /// leader's ticker sleeps until the leader steps down (heartbeats are the
    /// senders' business).
    fn run_ticker(self: Arc<Self>) {
        let mut st = self.lock();
        loop {
            if self.killed() {
                return;
            }
            let now = Instant::now();
            if !matches!(st.role, Role::Leader(_)) && now >= st.election_deadline {
                self.start_election(&mut st);
            }
            self.settle(&mut st);
            st = match st.role {
                Role::Leader(_) => self.ticker_cv.wait(st).unwrap_or_else(|e| e.into_inner()),
                _ => {
                    let wait = st.election_deadline.saturating_duration_since(now);
                    let waited = self.ticker_cv.wait_timeout(st, wait);
                    waited.unwrap_or_else(|e| e.into_inner()).0
                }
            };
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
                        break self.committed_batch(&mut st);
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

    /// Takes every committed entry not yet applied, in order.
    ///
    /// # Panics
    /// If an entry between `last_applied` and `commit_index` is not in the
    /// log. Installing a snapshot moves `last_applied` past the entries it
    /// removes (the snapshot is applied first), and the service snapshots
    /// only what it has applied, so a missing entry is a bug in this code;
    /// waiting for it would spin forever.
    fn committed_batch(&self, st: &mut State) -> Vec<ApplyMsg> {
        let mut batch = Vec::new();
        while st.last_applied < st.commit_index {
            let index = st.last_applied.next();
            let Some(entry) = st.log.get(index) else {
                panic!(
                    "raft peer {}: bug: committed entry {index} is not in the log (last applied {}, commit index {}, \
                     log holds {}..={} after a snapshot through {})",
                    self.me,
                    st.last_applied,
                    st.commit_index,
                    st.log.snapshot_index().next(),
                    st.log.last_index(),
                    st.log.snapshot_index()
                );
            };
            batch.push(ApplyMsg::Command {
                index: index.0,
                command: entry.command.clone(),
            });
            st.last_applied = index;
        }
        tracing::trace!(target: "commit", peer = self.me, through = %st.last_applied, "applying");
        batch
    }
}
