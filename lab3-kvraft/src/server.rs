//! Part B (and C): the key/value server. **You edit this file.**
//!
//! A [`KvServer`] is one replica: a key/value state machine (`KvStore`
//! below) replicated by your [`Rsm`]. Its handlers turn each RPC into a
//! `Command`, submit it, and answer with the reply, or with the
//! [`SubmitError`](crate::SubmitError) that tells the clerk to try another
//! server.
//!
//! The duplicate table (for each client, its latest write and that write's
//! reply) belongs in `KvStore`, not in `KvServer`: a retry may reach a
//! different replica than the first try, and that replica must know the
//! write was applied. In the state machine it is applied in log order on
//! every replica and saved in every snapshot. Keep one entry per client.
//!
//! Everything the state machine does must be deterministic: keep maps that
//! are iterated or serialized in a `BTreeMap`, never a `HashMap`.

use std::collections::BTreeMap;

use lab2_raft::Raft;
use labrpc::{ClientEnd, Persister};
use labrt::sync::Arc;
use serde::{Deserialize, Serialize};

use crate::rpc::{AppendArgs, AppendReply, GetArgs, GetReply, PutArgs, PutReply};
use crate::{Rsm, StateMachine};

/// One operation as it travels through the Raft log. A sketch: add what
/// duplicate detection needs.
#[allow(dead_code)] // Delete this line once your code uses every variant.
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
    },
    /// Extend a key's value, returning the value before.
    Append {
        /// The key.
        key: String,
        /// What to add.
        arg: String,
    },
}

/// The replicated state. A sketch: add the duplicate table.
#[allow(dead_code)] // Delete this line once your code uses every field.
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct KvStore {
    data: BTreeMap<String, String>,
}

impl StateMachine for KvStore {
    type Request = Command;
    /// The value read (get), the value before (append), or `""` (put).
    type Reply = String;

    fn apply(&mut self, command: Command) -> String {
        let _ = command;
        todo!("KvStore::apply (part B)")
    }

    fn snapshot(&self) -> Vec<u8> {
        todo!("KvStore::snapshot (part C): labrpc::encode the whole store")
    }

    fn restore(&mut self, snapshot: &[u8]) {
        let _ = snapshot;
        todo!("KvStore::restore (part C)")
    }
}

/// One replica of the key/value service. The harness makes one per server,
/// registers [`KvServer::get`], [`KvServer::put`] and [`KvServer::append`]
/// as RPC handlers (they run concurrently, on many threads) beside
/// [`KvServer::raft`]'s service, and calls [`KvServer::kill`] when the
/// server crashes.
pub struct KvServer {
    rsm: Rsm<KvStore>,
}

impl KvServer {
    /// Starts replica `me` of the service whose servers are reached through
    /// `servers`, resuming from `persister`; `max_raft_state` and `seed` go
    /// to [`Rsm::new`].
    pub fn new(
        servers: Vec<ClientEnd>,
        me: usize,
        persister: Arc<Persister>,
        max_raft_state: Option<usize>,
        seed: u64,
    ) -> KvServer {
        let _ = (servers, me, persister, max_raft_state, seed);
        todo!("KvServer::new (part B)")
    }

    /// The value of `args.key` (`""` if it was never written), reflecting
    /// every write that completed before the call.
    pub fn get(&self, args: GetArgs) -> GetReply {
        let _ = args;
        todo!("KvServer::get (part B)")
    }

    /// Sets `args.key` to `args.value`, once however often it is retried.
    pub fn put(&self, args: PutArgs) -> PutReply {
        let _ = args;
        todo!("KvServer::put (part B)")
    }

    /// Appends `args.arg` to `args.key`, once, and replies with the value
    /// from just before the append (the same value to every retry).
    pub fn append(&self, args: AppendArgs) -> AppendReply {
        let _ = args;
        todo!("KvServer::append (part B)")
    }

    /// This replica's Raft peer (the harness registers its service).
    pub fn raft(&self) -> &Raft {
        self.rsm.raft()
    }

    /// Stops the replica.
    pub fn kill(&self) {
        self.rsm.kill();
    }
}
