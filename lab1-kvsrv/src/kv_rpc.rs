//! The messages a [`Clerk`](crate::Clerk) and the [`KvServer`](crate::KvServer)
//! exchange in Part A. **You edit this file.**
//!
//! The harness registers the server's three methods under the names below
//! and never looks inside the messages, so you are free to add fields: a
//! server cannot recognise a retried request unless the request says who sent
//! it and which of that sender's operations it is. Keep the six type names;
//! the harness names them when it registers the handlers.
//!
//! Every message is encoded to bytes on each call (serde + postcard), so the
//! fields must be plain data that derives `Serialize` and `Deserialize`.

use serde::{Deserialize, Serialize};

/// The call name of [`KvServer::get`](crate::KvServer::get).
pub const GET: &str = "KvServer.Get";
/// The call name of [`KvServer::put`](crate::KvServer::put).
pub const PUT: &str = "KvServer.Put";
/// The call name of [`KvServer::append`](crate::KvServer::append).
pub const APPEND: &str = "KvServer.Append";

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
}

/// Reply of [`APPEND`].
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct AppendReply {
    /// The key's value just before this append.
    pub old: String,
}
