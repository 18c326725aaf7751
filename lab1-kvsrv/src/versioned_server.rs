//! The Part B versioned key/value server. **You edit this file.**

use crate::versioned_rpc::{GetArgs, GetReply, PutArgs, PutReply};

/// A key/value server where every key carries a [`Version`], and a put
/// applies only if it names the key's current version.
///
/// The harness creates one server, wraps it in an `Arc` and registers
/// [`VersionedServer::get`] and [`VersionedServer::put`] as RPC handlers,
/// which run concurrently on many threads.
///
/// [`Version`]: crate::Version
pub struct VersionedServer {}

impl VersionedServer {
    /// A server holding no keys.
    pub fn new() -> VersionedServer {
        todo!("Part B: create the server's state")
    }

    /// Returns the key's value and version, or `found: None` if the key
    /// does not exist.
    pub fn get(&self, args: GetArgs) -> GetReply {
        let _ = args;
        todo!("Part B: VersionedServer::get")
    }

    /// Applies the put if `args.version` is the key's current version, and
    /// then adds one to the key's version:
    ///
    /// - key missing, `args.version` is [`Version::ABSENT`] (0): create it
    ///   with version 1, reply `Ok(())`;
    /// - key missing, any other version: reply `Err(PutRefused::NoKey)`;
    /// - key present, versions equal: store the value, version + 1, `Ok(())`;
    /// - key present, versions differ: reply `Err(PutRefused::Version)`.
    ///
    /// A refused put changes nothing.
    ///
    /// [`Version::ABSENT`]: crate::Version::ABSENT
    pub fn put(&self, args: PutArgs) -> PutReply {
        let _ = args;
        todo!("Part B: VersionedServer::put")
    }
}

impl Default for VersionedServer {
    fn default() -> VersionedServer {
        VersionedServer::new()
    }
}
