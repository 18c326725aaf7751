//! What the peers apply, and the checks on it.
//!
//! Each running peer has an applier thread reading its apply channel. The
//! checks, each a test failure with the seed:
//!
//! - a peer applies index `k + 1` right after `k` (or after a snapshot
//!   through `k`): no gaps, no repeats, no going back;
//! - no two peers ever apply different commands at the same index (the
//!   State Machine Safety property);
//! - a snapshot message carries the index its snapshot was taken at, and
//!   replaces what the peer had applied with a consistent prefix.
//!
//! In snapshot mode the applier plays the service: after every
//! [`SNAPSHOT_EVERY`]-th index it encodes `(index, commands 1..=index)` with
//! the network codec and hands it to `Raft::snapshot`.

use std::collections::BTreeMap;

use labrt::channel::Receiver;
use labrt::sync::{Mutex, MutexGuard};

use super::show;
use crate::{ApplyMsg, Raft};

/// In snapshot mode, the harness snapshots after every index that is a
/// multiple of this.
pub const SNAPSHOT_EVERY: u64 = 10;

/// The service state the harness snapshots: the last index and every
/// command through it.
type Snapshot = (u64, Vec<Vec<u8>>);

struct Inner {
    /// `logs[i][k]`: the command peer `i` applied at index `k`.
    logs: Vec<BTreeMap<u64, Vec<u8>>>,
    /// The last index each peer's current incarnation applied.
    last_applied: Vec<u64>,
    /// Each peer's current incarnation; older ones' messages are ignored.
    incarnation: Vec<u64>,
    max_index: u64,
}

/// Everything the peers applied, shared by the applier threads.
pub struct Applied {
    inner: Mutex<Inner>,
    seed: u64,
}

impl Applied {
    /// Nothing applied yet, for `n` peers.
    pub fn new(n: usize, seed: u64) -> Applied {
        Applied {
            inner: Mutex::new(Inner {
                logs: vec![BTreeMap::new(); n],
                last_applied: vec![0; n],
                incarnation: vec![0; n],
                max_index: 0,
            }),
            seed,
        }
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    #[track_caller]
    fn fail(&self, msg: String) -> ! {
        panic!("{msg} (seed {})", self.seed)
    }

    /// Peer `i` is starting again with `snapshot` in its persister: it
    /// resumes after the snapshot (snapshot mode) or from the beginning.
    /// Returns the new incarnation's number.
    pub fn new_incarnation(&self, i: usize, snapshot: &[u8], snapshots: bool) -> u64 {
        let mut s = self.lock();
        s.incarnation[i] += 1;
        s.last_applied[i] = 0;
        if snapshots && !snapshot.is_empty() {
            let (index, commands) = self.decode(i, snapshot);
            self.ingest(&mut s, i, index, commands);
        }
        s.incarnation[i]
    }

    fn decode(&self, i: usize, bytes: &[u8]) -> Snapshot {
        labrpc::decode::<Snapshot>(bytes).unwrap_or_else(|e| {
            self.fail(format!(
                "peer {i} was given a snapshot that is not one the service made ({} bytes: {e}); \
                 snapshots must be passed on unchanged",
                bytes.len()
            ))
        })
    }

    /// Replaces peer `i`'s applied state with a snapshot's.
    fn ingest(&self, s: &mut Inner, i: usize, index: u64, commands: Vec<Vec<u8>>) {
        if commands.len() as u64 != index {
            self.fail(format!(
                "peer {i}'s snapshot through index {index} holds {} commands",
                commands.len()
            ));
        }
        let mut log = BTreeMap::new();
        for (k, command) in (1..).zip(commands) {
            self.check_agreement(s, i, k, &command);
            log.insert(k, command);
        }
        s.logs[i] = log;
        s.last_applied[i] = index;
        s.max_index = s.max_index.max(index);
    }

    fn check_agreement(&self, s: &Inner, i: usize, index: u64, command: &[u8]) {
        for (j, log) in s.logs.iter().enumerate() {
            if let Some(other) = log.get(&index)
                && other != command
            {
                self.fail(format!(
                    "peers disagree on the command committed at index {index}: peer {i} applied {}, peer {j} applied {}",
                    show(command),
                    show(other)
                ));
            }
        }
    }

    /// Records a command peer `i` applied; returns the snapshot to take, if
    /// one is due.
    fn record_command(
        &self,
        i: usize,
        incarnation: u64,
        index: u64,
        command: Vec<u8>,
        snapshots: bool,
    ) -> Option<Vec<u8>> {
        let mut s = self.lock();
        if s.incarnation[i] != incarnation {
            return None;
        }
        let expected = s.last_applied[i] + 1;
        if index != expected {
            self.fail(format!(
                "peer {i} applied index {index} but the next index it should apply is {expected} (out of order, repeated or skipped)"
            ));
        }
        self.check_agreement(&s, i, index, &command);
        s.logs[i].insert(index, command);
        s.last_applied[i] = index;
        s.max_index = s.max_index.max(index);
        if !snapshots || !index.is_multiple_of(SNAPSHOT_EVERY) {
            return None;
        }
        let commands: Vec<Vec<u8>> = s.logs[i].range(1..=index).map(|(_, c)| c.clone()).collect();
        if commands.len() as u64 != index {
            self.fail(format!(
                "peer {i} is missing applied commands below index {index}"
            ));
        }
        let snap: Snapshot = (index, commands);
        Some(
            labrpc::encode(&snap)
                .unwrap_or_else(|e| self.fail(format!("cannot encode a snapshot: {e}"))),
        )
    }

    fn record_snapshot(&self, i: usize, incarnation: u64, index: u64, bytes: &[u8]) {
        let mut s = self.lock();
        if s.incarnation[i] != incarnation {
            return;
        }
        let (taken_at, commands) = self.decode(i, bytes);
        if taken_at != index {
            self.fail(format!(
                "peer {i} delivered a snapshot message for index {index}, but its snapshot was taken at index {taken_at}"
            ));
        }
        if index <= s.last_applied[i] {
            self.fail(format!(
                "peer {i} delivered a snapshot through index {index} after already applying index {}: it would roll its service back",
                s.last_applied[i]
            ));
        }
        self.ingest(&mut s, i, index, commands);
    }

    /// Reads peer `i`'s apply channel until the peer is killed. With
    /// `raft` (snapshot mode), snapshots every [`SNAPSHOT_EVERY`] entries.
    pub fn run(&self, i: usize, incarnation: u64, rx: Receiver<ApplyMsg>, raft: Option<Raft>) {
        for msg in rx.iter() {
            match msg {
                ApplyMsg::Command { index, command } => {
                    if let Some(snap) =
                        self.record_command(i, incarnation, index, command, raft.is_some())
                        && let Some(raft) = &raft
                    {
                        raft.snapshot(index, snap);
                    }
                }
                ApplyMsg::Snapshot {
                    index, snapshot, ..
                } => {
                    if raft.is_none() {
                        self.fail(format!(
                            "peer {i} delivered a snapshot at index {index} in a test that never made one"
                        ));
                    }
                    self.record_snapshot(i, incarnation, index, &snapshot);
                }
            }
        }
    }

    /// How many peers applied `index`, and the command there.
    pub fn n_committed(&self, index: u64) -> (usize, Option<Vec<u8>>) {
        let s = self.lock();
        let mut count = 0;
        let mut command: Option<&Vec<u8>> = None;
        for (i, log) in s.logs.iter().enumerate() {
            if let Some(c) = log.get(&index) {
                if let Some(prev) = command
                    && prev != c
                {
                    self.fail(format!(
                        "peers disagree on index {index}: {} vs {} (peer {i})",
                        show(prev),
                        show(c)
                    ));
                }
                count += 1;
                command = Some(c);
            }
        }
        (count, command.cloned())
    }

    /// The bytes of the commands peer `i` has applied (in any incarnation,
    /// or through a snapshot) at indices outside `except`.
    pub fn bytes_applied_except(&self, i: usize, except: &std::collections::BTreeSet<u64>) -> u64 {
        self.lock().logs[i]
            .iter()
            .filter(|(k, _)| !except.contains(k))
            .map(|(_, c)| c.len() as u64)
            .sum()
    }

    /// The highest index any peer applied.
    pub fn max_index(&self) -> u64 {
        self.lock().max_index
    }
}
