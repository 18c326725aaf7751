//! One test run: its seed, its time limit, its panic watch and its report.
//!
//! A lab test starts with `let run = testkit::begin!();` and otherwise just
//! runs. The returned [`Run`]:
//!
//! - picks the seed (`DISTLAB_SEED` or fresh) and prints it;
//! - serializes runs within one test binary (lab tests are timing-sensitive
//!   and must not share two cores with each other);
//! - fails the test promptly, with the panic's message, when any thread of
//!   the test panics (a background thread's panic would otherwise surface only
//!   as a timeout much later);
//! - fails the test with a clear message when it exceeds its wall-clock limit
//!   from `grade.toml`;
//! - counts the operations the test reports ([`Run::add_ops`], or an
//!   [`OpCounter`] on client threads) as they complete, so a run that fails
//!   midway still reports how many completed;
//! - measures the run's own heap peak when the binary counts allocations
//!   ([`Run::heap_peak`]);
//! - on the way out, appends the JSON report line (see [`crate::report`]),
//!   prints the one-line summary, and on failure the seed and the exact
//!   command that reruns the test with it.
//!
//! testkit's panic hook wraps the one that was installed before it (the
//! standard one, normally) and calls it first, so panic messages and
//! backtraces print exactly as they would without testkit: a backtrace when
//! `RUST_BACKTRACE` asks for one, and none otherwise. testkit itself never
//! captures or prints a backtrace.

use labrt::channel::{self, RecvTimeoutError, Sender};
use labrt::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use labrt::sync::{Arc, Mutex, MutexGuard};
use labrt::sync::{Once, OnceLock};
use labrt::thread::{self, JoinHandle, ThreadId};
use labrt::time::{Duration, Instant};

use crate::grade::{GradeFile, TestSpec};
use crate::heap;
use crate::report::RunReport;
use crate::seed;

/// Where a test lives, captured at compile time by [`crate::begin!`].
#[derive(Clone, Copy, Debug)]
pub struct Origin {
    /// The Cargo package (`CARGO_PKG_NAME`).
    pub package: &'static str,
    /// The test target (`CARGO_CRATE_NAME`), e.g. `part_a`.
    pub target: &'static str,
    /// The package's directory (`CARGO_MANIFEST_DIR`), where `grade.toml` is.
    pub manifest_dir: &'static str,
}

impl Origin {
    /// The cargo command that runs exactly `test` of this target.
    pub fn rerun_command(&self, test: &str, seed: u64) -> String {
        let lib_name = self.package.replace('-', "_");
        let target = if self.target == lib_name {
            "--lib".to_owned()
        } else {
            format!("--test {}", self.target)
        };
        format!(
            "{}={seed} cargo test -p {} {target} -- --exact {test}",
            seed::SEED_VAR,
            self.package
        )
    }
}

/// The [`Origin`] of the code that expands this macro.
#[macro_export]
macro_rules! origin {
    () => {
        $crate::Origin {
            package: env!("CARGO_PKG_NAME"),
            target: env!("CARGO_CRATE_NAME"),
            manifest_dir: env!("CARGO_MANIFEST_DIR"),
        }
    };
}

/// Starts a [`Run`] for the calling test, reading its limits from the
/// package's `grade.toml`.
#[macro_export]
macro_rules! begin {
    () => {
        $crate::Run::begin($crate::origin!())
    };
}

/// Figures a harness supplies for the report.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Metrics {
    /// Peers (servers) in the test.
    pub peers: u32,
    /// RPCs that entered the network.
    pub rpcs: u64,
    /// Bytes the network carried.
    pub bytes: u64,
}

type MetricsFn = Box<dyn Fn() -> Metrics + Send + Sync>;

struct Shared {
    test: String,
    origin: Origin,
    seed: u64,
    start: Instant,
    metrics: Mutex<Option<MetricsFn>>,
    ops: Arc<AtomicU64>,
    failure: Mutex<Option<String>>,
    /// The run's heap figure when it failed (its first panic, or the time
    /// limit), before the panic machinery printed anything.
    heap_at_failure: OnceLock<Option<u64>>,
    reported: AtomicBool,
    /// The grader's key for this run's report, taken before the test's body
    /// runs (see [`crate::seal`]).
    key: Option<crate::seal::Key>,
}

impl Shared {
    /// Notes the run's heap figure now, unless it was already noted.
    fn freeze_heap(&self) {
        let _ = self.heap_at_failure.set(run_heap_peak());
    }
}

/// The current run's own heap peak: see [`Run::heap_peak`].
fn run_heap_peak() -> Option<u64> {
    heap::peak_growth().map(|p| p as u64)
}

enum Event {
    Finished,
    BackgroundPanic(String),
}

struct Active {
    thread: ThreadId,
    shared: Arc<Shared>,
    events: Sender<Event>,
}

static ACTIVE: Mutex<Option<Active>> = Mutex::new(None);
static SERIAL: Mutex<()> = Mutex::new(());
static HOOK: Once = Once::new();

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// A test run in progress. Dropping it ends the run (passed unless the
/// thread is panicking) and writes the report.
pub struct Run {
    shared: Arc<Shared>,
    events: Sender<Event>,
    watchdog: Option<JoinHandle<()>>,
    spec: Option<TestSpec>,
    _serial: MutexGuard<'static, ()>,
}

/// `grade.toml` files already read, by manifest directory.
fn grade_file(dir: &str) -> GradeFile {
    static CACHE: OnceLock<Mutex<Vec<(String, GradeFile)>>> = OnceLock::new();
    let cache = CACHE.get_or_init(|| Mutex::new(Vec::new()));
    let mut c = lock(cache);
    if let Some((_, g)) = c.iter().find(|(d, _)| d == dir) {
        return g.clone();
    }
    let g = GradeFile::for_crate(dir).unwrap_or_else(|e| panic!("distlab: bad grade.toml: {e}"));
    c.push((dir.to_owned(), g.clone()));
    g
}

/// The calling test's name, from the test harness's thread name.
fn current_test_name() -> String {
    let name = thread::current().name().unwrap_or("unnamed").to_owned();
    // Tests in modules are named `module::test`; grade.toml uses the last part.
    name.rsplit("::").next().unwrap_or(&name).to_owned()
}

impl Run {
    /// Starts a run of the calling test with the limits `grade.toml` declares
    /// for it. Prefer the [`crate::begin!`] macro, which fills in `origin`.
    ///
    /// # Panics
    /// If `grade.toml` is malformed or does not declare this test, or if
    /// `DISTLAB_SEED` is not a number; each message says what to fix.
    pub fn begin(origin: Origin) -> Run {
        let test = current_test_name();
        let grade = grade_file(origin.manifest_dir);
        let spec = grade
            .test(&test)
            .unwrap_or_else(|e| panic!("distlab: {e}"))
            .clone();
        let limit = Duration::from_secs(spec.timeout_secs);
        Run::start(origin, test, limit, Some(spec))
    }

    /// Starts a run named `test` with an explicit time limit and no
    /// `grade.toml` (for the kit's own tests and ad-hoc harnesses).
    pub fn with_limit(origin: Origin, test: &str, limit: Duration) -> Run {
        Run::start(origin, test.to_owned(), limit, None)
    }

    fn start(origin: Origin, test: String, limit: Duration, spec: Option<TestSpec>) -> Run {
        install_hook();
        let serial = lock(&SERIAL);
        let seed = seed::run_seed().unwrap_or_else(|e| panic!("distlab: {e}"));
        heap::reset_peak();
        let shared = Arc::new(Shared {
            test,
            origin,
            seed,
            start: Instant::now(),
            metrics: Mutex::new(None),
            ops: Arc::new(AtomicU64::new(0)),
            failure: Mutex::new(None),
            heap_at_failure: OnceLock::new(),
            reported: AtomicBool::new(false),
            key: crate::seal::take_key(),
        });
        println!("Test {} (seed {seed}) ...", shared.test);
        let (tx, rx) = channel::unbounded();
        *lock(&ACTIVE) = Some(Active {
            thread: thread::current().id(),
            shared: Arc::clone(&shared),
            events: tx.clone(),
        });
        let watched = Arc::clone(&shared);
        let no_limit = std::env::var_os("DISTLAB_NO_TIMEOUT").is_some();
        let watchdog = thread::Builder::new()
            .name("distlab-watchdog".into())
            .spawn(move || {
                let deadline = Instant::now() + limit;
                loop {
                    let wait = if no_limit {
                        Duration::from_secs(3600)
                    } else {
                        deadline.saturating_duration_since(Instant::now())
                    };
                    match rx.recv_timeout(wait) {
                        Ok(Event::Finished) | Err(RecvTimeoutError::Disconnected) => return,
                        Ok(Event::BackgroundPanic(msg)) => fail_process(&watched, msg),
                        Err(RecvTimeoutError::Timeout) if no_limit => {}
                        Err(RecvTimeoutError::Timeout) => fail_process(
                            &watched,
                            format!(
                                "test exceeded its wall-clock limit of {} s (timeout_secs in grade.toml); \
                                 set DISTLAB_NO_TIMEOUT=1 to lift the limit while debugging",
                                limit.as_secs()
                            ),
                        ),
                    }
                }
            })
            .unwrap_or_else(|e| panic!("distlab: cannot start the watchdog thread: {e}"));
        Run {
            shared,
            events: tx,
            watchdog: Some(watchdog),
            spec,
            _serial: serial,
        }
    }

    /// The run's seed: give it to every seeded component (the network,
    /// workload generators) so a rerun repeats their choices.
    pub fn seed(&self) -> u64 {
        self.shared.seed
    }

    /// The test's name.
    pub fn name(&self) -> &str {
        &self.shared.test
    }

    /// This test's `grade.toml` declaration, if it was started from one.
    pub fn spec(&self) -> Option<&TestSpec> {
        self.spec.as_ref()
    }

    /// The number `key` from the test's `limits` table in `grade.toml`.
    ///
    /// # Panics
    /// If the run has no `grade.toml` declaration or the limit is missing;
    /// the message names the file and the key to add.
    pub fn limit(&self, key: &str) -> f64 {
        match &self.spec {
            Some(spec) => spec.limit(key).unwrap_or_else(|e| panic!("distlab: {e}")),
            None => panic!(
                "distlab: test {} has no grade.toml declaration to read limit {key:?} from",
                self.shared.test
            ),
        }
    }

    /// A budget such as `max_rpcs` from `grade.toml`, if declared.
    pub fn spec_budget(&self, pick: impl Fn(&TestSpec) -> Option<u64>) -> Option<u64> {
        self.spec.as_ref().and_then(pick)
    }

    /// Sets how the report's peers, RPCs and bytes are read; `measure` is
    /// called when the report is written (also on failure and timeout).
    pub fn measure(&self, measure: impl Fn() -> Metrics + Send + Sync + 'static) {
        *lock(&self.shared.metrics) = Some(Box::new(measure));
    }

    /// Adds `n` to the operations the report counts. Count operations as
    /// they complete, not once at the end: a run that fails midway reports
    /// the count reached when it failed.
    pub fn add_ops(&self, n: u64) {
        self.shared.ops.fetch_add(n, Ordering::Relaxed);
    }

    /// A handle that adds to this run's operation count from any thread
    /// (a client thread, a recording clerk), like [`Run::add_ops`].
    pub fn op_counter(&self) -> OpCounter {
        OpCounter {
            ops: Arc::clone(&self.shared.ops),
        }
    }

    /// Operations counted so far.
    pub fn ops(&self) -> u64 {
        self.shared.ops.load(Ordering::Relaxed)
    }

    /// The run's own heap peak so far, in bytes: the most the live heap has
    /// risen above its level when the run began ([`heap::peak_growth`]), or
    /// `None` when the test binary does not count allocations
    /// ([`crate::install_counting_allocator!`]).
    ///
    /// This is the figure the report gives as `heap_peak` and the one to
    /// compare with a `max_heap_bytes` budget. Heap the process already held
    /// when the run began (the test harness's data, and whatever earlier
    /// tests in the same process left behind, such as the backtrace printer's
    /// cache after a failed test) is not the run's and is not counted. For a
    /// run that fails, the report gives the figure reached when it failed (at
    /// its first panic, or when it ran out of time), so the memory used to
    /// print the failure and a backtrace is not counted either.
    pub fn heap_peak(&self) -> Option<u64> {
        run_heap_peak()
    }

    /// Seconds since the run began.
    pub fn elapsed(&self) -> Duration {
        self.shared.start.elapsed()
    }
}

/// Adds to a run's operation count from any thread; made by
/// [`Run::op_counter`]. Cheap to clone.
#[derive(Clone, Debug)]
pub struct OpCounter {
    ops: Arc<AtomicU64>,
}

impl OpCounter {
    /// Adds `n` completed operations to the run's count.
    pub fn add(&self, n: u64) {
        self.ops.fetch_add(n, Ordering::Relaxed);
    }
}

impl Drop for Run {
    fn drop(&mut self) {
        let passed = !thread::panicking();
        *lock(&ACTIVE) = None;
        let _ = self.events.send(Event::Finished);
        if let Some(w) = self.watchdog.take() {
            let _ = w.join();
        }
        if !passed {
            // Normally the panic hook has noted the figure already.
            self.shared.freeze_heap();
            if lock(&self.shared.failure).is_none() {
                *lock(&self.shared.failure) = Some("the test panicked".into());
            }
        }
        finish(&self.shared, passed, Output::Captured);
    }
}

/// Where [`finish`] prints.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Output {
    /// Through `println!`/`eprintln!`, which libtest captures and shows for
    /// a failed test: right for the test's own thread.
    Captured,
    /// Straight to the process's stdout/stderr. The watchdog ends the
    /// process itself, so anything libtest captured would be lost.
    Direct,
}

/// Writes the report and prints the summary, once per run.
fn finish(shared: &Shared, passed: bool, output: Output) {
    if shared.reported.swap(true, Ordering::SeqCst) {
        return;
    }
    let metrics = lock(&shared.metrics)
        .as_ref()
        .map(|f| f())
        .unwrap_or_default();
    let failure = lock(&shared.failure).clone();
    let heap_peak = if passed {
        run_heap_peak()
    } else {
        shared
            .heap_at_failure
            .get()
            .copied()
            .unwrap_or_else(run_heap_peak)
    };
    let report = RunReport {
        test: shared.test.clone(),
        package: shared.origin.package.to_owned(),
        seed: shared.seed,
        passed,
        seconds: shared.start.elapsed().as_secs_f64(),
        peers: metrics.peers,
        rpcs: metrics.rpcs,
        bytes: metrics.bytes,
        ops: shared.ops.load(Ordering::Relaxed),
        heap_peak,
        failure: failure.clone(),
    };
    report.append_to_env_file(shared.key.as_ref());
    let summary = report.summary();
    let failed = (!passed).then(|| {
        format!(
            "distlab: test {} FAILED with seed {}: {}\ndistlab: rerun it with: {}",
            shared.test,
            shared.seed,
            failure.as_deref().unwrap_or("(no message)"),
            shared.origin.rerun_command(&shared.test, shared.seed)
        )
    });
    match output {
        Output::Captured => {
            println!("{summary}");
            if let Some(f) = failed {
                eprintln!("{f}");
            }
        }
        Output::Direct => {
            use std::io::Write;
            let _ = writeln!(std::io::stdout(), "{summary}");
            if let Some(f) = failed {
                let _ = writeln!(std::io::stderr(), "{f}");
            }
        }
    }
}

/// Fails the whole test process from the watchdog: a background panic or a
/// timeout cannot be turned into an unwind of the test's own thread.
fn fail_process(shared: &Shared, msg: String) -> ! {
    shared.freeze_heap();
    *lock(&shared.failure) = Some(msg);
    finish(shared, false, Output::Direct);
    use std::io::Write;
    let _ = std::io::stdout().flush();
    let _ = std::io::stderr().flush();
    std::process::exit(101);
}

fn install_hook() {
    HOOK.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            // The run this panic fails, if one is active. try_lock: never
            // block (or deadlock) inside a panic.
            let active = ACTIVE.try_lock().ok().and_then(|guard| {
                guard
                    .as_ref()
                    .map(|a| (a.thread, Arc::clone(&a.shared), a.events.clone()))
            });
            // The run's heap figure ends here: what the previous hook
            // allocates to print the message and a backtrace (the standard
            // library keeps its symbol cache for good), and what the
            // unwinding does after, is not the test's.
            if let Some((_, shared, _)) = &active {
                shared.freeze_heap();
            }
            // The hook installed before ours (normally the standard one):
            // it prints the message, and a backtrace only if RUST_BACKTRACE
            // asks for one.
            previous(info);
            let Some((test_thread, shared, events)) = active else {
                return;
            };
            let payload = info.payload();
            let text = payload
                .downcast_ref::<&str>()
                .map(|s| (*s).to_owned())
                .or_else(|| payload.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "(non-string panic payload)".into());
            let here = thread::current();
            let location = info
                .location()
                .map(|l| format!(" at {}:{}", l.file(), l.line()))
                .unwrap_or_default();
            let msg = format!(
                "panic in thread '{}'{location}: {text}",
                here.name().unwrap_or("unnamed")
            );
            let mut failure = lock(&shared.failure);
            if failure.is_none() {
                *failure = Some(msg.clone());
            }
            drop(failure);
            if here.id() != test_thread {
                let _ = events.send(Event::BackgroundPanic(msg));
            }
        }));
    });
}

/// Polls `condition` every `poll` until it holds or `timeout` passes;
/// returns whether it held. Tests wait this way, with generous timeouts,
/// instead of sleeping a fixed time and hoping.
pub fn wait_for(timeout: Duration, poll: Duration, mut condition: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + timeout;
    loop {
        if condition() {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        thread::sleep(poll.min(deadline.saturating_duration_since(Instant::now())));
    }
}
