//! The Part B versioned key/value server (reference).

use std::collections::HashMap;
use std::collections::hash_map::Entry;

use labrt::sync::{Mutex, MutexGuard};

use crate::versioned_rpc::{GetArgs, GetReply, PutArgs, PutRefused, PutReply, Version};

/// A key/value server where every key carries a [`Version`], and a put
/// applies only if it names the key's current version.
pub struct VersionedServer {
    data: Mutex<HashMap<String, (String, Version)>>,
}

impl VersionedServer {
    /// A server holding no keys.
    pub fn new() -> VersionedServer {
        VersionedServer {
            data: Mutex::new(HashMap::new()),
        }
    }

    fn data(&self) -> MutexGuard<'_, HashMap<String, (String, Version)>> {
        // Each update is one map operation: consistent even after a panic.
        self.data.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Returns the key's value and version, if it exists.
    pub fn get(&self, args: GetArgs) -> GetReply {
        GetReply {
            found: self.data().get(&args.key).cloned(),
        }
    }

    /// Applies the put if `args.version` is the key's current version.
    pub fn put(&self, args: PutArgs) -> PutReply {
        let mut data = self.data();
        let result = match data.entry(args.key) {
            Entry::Vacant(slot) if args.version == Version::ABSENT => {
                slot.insert((args.value, Version::ABSENT.next()));
                Ok(())
            }
            Entry::Vacant(_) => Err(PutRefused::NoKey),
            Entry::Occupied(mut slot) if slot.get().1 == args.version => {
                *slot.get_mut() = (args.value, args.version.next());
                Ok(())
            }
            Entry::Occupied(_) => Err(PutRefused::Version),
        };
        PutReply { result }
    }
}

impl Default for VersionedServer {
    fn default() -> VersionedServer {
        VersionedServer::new()
    }
}
