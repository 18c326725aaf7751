//! The cluster harness, verb by verb, on a tiny counter service: each peer
//! holds a number in memory, adds to it on `Peer.Add`, and saves it to its
//! persister only on `Peer.Save`.
//!
//! The network is reliable and without long delays here, so a call through
//! an enabled end to a live server always succeeds and a call that cannot
//! be delivered fails within 100 ms: every check below is exact.

use std::path::Path;
use std::process::Command;

use labrpc::{ClientEnd, Persister, RpcError, Service};
use labrt::channel::{Receiver, Sender, unbounded};
use labrt::sync::atomic::{AtomicBool, Ordering};
use labrt::sync::{Arc, Mutex};
use labrt::thread;
use labrt::time::Duration;
use testkit::Run;
use testkit::cluster::{Cluster, Dialer, Fabric, Incarnation, Node, Peers};
use testkit::report::RunReport;

/// How long a test waits for something that should take milliseconds.
const GENEROUS: Duration = Duration::from_secs(30);

/// The handle the tests keep for one incarnation of a peer.
#[derive(Clone)]
struct Counter {
    life: u64,
    ends: Vec<ClientEnd>,
    value: Arc<Mutex<u64>>,
    persister: Arc<Persister>,
    killed: Arc<AtomicBool>,
    dialer: Dialer,
}

impl Counter {
    fn who(&self, j: usize) -> Result<(usize, u64), RpcError> {
        self.ends[j].call("Peer.Who", &())
    }

    fn add(&self, j: usize, x: u64) -> Result<u64, RpcError> {
        self.ends[j].call("Peer.Add", &x)
    }

    fn is_killed(&self) -> bool {
        self.killed.load(Ordering::SeqCst)
    }
}

/// Lets a test hold `Peer.Slow` handlers until it says so.
struct Gate {
    entered: Mutex<Sender<()>>,
    entered_rx: Mutex<Receiver<()>>,
    release: Mutex<Receiver<()>>,
    release_tx: Mutex<Sender<()>>,
}

impl Gate {
    fn new() -> Arc<Gate> {
        let (entered, entered_rx) = unbounded();
        let (release_tx, release) = unbounded();
        Arc::new(Gate {
            entered: Mutex::new(entered),
            entered_rx: Mutex::new(entered_rx),
            release: Mutex::new(release),
            release_tx: Mutex::new(release_tx),
        })
    }

    fn pass(&self) {
        let _ = self.entered.lock().unwrap().send(());
        let _ = self.release.lock().unwrap().recv_timeout(GENEROUS);
    }

    fn wait_entered(&self) -> bool {
        self.entered_rx
            .lock()
            .unwrap()
            .recv_timeout(GENEROUS)
            .is_ok()
    }

    fn open(&self) {
        let _ = self.release_tx.lock().unwrap().send(());
    }
}

/// The factory: a counter starting from what the persister holds, plus an
/// echo service on the same server.
fn counter(node: Node, gate: &Arc<Gate>) -> Incarnation<Counter> {
    let saved = node.persister().read_raft_state();
    let start = if saved.is_empty() {
        0
    } else {
        labrpc::decode::<u64>(&saved).expect("the counter saved a u64")
    };
    let c = Counter {
        life: node.incarnation(),
        ends: node.ends().to_vec(),
        value: Arc::new(Mutex::new(start)),
        persister: node.persister(),
        killed: Arc::new(AtomicBool::new(false)),
        dialer: node.dialer(),
    };
    let (me, life) = (node.me(), node.incarnation());
    let (add, save, get, gate) = (c.clone(), c.clone(), c.clone(), Arc::clone(gate));
    let peer = Service::new("Peer")
        .method("Who", move |(): ()| (me, life))
        .method("Add", move |x: u64| {
            let mut v = add.value.lock().unwrap();
            *v += x;
            *v
        })
        .method("Save", move |(): ()| {
            let v = *save.value.lock().unwrap();
            save.persister.save(&labrpc::encode(&v).unwrap(), None);
        })
        .method("Get", move |(): ()| *get.value.lock().unwrap())
        .method("Slow", move |(): ()| {
            gate.pass();
            1u64
        });
    let echo = Service::new("Echo").method("Echo", |s: String| s);
    let killed = Arc::clone(&c.killed);
    Incarnation::new(c)
        .services([peer, echo])
        .on_kill(move || killed.store(true, Ordering::SeqCst))
}

fn seed() -> u64 {
    testkit::seed::run_seed().expect("DISTLAB_SEED is a number")
}

/// `n` counters on a fabric of their own.
fn cluster(n: usize) -> (Cluster<Counter>, Arc<Gate>) {
    let gate = Gate::new();
    let g = Arc::clone(&gate);
    let fabric = Fabric::with_seed(seed());
    let c = Cluster::start(&fabric, Peers::new(n), move |node| counter(node, &g));
    (c, gate)
}

fn peer(c: &Cluster<Counter>, i: usize) -> Counter {
    c.handle(i)
        .unwrap_or_else(|| panic!("peer {i} should be running"))
}

/// `reach[i][j]`: whether peer `i` gets an answer from peer `j` (`i != j`;
/// the diagonal is false). Calls run in parallel, so a matrix with failures
/// takes about 100 ms.
fn reach(c: &Cluster<Counter>) -> Vec<Vec<bool>> {
    let n = c.n();
    let peers: Vec<Option<Counter>> = (0..n).map(|i| c.handle(i)).collect();
    thread::scope(|s| {
        let rows: Vec<Vec<_>> = (0..n)
            .map(|i| {
                (0..n)
                    .map(|j| {
                        let p = peers[i].clone();
                        s.spawn(move || {
                            i != j && p.is_some_and(|p| p.who(j).is_ok_and(|(k, _)| k == j))
                        })
                    })
                    .collect()
            })
            .collect();
        rows.into_iter()
            .map(|row| row.into_iter().map(|h| h.join().unwrap()).collect())
            .collect()
    })
}

/// The matrix where `i` reaches `j` exactly when `allowed(i, j)`.
fn expect(n: usize, allowed: impl Fn(usize, usize) -> bool) -> Vec<Vec<bool>> {
    (0..n)
        .map(|i| (0..n).map(|j| i != j && allowed(i, j)).collect())
        .collect()
}

/// Peer `j`'s counter, read through peer `via`.
fn value(c: &Cluster<Counter>, via: usize, j: usize) -> u64 {
    peer(c, via).ends[j]
        .call("Peer.Get", &())
        .unwrap_or_else(|e| panic!("peer {via} should read peer {j}'s counter: {e}"))
}

#[test]
fn every_ordered_pair_has_its_own_end_to_the_right_peer() {
    let (c, _) = cluster(3);
    assert_eq!(c.names(), ["server-0", "server-1", "server-2"]);
    let mut names = Vec::new();
    for i in 0..3 {
        let p = peer(&c, i);
        assert_eq!(p.ends.len(), 3);
        for j in 0..3 {
            assert_eq!(p.who(j), Ok((j, 1)), "peer {i} calling peer {j}");
            names.push(p.ends[j].name().to_owned());
        }
        // Both services are on the one server.
        let echoed: String = p.ends[(i + 1) % 3]
            .call("Echo.Echo", &"hi".to_owned())
            .expect("echo");
        assert_eq!(echoed, "hi");
    }
    names.sort();
    names.dedup();
    assert_eq!(names.len(), 9, "every end has a name of its own");
    assert_eq!(c.connected(), vec![0, 1, 2]);
    assert!((0..3).all(|i| c.is_running(i) && c.incarnation(i) == 1));
}

#[test]
fn disconnect_cuts_a_peer_off_and_connect_joins_it_back() {
    let (c, _) = cluster(3);
    c.disconnect(1);
    assert!(!c.is_connected(1));
    assert_eq!(c.connected(), vec![0, 2]);
    assert_eq!(reach(&c), expect(3, |i, j| i != 1 && j != 1));
    c.disconnect(2);
    assert_eq!(reach(&c), expect(3, |_, _| false));
    c.connect(1);
    assert_eq!(reach(&c), expect(3, |i, j| i != 2 && j != 2));
    c.connect(2);
    assert_eq!(reach(&c), expect(3, |_, _| true));
}

#[test]
fn partition_lets_only_peers_of_one_group_talk_and_repair_mends_it() {
    let (c, _) = cluster(5);
    let side = |i: usize| usize::from(i >= 2);
    c.partition(&[&[0, 1], &[2, 3, 4]]);
    assert_eq!(reach(&c), expect(5, |i, j| side(i) == side(j)));

    // Peers left out are cut off; connecting one later joins the first group.
    c.partition(&[&[0, 1, 2]]);
    assert_eq!(c.connected(), vec![0, 1, 2]);
    assert_eq!(reach(&c), expect(5, |i, j| i < 3 && j < 3));
    c.connect(3);
    assert_eq!(reach(&c), expect(5, |i, j| i < 4 && j < 4));

    c.repair();
    assert_eq!(reach(&c), expect(5, |_, _| true));
}

#[test]
#[should_panic(expected = "peer 1 is in two groups")]
fn a_peer_in_two_groups_of_a_partition_is_refused() {
    let (c, _) = cluster(3);
    c.partition(&[&[0, 1], &[1, 2]]);
}

#[test]
#[should_panic(expected = "there is no peer 3")]
fn a_peer_outside_the_cluster_is_refused() {
    let (c, _) = cluster(3);
    c.disconnect(3);
}

#[test]
fn a_oneway_cut_loses_messages_in_one_direction_only() {
    let (c, _) = cluster(3);
    c.partition_oneway(0, 1);
    // 0's request to 1 is lost before 1's handler runs.
    assert_eq!(peer(&c, 0).add(1, 1), Err(RpcError::NoReply));
    assert_eq!(value(&c, 2, 1), 0, "the request never reached peer 1");
    // 1's request to 0 arrives, but 0's reply is a message to 1: lost.
    assert_eq!(peer(&c, 1).add(0, 1), Err(RpcError::NoReply));
    assert_eq!(value(&c, 2, 0), 1, "the request reached peer 0");
    assert_eq!(
        reach(&c),
        expect(3, |i, j| (i, j) != (0, 1) && (i, j) != (1, 0))
    );

    // The cut is between the peers, not their incarnations.
    c.restart(1);
    c.connect(1);
    assert_eq!(peer(&c, 0).add(1, 1), Err(RpcError::NoReply));
    assert_eq!(
        reach(&c),
        expect(3, |i, j| (i, j) != (0, 1) && (i, j) != (1, 0))
    );

    c.repair_oneway(0, 1);
    assert_eq!(reach(&c), expect(3, |_, _| true));
    c.partition_oneway(2, 0);
    assert_eq!(
        reach(&c),
        expect(3, |i, j| (i, j) != (2, 0) && (i, j) != (0, 2))
    );
    c.repair();
    assert_eq!(reach(&c), expect(3, |_, _| true));
}

#[test]
fn deafen_loses_replies_to_the_peer_but_its_requests_arrive() {
    let (c, _) = cluster(3);
    c.deafen(0);
    assert_eq!(peer(&c, 0).add(1, 5), Err(RpcError::NoReply));
    assert_eq!(value(&c, 2, 1), 5, "the deaf peer's request arrived");
    assert_eq!(reach(&c), expect(3, |i, _| i != 0));
    c.undeafen(0);
    assert_eq!(reach(&c), expect(3, |_, _| true));

    // A restart, or a repair, ends deafness.
    c.deafen(0);
    c.restart(0);
    c.connect(0);
    assert_eq!(reach(&c), expect(3, |_, _| true));
    c.deafen(1);
    assert_eq!(reach(&c), expect(3, |i, _| i != 1));
    c.repair();
    assert_eq!(reach(&c), expect(3, |_, _| true));
}

#[test]
fn a_crash_keeps_what_was_persisted_and_nothing_else() {
    let (c, _) = cluster(3);
    let via = peer(&c, 1);
    assert_eq!(via.add(0, 5), Ok(5));
    via.ends[0].call::<(), ()>("Peer.Save", &()).expect("save");
    assert_eq!(via.add(0, 3), Ok(8));
    assert_eq!(c.raft_state_size(0), labrpc::encode(&5u64).unwrap().len());

    let old = peer(&c, 0);
    c.crash(0);
    assert!(old.is_killed(), "the crash ran the kill hook");
    assert!(!c.is_running(0) && c.handle(0).is_none());
    assert!(!c.is_connected(0));
    assert!(via.who(0).is_err(), "a crashed peer answers nobody");

    c.restart(0);
    assert_eq!(c.incarnation(0), 2);
    assert!(!c.is_connected(0), "a restarted peer starts cut off");
    assert!(via.who(0).is_err());
    c.connect(0);
    assert_eq!(via.who(0), Ok((0, 2)));
    assert_eq!(value(&c, 1, 0), 5, "only what was saved survives");
    let new = peer(&c, 0);
    assert_eq!(new.life, 2);
    assert!(!new.is_killed());
}

#[test]
fn what_a_dead_incarnation_saves_after_its_crash_is_never_read() {
    let (c, _) = cluster(3);
    let old = peer(&c, 0);
    c.crash(0);
    // The zombie writes to its old persister...
    old.persister
        .save(&labrpc::encode(&99u64).unwrap(), Some(b"zombie"));
    assert_eq!(c.raft_state_size(0), 0);
    assert_eq!(c.snapshot_size(0), 0);
    assert!(!Arc::ptr_eq(&old.persister, &c.persister(0)));
    // ...and the next incarnation starts from the copy taken at the crash.
    c.restart(0);
    c.connect(0);
    assert_eq!(value(&c, 1, 0), 0);
    assert!(peer(&c, 0).persister.read_snapshot().is_empty());
}

#[test]
fn a_dead_incarnations_ends_never_deliver_after_the_restart() {
    let (c, _) = cluster(3);
    let old = peer(&c, 0);
    c.crash(0);
    c.restart(0);
    c.connect(0);
    let new = peer(&c, 0);
    for j in 0..3 {
        assert_ne!(old.ends[j].name(), new.ends[j].name(), "fresh end names");
    }
    let executed = c.rpc_count(1);
    assert_eq!(old.add(1, 1), Err(RpcError::NoReply));
    assert_eq!(old.add(2, 1), Err(RpcError::NoReply));
    assert_eq!(
        c.rpc_count(1),
        executed,
        "peer 1 executed nothing from the dead incarnation"
    );
    assert_eq!(value(&c, 2, 1), 0);
    assert_eq!(value(&c, 1, 2), 0);
    assert_eq!(new.add(1, 1), Ok(1));
    // Its dialer is dead too.
    let dialed = old.dialer.end_to("server-2");
    assert_eq!(
        dialed.call::<(), (usize, u64)>("Peer.Who", &()),
        Err(RpcError::NoReply)
    );
}

#[test]
fn a_reply_computed_when_the_peer_crashes_is_never_delivered() {
    let (c, gate) = cluster(3);
    let caller = peer(&c, 1);
    thread::scope(|s| {
        let call = s.spawn(|| caller.ends[0].call::<(), u64>("Peer.Slow", &()));
        assert!(gate.wait_entered(), "peer 0 started the slow handler");
        c.crash(0);
        gate.open();
        assert_eq!(call.join().unwrap(), Err(RpcError::NoReply));
    });
    // The same call to a live peer is answered.
    thread::scope(|s| {
        let call = s.spawn(|| caller.ends[2].call::<(), u64>("Peer.Slow", &()));
        assert!(gate.wait_entered(), "peer 2 started the slow handler");
        gate.open();
        assert_eq!(call.join().unwrap(), Ok(1));
    });
}

/// An end the harness does not manage (always enabled) sees the crash only
/// through the deleted server: no reply from the dead incarnation, and no
/// server until the restart.
#[test]
fn a_crashed_peer_has_no_server_even_for_ends_the_harness_does_not_cut() {
    let (c, gate) = cluster(2);
    let net = c.network();
    let raw = net.make_end("raw-end");
    net.connect("raw-end", c.name(0));
    net.enable("raw-end", true);
    let who = || raw.call::<(), (usize, u64)>("Peer.Who", &());
    assert_eq!(who(), Ok((0, 1)));
    thread::scope(|s| {
        let call = s.spawn(|| raw.call::<(), u64>("Peer.Slow", &()));
        assert!(gate.wait_entered(), "peer 0 started the slow handler");
        c.crash(0);
        gate.open();
        assert_eq!(call.join().unwrap(), Err(RpcError::NoReply));
    });
    assert!(who().is_err(), "no server while crashed");
    c.restart(0);
    assert_eq!(who(), Ok((0, 2)), "the new incarnation's server");
}

#[test]
fn counters_give_rpcs_and_bytes_overall_and_per_peer() {
    let (c, _) = cluster(3);
    assert_eq!(
        (c.rpc_total(), c.bytes_total()),
        (0, 0),
        "starting costs no RPCs"
    );
    let p = peer(&c, 0);
    let mut bytes = 0;
    for k in 1..=10u64 {
        let got = p.add(1, 1000).expect("add");
        assert_eq!(got, 1000 * k);
        bytes += labrpc::encode(&1000u64).unwrap().len() + labrpc::encode(&got).unwrap().len();
    }
    assert_eq!(c.rpc_total(), 10);
    assert_eq!(c.bytes_total(), bytes as u64);
    assert_eq!((c.rpc_count(0), c.rpc_count(1), c.rpc_count(2)), (0, 10, 0));

    // A call that cannot be delivered still entered the network.
    c.disconnect(2);
    assert!(p.add(2, 1).is_err());
    assert_eq!(c.rpc_total(), 11);
    assert_eq!(c.rpc_count(2), 0);
    c.connect(2);

    // The current incarnation's count starts again; all lives' does not.
    c.crash(1);
    assert_eq!((c.rpc_count(1), c.served_rpcs(1)), (0, 10));
    let args = labrpc::encode(&1000u64).unwrap().len() as u64;
    assert_eq!(c.served_bytes(1), 10 * args, "argument bytes only");
    c.restart(1);
    c.connect(1);
    p.add(1, 1).expect("add to the new incarnation");
    assert_eq!((c.rpc_count(1), c.served_rpcs(1)), (1, 11));
    let one = labrpc::encode(&1u64).unwrap().len() as u64;
    assert_eq!(c.served_bytes(1), 10 * args + one);
    assert_eq!(c.served_bytes(2), 0, "the failed call never executed");

    let m = c.fabric().metrics();
    assert_eq!(
        (m.peers, m.rpcs, m.bytes),
        (3, c.rpc_total(), c.bytes_total())
    );
}

#[test]
fn the_knobs_reach_the_shared_network() {
    let (c, _) = cluster(2);
    let net = c.network();
    assert!(net.is_reliable() && !net.has_long_delays() && !net.has_long_reordering());
    c.long_delays(true);
    c.long_reordering(true);
    assert!(net.has_long_delays() && net.has_long_reordering());
    c.long_delays(false);
    c.long_reordering(false);
    assert!(!net.has_long_delays() && !net.has_long_reordering());

    c.unreliable(true);
    assert!(!net.is_reliable());
    let p = peer(&c, 0);
    // Each call is lost with probability 0.19: all 100 arriving is
    // about a 1-in-10^9 chance.
    let lost = (0..100).filter(|_| p.who(1).is_err()).count();
    assert!(lost > 0, "an unreliable network loses some calls");
    c.unreliable(false);
    assert!(net.is_reliable());
    assert!((0..50).all(|_| p.who(1).is_ok()));
}

#[test]
fn groups_share_a_fabric_and_reach_each_other_by_dialing() {
    let gate = Gate::new();
    let fabric = Fabric::with_seed(seed());
    let g = Arc::clone(&gate);
    let g1 = Cluster::start(&fabric, Peers::new(3).group("g1"), move |n| counter(n, &g));
    let g = Arc::clone(&gate);
    let g2 = Cluster::start(&fabric, Peers::new(2).group("g2"), move |n| counter(n, &g));
    assert_eq!(g1.names(), ["g1-server-0", "g1-server-1", "g1-server-2"]);
    assert_eq!(g2.name(1), "g2-server-1");
    assert_eq!(g2.group(), "g2");
    assert_eq!(fabric.metrics().peers, 5);

    let who = |end: &ClientEnd| end.call::<(), (usize, u64)>("Peer.Who", &());
    let p = peer(&g1, 0);
    let to_g2 = p.dialer.end_to("g2-server-1");
    assert_eq!(who(&to_g2), Ok((1, 1)));
    assert_eq!(
        p.dialer.end_to("g2-server-1").name(),
        to_g2.name(),
        "dialing again reuses the end"
    );

    // A partition inside g1 does not cut g1's peers off other groups.
    g1.partition(&[&[0], &[1, 2]]);
    assert_eq!(who(&to_g2), Ok((1, 1)));
    // Disconnecting either side does.
    g1.disconnect(0);
    assert!(who(&to_g2).is_err());
    g1.repair();
    g2.disconnect(1);
    assert!(who(&to_g2).is_err());
    g2.connect(1);
    assert_eq!(who(&to_g2), Ok((1, 1)));
    // Deafness covers dialed ends.
    g1.deafen(0);
    assert!(
        p.dialer
            .end_to("g2-server-1")
            .call::<u64, u64>("Peer.Add", &4)
            .is_err()
    );
    assert_eq!(value(&g2, 0, 1), 4);
    g1.undeafen(0);

    // A crash deletes dialed ends; the new incarnation dials its own.
    g1.crash(0);
    assert!(who(&to_g2).is_err());
    g1.restart(0);
    g1.connect(0);
    assert!(
        who(&to_g2).is_err(),
        "the dead incarnation's end stays dead"
    );
    let fresh = peer(&g1, 0).dialer.end_to("g2-server-1");
    assert_ne!(fresh.name(), to_g2.name());
    assert_eq!(who(&fresh), Ok((1, 1)));
}

#[test]
#[should_panic(expected = "already has a server named \"server-0\"")]
fn two_clusters_with_one_name_cannot_share_a_fabric() {
    let fabric = Fabric::with_seed(1);
    let gate = Gate::new();
    let g = Arc::clone(&gate);
    let _a = Cluster::start(&fabric, Peers::new(1), move |n| counter(n, &g));
    let _b = Cluster::start(&fabric, Peers::new(1), move |n| counter(n, &gate));
}

#[test]
fn clients_reach_the_peers_they_are_connected_to() {
    let (c, _) = cluster(3);
    let client = c.make_client();
    let who = |j: usize| client.end(j).call::<(), (usize, u64)>("Peer.Who", &());
    let reached = || (0..3).map(|j| who(j).is_ok()).collect::<Vec<_>>();
    assert_eq!(reached(), [true, true, true]);
    assert_eq!(client.ends().len(), 3);

    c.connect_client(&client, &[0]);
    assert_eq!(reached(), [true, false, false]);
    assert!(c.client_reaches(&client, 0) && !c.client_reaches(&client, 1));
    // A partition between peers does not cut clients off.
    c.connect_client(&client, &[0, 1, 2]);
    c.partition(&[&[0], &[1, 2]]);
    assert_eq!(reached(), [true, true, true]);
    c.repair();
    // A disconnected peer is cut off from clients too.
    c.disconnect(2);
    assert_eq!(reached(), [true, true, false]);
    c.connect(2);
    // A client's end reaches whichever incarnation is running.
    c.crash(1);
    assert!(who(1).is_err());
    c.restart(1);
    assert!(who(1).is_err(), "the restarted peer is still cut off");
    c.connect(1);
    assert_eq!(who(1), Ok((1, 2)));

    c.delete_client(&client);
    assert_eq!(reached(), [false, false, false]);

    // A fabric's client dials, and follows the same cuts.
    let roaming = c.fabric().make_client();
    assert!(roaming.ends().is_empty());
    let end = roaming.dialer().end_to(c.name(2));
    assert_eq!(end.call::<(), (usize, u64)>("Peer.Who", &()), Ok((2, 1)));
    c.connect_client(&roaming, &[0, 1]);
    assert!(end.call::<(), (usize, u64)>("Peer.Who", &()).is_err());
    assert_ne!(roaming.id(), client.id());
    assert!(roaming.name().starts_with("client-"));
}

#[test]
fn crash_all_and_restart_all() {
    let (c, _) = cluster(3);
    let old: Vec<Counter> = (0..3).map(|i| peer(&c, i)).collect();
    c.crash_all();
    assert!((0..3).all(|i| !c.is_running(i)));
    assert!(old.iter().all(Counter::is_killed));
    c.restart_all();
    assert!((0..3).all(|i| c.is_running(i) && c.incarnation(i) == 2));
    assert_eq!(reach(&c), expect(3, |_, _| true));
    let mut lives = Vec::new();
    c.each_running(|i, p| lives.push((i, p.life)));
    assert_eq!(lives, [(0, 2), (1, 2), (2, 2)]);
}

#[test]
fn dropping_the_cluster_kills_every_peer_and_shuts_the_network() {
    let (c, _) = cluster(3);
    let peers: Vec<Counter> = (0..3).map(|i| peer(&c, i)).collect();
    assert_eq!(peers[0].who(1), Ok((1, 1)));
    drop(c);
    assert!(peers.iter().all(Counter::is_killed));
    assert_eq!(peers[0].who(1), Err(RpcError::NetworkClosed));
}

#[test]
fn the_harness_draws_its_choices_from_the_seed() {
    let draw = |seed: u64| {
        let f = Fabric::with_seed(seed);
        (0..20).map(|_| f.random(1000)).collect::<Vec<_>>()
    };
    assert_eq!(draw(42), draw(42));
    assert_ne!(draw(42), draw(43));
    let gate = Gate::new();
    let c = Cluster::start(&Fabric::with_seed(42), Peers::new(1), move |n| {
        counter(n, &gate)
    });
    let from_cluster: Vec<u64> = (0..20).map(|_| c.random(1000)).collect();
    assert_eq!(from_cluster, draw(42));
    assert_eq!(c.seed(), 42);
    c.sleep_random(0);
    // The same stream lab 2's tester drew from, so a seed picks the same peers.
    let mut lab2 = labrpc::rng::Rng::new(42 ^ 0x7e57_7e57);
    let lab2: Vec<u64> = (0..20).map(|_| lab2.below(1000)).collect();
    assert_eq!(from_cluster, lab2);
}

#[test]
fn topology_says_what_state_each_peer_is_in() {
    let (c, _) = cluster(3);
    c.partition(&[&[0, 1], &[2]]);
    c.deafen(1);
    c.partition_oneway(0, 1);
    c.crash(2);
    let t = c.topology();
    assert!(
        t.contains(
            "peer 0 (server-0): running (incarnation 1), connected on side 0, messages to {1} lost"
        ),
        "{t}"
    );
    assert!(
        t.contains("peer 1 (server-1): running (incarnation 1), connected on side 0, deaf"),
        "{t}"
    );
    assert!(t.contains("peer 2 (server-2): crashed, cut off"), "{t}");
}

#[test]
fn a_cluster_is_shared_between_threads() {
    fn shareable<T: Sync + Send>() {}
    shareable::<Cluster<Counter>>();
    let (c, _) = cluster(3);
    let c = &c;
    thread::scope(|s| {
        let client = s.spawn(move || {
            let cl = c.make_client();
            let mut answered = 0;
            for _ in 0..50 {
                if cl.end(0).call::<(), (usize, u64)>("Peer.Who", &()).is_ok() {
                    answered += 1;
                }
            }
            answered
        });
        for _ in 0..5 {
            c.disconnect(1);
            c.connect(1);
        }
        assert_eq!(client.join().unwrap(), 50, "peer 0 stayed up throughout");
    });
}

#[test]
#[ignore = "scenario run by a_cluster_reports_its_peers_rpcs_and_bytes_to_the_run"]
fn scenario_cluster_report() {
    let run = Run::with_limit(
        testkit::origin!(),
        "scenario_cluster_report",
        Duration::from_secs(60),
    );
    let gate = Gate::new();
    let c = Cluster::new(&run, 3, move |n| counter(n, &gate));
    let p = peer(&c, 0);
    for _ in 0..5 {
        p.add(1, 7).expect("add");
    }
    // The run still holds a handle on the network (to read its counters),
    // yet dropping the cluster shuts the network down.
    drop(c);
    assert_eq!(p.who(1), Err(RpcError::NetworkClosed));
}

#[test]
fn a_cluster_reports_its_peers_rpcs_and_bytes_to_the_run() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let report = dir.path().join("report.jsonl");
    let out = run_child("scenario_cluster_report", &report);
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "{text}");
    let lines = std::fs::read_to_string(&report).expect("the run wrote its report");
    let reports: Vec<RunReport> = lines
        .lines()
        .map(|l| serde_json::from_str(l).expect("a JSON line"))
        .collect();
    let [r] = &reports[..] else {
        panic!("expected one report line, got {reports:?}");
    };
    // 5 calls, each 1 byte of arguments (7) and 1 of reply (7, 14, ..., 35).
    assert_eq!((r.peers, r.rpcs, r.bytes), (3, 5, 10), "{r:?}");
    assert!(r.passed);
}

/// Runs the `#[ignore]`d scenario `name` of this binary in a child process.
fn run_child(name: &str, report: &Path) -> std::process::Output {
    let exe = std::env::current_exe().expect("the test binary knows its path");
    Command::new(exe)
        .args(["--ignored", "--exact", name, "--nocapture"])
        .env("DISTLAB_SEED", "7")
        .env("DISTLAB_REPORT", report)
        .env_remove("DISTLAB_NO_TIMEOUT")
        .output()
        .expect("the child test process starts")
}
