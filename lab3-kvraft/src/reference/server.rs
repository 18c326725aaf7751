//! The key/value server (reference): a [`KvStore`] state machine, replicated
//! by an [`Rsm`], behind three RPC handlers.

use std::collections::BTreeMap;

use lab2_raft::Raft;
use labrpc::{ClientEnd, Persister};
use labrt::sync::Arc;
use serde::{Deserialize, Serialize};

use crate::rpc::{
    AppendArgs, AppendReply, ClientId, GetArgs, GetReply, PutArgs, PutReply, Seq, WriteTag,
};
use crate::{Rsm, StateMachine};

/// One operation, as it travels through the Raft log.
#[derive(Debug, Serialize, Deserialize)]
pub enum Command {
    /// Read a key.
    Get {
        /// The key.
        key: String,
    },
    /// Replace a key's value.
    Put {
        /// The key.
        key: String,
        /// The new value.
        value: String,
        /// The write's identity, for duplicate detection.
        tag: WriteTag,
    },
    /// Extend a key's value, returning the value before.
    Append {
        /// The key.
        key: String,
        /// What to add.
        arg: String,
        /// The write's identity, for duplicate detection.
        tag: WriteTag,
    },
}

/// A client's latest write and what it was answered: the old value for an
/// append, nothing for a put (an empty `String` holds no heap memory).
#[derive(Debug, Serialize, Deserialize)]
struct LastWrite {
    seq: Seq,
    old: String,
}

/// The replicated state: the data, and for each client its latest write.
///
/// The duplicate table is part of the state machine, not of the server: a
/// retry may reach a different replica than the first try (the leader
/// changed in between), and that replica must know the write was applied.
/// Being in the state machine, it is applied in log order on every replica
/// and saved in every snapshot, so every replica that applies a write knows
/// about it, before and after a crash.
///
/// One entry per client, replaced by each newer write: a clerk sends write
/// `n + 1` only after it got the reply to write `n`, so once write `n + 1`
/// is applied nobody can ask for write `n`'s reply again.
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct KvStore {
    data: BTreeMap<String, String>,
    last_write: BTreeMap<ClientId, LastWrite>,
}

/// What the store makes of a write, given the client's latest one.
enum Freshness {
    /// Not seen before: apply it.
    New,
    /// The latest write again: answer as before.
    Retry,
    /// Older than the latest write: the clerk has its reply and has moved
    /// on, so nobody reads this answer.
    Stale,
}

impl KvStore {
    fn freshness(&self, tag: WriteTag) -> Freshness {
        match self.last_write.get(&tag.client) {
            None => Freshness::New,
            Some(last) if tag.seq > last.seq => Freshness::New,
            Some(last) if tag.seq == last.seq => Freshness::Retry,
            Some(_) => Freshness::Stale,
        }
    }

    fn remember(&mut self, tag: WriteTag, old: String) {
        // Replacing the entry frees the previous reply.
        self.last_write
            .insert(tag.client, LastWrite { seq: tag.seq, old });
    }
}

impl StateMachine for KvStore {
    type Request = Command;
    /// The value read (get), the value before (append), or `""` (put).
    type Reply = String;

    fn apply(&mut self, command: Command) -> String {
        match command {
            Command::Get { key } => self.data.get(&key).cloned().unwrap_or_default(),
            Command::Put { key, value, tag } => {
                if let Freshness::New = self.freshness(tag) {
                    self.data.insert(key, value);
                    self.remember(tag, String::new());
                }
                String::new()
            }
            Command::Append { key, arg, tag } => match self.freshness(tag) {
                Freshness::Retry => self
                    .last_write
                    .get(&tag.client)
                    .map(|last| last.old.clone())
                    .unwrap_or_default(),
                Freshness::Stale => String::new(),
                Freshness::New => {
                    let value = self.data.entry(key).or_default();
                    let old = value.clone();
                    value.push_str(&arg);
                    self.remember(tag, old.clone());
                    old
                }
            },
        }
    }

    fn snapshot(&self) -> Vec<u8> {
        labrpc::encode(self).unwrap_or_else(|e| panic!("kv: cannot encode the store: {e}"))
    }

    fn restore(&mut self, snapshot: &[u8]) {
        *self = labrpc::decode(snapshot).unwrap_or_else(|e| {
            panic!(
                "kv: cannot decode a snapshot of {} bytes: {e}",
                snapshot.len()
            )
        });
    }
}

/// One replica of the key/value service: a `KvStore` kept in step with
/// the other replicas by an [`Rsm`]. Only the leader's handlers succeed;
/// the others answer [`SubmitError::WrongLeader`](crate::SubmitError).
pub struct KvServer {
    rsm: Rsm<KvStore>,
}

impl KvServer {
    /// Starts replica `me` of the service whose servers are reached through
    /// `servers`, resuming from `persister`; see [`Rsm::new`] for
    /// `max_raft_state` and `seed`.
    pub fn new(
        servers: Vec<ClientEnd>,
        me: usize,
        persister: Arc<Persister>,
        max_raft_state: Option<usize>,
        seed: u64,
    ) -> KvServer {
        KvServer {
            rsm: Rsm::new(
                servers,
                me,
                persister,
                max_raft_state,
                KvStore::default(),
                seed,
            ),
        }
    }

    /// The value of `args.key` (`""` if it was never written), read at a
    /// point in the log, so that it reflects every write that completed
    /// before the call.
    pub fn get(&self, args: GetArgs) -> GetReply {
        GetReply {
            result: self.rsm.submit(Command::Get { key: args.key }),
        }
    }

    /// Sets `args.key` to `args.value`, once however often it is retried.
    pub fn put(&self, args: PutArgs) -> PutReply {
        let command = Command::Put {
            key: args.key,
            value: args.value,
            tag: args.tag,
        };
        PutReply {
            result: self.rsm.submit(command).map(drop),
        }
    }

    /// Appends `args.arg` to `args.key`, once, and replies with the value
    /// from just before the append (the same value to every retry).
    pub fn append(&self, args: AppendArgs) -> AppendReply {
        let command = Command::Append {
            key: args.key,
            arg: args.arg,
            tag: args.tag,
        };
        AppendReply {
            result: self.rsm.submit(command),
        }
    }

    /// This replica's Raft peer (the harness registers its service).
    pub fn raft(&self) -> &Raft {
        self.rsm.raft()
    }

    /// Stops the replica (see [`Rsm::kill`]).
    pub fn kill(&self) {
        self.rsm.kill();
    }
}
