//! The verdicts every test shares: linearizability, budgets, and the limits
//! a test reads from `grade.toml`.

use labcheck::{CheckOptions, CheckResult, History, Model, UnknownReason, check_with_options};
use labrpc::Network;
use labrt::time::{Duration, Instant};
use testkit::Run;

/// Checks `history` against `model`, allowing the checker `timeout`.
///
/// # Panics
/// If the history is not linearizable (after writing the HTML picture and
/// naming its path) or if the check timed out: a check that could not
/// decide is a failure, never a pass.
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
    let started = Instant::now();
    let report = check_with_options(model, history, &CheckOptions::new(timeout));
    let result = report.result;
    match &result {
        CheckResult::Linearizable => Ok(()),
        CheckResult::NotLinearizable(_) => {
            let picture = match labcheck::html::write_failure_picture(model, history, &result) {
                Ok(path) => format!("the history is drawn in {}", path.display()),
                Err(e) => format!("the history picture could not be written: {e}"),
            };
            Err(format!(
                "the {} operations the clients saw are not linearizable: no single order of them \
                 fits what each client was told. {result}. {picture}",
                history.len()
            ))
        }
        CheckResult::Unknown => Err(format!(
            "the linearizability check of {} operations could not decide in {:.1} s: {}; an \
             undecided check fails the test. A history this hard to check usually means many \
             operations overlapping for a long time: look for clerks that wait far too long \
             before retrying",
            history.len(),
            started.elapsed().as_secs_f64(),
            match report.unknown_reason {
                Some(UnknownReason::TimedOut { .. }) | None => {
                    "it ran out of time (check_secs in grade.toml)".to_owned()
                }
                Some(reason) => reason.to_string(),
            }
        )),
    }
}

/// Fails the test if the run used more RPCs or bytes than `grade.toml`
/// allows (`max_rpcs`, `max_bytes`), or held more heap at once than
/// `max_heap_bytes` (when the test binary counts its heap). The heap figure
/// is the run's own peak ([`Run::heap_peak`]), the one its report gives and
/// the grader compares with the same budget.
pub fn assert_budgets(run: &Run, net: &Network) {
    assert_network_used(run, net);
    let Some(spec) = run.spec() else { return };
    if let Some(max) = spec.max_rpcs {
        let used = net.total_rpcs();
        let hint = if net.is_reliable() {
            "On a reliable network no request or reply is lost, so each operation should take \
             exactly one RPC: look for a clerk that sends a request more than once"
        } else {
            "Look for a clerk that retries sooner or more often than a lost message requires"
        };
        assert!(
            used <= max,
            "the test used {used} RPCs for {} operations; its budget is {max} (max_rpcs in \
             grade.toml). {hint} (seed {})",
            run.ops(),
            run.seed()
        );
    }
    if let Some(max) = spec.max_bytes {
        let used = net.total_bytes();
        assert!(
            used <= max,
            "the network carried {used} bytes for {} operations; the budget is {max} (max_bytes \
             in grade.toml). Look for requests or replies that carry more than the operation \
             needs, such as a value sent back when only a status is wanted (seed {})",
            run.ops(),
            run.seed()
        );
    }
    if let (Some(max), Some(peak)) = (spec.max_heap_bytes, run.heap_peak()) {
        assert!(
            peak <= max,
            "the run's heap peaked at {peak} bytes ({:.2} MiB) above what the process held when \
             it began; the budget is {max} bytes (max_heap_bytes in grade.toml). Look for copies \
             of values kept longer than the operation needs them (seed {})",
            super::memory::mib(peak as i64),
            run.seed()
        );
    }
}

/// Fails the test if fewer RPCs entered the network than clerk operations
/// completed (the shared check of `testkit::cluster::reach`): a clerk that
/// answers from memory it shares with the server is caught however right
/// its answers are.
pub fn assert_network_used(run: &Run, net: &Network) {
    testkit::cluster::reach::assert_network_used(run, net.total_rpcs());
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
    fn overlapping_operations_in_either_order_are_linearizable() {
        let history = History::from(vec![
            Operation::completed(0, KvInput::put("k", "1"), KvOutput::Ok, 0, 30),
            Operation::completed(1, KvInput::get("k"), KvOutput::value(""), 10, 20),
        ]);
        assert_eq!(
            linearizability(&Kv, &history, Duration::from_secs(5)),
            Ok(())
        );
    }
}
