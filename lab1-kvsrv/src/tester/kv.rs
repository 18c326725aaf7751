//! Part A's world: one [`KvServer`] and its clerks.

use labrpc::{Network, Server, Service};
use labrt::sync::Arc;
use testkit::Run;

use super::rig::{Net, Rig};
use crate::kv_rpc::{APPEND, AppendArgs, GET, GetArgs, PUT, PutArgs};
use crate::{Clerk, KvServer};

/// The server's name on the network.
const SERVER: &str = "kv-server";

/// A network seeded by the run, one [`KvServer`] on it, and a factory for
/// clerks, each with its own end.
pub struct KvTester {
    rig: Rig,
}

impl KvTester {
    /// Builds the world for `run`; its report will count this network's
    /// RPCs and bytes.
    pub fn new(run: &Run, net: Net) -> KvTester {
        let server = Arc::new(KvServer::new());
        KvTester {
            rig: Rig::new(run, net, SERVER, Server::new([service(&server)])),
        }
    }

    /// A new clerk with an end of its own.
    pub fn make_clerk(&self) -> Clerk {
        Clerk::new(self.rig.make_end())
    }

    /// A new clerk with an end of its own, and the end's name, so a test
    /// can cut this clerk off from the server.
    pub fn make_clerk_with_end(&self) -> (Clerk, String) {
        let (end, name) = self.rig.make_named_end();
        (Clerk::new(end), name)
    }

    /// The network (for its counters and fault knobs).
    pub fn network(&self) -> &Network {
        self.rig.network()
    }
}

/// The server's handlers, under the call names `kv_rpc` declares.
fn service(server: &Arc<KvServer>) -> Service {
    let service_name = service_of(GET);
    for name in [PUT, APPEND] {
        assert_eq!(
            service_of(name),
            service_name,
            "kv_rpc: GET, PUT and APPEND must name methods of one service, got {GET:?} and {name:?}"
        );
    }
    let (get, put, append) = (server.clone(), server.clone(), server.clone());
    Service::new(service_name)
        .method(method_of(GET), move |args: GetArgs| get.get(args))
        .method(method_of(PUT), move |args: PutArgs| put.put(args))
        .method(method_of(APPEND), move |args: AppendArgs| {
            append.append(args)
        })
}

fn service_of(call: &'static str) -> &'static str {
    call.rsplit_once('.').map_or(call, |(service, _)| service)
}

fn method_of(call: &'static str) -> &'static str {
    call.rsplit_once('.').map_or(call, |(_, method)| method)
}
