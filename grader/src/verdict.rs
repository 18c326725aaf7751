//! From how a run ended, what it reported and what it printed, to one of
//! six verdicts. Passing takes exit status 0 **and** an authentic report
//! (see [`crate::reported`]) saying this test passed with this seed within
//! every budget. What the process printed, libtest's lines included, is for
//! people and for failure messages; it never makes a pass. Student code that
//! calls `process::exit(0)` mid-test, or writes a report of its own, gets NO
//! VERDICT.

use std::fmt;
use std::time::Duration;

use crate::budget;
use crate::process::{Ending, Supervised, signal_name};
use crate::reported::Reported;
use serde::{Deserialize, Serialize};
use testkit::grade::TestSpec;

/// The kind of verdict.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, PartialOrd, Ord, Hash)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum VerdictKind {
    /// Passed, within every budget.
    Pass,
    /// An assertion, a panic, or a budget.
    Fail,
    /// Killed at its time limit (by the grader or by testkit).
    Timeout,
    /// Killed past its memory limit.
    OutOfMemory,
    /// Killed by a signal it raised itself (abort, segfault).
    Crash,
    /// Exited 0 without an authentic report of the test's verdict.
    NoVerdict,
}

impl VerdictKind {
    /// The label printed in tables.
    pub fn label(self) -> &'static str {
        match self {
            VerdictKind::Pass => "PASS",
            VerdictKind::Fail => "FAIL",
            VerdictKind::Timeout => "TIMEOUT",
            VerdictKind::OutOfMemory => "OUT OF MEMORY",
            VerdictKind::Crash => "CRASH",
            VerdictKind::NoVerdict => "NO VERDICT",
        }
    }
}

impl fmt::Display for VerdictKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

/// A verdict and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Verdict {
    /// The kind.
    pub kind: VerdictKind,
    /// What went wrong (absent on a pass).
    pub message: Option<String>,
}

impl Verdict {
    fn new(kind: VerdictKind, message: impl Into<String>) -> Verdict {
        Verdict {
            kind,
            message: Some(message.into()),
        }
    }
}

/// The part of testkit's own timeout message the grader recognises.
const TESTKIT_TIMEOUT: &str = "exceeded its wall-clock limit";

/// Judges one run; `None` when it was interrupted (no verdict to record).
pub fn classify(
    sup: &Supervised,
    reported: &Reported,
    spec: &TestSpec,
    kill_after: Duration,
) -> Option<Verdict> {
    let scan = &sup.captured.scan;
    let report = reported.authentic();
    let said = || {
        report
            .and_then(|r| r.failure.clone())
            .or_else(|| scan.testkit_failure.clone())
            .or_else(|| scan.panic.clone())
    };
    let v = match sup.ending {
        Ending::Interrupted => return None,
        Ending::TimedOut => Verdict::new(
            VerdictKind::Timeout,
            format!(
                "killed after {:.1} s: no verdict within timeout_secs {} (grade.toml) plus {:.0} s grace",
                sup.wall.as_secs_f64(),
                spec.timeout_secs,
                kill_after.as_secs_f64() - spec.timeout_secs as f64
            ),
        ),
        Ending::OutOfMemory(rss) => Verdict::new(
            VerdictKind::OutOfMemory,
            format!(
                "killed at {} MiB resident: over max_rss_mib {} (grade.toml)",
                rss / (1024 * 1024),
                spec.max_rss_mib
            ),
        ),
        Ending::Signalled(sig) => {
            let mut m = format!("killed by {}", signal_name(sig));
            if let Some(p) = said() {
                m.push_str(&format!(" after: {p}"));
            }
            Verdict::new(VerdictKind::Crash, m)
        }
        Ending::Exited(0) => {
            if let Reported::Rejected(why) = reported {
                Verdict::new(
                    VerdictKind::NoVerdict,
                    format!("exited with status 0 but its report was refused: {why}"),
                )
            } else if report.is_none() {
                Verdict::new(
                    VerdictKind::NoVerdict,
                    "exited with status 0 but the test ended without testkit's verdict \
                     (did the code call std::process::exit, or does the test not start \
                     with testkit::begin!()?)",
                )
            } else if let Some(r) = report.filter(|r| !r.passed) {
                Verdict::new(
                    VerdictKind::Fail,
                    r.failure
                        .clone()
                        .unwrap_or_else(|| "the run report says it failed".into()),
                )
            } else {
                let over = budget::violations(spec, report, sup.wall.as_secs_f64());
                if over.is_empty() {
                    Verdict {
                        kind: VerdictKind::Pass,
                        message: None,
                    }
                } else {
                    Verdict::new(
                        VerdictKind::Fail,
                        format!("over budget: {}", over.join("; ")),
                    )
                }
            }
        }
        Ending::Exited(code) => match said() {
            Some(m) if m.contains(TESTKIT_TIMEOUT) => Verdict::new(VerdictKind::Timeout, m),
            Some(m) => Verdict::new(VerdictKind::Fail, m),
            None => Verdict::new(
                VerdictKind::Fail,
                format!("exited with status {code} without a panic message"),
            ),
        },
    };
    Some(v)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::capture::{Captured, Scan};
    use std::collections::BTreeMap;
    use std::path::PathBuf;

    fn spec() -> TestSpec {
        TestSpec {
            name: "t".into(),
            part: "A".into(),
            points: 1.0,
            timeout_secs: 2,
            max_rpcs: None,
            max_bytes: None,
            max_heap_bytes: None,
            max_rss_mib: 64,
            max_threads: 1024,
            limits: BTreeMap::new(),
            source: PathBuf::from("grade.toml"),
        }
    }

    fn run(ending: Ending, scan: Scan) -> Supervised {
        Supervised {
            ending,
            wall: Duration::from_millis(300),
            peak_rss: 0,
            captured: Captured {
                stored: 0,
                discarded: 0,
                scan,
            },
        }
    }

    fn ok_scan() -> Scan {
        Scan {
            saw_test_line: true,
            saw_result_ok: true,
            ..Scan::default()
        }
    }

    fn judge_with(ending: Ending, scan: Scan, reported: &Reported) -> Verdict {
        classify(
            &run(ending, scan),
            reported,
            &spec(),
            Duration::from_secs(5),
        )
        .expect("not interrupted")
    }

    fn judge(ending: Ending, scan: Scan) -> Verdict {
        judge_with(ending, scan, &Reported::Missing)
    }

    fn authentic(passed: bool) -> Reported {
        Reported::Authentic(testkit::report::RunReport {
            test: "t".into(),
            package: "lab0".into(),
            seed: 1,
            passed,
            seconds: 0.3,
            peers: 1,
            rpcs: 1,
            bytes: 1,
            ops: 1,
            heap_peak: None,
            failure: (!passed).then(|| "wrong answer".into()),
        })
    }

    #[test]
    fn exit_zero_with_an_authentic_passing_report_passes() {
        let v = judge_with(Ending::Exited(0), Scan::default(), &authentic(true));
        assert_eq!(
            v.kind,
            VerdictKind::Pass,
            "libtest's lines are not needed: {v:?}"
        );
    }

    #[test]
    fn libtest_success_lines_without_a_report_are_no_verdict() {
        let v = judge(Ending::Exited(0), ok_scan());
        assert_eq!(v.kind, VerdictKind::NoVerdict);
        assert!(
            v.message
                .unwrap_or_default()
                .contains("without testkit's verdict")
        );
    }

    #[test]
    fn a_refused_report_is_no_verdict_saying_why() {
        let refused = Reported::Rejected("the tag is wrong".into());
        let v = judge_with(Ending::Exited(0), ok_scan(), &refused);
        assert_eq!(v.kind, VerdictKind::NoVerdict);
        assert!(v.message.unwrap_or_default().contains("the tag is wrong"));
    }

    #[test]
    fn an_authentic_failing_report_fails_even_with_exit_zero() {
        let v = judge_with(Ending::Exited(0), ok_scan(), &authentic(false));
        assert_eq!(v.kind, VerdictKind::Fail);
        assert_eq!(v.message.as_deref(), Some("wrong answer"));
    }

    #[test]
    fn testkit_timeout_message_is_a_timeout() {
        let scan = Scan {
            testkit_failure: Some("test exceeded its wall-clock limit of 2 s".into()),
            ..Scan::default()
        };
        assert_eq!(judge(Ending::Exited(101), scan).kind, VerdictKind::Timeout);
    }

    #[test]
    fn failure_message_prefers_testkit_over_libtest_panic() {
        let scan = Scan {
            panic: Some("panicked at a.rs:1:1: boom".into()),
            testkit_failure: Some("panic in thread 'x': boom".into()),
            ..Scan::default()
        };
        let v = judge(Ending::Exited(101), scan);
        assert_eq!(v.kind, VerdictKind::Fail);
        assert_eq!(v.message.as_deref(), Some("panic in thread 'x': boom"));
    }

    #[test]
    fn signal_is_a_crash_naming_it() {
        let v = judge(Ending::Signalled(libc::SIGABRT), Scan::default());
        assert_eq!(v.kind, VerdictKind::Crash);
        assert!(
            v.message.as_deref().unwrap_or("").contains("SIGABRT"),
            "{v:?}"
        );
    }

    #[test]
    fn interrupted_runs_have_no_verdict_to_record() {
        let r = classify(
            &run(Ending::Interrupted, Scan::default()),
            &Reported::Missing,
            &spec(),
            Duration::from_secs(5),
        );
        assert_eq!(r, None);
    }
}
