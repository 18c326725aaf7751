//! The `labcheck` command: verdicts, exit status and error messages.
//!
//! Every file a test writes lives in its own `tempfile` directory, removed
//! when the test ends, passing or not.

mod support;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use labcheck::models::{KvInput, KvOutput, VersionedInput, VersionedOutput};
use labcheck::{History, Operation};
use tempfile::TempDir;

fn labcheck<S: AsRef<std::ffi::OsStr>>(args: &[S]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_labcheck"))
        .args(args)
        .output()
        .expect("the labcheck binary runs")
}

/// A fresh directory, removed when the returned value drops.
fn temp_dir() -> TempDir {
    tempfile::tempdir().expect("temp dir is writable")
}

/// Writes `contents` to `dir/name`.
fn temp_file(dir: &TempDir, name: &str, contents: impl AsRef<[u8]>) -> PathBuf {
    let path = dir.path().join(name);
    std::fs::write(&path, contents).expect("temp file is writable");
    path
}

fn path_str(path: &Path) -> &str {
    path.to_str().expect("utf-8 path")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Asserts the command failed with exit status 2, nothing on stdout and
/// exactly one line on stderr containing every one of `needles`; returns
/// that line.
fn assert_input_error(out: &Output, needles: &[&str]) -> String {
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert_eq!(
        out.status.code(),
        Some(2),
        "stdout: {stdout}\nstderr: {stderr}"
    );
    assert_eq!(stdout, "", "an error prints no verdict");
    assert_eq!(stderr.lines().count(), 1, "one line on stderr: {stderr:?}");
    assert!(stderr.starts_with("labcheck: error: "), "{stderr}");
    for needle in needles {
        assert!(stderr.contains(needle), "{stderr:?} lacks {needle:?}");
    }
    stderr
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
    let dir = temp_dir();
    let file = temp_file(&dir, "ok.jsonl", kv_history(false).to_jsonl());
    let out = labcheck(&["check", path_str(&file), "--model", "kv"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("linearizable (2 operation(s)"),
        "{}",
        text(&out.stdout)
    );
}

#[test]
fn broken_history_exits_1_names_the_stuck_operation_and_writes_the_picture() {
    let dir = temp_dir();
    let file = temp_file(&dir, "bad.jsonl", kv_history(true).to_jsonl());
    let html = file.with_extension("html");
    let out = labcheck(&[
        "check",
        path_str(&file),
        "--model=kv",
        "--html",
        path_str(&html),
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
    let dir = temp_dir();
    let file = temp_file(&dir, "versioned.jsonl", history.to_jsonl());
    let out = labcheck(&["check", path_str(&file), "--model", "kv-versioned"]);
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
        path_str(&file),
        "--model",
        "kv-nopartition",
        "--timeout",
        "0.000001",
    ]);
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(2), "{stdout}");
    assert!(
        stdout.contains(": unknown: the check timed out ("),
        "{stdout}"
    );
    assert!(
        stdout.contains("the check timed out after 1µs (give more time with --timeout SECS"),
        "{stdout}"
    );
}

#[test]
fn jepsen_log_is_detected_and_checked() {
    let data = support::porcupine_data::data_dir();
    let file = data.join("jepsen/etcd_002.log");
    let out = labcheck(&["check", path_str(&file), "--model", "etcd"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stdout));
}

#[test]
fn stats_name_the_slowest_parts_with_their_figures() {
    // A bigkey file: a big linearizable key and a small failing one.
    let file = support::porcupine_data::hard_data_dir().join("kv/bigkey_01.txt");
    let out = labcheck(&["check", path_str(&file), "--model", "kv", "--stats"]);
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    let header = stdout
        .lines()
        .position(|l| l.starts_with("  stats: 5 of 5 part(s), slowest first"))
        .unwrap_or_else(|| panic!("no stats header in {stdout}"));
    let parts: Vec<&str> = stdout.lines().skip(header + 1).collect();
    assert_eq!(parts.len(), 5, "{stdout}");
    for line in &parts {
        assert!(line.starts_with("  key \""), "{line}");
        for field in [
            " ops, ",
            " ms, ",
            " nodes, ",
            " memo hits, ",
            " states, ",
            " MiB",
        ] {
            assert!(line.contains(field), "{line:?} lacks {field:?}");
        }
    }
    assert_eq!(
        parts
            .iter()
            .filter(|l| l.contains("NOT linearizable"))
            .count(),
        1,
        "{stdout}"
    );
    assert!(
        header > 0
            && stdout
                .lines()
                .nth(header - 1)
                .is_some_and(|l| l.starts_with("  memory: at most ")),
        "no memory line above the stats: {stdout}"
    );
    // Without --stats, no such lines.
    let plain = labcheck(&["check", path_str(&file), "--model", "kv"]);
    assert!(!text(&plain.stdout).contains("stats:"));
    assert!(!text(&plain.stdout).contains("memory:"));
}

/// A key/value history in JSON lines whose check must try every subset of
/// `puts` concurrent puts of distinct values: a get that overlaps them all
/// returns a value none wrote.
fn exhaustive_search_jsonl(puts: usize) -> String {
    let mut ops: Vec<Operation<KvInput, KvOutput>> = (0..puts)
        .map(|v| {
            Operation::completed(
                v as u64,
                KvInput::put("k", v.to_string()),
                KvOutput::Ok,
                0,
                100,
            )
        })
        .collect();
    ops.push(Operation::completed(
        999,
        KvInput::get("k"),
        KvOutput::value("never written"),
        50,
        60,
    ));
    History::from(ops).to_jsonl()
}

#[test]
fn the_memory_cap_exits_2_as_unknown_naming_the_cap_and_the_flag() {
    let dir = temp_dir();
    let file = temp_file(&dir, "hard.jsonl", exhaustive_search_jsonl(40));
    let out = labcheck(&[
        "check",
        path_str(&file),
        "--model",
        "kv",
        "--max-memory-mib",
        "2",
        "--timeout",
        "120",
    ]);
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(2), "{stdout}");
    let mut lines = stdout.lines();
    let verdict = lines.next().unwrap_or_default();
    assert!(
        verdict
            .contains(": unknown: the search reached the memory cap (41 operation(s), 1 part(s), "),
        "{stdout}"
    );
    let reason = lines.next().unwrap_or_default();
    for needle in ["memory cap of 2.00 MiB", "--max-memory-mib MIB"] {
        assert!(reason.contains(needle), "{reason:?} lacks {needle:?}");
    }
    // With room, a smaller history of the same shape is decided.
    let small = temp_file(&dir, "small.jsonl", exhaustive_search_jsonl(8));
    let out = labcheck(&[
        "check",
        path_str(&small),
        "--model",
        "kv",
        "--max-memory-mib",
        "2",
    ]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stdout));
}

#[test]
fn empty_history_exits_2_naming_the_file_and_what_to_do() {
    let dir = temp_dir();
    let cases = [
        ("empty.jsonl", "", "kv"),
        ("blank.jsonl", "\n   \n\t\r\n", "kv-versioned"),
        ("blank.log", "\n\n", "etcd"),
    ];
    for (name, contents, model) in cases {
        let file = temp_file(&dir, name, contents);
        let out = labcheck(&["check", path_str(&file), "--model", model]);
        assert_input_error(
            &out,
            &[
                &format!("{} holds no operations", file.display()),
                "proves nothing",
                "--allow-empty",
            ],
        );
    }
}

#[test]
fn empty_history_with_allow_empty_is_linearizable_and_says_so() {
    let dir = temp_dir();
    let file = temp_file(&dir, "empty.jsonl", "\n");
    for model in ["kv", "kv-nopartition", "kv-versioned", "register"] {
        let out = labcheck(&["check", path_str(&file), "--model", model, "--allow-empty"]);
        let stdout = text(&out.stdout);
        assert_eq!(out.status.code(), Some(0), "{model}: {}", text(&out.stderr));
        assert!(
            stdout.contains(&format!("{}: linearizable (0 operations", file.display())),
            "{model}: {stdout}"
        );
        assert!(stdout.contains("empty"), "{model}: {stdout}");
        assert!(stdout.contains("--allow-empty"), "{model}: {stdout}");
    }
}

#[test]
fn porcupines_empty_jepsen_log_is_refused_unless_allowed() {
    let data = support::porcupine_data::data_dir();
    let file = data.join("jepsen/etcd_095.log");
    assert_eq!(
        std::fs::metadata(&file).map(|m| m.len()).ok(),
        Some(0),
        "etcd_095.log is Porcupine's empty log"
    );
    for format in ["auto", "jepsen"] {
        let args = [
            "check",
            path_str(&file),
            "--model",
            "etcd",
            "--format",
            format,
        ];
        assert_input_error(&labcheck(&args), &["etcd_095.log holds no operations"]);
        let out = labcheck(&[&args[..], &["--allow-empty"]].concat());
        assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    }
}

#[test]
fn history_whose_calls_all_failed_is_empty_too() {
    let dir = temp_dir();
    let file = temp_file(
        &dir,
        "failed.log",
        "INFO jepsen.util - 4 :invoke :write 1\nINFO jepsen.util - 4 :fail :write 1\n",
    );
    let out = labcheck(&["check", path_str(&file), "--model", "etcd"]);
    assert_input_error(
        &out,
        &[
            &format!("{} holds no operations", file.display()),
            "failed calls are dropped",
            "--allow-empty",
        ],
    );
}

#[test]
fn malformed_line_exits_2_naming_file_and_line() {
    let dir = temp_dir();
    let good = kv_history(false).to_jsonl();
    let file = temp_file(
        &dir,
        "malformed.jsonl",
        format!("{good}{{\"client\": 0, \"input\": 7}}\n"),
    );
    let out = labcheck(&["check", path_str(&file), "--model", "kv"]);
    assert_input_error(&out, &[&format!("{}:3: ", file.display())]);
}

#[test]
fn malformed_jepsen_and_porcupine_kv_lines_name_file_and_line() {
    let dir = temp_dir();
    let log = temp_file(
        &dir,
        "bad.log",
        "INFO jepsen.util - 0 :invoke :read nil\nINFO jepsen.util - 0 :ok :read seven\n",
    );
    let out = labcheck(&["check", path_str(&log), "--model", "etcd"]);
    assert_input_error(&out, &[&format!("{}:2: ", log.display()), "\"seven\""]);
    let kv = temp_file(
        &dir,
        "bad.txt",
        "{:process 0, :type :invoke, :f :get, :key \"1\", :value nil}\n{:process 0, :type :ok}\n",
    );
    let out = labcheck(&["check", path_str(&kv), "--model", "kv"]);
    assert_input_error(&out, &[&format!("{}:2: ", kv.display())]);
}

#[test]
fn missing_file_exits_2_naming_it() {
    let out = labcheck(&["check", "/nonexistent/history.jsonl", "--model", "kv"]);
    assert_input_error(&out, &["cannot read /nonexistent/history.jsonl"]);
}

#[test]
fn directory_as_file_exits_2_naming_it() {
    let dir = temp_dir();
    let out = labcheck(&["check", path_str(dir.path()), "--model", "kv"]);
    assert_input_error(&out, &[&format!("cannot read {}", dir.path().display())]);
}

#[test]
fn binary_file_exits_2_naming_file_and_line() {
    let dir = temp_dir();
    let good = kv_history(false).to_jsonl();
    let file = temp_file(
        &dir,
        "binary.jsonl",
        [good.as_bytes(), b"\xff\xfe\n"].concat(),
    );
    let out = labcheck(&["check", path_str(&file), "--model", "kv"]);
    assert_input_error(&out, &[&format!("{}:3: not UTF-8", file.display())]);
}

#[test]
fn usage_errors_exit_2_with_the_synopsis() {
    let out = labcheck(&["check", "x.jsonl", "--model", "paxos"]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = text(&out.stderr);
    assert!(
        stderr.starts_with("labcheck: error: unknown model \"paxos\""),
        "{stderr}"
    );
    assert!(stderr.contains("usage: labcheck check"), "{stderr}");
    assert!(stderr.contains("--allow-empty"), "{stderr}");
    assert_eq!(text(&out.stdout), "");
}

#[cfg(unix)]
#[test]
fn non_utf8_argument_exits_2() {
    use std::os::unix::ffi::OsStrExt;
    let bad = std::ffi::OsStr::from_bytes(b"h\xff.jsonl");
    let out = labcheck(&[
        std::ffi::OsStr::new("check"),
        bad,
        "--model".as_ref(),
        "kv".as_ref(),
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("not valid UTF-8"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn format_that_does_not_fit_the_model_exits_2() {
    let dir = temp_dir();
    let file = temp_file(
        &dir,
        "log.txt",
        "INFO  jepsen.util - 0\t:invoke\t:read\tnil\n",
    );
    let out = labcheck(&["check", path_str(&file), "--model", "kv"]);
    assert_input_error(
        &out,
        &[&file.display().to_string(), "jepsen format", "--model kv"],
    );
}

#[test]
fn picture_in_a_missing_directory_exits_2_before_checking() {
    let dir = temp_dir();
    let file = temp_file(&dir, "ok.jsonl", kv_history(false).to_jsonl());
    let html = dir.path().join("no-such-dir/p.html");
    let out = labcheck(&[
        "check",
        path_str(&file),
        "--model",
        "kv",
        "--html",
        path_str(&html),
    ]);
    assert_input_error(&out, &["cannot write the picture", "no-such-dir"]);
}

#[test]
fn help_exits_0() {
    let out = labcheck(&["--help"]);
    assert_eq!(out.status.code(), Some(0));
    let stdout = text(&out.stdout);
    assert!(stdout.contains("exit status"), "{stdout}");
    assert!(stdout.contains("--allow-empty"), "{stdout}");
}
