//! The Gradescope bundle, run as Gradescope runs it: `grader autograder`
//! writes the zip (and its files unpacked), and the bundle's real
//! `run_autograder` grades submissions laid out in a folder like
//! `/autograder` (moved by its environment variables): the reference scores
//! full marks, the skeleton and a forgery nothing, code that does not
//! compile nothing with the compiler's message, and a grader that cannot
//! run still leaves a zero `results.json` saying why.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

/// The names in a zip's central directory.
fn zip_names(bytes: &[u8]) -> Vec<String> {
    let end = bytes
        .len()
        .checked_sub(22)
        .expect("a zip ends with its directory's end record");
    assert_eq!(
        &bytes[end..end + 4],
        b"PK\x05\x06",
        "end of central directory"
    );
    let le16 = |at: usize| u16::from_le_bytes([bytes[at], bytes[at + 1]]) as usize;
    let le32 = |at: usize| {
        u32::from_le_bytes([bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]]) as usize
    };
    let (count, mut at) = (le16(end + 10), le32(end + 16));
    let mut names = Vec::new();
    for _ in 0..count {
        assert_eq!(
            &bytes[at..at + 4],
            b"PK\x01\x02",
            "a central directory entry"
        );
        let (name_len, extra, comment) = (le16(at + 28), le16(at + 30), le16(at + 32));
        names.push(String::from_utf8_lossy(&bytes[at + 46..at + 46 + name_len]).into_owned());
        at += 46 + name_len + extra + comment;
    }
    names
}

struct Bundle {
    stage: PathBuf,
}

fn bundle(dir: &Path) -> Bundle {
    let zip = dir.join("lab8-autograder.zip");
    let stage = dir.join("stage");
    let out = common::grader()
        .arg("--workspace")
        .arg(common::fixtures())
        .args(["autograder", "lab8", "-n", "2", "--out"])
        .arg(&zip)
        .arg("--dir")
        .arg(&stage)
        .output()
        .unwrap_or_else(|e| panic!("cannot start the grader: {e}"));
    let (stdout, stderr) = common::texts(&out);
    assert_eq!(out.status.code(), Some(0), "{stdout}\n{stderr}");
    let bytes = std::fs::read(&zip).unwrap_or_else(|e| panic!("no zip written: {e}"));
    let names = zip_names(&bytes);
    for needed in [
        "setup.sh",
        "run_autograder",
        "kit/Cargo.toml",
        "kit/lab8-answer/grade.toml",
        "kit/lab8-answer/tests/part_a.rs",
        "kit/lab8-answer/src/answer.rs",
    ] {
        assert!(
            names.iter().any(|n| n == needed),
            "the zip lacks {needed}: {names:?}"
        );
    }
    assert!(
        !names.iter().any(|n| n.contains("/reference/")),
        "the graded lab's reference is not in the bundle: {names:?}"
    );
    Bundle { stage }
}

/// Runs the bundle's `run_autograder` on a submission holding `files`
/// (path in the submission folder, text) and returns its results.json.
fn grade(b: &Bundle, dir: &Path, name: &str, files: &[(&str, &str)], grader: &Path) -> Value {
    let root = dir.join(name);
    for (path, text) in files {
        common::write(&root.join("submission").join(path), text);
    }
    std::fs::create_dir_all(root.join("submission"))
        .unwrap_or_else(|e| panic!("cannot create the submission folder: {e}"));
    let out = Command::new("bash")
        .arg(b.stage.join("run_autograder"))
        .env("DISTLAB_AUTOGRADER_ROOT", &root)
        .env("DISTLAB_AUTOGRADER_SOURCE", &b.stage)
        .env("DISTLAB_GRADER", grader)
        .env("CARGO_TARGET_DIR", common::fixture_target())
        .output()
        .unwrap_or_else(|e| panic!("cannot run run_autograder: {e}"));
    let (stdout, stderr) = common::texts(&out);
    assert_eq!(
        out.status.code(),
        Some(0),
        "run_autograder always exits 0:\n{stdout}\n{stderr}"
    );
    let results = root.join("results/results.json");
    let text = std::fs::read_to_string(&results)
        .unwrap_or_else(|e| panic!("{name}: no results.json ({e}):\n{stdout}\n{stderr}"));
    serde_json::from_str(&text)
        .unwrap_or_else(|e| panic!("{name}: results.json is not JSON ({e}):\n{text}"))
}

#[test]
fn the_bundle_grades_as_gradescope_would() {
    let dir = common::scratch("autograder");
    let b = bundle(&dir);
    let grader = PathBuf::from(env!("CARGO_BIN_EXE_grader"));
    let reference =
        std::fs::read_to_string(common::fixtures().join("lab8-answer/src/reference/answer.rs"))
            .unwrap_or_else(|e| panic!("read the fixture's reference: {e}"));
    let skeleton = std::fs::read_to_string(b.stage.join("kit/lab8-answer/src/answer.rs"))
        .unwrap_or_else(|e| panic!("the bundle's skeleton: {e}"));
    let forged = "pub fn answer() -> u64 {\n    println!(\"test answer_is_42 ... ok\");\n    std::process::exit(0)\n}\npub fn double(x: u64) -> u64 { x }\n";

    // Uploaded flat (the file alone), as students often do.
    let v = grade(&b, &dir, "reference", &[("answer.rs", &reference)], &grader);
    assert_eq!(v["score"], 8.0, "the reference scores full marks: {v}");
    // Uploaded with its folders.
    let v = grade(
        &b,
        &dir,
        "skeleton",
        &[("lab8-answer/src/answer.rs", &skeleton)],
        &grader,
    );
    assert_eq!(v["score"], 0.0, "the skeleton scores nothing: {v}");
    let v = grade(&b, &dir, "forged", &[("answer.rs", forged)], &grader);
    assert_eq!(v["score"], 0.0, "a forgery scores nothing: {v}");
    assert!(
        v["output"].as_str().unwrap_or("").contains("code policy"),
        "{v}"
    );
    let v = grade(
        &b,
        &dir,
        "broken",
        &[("answer.rs", "pub fn answer() -> u64 { 42 \n")],
        &grader,
    );
    assert_eq!(v["score"], 0.0, "{v}");
    assert!(
        v["output"]
            .as_str()
            .unwrap_or("")
            .contains("does not compile"),
        "the compiler's message reaches the student: {v}"
    );
    let v = grade(&b, &dir, "nothing", &[], &grader);
    assert_eq!(v["score"], 0.0, "{v}");
    assert!(
        v["output"].as_str().unwrap_or("").contains("missing"),
        "{v}"
    );

    // A grader that cannot run at all still leaves a zero result.
    let v = grade(
        &b,
        &dir,
        "no-grader",
        &[("answer.rs", &reference)],
        &dir.join("no-such-grader"),
    );
    assert_eq!(v["score"], 0, "{v}");
    assert!(
        v["output"]
            .as_str()
            .unwrap_or("")
            .contains("could not grade"),
        "{v}"
    );
}
