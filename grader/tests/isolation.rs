//! The sandbox holds. The fixture `lab6-escape` has one test per way out of
//! a run, each passing only if it gets out: under `grader run` every one
//! must fail, and the same tests run directly by cargo (no grader, same
//! canaries) must pass, so each can tell. Then a batch of submissions, one
//! per attack class a student can write, graded beside an honest one: the
//! honest one scores exactly as alone, each attack gets its own verdict,
//! and nothing of the batch is left running.
//!
//! Needs bubblewrap (`bwrap`); CI installs it.

mod common;

use std::os::unix::process::CommandExt as _;
use std::path::PathBuf;
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use serde_json::Value;

/// Kept in step with `grader/fixtures/lab6-escape/src/lib.rs`.
const CANARY_VAR: &str = "DISTLAB_ESCAPE_CANARY";
const CANARY_FILE: &str = "/tmp/distlab-escape-canary";
const CANARY_TEXT: &str = "distlab escape canary: you should not see this";
const OUTLIVER: &str = "297.125";
/// The descriptor the canary file is left open on, without close-on-exec,
/// in the grader (and in the direct runs).
const LEAKED_FD: i32 = 9;

const ESCAPES: &[&str] = &[
    "reads_the_graders_environment",
    "reads_another_labs_reference",
    "reads_the_machines_tmp",
    "reads_an_inherited_descriptor",
    "sees_the_machines_network",
    "sees_processes_outside_its_run",
    "leaves_a_process_running",
    "spawns_threads_without_limit",
];

/// `cmd` with the canary variable set and the canary file open on
/// [`LEAKED_FD`], inheritable.
fn with_canaries(mut cmd: Command) -> Output {
    std::fs::write(CANARY_FILE, CANARY_TEXT)
        .unwrap_or_else(|e| panic!("cannot write {CANARY_FILE}: {e}"));
    let file = std::fs::File::open(CANARY_FILE)
        .unwrap_or_else(|e| panic!("cannot open {CANARY_FILE}: {e}"));
    let fd = std::os::fd::AsRawFd::as_raw_fd(&file);
    cmd.env(CANARY_VAR, "the grader's secret");
    // SAFETY: dup2 is async-signal-safe; the new descriptor has no
    // close-on-exec flag, as a descriptor leaked to the grader would not.
    unsafe {
        cmd.pre_exec(move || {
            if libc::dup2(fd, LEAKED_FD) == -1 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("cannot start {cmd:?}: {e}"));
    drop(file);
    out
}

/// Pids of the `sleep` the outliving test starts.
fn outlivers() -> Vec<i32> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<i32>() else {
            continue;
        };
        let cmdline = std::fs::read(entry.path().join("cmdline")).unwrap_or_default();
        let words: Vec<&[u8]> = cmdline.split(|b| *b == 0).collect();
        if words.len() >= 2 && words[0].ends_with(b"sleep") && words[1] == OUTLIVER.as_bytes() {
            out.push(pid);
        }
    }
    out
}

fn kill_all(pids: &[i32]) {
    for &pid in pids {
        // SAFETY: kill(2) on a pid we just found running our canary sleep.
        unsafe {
            libc::kill(pid, libc::SIGKILL);
        }
    }
}

/// Waits (generously: a busy machine) for no outliver to be left.
fn no_outliver_within(limit: Duration) -> Vec<i32> {
    let start = Instant::now();
    loop {
        let left = outlivers();
        if left.is_empty() || start.elapsed() >= limit {
            return left;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn needs_the_sandbox(stdout: &str, stderr: &str) {
    assert!(
        !stderr.contains("without the sandbox") && !stdout.contains("without the sandbox"),
        "this test needs bubblewrap (Debian/Ubuntu: `apt install bubblewrap`); the grader said:\n{stderr}"
    );
}

#[test]
fn a_sandboxed_run_lets_no_test_out_and_each_test_can_tell() {
    kill_all(&outlivers());
    let dir = common::scratch("isolation-run");
    let json = dir.join("runs.json");
    let mut grader = common::grader();
    grader
        .arg("--workspace")
        .arg(common::fixtures())
        .args(["run", "lab6", "-n", "1", "-j", "2", "--grace", "2", "--out"])
        .arg(dir.join("logs"))
        .arg("--json")
        .arg(&json);
    let out = with_canaries(grader);
    let (stdout, stderr) = common::texts(&out);
    needs_the_sandbox(&stdout, &stderr);
    let v = common::read_json(&json);
    let runs = v["submissions"][0]["runs"]
        .as_array()
        .unwrap_or_else(|| panic!("no runs in the export:\n{stdout}\n{stderr}"));
    for name in ESCAPES {
        let run = runs
            .iter()
            .find(|r| r["test"] == *name)
            .unwrap_or_else(|| panic!("no run of {name}:\n{stdout}"));
        if *name == "leaves_a_process_running" {
            // It cannot see whether its sleep outlives it; we look below.
            assert_eq!(run["verdict"], "PASS", "{name}: {run}");
            continue;
        }
        assert_eq!(
            run["verdict"], "FAIL",
            "{name} got out under the sandbox: {run}"
        );
        let message = run["message"].as_str().unwrap_or("");
        assert!(
            message.contains("stopped:"),
            "{name} must fail by being stopped, not otherwise: {message}"
        );
    }
    let bomb = runs
        .iter()
        .find(|r| r["test"] == "spawns_threads_without_limit")
        .and_then(|r| r["message"].as_str())
        .unwrap_or("");
    assert!(
        bomb.contains("could not start"),
        "the thread limit stops the bomb: {bomb}"
    );
    let left = no_outliver_within(Duration::from_secs(10));
    kill_all(&left);
    assert!(
        left.is_empty(),
        "a process a run started outlived it under the sandbox: {left:?}"
    );

    // The same tests, run directly by cargo with the same canaries: each
    // gets out, so each of the failures above is the sandbox's doing.
    for name in ESCAPES {
        let mut cargo = Command::new(env!("CARGO"));
        cargo
            .args([
                "test",
                "-q",
                "-p",
                "lab6-escape",
                "--test",
                "escapes",
                "--",
                "--exact",
                name,
            ])
            .current_dir(common::fixtures())
            .env("CARGO_TARGET_DIR", common::fixture_target());
        let out = with_canaries(cargo);
        let (o, e) = common::texts(&out);
        assert!(
            out.status.success(),
            "{name} run directly must get out (else its failure under the sandbox proves nothing):\n{o}\n{e}"
        );
    }
    let left = outlivers();
    kill_all(&left);
    assert!(
        !left.is_empty(),
        "run directly, the outliving test's sleep must still be running (else the check above proves nothing)"
    );
    let _ = std::fs::remove_file(CANARY_FILE);
}

const HONEST_NAME: &str = "honest";

/// Submissions a student can write, one per class, with what each must get:
/// (name, `answer.rs`, the verdict of its runs, or `None` when the policy
/// refuses it before building, and a word its message must hold).
const ATTACKS: &[(&str, &str, Option<&str>, &str)] = &[
    (
        "path-in-cfg-attr",
        "#[cfg_attr(all(), path = \"reference/answer.rs\")]\nmod inner;\npub use inner::{answer, double};\n",
        None,
        "no files or descriptors",
    ),
    (
        "starts-a-process",
        "pub fn answer() -> u64 { let _ = std::process::Command::new(\"sleep\").arg(\"297.125\").spawn(); 42 }\npub fn double(x: u64) -> u64 { 2 * x }\n",
        None,
        "no leaving the process",
    ),
    (
        "shadows-the-tests",
        "pub fn answer() -> u64 { 41 }\npub fn double(x: u64) -> u64 { 2 * x }\n#[cfg(test)]\nmod t {\n    #[test]\n    fn answer_is_42() {}\n    #[test]\n    fn double_doubles() {}\n}\n",
        Some("FAIL"),
        "",
    ),
    (
        "hangs",
        "pub fn answer() -> u64 { loop { std::hint::spin_loop() } }\npub fn double(x: u64) -> u64 { let _ = answer(); x }\n",
        Some("TIMEOUT"),
        "wall-clock limit",
    ),
    (
        "overflows-its-stack",
        "pub fn answer() -> u64 { deeper(0) }\nfn deeper(n: u64) -> u64 { let a = [n; 64]; deeper(a[(n % 64) as usize] + 1) + a[0] }\npub fn double(x: u64) -> u64 { answer() + x }\n",
        Some("CRASH"),
        "signal",
    ),
];

/// The honest submission's runs, reduced to what must not depend on the
/// batch: test, verdict and message, sorted; and its score.
fn honest_view(v: &Value) -> (Vec<(String, String, String)>, Value) {
    let s = v["submissions"]
        .as_array()
        .and_then(|a| a.iter().find(|s| s["name"] == HONEST_NAME))
        .unwrap_or_else(|| panic!("no {HONEST_NAME} submission in {v}"));
    let mut runs: Vec<(String, String, String)> = s["runs"]
        .as_array()
        .map(|runs| {
            runs.iter()
                .map(|r| {
                    (
                        r["test"].as_str().unwrap_or("").to_owned(),
                        r["verdict"].as_str().unwrap_or("").to_owned(),
                        r["message"].as_str().unwrap_or("").to_owned(),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    runs.sort();
    (runs, s["labs"].clone())
}

#[test]
fn one_submission_never_harms_the_others_in_a_batch() {
    let scratch = common::scratch("isolation-batch");
    let subs = scratch.join("subs");
    let reference =
        std::fs::read_to_string(common::fixtures().join("lab8-answer/src/reference/answer.rs"))
            .unwrap_or_else(|e| panic!("read the fixture's reference: {e}"));
    let file = |name: &str| subs.join(name).join("lab8-answer/src/answer.rs");
    common::write(&file(HONEST_NAME), &reference);
    for (name, text, _, _) in ATTACKS {
        common::write(&file(name), text);
    }
    // The honest submission between the attacks: runs after some, before others.
    let mut batch: Vec<PathBuf> = ATTACKS.iter().map(|(n, ..)| subs.join(n)).collect();
    batch.insert(2, subs.join(HONEST_NAME));
    let args = ["--lab", "lab8", "-n", "2", "--grace", "1"];
    let run = common::grade(&common::fixtures(), &args, &batch, &scratch.join("batch"));
    needs_the_sandbox(&run.stdout, &run.stderr);
    let alone = common::grade(
        &common::fixtures(),
        &args,
        &[subs.join(HONEST_NAME)],
        &scratch.join("alone"),
    );
    let (batch_runs, batch_labs) = honest_view(&run.json);
    let (alone_runs, alone_labs) = honest_view(&alone.json);
    assert_eq!(
        batch_runs.len(),
        4,
        "two tests, twice each:\n{}",
        run.stdout
    );
    assert!(
        batch_runs.iter().all(|(_, v, _)| v == "PASS"),
        "the honest submission must pass everything beside the attacks: {batch_runs:?}\n{}",
        run.stdout
    );
    assert_eq!(batch_runs, alone_runs, "graded in the batch as alone");
    assert_eq!(batch_labs, alone_labs, "scored in the batch as alone");
    let all = run.json["submissions"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert_eq!(
        all.len(),
        ATTACKS.len() + 1,
        "every submission is in the export"
    );
    assert!(
        all.iter().all(|s| s["sandboxed"] == true),
        "the export says every submission was sandboxed"
    );
    for (name, _, verdict, word) in ATTACKS {
        let s = all
            .iter()
            .find(|s| s["name"] == *name)
            .unwrap_or_else(|| panic!("no {name} in the export:\n{}", run.stdout));
        assert_eq!(s["score"], 0.0, "{name} scores nothing:\n{}", run.stdout);
        let runs = s["runs"].as_array().cloned().unwrap_or_default();
        match verdict {
            None => {
                assert!(runs.is_empty(), "{name} is refused before anything runs");
                let problem = s["labs"][0]["problem"].as_str().unwrap_or("");
                assert!(
                    problem.contains("code policy") && problem.contains(word),
                    "{name}: {problem}"
                );
            }
            Some(verdict) => {
                assert_eq!(runs.len(), 4, "{name}: every run has its own verdict");
                for r in &runs {
                    let message = r["message"].as_str().unwrap_or("");
                    if r["test"] == "answer_is_42" || *name != "shadows-the-tests" {
                        assert_eq!(r["verdict"], *verdict, "{name}: {r}");
                        assert!(message.contains(word), "{name}: {message}");
                    }
                }
            }
        }
    }
    let grading_left: Vec<String> = std::fs::read_dir("/proc")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let cmdline = std::fs::read(e.path().join("cmdline")).ok()?;
            let text = String::from_utf8_lossy(&cmdline).replace('\0', " ");
            (text.contains("grader-grade-") || text.contains(OUTLIVER)).then_some(text)
        })
        .collect();
    assert!(
        grading_left.is_empty(),
        "processes of the batch outlived it: {grading_left:?}"
    );
}

#[test]
fn grade_refuses_to_grade_without_a_sandbox_unless_told() {
    let scratch = common::scratch("isolation-no-sandbox");
    let sub = scratch.join("subs").join(HONEST_NAME);
    let reference =
        std::fs::read_to_string(common::fixtures().join("lab8-answer/src/reference/answer.rs"))
            .unwrap_or_else(|e| panic!("read the fixture's reference: {e}"));
    common::write(&sub.join("lab8-answer/src/answer.rs"), &reference);
    let missing = scratch.join("no-such-bwrap");
    let out = common::grader()
        .env("DISTLAB_BWRAP", &missing)
        .arg("--workspace")
        .arg(common::fixtures())
        .args(["grade", "--lab", "lab8"])
        .arg(&sub)
        .output()
        .unwrap_or_else(|e| panic!("cannot start the grader: {e}"));
    let (stdout, stderr) = common::texts(&out);
    assert_eq!(
        out.status.code(),
        Some(2),
        "no sandbox, no grading:\n{stdout}\n{stderr}"
    );
    assert!(
        stderr.contains("cannot grade without the sandbox")
            && stderr.contains("--unsandboxed")
            && stderr.contains("no-such-bwrap"),
        "the refusal says why and what to do: {stderr}"
    );
    // Told, it grades, and every export says how.
    let json = scratch.join("grades.json");
    let out = common::grader()
        .env("DISTLAB_BWRAP", &missing)
        .arg("--workspace")
        .arg(common::fixtures())
        .args(["grade", "--lab", "lab8", "--unsandboxed", "--out"])
        .arg(scratch.join("logs"))
        .arg("--json")
        .arg(&json)
        .arg(&sub)
        .output()
        .unwrap_or_else(|e| panic!("cannot start the grader: {e}"));
    let (stdout, stderr) = common::texts(&out);
    assert_eq!(out.status.code(), Some(0), "{stdout}\n{stderr}");
    assert!(
        stdout.contains("WITHOUT the sandbox"),
        "it says what it gives up: {stdout}"
    );
    let v = common::read_json(&json);
    assert_eq!(v["submissions"][0]["sandboxed"], false, "{v}");
    assert_eq!(v["submissions"][0]["score"], 8.0, "{v}");
}
