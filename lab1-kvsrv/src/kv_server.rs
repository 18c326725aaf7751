//! The Part A key/value server. **You edit this file.**

// The kit's lock, not std's: student code blocks, sleeps and reads the clock
// only through `labrt` (see the handout). Drop the `allow` once you use it.
#[allow(unused_imports)]
use labrt::sync::Mutex;

use crate::kv_rpc::{AppendArgs, AppendReply, GetArgs, GetReply, PutArgs, PutReply};

/// A key/value server whose `put` and `append` each take effect exactly once,
/// however often the network makes a clerk retry them.
///
/// The harness creates one server, wraps it in an `Arc` and registers
/// [`KvServer::get`], [`KvServer::put`] and [`KvServer::append`] as RPC
/// handlers. Handlers run concurrently on many threads, so keep the state
/// behind a [`Mutex`] (`labrt::sync::Mutex`).
///
/// Memory is part of the contract (the memory tests measure it exactly):
/// for each client, keep only what that client's next retry could need, and
/// free it as soon as the client's next request shows the reply arrived. A
/// value that is overwritten must be freed at once; reads must leave nothing
/// behind.
pub struct KvServer {}

impl KvServer {
    /// A server holding no keys.
    pub fn new() -> KvServer {
        todo!("Part A: create the server's state")
    }

    /// Returns the value of `args.key` (`""` if it was never written).
    /// Reading changes nothing, so a repeated get needs no special care.
    pub fn get(&self, args: GetArgs) -> GetReply {
        let _ = args;
        todo!("Part A: KvServer::get")
    }

    /// Sets `args.key` to `args.value`, unless this very request was already
    /// applied (a retry after a lost reply): then it changes nothing.
    pub fn put(&self, args: PutArgs) -> PutReply {
        let _ = args;
        todo!("Part A: KvServer::put")
    }

    /// Appends `args.arg` to the value of `args.key` (a missing key counts
    /// as `""`) and replies with the value from just before the append.
    ///
    /// The subtle case: the server applied an append but the reply was lost,
    /// and the clerk sends the same request again. The append must not
    /// happen twice, and the retry must get the *same* old value as the lost
    /// reply carried, even if other clients have appended since.
    pub fn append(&self, args: AppendArgs) -> AppendReply {
        let _ = args;
        todo!("Part A: KvServer::append")
    }
}

impl Default for KvServer {
    fn default() -> KvServer {
        KvServer::new()
    }
}
