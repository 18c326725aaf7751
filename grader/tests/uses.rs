//! Labs that build on labs: `lab7-twice` uses `lab8-answer` (grade.toml
//! `uses`). Grading takes the student files of both, builds each lab on its
//! own so a compile error zeroes only the labs it breaks, can build on the
//! reference of a used lab instead (`--reference`), and gates across labs.

mod common;

use std::path::{Path, PathBuf};

use serde_json::Value;

const LAB8_RIGHT: &str = "pub fn answer() -> u64 { 42 }\npub fn double(x: u64) -> u64 { 2 * x }\n";
const LAB8_WRONG: &str = "pub fn answer() -> u64 { 41 }\npub fn double(x: u64) -> u64 { 2 * x }\n";
const LAB7_RIGHT: &str =
    "pub fn twice_the_answer() -> u64 { lab8_answer::double(lab8_answer::answer()) }\n";
/// Passes its own test whatever lab 8 does: only gating can zero it.
const LAB7_HARDCODED: &str = "pub fn twice_the_answer() -> u64 { 84 }\n";
const LAB7_BROKEN: &str = "pub fn twice_the_answer() -> u64 { 84 \n";

use common::write;

/// A submission folder with the given lab-8 and lab-7 files (None: absent).
fn submission(root: &Path, name: &str, lab8: Option<&str>, lab7: Option<&str>) -> PathBuf {
    let dir = root.join(name);
    if let Some(text) = lab8 {
        write(&dir.join("lab8-answer/src/answer.rs"), text);
    }
    if let Some(text) = lab7 {
        write(&dir.join("lab7-twice/src/twice.rs"), text);
    }
    std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("mkdir: {e}"));
    dir
}

struct Graded {
    stdout: String,
    json: Value,
    csv: String,
}

fn grade(scratch: &Path, args: &[&str], subs: &[PathBuf]) -> Graded {
    let run = common::grade(&common::fixtures(), args, subs, scratch);
    Graded {
        json: run.json,
        csv: run.csv,
        stdout: format!("{}\n{}", run.stdout, run.stderr),
    }
}

fn sub<'a>(g: &'a Graded, name: &str) -> &'a Value {
    g.json["submissions"]
        .as_array()
        .and_then(|s| s.iter().find(|s| s["name"] == name))
        .unwrap_or_else(|| panic!("no submission {name}:\n{}", g.stdout))
}

fn lab<'a>(s: &'a Value, package: &str) -> &'a Value {
    s["labs"]
        .as_array()
        .and_then(|l| l.iter().find(|l| l["lab"] == package))
        .unwrap_or_else(|| panic!("no lab {package} in {s}"))
}

fn points(s: &Value, package: &str) -> (f64, f64) {
    let l = lab(s, package);
    (
        l["score"].as_f64().unwrap_or(-1.0),
        l["max"].as_f64().unwrap_or(-1.0),
    )
}

#[test]
fn a_later_lab_is_graded_on_the_students_own_earlier_lab() {
    let scratch = common::scratch("uses-own");
    let subs = scratch.join("subs");
    let good = submission(&subs, "good", Some(LAB8_RIGHT), Some(LAB7_RIGHT));
    let bad_base = submission(&subs, "bad-base", Some(LAB8_WRONG), Some(LAB7_RIGHT));
    let gated = submission(&subs, "gated", Some(LAB8_WRONG), Some(LAB7_HARDCODED));
    let broken = submission(&subs, "broken", Some(LAB8_RIGHT), Some(LAB7_BROKEN));
    let no_base = submission(&subs, "no-base", None, Some(LAB7_RIGHT));
    let g = grade(
        &scratch,
        &["--lab", "lab7", "--lab", "lab8"],
        &[good, bad_base, gated, broken, no_base],
    );
    let out = &g.stdout;
    assert_eq!(points(sub(&g, "good"), "lab7-twice"), (4.0, 4.0), "{out}");
    assert_eq!(points(sub(&g, "good"), "lab8-answer"), (8.0, 8.0), "{out}");
    // Lab 7 runs on the student's wrong lab 8, and fails with it.
    let bad = lab(sub(&g, "bad-base"), "lab7-twice");
    assert_eq!(
        bad["tests"][0]["passed"], 0,
        "lab 7 must run on the student's lab 8: {bad}"
    );
    // Gating across labs: lab 7's own test passes, but it requires lab 8's
    // part A, which scored zero.
    let gated = lab(sub(&g, "gated"), "lab7-twice");
    assert_eq!(gated["tests"][0]["passed"], 1, "{gated}");
    assert_eq!(gated["score"], 0.0, "{gated}");
    assert_eq!(gated["parts"][0]["gated_by"], "lab8-answer/A", "{gated}");
    // A compile error in lab 7 zeroes lab 7 only, naming the file and line.
    let broken = sub(&g, "broken");
    assert_eq!(points(broken, "lab8-answer"), (8.0, 8.0), "{out}");
    let problem = lab(broken, "lab7-twice")["problem"].as_str().unwrap_or("");
    assert!(
        problem.starts_with("the code does not compile")
            && problem.contains("lab7-twice/src/twice.rs:1"),
        "{problem}"
    );
    // Lab 7 needs lab 8's files too; lab 8 alone is refused, as is lab 7.
    let no_base = sub(&g, "no-base");
    let why = lab(no_base, "lab7-twice")["problem"].as_str().unwrap_or("");
    assert!(why.contains("lab8-answer/src/answer.rs"), "{why}");
    assert!(
        g.csv.contains("lab7-twice: submission refused"),
        "{}",
        g.csv
    );
}

#[test]
fn a_later_lab_can_be_graded_on_the_reference_of_the_lab_it_uses() {
    let scratch = common::scratch("uses-reference");
    let subs = scratch.join("subs");
    let bad_base = submission(&subs, "bad-base", Some(LAB8_WRONG), Some(LAB7_RIGHT));
    let only_lab7 = submission(&subs, "only-lab7", None, Some(LAB7_RIGHT));
    let g = grade(
        &scratch,
        &["--lab", "lab7", "--reference", "lab8"],
        &[bad_base, only_lab7],
    );
    for name in ["bad-base", "only-lab7"] {
        let s = sub(&g, name);
        assert_eq!(points(s, "lab7-twice"), (4.0, 4.0), "{name}: {}", g.stdout);
        assert_eq!(s["on_reference"][0], "lab8-answer", "{s}");
    }
    assert!(
        g.csv
            .lines()
            .nth(1)
            .is_some_and(|l| l.ends_with("lab8-answer,4.00")),
        "the CSV must show the reference choice:\n{}",
        g.csv
    );
}

#[test]
fn reference_must_name_a_used_lab_that_is_not_graded() {
    let scratch = common::scratch("uses-bad-reference");
    let s = submission(&scratch, "s", Some(LAB8_RIGHT), Some(LAB7_RIGHT));
    for (args, needle) in [
        (
            ["--lab", "lab8", "--reference", "lab9"],
            "no graded lab builds on",
        ),
        (
            ["--lab", "lab8", "--reference", "lab8"],
            "also being graded",
        ),
    ] {
        let out = common::grader()
            .arg("--workspace")
            .arg(common::fixtures())
            .arg("grade")
            .args(args)
            .arg(&s)
            .output()
            .unwrap_or_else(|e| panic!("cannot start the grader: {e}"));
        let (_, stderr) = common::texts(&out);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains(needle), "{args:?}: {stderr}");
    }
}
