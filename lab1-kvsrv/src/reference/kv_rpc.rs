//! The messages a [`Clerk`](crate::Clerk) and the [`KvServer`](crate::KvServer)
//! exchange in Part A (reference).
//!
//! `put` and `append` carry the clerk's id and a per-clerk sequence number,
//! which is all the server needs to recognise a retry. `get` carries neither:
//! reads are harmless to repeat, and a read that registers its client would
//! cost the server memory for every reader.

use serde::{Deserialize, Serialize};

/// The call name of [`KvServer::get`](crate::KvServer::get).
pub const GET: &str = "KvServer.Get";
/// The call name of [`KvServer::put`](crate::KvServer::put).
pub const PUT: &str = "KvServer.Put";
/// The call name of [`KvServer::append`](crate::KvServer::append).
pub const APPEND: &str = "KvServer.Append";

/// Which clerk sent a request: unique among all clerks of the process.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ClientId(pub u64);

/// Which of a clerk's writes a request is: 1 for its first put or append,
/// one more for each later one. Retries of one write repeat its number.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Seq(pub u64);

/// Who is asking, and for which of their writes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct WriteTag {
    /// The clerk.
    pub client: ClientId,
    /// The write.
    pub seq: Seq,
}

/// Arguments of [`GET`].
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct GetArgs {
    /// The key to read.
    pub key: String,
}

/// Reply of [`GET`].
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct GetReply {
    /// The key's value, `""` if the key was never written.
    pub value: String,
}

/// Arguments of [`PUT`].
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct PutArgs {
    /// The key to write.
    pub key: String,
    /// Its new value.
    pub value: String,
    /// Identifies this write across retries.
    pub tag: WriteTag,
}

/// Reply of [`PUT`].
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct PutReply {}

/// Arguments of [`APPEND`].
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct AppendArgs {
    /// The key to extend.
    pub key: String,
    /// What to add to the end of its value.
    pub arg: String,
    /// Identifies this write across retries.
    pub tag: WriteTag,
}

/// Reply of [`APPEND`].
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct AppendReply {
    /// The key's value just before this append.
    pub old: String,
}
