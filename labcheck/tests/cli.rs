//! The `labcheck` command: verdicts, exit status and error messages.

mod support;

use std::path::PathBuf;
use std::process::{Command, Output};

use labcheck::models::{KvInput, KvOutput, VersionedInput, VersionedOutput};
use labcheck::{History, Operation};

fn labcheck(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_labcheck"))
        .args(args)
        .output()
        .expect("the labcheck binary runs")
}

fn temp_file(name: &str, contents: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("labcheck-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir is writable");
    let path = dir.join(name);
    std::fs::write(&path, contents).expect("temp file is writable");
    path
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn kv_history(stale_get: bool) -> History<KvInput, KvOutput> {
    let seen = if stale_get { "" } else { "1" };
    vec![
        Operation::completed(0, KvInput::put("x", "1"), KvOutput::Ok, 0, 10),
        Operation::completed(1, KvInput::get("x"), KvOutput::value(seen), 20, 30),
    ]
    .into()
}

#[test]
fn linearizable_history_exits_0() {
    let file = temp_file("ok.jsonl", &kv_history(false).to_jsonl());
    let out = labcheck(&["check", file.to_str().expect("utf-8 path"), "--model", "kv"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("linearizable"),
        "{}",
        text(&out.stdout)
    );
}

#[test]
fn broken_history_exits_1_names_the_stuck_operation_and_writes_the_picture() {
    let file = temp_file("bad.jsonl", &kv_history(true).to_jsonl());
    let html = file.with_extension("html");
    let out = labcheck(&[
        "check",
        file.to_str().expect("utf-8 path"),
        "--model=kv",
        "--html",
        html.to_str().expect("utf-8 path"),
    ]);
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}{}", text(&out.stderr));
    assert!(stdout.contains("NOT linearizable"), "{stdout}");
    assert!(stdout.contains("cannot place #1"), "{stdout}");
    assert!(stdout.contains("wrote history picture to"), "{stdout}");
    let page = std::fs::read_to_string(&html).expect("the picture was written");
    assert!(page.contains("history-data"));
}

#[test]
fn versioned_history_in_jsonl_is_checked_with_its_model() {
    let history: History<VersionedInput, VersionedOutput> = vec![
        Operation::completed(
            0,
            VersionedInput::put("k", "a", 0),
            VersionedOutput::Ok,
            0,
            10,
        ),
        Operation::completed(
            1,
            VersionedInput::put("k", "b", 0),
            VersionedOutput::Ok,
            20,
            30,
        ),
    ]
    .into();
    let file = temp_file("versioned.jsonl", &history.to_jsonl());
    let out = labcheck(&[
        "check",
        file.to_str().expect("utf-8 path"),
        "--model",
        "kv-versioned",
    ]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "a second create with version 0 must fail"
    );
}

#[test]
fn timeout_exits_2_as_unknown() {
    let data = support::porcupine_data::data_dir();
    let file = data.join("kv/c10-bad.txt");
    let out = labcheck(&[
        "check",
        file.to_str().expect("utf-8 path"),
        "--model",
        "kv-nopartition",
        "--timeout",
        "0.000001",
    ]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stdout));
    assert!(
        text(&out.stdout).contains("unknown"),
        "{}",
        text(&out.stdout)
    );
}

#[test]
fn jepsen_log_is_detected_and_checked() {
    let data = support::porcupine_data::data_dir();
    let file = data.join("jepsen/etcd_002.log");
    let out = labcheck(&[
        "check",
        file.to_str().expect("utf-8 path"),
        "--model",
        "etcd",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stdout));
}

#[test]
fn malformed_line_exits_3_naming_file_and_line() {
    let good = kv_history(false).to_jsonl();
    let file = temp_file(
        "malformed.jsonl",
        &format!("{good}{{\"client\": 0, \"input\": 7}}\n"),
    );
    let out = labcheck(&["check", file.to_str().expect("utf-8 path"), "--model", "kv"]);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{stderr}");
    assert!(
        stderr.contains(&format!("{}:3:", file.display())),
        "{stderr}"
    );
}

#[test]
fn missing_file_exits_3_naming_it() {
    let out = labcheck(&["check", "/nonexistent/history.jsonl", "--model", "kv"]);
    assert_eq!(out.status.code(), Some(3));
    assert!(text(&out.stderr).contains("cannot read /nonexistent/history.jsonl"));
}

#[test]
fn usage_errors_exit_3_with_the_usage() {
    let out = labcheck(&["check", "x.jsonl", "--model", "paxos"]);
    assert_eq!(out.status.code(), Some(3));
    let stderr = text(&out.stderr);
    assert!(stderr.contains("unknown model \"paxos\""), "{stderr}");
    assert!(stderr.contains("usage: labcheck check"), "{stderr}");
}

#[test]
fn format_that_does_not_fit_the_model_exits_3() {
    let file = temp_file("log.txt", "INFO  jepsen.util - 0\t:invoke\t:read\tnil\n");
    let out = labcheck(&["check", file.to_str().expect("utf-8 path"), "--model", "kv"]);
    assert_eq!(out.status.code(), Some(3));
    assert!(
        text(&out.stderr).contains("jepsen format cannot be checked"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn help_exits_0() {
    let out = labcheck(&["--help"]);
    assert_eq!(out.status.code(), Some(0));
    assert!(text(&out.stdout).contains("exit status"));
}
