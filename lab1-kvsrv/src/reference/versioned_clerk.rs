//! The Part B clerk (reference).

use labrpc::{ClientEnd, RpcError};
use labrt::thread;
use labrt::time::Duration;
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::versioned_rpc::{
    GET, GetArgs, GetReply, PUT, PutArgs, PutError, PutRefused, PutReply, Version,
};

/// How long to wait before retrying a call that got no reply.
const RETRY_PAUSE: Duration = Duration::from_millis(10);

/// A client of the [`VersionedServer`](crate::VersionedServer).
pub struct VersionedClerk {
    end: ClientEnd,
}

impl VersionedClerk {
    /// A clerk that talks to the server through `end`.
    pub fn new(end: ClientEnd) -> VersionedClerk {
        VersionedClerk { end }
    }

    /// Returns the value and version of `key`, or `None` if it does not exist.
    pub fn get(&mut self, key: &str) -> Option<(String, Version)> {
        let args = GetArgs {
            key: key.to_owned(),
        };
        let mut attempts = 0;
        let reply: GetReply = self.call(GET, &args, &mut attempts);
        reply.found
    }

    /// Writes `value` to `key` if its version is still `version`.
    pub fn put(&mut self, key: &str, value: &str, version: Version) -> Result<(), PutError> {
        let args = PutArgs {
            key: key.to_owned(),
            value: value.to_owned(),
            version,
        };
        let mut attempts = 0;
        let reply: PutReply = self.call(PUT, &args, &mut attempts);
        match reply.result {
            Ok(()) => Ok(()),
            // An earlier attempt may have applied and moved the version on.
            Err(PutRefused::Version) if attempts > 1 => Err(PutError::Maybe),
            // A key that does not exist was never created by an earlier
            // attempt either (only a put with version 0 creates, and then
            // the retry would see a version mismatch, not a missing key).
            Err(refused) => Err(refused.into()),
        }
    }

    /// Calls until a reply arrives; `attempts` counts the requests sent.
    fn call<A, R>(&self, method: &str, args: &A, attempts: &mut u32) -> R
    where
        A: Serialize + 'static,
        R: DeserializeOwned + 'static,
    {
        loop {
            *attempts += 1;
            match self.end.call::<A, R>(method, args) {
                Ok(reply) => return reply,
                Err(RpcError::NoReply) => thread::sleep(RETRY_PAUSE),
                Err(RpcError::NetworkClosed) => panic!(
                    "versioned clerk {}: the network was shut down while {method} was waiting \
                     for the server; the operation cannot complete",
                    self.end.name()
                ),
            }
        }
    }
}
