//! The history picture, rendered by headless Chromium: the rows, bars and
//! failing operation must be in the DOM the page's script built.
//!
//! Without Chromium the test says it is skipped and passes, except under CI
//! (`CI` set), where a missing browser is a failure.

use std::io::Read;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
// Stays on std: the clock times a real child process (chromium), not code under test.
use std::time::Instant;

use labcheck::models::{Kv, KvInput, KvOutput};
use labcheck::{CheckResult, History, Operation, check};
use labrt::time::Duration;

const BROWSER_TIMEOUT: Duration = Duration::from_secs(60);

/// `/usr/bin/chromium`, or `chromium` found on `PATH`.
fn find_chromium() -> Option<PathBuf> {
    let standard = PathBuf::from("/usr/bin/chromium");
    if standard.is_file() {
        return Some(standard);
    }
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join("chromium"))
        .find(|p| p.is_file())
}

fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "false" && v != "0")
}

/// A fresh directory under the system's temporary directory, removed when
/// the returned value drops (also when the test panics).
fn fresh_dir(tag: &str) -> tempfile::TempDir {
    tempfile::Builder::new()
        .prefix(&format!("labcheck-{tag}-"))
        .tempdir()
        .expect("temp dir is writable")
}

/// Runs Chromium's `--dump-dom` on a file, killing it after the timeout.
fn dump_dom(chromium: &Path, page: &Path) -> String {
    let profile = fresh_dir("chromium-profile");
    let mut child = Command::new(chromium)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .arg("--dump-dom")
        .arg(format!("file://{}", page.display()))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        // Its own process group, so its helper processes can be ended with it.
        .process_group(0)
        .spawn()
        .expect("chromium starts");
    let mut stdout = child.stdout.take().expect("stdout is piped");
    // Read while waiting, so a large DOM cannot fill the pipe and stall it.
    // Stays on std: this thread blocks on a real pipe, which no scheduler could see.
    let reader = std::thread::spawn(move || {
        let mut out = String::new();
        let _ = stdout.read_to_string(&mut out);
        out
    });
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("can wait for chromium") {
            break Some(status);
        }
        if started.elapsed() > BROWSER_TIMEOUT {
            // End the whole group we started (by its id), then the child.
            let _ = Command::new("kill")
                .args(["-KILL", "--", &format!("-{}", child.id())])
                .status();
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        // Stays on std: polls a real child process, which only real time advances.
        std::thread::sleep(Duration::from_millis(50));
    };
    let dom = reader.join().unwrap_or_default();
    drop(profile);
    assert!(
        status.is_some(),
        "chromium did not finish within {BROWSER_TIMEOUT:?} and was killed"
    );
    dom
}

/// The start tags in `html` as (tag name, attribute text).
fn start_tags(html: &str) -> Vec<(String, String)> {
    html.split('<')
        .skip(1)
        .filter_map(|chunk| {
            let tag = &chunk[..chunk.find('>')?];
            if tag.starts_with('/') || tag.starts_with('!') {
                return None;
            }
            let (name, attrs) = tag.split_once(' ').unwrap_or((tag, ""));
            Some((name.to_string(), attrs.to_string()))
        })
        .collect()
}

fn attr<'a>(attrs: &'a str, name: &str) -> Option<&'a str> {
    let start = attrs.find(&format!("{name}=\""))? + name.len() + 2;
    let len = attrs[start..].find('"')?;
    Some(&attrs[start..start + len])
}

fn has_class(attrs: &str, class: &str) -> bool {
    attr(attrs, "class").is_some_and(|c| c.split_whitespace().any(|c| c == class))
}

/// Four clients; client 1's get starts after the put returned yet misses it.
fn broken_history() -> History<KvInput, KvOutput> {
    vec![
        Operation::completed(0, KvInput::put("x", "1"), KvOutput::Ok, 0, 10),
        Operation::completed(1, KvInput::get("x"), KvOutput::value(""), 20, 30),
        Operation::completed(2, KvInput::append("y", "z"), KvOutput::Ok, 5, 25),
        Operation::unknown(2, KvInput::put("y", "w"), 27),
        // A client id too big for a JavaScript number.
        Operation::completed(u64::MAX, KvInput::get("y"), KvOutput::value("z"), 40, 50),
    ]
    .into()
}

#[test]
fn chromium_shows_rows_bars_and_the_failing_operation() {
    let Some(chromium) = find_chromium() else {
        assert!(
            !in_ci(),
            "chromium is required under CI: install it (apt-get install -y chromium)"
        );
        println!("skipped: chromium not found (/usr/bin/chromium or chromium on PATH)");
        return;
    };
    let history = broken_history();
    let result = check(&Kv, &history, Duration::from_secs(10));
    assert!(
        matches!(result, CheckResult::NotLinearizable(_)),
        "the example history should fail, got {result}"
    );
    let dir = fresh_dir("browser-test");
    let page = dir.path().join("picture.html");
    labcheck::html::write(&page, &Kv, &history, &result).expect("picture written");
    let dom = dump_dom(&chromium, &page);
    drop(dir);

    let tags = start_tags(&dom);
    let body = tags
        .iter()
        .find(|(name, _)| name == "body")
        .expect("a body");
    assert_eq!(
        attr(&body.1, "data-rendered"),
        Some("true"),
        "the page's script did not finish:\n{dom}"
    );

    let rows: Vec<&str> = tags
        .iter()
        .filter(|(_, a)| has_class(a, "client-row"))
        .filter_map(|(_, a)| attr(a, "data-client"))
        .collect();
    assert_eq!(
        rows,
        ["0", "1", "2", "18446744073709551615"],
        "one row per client, in numeric order"
    );

    let bars: Vec<&String> = tags
        .iter()
        .filter(|(_, a)| has_class(a, "op-bar"))
        .map(|(_, a)| a)
        .collect();
    let mut ids: Vec<&str> = bars.iter().filter_map(|a| attr(a, "data-op-id")).collect();
    ids.sort_unstable();
    assert_eq!(ids, ["0", "1", "2", "3", "4"], "one bar per operation");

    let failing: Vec<&str> = bars
        .iter()
        .filter(|a| has_class(a, "failing"))
        .filter_map(|a| attr(a, "data-op-id"))
        .collect();
    assert_eq!(
        failing,
        ["1"],
        "the get that missed the put is the failing operation"
    );

    let never_returned: Vec<&str> = bars
        .iter()
        .filter(|a| has_class(a, "open"))
        .filter_map(|a| attr(a, "data-op-id"))
        .collect();
    assert_eq!(never_returned, ["3"]);

    let steps: Vec<&str> = tags
        .iter()
        .filter(|(_, a)| has_class(a, "lin-step"))
        .filter_map(|(_, a)| attr(a, "data-op-id"))
        .collect();
    assert_eq!(steps, ["0"], "the linearization so far is the put alone");
    assert!(
        dom.contains("cannot place next: client 1"),
        "the side panel names the operation that cannot be placed"
    );
}
