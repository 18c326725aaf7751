//! The clerk (reference): finds the leader, remembers it, and retries each
//! operation until some server has applied it.

use labrpc::{ClientEnd, RpcError};
use labrt::sync::atomic::{AtomicU64, Ordering};
use labrt::thread;
use labrt::time::Duration;
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::SubmitError;
use crate::rpc::{
    APPEND, AppendArgs, AppendReply, ClientId, GET, GetArgs, GetReply, PUT, PutArgs, PutReply, Seq,
    WriteTag,
};

/// How long to pause after every server was tried once without success
/// (during an election nobody leads for a few hundred milliseconds).
const ROUND_PAUSE: Duration = Duration::from_millis(20);

/// A fresh id, unique within the process. Every clerk of a test lives in
/// this one process, so a counter is enough; clerks spread over machines
/// would draw 64 random bits instead.
fn fresh_client_id() -> ClientId {
    static NEXT: AtomicU64 = AtomicU64::new(1);
    ClientId(NEXT.fetch_add(1, Ordering::Relaxed))
}

/// A client of the replicated key/value service. Each operation returns
/// once some server applied it, exactly once.
pub struct Clerk {
    servers: Vec<ClientEnd>,
    /// The server that answered last: most likely still the leader.
    leader: usize,
    id: ClientId,
    /// The number the next write will carry.
    next_seq: Seq,
}

impl Clerk {
    /// A clerk that reaches the servers through `servers` (one end per
    /// server, in no particular order).
    pub fn new(servers: Vec<ClientEnd>) -> Clerk {
        assert!(
            !servers.is_empty(),
            "Clerk::new: a clerk needs at least one server"
        );
        Clerk {
            servers,
            leader: 0,
            id: fresh_client_id(),
            next_seq: Seq(1),
        }
    }

    /// The current value of `key` (`""` if it was never written).
    pub fn get(&mut self, key: &str) -> String {
        let args = GetArgs {
            key: key.to_owned(),
        };
        self.call(GET, &args, |r: GetReply| r.result)
    }

    /// Sets `key` to `value`, exactly once.
    pub fn put(&mut self, key: &str, value: &str) {
        let args = PutArgs {
            key: key.to_owned(),
            value: value.to_owned(),
            tag: self.next_tag(),
        };
        self.call(PUT, &args, |r: PutReply| r.result);
    }

    /// Appends `arg` to `key`, exactly once, and returns the value from just
    /// before the append.
    pub fn append(&mut self, key: &str, arg: &str) -> String {
        let args = AppendArgs {
            key: key.to_owned(),
            arg: arg.to_owned(),
            tag: self.next_tag(),
        };
        self.call(APPEND, &args, |r: AppendReply| r.result)
    }

    fn next_tag(&mut self) -> WriteTag {
        let tag = WriteTag {
            client: self.id,
            seq: self.next_seq,
        };
        self.next_seq = Seq(self.next_seq.0 + 1);
        tag
    }

    /// Sends `args` to the leader we know of, then to each server in turn,
    /// until one applies it.
    ///
    /// A server that answers with an error does not lead (or cannot commit):
    /// move on at once. A call with no reply was most likely lost on the way
    /// (one in five on an unreliable network), so the same server gets one
    /// more try before the clerk moves on; a crashed or cut-off server
    /// costs two failed calls that way, each under 100 ms.
    fn call<A, R, T>(
        &mut self,
        method: &str,
        args: &A,
        result: impl Fn(R) -> Result<T, SubmitError>,
    ) -> T
    where
        A: Serialize + 'static,
        R: DeserializeOwned + 'static,
    {
        let n = self.servers.len();
        let mut moves = 0;
        let mut lost_here = false;
        loop {
            let move_on = match self.servers[self.leader].call::<A, R>(method, args) {
                Ok(reply) => match result(reply) {
                    Ok(value) => return value,
                    Err(e) => {
                        tracing::trace!(target: "client", client = self.id.0, server = self.leader, "{method}: {e}");
                        true
                    }
                },
                Err(RpcError::NoReply) => {
                    tracing::trace!(target: "client", client = self.id.0, server = self.leader, "{method}: no reply");
                    // Second loss in a row here: move on. First: try again.
                    let second = lost_here;
                    lost_here = true;
                    second
                }
                Err(RpcError::NetworkClosed) => panic!(
                    "clerk {}: the network was shut down while {method} was waiting for a server; \
                     the operation cannot complete",
                    self.id.0
                ),
            };
            if move_on {
                lost_here = false;
                self.leader = (self.leader + 1) % n;
                moves += 1;
                if moves % n == 0 {
                    thread::sleep(ROUND_PAUSE);
                }
            }
        }
    }
}
