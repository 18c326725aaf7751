//! The key/value world of parts B and C: `n` [`KvServer`] replicas on the
//! kit's cluster harness, and clerks that record what they see.
//!
//! Each replica is one labrpc server holding two services: the key/value
//! service (`KvServer.Get`, `.Put`, `.Append`) and its Raft's (`Raft.*`).
//! Clerks are clients of the cluster with one end per server, handed to
//! `Clerk::new` in a random order, so no clerk can assume server 0 leads.

use std::ops::Deref;

use labcheck::models::{Kv, KvInput, KvOutput};
use labcheck::{History, Recorder};
use labrpc::Service;
use labrt::sync::Arc;
use labrt::sync::atomic::{AtomicU64, Ordering};
use labrt::thread;
use labrt::time::{Duration, Instant};
use testkit::cluster::{Client, Cluster, Fabric, Incarnation, Node, Peers};
use testkit::{OpCounter, Run};

use super::checks::assert_linearizable;
use super::seeds::replica_seed;
use crate::rpc::{APPEND, AppendArgs, GET, GetArgs, PUT, PutArgs};
use crate::{Clerk, KvServer};

/// A key/value history, as the clerks record it.
pub type KvRecorder = Recorder<KvInput, KvOutput>;

/// Whether the network loses messages.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Net {
    /// Every request and reply is delivered at once.
    Reliable,
    /// labrpc's unreliable mode: 0–26 ms delay, 10% of requests and 10% of
    /// replies lost.
    Unreliable,
}

/// What the harness keeps for each running replica.
#[derive(Clone)]
pub struct Replica {
    /// The replica's server.
    pub server: Arc<KvServer>,
}

/// A cluster of key/value replicas under test, its clerks, and their
/// history. Dereferences to the [`Cluster`] for the fault verbs
/// (`partition`, `repair`, `crash`, `restart_all`, ...) and the counters.
///
/// Shareable between threads (`&KvTester` is `Sync`): client threads make
/// operations while the test thread breaks the network.
pub struct KvTester {
    cluster: Cluster<Replica>,
    max_raft_state: Option<usize>,
    /// Key/value RPCs the replicas executed (every incarnation's).
    kv_calls: Arc<AtomicU64>,
    rec: KvRecorder,
    next_clerk: AtomicU64,
    ops: OpCounter,
}

impl Deref for KvTester {
    type Target = Cluster<Replica>;

    fn deref(&self) -> &Cluster<Replica> {
        &self.cluster
    }
}

impl KvTester {
    /// Starts `servers` connected replicas on a network that is reliable or
    /// not, each snapshotting when its Raft state nears `max_raft_state`
    /// bytes (never, with `None`). Calls to unreachable servers fail within
    /// 100 ms (no long delays), so clerks move on quickly. The run's report
    /// counts the network's RPCs and bytes and the operations clerks
    /// complete.
    pub fn new(run: &Run, servers: usize, net: Net, max_raft_state: Option<usize>) -> KvTester {
        let fabric = Fabric::new(run);
        fabric.unreliable(net == Net::Unreliable);
        let seed = fabric.seed();
        let kv_calls = Arc::new(AtomicU64::new(0));
        let calls = Arc::clone(&kv_calls);
        let cluster = Cluster::start(&fabric, Peers::new(servers), move |node| {
            start_replica(&node, max_raft_state, seed, &calls)
        });
        KvTester {
            cluster,
            max_raft_state,
            kv_calls,
            rec: KvRecorder::start(),
            next_clerk: AtomicU64::new(0),
            ops: run.op_counter(),
        }
    }

    /// The `max_raft_state` every replica was given.
    pub fn max_raft_state(&self) -> Option<usize> {
        self.max_raft_state
    }

    /// A new clerk that can reach every server, recording its operations.
    pub fn make_clerk(&self) -> TestClerk {
        let all: Vec<usize> = (0..self.n()).collect();
        self.make_clerk_to(&all)
    }

    /// A new clerk that can reach only `servers`, recording its operations.
    pub fn make_clerk_to(&self, servers: &[usize]) -> TestClerk {
        let mut ck = self.make_unrecorded_clerk();
        ck.rec = Some(self.rec.clone());
        self.connect_clerk(&ck, servers);
        ck
    }

    /// A new clerk that can reach every server and records nothing (for
    /// the memory test: a history keeps a copy of every value).
    pub fn make_unrecorded_clerk(&self) -> TestClerk {
        let client = self.cluster.make_client();
        let mut ends = client.ends().to_vec();
        // Fisher-Yates with the harness's seeded generator.
        for i in (1..ends.len()).rev() {
            let j = self.random(i as u64 + 1) as usize;
            ends.swap(i, j);
        }
        TestClerk {
            clerk: Clerk::new(ends),
            client,
            id: self.next_clerk.fetch_add(1, Ordering::Relaxed),
            rec: None,
            ops: self.ops.clone(),
        }
    }

    /// Lets `ck` reach exactly `servers` (while they are connected).
    pub fn connect_clerk(&self, ck: &TestClerk, servers: &[usize]) {
        self.cluster.connect_client(&ck.client, servers);
    }

    /// Everything the recording clerks saw so far. Operations still in
    /// progress are in it with an unknown outcome.
    pub fn history(&self) -> History<KvInput, KvOutput> {
        self.rec.history()
    }

    /// Checks that the recorded history is linearizable (see
    /// [`assert_linearizable`]).
    pub fn check_linearizable(&self, run: &Run, timeout: Duration) {
        assert_linearizable(run, &Kv, &self.history(), timeout);
    }

    /// Key/value RPCs the replicas have executed so far, over all their
    /// incarnations.
    pub fn kv_rpcs(&self) -> u64 {
        self.kv_calls.load(Ordering::Relaxed)
    }

    /// Fails unless the replicas executed at least one key/value RPC per
    /// operation a clerk completed: every operation must reach a server,
    /// so a clerk that answers from memory of its own (or memory shared with
    /// the servers) is caught however right its answers are.
    pub fn check_rpcs_per_op(&self, run: &Run) {
        let (ops, calls) = (run.ops(), self.kv_rpcs());
        if calls < ops {
            self.fail(format!(
                "{ops} clerk operations completed but the servers executed only {calls} key/value \
                 RPCs: some operations never reached a server. A clerk must send every operation \
                 to a server through its ends (and retry until a server applies it), never answer \
                 it from memory of its own or shared with the servers"
            ));
        }
    }

    /// The largest persisted Raft state of any server: `(server, bytes)`.
    pub fn largest_raft_state(&self) -> (usize, usize) {
        (0..self.n())
            .map(|i| (i, self.raft_state_size(i)))
            .max_by_key(|&(_, size)| size)
            .unwrap_or((0, 0))
    }

    /// The largest snapshot of any server: `(server, bytes)`.
    pub fn largest_snapshot(&self) -> (usize, usize) {
        (0..self.n())
            .map(|i| (i, self.snapshot_size(i)))
            .max_by_key(|&(_, size)| size)
            .unwrap_or((0, 0))
    }

    /// With snapshots on, fails if some server's persisted Raft state is
    /// over `factor` × `max_raft_state`; with them off, fails if some server
    /// saved a snapshot at all.
    pub fn check_log_sizes(&self, factor: usize) {
        match self.max_raft_state {
            Some(max) => {
                let (i, size) = self.largest_raft_state();
                if size > factor * max {
                    self.fail(format!(
                        "server {i}'s persisted Raft state is {size} bytes; with max_raft_state = \
                         {max} it must stay at most {factor} x {max} = {} bytes. The service must \
                         snapshot (and call Raft::snapshot) whenever the persister's Raft state \
                         nears max_raft_state, and Raft must drop the log the snapshot covers",
                        factor * max
                    ));
                }
            }
            None => {
                let (i, size) = self.largest_snapshot();
                if size > 0 {
                    self.fail(format!(
                        "server {i} saved a snapshot of {size} bytes although max_raft_state is \
                         None: without a limit the service must never snapshot"
                    ));
                }
            }
        }
    }

    /// The connected, running server that believes it leads the highest
    /// term, if any.
    pub fn leader(&self) -> Option<usize> {
        let mut best: Option<(u64, usize)> = None;
        for i in self.connected() {
            if let Some(r) = self.handle(i) {
                let s = r.server.raft().state();
                if s.is_leader && best.is_none_or(|(t, _)| s.term > t) {
                    best = Some((s.term, i));
                }
            }
        }
        best.map(|(_, i)| i)
    }

    /// Waits up to `timeout` for a leader among the connected servers.
    pub fn wait_leader(&self, timeout: Duration) -> usize {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(l) = self.leader() {
                return l;
            }
            if Instant::now() >= deadline {
                self.fail(format!(
                    "no connected server became leader within {timeout:?}:\n{}",
                    self.topology()
                ));
            }
            thread::sleep(Duration::from_millis(20));
        }
    }

    /// Splits the servers as MIT's tests do: a majority without the current
    /// leader, and a minority holding it. Returns `(majority, minority)`.
    pub fn leader_in_minority(&self, timeout: Duration) -> (Vec<usize>, Vec<usize>) {
        let leader = self.wait_leader(timeout);
        let others = (0..self.n()).filter(|&i| i != leader);
        let majority: Vec<usize> = others.clone().take(self.n() / 2 + 1).collect();
        let minority: Vec<usize> = (0..self.n()).filter(|i| !majority.contains(i)).collect();
        (majority, minority)
    }
}

/// Starts one incarnation of a replica for the cluster harness.
fn start_replica(
    node: &Node,
    max_raft_state: Option<usize>,
    run_seed: u64,
    calls: &Arc<AtomicU64>,
) -> Incarnation<Replica> {
    let me = node.me();
    let server = Arc::new(KvServer::new(
        node.ends().to_vec(),
        me,
        node.persister(),
        max_raft_state,
        replica_seed(run_seed, me, node.incarnation()),
    ));
    let raft = lab2_raft::service(server.raft());
    let killed = Arc::clone(&server);
    Incarnation::new(Replica {
        server: Arc::clone(&server),
    })
    .service(kv_service(&server, calls))
    .service(raft)
    .on_kill(move || killed.kill())
}

/// The server's handlers under the call names `rpc` declares, each counted.
fn kv_service(server: &Arc<KvServer>, calls: &Arc<AtomicU64>) -> Service {
    let service_name = service_of(GET);
    for name in [PUT, APPEND] {
        assert_eq!(
            service_of(name),
            service_name,
            "rpc: GET, PUT and APPEND must name methods of one service, got {GET:?} and {name:?}"
        );
    }
    assert_ne!(
        service_name, "Raft",
        "rpc: the key/value service cannot be called \"Raft\": Raft's service has that name"
    );
    let (get, put, append) = (server.clone(), server.clone(), server.clone());
    let (c1, c2, c3) = (calls.clone(), calls.clone(), calls.clone());
    Service::new(service_name)
        .method(method_of(GET), move |args: GetArgs| {
            c1.fetch_add(1, Ordering::Relaxed);
            get.get(args)
        })
        .method(method_of(PUT), move |args: PutArgs| {
            c2.fetch_add(1, Ordering::Relaxed);
            put.put(args)
        })
        .method(method_of(APPEND), move |args: AppendArgs| {
            c3.fetch_add(1, Ordering::Relaxed);
            append.append(args)
        })
}

fn service_of(call: &'static str) -> &'static str {
    call.rsplit_once('.').map_or(call, |(service, _)| service)
}

fn method_of(call: &'static str) -> &'static str {
    call.rsplit_once('.').map_or(call, |(_, method)| method)
}

/// The student's [`Clerk`] as the harness drives it: it records every
/// operation into the tester's history (unless made unrecorded) and counts
/// each one that returns in the run's report, and it can be cut off from
/// servers ([`KvTester::connect_clerk`]).
pub struct TestClerk {
    clerk: Clerk,
    client: Client,
    id: u64,
    rec: Option<KvRecorder>,
    ops: OpCounter,
}

impl TestClerk {
    /// The clerk's client number in the history.
    pub fn id(&self) -> u64 {
        self.id
    }

    /// The clerk's ends as the cluster knows them: give it to
    /// `connect_client` to cut the clerk off from servers or join it back
    /// (it is cheap to clone, and clones stay valid after the clerk moved
    /// to another thread).
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// [`Clerk::get`], recorded.
    pub fn get(&mut self, key: &str) -> String {
        let call = self
            .rec
            .as_ref()
            .map(|r| r.begin(self.id, KvInput::get(key)));
        let value = self.clerk.get(key);
        if let (Some(rec), Some(call)) = (&self.rec, call) {
            rec.end(call, KvOutput::value(value.clone()));
        }
        self.ops.add(1);
        value
    }

    /// [`Clerk::put`], recorded.
    pub fn put(&mut self, key: &str, value: &str) {
        let call = self
            .rec
            .as_ref()
            .map(|r| r.begin(self.id, KvInput::put(key, value)));
        self.clerk.put(key, value);
        if let (Some(rec), Some(call)) = (&self.rec, call) {
            rec.end(call, KvOutput::Ok);
        }
        self.ops.add(1);
    }

    /// [`Clerk::append`], recorded as an append that returns the old value.
    pub fn append(&mut self, key: &str, arg: &str) -> String {
        let call = self
            .rec
            .as_ref()
            .map(|r| r.begin(self.id, KvInput::append_return_old(key, arg)));
        let old = self.clerk.append(key, arg);
        if let (Some(rec), Some(call)) = (&self.rec, call) {
            rec.end(call, KvOutput::value(old.clone()));
        }
        self.ops.add(1);
        old
    }
}
