//! Part B's world and scenarios: one [`VersionedServer`], its clerks and
//! locks, racing puts, lost replies, and the lock's mutual exclusion.

use labcheck::Recorder;
use labcheck::models::{KvVersioned, VersionedInput, VersionedOutput};
use labrpc::rng::Rng;
use labrpc::{Fault, Network, Server, Service};
use labrt::sync::atomic::{AtomicU64, Ordering};
use labrt::sync::{Arc, Mutex, PoisonError};
use labrt::thread;
use labrt::time::{Duration, Instant};
use testkit::Run;

use super::checks::{assert_budgets, assert_linearizable, limit_count, limit_secs};
use super::record::RecordingVersionedClerk;
use super::rig::{Net, Rig};
use super::violation::Violation;
use crate::versioned_rpc::{GET, GetArgs, PUT, PutArgs, PutError, Version};
use crate::{Lock, VersionedClerk, VersionedServer};

/// The server's name on the network.
const SERVER: &str = "versioned-server";

/// A network seeded by the run, one [`VersionedServer`] on it, and a
/// factory for clerks and locks, each with its own end.
pub struct VersionedTester {
    rig: Rig,
}

impl VersionedTester {
    /// Builds the world for `run`; its report will count this network's
    /// RPCs and bytes.
    pub fn new(run: &Run, net: Net) -> VersionedTester {
        let server = Arc::new(VersionedServer::new());
        let (get, put) = (server.clone(), server);
        let (service_name, get_method) = GET.rsplit_once('.').unwrap_or(("", GET));
        let put_method = PUT.rsplit_once('.').map_or(PUT, |(_, m)| m);
        let service = Service::new(service_name)
            .method(get_method, move |args: GetArgs| get.get(args))
            .method(put_method, move |args: PutArgs| put.put(args));
        VersionedTester {
            rig: Rig::new(run, net, SERVER, Server::new([service])),
        }
    }

    /// A new clerk with an end of its own.
    pub fn make_clerk(&self) -> VersionedClerk {
        VersionedClerk::new(self.rig.make_end())
    }

    /// A new lock on key `name`, with a clerk (and end) of its own.
    pub fn make_lock(&self, name: &str) -> Lock {
        Lock::new(self.make_clerk(), name)
    }

    /// The network (for its counters and fault knobs).
    pub fn network(&self) -> &Network {
        self.rig.network()
    }
}

/// The version a get reports, `ABSENT` for a missing key.
fn version_of(found: &Option<(String, Version)>) -> Version {
    found.as_ref().map_or(Version::ABSENT, |(_, v)| *v)
}

/// One clerk on a reliable network walks through every case of the
/// versioned put and get, and a second clerk sees the same state:
///
/// | step | expected |
/// |---|---|
/// | get a missing key | `None` |
/// | put a missing key with version 1 | `NoKey` |
/// | put a missing key with version 0 | `Ok`; get gives version 1 |
/// | put again with version 0 | `Version` |
/// | put with a future version (2) | `Version` |
/// | put with the current version (1) | `Ok`; get gives the new value, version 2 |
/// | put with the stale version 1 | `Version`; the value is unchanged |
/// | create a key with the empty value | `Ok`; get gives `("", 1)`, not `None` |
///
/// Each operation must take exactly one RPC (`max_rpcs` in `grade.toml`).
pub fn semantics(run: &Run) {
    let tester = VersionedTester::new(run, Net::Reliable);
    let mut ck = tester.make_clerk();
    let seed = run.seed();
    let put = |ck: &mut VersionedClerk,
               key: &str,
               value: &str,
               version: u64,
               want: Result<(), PutError>| {
        let got = ck.put(key, value, Version(version));
        run.add_ops(1);
        assert_eq!(
            got, want,
            "put({key:?}, {value:?}, version {version}) should return {want:?}, got {got:?} (seed {seed})"
        );
    };
    let get = |ck: &mut VersionedClerk, key: &str, want: Option<(&str, u64)>| {
        let got = ck.get(key);
        run.add_ops(1);
        let want = want.map(|(v, ver)| (v.to_owned(), Version(ver)));
        assert_eq!(
            got, want,
            "get({key:?}) should return {want:?}, got {got:?} (seed {seed})"
        );
    };
    get(&mut ck, "a", None);
    put(&mut ck, "a", "x", 1, Err(PutError::NoKey));
    get(&mut ck, "a", None);
    put(&mut ck, "a", "x", 0, Ok(()));
    get(&mut ck, "a", Some(("x", 1)));
    put(&mut ck, "a", "y", 0, Err(PutError::Version));
    put(&mut ck, "a", "y", 2, Err(PutError::Version));
    get(&mut ck, "a", Some(("x", 1)));
    put(&mut ck, "a", "y", 1, Ok(()));
    get(&mut ck, "a", Some(("y", 2)));
    put(&mut ck, "a", "z", 1, Err(PutError::Version));
    let mut other = tester.make_clerk();
    get(&mut other, "a", Some(("y", 2)));
    put(&mut other, "b", "", 0, Ok(()));
    get(&mut ck, "b", Some(("", 1)));
    assert_budgets(run, tester.network());
}

/// Clients race to put one key for a while, each reading the version and
/// then putting with it, on a reliable network. Every put that returned
/// `Ok` moved the version on by one and no other did, so the final version
/// must equal the number of `Ok`s; the whole history must be linearizable.
///
/// Limits: `clients`, `seconds`, `ops_per_client`, `check_secs`.
pub fn racing_puts(run: &Run) {
    let clients = limit_count(run, "clients");
    let seconds = limit_secs(run, "seconds");
    let ops_cap = limit_count(run, "ops_per_client");
    let tester = VersionedTester::new(run, Net::Reliable);
    let rec = Recorder::start();
    let oks = AtomicU64::new(0);
    let violation = Violation::new();
    let deadline = Instant::now() + seconds;
    let seed = run.seed();
    thread::scope(|s| {
        for client in 0..clients {
            let mut ck = RecordingVersionedClerk::new(
                tester.make_clerk(),
                client as u64,
                rec.clone(),
                run.op_counter(),
            );
            let (oks, violation) = (&oks, &violation);
            s.spawn(move || {
                let mut n = 0;
                while n < ops_cap && Instant::now() < deadline && !violation.found() {
                    let version = version_of(&ck.get("k"));
                    match ck.put("k", &format!("{client} {n}"), version) {
                        Ok(()) => {
                            oks.fetch_add(1, Ordering::Relaxed);
                        }
                        Err(PutError::Version) => {}
                        Err(e) => {
                            violation.report(format!(
                                "client {client}: put(\"k\", {:?}, {version}) returned \
                                 PutError::{e:?} on a reliable network; expected Ok, or \
                                 PutError::Version if another client's put came first. A \
                                 reliable network loses nothing, so the clerk should send the \
                                 put once and pass the server's answer on (Maybe is only for a \
                                 retry that met a version mismatch) (seed {seed})",
                                format!("{client} {n}")
                            ));
                            break;
                        }
                    }
                    n += 1;
                }
            });
        }
    });
    violation.assert_none();
    let mut ck = RecordingVersionedClerk::new(
        tester.make_clerk(),
        clients as u64,
        rec.clone(),
        run.op_counter(),
    );
    let final_version = version_of(&ck.get("k"));
    let oks = oks.load(Ordering::Relaxed);
    assert_eq!(
        final_version.0,
        oks,
        "the key's final version is {final_version} after {oks} puts that returned Ok; \
         expected v{oks}, one version per Ok put. Look for a put that moves the version \
         without returning Ok, or that returns Ok without moving it (seed {})",
        run.seed()
    );
    assert_linearizable(
        run,
        &KvVersioned,
        &rec.history(),
        limit_secs(run, "check_secs"),
    );
    assert_budgets(run, tester.network());
}

/// One clerk on an unreliable network puts try `i` with version `i` (so
/// each put must apply, exactly once) and reads the key back. A put must
/// return `Ok` or `Maybe` (never `Version`: nobody else writes), the read
/// must show version `i + 1` (a retry that applied twice would show more),
/// and `Maybe` must turn up: the run keeps going past `tries` until it has
/// (at most `max_tries`).
///
/// Limits: `tries`, `max_tries`, `check_secs`.
pub fn lost_replies(run: &Run) {
    let tries = limit_count(run, "tries");
    let max_tries = limit_count(run, "max_tries").max(tries);
    let tester = VersionedTester::new(run, Net::Unreliable);
    let rec = Recorder::start();
    let mut ck =
        RecordingVersionedClerk::new(tester.make_clerk(), 0, rec.clone(), run.op_counter());
    let mut maybes = 0;
    let mut done = 0;
    while done < tries || (maybes == 0 && done < max_tries) {
        let version = Version(done as u64);
        let value = format!("try {done}");
        match ck.put("k", &value, version) {
            Ok(()) => {}
            Err(PutError::Maybe) => maybes += 1,
            Err(e) => panic!(
                "try {done}: put(\"k\", {value:?}, {version}) returned PutError::{e:?}, but \
                 {version} was the key's version (the previous read showed it) and no other \
                 client writes the key; expected Ok, or Maybe after a lost reply. A retry that \
                 meets a version mismatch must return Maybe, since an earlier attempt may have \
                 applied (seed {})",
                run.seed()
            ),
        }
        match ck.get("k") {
            Some((seen, v)) if v == version.next() && seen == value => {}
            other => panic!(
                "try {done}: after put(\"k\", {value:?}, {version}) the key holds {other:?}; \
                 expected ({value:?}, {}), exactly one put later, since the put returned Ok or \
                 Maybe and no other client writes the key. A higher version would mean a put \
                 applied more than once; the old value, that the put did not apply (seed {})",
                version.next(),
                run.seed()
            ),
        }
        done += 1;
    }
    assert!(
        maybes > 0,
        "in {done} puts over an unreliable network the clerk never returned PutError::Maybe; \
         when a retried put meets a version mismatch the clerk cannot know whether an earlier \
         attempt applied and must say Maybe (seed {})",
        run.seed()
    );
    assert_linearizable(
        run,
        &KvVersioned,
        &rec.history(),
        limit_secs(run, "check_secs"),
    );
    assert_budgets(run, tester.network());
}

/// `clients` clients take turns on one lock for `seconds`. Inside the lock
/// each checks two ways that it is alone: an in-process holder slot (set on
/// entry, cleared on exit; finding it taken is a violation on the spot) and
/// a witness key on the server that it reads, claims and frees through its
/// own recording clerk (whose history must be linearizable). Each hold
/// lasts `hold_ms`, and the clients together must get the lock at least
/// `min_acquisitions` times (a lock that works but crawls fails too).
///
/// On top of the network's own losses, `extra_put_reply_loss` of the put
/// replies are lost: on MIT's unreliable network only about one put in ten
/// ends in `Maybe`, too rarely for a two-second test to meet the lock's
/// subtle cases (a take or a release that did apply) reliably.
///
/// Limits: `clients`, `seconds`, `hold_ms`, `min_acquisitions`,
/// `extra_put_reply_loss`, `check_secs`.
pub fn lock_mutual_exclusion(run: &Run, net: Net) {
    let clients = limit_count(run, "clients");
    let seconds = limit_secs(run, "seconds");
    let hold = Duration::from_millis(limit_count(run, "hold_ms") as u64);
    let min_acquisitions = limit_count(run, "min_acquisitions") as u64;
    let extra_loss = run.limit("extra_put_reply_loss");
    let tester = VersionedTester::new(run, net);
    if extra_loss > 0.0 {
        tester.network().add_fault(
            Fault::drop_reply()
                .on_method(PUT)
                .with_probability(extra_loss),
        );
    }
    let rec = Recorder::start();
    // 0 while free, else the holder's client number + 1.
    let holder = AtomicU64::new(0);
    let acquisitions = AtomicU64::new(0);
    let violation = Violation::new();
    let witness = Witness::new(clients, hold, run.seed());
    let deadline = Instant::now() + seconds;
    let seed = run.seed();
    thread::scope(|s| {
        for client in 0..clients {
            let mut lock = tester.make_lock("lock");
            let mut ck = RecordingVersionedClerk::new(
                tester.make_clerk(),
                client as u64,
                rec.clone(),
                run.op_counter(),
            );
            let (holder, acquisitions, violation, witness) =
                (&holder, &acquisitions, &violation, &witness);
            let mut rng = Rng::new(seed ^ (client as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15));
            s.spawn(move || {
                let me = client as u64 + 1;
                while Instant::now() < deadline && !violation.found() {
                    lock.acquire();
                    let inside = holder
                        .compare_exchange(0, me, Ordering::SeqCst, Ordering::SeqCst)
                        .map_err(|other| {
                            format!(
                                "client {client}'s acquire returned while client {} was still \
                                 inside the lock (its acquire had returned and it had not yet \
                                 called release); expected one client at a time between acquire \
                                 and release. Look at how acquire decides that the lock is free \
                                 or already its own, and at what release does after a Maybe \
                                 (seed {seed})",
                                other - 1
                            )
                        })
                        .and_then(|_| witness.claim_and_free(&mut ck, client))
                        .and_then(|()| {
                            holder
                                .compare_exchange(me, 0, Ordering::SeqCst, Ordering::SeqCst)
                                .map(|_| ())
                                .map_err(|other| {
                                    format!(
                                        "when client {client} came to release the lock, the \
                                         harness's record of who was inside no longer named it \
                                         but {}; expected it to name client {client} from its \
                                         acquire to its release. Look at how acquire decides \
                                         that the lock is free (seed {seed})",
                                        if other == 0 {
                                            "nobody".to_owned()
                                        } else {
                                            format!("client {}", other - 1)
                                        }
                                    )
                                })
                        });
                    if let Err(problem) = inside {
                        violation.report(problem);
                    }
                    // Release even after a violation, so no client waits forever.
                    lock.release();
                    acquisitions.fetch_add(1, Ordering::Relaxed);
                    // Stagger the clients a little so each gets turns.
                    thread::sleep(Duration::from_millis(rng.below(3)));
                }
            });
        }
    });
    violation.assert_none();
    let acquisitions = acquisitions.load(Ordering::Relaxed);
    assert!(
        acquisitions >= min_acquisitions,
        "{clients} clients acquired the lock only {acquisitions} times in {seconds:?}; expected \
         at least {min_acquisitions} (min_acquisitions in grade.toml): look for long sleeps or \
         wasted round trips in acquire and release (seed {seed})"
    );
    assert_linearizable(
        run,
        &KvVersioned,
        &rec.history(),
        limit_secs(run, "check_secs"),
    );
    assert_budgets(run, tester.network());
}

/// The witness key of the lock test, which each client claims and frees
/// while it holds the lock, through its own recording clerk.
struct Witness {
    clients: usize,
    hold: Duration,
    seed: u64,
    /// The last release of the witness key.
    last_release: Mutex<Option<Release>>,
}

/// One release of the witness key.
#[derive(Clone, Copy)]
struct Release {
    /// The client that released it.
    by: usize,
    /// The version its put named (the one the key had to be at).
    at: Version,
    /// What the put returned.
    result: Result<(), PutError>,
}

/// The witness key's name on the server.
const WITNESS: &str = "witness";

impl Witness {
    fn new(clients: usize, hold: Duration, seed: u64) -> Witness {
        Witness {
            clients,
            hold,
            seed,
            last_release: Mutex::new(None),
        }
    }

    /// Inside the lock: the witness key must be free; claim it, hold, free
    /// it. Under a working lock nobody else writes the key meanwhile, so a
    /// `Maybe` can only mean our own retried put applied (a clerk says
    /// `Maybe` only when a retry meets a version mismatch), and the next put
    /// uses the version after it.
    fn claim_and_free(
        &self,
        ck: &mut RecordingVersionedClerk,
        client: usize,
    ) -> Result<(), String> {
        let seed = self.seed;
        let hint = || witness_hint(client, self.clients);
        let found = ck.get(WITNESS);
        let version = version_of(&found);
        if let Some((value, _)) = &found
            && !value.is_empty()
        {
            let last = *self
                .last_release
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            let why = match last {
                Some(Release { by, at, result }) => format!(
                    "the last release of it, client {by}'s put(\"witness\", \"\", {at}), \
                     returned {}",
                    put_result(result)
                ),
                None => "every client empties it before releasing the lock".to_owned(),
            };
            return Err(format!(
                "client {client} acquired the lock and read the witness key as {value:?} at \
                 {version}; expected \"\", since {why}. {} (seed {seed})",
                hint()
            ));
        }
        let claim = format!("client {client}");
        let claimed = ck.put(WITNESS, &claim, version);
        if let Err(e @ (PutError::Version | PutError::NoKey)) = claimed {
            return Err(format!(
                "client {client} acquired the lock, read the witness key as \"\" at {version}, \
                 then put(\"witness\", {claim:?}, {version}) returned PutError::{e:?}; expected \
                 Ok (or Maybe after a lost reply), since that was the key's version and the \
                 client held the lock throughout; a retry that meets a version mismatch must \
                 return Maybe, not Version. {} (seed {seed})",
                hint()
            ));
        }
        thread::sleep(self.hold);
        let next = version.next();
        let released = ck.put(WITNESS, "", next);
        *self
            .last_release
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = Some(Release {
            by: client,
            at: next,
            result: released,
        });
        match released {
            Ok(()) | Err(PutError::Maybe) => Ok(()),
            Err(e) => Err(format!(
                "client {client} acquired the lock and claimed the witness key with \
                 put(\"witness\", {claim:?}, {version}), which returned {}, so the key should \
                 have been at {next}; but its release put(\"witness\", \"\", {next}) returned \
                 PutError::{e:?}: the key was not at {next} when the release arrived. Expected \
                 Ok (or Maybe after a lost reply), since client {client} held the lock \
                 throughout. {} (seed {seed})",
                put_result(claimed),
                hint()
            )),
        }
    }
}

/// A witness put's result as the lock test reads it.
fn put_result(result: Result<(), PutError>) -> String {
    match result {
        Ok(()) => "Ok".to_owned(),
        Err(PutError::Maybe) => "Maybe (taken as applied: a clerk says Maybe only when a retry \
                                 meets a version mismatch, which under the lock only its own \
                                 earlier attempt can cause)"
            .to_owned(),
        Err(e) => format!("PutError::{e:?}"),
    }
}

/// What may explain a witness key that is not as its holder left it.
fn witness_hint(client: usize, clients: usize) -> String {
    let versions = "look for a server that changes a key's version other than by exactly one \
                    per applied put, or a clerk that reports Ok or Maybe for a put that did not \
                    apply";
    if clients == 1 {
        format!(
            "With one client, nothing but client {client}'s own puts writes the witness key: \
             {versions}"
        )
    } else {
        format!(
            "Another client may have written the witness key while client {client} held the \
             lock, which would mean two clients inside at once (look at acquire and release, \
             especially after a Maybe); otherwise {versions}"
        )
    }
}

/// The outputs the Part B history uses, for [`super::record`].
pub(crate) fn get_output(found: &Option<(String, Version)>) -> VersionedOutput {
    match found {
        Some((value, version)) => VersionedOutput::value(value.clone(), version.0),
        None => VersionedOutput::NoKey,
    }
}

/// The output a put's result is recorded as.
pub(crate) fn put_output(result: &Result<(), PutError>) -> VersionedOutput {
    match result {
        Ok(()) => VersionedOutput::Ok,
        Err(PutError::NoKey) => VersionedOutput::NoKey,
        Err(PutError::Version) => VersionedOutput::WrongVersion,
        Err(PutError::Maybe) => VersionedOutput::Maybe,
    }
}

/// The input a put is recorded as.
pub(crate) fn put_input(key: &str, value: &str, version: Version) -> VersionedInput {
    VersionedInput::put(key, value, version.0)
}

#[cfg(test)]
mod tests {
    use super::witness_hint;

    #[test]
    fn witness_hints_name_only_causes_the_test_allows() {
        let alone = witness_hint(0, 1);
        assert!(alone.starts_with("With one client"), "{alone}");
        assert!(!alone.contains("nother client"), "{alone}");
        let many = witness_hint(3, 10);
        assert!(many.contains("Another client may have"), "{many}");
        assert!(many.contains("client 3 held the lock"), "{many}");
    }
}
