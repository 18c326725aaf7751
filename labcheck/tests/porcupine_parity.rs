//! Verdict parity with Porcupine: on its own reference histories, every row
//! of `expected.tsv` must get the verdict Porcupine's tests assert; on the
//! hard histories (`testdata/porcupine-hard`) and on the freshly generated
//! ones (`testdata/generated-hard`), the verdict Porcupine gave.
//!
//! Every row is checked with the default memory cap
//! ([`CheckOptions::DEFAULT_MAX_MEMORY_BYTES`]), so these tests are also the
//! test that the default cap changes no verdict on the vendored sets: a row
//! stopped at the cap is `Unknown`, which fails it, and the message says
//! which limit was reached.

mod support;

use labcheck::{CheckOptions, CheckReport, CheckResult};
use labrt::sync::Mutex;
use labrt::sync::atomic::{AtomicUsize, Ordering};
use labrt::thread;
use labrt::time::{Duration, Instant};
use std::path::Path;

use support::porcupine_data::{
    Row, check_row, check_row_with, data_dir, expected_rows, generated_hard_data_dir,
    hard_data_dir, load,
};

/// Far above what any row needs (the slowest takes well under a second).
const TIMEOUT: Duration = Duration::from_secs(120);

/// Per hard row: far above what any needs (the slowest takes a few seconds
/// in a release build and well under a minute in a debug build), yet a
/// bound, so the test cannot hang. Running out of it fails the row.
const HARD_TIMEOUT: Duration = Duration::from_secs(240);

/// Whether the check's verdict is the row's. `Unknown` (the timeout or the
/// memory cap) never is.
fn agrees(row: &Row, result: &CheckResult) -> bool {
    match result {
        CheckResult::Linearizable => row.linearizable,
        CheckResult::NotLinearizable(_) => !row.linearizable,
        CheckResult::Unknown => false,
    }
}

/// The limits every row is checked with: `timeout`, and the default memory
/// cap, unchanged.
fn options(timeout: Duration) -> CheckOptions {
    let options = CheckOptions::new(timeout);
    assert_eq!(
        options.max_memory_bytes,
        CheckOptions::DEFAULT_MAX_MEMORY_BYTES
    );
    options
}

/// Checks a row with [`options`]; `Err` describes a verdict that is not the
/// row's (with the limit reached, for `Unknown`).
fn check_agrees(
    row: &Row,
    history: &support::porcupine_data::Loaded,
    timeout: Duration,
) -> Result<CheckReport, String> {
    let started = Instant::now();
    let report = check_row_with(row, history, &options(timeout));
    if agrees(row, &report.result) {
        return Ok(report);
    }
    let expected = if row.linearizable {
        "linearizable"
    } else {
        "not linearizable"
    };
    Err(format!(
        "{} ({}): expected {expected}, got {report} after {:.1} s (at most {} MiB held)",
        row.file,
        row.model,
        started.elapsed().as_secs_f64(),
        report.peak_memory_bytes >> 20
    ))
}

#[test]
fn every_reference_history_gets_porcupines_verdict() {
    let dir = data_dir();
    let rows = expected_rows(&dir);
    assert_eq!(rows.len(), 112, "expected.tsv should list 112 checks");
    let mut wrong = Vec::new();
    for row in &rows {
        let history = load(&dir, row);
        if let Err(message) = check_agrees(row, &history, TIMEOUT) {
            wrong.push(message);
        }
    }
    assert!(
        wrong.is_empty(),
        "{} of {} rows disagree with Porcupine:\n{}",
        wrong.len(),
        rows.len(),
        wrong.join("\n")
    );
}

#[test]
fn every_model_appears_in_the_reference_rows() {
    let rows = expected_rows(&data_dir());
    for model in ["etcd", "kv", "kv-nopartition"] {
        let n = rows.iter().filter(|r| r.model == model).count();
        assert!(n > 0, "no {model} rows in expected.tsv");
    }
}

#[test]
fn failing_reference_histories_come_with_evidence() {
    let dir = data_dir();
    for row in expected_rows(&dir)
        .iter()
        .filter(|r| !r.linearizable)
        .take(10)
    {
        let history = load(&dir, row);
        let result = check_row(row, &history, TIMEOUT);
        let evidence = result
            .evidence()
            .unwrap_or_else(|| panic!("{}: {result}", row.file));
        for failure in &evidence.failures {
            assert!(
                failure.linearized.len() < failure.ops.len(),
                "{}: the prefix is everything",
                row.file
            );
            assert_eq!(
                failure.linearized.len() + failure.unplaced.len(),
                failure.ops.len()
            );
            for step in &failure.linearized {
                assert!(failure.ops.contains(&step.op));
            }
        }
    }
}

#[test]
fn every_hard_history_gets_porcupines_verdict() {
    let dir = hard_data_dir();
    let rows = expected_rows(&dir);
    assert_eq!(
        rows.len(),
        36,
        "the hard expected.tsv should list 36 checks"
    );
    for (group, n) in [
        ("hotkey", 12),
        ("bigkey", 8),
        ("register", 8),
        ("manykeys", 8),
    ] {
        let found = rows.iter().filter(|r| r.file.contains(group)).count();
        assert_eq!(found, n, "{n} {group} rows expected, found {found}");
    }
    let wrong = check_in_parallel(&dir, &rows);
    assert!(
        wrong.is_empty(),
        "{} of {} hard rows disagree with Porcupine:\n{}",
        wrong.len(),
        rows.len(),
        wrong.join("\n")
    );
}

#[test]
fn every_generated_hard_history_gets_porcupines_verdict() {
    // Generated fresh by `examples/gen_hard.rs` and never tuned on; the
    // verdicts are Porcupine's (see the set's README).
    let dir = generated_hard_data_dir();
    let rows = expected_rows(&dir);
    assert_eq!(
        rows.len(),
        33,
        "the generated hard expected.tsv should list 33 checks"
    );
    for (group, n) in [("hotkey", 16), ("bigkey", 8), ("manykeys", 9)] {
        let found = rows.iter().filter(|r| r.file.contains(group)).count();
        assert_eq!(found, n, "{n} {group} rows expected, found {found}");
    }
    for verdict in [true, false] {
        assert!(
            rows.iter().any(|r| r.linearizable == verdict),
            "both verdicts should occur"
        );
    }
    let wrong = check_in_parallel(&dir, &rows);
    assert!(
        wrong.is_empty(),
        "{} of {} generated hard rows disagree with Porcupine:\n{}",
        wrong.len(),
        rows.len(),
        wrong.join("\n")
    );
}

/// Checks every row, each with [`HARD_TIMEOUT`], and describes the rows
/// whose verdict is not Porcupine's. The rows are independent: they are
/// checked on every core, slowest groups spread out by taking rows in file
/// order from a shared counter.
fn check_in_parallel(dir: &Path, rows: &[Row]) -> Vec<String> {
    let next = AtomicUsize::new(0);
    let wrong: Mutex<Vec<String>> = Mutex::new(Vec::new());
    let workers = thread::available_parallelism().map_or(1, |n| n.get());
    thread::scope(|scope| {
        for _ in 0..workers {
            scope.spawn(|| {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(row) = rows.get(i) else { break };
                    let history = load(dir, row);
                    if let Err(message) = check_agrees(row, &history, HARD_TIMEOUT) {
                        wrong
                            .lock()
                            .unwrap_or_else(|e| e.into_inner())
                            .push(message);
                    }
                }
            });
        }
    });
    wrong.into_inner().unwrap_or_else(|e| e.into_inner())
}

#[test]
fn a_small_failing_key_is_reported_beside_a_big_linearizable_one() {
    // Each bigkey file is a big linearizable key (250-400 operations) plus
    // small keys (under 100), one of which fails: the evidence must name a
    // small key, found without first finishing the big one.
    for dir in [hard_data_dir(), generated_hard_data_dir()] {
        small_failing_keys_are_reported(&dir);
    }
}

fn small_failing_keys_are_reported(dir: &Path) {
    for row in expected_rows(dir)
        .iter()
        .filter(|r| r.file.contains("bigkey"))
    {
        let history = load(dir, row);
        let result = check_row(row, &history, HARD_TIMEOUT);
        let evidence = result
            .evidence()
            .unwrap_or_else(|| panic!("{}: {result}", row.file));
        for failure in &evidence.failures {
            assert!(
                failure.ops.len() < 100,
                "{}: the failing part {} has {} operations",
                row.file,
                failure.name,
                failure.ops.len()
            );
            assert!(failure.linearized.len() < failure.ops.len());
            assert_eq!(
                failure.linearized.len() + failure.unplaced.len(),
                failure.ops.len()
            );
            assert!(failure.stuck.is_some(), "{}: no stuck operation", row.file);
        }
    }
}
