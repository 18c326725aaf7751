//! The Part A key/value server (reference).

use std::collections::HashMap;

use labrt::sync::{Mutex, MutexGuard};

use crate::kv_rpc::{
    AppendArgs, AppendReply, ClientId, GetArgs, GetReply, PutArgs, PutReply, Seq, WriteTag,
};

/// A key/value server whose `put` and `append` each take effect exactly once.
///
/// For each client it remembers only its latest write and that write's
/// reply: a clerk sends write `n + 1` only after it received the reply to
/// write `n`, so a request numbered `n + 1` proves the old reply arrived and
/// lets the server drop it.
pub struct KvServer {
    state: Mutex<State>,
}

struct State {
    data: HashMap<String, String>,
    last_write: HashMap<ClientId, LastWrite>,
}

/// A client's latest write and what it was answered: the old value for an
/// append, nothing for a put (an empty `String` holds no heap memory).
struct LastWrite {
    seq: Seq,
    old: String,
}

/// What the server makes of a write, given the client's latest one.
enum Freshness {
    /// Not seen before: apply it.
    New,
    /// The latest write again: answer as before.
    Retry,
    /// Older than the latest write: the clerk already has its reply and
    /// has moved on, so nobody will read this answer.
    Stale,
}

impl State {
    fn freshness(&self, tag: WriteTag) -> Freshness {
        match self.last_write.get(&tag.client) {
            None => Freshness::New,
            Some(last) if tag.seq > last.seq => Freshness::New,
            Some(last) if tag.seq == last.seq => Freshness::Retry,
            Some(_) => Freshness::Stale,
        }
    }
}

impl KvServer {
    /// A server holding no keys.
    pub fn new() -> KvServer {
        KvServer {
            state: Mutex::new(State {
                data: HashMap::new(),
                last_write: HashMap::new(),
            }),
        }
    }

    fn state(&self) -> MutexGuard<'_, State> {
        // Every update below is a single map operation, so the state is
        // consistent even if some handler panicked while holding the lock.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Returns the value of `args.key` (`""` if it was never written).
    pub fn get(&self, args: GetArgs) -> GetReply {
        let state = self.state();
        GetReply {
            value: state.data.get(&args.key).cloned().unwrap_or_default(),
        }
    }

    /// Sets `args.key` to `args.value`, once.
    pub fn put(&self, args: PutArgs) -> PutReply {
        let mut state = self.state();
        if let Freshness::New = state.freshness(args.tag) {
            state.data.insert(args.key, args.value);
            state.last_write.insert(
                args.tag.client,
                LastWrite {
                    seq: args.tag.seq,
                    old: String::new(),
                },
            );
        }
        PutReply {}
    }

    /// Appends `args.arg` to `args.key`, once, and replies with the value
    /// from just before the append.
    pub fn append(&self, args: AppendArgs) -> AppendReply {
        let mut state = self.state();
        match state.freshness(args.tag) {
            Freshness::Retry => AppendReply {
                old: state
                    .last_write
                    .get(&args.tag.client)
                    .map(|last| last.old.clone())
                    .unwrap_or_default(),
            },
            Freshness::Stale => AppendReply { old: String::new() },
            Freshness::New => {
                let value = state.data.entry(args.key).or_default();
                let old = value.clone();
                value.push_str(&args.arg);
                // Replacing the entry frees the previous reply.
                state.last_write.insert(
                    args.tag.client,
                    LastWrite {
                        seq: args.tag.seq,
                        old: old.clone(),
                    },
                );
                AppendReply { old }
            }
        }
    }
}

impl Default for KvServer {
    fn default() -> KvServer {
        KvServer::new()
    }
}
