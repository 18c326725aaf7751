//! The network every test builds: one server, one end per clerk.

use labrpc::{ClientEnd, Network, Server};
use labrt::sync::atomic::{AtomicU64, Ordering};
use testkit::{Metrics, Run};

/// Whether the network loses messages.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Net {
    /// Every request and reply is delivered at once.
    Reliable,
    /// labrpc's unreliable mode: 0–26 ms delay, 10% of requests and 10% of
    /// replies lost.
    Unreliable,
}

/// A network seeded by the run, with one server registered on it.
pub(crate) struct Rig {
    net: Network,
    server: &'static str,
    ends_made: AtomicU64,
}

impl Rig {
    /// Builds the network, registers `server` as `server_name`, and makes
    /// the run's report read this network's counters.
    pub(crate) fn new(run: &Run, net_kind: Net, server_name: &'static str, server: Server) -> Rig {
        testkit::log::init();
        let net = Network::with_seed(run.seed());
        net.set_reliable(net_kind == Net::Reliable);
        net.add_server(server_name, server);
        let counters = net.clone();
        run.measure(move || Metrics {
            peers: 1,
            rpcs: counters.total_rpcs(),
            bytes: counters.total_bytes(),
        });
        Rig {
            net,
            server: server_name,
            ends_made: AtomicU64::new(0),
        }
    }

    /// A new end, connected to the server and enabled.
    pub(crate) fn make_end(&self) -> ClientEnd {
        self.make_named_end().0
    }

    /// A new end, connected to the server and enabled, with its name (to
    /// disable it later).
    pub(crate) fn make_named_end(&self) -> (ClientEnd, String) {
        let n = self.ends_made.fetch_add(1, Ordering::Relaxed);
        let name = format!("clerk-{n}");
        let end = self.net.make_end(name.as_str());
        self.net.connect(&name, self.server);
        self.net.enable(&name, true);
        (end, name)
    }

    pub(crate) fn network(&self) -> &Network {
        &self.net
    }
}
