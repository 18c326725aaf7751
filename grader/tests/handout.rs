//! `grader handout`: nothing of the reference remains, the handout builds
//! warning-free, and its tests fail quickly (not hang) until implemented.

mod common;

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

struct Handout {
    dir: PathBuf,
    status: Option<i32>,
    stdout: String,
    stderr: String,
}

fn handout() -> &'static Handout {
    static H: OnceLock<Handout> = OnceLock::new();
    H.get_or_init(|| {
        let scratch = common::scratch("handout-test");
        let dir = scratch.join("out");
        let out = common::grader()
            .arg("--workspace")
            .arg(common::fixtures())
            .arg("handout")
            .arg(&dir)
            .arg("--target-dir")
            .arg(Path::new(env!("CARGO_TARGET_TMPDIR")).join("handout-target"))
            .output()
            .unwrap_or_else(|e| panic!("cannot start the grader: {e}"));
        let (stdout, stderr) = common::texts(&out);
        Handout {
            dir,
            status: out.status.code(),
            stdout,
            stderr,
        }
    })
}

fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let p = e.path();
            if p.is_dir() {
                if p.file_name().is_some_and(|n| n != "target") {
                    stack.push(p);
                }
            } else {
                out.push(p);
            }
        }
    }
    out
}

#[test]
fn handout_builds_warning_free() {
    let h = handout();
    assert_eq!(
        h.status,
        Some(0),
        "handout failed\nstdout:\n{}\nstderr:\n{}",
        h.stdout,
        h.stderr
    );
    assert!(h.stdout.contains("builds warning-free"), "{}", h.stdout);
}

#[test]
fn no_reference_code_or_marker_remains() {
    let h = handout();
    let reference = common::fixtures().join("lab8-answer/src/reference/answer.rs");
    let skeleton = common::fixtures().join("lab8-answer/src/answer.rs");
    let read = |p: &Path| {
        std::fs::read_to_string(p).unwrap_or_else(|e| panic!("read {}: {e}", p.display()))
    };
    let skeleton_text = read(&skeleton);
    // Lines the reference shares with the skeleton (signatures, docs) may
    // stay; every other non-trivial line is the solution and must be gone.
    let secret: Vec<String> = read(&reference)
        .lines()
        .map(str::trim)
        .filter(|l| l.len() >= 8 && !skeleton_text.contains(*l))
        .map(str::to_owned)
        .collect();
    assert!(
        secret.len() >= 2,
        "the fixture's reference should have secret lines: {secret:?}"
    );
    let begin = concat!("distlab:", "reference-begin");
    let end = concat!("distlab:", "reference-end");
    let files = files_under(&h.dir);
    assert!(!files.is_empty(), "empty handout at {}", h.dir.display());
    for f in files {
        let Ok(text) = std::fs::read_to_string(&f) else {
            continue;
        };
        for s in &secret {
            assert!(
                !text.contains(s.as_str()),
                "reference line {s:?} found in {}",
                f.display()
            );
        }
        assert!(
            !text.contains(begin) && !text.contains(end),
            "marker left in {}",
            f.display()
        );
        assert!(
            !f.components().any(|c| c.as_os_str() == "reference"),
            "reference file copied: {}",
            f.display()
        );
    }
}

#[test]
fn student_readme_lists_the_files_to_edit_and_the_grader_commands() {
    let h = handout();
    let readme = std::fs::read_to_string(h.dir.join("README.md"))
        .unwrap_or_else(|e| panic!("no README.md in the handout: {e}\n{}", h.stderr));
    for want in [
        "`lab8-answer/src/answer.rs`",
        "cargo run --release -p grader -- stress",
        "run lab8/B",
    ] {
        assert!(readme.contains(want), "README lacks {want:?}:\n{readme}");
    }
}

fn handout_cmd(args: &[&str]) -> (Option<i32>, String) {
    let mut cmd = common::grader();
    cmd.arg("--workspace").arg(common::fixtures()).args(args);
    if !args.contains(&"--no-build") {
        cmd.arg("--target-dir")
            .arg(Path::new(env!("CARGO_TARGET_TMPDIR")).join("handout-target"));
    }
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("cannot start the grader: {e}"));
    let (stdout, stderr) = common::texts(&out);
    (out.status.code(), format!("{stdout}\n{stderr}"))
}

fn members(dir: &Path) -> String {
    let text = std::fs::read_to_string(dir.join("Cargo.toml"))
        .unwrap_or_else(|e| panic!("no Cargo.toml in {}: {e}", dir.display()));
    text.lines()
        .find(|l| l.trim_start().starts_with("members"))
        .unwrap_or("")
        .to_owned()
}

#[test]
fn one_lab_at_a_time_with_the_labs_it_uses() {
    let scratch = common::scratch("handout-one-lab");
    let only8 = scratch.join("only8");
    let (code, out) = handout_cmd(&[
        "handout",
        only8.to_str().unwrap_or_default(),
        "--lab",
        "lab8",
    ]);
    assert_eq!(code, Some(0), "{out}");
    assert_eq!(members(&only8), r#"members = ["lab8-answer"]"#);
    assert!(!only8.join("lab7-twice").exists() && !only8.join("lab9-verdicts").exists());
    let readme = std::fs::read_to_string(only8.join("README.md")).unwrap_or_default();
    assert!(
        readme.contains("lab8-answer") && !readme.contains("lab9-verdicts"),
        "{readme}"
    );
    // Lab 7 builds on lab 8, so lab 8 comes with it.
    let with7 = scratch.join("with7");
    let (code, out) = handout_cmd(&[
        "handout",
        with7.to_str().unwrap_or_default(),
        "--lab",
        "lab7",
        "--no-build",
    ]);
    assert_eq!(code, Some(0), "{out}");
    assert_eq!(
        members(&with7),
        r#"members = ["lab7-twice", "lab8-answer"]"#
    );
}

#[test]
fn update_brings_a_new_lab_and_fixed_tests_and_keeps_the_students_files() {
    let scratch = common::scratch("handout-update");
    let dir = scratch.join("student");
    let dir_arg = dir.to_str().unwrap_or_default().to_owned();
    let (code, out) = handout_cmd(&["handout", &dir_arg, "--lab", "lab8", "--no-build"]);
    assert_eq!(code, Some(0), "{out}");
    let mine = "pub fn answer() -> u64 { 42 }\npub fn double(x: u64) -> u64 { x + x }\n";
    let answer = dir.join("lab8-answer/src/answer.rs");
    std::fs::write(&answer, mine).unwrap_or_else(|e| panic!("write: {e}"));
    // The student (or an old release) has a stale test.
    let test = dir.join("lab8-answer/tests/part_a.rs");
    std::fs::write(&test, "// stale\n").unwrap_or_else(|e| panic!("write: {e}"));
    let (code, out) = handout_cmd(&["handout", &dir_arg, "--update", "--lab", "lab7"]);
    assert_eq!(code, Some(0), "{out}");
    assert!(
        out.contains("lab8-answer/src/answer.rs"),
        "the kept files are named: {out}"
    );
    assert_eq!(std::fs::read_to_string(&answer).unwrap_or_default(), mine);
    assert_ne!(
        std::fs::read_to_string(&test).unwrap_or_default(),
        "// stale\n"
    );
    assert!(dir.join("lab7-twice/src/twice.rs").is_file());
    assert_eq!(members(&dir), r#"members = ["lab7-twice", "lab8-answer"]"#);
    // Without --update a non-empty folder is refused, naming the way out.
    let (code, out) = handout_cmd(&["handout", &dir_arg, "--no-build"]);
    assert_eq!(code, Some(2), "{out}");
    assert!(out.contains("--update"), "{out}");
}

#[test]
fn check_skeleton_passes_when_every_test_fails_fast_with_todo() {
    let scratch = common::scratch("skeleton-good");
    let (code, out) = handout_cmd(&[
        "check-skeleton",
        "lab7",
        "lab8",
        "--handout",
        scratch.join("h").to_str().unwrap_or_default(),
    ]);
    assert_eq!(code, Some(0), "{out}");
    for test in ["answer_is_42", "double_doubles", "twice_is_84"] {
        assert!(
            out.lines()
                .any(|l| l.contains(test) && l.contains("fails in") && l.contains("todo!()")),
            "{test} should be listed as failing fast:\n{out}"
        );
    }
    assert!(out.contains("OK: all 3 test(s)"), "{out}");
}

#[test]
fn check_skeleton_fails_on_tests_that_pass_hang_or_fail_unclearly() {
    // lab9-verdicts has no skeleton: its tests pass, hang, or fail with
    // messages that are not todo!(), which is what the check must catch.
    let scratch = common::scratch("skeleton-bad");
    let (code, out) = handout_cmd(&[
        "check-skeleton",
        "lab9",
        "--handout",
        scratch.join("h").to_str().unwrap_or_default(),
        "--per-test",
        "3s",
    ]);
    assert_eq!(code, Some(1), "{out}");
    for (test, why) in [
        ("passes", "passes against the skeleton"),
        ("hangs", "a skeleton test must fail fast"),
        ("fails_assertion", "not with a todo!() message"),
    ] {
        assert!(
            out.lines()
                .any(|l| l.contains(&format!(" {test} ")) && l.contains(why)),
            "{test}: expected {why:?}:\n{out}"
        );
    }
    assert!(out.contains("FAILED:"), "{out}");
}

#[test]
fn each_lab_of_the_kits_handout_gets_the_facades_clippy_configuration() {
    let kit = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the grader sits in the kit")
        .to_path_buf();
    let scratch = common::scratch("kit-handout-clippy");
    let out = scratch.join("out");
    let run = common::grader()
        .arg("--workspace")
        .arg(&kit)
        .args(["handout", "--no-build", "--lab", "lab1"])
        .arg(&out)
        .output()
        .unwrap_or_else(|e| panic!("cannot start the grader: {e}"));
    let (stdout, stderr) = common::texts(&run);
    assert_eq!(run.status.code(), Some(0), "{stdout}\n{stderr}");
    let want = std::fs::read_to_string(kit.join("labrt/student-clippy.toml"))
        .expect("the kit has labrt/student-clippy.toml");
    let got = std::fs::read_to_string(out.join("lab1-kvsrv/clippy.toml"))
        .unwrap_or_else(|e| panic!("the handout's lab1-kvsrv has no clippy.toml: {e}"));
    assert_eq!(got, want, "the lab gets the facade's configuration as is");
    assert!(
        !out.join("clippy.toml").exists() && !out.join("labrpc/clippy.toml").exists(),
        "only lab folders get it: the kit's own crates are not student code"
    );
    assert!(
        !out.join("lab1-kvsrv/planted.toml").exists(),
        "the planted bugs stay with the maintainers"
    );
}
