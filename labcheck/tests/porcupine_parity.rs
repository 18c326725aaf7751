//! Verdict parity with Porcupine on its own reference histories: every row
//! of `expected.tsv` must get the verdict Porcupine's tests assert.

mod support;

use std::time::Duration;

use labcheck::CheckResult;
use support::porcupine_data::{check_row, data_dir, expected_rows, load};

/// Far above what any row needs (the slowest takes well under a second).
const TIMEOUT: Duration = Duration::from_secs(120);

#[test]
fn every_reference_history_gets_porcupines_verdict() {
    let dir = data_dir();
    let rows = expected_rows(&dir);
    assert_eq!(rows.len(), 112, "expected.tsv should list 112 checks");
    let mut wrong = Vec::new();
    for row in &rows {
        let history = load(&dir, row);
        let result = check_row(row, &history, TIMEOUT);
        let ok = match &result {
            CheckResult::Linearizable => row.linearizable,
            CheckResult::NotLinearizable(_) => !row.linearizable,
            CheckResult::Unknown => false,
        };
        if !ok {
            let expected = if row.linearizable {
                "linearizable"
            } else {
                "not linearizable"
            };
            wrong.push(format!(
                "{} ({}): expected {expected}, got {result}",
                row.file, row.model
            ));
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
