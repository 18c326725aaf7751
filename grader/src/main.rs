//! # grader: distlab's test runner, scorer and handout writer
//!
//! Students use it to stress their code until rare races show up;
//! instructors use it to grade many submissions fairly. Every (test,
//! iteration) runs as its own process, in its own process group and, where
//! bubblewrap is installed, in a sandbox of its own ([`sandbox`]), with
//! `DISTLAB_SEED` and `DISTLAB_REPORT` set, so a hung, crashing or
//! memory-hungry run is killed and reported without touching the others.
//! See the crate's README for every subcommand, and `grader --help`.
//!
//! Modules, in the order a run goes through them: [`workspace`] (the kit
//! and its labs), [`binaries`] (build once, list tests), [`plan`] (grade.toml
//! tests matched to binaries), [`engine`] (workers), [`process`] (one
//! supervised run) with [`capture`] (its capped output), [`verdict`] and
//! [`budget`] (judging it), [`progress`], [`summary`] and [`score`] (the
//! table and the points), [`export`] (JSON, Gradescope, JUnit, CSV), and
//! [`handout`] (the student workspace, also the base of `grader grade`).

#![warn(missing_docs)]

mod autograder;
mod binaries;
mod budget;
mod capture;
mod cli;
mod clock;
mod commands;
mod doclint;
mod engine;
mod error;
mod export;
mod handout;
mod merge;
mod plan;
mod plant;
mod policy;
mod process;
mod progress;
mod reported;
mod sandbox;
mod score;
mod shard;
mod skeleton;
mod summary;
mod verdict;
mod workspace;
mod zip;

use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};

use clap::Parser;

use crate::cli::{Cli, Cmd, ExportOpts, RunOpts};
use crate::commands::{Finish, RunRequest};
use crate::engine::StopRule;
use crate::error::Result;
use crate::workspace::Workspace;

/// Set by Ctrl-C: stop starting runs, kill the running ones.
static INTERRUPT: AtomicBool = AtomicBool::new(false);

fn main() -> ExitCode {
    // Inside the sandbox the grader's own executable is the runs' launcher.
    sandbox::act_if_asked(&std::env::args_os().collect::<Vec<_>>());
    let cli = Cli::parse();
    // A second Ctrl-C leaves at once (the runs' process groups are killed
    // by the workers' next poll only after the first).
    let handler = ctrlc::set_handler(|| {
        if INTERRUPT.swap(true, Ordering::SeqCst) {
            std::process::exit(130);
        }
    });
    if let Err(e) = handler {
        eprintln!(
            "grader: warning: cannot catch Ctrl-C ({e}); an interrupt will lose the partial table"
        );
    }
    match dispatch(cli) {
        Ok(Finish::AllPassed) => ExitCode::SUCCESS,
        Ok(Finish::SomeFailed) => ExitCode::from(1),
        Ok(Finish::Interrupted) => ExitCode::from(130),
        Err(e) => {
            eprintln!("grader: error: {e}");
            ExitCode::from(2)
        }
    }
}

fn dispatch(cli: Cli) -> Result<Finish> {
    let ws = Workspace::open(cli.workspace.as_deref())?;
    match cli.command {
        None => {
            println!(
                "grading the kit's reference in {}: every lab, one pass (see `grader --help` for more)",
                ws.root.display()
            );
            let opts = default_run_opts();
            let req = RunRequest {
                labs: &[],
                tests: &[],
                stop: StopRule::Iterations(1),
                opts: &opts,
                score: true,
            };
            commands::run(&ws, &req, &ExportOpts::default(), &INTERRUPT)
        }
        Some(Cmd::List { lab }) => commands::list(&ws, lab.as_deref()),
        Some(Cmd::Merge { files, exports }) => merge::merge(&ws, &files, &exports),
        Some(Cmd::Autograder {
            lab,
            out,
            reference,
            dir,
            iterations,
        }) => autograder::bundle(
            &ws,
            &autograder::BundleRequest {
                lab: &lab,
                reference: &reference,
                iterations: iterations.iterations,
                out: &out,
                dir: dir.as_deref(),
            },
        ),
        Some(Cmd::Run {
            labs,
            tests,
            iterations,
            opts,
            exports,
        }) => {
            let req = RunRequest {
                labs: &labs,
                tests: &tests,
                stop: StopRule::Iterations(iterations.iterations.max(1)),
                opts: &opts,
                score: true,
            };
            commands::run(&ws, &req, &exports, &INTERRUPT)
        }
        Some(Cmd::Stress {
            labs,
            tests,
            count,
            duration,
            until_fail,
            opts,
            exports,
        }) => {
            let count = match (count, duration) {
                (None, None) => Some(100),
                (c, _) => c,
            };
            let req = RunRequest {
                labs: &labs,
                tests: &tests,
                stop: StopRule::Stress {
                    count,
                    duration,
                    until_fail,
                },
                opts: &opts,
                score: false,
            };
            commands::run(&ws, &req, &exports, &INTERRUPT)
        }
        Some(Cmd::Grade {
            submissions,
            labs,
            iterations,
            reference,
            work_dir,
            opts,
            exports,
        }) => {
            let req = RunRequest {
                labs: &labs,
                tests: &[],
                stop: StopRule::Iterations(iterations.iterations.max(1)),
                opts: &opts,
                score: true,
            };
            commands::grade(
                &ws,
                &submissions,
                &req,
                &reference,
                work_dir.as_deref(),
                &exports,
                &INTERRUPT,
            )
        }
        Some(Cmd::Handout {
            out,
            no_build,
            target_dir,
            force,
            labs,
            update,
        }) => {
            let plan = handout::TreePlan {
                labs: if labs.is_empty() {
                    None
                } else {
                    let mut picked = labs
                        .iter()
                        .map(|l| ws.find_lab(l))
                        .collect::<Result<Vec<usize>>>()?;
                    picked.extend(ws.uses_of(&picked));
                    picked.sort_unstable();
                    picked.dedup();
                    Some(picked)
                },
                keep_reference: Vec::new(),
            };
            let opts = handout::HandoutOptions {
                build: !no_build,
                target_dir,
                force,
                plan,
                update,
            };
            handout::write_handout(&ws, &out, &opts)?;
            Ok(Finish::AllPassed)
        }
        Some(Cmd::Plant {
            lab,
            bugs,
            tests,
            iterations,
            opts,
        }) => {
            let req = RunRequest {
                labs: &[],
                tests: &tests,
                stop: StopRule::Iterations(iterations.iterations.max(1)),
                opts: &opts,
                score: false,
            };
            plant::plant(&ws, &lab, &bugs, &req, &INTERRUPT)
        }
        Some(Cmd::CheckSkeleton {
            labs,
            handout,
            target_dir,
            per_test,
            jobs,
        }) => {
            let opts = skeleton::SkeletonCheck {
                labs,
                handout,
                target_dir,
                per_test,
                jobs,
            };
            if skeleton::check(&ws, &opts, &INTERRUPT)? {
                Ok(Finish::AllPassed)
            } else {
                Ok(Finish::SomeFailed)
            }
        }
    }
}

/// The options of `grader run` with every flag at its default.
fn default_run_opts() -> RunOpts {
    let cli = Cli::parse_from(["grader", "run"]);
    match cli.command {
        Some(Cmd::Run { opts, .. }) => opts,
        _ => unreachable!("`grader run` parses as the run command"),
    }
}
