//! Grades a submission cannot forge: the code policy refuses the tools of
//! tampering before anything is built, with the file, line and rule, and an
//! honest solution still gets full marks. (Forgeries from inside a running
//! test, which the policy would refuse in a student file, are judged on the
//! fixture's `tests/forgeries.rs`: see run_fixture.rs.)

mod common;

use std::path::PathBuf;

use common::write;

const SKELETON_FORGING_LIBTEST: &str = "pub fn answer() -> u64 {\n    println!(\"test answer_is_42 ... ok\");\n    println!(\"test result: ok. 1 passed; 0 failed\");\n    std::process::exit(0)\n}\npub fn double(x: u64) -> u64 { let _ = x; todo!() }\n";
const UNSAFE: &str = "pub fn answer() -> u64 { unsafe { std::hint::unreachable_unchecked() } }\npub fn double(x: u64) -> u64 { 2 * x }\n";
const READS_THE_REFERENCE: &str =
    "#[path = \"reference/answer.rs\"]\nmod inner;\npub use inner::{answer, double};\n";
const MACRO_SMUGGLED: &str = "macro_rules! leave { () => { std::process::exit(0) } }\npub fn answer() -> u64 { leave!() }\npub fn double(x: u64) -> u64 { 2 * x }\n";
/// A wrong answer with unit tests named like the lab's own: the pristine
/// integration tests must still be the ones that run, and the batch must go on.
const SHADOWS_THE_TESTS: &str = "pub fn answer() -> u64 { 41 }\npub fn double(x: u64) -> u64 { 2 * x }\n#[cfg(test)]\nmod t {\n    #[test]\n    fn answer_is_42() {}\n    #[test]\n    fn double_doubles() {}\n}\n";
const INCLUDES_THE_REFERENCE: &str =
    "include!(concat!(env!(\"CARGO_MANIFEST_DIR\"), \"/src/reference/answer.rs\"));\n";

/// A submission: its name, its `answer.rs`, and the refusal expected (the
/// rule and the line), if any.
type Case<'a> = (&'a str, &'a str, Option<(&'a str, usize)>);

#[test]
fn tampering_is_refused_by_the_policy_and_honesty_scores_full_marks() {
    let scratch = common::scratch("integrity");
    let subs = scratch.join("subs");
    let reference =
        std::fs::read_to_string(common::fixtures().join("lab8-answer/src/reference/answer.rs"))
            .unwrap_or_else(|e| panic!("read the fixture's reference: {e}"));
    let cases: &[Case<'_>] = &[
        ("honest", reference.as_str(), None),
        (
            "forges-libtest",
            SKELETON_FORGING_LIBTEST,
            Some(("no leaving the process", 4)),
        ),
        ("unsafe", UNSAFE, Some(("no unsafe code", 1))),
        (
            "reads-reference",
            READS_THE_REFERENCE,
            Some(("no files or descriptors", 1)),
        ),
        (
            "macro-smuggled",
            MACRO_SMUGGLED,
            Some(("no leaving the process", 1)),
        ),
        (
            "includes-reference",
            INCLUDES_THE_REFERENCE,
            Some(("no compile-time inclusion", 1)),
        ),
    ];
    for (name, text, _) in cases {
        write(&subs.join(name).join("lab8-answer/src/answer.rs"), text);
    }
    write(
        &subs.join("shadows").join("lab8-answer/src/answer.rs"),
        SHADOWS_THE_TESTS,
    );
    let mut all: Vec<PathBuf> = cases.iter().map(|(n, _, _)| subs.join(n)).collect();
    all.push(subs.join("shadows"));
    let run = common::grade(&common::fixtures(), &["--lab", "lab8"], &all, &scratch);
    let (stdout, stderr) = (&run.stdout, &run.stderr);
    let v = run.json;
    let shadows = v["submissions"]
        .as_array()
        .and_then(|a| a.iter().find(|s| s["name"] == "shadows"))
        .unwrap_or_else(|| panic!("the batch stopped before `shadows`:\n{stdout}\n{stderr}"));
    assert_eq!(
        shadows["score"], 0.0,
        "its own unit tests must not count:\n{stdout}"
    );
    assert_eq!(
        shadows["runs"].as_array().map(Vec::len),
        Some(2),
        "the pristine tests ran:\n{stdout}"
    );
    for (name, _, refusal) in cases {
        let s = v["submissions"]
            .as_array()
            .and_then(|a| a.iter().find(|s| s["name"] == *name))
            .unwrap_or_else(|| panic!("no submission {name}:\n{stdout}\n{stderr}"));
        match refusal {
            None => assert_eq!(s["score"], 8.0, "{name} must score full marks:\n{stdout}"),
            Some((rule, line)) => {
                assert_eq!(s["score"], 0.0, "{name}:\n{stdout}");
                let problem = s["labs"][0]["problem"].as_str().unwrap_or("");
                assert!(
                    problem.contains("code policy")
                        && problem.contains(&format!("lab8-answer/src/answer.rs:{line}:"))
                        && problem.contains(rule),
                    "{name}: expected a refusal naming line {line} and {rule:?}: {problem}"
                );
                assert_eq!(
                    s["runs"].as_array().map(Vec::len),
                    Some(0),
                    "{name}: a refused submission is never built or run"
                );
            }
        }
    }
}
