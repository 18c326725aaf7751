//! The verdicts tests share: linearizability, and the limits a test reads
//! from `grade.toml`.

use labcheck::{CheckResult, History, Model, check};
use labrt::time::{Duration, Instant};
use testkit::Run;

/// Checks `history` against `model`, allowing the checker `timeout`.
///
/// # Panics
/// If the history is not linearizable (after writing the HTML picture and
/// naming its path), if the check timed out (a check that could not decide
/// is a failure, never a pass), or if the history is empty.
pub fn assert_linearizable<M: Model>(
    run: &Run,
    model: &M,
    history: &History<M::Input, M::Output>,
    timeout: Duration,
) {
    if let Err(problem) = linearizability(model, history, timeout) {
        panic!("{problem} (seed {})", run.seed());
    }
}

/// The verdict behind [`assert_linearizable`]: `Err` says what is wrong (and
/// where the picture of a non-linearizable history was written).
pub fn linearizability<M: Model>(
    model: &M,
    history: &History<M::Input, M::Output>,
    timeout: Duration,
) -> Result<(), String> {
    if history.is_empty() {
        return Err(
            "the clients recorded no operation, so there is nothing to check: an empty \
             history proves nothing, and a test that completes no operation fails"
                .to_owned(),
        );
    }
    let unfinished = history.ops().iter().filter(|op| op.ret.is_none()).count();
    let started = Instant::now();
    let result = check(model, history, timeout);
    match &result {
        CheckResult::Linearizable => Ok(()),
        CheckResult::NotLinearizable(_) => {
            let picture = match labcheck::html::write_failure_picture(model, history, &result) {
                Ok(path) => format!("the history is drawn in {}", path.display()),
                Err(e) => format!("the history picture could not be written: {e}"),
            };
            Err(format!(
                "the {} operations the clients saw ({unfinished} of them never returned, so they \
                 may or may not have taken effect) are not linearizable: no single order of them \
                 fits what each client was told. {result}. {picture}",
                history.len()
            ))
        }
        CheckResult::Unknown => Err(format!(
            "the linearizability check of {} operations did not finish in {:.1} s (check_secs in \
             grade.toml); an undecided check fails the test. A history this hard to check usually \
             means many operations overlapping for a long time: look for clerks or servers that \
             wait far too long before retrying or answering",
            history.len(),
            started.elapsed().as_secs_f64()
        )),
    }
}

/// The whole number `key` from the test's `limits` in `grade.toml`.
///
/// # Panics
/// If the limit is missing, negative or fractional; the message names the
/// key to fix.
pub fn limit_count(run: &Run, key: &str) -> usize {
    let value = run.limit(key);
    assert!(
        value >= 0.0 && value.fract() == 0.0 && value <= usize::MAX as f64,
        "grade.toml: tests.{}.limits.{key} must be a whole number ≥ 0, got {value}",
        run.name()
    );
    value as usize
}

/// The duration `key` (in seconds, may be fractional) from the test's
/// `limits` in `grade.toml`.
///
/// # Panics
/// If the limit is missing or not a positive number of seconds.
pub fn limit_secs(run: &Run, key: &str) -> Duration {
    let value = run.limit(key);
    assert!(
        value.is_finite() && value > 0.0,
        "grade.toml: tests.{}.limits.{key} must be a positive number of seconds, got {value}",
        run.name()
    );
    Duration::from_secs_f64(value)
}

#[cfg(test)]
mod tests {
    use super::*;
    use labcheck::Operation;
    use labcheck::models::{Kv, KvInput, KvOutput};

    #[test]
    fn an_empty_history_is_a_failure_not_a_pass() {
        let history: History<KvInput, KvOutput> = History::from(Vec::new());
        let problem = linearizability(&Kv, &history, Duration::from_secs(5))
            .expect_err("an empty history proves nothing");
        assert!(problem.contains("no operation"), "{problem}");
    }

    #[test]
    fn a_stale_read_is_not_linearizable_and_its_picture_is_written() {
        let history = History::from(vec![
            Operation::completed(0, KvInput::put("k", "1"), KvOutput::Ok, 0, 10),
            Operation::completed(1, KvInput::get("k"), KvOutput::value(""), 20, 30),
        ]);
        let problem = linearizability(&Kv, &history, Duration::from_secs(5))
            .expect_err("a read after a completed put must see it");
        assert!(problem.contains("not linearizable"), "{problem}");
        let path = problem
            .split("drawn in ")
            .nth(1)
            .and_then(|rest| rest.split_whitespace().next())
            .unwrap_or_else(|| panic!("the message should name the picture: {problem}"));
        let html = std::fs::read_to_string(path)
            .unwrap_or_else(|e| panic!("the picture {path} should exist: {e}"));
        assert!(html.contains("<html"), "{path} is not an HTML page");
        let _ = std::fs::remove_file(path);
    }

    #[test]
    fn an_operation_that_never_returned_may_have_taken_effect_or_not() {
        // A put whose clerk never heard back, then reads that see it and
        // that do not: both are fine while the put is open...
        let history = History::from(vec![
            Operation::unknown(0, KvInput::put("k", "1"), 0),
            Operation::completed(1, KvInput::get("k"), KvOutput::value(""), 10, 20),
            Operation::completed(1, KvInput::get("k"), KvOutput::value("1"), 30, 40),
        ]);
        assert_eq!(
            linearizability(&Kv, &history, Duration::from_secs(5)),
            Ok(())
        );
        // ... but once a read saw it, a later read cannot un-see it.
        let history = History::from(vec![
            Operation::unknown(0, KvInput::put("k", "1"), 0),
            Operation::completed(1, KvInput::get("k"), KvOutput::value("1"), 10, 20),
            Operation::completed(1, KvInput::get("k"), KvOutput::value(""), 30, 40),
        ]);
        let problem = linearizability(&Kv, &history, Duration::from_secs(5))
            .expect_err("a value seen cannot disappear");
        assert!(problem.contains("1 of them never returned"), "{problem}");
        if let Some(path) = problem
            .split("drawn in ")
            .nth(1)
            .and_then(|rest| rest.split_whitespace().next())
        {
            let _ = std::fs::remove_file(path);
        }
    }
}
