//! A lab built on the real lab 2: `tests/data/lab7-raft-consumer` commits
//! values through lab2-raft (grade.toml `uses = ["lab2-raft"]`). The test
//! assembles a small kit (the kit's labrt, labrpc, testkit and lab2-raft, plus the
//! consumer) and grades one submission both ways: on the student's Raft
//! (here the skeleton, so the consumer's test fails inside Raft) and with
//! `--reference lab2` (so the same consumer passes on the reference Raft).

mod common;

use std::path::{Path, PathBuf};

fn kit_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap_or_else(|| panic!("the grader is inside the kit"))
        .to_path_buf()
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap_or_else(|e| panic!("mkdir {}: {e}", to.display()));
    for entry in std::fs::read_dir(from).unwrap_or_else(|e| panic!("{}: {e}", from.display())) {
        let entry = entry.unwrap_or_else(|e| panic!("{}: {e}", from.display()));
        let name = entry.file_name();
        if name.to_string_lossy().starts_with("target") {
            continue;
        }
        let path = entry.path();
        if path.is_dir() {
            copy_dir(&path, &to.join(&name));
        } else {
            std::fs::copy(&path, to.join(&name))
                .unwrap_or_else(|e| panic!("copy {}: {e}", path.display()));
        }
    }
}

/// The kit's labrpc, testkit and lab2-raft with the consumer beside them,
/// as one workspace with the kit's pinned versions.
fn small_kit(at: &Path) {
    let kit = kit_root();
    for member in ["labrt", "labrpc", "testkit", "lab2-raft"] {
        copy_dir(&kit.join(member), &at.join(member));
    }
    copy_dir(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/lab7-raft-consumer"),
        &at.join("lab7-raft-consumer"),
    );
    std::fs::copy(kit.join("Cargo.lock"), at.join("Cargo.lock"))
        .unwrap_or_else(|e| panic!("copy Cargo.lock: {e}"));
    let text = std::fs::read_to_string(kit.join("Cargo.toml"))
        .unwrap_or_else(|e| panic!("read the kit's Cargo.toml: {e}"));
    let mut doc: toml::Table = text
        .parse()
        .unwrap_or_else(|e| panic!("parse the kit's Cargo.toml: {e}"));
    let ws = doc
        .get_mut("workspace")
        .and_then(|w| w.as_table_mut())
        .unwrap_or_else(|| panic!("the kit's Cargo.toml has no [workspace]"));
    ws.insert(
        "members".into(),
        toml::Value::Array(
            [
                "labrt",
                "labrpc",
                "testkit",
                "lab2-raft",
                "lab7-raft-consumer",
            ]
            .map(|m| toml::Value::String(m.into()))
            .to_vec(),
        ),
    );
    ws.remove("exclude");
    if let Some(deps) = ws.get_mut("dependencies").and_then(|d| d.as_table_mut()) {
        deps.remove("labcheck");
    }
    let out = toml::to_string(&doc).unwrap_or_else(|e| panic!("write Cargo.toml: {e}"));
    std::fs::write(at.join("Cargo.toml"), out).unwrap_or_else(|e| panic!("write Cargo.toml: {e}"));
}

fn grade(kit: &Path, sub: &Path, scratch: &Path, extra: &[&str]) -> (serde_json::Value, String) {
    let target = Path::new(env!("CARGO_TARGET_TMPDIR")).join("raft-consumer-target");
    let target = target.to_string_lossy().into_owned();
    let mut args = vec!["--lab", "lab7", "--target-dir", target.as_str()];
    args.extend_from_slice(extra);
    let run = common::grade(
        kit,
        &args,
        &[sub.to_path_buf()],
        &scratch.join(format!("grade{}", extra.len())),
    );
    (run.json, format!("{}\n{}", run.stdout, run.stderr))
}

#[test]
fn a_service_is_graded_on_the_students_raft_or_on_the_reference() {
    let scratch = common::scratch("raft-consumer");
    let kit = scratch.join("kit");
    small_kit(&kit);
    // The student's consumer is right; their Raft is the untouched skeleton.
    let sub = scratch.join("student");
    let consumer = std::fs::read_to_string(kit.join("lab7-raft-consumer/src/reference/propose.rs"))
        .unwrap_or_else(|e| panic!("read the consumer's reference: {e}"));
    let skeleton = std::fs::read_to_string(kit.join("lab2-raft/src/raft.rs"))
        .unwrap_or_else(|e| panic!("read the Raft skeleton: {e}"));
    for (path, text) in [
        ("lab7-raft-consumer/src/propose.rs", consumer.as_str()),
        ("lab2-raft/src/raft.rs", skeleton.as_str()),
    ] {
        let file = sub.join(path);
        if let Some(d) = file.parent() {
            std::fs::create_dir_all(d).unwrap_or_else(|e| panic!("mkdir: {e}"));
        }
        std::fs::write(&file, text).unwrap_or_else(|e| panic!("write {path}: {e}"));
    }

    let (own, text) = grade(&kit, &sub, &scratch, &[]);
    let lab = &own["submissions"][0]["labs"][0];
    assert_eq!(lab["lab"], "lab7-raft-consumer", "{text}");
    assert_eq!(
        lab["score"], 0.0,
        "the skeleton Raft cannot commit anything:\n{text}"
    );
    let run = &own["submissions"][0]["runs"][0];
    assert!(
        run["message"]
            .as_str()
            .is_some_and(|m| m.contains("not yet implemented")),
        "the consumer must have run on the student's (skeleton) Raft: {run}\n{text}"
    );
    assert_eq!(own["submissions"][0]["on_reference"], serde_json::json!([]));

    let (reference, text) = grade(&kit, &sub, &scratch, &["--reference", "lab2"]);
    let s = &reference["submissions"][0];
    assert_eq!(
        s["labs"][0]["score"], 1.0,
        "on the reference Raft it passes:\n{text}"
    );
    assert_eq!(s["on_reference"][0], "lab2-raft", "{s}");
}
