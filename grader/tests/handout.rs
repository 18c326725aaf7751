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

#[test]
fn handout_tests_fail_quickly_rather_than_hang() {
    let h = handout();
    assert_eq!(h.status, Some(0), "handout failed:\n{}", h.stderr);
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("temp dir: {e}"));
    let json = dir.path().join("r.json");
    let out = common::grader()
        .env(
            "CARGO_TARGET_DIR",
            Path::new(env!("CARGO_TARGET_TMPDIR")).join("handout-target"),
        )
        .arg("--workspace")
        .arg(&h.dir)
        .args(["run", "lab8", "--out"])
        .arg(dir.path().join("logs"))
        .arg("--json")
        .arg(&json)
        .output()
        .unwrap_or_else(|e| panic!("cannot start the grader: {e}"));
    let (stdout, stderr) = common::texts(&out);
    assert_eq!(out.status.code(), Some(1), "{stdout}\n{stderr}");
    let v = common::read_json(&json);
    let runs = v["submissions"][0]["runs"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert_eq!(runs.len(), 2, "both lab8 tests should run: {v}");
    for r in runs {
        assert_eq!(r["verdict"], "FAIL", "{r}");
        assert!(
            r["message"]
                .as_str()
                .is_some_and(|m| m.contains("not yet implemented")),
            "the skeleton's todo!() should be the failure: {r}"
        );
        let secs = r["seconds"].as_f64().unwrap_or(99.0);
        assert!(
            secs < 8.0,
            "{}: took {secs:.1} s to fail (timeout_secs is 10)",
            r["test"]
        );
    }
}
