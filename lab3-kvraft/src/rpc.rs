//! The messages a [`Clerk`](crate::Clerk) and a [`KvServer`](crate::KvServer)
//! exchange. **You edit this file.**
//!
//! The harness registers the server's three methods under the names below
//! and never looks inside the messages, so you are free to add fields: a
//! replica cannot recognise a retried write unless the request says who
//! sent it and which of that sender's writes it is. Keep the six type names
//! and the three call names; the harness names them when it registers the
//! handlers.
//!
//! Every message is encoded to bytes on each call (serde + postcard), so the
//! fields must be plain data that derives `Serialize` and `Deserialize`.

use serde::{Deserialize, Serialize};

use crate::SubmitError;

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
    /// The key's value (`""` if it was never written), or why this server
    /// did not read it (try another one).
    pub result: Result<String, SubmitError>,
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
}

/// Reply of [`APPEND`].
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct AppendReply {
    /// The key's value just before this append, or why this server did not
    /// apply it.
    pub result: Result<String, SubmitError>,
}
