//! The Part A clerk (reference).

use labrpc::{ClientEnd, RpcError};
use labrt::sync::atomic::{AtomicU64, Ordering};
use labrt::thread;
use labrt::time::Duration;
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::kv_rpc::{
    APPEND, AppendArgs, AppendReply, ClientId, GET, GetArgs, GetReply, PUT, PutArgs, PutReply, Seq,
    WriteTag,
};

/// How long to wait before retrying a call that got no reply.
const RETRY_PAUSE: Duration = Duration::from_millis(10);

/// A fresh id, unique within the process. Every clerk of a test lives in
/// this one process, so a counter is enough; clerks spread over machines
/// would draw 64 random bits instead.
fn fresh_client_id() -> ClientId {
    static NEXT: AtomicU64 = AtomicU64::new(1);
    ClientId(NEXT.fetch_add(1, Ordering::Relaxed))
}

/// A client of the [`KvServer`](crate::KvServer). Each operation returns only
/// once the server has executed it, exactly once.
pub struct Clerk {
    end: ClientEnd,
    id: ClientId,
    /// The number the next write will carry.
    next_seq: Seq,
}

impl Clerk {
    /// A clerk that talks to the server through `end`.
    pub fn new(end: ClientEnd) -> Clerk {
        Clerk {
            end,
            id: fresh_client_id(),
            next_seq: Seq(1),
        }
    }

    /// Returns the current value of `key`, `""` if it was never written.
    pub fn get(&mut self, key: &str) -> String {
        let args = GetArgs {
            key: key.to_owned(),
        };
        let reply: GetReply = self.call_until_answered(GET, &args);
        reply.value
    }

    /// Sets `key` to `value`, exactly once.
    pub fn put(&mut self, key: &str, value: &str) {
        let args = PutArgs {
            key: key.to_owned(),
            value: value.to_owned(),
            tag: self.next_tag(),
        };
        let _: PutReply = self.call_until_answered(PUT, &args);
    }

    /// Appends `arg` to `key`, exactly once, and returns the value from just
    /// before the append.
    pub fn append(&mut self, key: &str, arg: &str) -> String {
        let args = AppendArgs {
            key: key.to_owned(),
            arg: arg.to_owned(),
            tag: self.next_tag(),
        };
        let reply: AppendReply = self.call_until_answered(APPEND, &args);
        reply.old
    }

    fn next_tag(&mut self) -> WriteTag {
        let tag = WriteTag {
            client: self.id,
            seq: self.next_seq,
        };
        self.next_seq = Seq(self.next_seq.0 + 1);
        tag
    }

    fn call_until_answered<A, R>(&self, method: &str, args: &A) -> R
    where
        A: Serialize + 'static,
        R: DeserializeOwned + 'static,
    {
        loop {
            match self.end.call::<A, R>(method, args) {
                Ok(reply) => return reply,
                Err(RpcError::NoReply) => {
                    tracing::trace!(target: "client", client = self.id.0, "{method}: no reply, retrying");
                    thread::sleep(RETRY_PAUSE);
                }
                Err(RpcError::NetworkClosed) => panic!(
                    "clerk {}: the network was shut down while {method} was waiting for the server; \
                     the operation cannot complete",
                    self.id.0
                ),
            }
        }
    }
}
