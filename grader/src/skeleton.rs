//! `grader check-skeleton`: proves what students start from is sound, for
//! every lab alike. The handout is written and built warning-free (see
//! [`crate::handout`]); then every declared test of each chosen lab runs
//! once against the skeleton, each in its own process as the grader runs
//! it, and must fail quickly and clearly: a `todo!()` message, within the
//! time allowed, never a pass and never a hang.

use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;
use std::time::Duration;

use crate::binaries::{self, BuildOptions, Profile, Scope};
use crate::engine::{self, EngineConfig, StopRule};
use crate::error::{Context, GraderError, Result};
use crate::handout::{self, HandoutOptions, TreePlan};
use crate::plan;
use crate::progress::Progress;
use crate::verdict::VerdictKind;
use crate::workspace::{Selection, Workspace};

/// What a skeleton's failure must say: the panic message of `todo!()`.
pub const TODO_MESSAGE: &str = "not yet implemented";

/// How to check.
#[derive(Clone, Debug)]
pub struct SkeletonCheck {
    /// Labs to check (with the labs they use in the handout); empty: all.
    pub labs: Vec<String>,
    /// Where to write the handout (kept); default: a temporary folder.
    pub handout: Option<PathBuf>,
    /// Target dir of the handout's build (default: in the handout).
    pub target_dir: Option<PathBuf>,
    /// Longest a failing test may take.
    pub per_test: Duration,
    /// Runs at once.
    pub jobs: usize,
}

/// One test's finding.
#[derive(Clone, Debug)]
struct Finding {
    lab: String,
    test: String,
    seconds: f64,
    problem: Option<String>,
}

/// Runs the check; `Ok(true)` when every test failed fast and clearly.
pub fn check(kit: &Workspace, opts: &SkeletonCheck, interrupt: &AtomicBool) -> Result<bool> {
    let mut picked = opts
        .labs
        .iter()
        .map(|l| kit.find_lab(l))
        .collect::<Result<Vec<usize>>>()?;
    let whole = picked.is_empty();
    picked.extend(kit.uses_of(&picked));
    picked.sort_unstable();
    picked.dedup();
    let checked: Vec<String> = if whole {
        kit.labs.iter().map(|l| l.package.clone()).collect()
    } else {
        opts.labs
            .iter()
            .filter_map(|l| kit.find_lab(l).ok())
            .map(|i| kit.labs[i].package.clone())
            .collect()
    };
    let temp;
    let dir: &Path = match &opts.handout {
        Some(d) => d,
        None => {
            temp = tempfile::Builder::new()
                .prefix("grader-skeleton-")
                .tempdir()
                .context(|| "cannot create a temporary folder".to_string())?;
            temp.path()
        }
    };
    let handout_opts = HandoutOptions {
        build: true,
        target_dir: opts.target_dir.clone(),
        force: true,
        plan: TreePlan {
            labs: (!whole).then(|| picked.clone()),
            keep_reference: Vec::new(),
        },
        update: false,
    };
    handout::write_handout(kit, dir, &handout_opts)?;
    let ws = Workspace::load(dir)?;
    let selections: Vec<Selection> = checked
        .iter()
        .map(|p| ws.find_lab(p).map(|lab| Selection { lab, part: None }))
        .collect::<Result<_>>()?;
    let packages: Vec<&str> = checked.iter().map(String::as_str).collect();
    let build = BuildOptions {
        profile: Profile::Test,
        target_dir: Some(
            opts.target_dir
                .clone()
                .unwrap_or_else(|| dir.join("target")),
        ),
        env: Vec::new(),
        sandbox: None,
    };
    let built = binaries::build(&ws, Scope::Workspace { keep: &packages }, &build)?
        .map_err(|f| GraderError::new(format!("the handout does not build:\n{}", f.errors)))?;
    let (mut tests, warnings) = plan::plan(&ws, &selections, &[], &built.binaries)?;
    for w in warnings {
        eprintln!("warning: {w}");
    }
    if tests.is_empty() {
        return Err(GraderError::new(format!(
            "no tests to check in {}: the labs declare none in grade.toml",
            checked.join(", ")
        )));
    }
    let limit = opts.per_test.as_secs().max(1);
    for t in &mut tests {
        t.spec.timeout_secs = t.spec.timeout_secs.min(limit);
    }
    let logs = tempfile::Builder::new()
        .prefix("grader-skeleton-logs-")
        .tempdir()
        .context(|| "cannot create a temporary folder".to_string())?;
    let cfg = EngineConfig {
        jobs: opts.jobs.max(1),
        out_dir: logs.path().to_path_buf(),
        keep_logs: false,
        backtrace: false,
        seed: None,
        grace: Duration::from_secs(2),
        log_cap: 1024 * 1024,
        stop: StopRule::Iterations(1),
        // The skeleton's runs get the sandbox the graded runs get.
        sandbox: crate::sandbox::Sandbox::detect().ok(),
        debug_env: false,
        shard: None,
        campaign: None,
    };
    println!(
        "running each of {} test(s) once against the skeleton, {} at a time ...",
        tests.len(),
        cfg.jobs
    );
    let progress = Progress::new(&tests, Some(1));
    let outcome = engine::execute(&tests, &cfg, interrupt, &progress)?;
    progress.finish();
    if outcome.interrupted {
        return Err(GraderError::new(
            "interrupted: the skeleton check did not finish",
        ));
    }
    let findings: Vec<Finding> = tests
        .iter()
        .map(|t| {
            let record = outcome
                .records
                .iter()
                .find(|r| r.lab == t.lab && r.test == t.spec.name);
            let (seconds, problem) = match record {
                None => (0.0, Some("did not run".to_owned())),
                Some(r) => (
                    r.seconds,
                    judge(r.verdict, r.message.as_deref(), r.seconds, limit),
                ),
            };
            Finding {
                lab: t.lab.clone(),
                test: t.spec.name.clone(),
                seconds,
                problem,
            }
        })
        .collect();
    let width = findings.iter().map(|f| f.test.len()).max().unwrap_or(0);
    for f in &findings {
        match &f.problem {
            None => println!(
                "{:<14} {:<width$} fails in {:>7.0} ms with a todo!() message",
                f.lab,
                f.test,
                f.seconds * 1000.0
            ),
            Some(p) => println!("{:<14} {:<width$} PROBLEM: {p}", f.lab, f.test),
        }
    }
    let bad = findings.iter().filter(|f| f.problem.is_some()).count();
    if bad == 0 {
        println!(
            "OK: all {} test(s) of {} fail fast and clearly against the skeleton, which builds warning-free",
            findings.len(),
            checked.join(", ")
        );
    } else {
        println!(
            "FAILED: {bad} of {} test(s) do not fail fast and clearly against the skeleton; a student would meet them first",
            findings.len()
        );
    }
    Ok(bad == 0)
}

/// Why a skeleton run is not the clear, quick failure wanted, if it is not.
fn judge(verdict: VerdictKind, message: Option<&str>, seconds: f64, limit: u64) -> Option<String> {
    match verdict {
        VerdictKind::Pass => {
            Some("passes against the skeleton: the test checks nothing the skeleton lacks".into())
        }
        VerdictKind::Timeout => Some(format!(
            "still running after {limit} s: a skeleton test must fail fast, not hang"
        )),
        VerdictKind::Fail => {
            let msg = message.unwrap_or("");
            if !msg.contains(TODO_MESSAGE) {
                Some(format!(
                    "fails, but not with a todo!() message (it says: {}); a student cannot tell what to implement",
                    msg.lines().next().unwrap_or("nothing")
                ))
            } else if seconds > limit as f64 {
                Some(format!("took {seconds:.1} s, over the {limit} s allowed"))
            } else {
                None
            }
        }
        other => Some(format!(
            "ends as {} ({}); it should fail with a todo!() message",
            other.label(),
            message.unwrap_or("no message")
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_quick_todo_failure_is_clear() {
        assert_eq!(
            judge(
                VerdictKind::Fail,
                Some("not yet implemented: Raft::new"),
                0.3,
                30
            ),
            None
        );
        let cases = [
            (VerdictKind::Pass, Some(""), 0.1, "passes"),
            (VerdictKind::Timeout, None, 31.0, "hang"),
            (
                VerdictKind::Fail,
                Some("index out of bounds"),
                0.1,
                "not with a todo",
            ),
            (
                VerdictKind::Fail,
                Some("not yet implemented"),
                45.0,
                "over the",
            ),
            (VerdictKind::Crash, Some("SIGABRT"), 0.1, "CRASH"),
        ];
        for (verdict, msg, secs, needle) in cases {
            let p = judge(verdict, msg, secs, 30).unwrap_or_default();
            assert!(p.contains(needle), "{verdict:?}: {p}");
        }
    }
}
