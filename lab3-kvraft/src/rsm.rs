//! Part A: the replicated state machine layer. **You edit this file.**
//!
//! An [`Rsm`] sits between Raft and a service (any [`StateMachine`]): the
//! service's RPC handlers call [`Rsm::submit`], which hands the request to
//! Raft and waits until this replica has applied it. Read the handout
//! (`docs/lab3-kvraft.md`, part A) first. Keep the public API below (the
//! tests, your key/value server and the labs after this one call it);
//! everything else is a sketch you can reshape.
//!
//! The usual shape:
//!
//! - `new` restores the state machine from the persister's snapshot (part
//!   C), makes the apply channel, starts Raft with its sending half, and
//!   starts one **applier thread** that owns the state machine: it receives
//!   every `ApplyMsg` in order, applies each command, and hands the reply to
//!   whoever is waiting for that log index;
//! - `submit` encodes the request together with an id of its own (so that it
//!   can tell its entry from another server's at the same index), calls
//!   `raft.start`, registers a waiter (a channel) under the index Start
//!   returned, and blocks on that channel. Register while holding the same
//!   lock the applier takes to look up waiters, or the entry can be applied
//!   before anyone waits for it. Never poll the applied index in a loop of
//!   sleeps: wait on the channel;
//! - a waiter gives up with an error when a *different* entry is applied at
//!   its index (leadership was lost), when Raft reports a newer term or no
//!   longer leading (Raft cannot notify you, so check `raft.state()` every
//!   few tens of milliseconds while you wait), after a timeout, and when the
//!   replica is killed;
//! - `kill` kills Raft, fails every waiter with [`SubmitError::Shutdown`]
//!   and stops the applier.
//!
//! Threads, locks, channels and time come from `labrt` only. What you will
//! likely want:
//!
//! ```text
//! use labrt::channel::{self, Receiver, RecvTimeoutError, Sender};
//! use labrt::rand::Rng;                              // Rng::new(seed): a per-incarnation id
//! use labrt::sync::atomic::{AtomicBool, AtomicU64, Ordering};
//! use labrt::sync::{Arc, Mutex, MutexGuard};
//! use labrt::thread;
//! use labrt::time::{Duration, Instant};
//! ```

use std::collections::BTreeMap;

use lab2_raft::Raft;
use labrpc::{ClientEnd, Persister};
use labrt::channel::Sender;
use labrt::sync::{Arc, Mutex};

use crate::{StateMachine, SubmitError};

/// A replicated state machine: one replica of a service `S`, kept in step
/// with the other replicas through Raft.
pub struct Rsm<S: StateMachine> {
    /// This replica's Raft peer.
    raft: Raft,
    /// What `submit` callers, the applier thread and `kill` share. A
    /// sketch: reshape it as you like.
    shared: Arc<Shared<S::Reply>>,
}

/// A sketch of the shared state.
#[allow(dead_code)] // Delete this line once your code uses every field.
struct Shared<R> {
    /// This replica's index among the servers.
    me: usize,
    /// For each log index a caller waits on, where to send its outcome.
    waiting: Mutex<BTreeMap<u64, Sender<Result<R, SubmitError>>>>,
}

impl<S: StateMachine> Rsm<S> {
    /// Starts replica `me` of the service on the Raft cluster whose ends are
    /// `servers` (`servers[me]` is this server's own end), resuming from what
    /// `persister` holds.
    ///
    /// `max_raft_state`: when the persister's Raft state nears this many
    /// bytes, snapshot the state machine and call `Raft::snapshot` (part C);
    /// `None`: never snapshot. `seed` is for Raft's random choices: pass it
    /// to `Raft::new` (and derive anything random of your own from it).
    pub fn new(
        servers: Vec<ClientEnd>,
        me: usize,
        persister: Arc<Persister>,
        max_raft_state: Option<usize>,
        state_machine: S,
        seed: u64,
    ) -> Rsm<S> {
        let _ = (servers, me, persister, max_raft_state, state_machine, seed);
        todo!("Rsm::new: start Raft and the applier thread (part A)")
    }

    /// Submits `request` and waits until this replica has applied it: `Ok`
    /// with its reply, or an error saying why it gave up (the request may
    /// still take effect). Must return promptly on a server that is not the
    /// leader, within a few seconds in any case, and at once after `kill`.
    pub fn submit(&self, request: S::Request) -> Result<S::Reply, SubmitError> {
        let _ = (&self.shared, request);
        todo!("Rsm::submit (part A)")
    }

    /// This replica's Raft peer (whose `"Raft"` service the server must
    /// register, with `lab2_raft::service`).
    pub fn raft(&self) -> &Raft {
        &self.raft
    }

    /// Stops the replica: kills Raft, fails every waiting `submit` (and
    /// every later one) with [`SubmitError::Shutdown`], stops the applier.
    pub fn kill(&self) {
        todo!("Rsm::kill (part A)")
    }
}
