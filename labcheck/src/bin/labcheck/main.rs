//! `labcheck check FILE --model MODEL ...`: checks a saved history.
//!
//! Exit status: 0 linearizable, 1 not linearizable, 2 unknown (timed out),
//! 3 usage or file error.

mod args;

use std::process::ExitCode;
use std::time::Instant;

use labcheck::formats::{self, Format, ParseError};
use labcheck::models::{Kv, KvNoPartition, KvVersioned, Register};
use labcheck::{CheckResult, History, Model};
use serde::de::DeserializeOwned;

use args::{CheckArgs, Command, ModelName, USAGE};

const LINEARIZABLE: u8 = 0;
const NOT_LINEARIZABLE: u8 = 1;
const UNKNOWN: u8 = 2;
const USAGE_OR_FILE_ERROR: u8 = 3;

fn main() -> ExitCode {
    let argv: Vec<String> = std::env::args().skip(1).collect();
    let code = match args::parse(&argv) {
        Ok(Command::Help) => {
            println!("{USAGE}");
            LINEARIZABLE
        }
        Ok(Command::Version) => {
            println!("labcheck {}", env!("CARGO_PKG_VERSION"));
            LINEARIZABLE
        }
        Ok(Command::Check(args)) => match run(&args) {
            Ok(code) => code,
            Err(message) => {
                eprintln!("labcheck: {message}");
                USAGE_OR_FILE_ERROR
            }
        },
        Err(message) => {
            eprintln!("labcheck: {message}\n\n{USAGE}");
            USAGE_OR_FILE_ERROR
        }
    };
    ExitCode::from(code)
}

/// Loads, checks and reports; `Err` is a file or usage problem.
fn run(args: &CheckArgs) -> Result<u8, String> {
    let name = args.file.display().to_string();
    let text =
        std::fs::read_to_string(&args.file).map_err(|e| format!("cannot read {name}: {e}"))?;
    let format = args.format.unwrap_or_else(|| Format::detect(&text));
    let show = |e: ParseError| e.to_string();
    match (args.model, format) {
        (ModelName::Register, Format::Jepsen) => report(
            &Register,
            &formats::jepsen::parse(&name, &text).map_err(show)?,
            args,
        ),
        (ModelName::Kv, Format::PorcupineKv) => report(
            &Kv,
            &formats::porcupine_kv::parse(&name, &text).map_err(show)?,
            args,
        ),
        (ModelName::KvNoPartition, Format::PorcupineKv) => report(
            &KvNoPartition,
            &formats::porcupine_kv::parse(&name, &text).map_err(show)?,
            args,
        ),
        (ModelName::Kv, Format::Jsonl) => report(&Kv, &jsonl(&name, &text)?, args),
        (ModelName::KvNoPartition, Format::Jsonl) => {
            report(&KvNoPartition, &jsonl(&name, &text)?, args)
        }
        (ModelName::KvVersioned, Format::Jsonl) => {
            report(&KvVersioned, &jsonl(&name, &text)?, args)
        }
        (ModelName::Register, Format::Jsonl) => report(&Register, &jsonl(&name, &text)?, args),
        (model, format) => Err(format!(
            "{name}: the {} format cannot be checked with model {model:?}; \
             jepsen logs go with --model etcd (or register), porcupine-kv files with \
             --model kv or kv-nopartition, and jsonl files with any model",
            format.name()
        )),
    }
}

fn jsonl<I: DeserializeOwned, O: DeserializeOwned>(
    name: &str,
    text: &str,
) -> Result<History<I, O>, String> {
    formats::jsonl::parse(name, text).map_err(|e| e.to_string())
}

fn report<M: Model>(
    model: &M,
    history: &History<M::Input, M::Output>,
    args: &CheckArgs,
) -> Result<u8, String> {
    let started = Instant::now();
    let result = labcheck::check(model, history, args.timeout);
    let elapsed = started.elapsed();
    let parts = model.partition(history.ops()).len();
    let name = args.file.display();
    println!(
        "{name}: {} ({} operation(s), {parts} part(s), {:.1} ms)",
        match &result {
            CheckResult::Linearizable => "linearizable",
            CheckResult::NotLinearizable(_) => "NOT linearizable",
            CheckResult::Unknown => "unknown: the check timed out",
        },
        history.len(),
        elapsed.as_secs_f64() * 1000.0
    );
    if let CheckResult::NotLinearizable(evidence) = &result {
        let ops = history.ops();
        for failure in &evidence.failures {
            println!("  {failure}");
            if let Some(stuck) = failure.stuck {
                let op = &ops[stuck];
                let ret = op.ret.map_or("never".to_string(), |r| r.to_string());
                println!(
                    "  cannot place #{stuck} (client {}, call {}, return {ret}): {}",
                    op.client,
                    op.call,
                    model.describe_operation(&op.input, op.output.as_ref())
                );
                let state = failure
                    .linearized
                    .last()
                    .map_or(&failure.initial_state, |s| &s.state_after);
                println!("  state after the prefix: {state}");
            }
        }
    }
    if let Some(path) = &args.html {
        labcheck::html::write(path, model, history, &result)
            .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
        println!("wrote history picture to {}", path.display());
    }
    Ok(match result {
        CheckResult::Linearizable => LINEARIZABLE,
        CheckResult::NotLinearizable(_) => NOT_LINEARIZABLE,
        CheckResult::Unknown => UNKNOWN,
    })
}
