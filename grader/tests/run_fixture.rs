//! `grader run` on the verdict fixture: every way a run can end gets its own
//! verdict, budgets are enforced, output is capped, and the exports carry
//! the fields their consumers require. One grader run feeds every test here.

mod common;

use std::path::PathBuf;
use std::sync::OnceLock;

use serde_json::Value;

struct Results {
    status: Option<i32>,
    stdout: String,
    stderr: String,
    json: Value,
    gradescope: Value,
    junit: String,
    csv: String,
}

/// Log cap for the run, in MiB (the flood test writes 64 MiB).
const CAP_MIB: u64 = 1;

fn results() -> &'static Results {
    static R: OnceLock<Results> = OnceLock::new();
    R.get_or_init(|| {
        let dir = common::scratch("run-fixture-test");
        let p = |n: &str| dir.join(n).display().to_string();
        let cap = CAP_MIB.to_string();
        let out = common::run_on_fixtures(&[
            "run",
            "lab9",
            "-n",
            "1",
            "-j",
            "4",
            "--grace",
            "1",
            "--keep-logs",
            "--log-cap-mib",
            &cap,
            "--out",
            &p("logs"),
            "--json",
            &p("runs.json"),
            "--gradescope",
            &p("results.json"),
            "--junit",
            &p("junit.xml"),
            "--csv",
            &p("grades.csv"),
        ]);
        let (stdout, stderr) = common::texts(&out);
        let read = |n: &str| {
            std::fs::read_to_string(dir.join(n)).unwrap_or_else(|e| {
                panic!("the grader did not write {n}: {e}\nstdout:\n{stdout}\nstderr:\n{stderr}")
            })
        };
        let junit = read("junit.xml");
        let csv = read("grades.csv");
        Results {
            status: out.status.code(),
            json: common::read_json(&dir.join("runs.json")),
            gradescope: common::read_json(&dir.join("results.json")),
            junit,
            csv,
            stdout,
            stderr,
        }
    })
}

fn run_of(test: &str) -> &'static Value {
    let r = results();
    r.json["submissions"][0]["runs"]
        .as_array()
        .and_then(|runs| runs.iter().find(|run| run["test"] == test))
        .unwrap_or_else(|| {
            panic!(
                "no run of {test} in the JSON export\nstdout:\n{}\nstderr:\n{}",
                r.stdout, r.stderr
            )
        })
}

fn assert_verdict(test: &str, verdict: &str, message_part: &str) {
    let run = run_of(test);
    let message = run["message"].as_str().unwrap_or("");
    assert_eq!(
        run["verdict"], verdict,
        "{test}: expected verdict {verdict}, got {} ({message}) with seed {}",
        run["verdict"], run["seed"]
    );
    assert!(
        message.contains(message_part),
        "{test}: expected the message to contain {message_part:?}, got {message:?} (seed {})",
        run["seed"]
    );
}

#[test]
fn a_passing_test_passes() {
    assert_verdict("passes", "PASS", "");
    assert_eq!(
        run_of("passes")["rpcs"],
        7,
        "the report's rpcs reach the record"
    );
}

#[test]
fn a_failed_assertion_fails_with_its_message() {
    assert_verdict("fails_assertion", "FAIL", "arithmetic is broken");
}

#[test]
fn a_background_thread_panic_fails_promptly_with_its_message() {
    assert_verdict("panics_in_background", "FAIL", "background boom");
    let secs = run_of("panics_in_background")["seconds"]
        .as_f64()
        .unwrap_or(99.0);
    assert!(secs < 10.0, "expected a prompt failure, took {secs:.1} s");
}

#[test]
fn a_hang_inside_testkit_is_a_timeout() {
    assert_verdict("hangs", "TIMEOUT", "wall-clock limit");
}

#[test]
fn a_hang_outside_testkit_is_killed_by_the_grader() {
    assert_verdict("hangs_outside_testkit", "TIMEOUT", "killed after");
    let secs = run_of("hangs_outside_testkit")["seconds"]
        .as_f64()
        .unwrap_or(99.0);
    // timeout_secs 2 + grace 1; generous upper bound for a busy machine.
    assert!(
        (2.5..15.0).contains(&secs),
        "expected a kill about 3 s in, took {secs:.1} s"
    );
}

#[test]
fn unbounded_allocation_is_out_of_memory_with_peak_recorded() {
    assert_verdict("allocates_without_bound", "OUT_OF_MEMORY", "max_rss_mib 64");
    let peak = run_of("allocates_without_bound")["peak_rss_bytes"]
        .as_u64()
        .unwrap_or(0);
    assert!(
        peak > 64 << 20,
        "expected a recorded peak above the 64 MiB limit, got {peak} bytes"
    );
}

#[test]
fn every_run_records_its_peak_rss() {
    let runs = results().json["submissions"][0]["runs"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert_eq!(runs.len(), 15, "expected one run per fixture test");
    for run in runs {
        assert!(
            run["peak_rss_bytes"].as_u64().unwrap_or(0) > 0,
            "{}: no peak RSS recorded",
            run["test"]
        );
    }
}

#[test]
fn flooding_stdout_is_capped_and_still_judged() {
    assert_verdict("floods_stdout", "PASS", "");
    let run = run_of("floods_stdout");
    assert_eq!(
        run["log_truncated"], true,
        "a 64 MiB flood must hit the cap"
    );
    let log = PathBuf::from(run["log"].as_str().unwrap_or(""));
    let size = std::fs::metadata(&log)
        .unwrap_or_else(|e| panic!("log {} not kept with --keep-logs: {e}", log.display()))
        .len();
    let cap = CAP_MIB << 20;
    assert!(
        size <= cap + 1024,
        "log is {size} bytes, cap is {cap} bytes"
    );
}

#[test]
fn exiting_zero_early_is_no_verdict() {
    assert_verdict("exits_early", "NO_VERDICT", "process::exit");
}

/// Forgeries from inside the test process (tests/forgeries.rs of the
/// fixture): none passes, and each says why.
#[test]
fn forged_verdicts_are_no_verdict_naming_the_forgery() {
    assert_verdict(
        "forges_libtest_lines",
        "NO_VERDICT",
        "ended without testkit's verdict",
    );
    assert_verdict(
        "forges_an_untagged_report",
        "NO_VERDICT",
        "carries no authentication tag",
    );
    assert_verdict("forges_a_guessed_tag", "NO_VERDICT", "tag is wrong");
    assert_verdict(
        "steals_the_key_and_tags_a_report",
        "NO_VERDICT",
        "tag is wrong",
    );
    assert_verdict("writes_a_second_report", "NO_VERDICT", "holds 2 lines");
}

#[test]
fn an_abort_is_a_crash_naming_the_signal() {
    assert_verdict("aborts", "CRASH", "SIGABRT");
}

#[test]
fn going_over_the_rpc_budget_fails_with_figure_and_limit() {
    assert_verdict(
        "over_rpc_budget",
        "FAIL",
        "rpcs 57 > max_rpcs 42 (grade.toml)",
    );
}

#[test]
fn failures_make_exit_status_one() {
    let r = results();
    assert_eq!(
        r.status,
        Some(1),
        "expected exit 1 when some runs fail\nstdout:\n{}\nstderr:\n{}",
        r.stdout,
        r.stderr
    );
}

#[test]
fn table_shows_counts_times_and_points() {
    let out = &results().stdout;
    let row = out
        .lines()
        .find(|l| l.starts_with("over_rpc_budget "))
        .unwrap_or_else(|| panic!("no table row for over_rpc_budget in:\n{out}"));
    assert!(row.contains("0/1"), "passed/total missing: {row}");
    assert!(
        !row.contains(" ± "),
        "a spread of one run means nothing: {row}"
    );
    assert!(row.contains("57"), "max rpcs missing: {row}");
    assert!(
        out.contains("part V (verdicts): 2.0/15"),
        "part score missing:\n{out}"
    );
}

#[test]
fn json_export_has_every_run_field() {
    let runs = results().json["submissions"][0]["runs"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert!(!runs.is_empty(), "no runs exported");
    for run in &runs {
        for field in [
            "test",
            "iteration",
            "seed",
            "verdict",
            "seconds",
            "rpcs",
            "bytes",
            "peak_rss_bytes",
            "log",
        ] {
            assert!(
                run.get(field).is_some(),
                "run of {} lacks {field}: {run}",
                run["test"]
            );
        }
    }
}

#[test]
fn gradescope_export_has_the_required_fields_and_adds_up() {
    let g = &results().gradescope;
    let score = g["score"].as_f64().unwrap_or(-1.0);
    assert!(g["execution_time"].is_u64(), "execution_time: {g}");
    let tests = g["tests"].as_array().cloned().unwrap_or_default();
    assert_eq!(tests.len(), 15, "one entry per test expected: {g}");
    let mut sum = 0.0;
    for t in &tests {
        for field in [
            "name",
            "score",
            "max_score",
            "status",
            "output",
            "visibility",
        ] {
            assert!(t.get(field).is_some(), "test entry lacks {field}: {t}");
        }
        let status = t["status"].as_str().unwrap_or("");
        assert!(
            status == "passed" || status == "failed",
            "status must be passed|failed, got {status:?}"
        );
        sum += t["score"].as_f64().unwrap_or(0.0);
    }
    assert!(
        (sum - score).abs() < 1e-6 && (score - 2.0).abs() < 1e-6,
        "score {score} should be 2 and equal the tests' sum {sum}"
    );
    let failing = tests
        .iter()
        .find(|t| {
            t["name"]
                .as_str()
                .is_some_and(|n| n.ends_with("fails_assertion"))
        })
        .unwrap_or_else(|| panic!("no fails_assertion entry: {g}"));
    assert!(
        failing["output"]
            .as_str()
            .is_some_and(|o| o.contains("DISTLAB_SEED=")),
        "a failing test's output should give the rerun command: {failing}"
    );
}

/// A minimal well-formedness check: tags nest and close, attributes quoted.
fn xml_elements(xml: &str) -> Result<Vec<String>, String> {
    let body = xml
        .strip_prefix("<?xml version=\"1.0\" encoding=\"UTF-8\"?>")
        .ok_or("missing XML declaration")?;
    let mut stack: Vec<String> = Vec::new();
    let mut seen = Vec::new();
    let mut rest = body;
    while let Some(start) = rest.find('<') {
        let text = &rest[..start];
        if text.contains('>') {
            return Err(format!("stray '>' in text: {text:?}"));
        }
        let end = rest[start..].find('>').ok_or("unclosed tag")? + start;
        let tag = &rest[start + 1..end];
        if tag.matches('"').count() % 2 != 0 {
            return Err(format!("unbalanced quotes in <{tag}>"));
        }
        if let Some(name) = tag.strip_prefix('/') {
            let open = stack.pop().ok_or(format!("</{name}> closes nothing"))?;
            if open != name {
                return Err(format!("</{name}> closes <{open}>"));
            }
        } else {
            let name = tag
                .trim_end_matches('/')
                .split_whitespace()
                .next()
                .ok_or("empty tag")?
                .to_owned();
            seen.push(name.clone());
            if !tag.ends_with('/') {
                stack.push(name);
            }
        }
        rest = &rest[end + 1..];
    }
    if !stack.is_empty() {
        return Err(format!("unclosed elements: {stack:?}"));
    }
    Ok(seen)
}

#[test]
fn junit_export_is_well_formed_with_counts_matching_cases() {
    let xml = &results().junit;
    let elements = xml_elements(xml).unwrap_or_else(|e| panic!("malformed JUnit: {e}\n{xml}"));
    let count = |n: &str| elements.iter().filter(|e| *e == n).count();
    assert_eq!(count("testsuites"), 1);
    assert_eq!(count("testsuite"), 1);
    assert_eq!(count("testcase"), 15, "one case per run");
    assert_eq!(
        count("failure"),
        9,
        "FAIL and NO VERDICT are failures:\n{xml}"
    );
    assert_eq!(
        count("error"),
        4,
        "TIMEOUT, OOM and CRASH are errors:\n{xml}"
    );
    for attr in ["tests=\"15\"", "failures=\"9\"", "errors=\"4\""] {
        assert!(xml.contains(attr), "testsuites lacks {attr}");
    }
    assert!(xml.contains("<testcase name=\"passes #0 seed "), "{xml}");
}

#[test]
fn csv_export_has_one_row_with_a_column_per_test() {
    let csv = &results().csv;
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines.len(), 2, "header + one submission row:\n{csv}");
    let header: Vec<&str> = lines[0].split(',').collect();
    let row: Vec<&str> = lines[1].split(',').collect();
    assert_eq!(header.len(), row.len(), "ragged CSV:\n{csv}");
    assert_eq!(&header[..3], &["submission", "score", "max_score"]);
    assert_eq!(header.len(), 7 + 15, "7 fixed columns + 15 tests:\n{csv}");
    assert_eq!(row[1], "2.00", "score column:\n{csv}");
}
