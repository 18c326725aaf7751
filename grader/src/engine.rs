//! The run loop: `-j` workers take (test, iteration) jobs, run each as its
//! own supervised process, judge it, keep or drop its log, and feed the
//! progress display. `grader run` gives a fixed count per test; `grader
//! stress` a count, a duration and/or "stop at the first failure".

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, MutexGuard};
use std::thread;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use crate::error::{Context, GraderError, Result};
use crate::plan::PlannedTest;
use crate::process::{self, Confinement, Launch};
use crate::progress::Progress;
use crate::reported;
use crate::sandbox::{Jail, Sandbox};
use crate::shard::{self, Shard};
use crate::verdict::{self, VerdictKind};

/// When to stop starting runs.
#[derive(Clone, Copy, Debug)]
pub enum StopRule {
    /// Exactly this many runs of every test.
    Iterations(u64),
    /// Until any of the set limits is hit.
    Stress {
        /// Runs per test.
        count: Option<u64>,
        /// Total wall-clock time.
        duration: Option<Duration>,
        /// Stop at the first run that does not pass.
        until_fail: bool,
    },
}

/// How to run.
#[derive(Clone, Debug)]
pub struct EngineConfig {
    /// Runs at once.
    pub jobs: usize,
    /// Where logs go.
    pub out_dir: PathBuf,
    /// Keep the logs of passing runs too.
    pub keep_logs: bool,
    /// Let failing runs print a backtrace (RUST_BACKTRACE=1).
    pub backtrace: bool,
    /// Use this seed for every run instead of fresh ones.
    pub seed: Option<u64>,
    /// Added to a test's timeout_secs before the grader kills it.
    pub grace: Duration,
    /// Most bytes of output a log keeps.
    pub log_cap: u64,
    /// When to stop.
    pub stop: StopRule,
    /// Run every test in this sandbox; `None` runs them directly.
    pub sandbox: Option<Sandbox>,
    /// Hand the debugging variables (`DISTLAB_LOG`, `DISTLAB_NO_TIMEOUT`)
    /// of the grader's environment to sandboxed runs (not when grading).
    pub debug_env: bool,
    /// Run only the iterations this shard holds.
    pub shard: Option<Shard>,
    /// Seed each run from this campaign seed, its test and its iteration.
    pub campaign: Option<u64>,
}

/// The grader's environment variables a sandboxed run gets when
/// [`EngineConfig::debug_env`] is set.
const DEBUG_VARS: &[&str] = &["DISTLAB_LOG", "DISTLAB_NO_TIMEOUT"];

/// Where labcheck writes the picture of a failing history
/// (`labcheck::html::VIS_DIR_ENV`; the grader does not depend on labcheck).
const PICTURES_VAR: &str = "DISTLAB_VIS_DIR";

/// Everything recorded about one run (the `--json` export's rows).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct RunRecord {
    /// The lab's package.
    pub lab: String,
    /// The part.
    pub part: String,
    /// The test (its `grade.toml` name).
    pub test: String,
    /// 0-based iteration of this test.
    pub iteration: u64,
    /// The seed it ran with.
    pub seed: u64,
    /// The verdict.
    pub verdict: VerdictKind,
    /// Why it did not pass.
    pub message: Option<String>,
    /// Wall-clock seconds measured by the grader.
    pub seconds: f64,
    /// RPCs from the run's report.
    pub rpcs: Option<u64>,
    /// Bytes from the run's report.
    pub bytes: Option<u64>,
    /// Operations from the run's report.
    pub ops: Option<u64>,
    /// Peak heap bytes from the run's report.
    pub heap_peak_bytes: Option<u64>,
    /// Peak resident set size, measured by the grader.
    pub peak_rss_bytes: u64,
    /// The kept log, if any.
    pub log: Option<PathBuf>,
    /// Whether the log was cut at the cap.
    pub log_truncated: bool,
    /// The command that reruns it.
    pub rerun: String,
    /// Index into the planned tests (not exported).
    #[serde(skip)]
    pub test_index: usize,
}

impl RunRecord {
    /// Whether it passed.
    pub fn passed(&self) -> bool {
        self.verdict == VerdictKind::Pass
    }
}

/// What a batch of runs produced.
#[derive(Clone, Debug)]
pub struct Outcome {
    /// Every finished run, in finishing order.
    pub records: Vec<RunRecord>,
    /// Whether Ctrl-C cut the batch short.
    pub interrupted: bool,
    /// Runs that were under way when Ctrl-C came and were killed unjudged.
    pub cut_off: u64,
    /// Wall-clock time of the whole batch.
    pub elapsed: Duration,
}

struct Scheduler {
    rule: StopRule,
    started: Instant,
    next: Mutex<(usize, Vec<u64>)>,
    tests: usize,
    failed: AtomicBool,
    shard: Option<Shard>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Scheduler {
    /// The next (test, iteration), round-robin so every test progresses.
    fn next(&self) -> Option<(usize, u64)> {
        let (count, deadline, until_fail) = match self.rule {
            StopRule::Iterations(n) => (Some(n), None, false),
            StopRule::Stress {
                count,
                duration,
                until_fail,
            } => (count, duration, until_fail),
        };
        if until_fail && self.failed.load(Ordering::SeqCst) {
            return None;
        }
        if deadline.is_some_and(|d| self.started.elapsed() >= d) {
            return None;
        }
        let mut g = lock(&self.next);
        let (cursor, done) = &mut *g;
        for _ in 0..self.tests {
            let t = *cursor;
            *cursor = (*cursor + 1) % self.tests;
            // The next iteration of test t this shard holds (all of them
            // without a shard), if the count allows one.
            while count.is_none_or(|c| done[t] < c) {
                let iteration = done[t];
                done[t] += 1;
                if self.shard.is_none_or(|s| s.holds(iteration)) {
                    return Some((t, iteration));
                }
            }
        }
        None
    }
}

/// Runs `tests` under `cfg`, stopping early when `interrupt` is set.
pub fn execute(
    tests: &[PlannedTest],
    cfg: &EngineConfig,
    interrupt: &AtomicBool,
    progress: &Progress,
) -> Result<Outcome> {
    std::fs::create_dir_all(&cfg.out_dir)
        .context(|| format!("cannot create output folder {}", cfg.out_dir.display()))?;
    let reports = cfg.out_dir.join(".reports");
    std::fs::create_dir_all(&reports).context(|| format!("cannot create {}", reports.display()))?;
    let sched = Scheduler {
        rule: cfg.stop,
        started: Instant::now(),
        next: Mutex::new((0, vec![0; tests.len()])),
        tests: tests.len(),
        failed: AtomicBool::new(false),
        shard: cfg.shard,
    };
    let records = Mutex::new(Vec::new());
    let cut_off = std::sync::atomic::AtomicU64::new(0);
    let error: Mutex<Option<GraderError>> = Mutex::new(None);
    let stop = AtomicBool::new(false);
    thread::scope(|s| {
        for _ in 0..cfg.jobs.max(1) {
            s.spawn(|| {
                while !interrupt.load(Ordering::SeqCst) && !stop.load(Ordering::SeqCst) {
                    let Some((t, iteration)) = sched.next() else {
                        break;
                    };
                    match run_one(&tests[t], t, iteration, cfg, &reports, interrupt) {
                        Ok(Some(rec)) => {
                            if !rec.passed() {
                                sched.failed.store(true, Ordering::SeqCst);
                            }
                            progress.finished(&rec);
                            lock(&records).push(rec);
                        }
                        Ok(None) => {
                            cut_off.fetch_add(1, Ordering::SeqCst);
                        }
                        Err(e) => {
                            lock(&error).get_or_insert(e);
                            stop.store(true, Ordering::SeqCst);
                        }
                    }
                }
            });
        }
    });
    let _ = std::fs::remove_dir_all(&reports);
    if let Some(e) = lock(&error).take() {
        return Err(e);
    }
    let records = std::mem::take(&mut *lock(&records));
    Ok(Outcome {
        records,
        interrupted: interrupt.load(Ordering::SeqCst),
        cut_off: cut_off.load(Ordering::SeqCst),
        elapsed: sched.started.elapsed(),
    })
}

fn run_one(
    test: &PlannedTest,
    index: usize,
    iteration: u64,
    cfg: &EngineConfig,
    reports: &Path,
    interrupt: &AtomicBool,
) -> Result<Option<RunRecord>> {
    let seed = match (cfg.seed, cfg.campaign) {
        (Some(s), _) => s,
        (None, Some(c)) => shard::campaign_seed(c, &test.spec.name, iteration),
        (None, None) => testkit::seed::fresh_seed(),
    };
    let stem = format!("{}-{}-seed{seed}", test.spec.name, iteration);
    let log = cfg.out_dir.join(format!("{stem}.log"));
    // The run writes its report into a folder of its own (bound writable
    // into its sandbox), and its pictures (labcheck) beside its log.
    let key = reported::fresh_key()?;
    let user = cfg.sandbox.as_ref().and_then(|sb| sb.user_for(&key));
    let run_dir = reports.join(&stem);
    let pictures = cfg.out_dir.join(format!("{stem}-pictures"));
    for dir in [&run_dir, &pictures] {
        std::fs::create_dir_all(dir).context(|| format!("cannot create {}", dir.display()))?;
        if let Some(sb) = &cfg.sandbox {
            sb.hand_over(dir, user)
                .context(|| format!("cannot hand {} over to the sandboxed run", dir.display()))?;
        }
    }
    let report_file = run_dir.join("report.jsonl");
    let kill_after = Duration::from_secs(test.spec.timeout_secs) + cfg.grace;
    let mut env = vec![
        (testkit::seed::SEED_VAR.to_owned(), seed.to_string()),
        (
            testkit::report::REPORT_VAR.to_owned(),
            report_file.display().to_string(),
        ),
        (PICTURES_VAR.to_owned(), pictures.display().to_string()),
    ];
    if cfg.backtrace {
        env.push(("RUST_BACKTRACE".into(), "1".into()));
    }
    if cfg.sandbox.is_some() && cfg.debug_env {
        for var in DEBUG_VARS {
            if let Ok(v) = std::env::var(var) {
                env.push(((*var).to_owned(), v));
            }
        }
    }
    let confine = cfg.sandbox.as_ref().map(|sandbox| Confinement {
        sandbox,
        jail: Jail {
            read_only: vec![test.binary.package_dir.clone(), test.binary.path.clone()],
            writable: vec![run_dir.clone(), pictures.clone()],
            cwd: test.binary.package_dir.clone(),
        },
        max_threads: test.spec.max_threads,
        user,
    });
    let launch = Launch {
        program: test.binary.path.clone(),
        args: vec![
            "--exact".into(),
            test.full_name.clone(),
            "--test-threads=1".into(),
            "--nocapture".into(),
        ],
        env,
        cwd: test.binary.package_dir.clone(),
        timeout: kill_after,
        max_rss: test.spec.max_rss_mib.saturating_mul(1024 * 1024),
        log: log.clone(),
        log_cap: cfg.log_cap,
        test: test.full_name.clone(),
        interrupt,
        key: Some(key),
        confine,
    };
    let sup = process::supervise(&launch)?;
    let reported = reported::read(&report_file, &key, &test.spec.name, seed);
    let _ = std::fs::remove_dir_all(&run_dir);
    // An empty pictures folder goes; one with pictures stays with the log.
    let _ = std::fs::remove_dir(&pictures);
    let report = reported.authentic().cloned();
    let Some(v) = verdict::classify(&sup, &reported, &test.spec, kill_after) else {
        // Interrupted: keep the log (the user may want it), record nothing.
        return Ok(None);
    };
    let keep = cfg.keep_logs || v.kind != VerdictKind::Pass;
    if !keep {
        let _ = std::fs::remove_file(&log);
        let _ = std::fs::remove_dir_all(&pictures);
    }
    Ok(Some(RunRecord {
        lab: test.lab.clone(),
        part: test.spec.part.clone(),
        test: test.spec.name.clone(),
        iteration,
        seed,
        verdict: v.kind,
        message: v.message,
        seconds: sup.wall.as_secs_f64(),
        rpcs: report.as_ref().map(|r| r.rpcs),
        bytes: report.as_ref().map(|r| r.bytes),
        ops: report.as_ref().map(|r| r.ops),
        heap_peak_bytes: report.as_ref().and_then(|r| r.heap_peak),
        peak_rss_bytes: sup.peak_rss,
        log: keep.then_some(log),
        log_truncated: sup.captured.discarded > 0,
        rerun: test.binary.rerun_command(&test.full_name, seed),
        test_index: index,
    }))
}
