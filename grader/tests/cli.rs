//! The command line around the runs: help, list, errors with exit status 2,
//! the default job, stress mode and Ctrl-C.

mod common;

use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

#[test]
fn every_subcommand_has_help() {
    for sub in [
        vec!["--help"],
        vec!["list", "--help"],
        vec!["run", "--help"],
        vec!["stress", "--help"],
        vec!["grade", "--help"],
        vec!["handout", "--help"],
    ] {
        let out = common::grader()
            .args(&sub)
            .output()
            .unwrap_or_else(|e| panic!("cannot start the grader: {e}"));
        let (stdout, _) = common::texts(&out);
        assert_eq!(
            out.status.code(),
            Some(0),
            "{sub:?} --help failed:\n{stdout}"
        );
        assert!(
            stdout.contains("Usage:"),
            "{sub:?}: no usage line:\n{stdout}"
        );
    }
}

#[test]
fn list_shows_parts_tests_points_and_budgets() {
    let out = common::run_on_fixtures(&["list", "lab8"]);
    let (stdout, stderr) = common::texts(&out);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    for want in [
        "lab8-answer (lab8): the answer; policy all-or-nothing; 8 points",
        "student files: src/answer.rs",
        "part B: doubling (3 points; requires A)",
        "answer_is_42",
        "timeout 10s",
    ] {
        assert!(stdout.contains(want), "expected {want:?} in:\n{stdout}");
    }
}

#[test]
fn an_unknown_lab_is_exit_two_naming_the_labs() {
    let out = common::run_on_fixtures(&["run", "lab5"]);
    let (_, stderr) = common::texts(&out);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains(
            "lab6-escape (lab6), lab7-twice (lab7), lab8-answer (lab8), lab9-verdicts (lab9)"
        ),
        "the error should name the labs that exist: {stderr}"
    );
}

#[test]
fn an_unknown_part_or_test_is_exit_two() {
    let out = common::run_on_fixtures(&["run", "lab8/Z"]);
    let (_, stderr) = common::texts(&out);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("parts: A, B"), "{stderr}");
    let out = common::run_on_fixtures(&["run", "lab8", "--test", "nope"]);
    let (_, stderr) = common::texts(&out);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("answer_is_42"),
        "should list the tests: {stderr}"
    );
}

#[test]
fn no_command_grades_every_lab_once() {
    let out = common::run_on_fixtures(&[]);
    let (stdout, stderr) = common::texts(&out);
    // The verdict fixture fails on purpose, so: exit 1, every lab scored.
    assert_eq!(out.status.code(), Some(1), "{stdout}\n{stderr}");
    assert!(
        stdout.contains("lab8-answer (the answer), policy all-or-nothing:"),
        "{stdout}"
    );
    assert!(
        stdout.contains("lab9-verdicts (one test per verdict), policy linear:"),
        "{stdout}"
    );
    assert!(
        stdout.contains(
            "lab7-twice (twice the answer (builds on lab8-answer)), policy all-or-nothing:"
        ),
        "{stdout}"
    );
    // The escape fixture's tests fail under the sandbox but one (whose
    // outliving process only the isolation test can judge).
    assert!(
        stdout.contains("TOTAL 15.0/35"),
        "1 + 4 + 8 + 2 of 8 + 4 + 8 + 15 points:\n{stdout}"
    );
    assert!(
        stdout.contains("26 runs in"),
        "one pass of 26 tests:\n{stdout}"
    );
}

#[test]
fn stress_until_fail_stops_early_and_prints_the_rerun_command() {
    let out = common::run_on_fixtures(&[
        "stress",
        "lab9",
        "--test",
        "fails_assertion",
        "--until-fail",
        "-j",
        "2",
    ]);
    let (stdout, stderr) = common::texts(&out);
    assert_eq!(out.status.code(), Some(1), "{stdout}\n{stderr}");
    assert!(
        stdout.contains("rerun: DISTLAB_SEED=")
            && stdout
                .contains("cargo test -p lab9-verdicts --test verdicts -- --exact fails_assertion"),
        "no rerun command in:\n{stdout}"
    );
    let row = stdout
        .lines()
        .find(|l| l.starts_with("fails_assertion "))
        .unwrap_or_else(|| panic!("no table row:\n{stdout}"));
    assert!(
        row.contains("0/1") || row.contains("0/2"),
        "until-fail should stop after the first failure (at most one per worker): {row}"
    );
}

#[test]
fn stress_count_repeats_each_test() {
    let out = common::run_on_fixtures(&[
        "stress", "lab9", "--test", "passes", "--count", "3", "-j", "2",
    ]);
    let (stdout, stderr) = common::texts(&out);
    assert_eq!(out.status.code(), Some(0), "{stdout}\n{stderr}");
    assert!(
        stdout
            .lines()
            .any(|l| l.starts_with("passes ") && l.contains("3/3") && l.contains(" ± ")),
        "expected 3/3 passes with a spread of times:\n{stdout}"
    );
    assert!(
        stdout.contains(
            "passed all of at least 3 runs: each one's failure rate < 100% at 95% confidence"
        ),
        "{stdout}"
    );
}

#[test]
fn policy_override_is_used_for_scoring() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("temp dir: {e}"));
    let json = dir.path().join("r.json");
    let out = common::run_on_fixtures(&[
        "run",
        "lab9",
        "--test",
        "passes",
        "--policy",
        "exponential",
        "--json",
        &json.display().to_string(),
    ]);
    let (stdout, stderr) = common::texts(&out);
    assert_eq!(out.status.code(), Some(0), "{stdout}\n{stderr}");
    let v = common::read_json(&json);
    assert_eq!(
        v["submissions"][0]["labs"][0]["policy"], "exponential",
        "{v}"
    );
    assert!(stdout.contains("policy exponential"), "{stdout}");
}

fn wait_until(deadline: Duration, mut cond: impl FnMut() -> bool) -> bool {
    let end = Instant::now() + deadline;
    while Instant::now() < end {
        if cond() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    cond()
}

fn find_log(dir: &Path, prefix: &str) -> Option<std::path::PathBuf> {
    std::fs::read_dir(dir).ok()?.flatten().find_map(|e| {
        let name = e.file_name().to_string_lossy().into_owned();
        (name.starts_with(prefix) && name.ends_with(".log")).then(|| e.path())
    })
}

fn has_log(dir: &Path, prefix: &str) -> bool {
    find_log(dir, prefix).is_some()
}

#[test]
fn ctrl_c_kills_runs_prints_the_partial_table_and_keeps_logs() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("temp dir: {e}"));
    let logs = dir.path().join("logs");
    let child = common::grader()
        .arg("--workspace")
        .arg(common::fixtures())
        .args([
            "run",
            "lab9",
            "--test",
            "passes",
            "--test",
            "hangs_outside_testkit",
        ])
        .args(["-n", "3", "-j", "2", "--grace", "60", "--out"])
        .arg(&logs)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start the grader: {e}"));
    // Wait until runs are under way (a log exists), then interrupt.
    let started = wait_until(Duration::from_secs(300), || {
        has_log(&logs, "hangs_outside_testkit-")
    });
    assert!(started, "no run started within 300 s");
    let t0 = Instant::now();
    // SAFETY: kill(2) on our own child's pid.
    unsafe {
        libc::kill(child.id() as libc::pid_t, libc::SIGINT);
    }
    let out = child
        .wait_with_output()
        .unwrap_or_else(|e| panic!("cannot wait for the grader: {e}"));
    let (stdout, stderr) = common::texts(&out);
    assert!(
        t0.elapsed() < Duration::from_secs(30),
        "the grader took {:?} to stop after Ctrl-C (a hung run has 62 s left)",
        t0.elapsed()
    );
    assert_eq!(out.status.code(), Some(130), "{stdout}\n{stderr}");
    assert!(
        stdout.contains("INCOMPLETE: interrupted by Ctrl-C"),
        "{stdout}"
    );
    assert!(stdout.contains("cut off while running"), "{stdout}");
    // Cut-off runs score as not run: the total is below full marks.
    assert!(!stdout.contains("total: 2.0/2"), "{stdout}");
    let log = find_log(&logs, "hangs_outside_testkit-")
        .unwrap_or_else(|| panic!("the interrupted run's log must be kept"));
    let text = std::fs::read_to_string(&log).unwrap_or_else(|e| panic!("{}: {e}", log.display()));
    assert!(
        text.trim_end()
            .lines()
            .last()
            .is_some_and(|l| l.contains("[grader]") && l.contains("interrupted")),
        "the cut-off log must end with the grader's note:\n{text}"
    );
}

#[test]
fn stress_duration_stops_starting_runs_after_the_time_limit() {
    let t0 = Instant::now();
    let out = common::run_on_fixtures(&[
        "stress",
        "lab9",
        "--test",
        "passes",
        "--duration",
        "3s",
        "-j",
        "2",
    ]);
    let (stdout, stderr) = common::texts(&out);
    assert_eq!(out.status.code(), Some(0), "{stdout}\n{stderr}");
    let row = stdout
        .lines()
        .find(|l| l.starts_with("passes "))
        .unwrap_or_else(|| panic!("no table row:\n{stdout}"));
    let runs: u64 = row
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.split('/').nth(1))
        .and_then(|n| n.parse().ok())
        .unwrap_or(0);
    assert!(runs >= 2, "expected several runs in 3 s, got {runs}: {row}");
    // Build check plus 3 s of runs; generous for a busy machine.
    assert!(
        t0.elapsed() < Duration::from_secs(240),
        "stress --duration 3s took {:?}",
        t0.elapsed()
    );
}

#[test]
fn bad_input_is_exit_two_with_one_line_naming_it() {
    let missing =
        std::env::temp_dir().join(format!("distlab-no-such-submission-{}", std::process::id()));
    let missing = missing.to_string_lossy().into_owned();
    let file = common::fixtures().join("Cargo.toml");
    let file = file.to_string_lossy().into_owned();
    let cases: &[(&[&str], &str)] = &[
        (&["run", "-n", "0"], "iterations"),
        (&["run", "-j", "0"], "jobs"),
        (&["stress", "lab9", "--duration", "soon"], "duration"),
        (&["stress", "lab9", "--count", "0"], "count"),
        (&["grade", missing.as_str()], "cannot be opened"),
        (&["grade", file.as_str()], "is not a folder"),
        (
            &["handout", "out", "--no-build", "--target-dir", "t"],
            "cannot be used with",
        ),
        (
            &["handout", "out", "--force", "--update"],
            "cannot be used with",
        ),
    ];
    for (args, needle) in cases {
        let out = common::run_on_fixtures(args);
        let (stdout, stderr) = common::texts(&out);
        assert_eq!(out.status.code(), Some(2), "{args:?}\n{stdout}\n{stderr}");
        assert!(
            stderr.to_lowercase().contains(needle),
            "{args:?}: the error should name {needle:?}: {stderr}"
        );
    }
}

#[test]
fn backtraces_are_off_in_run_logs_unless_asked_for() {
    let log_of = |extra: &[&str]| {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("temp dir: {e}"));
        let logs = dir.path().join("logs");
        let logs_arg = logs.to_string_lossy().into_owned();
        let mut args = vec![
            "run",
            "lab9",
            "--test",
            "fails_assertion",
            "--out",
            logs_arg.as_str(),
        ];
        args.extend_from_slice(extra);
        let out = common::grader()
            .env("RUST_BACKTRACE", "1")
            .arg("--workspace")
            .arg(common::fixtures())
            .args(&args)
            .output()
            .unwrap_or_else(|e| panic!("cannot start the grader binary: {e}"));
        assert_eq!(out.status.code(), Some(1), "{:?}", common::texts(&out));
        let log = find_log(&logs, "fails_assertion-")
            .unwrap_or_else(|| panic!("the failing run's log must be kept"));
        std::fs::read_to_string(&log).unwrap_or_else(|e| panic!("{}: {e}", log.display()))
    };
    let plain = log_of(&[]);
    assert!(plain.contains("panicked"), "{plain}");
    assert!(
        !plain.contains("stack backtrace"),
        "RUST_BACKTRACE leaked into the run:\n{plain}"
    );
    let asked = log_of(&["--backtrace"]);
    assert!(
        asked.contains("stack backtrace"),
        "--backtrace gave none:\n{asked}"
    );
}
