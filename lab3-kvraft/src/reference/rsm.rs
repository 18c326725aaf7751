//! The replicated state machine layer (reference): a service's requests go
//! through Raft, every replica applies them in log order, and the replica
//! that submitted a request hands its reply back to the caller.
//!
//! Three threads meet here:
//!
//! - **callers** of [`Rsm::submit`] (RPC handlers of the service): each
//!   encodes its request with a fresh [`OpId`], hands it to
//!   [`Raft::start`], registers a [`Waiter`] under the log index Start
//!   returned, and blocks on the waiter's own channel;
//! - **the reader** ([`Reader::run`]), the only thread that touches the
//!   state machine: it takes Raft's [`ApplyMsg`]s in order, applies each
//!   command, and sends the reply to the waiter registered at that index
//!   (if the entry there is the one that waiter submitted), restores
//!   snapshots, and takes a snapshot when the Raft state grows too large;
//! - **kill**, which fails every waiter with [`SubmitError::Shutdown`].
//!
//! A waiter learns that it lost in one of three ways, none of them a
//! polling loop over the applied index: a *different* entry is applied at
//! its index (another leader's); an entry of its own term is overtaken at a
//! lower index (Log Matching: its own entry can then never commit); or, when
//! nothing arrives for a while, Raft says the term moved on or this server
//! no longer leads (Raft has no way to tell the service that it lost office,
//! so the waiter asks it every [`LEADERSHIP_CHECK`]).

use std::collections::BTreeMap;

use lab2_raft::{ApplyMsg, Raft, Start};
use labrpc::{ClientEnd, Persister};
use labrt::channel::{self, Receiver, RecvTimeoutError, Sender};
use labrt::rand::{seeded, stream_id};
use labrt::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use labrt::sync::{Arc, Mutex, MutexGuard};
use labrt::thread;
use labrt::time::{Duration, Instant};
use serde::{Deserialize, Serialize};

use crate::{StateMachine, SubmitError};

/// How long [`Rsm::submit`] waits for its entry to be applied before it
/// gives up with [`SubmitError::Timeout`]. Long enough for a healthy leader
/// under load (a round trip is about a millisecond), short enough that a
/// clerk stuck on a leader of a minority soon tries elsewhere.
const SUBMIT_TIMEOUT: Duration = Duration::from_secs(2);

/// How often a waiting [`Rsm::submit`] asks Raft whether this server still
/// leads the term it submitted in.
const LEADERSHIP_CHECK: Duration = Duration::from_millis(50);

/// A snapshot is taken once the persisted Raft state reaches this fraction
/// (in tenths) of `max_raft_state`...
const SNAPSHOT_AT_TENTHS: usize = 9;

/// ... and the reader has applied everything Raft has delivered so far, or
/// has applied this many commands since its last snapshot, or the state has
/// grown to [`DEFER_AT_MOST_TIMES`] × `max_raft_state`. Waiting for the
/// channel to drain means one snapshot after a burst of entries (a follower
/// catching up), not one per entry while the log is still long.
const SNAPSHOT_AFTER_AT_MOST: u64 = 1000;

/// How far past `max_raft_state` a burst may grow the state before the
/// snapshot is taken anyway: small entries (a few dozen bytes) under a small
/// `max_raft_state` would otherwise pass the tests' 8 × bound long before
/// [`SNAPSHOT_AFTER_AT_MOST`] commands (a 1-in-15 failure of
/// `speed_snapshots_3c`, 22 kB under a 1 kB limit).
const DEFER_AT_MOST_TIMES: usize = 2;

/// Which submission an entry is: unique across every incarnation of every
/// server, so that a waiter never mistakes another submission for its own.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
struct OpId {
    /// Drawn from the incarnation's seed: a restarted server submits with
    /// a different one, so its entries are not confused with those of its
    /// previous life (which may still commit at the same indexes).
    nonce: u64,
    /// Counts this incarnation's submissions.
    seq: u64,
}

/// What goes into the Raft log, as encoded by [`Rsm::submit`].
#[derive(Serialize)]
struct EntryOut<'a, Q> {
    id: OpId,
    request: &'a Q,
}

/// What comes out of the Raft log.
#[derive(Deserialize)]
struct EntryIn<Q> {
    id: OpId,
    request: Q,
}

/// The snapshot handed to Raft: the state machine's bytes and the last
/// index they include (so that a restarted replica knows where it is).
#[derive(Serialize)]
struct SnapshotOut<'a> {
    index: u64,
    state: &'a [u8],
}

/// A snapshot read back.
#[derive(Deserialize)]
struct SnapshotIn {
    index: u64,
    state: Vec<u8>,
}

/// A caller of [`Rsm::submit`] waiting for the entry at one index.
struct Waiter<R> {
    id: OpId,
    /// The term [`Raft::start`] returned: the term of the submitted entry.
    term: u64,
    reply_tx: Sender<Result<R, SubmitError>>,
}

/// The waiters, by log index.
struct Waiters<R> {
    by_index: BTreeMap<u64, Waiter<R>>,
}

impl<R> Waiters<R> {
    /// Fails the waiter at `index` and, since its entry lost, every later
    /// waiter of the same term: an entry of that term at a higher index was
    /// appended after the lost one by the same leader, so a log holding it
    /// would hold the lost one too (Log Matching), and none can.
    fn fail_overtaken(&mut self, index: u64, term: u64) {
        let doomed: Vec<u64> = self
            .by_index
            .range(index..)
            .filter(|(_, w)| w.term == term)
            .map(|(&i, _)| i)
            .collect();
        for i in doomed {
            if let Some(w) = self.by_index.remove(&i) {
                let _ = w.reply_tx.send(Err(SubmitError::WrongLeader));
            }
        }
    }

    /// Fails every waiter at or below `index` (a snapshot replaced those
    /// entries; whether they were ours is unknown).
    fn fail_through(&mut self, index: u64) {
        let later = self.by_index.split_off(&(index + 1));
        for (_, w) in std::mem::replace(&mut self.by_index, later) {
            let _ = w.reply_tx.send(Err(SubmitError::WrongLeader));
        }
    }
}

/// What the callers, the reader and kill share.
struct Shared<R> {
    me: usize,
    nonce: u64,
    next_seq: AtomicU64,
    killed: AtomicBool,
    waiters: Mutex<Waiters<R>>,
    /// Dropped by kill, which wakes the reader out of its wait.
    stop_tx: Mutex<Option<Sender<()>>>,
}

impl<R> Shared<R> {
    fn waiters(&self) -> MutexGuard<'_, Waiters<R>> {
        // Every update is a map operation plus a send: consistent even if a
        // thread panicked while holding the lock.
        self.waiters.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// A replicated state machine: one replica of a service `S`, kept in step
/// with the other replicas through Raft.
///
/// Requests submitted on the leader are appended to the Raft log; every
/// replica applies the committed ones to its own `S`, in log order, on one
/// thread; the leader's [`Rsm::submit`] returns the reply of its own
/// request. With `max_raft_state`, the rsm snapshots `S` whenever the
/// persisted Raft state nears that size, and a restarted replica resumes
/// from its last snapshot.
pub struct Rsm<S: StateMachine> {
    raft: Raft,
    shared: Arc<Shared<S::Reply>>,
}

impl<S: StateMachine> Rsm<S> {
    /// Starts replica `me` of the service on the Raft cluster whose ends are
    /// `servers` (`servers[me]` is this server's own end), resuming from what
    /// `persister` holds: the state machine is restored from its snapshot,
    /// if any, before Raft starts delivering the entries after it.
    ///
    /// `max_raft_state`: snapshot when the persisted Raft state nears this
    /// many bytes; `None` never snapshots. `seed` seeds Raft's random choices
    /// (and the rsm's own ids), as [`Raft::new`] describes.
    ///
    /// # Panics
    /// If the persisted snapshot cannot be decoded (only this code writes
    /// it), or a thread cannot be started.
    pub fn new(
        servers: Vec<ClientEnd>,
        me: usize,
        persister: Arc<Persister>,
        max_raft_state: Option<usize>,
        mut state_machine: S,
        seed: u64,
    ) -> Rsm<S> {
        let mut last_applied = 0;
        let saved = persister.read_snapshot();
        if !saved.is_empty() {
            let snap = decode_snapshot(me, &saved);
            state_machine.restore(&snap.state);
            last_applied = snap.index;
        }
        let (apply_tx, apply_rx) = channel::unbounded();
        let raft = Raft::new(servers, me, Arc::clone(&persister), apply_tx, seed);
        let (stop_tx, stop_rx) = channel::bounded(1);
        let shared = Arc::new(Shared {
            me,
            nonce: seeded(seed, stream_id("rsm-op-ids")).next_u64(),
            next_seq: AtomicU64::new(0),
            killed: AtomicBool::new(false),
            waiters: Mutex::new(Waiters {
                by_index: BTreeMap::new(),
            }),
            stop_tx: Mutex::new(Some(stop_tx)),
        });
        let reader = Reader {
            shared: Arc::clone(&shared),
            raft: raft.clone(),
            persister,
            max_raft_state,
            sm: state_machine,
            apply_rx,
            stop_rx,
            last_applied,
            applied_since_snapshot: 0,
        };
        let name = format!("rsm{me}-apply");
        thread::Builder::new()
            .name(name.clone())
            .spawn(move || reader.run())
            .unwrap_or_else(|e| panic!("rsm {me}: cannot start thread {name}: {e}"));
        Rsm { raft, shared }
    }

    /// Submits `request` and waits until it is applied: `Ok` with its reply
    /// once this replica applied it at the index Raft gave it, or an error
    /// saying why it gave up (see [`SubmitError`]: the request may still
    /// take effect).
    ///
    /// Returns [`SubmitError::WrongLeader`] at once on a server that is not
    /// the leader, and within about two seconds (`SUBMIT_TIMEOUT`) in any case.
    ///
    /// # Panics
    /// If the request cannot be encoded.
    pub fn submit(&self, request: S::Request) -> Result<S::Reply, SubmitError> {
        let shared = &*self.shared;
        let id = OpId {
            nonce: shared.nonce,
            seq: shared.next_seq.fetch_add(1, Ordering::Relaxed),
        };
        let command = labrpc::encode(&EntryOut {
            id,
            request: &request,
        })
        .unwrap_or_else(|e| panic!("rsm {}: cannot encode a request: {e}", shared.me));
        let (reply_tx, reply_rx) = channel::bounded(1);
        let Start { index, term } = {
            // Start and register under one lock: the reader resolves an index
            // under the same lock, so it cannot apply the entry before its
            // waiter is there.
            let mut waiters = shared.waiters();
            if shared.killed.load(Ordering::SeqCst) {
                return Err(SubmitError::Shutdown);
            }
            let Some(start) = self.raft.start(command) else {
                return Err(SubmitError::WrongLeader);
            };
            let waiter = Waiter {
                id,
                term: start.term,
                reply_tx,
            };
            if let Some(old) = waiters.by_index.insert(start.index, waiter) {
                // An earlier submission of ours at this index was cut from
                // the log: our new entry replaced it.
                let _ = old.reply_tx.send(Err(SubmitError::WrongLeader));
            }
            start
        };
        tracing::trace!(target: "client", peer = shared.me, index, term, "submitted");
        let deadline = Instant::now() + SUBMIT_TIMEOUT;
        loop {
            let now = Instant::now();
            let wait = LEADERSHIP_CHECK.min(deadline.saturating_duration_since(now));
            match reply_rx.recv_timeout(wait) {
                Ok(result) => return result,
                Err(RecvTimeoutError::Disconnected) => return Err(SubmitError::Shutdown),
                Err(RecvTimeoutError::Timeout) => {
                    let state = self.raft.state();
                    let gave_up = if state.term != term || !state.is_leader {
                        SubmitError::WrongLeader
                    } else if Instant::now() >= deadline {
                        SubmitError::Timeout
                    } else {
                        continue;
                    };
                    return self.abandon(index, id, &reply_rx, gave_up);
                }
            }
        }
    }

    /// Removes our waiter at `index` and returns `gave_up`, unless the
    /// reader answered just before we removed it.
    fn abandon(
        &self,
        index: u64,
        id: OpId,
        reply_rx: &Receiver<Result<S::Reply, SubmitError>>,
        gave_up: SubmitError,
    ) -> Result<S::Reply, SubmitError> {
        {
            let mut waiters = self.shared.waiters();
            if waiters.by_index.get(&index).is_some_and(|w| w.id == id) {
                waiters.by_index.remove(&index);
            }
        }
        reply_rx.try_recv().unwrap_or(Err(gave_up))
    }

    /// This replica's Raft peer (whose `"Raft"` service the server must
    /// register, with [`lab2_raft::service`]).
    pub fn raft(&self) -> &Raft {
        &self.raft
    }

    /// Stops the replica: kills its Raft, fails every waiting submit with
    /// [`SubmitError::Shutdown`] (and every later one), and stops the
    /// reader thread.
    pub fn kill(&self) {
        self.raft.kill();
        let shared = &*self.shared;
        shared.killed.store(true, Ordering::SeqCst);
        let waiting = std::mem::take(&mut shared.waiters().by_index);
        for (_, w) in waiting {
            let _ = w.reply_tx.send(Err(SubmitError::Shutdown));
        }
        shared
            .stop_tx
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take();
    }
}

/// The reader thread's state: it alone owns the state machine.
struct Reader<S: StateMachine> {
    shared: Arc<Shared<S::Reply>>,
    raft: Raft,
    persister: Arc<Persister>,
    max_raft_state: Option<usize>,
    sm: S,
    apply_rx: Receiver<ApplyMsg>,
    stop_rx: Receiver<()>,
    /// The last index applied to `sm` (by a command or a snapshot).
    last_applied: u64,
    applied_since_snapshot: u64,
}

impl<S: StateMachine> Reader<S> {
    /// Applies what Raft delivers until the replica is killed (or Raft
    /// drops its end of the apply channel).
    fn run(mut self) {
        loop {
            let msg = labrt::select! {
                recv(self.apply_rx) -> msg => match msg {
                    Ok(msg) => msg,
                    Err(_) => return,
                },
                recv(self.stop_rx) -> _ => return,
            };
            if self.shared.killed.load(Ordering::SeqCst) {
                return;
            }
            match msg {
                ApplyMsg::Command { index, command } => self.apply_command(index, &command),
                ApplyMsg::Snapshot {
                    index, snapshot, ..
                } => self.install_snapshot(index, &snapshot),
            }
        }
    }

    /// # Panics
    /// If Raft delivers an index other than the next one, or bytes this rsm
    /// did not submit: either is a bug in Raft, and applying anyway would
    /// make this replica's state differ from the others'.
    fn apply_command(&mut self, index: u64, command: &[u8]) {
        let me = self.shared.me;
        if index != self.last_applied + 1 {
            panic!(
                "rsm {me}: Raft delivered the command at index {index} right after index {}; \
                 commands must arrive in log order, each exactly once, with no gap (after a \
                 restart, from the index after the snapshot)",
                self.last_applied
            );
        }
        let entry: EntryIn<S::Request> = labrpc::decode(command).unwrap_or_else(|e| {
            panic!(
                "rsm {me}: the command Raft delivered at index {index} ({} bytes) is not an \
                 entry any rsm submitted: {e}",
                command.len()
            )
        });
        let reply = self.sm.apply(entry.request);
        self.last_applied = index;
        self.applied_since_snapshot += 1;
        {
            let mut waiters = self.shared.waiters();
            if let Some(w) = waiters.by_index.remove(&index) {
                if w.id == entry.id {
                    let _ = w.reply_tx.send(Ok(reply));
                } else {
                    let _ = w.reply_tx.send(Err(SubmitError::WrongLeader));
                    waiters.fail_overtaken(index + 1, w.term);
                }
            }
        }
        self.maybe_snapshot();
    }

    /// Replaces the state with a snapshot from the leader, unless it is
    /// not ahead of what this replica has applied.
    fn install_snapshot(&mut self, index: u64, bytes: &[u8]) {
        let me = self.shared.me;
        if index <= self.last_applied {
            tracing::debug!(target: "snapshot", peer = me, index, applied = self.last_applied,
                "ignoring a snapshot that is not ahead of the applied state");
            return;
        }
        let snap = decode_snapshot(me, bytes);
        if snap.index != index {
            panic!(
                "rsm {me}: Raft delivered a snapshot for index {index}, but the snapshot holds \
                 the state through index {}: Raft must deliver the snapshot with the index it \
                 was taken at",
                snap.index
            );
        }
        self.sm.restore(&snap.state);
        self.last_applied = index;
        self.applied_since_snapshot = 0;
        self.shared.waiters().fail_through(index);
        tracing::debug!(target: "snapshot", peer = me, index, "installed the leader's snapshot");
    }

    /// Snapshots when the persisted Raft state nears `max_raft_state` (see
    /// [`SNAPSHOT_AFTER_AT_MOST`] for when exactly).
    fn maybe_snapshot(&mut self) {
        let Some(max) = self.max_raft_state else {
            return;
        };
        let size = self.persister.raft_state_size();
        if size * 10 < max * SNAPSHOT_AT_TENTHS {
            return;
        }
        if !self.apply_rx.is_empty()
            && self.applied_since_snapshot < SNAPSHOT_AFTER_AT_MOST
            && size < max * DEFER_AT_MOST_TIMES
        {
            return;
        }
        let state = self.sm.snapshot();
        let bytes = labrpc::encode(&SnapshotOut {
            index: self.last_applied,
            state: &state,
        })
        .unwrap_or_else(|e| panic!("rsm {}: cannot encode a snapshot: {e}", self.shared.me));
        tracing::debug!(target: "snapshot", peer = self.shared.me, index = self.last_applied,
            raft_state = size, bytes = bytes.len(), "snapshot");
        self.raft.snapshot(self.last_applied, bytes);
        self.applied_since_snapshot = 0;
    }
}

/// Decodes a snapshot this module wrote.
///
/// # Panics
/// If the bytes are not one: only this module writes snapshots.
fn decode_snapshot(me: usize, bytes: &[u8]) -> SnapshotIn {
    labrpc::decode(bytes).unwrap_or_else(|e| {
        panic!(
            "rsm {me}: cannot decode a snapshot of {} bytes: {e}",
            bytes.len()
        )
    })
}
