//! The run plumbing, checked from outside: scenarios run in a child process
//! (this same test binary, selecting an `#[ignore]`d scenario) because a
//! failing run ends its process.

use std::path::Path;
use std::process::{Command, Output};

use labrt::time::{Duration, Instant};
use testkit::report::RunReport;
use testkit::{Metrics, Run, heap};

testkit::install_counting_allocator!();

/// Runs scenario `name` in a child process with `seed` and a report file.
fn run_scenario(name: &str, seed: &str, report: &Path) -> (Output, Duration) {
    run_scenario_with(name, seed, report, true)
}

/// As [`run_scenario`], with or without libtest's output capture.
fn run_scenario_with(name: &str, seed: &str, report: &Path, nocapture: bool) -> (Output, Duration) {
    let mut args = vec!["--exact", name];
    if nocapture {
        args.push("--nocapture");
    }
    run_child(&args, &[], seed, report)
}

/// Runs this test binary with the `#[ignore]`d scenarios selected by `args`
/// (a name with `--exact`, or a filter), one at a time in one process, with
/// `seed`, a report file, and the extra environment `env`.
fn run_child(args: &[&str], env: &[(&str, &str)], seed: &str, report: &Path) -> (Output, Duration) {
    let exe = std::env::current_exe().expect("the test binary knows its path");
    // Stays on std: times a child OS process, which runs on the real clock in every mode.
    let start = std::time::Instant::now();
    let out = Command::new(exe)
        .args(["--ignored", "--test-threads=1"])
        .args(args)
        .env("DISTLAB_SEED", seed)
        .env("DISTLAB_REPORT", report)
        .env_remove("DISTLAB_NO_TIMEOUT")
        .envs(env.iter().copied())
        .output()
        .expect("the child test process starts");
    (out, start.elapsed())
}

fn reports(path: &Path) -> Vec<RunReport> {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    text.lines()
        .map(|l| serde_json::from_str(l).expect("each report line is JSON"))
        .collect()
}

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

#[test]
#[ignore = "scenario run by background_panic_fails_the_run_promptly"]
fn scenario_background_panic() {
    let _run = Run::with_limit(
        testkit::origin!(),
        "scenario_background_panic",
        Duration::from_secs(100),
    );
    labrt::thread::spawn(|| panic!("applier saw index 7 twice"));
    labrt::thread::sleep(Duration::from_secs(60));
}

#[test]
#[ignore = "scenario run by exceeding_the_time_limit_fails_with_a_clear_message"]
fn scenario_time_limit() {
    let _run = Run::with_limit(
        testkit::origin!(),
        "scenario_time_limit",
        Duration::from_secs(1),
    );
    labrt::thread::sleep(Duration::from_secs(60));
}

#[test]
#[ignore = "scenario run by a_passing_run_reports_its_figures"]
fn scenario_pass() {
    let run = Run::with_limit(testkit::origin!(), "scenario_pass", Duration::from_secs(30));
    run.measure(|| Metrics {
        peers: 3,
        rpcs: 106,
        bytes: 5000,
    });
    run.add_ops(4);
    let big = vec![1u8; 4 << 20];
    assert_eq!(big.len(), 4 << 20);
}

#[test]
#[ignore = "scenario run by a_failing_assertion_is_reported_with_its_message"]
fn scenario_main_panic() {
    let _run = Run::with_limit(
        testkit::origin!(),
        "scenario_main_panic",
        Duration::from_secs(30),
    );
    panic!("expected 3 peers to agree, 2 did");
}

#[test]
#[ignore = "scenario run by a_failing_run_reports_the_operations_completed_before_it_failed"]
fn scenario_ops_then_failure() {
    let run = Run::with_limit(
        testkit::origin!(),
        "scenario_ops_then_failure",
        Duration::from_secs(30),
    );
    let counter = run.op_counter();
    labrt::thread::scope(|s| {
        for _ in 0..3 {
            let counter = counter.clone();
            s.spawn(move || counter.add(1));
        }
    });
    run.add_ops(2);
    panic!("the sixth operation saw a wrong value");
}

const MIB: usize = 1 << 20;

/// What `scenario_heap_1_failing_run_leaves_memory` leaks on purpose: memory
/// an earlier test leaves behind (as a failed test's backtrace leaves the
/// standard library's symbol cache).
const LEFT_BEHIND: usize = 16 * MIB;

/// Leaks [`LEFT_BEHIND`] bytes when dropped.
struct LeaveMemoryBehind;

impl Drop for LeaveMemoryBehind {
    fn drop(&mut self) {
        std::mem::forget(std::hint::black_box(vec![1u8; LEFT_BEHIND]));
    }
}

#[test]
#[ignore = "scenario run by heap_figures_are_each_runs_own_when_runs_share_a_process"]
fn scenario_heap_1_failing_run_leaves_memory() {
    let _run = Run::with_limit(
        testkit::origin!(),
        "scenario_heap_1_failing_run_leaves_memory",
        Duration::from_secs(30),
    );
    // Dropped while the panic unwinds, after the failure and before the run ends.
    let _left = LeaveMemoryBehind;
    let own = std::hint::black_box(vec![1u8; 4 * MIB]);
    assert_eq!(own.len(), 4 * MIB);
    panic!("planned failure while holding 4 MiB");
}

#[test]
#[ignore = "scenario run by heap_figures_are_each_runs_own_when_runs_share_a_process"]
fn scenario_heap_2_small_run_after_a_leak() {
    let run = Run::with_limit(
        testkit::origin!(),
        "scenario_heap_2_small_run_after_a_leak",
        Duration::from_secs(30),
    );
    let small = std::hint::black_box(vec![1u8; 64 << 10]);
    drop(small);
    let peak = run
        .heap_peak()
        .expect("the counting allocator is installed");
    assert!(
        (64 << 10..MIB as u64).contains(&peak),
        "Run::heap_peak is the run's own figure: {peak}"
    );
}

#[test]
fn background_panic_fails_the_run_promptly() {
    let dir = tempfile::tempdir().expect("temp dir");
    let report = dir.path().join("r.jsonl");
    let (out, took) = run_scenario("scenario_background_panic", "77", &report);
    let all = text(&out);
    assert!(!out.status.success(), "the run must fail:\n{all}");
    assert!(
        took < Duration::from_secs(30),
        "failed after {took:?}, not promptly:\n{all}"
    );
    assert!(all.contains("applier saw index 7 twice"), "{all}");
    assert!(
        all.contains("DISTLAB_SEED=77 cargo test -p testkit --test run_plumbing -- --exact scenario_background_panic"),
        "rerun command missing:\n{all}"
    );
    let r = reports(&report);
    assert_eq!(r.len(), 1, "{r:?}");
    assert!(!r[0].passed);
    assert_eq!(r[0].seed, 77);
    assert!(
        r[0].failure
            .as_deref()
            .unwrap_or("")
            .contains("index 7 twice"),
        "{r:?}"
    );
}

#[test]
fn a_background_panic_is_reported_even_when_libtest_captures_output() {
    let dir = tempfile::tempdir().expect("temp dir");
    let report = dir.path().join("r.jsonl");
    let (out, _) = run_scenario_with("scenario_background_panic", "78", &report, false);
    let all = text(&out);
    assert!(!out.status.success(), "{all}");
    assert!(
        all.contains("applier saw index 7 twice"),
        "the message must survive output capture:\n{all}"
    );
    assert!(all.contains("DISTLAB_SEED=78 cargo test"), "{all}");
}

#[test]
fn exceeding_the_time_limit_fails_with_a_clear_message() {
    let dir = tempfile::tempdir().expect("temp dir");
    let report = dir.path().join("r.jsonl");
    let (out, took) = run_scenario("scenario_time_limit", "5", &report);
    let all = text(&out);
    assert!(!out.status.success(), "{all}");
    assert!(took < Duration::from_secs(30), "took {took:?}:\n{all}");
    assert!(all.contains("wall-clock limit of 1 s"), "{all}");
    let r = reports(&report);
    assert_eq!(r.len(), 1);
    assert!(!r[0].passed);
}

#[test]
fn a_passing_run_reports_its_figures() {
    let dir = tempfile::tempdir().expect("temp dir");
    let report = dir.path().join("r.jsonl");
    let (out, _) = run_scenario("scenario_pass", "12345", &report);
    let all = text(&out);
    assert!(out.status.success(), "{all}");
    assert!(all.contains("Test scenario_pass (seed 12345) ..."), "{all}");
    assert!(all.contains("... Passed --"), "{all}");
    let r = reports(&report);
    assert_eq!(r.len(), 1, "{r:?}");
    let r = &r[0];
    assert!(r.passed);
    assert_eq!(
        (r.seed, r.peers, r.rpcs, r.bytes, r.ops),
        (12345, 3, 106, 5000, 4)
    );
    assert!(
        r.heap_peak.unwrap_or(0) >= 4 << 20,
        "heap peak counts the 4 MiB vector: {r:?}"
    );
    assert_eq!(r.test, "scenario_pass");
    assert_eq!(r.package, "testkit");
}

#[test]
fn a_failing_assertion_is_reported_with_its_message() {
    let dir = tempfile::tempdir().expect("temp dir");
    let report = dir.path().join("r.jsonl");
    let (out, _) = run_scenario("scenario_main_panic", "9", &report);
    let all = text(&out);
    assert!(!out.status.success(), "{all}");
    assert!(all.contains("FAILED with seed 9"), "{all}");
    let r = reports(&report);
    assert_eq!(r.len(), 1);
    assert!(!r[0].passed);
    assert!(
        r[0].failure.as_deref().unwrap_or("").contains("2 did"),
        "{r:?}"
    );
}

#[test]
fn a_malformed_seed_is_refused_with_advice() {
    let dir = tempfile::tempdir().expect("temp dir");
    let report = dir.path().join("r.jsonl");
    let (out, _) = run_scenario("scenario_pass", "banana", &report);
    let all = text(&out);
    assert!(!out.status.success(), "{all}");
    assert!(
        all.contains("DISTLAB_SEED must be an unsigned 64-bit integer"),
        "{all}"
    );
    assert!(all.contains("\"banana\""), "{all}");
}

#[test]
fn heap_counts_exact_live_bytes() {
    let before = heap::live().expect("the counting allocator is installed");
    let v = vec![7u8; 10 << 20];
    let during = heap::live().expect("installed");
    assert!(
        during >= before + (10 << 20),
        "live grew by the vector: {before} -> {during}"
    );
    drop(v);
    let after = heap::live().expect("installed");
    assert!(after < before + (1 << 20), "freed: {before} -> {after}");
    assert!(heap::peak().expect("installed") >= before + (10 << 20));
}

#[test]
fn wait_for_reports_whether_the_condition_held() {
    let start = Instant::now();
    assert!(testkit::wait_for(
        Duration::from_secs(5),
        Duration::from_millis(1),
        || start.elapsed() > Duration::from_millis(20)
    ));
    assert!(!testkit::wait_for(
        Duration::from_millis(30),
        Duration::from_millis(5),
        || false
    ));
}

#[test]
fn a_failing_run_reports_the_operations_completed_before_it_failed() {
    let dir = tempfile::tempdir().expect("temp dir");
    let report = dir.path().join("r.jsonl");
    let (out, _) = run_scenario("scenario_ops_then_failure", "3", &report);
    let all = text(&out);
    assert!(!out.status.success(), "{all}");
    let r = reports(&report);
    assert_eq!(r.len(), 1, "{r:?}");
    assert!(!r[0].passed);
    assert_eq!(
        r[0].ops, 5,
        "3 from client threads and 2 from the test: {r:?}"
    );
    let summary = all
        .lines()
        .find(|l| l.contains("... FAILED --"))
        .unwrap_or_else(|| panic!("no FAILED summary line:\n{all}"));
    assert!(summary.contains(" 5 ops"), "{summary}");
}

#[test]
fn heap_figures_are_each_runs_own_when_runs_share_a_process() {
    // Like plain `cargo test`: two runs in one process, the first failing
    // (printing a backtrace, whose symbol cache the process then keeps) and
    // leaving memory behind as it unwinds.
    let dir = tempfile::tempdir().expect("temp dir");
    let report = dir.path().join("r.jsonl");
    let (out, _) = run_child(
        &["scenario_heap_"],
        &[("RUST_BACKTRACE", "1")],
        "4",
        &report,
    );
    let all = text(&out);
    let r = reports(&report);
    let names: Vec<&str> = r.iter().map(|r| r.test.as_str()).collect();
    assert_eq!(
        names,
        [
            "scenario_heap_1_failing_run_leaves_memory",
            "scenario_heap_2_small_run_after_a_leak"
        ],
        "both runs, in name order:\n{all}"
    );
    let (failed, small) = (&r[0], &r[1]);
    assert!(!failed.passed, "{all}");
    let peak = failed.heap_peak.expect("counted");
    assert!(
        (4 * MIB as u64..LEFT_BEHIND as u64).contains(&peak),
        "the failed run counts its own 4 MiB, and not what was allocated after it failed \
         (the backtrace, the memory left behind while unwinding): {peak} bytes"
    );
    assert!(small.passed, "{all}");
    let peak = small.heap_peak.expect("counted");
    assert!(
        (64 << 10..MIB as u64).contains(&peak),
        "the second run held 64 KiB; what the first left behind is not its own: {peak} bytes"
    );
}

#[test]
fn backtraces_follow_rust_backtrace() {
    for (setting, wanted) in [("0", false), ("1", true)] {
        let dir = tempfile::tempdir().expect("temp dir");
        let report = dir.path().join("r.jsonl");
        let (out, _) = run_child(
            &["--exact", "scenario_main_panic", "--nocapture"],
            &[("RUST_BACKTRACE", setting)],
            "6",
            &report,
        );
        let all = text(&out);
        assert!(all.contains("2 did"), "{all}");
        assert_eq!(
            all.contains("stack backtrace:"),
            wanted,
            "RUST_BACKTRACE={setting} decides whether a backtrace is printed:\n{all}"
        );
    }
}
