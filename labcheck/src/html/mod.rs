//! The history picture: one self-contained HTML file (inline CSS, script and
//! data; works offline) showing one row per client with each operation as a
//! bar from call to return, the failing part highlighted, the linearization
//! found so far in order, and on hover each operation's input, output and the
//! model state before and after.
//!
//! The page's script builds the whole DOM from the JSON embedded in
//! `<script id="history-data">`, with stable hooks for tests and tools:
//!
//! | selector | what |
//! |---|---|
//! | `.client-row[data-client]` | one row per client |
//! | `.op-bar[data-op-id]` | one bar per operation (id = index in the history) |
//! | `.op-bar.failing` | the operation that cannot be placed after the longest linearizable prefix |
//! | `.op-bar.in-failing-partition`, `.op-bar.unplaced` | operations of a failing part; those not in its prefix |
//! | `.op-bar.linearized[data-lin-index]` | position in the selected part's linearization |
//! | `#linearization .lin-step[data-op-id]` | the linearization, in order |
//! | `.partition-tab[data-partition]` | one tab per part (when there are several) |
//! | `#verdict`, `body[data-rendered]` | the verdict; set once the script has run |

use std::io;
use std::path::{Path, PathBuf};

use labrt::sync::atomic::{AtomicU64, Ordering};
use labrt::time::Duration;

use serde::Serialize;

use crate::checker::{self, CheckResult};
use crate::history::History;
use crate::model::Model;

const CSS: &str = include_str!("page.css");
const SCRIPT: &str = include_str!("page.js");

/// The environment variable naming the directory for pictures written by
/// [`write_failure_picture`] (default: the system's temporary directory).
pub const VIS_DIR_ENV: &str = "DISTLAB_VIS_DIR";

#[derive(Serialize)]
struct PageData {
    title: String,
    verdict: &'static str,
    summary: String,
    ops: Vec<OpData>,
    partitions: Vec<PartData>,
}

#[derive(Serialize)]
struct OpData {
    id: usize,
    /// A string: JavaScript numbers cannot hold every `u64`.
    client: String,
    call: u64,
    #[serde(rename = "return")]
    ret: Option<u64>,
    label: String,
    input: String,
    output: String,
    partition: usize,
}

#[derive(Serialize)]
struct PartData {
    index: usize,
    name: String,
    failing: bool,
    ops: Vec<usize>,
    initial: String,
    linearization: Vec<StepData>,
    stuck: Option<usize>,
}

#[derive(Serialize)]
struct StepData {
    op: usize,
    before: String,
    after: String,
}

/// How long [`render`] spends looking for a linearization to show when the
/// result is [`CheckResult::Linearizable`].
const WITNESS_TIMEOUT: Duration = Duration::from_secs(10);

/// The picture of `history` checked against `model` with verdict `result`,
/// as a complete HTML document.
///
/// For a linearizable history the picture shows a linearization of each part,
/// found by checking again (for at most 10 s).
pub fn render<M: Model>(
    model: &M,
    history: &History<M::Input, M::Output>,
    result: &CheckResult,
) -> String {
    let ops = history.ops();
    let parts = model.partition(ops);
    let mut part_of = vec![0; ops.len()];
    for (p, part) in parts.iter().enumerate() {
        for &i in part {
            if let Some(slot) = part_of.get_mut(i) {
                *slot = p;
            }
        }
    }
    let initial = model.describe_state(&model.init());
    let mut partitions: Vec<PartData> = parts
        .iter()
        .enumerate()
        .map(|(p, part)| PartData {
            index: p,
            name: model.describe_partition(ops, part),
            failing: false,
            ops: part.clone(),
            initial: initial.clone(),
            linearization: Vec::new(),
            stuck: None,
        })
        .collect();

    let steps = |lin: &[checker::LinearizedOp]| -> Vec<StepData> {
        lin.iter()
            .map(|s| StepData {
                op: s.op,
                before: s.state_before.clone(),
                after: s.state_after.clone(),
            })
            .collect()
    };
    let (verdict, summary) = match result {
        CheckResult::Linearizable => {
            let detailed = checker::run(
                model,
                ops,
                &checker::CheckOptions::new(WITNESS_TIMEOUT),
                true,
            );
            for (p, lin) in &detailed.witness {
                if let Some(part) = partitions.get_mut(*p) {
                    part.linearization = steps(lin);
                }
            }
            (
                "linearizable",
                format!("{}: linearizable.", sizes(ops.len(), parts.len())),
            )
        }
        CheckResult::NotLinearizable(evidence) => {
            for failure in &evidence.failures {
                if let Some(part) = partitions.get_mut(failure.partition) {
                    part.failing = true;
                    part.linearization = steps(&failure.linearized);
                    part.stuck = failure.stuck;
                }
            }
            (
                "not_linearizable",
                format!("{}. {evidence}.", sizes(ops.len(), parts.len())),
            )
        }
        CheckResult::Unknown => (
            "unknown",
            format!(
                "{}. The check gave up (it timed out or its search reached the memory cap), \
                 so the history may or may not be linearizable.",
                sizes(ops.len(), parts.len())
            ),
        ),
    };

    let data = PageData {
        title: format!("labcheck: {}", verdict.replace('_', " ")),
        verdict,
        summary,
        ops: ops
            .iter()
            .enumerate()
            .map(|(id, op)| OpData {
                id,
                client: op.client.to_string(),
                call: op.call,
                ret: op.ret,
                label: model.describe_operation(&op.input, op.output.as_ref()),
                input: model.describe_input(&op.input),
                output: model.describe_output(op.output.as_ref()),
                partition: part_of[id],
            })
            .collect(),
        partitions,
    };
    page(&data)
}

/// "N operations in K parts", in good English.
fn sizes(ops: usize, parts: usize) -> String {
    let plural = |n: usize, word: &str| format!("{n} {word}{}", if n == 1 { "" } else { "s" });
    format!("{} in {}", plural(ops, "operation"), plural(parts, "part"))
}

fn page(data: &PageData) -> String {
    // Serializing plain structs of strings and numbers cannot fail.
    let json = serde_json::to_string(data).unwrap_or_else(|_| "{}".to_string());
    // Inside <script>, "</script>" or "<!--" in a string would end the block;
    // JSON allows escaping these characters anywhere they occur (in strings).
    let json = json
        .replace('<', "\\u003c")
        .replace('>', "\\u003e")
        .replace('&', "\\u0026");
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>{title}</title>\n<style>\n{CSS}</style>\n</head>\n<body>\n<div id=\"app\"></div>\n<script type=\"application/json\" id=\"history-data\">{json}</script>\n<script>\n{SCRIPT}</script>\n</body>\n</html>\n",
        title = escape_text(&data.title),
    )
}

fn escape_text(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// Writes the picture (see [`render`]) to `path`.
pub fn write<M: Model>(
    path: impl AsRef<Path>,
    model: &M,
    history: &History<M::Input, M::Output>,
    result: &CheckResult,
) -> io::Result<()> {
    std::fs::write(path, render(model, history, result))
}

/// For tests: writes the picture to a fresh file in `$DISTLAB_VIS_DIR` (created
/// if needed) or else the system's temporary directory, prints `wrote history
/// picture to PATH`, and returns the path.
pub fn write_failure_picture<M: Model>(
    model: &M,
    history: &History<M::Input, M::Output>,
    result: &CheckResult,
) -> io::Result<PathBuf> {
    let path = write_picture_in(
        &picture_dir(std::env::var_os(VIS_DIR_ENV)),
        model,
        history,
        result,
    )?;
    println!("wrote history picture to {}", path.display());
    Ok(path)
}

/// Where pictures go, given the value of [`VIS_DIR_ENV`].
fn picture_dir(env_value: Option<std::ffi::OsString>) -> PathBuf {
    match env_value {
        Some(dir) if !dir.is_empty() => PathBuf::from(dir),
        _ => std::env::temp_dir(),
    }
}

/// Writes the picture to a fresh file in `dir` (created if needed).
fn write_picture_in<M: Model>(
    dir: &Path,
    model: &M,
    history: &History<M::Input, M::Output>,
    result: &CheckResult,
) -> io::Result<PathBuf> {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    std::fs::create_dir_all(dir)?;
    // Stays on std: only makes the file name unique across processes (labrt has no wall clock).
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    let name = format!(
        "labcheck-{}-{}-{nanos:09}.html",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    );
    let path = dir.join(name);
    write(&path, model, history, result)?;
    Ok(path)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::history::Operation;
    use crate::models::{Kv, KvInput, KvOutput};

    fn broken() -> History<KvInput, KvOutput> {
        vec![
            Operation::completed(0, KvInput::put("x", "1"), KvOutput::Ok, 0, 10),
            Operation::completed(
                1,
                KvInput::get("x"),
                KvOutput::value("</script><b>"),
                20,
                30,
            ),
            Operation::completed(2, KvInput::get("y"), KvOutput::value(""), 5, 25),
        ]
        .into()
    }

    fn embedded_json(html: &str) -> serde_json::Value {
        let start =
            html.find("id=\"history-data\">").expect("data block") + "id=\"history-data\">".len();
        let end = start + html[start..].find("</script>").expect("end of data block");
        serde_json::from_str(&html[start..end]).expect("embedded data is JSON")
    }

    #[test]
    fn page_is_self_contained() {
        let history = broken();
        let result = crate::check(&Kv, &history, Duration::from_secs(5));
        let html = render(&Kv, &history, &result);
        assert!(html.starts_with("<!DOCTYPE html>"));
        assert!(!html.contains("src=\""), "no external scripts or images");
        assert!(!html.contains("href=\""), "no external stylesheets");
        assert!(html.contains("<style>") && html.contains("document.createElement"));
    }

    #[test]
    fn user_strings_cannot_close_the_data_block() {
        let history = broken();
        let result = crate::check(&Kv, &history, Duration::from_secs(5));
        let html = render(&Kv, &history, &result);
        assert_eq!(
            html.matches("</script>").count(),
            2,
            "only the two real script blocks end"
        );
        let data = embedded_json(&html);
        assert_eq!(data["ops"][1]["output"], "\"</script><b>\"");
    }

    #[test]
    fn data_marks_the_failing_partition_its_prefix_and_stuck_op() {
        let history = broken();
        let result = crate::check(&Kv, &history, Duration::from_secs(5));
        let data = embedded_json(&render(&Kv, &history, &result));
        assert_eq!(data["verdict"], "not_linearizable");
        let parts = data["partitions"].as_array().expect("partitions");
        assert_eq!(parts.len(), 2);
        assert_eq!(parts[0]["name"], "key \"x\"");
        assert_eq!(parts[0]["failing"], true);
        assert_eq!(parts[1]["failing"], false);
        assert_eq!(parts[0]["stuck"], 1);
        assert_eq!(parts[0]["linearization"][0]["op"], 0);
        assert_eq!(parts[0]["linearization"][0]["after"], "\"1\"");
        assert_eq!(data["ops"][0]["input"], "put(\"x\", \"1\")");
        assert_eq!(data["ops"][2]["partition"], 1);
    }

    #[test]
    fn linearizable_picture_shows_a_full_linearization() {
        let history: History<KvInput, KvOutput> = vec![
            Operation::completed(0, KvInput::put("x", "1"), KvOutput::Ok, 0, 10),
            Operation::completed(1, KvInput::get("x"), KvOutput::value("1"), 5, 30),
        ]
        .into();
        let result = crate::check(&Kv, &history, Duration::from_secs(5));
        assert_eq!(result, CheckResult::Linearizable);
        let data = embedded_json(&render(&Kv, &history, &result));
        assert_eq!(data["verdict"], "linearizable");
        let lin = data["partitions"][0]["linearization"]
            .as_array()
            .expect("steps");
        assert_eq!(lin.len(), 2);
        assert_eq!(lin[1]["op"], 1);
    }

    #[test]
    fn failure_pictures_go_to_the_env_directory_or_the_temp_dir() {
        assert_eq!(
            picture_dir(Some("/tmp/pics".into())),
            PathBuf::from("/tmp/pics")
        );
        assert_eq!(picture_dir(Some("".into())), std::env::temp_dir());
        assert_eq!(picture_dir(None), std::env::temp_dir());
    }

    #[test]
    fn each_failure_picture_gets_a_fresh_file_in_its_directory() {
        let temp = tempfile::tempdir().expect("temp dir is writable");
        // A directory that does not exist yet: write_picture_in creates it.
        let dir = temp.path().join("pictures");
        let history = broken();
        let result = crate::check(&Kv, &history, Duration::from_secs(5));
        let first = write_picture_in(&dir, &Kv, &history, &result).expect("picture written");
        let second = write_picture_in(&dir, &Kv, &history, &result).expect("picture written");
        assert_ne!(first, second);
        assert!(
            first.starts_with(&dir),
            "{} is not in {}",
            first.display(),
            dir.display()
        );
        let html = std::fs::read_to_string(&first).expect("picture readable");
        assert!(html.contains("history-data"));
    }
}
