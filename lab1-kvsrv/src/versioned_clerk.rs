//! The Part B clerk. **You edit this file.**

use labrpc::ClientEnd;

use crate::versioned_rpc::{PutError, Version};

/// A client of the [`VersionedServer`](crate::VersionedServer).
///
/// Like the Part A clerk it retries every call until a reply arrives, but
/// here the messages are fixed (see [`crate::versioned_rpc`]): there is no
/// room for a client id, so the server cannot recognise a retried put. The
/// version does most of the work: a put that already applied cannot apply
/// again, because the key's version has moved on. What is left is telling
/// the caller the truth about a retried put that was refused (see
/// [`VersionedClerk::put`]).
pub struct VersionedClerk {}

impl VersionedClerk {
    /// A clerk that talks to the server through `end` (already connected
    /// and enabled by the harness).
    pub fn new(end: ClientEnd) -> VersionedClerk {
        let _ = end;
        todo!("Part B: VersionedClerk::new")
    }

    /// Returns the value and version of `key`, or `None` if the key does not
    /// exist. Keeps trying until the server answers.
    pub fn get(&mut self, key: &str) -> Option<(String, Version)> {
        let _ = key;
        todo!("Part B: VersionedClerk::get")
    }

    /// Writes `value` to `key` if the key's version is still `version`
    /// ([`Version::ABSENT`] to create the key). Keeps trying until the server
    /// answers, then reports:
    ///
    /// - `Ok(())`: the put applied (exactly once);
    /// - `Err(PutError::NoKey)`: the key does not exist (and `version` was
    ///   not [`Version::ABSENT`]); nothing applied;
    /// - `Err(PutError::Version)`: the server refused the *first* attempt,
    ///   whose request it certainly had not seen before; nothing applied;
    /// - `Err(PutError::Maybe)`: an attempt after a lost reply was refused
    ///   for its version. Either an earlier attempt applied (and moved the
    ///   version on) or another client's put won; the clerk cannot tell, and
    ///   must not pretend it can.
    pub fn put(&mut self, key: &str, value: &str, version: Version) -> Result<(), PutError> {
        let _ = (key, value, version);
        todo!("Part B: VersionedClerk::put")
    }
}
