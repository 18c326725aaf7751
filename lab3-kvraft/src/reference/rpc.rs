//! The messages a [`Clerk`](crate::Clerk) and a [`KvServer`](crate::KvServer)
//! exchange (reference).
//!
//! Writes carry the clerk's id and a per-clerk sequence number, which is
//! all a replica's duplicate table needs to recognise a retry, whichever
//! server the first try went to. Gets carry neither: a read is harmless to
//! repeat, and registering readers would cost every replica memory for each
//! of them. Every reply says whether the server applied the operation
//! (`Ok`) or why not (a [`SubmitError`]: try another server).

use serde::{Deserialize, Serialize};

use crate::SubmitError;

/// The call name of [`KvServer::get`](crate::KvServer::get).
pub const GET: &str = "KvServer.Get";
/// The call name of [`KvServer::put`](crate::KvServer::put).
pub const PUT: &str = "KvServer.Put";
/// The call name of [`KvServer::append`](crate::KvServer::append).
pub const APPEND: &str = "KvServer.Append";

/// Which clerk sent a request: unique among all clerks of the process.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
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
    /// The key's value (`""` if it was never written), or why this server
    /// did not read it.
    pub result: Result<String, SubmitError>,
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
pub struct PutReply {
    /// `Ok` once the put is applied, or why this server did not apply it.
    pub result: Result<(), SubmitError>,
}

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
    /// The key's value just before this append, or why this server did not
    /// apply it.
    pub result: Result<String, SubmitError>,
}
