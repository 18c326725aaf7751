//! The simulated network: ends, servers, the fault knobs and the counters.

use std::any::{TypeId, type_name};
use std::collections::HashMap;
use std::fmt;

use labrt::channel::{Receiver, RecvError, RecvTimeoutError, Sender, bounded};
use labrt::select;
use labrt::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use labrt::sync::{Arc, Mutex, RwLock, RwLockReadGuard, RwLockWriteGuard};
use labrt::time::Duration;
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::codec;
use crate::error::RpcError;
use crate::faults::{Fault, FaultAction, FaultId};
use crate::pool::Pool;
use crate::rng::{Rng, splitmix64, stable_hash};
use crate::server::{DispatchError, Request, Server};
use crate::spin;

/// How often a caller waiting on a handler checks that its server is alive.
const LIVENESS_POLL: Duration = Duration::from_millis(100);

/// The simulated network that every peer and client of a lab talks through.
///
/// Cheap to clone: clones are handles to the same network. When the last
/// handle is dropped the network shuts down as if [`Network::cleanup`] had
/// been called ([`ClientEnd`]s alone do not keep it running).
///
/// Fault behaviour follows MIT 6.5840's labrpc (numbers in the crate docs).
#[derive(Clone)]
pub struct Network {
    owner: Arc<Owner>,
}

/// The last user-facing handle shuts the network down when dropped.
struct Owner {
    inner: Arc<NetInner>,
}

impl Drop for Owner {
    fn drop(&mut self) {
        self.inner.cleanup();
    }
}

struct NetInner {
    seed: u64,
    reliable: AtomicBool,
    long_delays: AtomicBool,
    long_reordering: AtomicBool,
    tables: RwLock<Tables>,
    total_rpcs: AtomicU64,
    total_bytes: AtomicU64,
    closed: AtomicBool,
    /// Dropped on shutdown; every waiting caller selects on `done_rx`.
    done_tx: Mutex<Option<Sender<()>>>,
    done_rx: Receiver<()>,
    pool: Pool,
}

#[derive(Default)]
struct Tables {
    ends: HashMap<String, EndEntry>,
    servers: HashMap<String, ServerSlot>,
    faults: Vec<(FaultId, Fault)>,
    next_generation: u64,
    next_fault: u64,
}

struct EndEntry {
    enabled: bool,
    server: Option<String>,
}

struct ServerSlot {
    server: Server,
    /// Bumped every time a server is added, so a replaced server is detectable.
    generation: u64,
}

/// Where a call is going, captured when it is dispatched.
struct Route {
    server: Server,
    server_name: String,
    generation: u64,
}

impl Default for Network {
    fn default() -> Self {
        Network::new()
    }
}

impl Network {
    /// A reliable network with a fresh random seed.
    pub fn new() -> Network {
        Network::with_seed(fresh_seed())
    }

    /// A reliable network whose every random choice (delays, drops,
    /// reordering, fault probabilities) is drawn from generators seeded by
    /// `seed`. Thread scheduling is not controlled, so the same seed gives the
    /// same sequence of decisions on each end, not the same interleaving.
    pub fn with_seed(seed: u64) -> Network {
        let (done_tx, done_rx) = bounded(0);
        let inner = NetInner {
            seed,
            reliable: AtomicBool::new(true),
            long_delays: AtomicBool::new(false),
            long_reordering: AtomicBool::new(false),
            tables: RwLock::new(Tables::default()),
            total_rpcs: AtomicU64::new(0),
            total_bytes: AtomicU64::new(0),
            closed: AtomicBool::new(false),
            done_tx: Mutex::new(Some(done_tx)),
            done_rx,
            pool: Pool::new(),
        };
        Network {
            owner: Arc::new(Owner {
                inner: Arc::new(inner),
            }),
        }
    }

    fn inner(&self) -> &NetInner {
        &self.owner.inner
    }

    /// The seed this network's random choices come from.
    pub fn seed(&self) -> u64 {
        self.inner().seed
    }

    /// Reliable (the default): no delays, no drops. Unreliable: each request
    /// waits 0–26 ms, then 10% of requests are lost before the handler runs
    /// and 10% of replies are lost after it ran.
    pub fn set_reliable(&self, reliable: bool) {
        self.inner().reliable.store(reliable, Ordering::Relaxed);
    }

    /// Whether the network is reliable.
    pub fn is_reliable(&self) -> bool {
        self.inner().reliable.load(Ordering::Relaxed)
    }

    /// With long delays, a call that cannot be delivered (disabled end,
    /// unconnected end, missing server) fails after 0–7 s instead of 0–99 ms,
    /// as the Raft tests use: code must not wait on one RPC to make progress.
    pub fn set_long_delays(&self, long: bool) {
        self.inner().long_delays.store(long, Ordering::Relaxed);
    }

    /// Whether long delays are on.
    pub fn has_long_delays(&self) -> bool {
        self.inner().long_delays.load(Ordering::Relaxed)
    }

    /// With long reordering, two thirds of replies are held 200–2200 ms
    /// (skewed towards the short end) before delivery.
    pub fn set_long_reordering(&self, long: bool) {
        self.inner().long_reordering.store(long, Ordering::Relaxed);
    }

    /// Whether long reordering is on.
    pub fn has_long_reordering(&self) -> bool {
        self.inner().long_reordering.load(Ordering::Relaxed)
    }

    /// Creates a client end called `name`. It starts disabled and connected
    /// to nothing. A name may be used again only after [`Network::delete_end`].
    ///
    /// # Panics
    /// If an end with this name exists: two ends sharing a name would share
    /// their fault state, which is always a harness bug.
    pub fn make_end(&self, name: impl Into<String>) -> ClientEnd {
        let name = name.into();
        let mut t = self.inner().write();
        assert!(
            !t.ends.contains_key(&name),
            "labrpc: an end named {name:?} already exists; end names must be unique"
        );
        t.ends.insert(
            name.clone(),
            EndEntry {
                enabled: false,
                server: None,
            },
        );
        drop(t);
        let mut seed = self.inner().seed ^ stable_hash(&name);
        ClientEnd {
            net: Arc::clone(&self.owner.inner),
            rng: Arc::new(Mutex::new(Rng::new(splitmix64(&mut seed)))),
            name: name.into(),
        }
    }

    /// Connects end `end` to the server named `server` (which need not exist
    /// yet: calls fail until it does). Returns false if there is no such end.
    pub fn connect(&self, end: &str, server: &str) -> bool {
        match self.inner().write().ends.get_mut(end) {
            Some(e) => {
                e.server = Some(server.to_owned());
                true
            }
            None => false,
        }
    }

    /// Enables or disables end `end`. A disabled end delivers nothing, and a
    /// call already waiting on a handler through it fails. Returns false if
    /// there is no such end.
    pub fn enable(&self, end: &str, enabled: bool) -> bool {
        match self.inner().write().ends.get_mut(end) {
            Some(e) => {
                e.enabled = enabled;
                true
            }
            None => false,
        }
    }

    /// Whether end `end` exists and is enabled.
    pub fn is_enabled(&self, end: &str) -> bool {
        self.inner().read().ends.get(end).is_some_and(|e| e.enabled)
    }

    /// Removes end `end`: calls through it fail from now on, and its name may
    /// be reused. Returns false if there was no such end.
    pub fn delete_end(&self, end: &str) -> bool {
        self.inner().write().ends.remove(end).is_some()
    }

    /// Adds `server` under `name`, replacing any server of that name. Calls
    /// that were being handled by the replaced server never deliver a reply.
    pub fn add_server(&self, name: impl Into<String>, server: Server) {
        let mut t = self.inner().write();
        t.next_generation += 1;
        let generation = t.next_generation;
        t.servers
            .insert(name.into(), ServerSlot { server, generation });
    }

    /// Removes the server `name`. Calls it is handling never deliver a reply,
    /// so a crashed server cannot acknowledge work. Returns false if absent.
    pub fn delete_server(&self, name: &str) -> bool {
        self.inner().write().servers.remove(name).is_some()
    }

    /// Calls that entered the network so far, including those later lost or
    /// sent to disabled ends.
    pub fn total_rpcs(&self) -> u64 {
        self.inner().total_rpcs.load(Ordering::Relaxed)
    }

    /// Bytes carried so far: every call's arguments when sent, and every
    /// reply's bytes when it is delivered.
    pub fn total_bytes(&self) -> u64 {
        self.inner().total_bytes.load(Ordering::Relaxed)
    }

    /// Calls executed by the server now registered as `name` (0 if none).
    pub fn server_rpcs(&self, name: &str) -> u64 {
        self.inner()
            .read()
            .servers
            .get(name)
            .map_or(0, |s| s.server.executed())
    }

    /// Installs a targeted fault; it applies to calls that start after this.
    pub fn add_fault(&self, fault: Fault) -> FaultId {
        let mut t = self.inner().write();
        t.next_fault += 1;
        let id = FaultId(t.next_fault);
        t.faults.push((id, fault));
        id
    }

    /// Removes a fault; returns false if it was not installed.
    pub fn remove_fault(&self, id: FaultId) -> bool {
        let mut t = self.inner().write();
        let before = t.faults.len();
        t.faults.retain(|(i, _)| *i != id);
        t.faults.len() != before
    }

    /// Removes every targeted fault.
    pub fn clear_faults(&self) {
        self.inner().write().faults.clear();
    }

    /// Shuts the network down: pending and future calls fail promptly with
    /// [`RpcError::NetworkClosed`], servers are dropped, and handler threads
    /// exit as soon as their current handler returns.
    pub fn cleanup(&self) {
        self.inner().cleanup();
    }

    /// Handler threads currently alive (running or idle); 0 some time after
    /// [`Network::cleanup`] once every handler has returned.
    pub fn handler_threads(&self) -> usize {
        self.inner().pool.live_threads()
    }
}

impl fmt::Debug for Network {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Network")
            .field("seed", &self.seed())
            .field("reliable", &self.is_reliable())
            .field("total_rpcs", &self.total_rpcs())
            .field("total_bytes", &self.total_bytes())
            .finish()
    }
}

impl NetInner {
    fn read(&self) -> RwLockReadGuard<'_, Tables> {
        self.tables.read().unwrap_or_else(|e| e.into_inner())
    }

    fn write(&self) -> RwLockWriteGuard<'_, Tables> {
        self.tables.write().unwrap_or_else(|e| e.into_inner())
    }

    fn is_closed(&self) -> bool {
        self.closed.load(Ordering::Acquire)
    }

    fn cleanup(&self) {
        self.closed.store(true, Ordering::Release);
        self.done_tx
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take();
        self.pool.shutdown();
        let mut t = self.write();
        t.servers.clear();
        t.faults.clear();
    }

    /// Waits `d` unless the network shuts down first.
    fn pause(&self, d: Duration) -> Result<(), RpcError> {
        if d.is_zero() {
            return if self.is_closed() {
                Err(RpcError::NetworkClosed)
            } else {
                Ok(())
            };
        }
        match self.done_rx.recv_timeout(d) {
            Err(RecvTimeoutError::Timeout) => Ok(()),
            _ => Err(RpcError::NetworkClosed),
        }
    }

    /// The route for a call through `end`, or `None` if it cannot be delivered.
    fn route(&self, end: &str) -> Option<Route> {
        let t = self.read();
        let e = t.ends.get(end)?;
        if !e.enabled {
            return None;
        }
        let server_name = e.server.as_ref()?;
        let slot = t.servers.get(server_name)?;
        Some(Route {
            server: slot.server.clone(),
            server_name: server_name.clone(),
            generation: slot.generation,
        })
    }

    /// Whether the end is still enabled and the server it reached is still
    /// the registered one (not deleted, not replaced).
    fn still_alive(&self, end: &str, route: &Route) -> bool {
        let t = self.read();
        t.ends.get(end).is_some_and(|e| e.enabled)
            && t.servers
                .get(&route.server_name)
                .is_some_and(|s| s.generation == route.generation)
    }

    fn faults_for(&self, end: &str, method: &str) -> Vec<Fault> {
        let t = self.read();
        if t.faults.is_empty() {
            return Vec::new();
        }
        t.faults
            .iter()
            .filter(|(_, f)| f.matches(end, method))
            .map(|(_, f)| f.clone())
            .collect()
    }
}

/// A client's handle for calling one server through the network.
///
/// Cheap to clone, and safe to call from many threads at once; concurrent
/// calls may be delivered and answered in any order.
#[derive(Clone)]
pub struct ClientEnd {
    net: Arc<NetInner>,
    rng: Arc<Mutex<Rng>>,
    name: Arc<str>,
}

impl fmt::Debug for ClientEnd {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientEnd")
            .field("name", &self.name)
            .finish()
    }
}

impl ClientEnd {
    /// This end's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    fn draw<T>(&self, f: impl FnOnce(&mut Rng) -> T) -> T {
        f(&mut self.rng.lock().unwrap_or_else(|e| e.into_inner()))
    }

    /// Calls `method` (`"Service.Method"`) with `args` and waits for the reply.
    ///
    /// `args` is encoded to bytes, carried through the simulated network
    /// (where it may be delayed or lost), decoded by the server into a fresh
    /// value, and the reply comes back the same way. `Ok` means the handler
    /// ran and its reply arrived; any error means no reply arrived, and the
    /// handler may or may not have run.
    ///
    /// A call always returns, unless the handler itself never does and the
    /// server stays alive; a call to a crashed server returns within about
    /// 100 ms of the crash.
    ///
    /// # Panics
    /// If the server has no such method (the message lists those it has), or
    /// if the handler's argument or reply type differs from `A` or `R` (the
    /// message names both): these are bugs in the caller, not network faults.
    pub fn call<A, R>(&self, method: &str, args: &A) -> Result<R, RpcError>
    where
        A: Serialize + 'static,
        R: DeserializeOwned + 'static,
    {
        let net = &*self.net;
        if net.is_closed() {
            return Err(RpcError::NetworkClosed);
        }
        let bytes = codec::encode(args).unwrap_or_else(|e| {
            panic!(
                "labrpc: cannot encode the arguments of {method:?} ({}): {e}",
                type_name::<A>()
            )
        });
        net.total_rpcs.fetch_add(1, Ordering::Relaxed);
        net.total_bytes
            .fetch_add(bytes.len() as u64, Ordering::Relaxed);

        let Some(route) = net.route(&self.name) else {
            let max_ms = if net.long_delays.load(Ordering::Relaxed) {
                7000
            } else {
                100
            };
            let ms = self.draw(|r| r.below(max_ms));
            net.pause(Duration::from_millis(ms))?;
            return Err(RpcError::NoReply);
        };

        let reliable = net.reliable.load(Ordering::Relaxed);
        if !reliable {
            let ms = self.draw(|r| r.below(27));
            net.pause(Duration::from_millis(ms))?;
            if self.draw(|r| r.chance(100, 1000)) {
                return Err(RpcError::NoReply);
            }
        }

        let mut drop_reply = false;
        for fault in net.faults_for(&self.name, method) {
            if self.draw(|r| r.unit()) >= fault.probability() {
                continue;
            }
            match fault.action() {
                FaultAction::DropRequest => return Err(RpcError::NoReply),
                FaultAction::DropReply => drop_reply = true,
                FaultAction::Delay(d) => net.pause(d)?,
            }
        }

        let reply = self.deliver::<A, R>(method, bytes, &route)?;

        if !net.still_alive(&self.name, &route) {
            return Err(RpcError::NoReply);
        }
        if drop_reply || (!reliable && self.draw(|r| r.chance(100, 1000))) {
            return Err(RpcError::NoReply);
        }
        if net.long_reordering.load(Ordering::Relaxed) && self.draw(|r| r.below(900) < 600) {
            let ms = self.draw(|r| {
                let spread = r.below(2000) + 1;
                200 + r.below(spread)
            });
            net.pause(Duration::from_millis(ms))?;
        }
        net.total_bytes
            .fetch_add(reply.len() as u64, Ordering::Relaxed);
        codec::decode::<R>(&reply).map_err(|e| {
            // Types were checked at dispatch, so this is a codec bug, not the caller's.
            panic!(
                "labrpc: cannot decode the reply of {method:?} as {}: {e}",
                type_name::<R>()
            )
        })
    }

    /// Hands the request to a handler thread and waits for its bytes, giving
    /// up if the server dies or the network shuts down meanwhile.
    fn deliver<A: 'static, R: 'static>(
        &self,
        method: &str,
        args: Vec<u8>,
        route: &Route,
    ) -> Result<Vec<u8>, RpcError> {
        let net = &*self.net;
        let (tx, rx) = bounded::<Result<Vec<u8>, DispatchError>>(1);
        let server = route.server.clone();
        let target = method.to_owned();
        let job = Box::new(move || {
            let req = Request {
                target: &target,
                args_type: TypeId::of::<A>(),
                args_name: type_name::<A>(),
                reply_type: TypeId::of::<R>(),
                reply_name: type_name::<R>(),
                args: &args,
            };
            let _ = tx.send(server.dispatch(&req));
        });
        if !net.pool.submit(job) {
            return Err(RpcError::NetworkClosed);
        }
        let first = match spin::poll_for(&rx, spin::SPIN) {
            Ok(Some(outcome)) => Some(Ok(outcome)),
            Ok(None) => None,
            Err(()) => Some(Err(RecvError)),
        };
        if let Some(outcome) = first {
            return settle(outcome);
        }
        loop {
            select! {
                recv(rx) -> outcome => return settle(outcome),
                recv(net.done_rx) -> _ => return Err(RpcError::NetworkClosed),
                default(LIVENESS_POLL) => {
                    if !net.still_alive(&self.name, route) {
                        return Err(RpcError::NoReply);
                    }
                }
            }
        }
    }
}

/// Turns what the handler thread sent back into the call's result.
fn settle(outcome: Result<Result<Vec<u8>, DispatchError>, RecvError>) -> Result<Vec<u8>, RpcError> {
    match outcome {
        Ok(Ok(bytes)) => Ok(bytes),
        Ok(Err(e)) => panic!("{}", e.message()),
        // The handler panicked; the panic itself is reported by the panic hook.
        Err(_) => Err(RpcError::NoReply),
    }
}

/// A seed from the clock and the process's hasher keys.
fn fresh_seed() -> u64 {
    use std::collections::hash_map::RandomState;
    use std::hash::BuildHasher;
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64);
    RandomState::new().hash_one(nanos)
}
