//! `grader grade`: pristine tests over the student's files only, refusal of
//! incomplete submissions, part gating, and the CSV roll-up.

mod common;

use std::sync::OnceLock;

use serde_json::Value;

const RIGHT: &str = "pub fn answer() -> u64 { 42 }\npub fn double(x: u64) -> u64 { 2 * x }\n";
const WRONG_ANSWER: &str =
    "pub fn answer() -> u64 { 41 }\npub fn double(x: u64) -> u64 { 2 * x }\n";

struct Graded {
    status: Option<i32>,
    stdout: String,
    stderr: String,
    json: Value,
    csv: String,
}

use common::write;

fn graded() -> &'static Graded {
    static G: OnceLock<Graded> = OnceLock::new();
    G.get_or_init(|| {
        let scratch = common::scratch("grade-test");
        let subs = scratch.join("subs");
        write(&subs.join("good/lab8-answer/src/answer.rs"), RIGHT);
        write(&subs.join("gated/lab8-answer/src/answer.rs"), WRONG_ANSWER);
        // A cheater: wrong answer, a test that asserts nothing, and a
        // grade.toml worth 100 points. Only src/answer.rs may count.
        let cheat = subs.join("cheater/lab8-answer");
        write(&cheat.join("src/answer.rs"), WRONG_ANSWER);
        write(
            &cheat.join("tests/part_a.rs"),
            "#[test]\nfn answer_is_42() {}\n",
        );
        write(
            &cheat.join("grade.toml"),
            "[lab]\nname = \"lab8-answer\"\ntitle = \"x\"\n[parts.A]\ntitle = \"a\"\n[tests.answer_is_42]\npart = \"A\"\npoints = 100\n",
        );
        write(
            &subs.join("broken/lab8-answer/src/answer.rs"),
            "pub fn answer() -> u64 { 42 \n",
        );
        std::fs::create_dir_all(subs.join("empty")).unwrap_or_else(|e| panic!("mkdir: {e}"));
        let work = scratch.join("work");
        let work = work.to_string_lossy().into_owned();
        let names = ["good", "gated", "cheater", "broken", "empty"].map(|n| subs.join(n));
        let run = common::grade(
            &common::fixtures(),
            &["--lab", "lab8", "--work-dir", work.as_str()],
            &names,
            &scratch,
        );
        Graded {
            status: run.status,
            json: run.json,
            csv: run.csv,
            stdout: run.stdout,
            stderr: run.stderr,
        }
    })
}

fn submission(name: &str) -> &'static Value {
    let g = graded();
    g.json["submissions"]
        .as_array()
        .and_then(|s| s.iter().find(|s| s["name"] == name))
        .unwrap_or_else(|| {
            panic!(
                "no submission {name}\nstdout:\n{}\nstderr:\n{}",
                g.stdout, g.stderr
            )
        })
}

fn score(name: &str) -> (f64, f64) {
    let s = submission(name);
    (
        s["score"].as_f64().unwrap_or(-1.0),
        s["max_score"].as_f64().unwrap_or(-1.0),
    )
}

#[test]
fn a_correct_submission_gets_full_points() {
    assert_eq!(score("good"), (8.0, 8.0), "{}", graded().stdout);
}

#[test]
fn a_zero_prerequisite_part_gates_the_next_part() {
    let s = submission("gated");
    assert_eq!(score("gated"), (0.0, 8.0), "{}", graded().stdout);
    let parts = &s["labs"][0]["parts"];
    assert_eq!(parts[1]["part"], "B");
    assert_eq!(
        parts[1]["gated_by"], "A",
        "part B should be gated by A: {parts}"
    );
    let b_tests = s["labs"][0]["tests"][1].clone();
    assert_eq!(
        (b_tests["test"].as_str(), b_tests["passed"].as_u64()),
        (Some("double_doubles"), Some(1)),
        "B's test itself passes; only gating zeroes it: {b_tests}"
    );
}

#[test]
fn edited_tests_and_grade_toml_are_replaced_by_the_pristine_ones() {
    assert_eq!(
        score("cheater"),
        (0.0, 8.0),
        "the cheater's own test and 100-point grade.toml must not count:\n{}",
        graded().stdout
    );
    let runs = submission("cheater")["runs"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let a = runs
        .iter()
        .find(|r| r["test"] == "answer_is_42")
        .unwrap_or_else(|| panic!("answer_is_42 not run for the cheater"));
    assert_eq!(a["verdict"], "FAIL", "{a}");
    assert!(
        a["message"]
            .as_str()
            .is_some_and(|m| m.contains("the answer is wrong")),
        "the pristine assertion should fail: {a}"
    );
}

#[test]
fn a_submission_missing_required_files_is_refused_by_name() {
    let s = submission("empty");
    let problem = s["labs"][0]["problem"].as_str().unwrap_or("");
    assert!(
        problem.contains("required files missing: lab8-answer/src/answer.rs"),
        "refusal should name the file: {problem:?}"
    );
    assert_eq!(score("empty"), (0.0, 8.0));
}

#[test]
fn code_that_does_not_compile_scores_zero_with_the_compiler_errors() {
    let s = submission("broken");
    let problem = s["labs"][0]["problem"].as_str().unwrap_or("");
    assert!(
        problem.starts_with("the code does not compile: error")
            && problem.contains("(at lab8-answer/src/answer.rs:1:")
            && problem.contains("unclosed delimiter"),
        "expected the first error, where it is, and the compiler's output: {problem:?}"
    );
    assert!(
        s["problem"]
            .as_str()
            .is_some_and(|p| p.starts_with("lab8-answer: ")),
        "the submission's problem names the lab: {s}"
    );
    assert_eq!(score("broken"), (0.0, 8.0));
}

#[test]
fn csv_has_one_row_per_submission() {
    let g = graded();
    let lines: Vec<&str> = g.csv.lines().collect();
    assert_eq!(lines.len(), 6, "header + 5 rows:\n{}", g.csv);
    assert!(
        lines[0].starts_with("submission,score,max_score,runs,passed_runs,problem,on_reference,"),
        "{}",
        g.csv
    );
    assert!(lines[1].starts_with("good,8.00,8,"), "{}", g.csv);
    assert!(
        lines[5].starts_with("empty,0.00,8,0,0,\"lab8-answer: submission refused"),
        "{}",
        g.csv
    );
}

#[test]
fn some_failing_submission_makes_exit_status_one() {
    let g = graded();
    assert_eq!(
        g.status,
        Some(1),
        "stdout:\n{}\nstderr:\n{}",
        g.stdout,
        g.stderr
    );
}

#[test]
fn gradescope_export_needs_exactly_one_submission() {
    let out = common::run_on_fixtures(&[
        "grade",
        "--gradescope",
        "/nonexistent/results.json",
        "a",
        "b",
    ]);
    let (_, stderr) = common::texts(&out);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("one submission"), "{stderr}");
}
