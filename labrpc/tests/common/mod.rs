//! Small builders shared by labrpc's tests.
#![allow(dead_code)]

use labrpc::{ClientEnd, Network, Server, Service};
use labrt::sync::Arc;
use labrt::sync::atomic::{AtomicU64, Ordering};

/// A network with one server "s" hosting `Count.Inc` (returns the new count)
/// and `Count.Echo` (returns its argument), plus a handle on the count.
pub fn counter_net(seed: u64) -> (Network, Arc<AtomicU64>) {
    let net = Network::with_seed(seed);
    let count = Arc::new(AtomicU64::new(0));
    let c = Arc::clone(&count);
    let svc = Service::new("Count")
        .method("Inc", move |by: u64| c.fetch_add(by, Ordering::SeqCst) + by)
        .method("Echo", |v: Vec<u8>| v);
    net.add_server("s", Server::new([svc]));
    (net, count)
}

/// A connected, enabled end named `name` to server `server`.
pub fn end_to(net: &Network, name: &str, server: &str) -> ClientEnd {
    let end = net.make_end(name);
    assert!(net.connect(name, server));
    assert!(net.enable(name, true));
    end
}
