//! `labcheck check FILE --model MODEL ...`: checks a saved history.
//!
//! Exit status: 0 linearizable, 1 not linearizable, 2 no verdict: the check
//! timed out or its search reached the memory cap (reported as unknown on
//! stdout, with which limit and how to raise it), or the command line or the
//! file is wrong (one line on stderr names the file, and the line when there
//! is one, and says what to do). A history with no operations is such an
//! error unless `--allow-empty` is given: it proves nothing.

mod args;

use std::io::Write;
use std::path::Path;
use std::process::ExitCode;
// Stays on std: the command reports the real time its check took (it never runs in a simulation).
use std::time::Instant;

use labcheck::formats::{self, Format, ParseError};
use labcheck::models::{Kv, KvNoPartition, KvVersioned, Register};
use labcheck::{CheckOptions, CheckResult, History, Model, PartStats, PartStatus, UnknownReason};
use serde::de::DeserializeOwned;

use args::{CheckArgs, Command, ModelName, SYNOPSIS, USAGE};

const LINEARIZABLE: u8 = 0;
const NOT_LINEARIZABLE: u8 = 1;
/// Timed out or reached the memory cap, or the command line or the input
/// was wrong.
const NO_VERDICT: u8 = 2;

/// A line on stdout. A closed stdout (`labcheck ... | head -1`) must not
/// turn into a panic: the exit status still tells the verdict.
macro_rules! say {
    ($($arg:tt)*) => {{
        let _ = writeln!(std::io::stdout(), $($arg)*);
    }};
}

/// A line on stderr, with the same care.
macro_rules! complain {
    ($($arg:tt)*) => {{
        let _ = writeln!(std::io::stderr(), $($arg)*);
    }};
}

fn main() -> ExitCode {
    let code = match command() {
        Ok(Command::Help) => {
            say!("{USAGE}");
            LINEARIZABLE
        }
        Ok(Command::Version) => {
            say!("labcheck {}", env!("CARGO_PKG_VERSION"));
            LINEARIZABLE
        }
        Ok(Command::Check(args)) => match run(&args) {
            Ok(code) => code,
            Err(message) => {
                complain!("labcheck: error: {message}");
                NO_VERDICT
            }
        },
        Err(message) => {
            complain!("labcheck: error: {message}\n{SYNOPSIS} (labcheck --help explains)");
            NO_VERDICT
        }
    };
    ExitCode::from(code)
}

/// The parsed command line; `Err` is a message for the user.
fn command() -> Result<Command, String> {
    let argv = std::env::args_os()
        .skip(1)
        .map(|arg| {
            arg.into_string().map_err(|arg| {
                format!("argument {arg:?} is not valid UTF-8; labcheck needs UTF-8 arguments")
            })
        })
        .collect::<Result<Vec<String>, String>>()?;
    args::parse(&argv)
}

/// What [`report`] needs to know about the file besides its history.
struct Input<'a> {
    args: &'a CheckArgs,
    /// The file's name as given.
    name: &'a str,
    /// The file's contents.
    text: &'a str,
}

/// Loads, checks and reports; `Err` is a one-line message for the user.
fn run(args: &CheckArgs) -> Result<u8, String> {
    let name = args.file.display().to_string();
    let text = read(&args.file, &name)?;
    if let Some(html) = &args.html {
        can_write_picture(html, &args.file)?;
    }
    let format = args.format.unwrap_or_else(|| Format::detect(&text));
    let input = Input {
        args,
        name: &name,
        text: &text,
    };
    let show = |e: ParseError| e.to_string();
    match (args.model, format) {
        (ModelName::Register, Format::Jepsen) => report(
            &Register,
            &formats::jepsen::parse(&name, &text).map_err(show)?,
            &input,
        ),
        (ModelName::Kv, Format::PorcupineKv) => report(
            &Kv,
            &formats::porcupine_kv::parse(&name, &text).map_err(show)?,
            &input,
        ),
        (ModelName::KvNoPartition, Format::PorcupineKv) => report(
            &KvNoPartition,
            &formats::porcupine_kv::parse(&name, &text).map_err(show)?,
            &input,
        ),
        (ModelName::Kv, Format::Jsonl) => report(&Kv, &jsonl(&name, &text)?, &input),
        (ModelName::KvNoPartition, Format::Jsonl) => {
            report(&KvNoPartition, &jsonl(&name, &text)?, &input)
        }
        (ModelName::KvVersioned, Format::Jsonl) => {
            report(&KvVersioned, &jsonl(&name, &text)?, &input)
        }
        (ModelName::Register, Format::Jsonl) => report(&Register, &jsonl(&name, &text)?, &input),
        (model, format) => Err(format!(
            "{name} is in the {} format{}, which cannot be checked with --model {}; \
             jepsen logs go with --model etcd (or register), porcupine-kv files with \
             --model kv or kv-nopartition, and jsonl files with any model",
            format.name(),
            if args.format.is_none() {
                " (detected from its first line; --format overrides)"
            } else {
                ""
            },
            model.name()
        )),
    }
}

/// The file as text, with messages that name it.
fn read(path: &Path, name: &str) -> Result<String, String> {
    let bytes = std::fs::read(path).map_err(|e| format!("cannot read {name}: {e}"))?;
    String::from_utf8(bytes).map_err(|e| {
        let at = e.utf8_error().valid_up_to();
        let line = 1 + e.as_bytes()[..at].iter().filter(|&&b| b == b'\n').count();
        format!(
            "{name}:{line}: not UTF-8 text (bad byte at offset {at}); \
             history files are text: is this the right file?"
        )
    })
}

/// Refuses, before any checking, a picture path that cannot work: in a
/// missing directory, a directory itself, or the history file.
fn can_write_picture(html: &Path, history: &Path) -> Result<(), String> {
    let shown = html.display();
    if html.is_dir() {
        return Err(format!(
            "cannot write the picture to {shown}: it is a directory; give a file name for --html"
        ));
    }
    if let Some(dir) = html.parent().filter(|d| !d.as_os_str().is_empty())
        && !dir.is_dir()
    {
        return Err(format!(
            "cannot write the picture to {shown}: there is no directory {}",
            dir.display()
        ));
    }
    if let (Ok(a), Ok(b)) = (html.canonicalize(), history.canonicalize())
        && a == b
    {
        return Err(format!(
            "--html {shown} would overwrite the history being checked; choose another file"
        ));
    }
    Ok(())
}

fn jsonl<I: DeserializeOwned, O: DeserializeOwned>(
    name: &str,
    text: &str,
) -> Result<History<I, O>, String> {
    formats::jsonl::parse(name, text).map_err(|e| e.to_string())
}

/// Why a history with no operations is refused.
fn empty_history(input: &Input) -> String {
    let name = input.name;
    if input.text.trim().is_empty() {
        format!(
            "{name} holds no operations; an empty history proves nothing (a test that \
             recorded nothing, or a truncated file?). Pass --allow-empty to accept it."
        )
    } else {
        format!(
            "{name} holds no operations once its failed calls are dropped (every call in it \
             failed); an empty history proves nothing. Pass --allow-empty to accept it."
        )
    }
}

fn report<M: Model>(
    model: &M,
    history: &History<M::Input, M::Output>,
    input: &Input,
) -> Result<u8, String> {
    let args = input.args;
    let name = input.name;
    if history.is_empty() && !args.allow_empty {
        return Err(empty_history(input));
    }
    let options = CheckOptions::new(args.timeout).with_max_memory_bytes(args.max_memory_bytes);
    let started = Instant::now();
    let report = labcheck::check_with_options(model, history, &options);
    let elapsed = started.elapsed();
    let result = &report.result;
    if history.is_empty() && matches!(result, CheckResult::Linearizable) {
        say!(
            "{name}: linearizable (0 operations: the history is empty, \
             accepted because of --allow-empty)"
        );
    } else {
        let parts = model.partition(history.ops()).len();
        say!(
            "{name}: {} ({} operation(s), {parts} part(s), {:.1} ms)",
            match (result, &report.unknown_reason) {
                (CheckResult::Linearizable, _) => "linearizable",
                (CheckResult::NotLinearizable(_), _) => "NOT linearizable",
                (CheckResult::Unknown, Some(UnknownReason::MemoryCap { .. })) => {
                    "unknown: the search reached the memory cap"
                }
                (CheckResult::Unknown, _) => "unknown: the check timed out",
            },
            history.len(),
            elapsed.as_secs_f64() * 1000.0
        );
    }
    if let Some(reason) = &report.unknown_reason {
        say!("  {reason}");
    }
    if let CheckResult::NotLinearizable(evidence) = result {
        let ops = history.ops();
        for failure in &evidence.failures {
            say!("  {failure}");
            if let Some((stuck, op)) = failure.stuck.and_then(|i| ops.get(i).map(|op| (i, op))) {
                let ret = op.ret.map_or("never".to_string(), |r| r.to_string());
                say!(
                    "  cannot place #{stuck} (client {}, call {}, return {ret}): {}",
                    op.client,
                    op.call,
                    model.describe_operation(&op.input, op.output.as_ref())
                );
                let state = failure
                    .linearized
                    .last()
                    .map_or(&failure.initial_state, |s| &s.state_after);
                say!("  state after the prefix: {state}");
            }
        }
    }
    if args.stats {
        print_stats(&report.parts, report.peak_memory_bytes);
    }
    if let Some(path) = &args.html {
        labcheck::html::write(path, model, history, result)
            .map_err(|e| format!("cannot write the picture to {}: {e}", path.display()))?;
        say!("wrote history picture to {}", path.display());
    }
    Ok(match report.result {
        CheckResult::Linearizable => LINEARIZABLE,
        CheckResult::NotLinearizable(_) => NOT_LINEARIZABLE,
        CheckResult::Unknown => NO_VERDICT,
    })
}

/// How many parts `--stats` lists.
const STATS_PARTS: usize = 10;

/// The `--stats` lines: the most memory the search held at once, then the
/// slowest parts first.
fn print_stats(stats: &[PartStats], peak_memory_bytes: u64) {
    let mut slowest: Vec<&PartStats> = stats.iter().collect();
    slowest.sort_by_key(|p| std::cmp::Reverse(p.elapsed));
    let shown = slowest.len().min(STATS_PARTS);
    say!(
        "  memory: at most {:.1} MiB held at once by the search, all parts together (estimated)",
        mib(peak_memory_bytes)
    );
    say!(
        "  stats: {shown} of {} part(s), slowest first (time includes turns given to other parts)",
        stats.len()
    );
    for part in &slowest[..shown] {
        let name = if part.name.is_empty() {
            format!("part {}", part.partition)
        } else {
            part.name.clone()
        };
        let status = match part.status {
            PartStatus::Linearizable => "linearizable",
            PartStatus::NotLinearizable => "NOT linearizable",
            PartStatus::TimedOut => "timed out",
            PartStatus::MemoryCap => "stopped at the memory cap",
            PartStatus::Unfinished => "unfinished",
        };
        say!(
            "  {name}: {} ops, {status}, {:.1} ms, {} nodes, {} memo hits, {} states, {:.1} MiB",
            part.ops,
            part.elapsed.as_secs_f64() * 1000.0,
            part.nodes,
            part.memo_hits,
            part.states,
            mib(part.memory_bytes)
        );
    }
}

/// Bytes in MiB.
fn mib(bytes: u64) -> f64 {
    bytes as f64 / f64::from(1 << 20)
}
