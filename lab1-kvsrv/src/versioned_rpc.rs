//! The messages of the versioned key/value service (Part B), and the errors
//! its clerk reports.
//!
//! This file is part of the harness: the messages are fixed, so that a clerk
//! cannot make its puts exactly-once by adding a client id. Part B is about
//! what a clerk can and cannot know when its only tool is the version.
//!
//! The service is registered as `VersionedKv`; call its methods through a
//! [`labrpc::ClientEnd`] as [`GET`] (`GetArgs` → `GetReply`) and [`PUT`]
//! (`PutArgs` → `PutReply`).

use std::fmt;

use serde::{Deserialize, Serialize};

/// The name a clerk calls to read a key.
pub const GET: &str = "VersionedKv.Get";
/// The name a clerk calls to write a key.
pub const PUT: &str = "VersionedKv.Put";

/// How many times a key has been written: [`Version::ABSENT`] (0) while the
/// key does not exist, 1 after the put that created it, and one more after
/// each later successful put.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
pub struct Version(pub u64);

impl Version {
    /// The version of a key that does not exist. A put with this version
    /// creates the key (whose version then becomes 1).
    pub const ABSENT: Version = Version(0);

    /// The version a key has after one more successful put.
    pub fn next(self) -> Version {
        Version(self.0 + 1)
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "v{}", self.0)
    }
}

/// Arguments of [`GET`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct GetArgs {
    /// The key to read.
    pub key: String,
}

/// Reply of [`GET`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct GetReply {
    /// The key's value and version, or `None` if the key does not exist.
    pub found: Option<(String, Version)>,
}

/// Arguments of [`PUT`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PutArgs {
    /// The key to write.
    pub key: String,
    /// The value to store.
    pub value: String,
    /// The version the caller believes the key has now; the put applies
    /// only if it is right ([`Version::ABSENT`] to create the key).
    pub version: Version,
}

/// Reply of [`PUT`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PutReply {
    /// `Ok(())` if the put applied, otherwise why the server refused it.
    pub result: Result<(), PutRefused>,
}

/// Why the server refused a put. A refused put changed nothing.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum PutRefused {
    /// The key does not exist and the put's version was not
    /// [`Version::ABSENT`].
    NoKey,
    /// The key exists and its version differs from the put's.
    Version,
}

/// Why a clerk's put did not (certainly) apply.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum PutError {
    /// The key does not exist and the put's version was not
    /// [`Version::ABSENT`]. The put did not apply.
    NoKey,
    /// The server answered the clerk's *first* attempt: the key's version
    /// differs from the put's. The put did not apply.
    Version,
    /// A *retried* attempt met a version mismatch: the put may have applied
    /// (an earlier attempt got through and only its reply was lost) or not
    /// (someone else's put got there first). The clerk cannot tell which.
    Maybe,
}

impl From<PutRefused> for PutError {
    fn from(refused: PutRefused) -> PutError {
        match refused {
            PutRefused::NoKey => PutError::NoKey,
            PutRefused::Version => PutError::Version,
        }
    }
}

impl fmt::Display for PutError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            PutError::NoKey => "no such key (the put did not apply)",
            PutError::Version => "version mismatch (the put did not apply)",
            PutError::Maybe => "the put may or may not have applied",
        })
    }
}

impl std::error::Error for PutError {}
