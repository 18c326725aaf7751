//! The command line.

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand, ValueEnum};
use testkit::grade::Policy;

use crate::export::Visibility;

/// Runs used when `-j` is not given, measured on the kit's 2-core machine
/// (figures in the grader README): the lab tests mostly sleep on timers and
/// the simulated network, so throughput grows almost linearly up to 8 runs
/// at once with no run slowed down; 6 leaves headroom for the CPU-bound
/// phases (history checking) that several runs may reach together.
pub const DEFAULT_JOBS: usize = 6;

/// distlab's grader: runs lab tests many times in isolated processes,
/// enforces their time, memory and RPC budgets, scores them, exports the
/// results, and writes the student handout.
///
/// With no command it grades the kit's own reference: every lab, one pass,
/// and a score table.
#[derive(Parser, Debug)]
#[command(name = "grader", version, after_help = EXAMPLES)]
pub struct Cli {
    /// The kit's workspace root (default: the workspace enclosing the
    /// current directory).
    #[arg(long, global = true, value_name = "DIR")]
    pub workspace: Option<PathBuf>,

    /// What to do (default: grade the kit's reference, one pass).
    #[command(subcommand)]
    pub command: Option<Cmd>,
}

const EXAMPLES: &str = "Examples:
  grader                                  grade the kit's reference: every lab, one pass
  grader list lab1                        parts, tests, points and budgets of lab 1
  grader run lab1 -n 20                   every lab-1 test 20 times
  grader run lab2/A --test initial_election_2a -n 100 -j 8
  grader stress lab2/B --until-fail       repeat until the first failure
  grader grade subs/* --csv grades.csv    grade many submissions
  grader handout ../handout               write the student workspace
  grader plant lab2 -n 3                  which tests catch each planted bug

Exit status: 0 all runs passed, 1 some run failed, 2 the grader could not run
(it says why), 130 interrupted by Ctrl-C (partial table printed, logs kept).";

/// The subcommands.
#[derive(Subcommand, Debug)]
pub enum Cmd {
    /// List labs, parts, tests, points and budgets from the grade.toml files.
    List {
        /// A lab (package name or short form like `lab1`); default: all.
        lab: Option<String>,
    },
    /// Run tests many times, each run its own process, and score them.
    Run {
        /// Labs or parts to run: `lab1`, `lab1-kvsrv`, `lab2/A`; default: all.
        #[arg(value_name = "LAB[/PART]")]
        labs: Vec<String>,
        /// Only these tests (repeatable).
        #[arg(long = "test", value_name = "NAME")]
        tests: Vec<String>,
        #[command(flatten)]
        iterations: Iterations,
        #[command(flatten)]
        opts: RunOpts,
        #[command(flatten)]
        exports: ExportOpts,
    },
    /// Repeat chosen tests until a count, a duration or the first failure;
    /// print the command that reruns each failure.
    Stress {
        /// Labs or parts: `lab1`, `lab2/A`; default: all.
        #[arg(value_name = "LAB[/PART]")]
        labs: Vec<String>,
        /// Only these tests (repeatable).
        #[arg(long = "test", value_name = "NAME")]
        tests: Vec<String>,
        /// Stop after this many runs of each test (default 100 when neither
        /// --count nor --duration is given).
        #[arg(long, value_name = "N", value_parser = parse_positive)]
        count: Option<u64>,
        /// Stop starting runs after this long: `90s`, `10m`, `2h`.
        #[arg(long, value_parser = parse_duration, value_name = "TIME")]
        duration: Option<Duration>,
        /// Stop at the first run that does not pass.
        #[arg(long)]
        until_fail: bool,
        #[command(flatten)]
        opts: RunOpts,
        #[command(flatten)]
        exports: ExportOpts,
    },
    /// Grade submissions: pristine tests, harness and grade.toml laid over
    /// each submission's student files; build, run, score, export.
    Grade {
        /// Submission folders, laid out like the handout (only the files a
        /// student may edit are taken, e.g. lab1-kvsrv/src/server.rs).
        #[arg(value_name = "SUBMISSION_DIR", required = true)]
        submissions: Vec<PathBuf>,
        /// Labs or parts to grade (repeatable); default: all.
        #[arg(long = "lab", value_name = "LAB[/PART]")]
        labs: Vec<String>,
        #[command(flatten)]
        iterations: Iterations,
        /// A lab the graded labs build on (`uses` in grade.toml) to take
        /// from the kit's reference instead of the submission (repeatable),
        /// so e.g. a broken Raft need not zero a good service built on it.
        #[arg(long = "reference", value_name = "LAB")]
        reference: Vec<String>,
        /// Where each submission's build tree goes (kept); default: a
        /// temporary folder, removed afterwards.
        #[arg(long, value_name = "DIR")]
        work_dir: Option<PathBuf>,
        #[command(flatten)]
        opts: RunOpts,
        #[command(flatten)]
        exports: ExportOpts,
    },
    /// Write the student workspace: reference code removed, skeletons
    /// selected, a student README; then build it with warnings as errors.
    Handout {
        /// Where to write it (must not exist or be empty).
        #[arg(value_name = "OUT_DIR")]
        out: PathBuf,
        /// Skip the warning-free build check.
        #[arg(long)]
        no_build: bool,
        /// Target directory for the check build (default: OUT_DIR/target,
        /// where the student's own first build then finds it).
        #[arg(long, value_name = "DIR", conflicts_with = "no_build")]
        target_dir: Option<PathBuf>,
        /// Write into a non-empty OUT_DIR.
        #[arg(long, conflicts_with = "update")]
        force: bool,
        /// Only these labs, with the labs they build on (repeatable);
        /// default: every lab. A course releases them one at a time.
        #[arg(long = "lab", value_name = "LAB")]
        labs: Vec<String>,
        /// OUT_DIR is a student's workspace: bring in the chosen labs and
        /// every fixed test, harness and doc, keeping the student's own
        /// files (each lab's student_files) that are already there.
        #[arg(long)]
        update: bool,
    },
    /// Write the Gradescope autograder bundle of one lab: a zip with
    /// setup.sh, run_autograder and the lab's pristine workspace (its
    /// reference cut out), ready to upload.
    Autograder {
        /// The lab (package name or short form like `lab1`).
        #[arg(value_name = "LAB")]
        lab: String,
        /// The zip to write.
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
        /// Grade on the kit's reference of this used lab (repeatable).
        #[arg(long, value_name = "LAB")]
        reference: Vec<String>,
        /// Also leave the bundle's files unpacked in this new folder.
        #[arg(long, value_name = "DIR")]
        dir: Option<PathBuf>,
        #[command(flatten)]
        iterations: Iterations,
    },
    /// Put the shards of one job back together: their --json files (written
    /// with --shard K/N) become the table, scores and exports one machine
    /// would give for the same seeds. A missing or repeated shard is an
    /// error naming it.
    Merge {
        /// Every shard's --json file.
        #[arg(value_name = "SHARD_JSON", required = true)]
        files: Vec<PathBuf>,
        #[command(flatten)]
        exports: ExportOpts,
    },
    /// Prove the tests bite: plant each bug of LAB/planted.toml in its own
    /// copy of the reference, run the lab's tests on it, and report which
    /// tests caught each bug (maintainers only; the handout leaves the file
    /// out). Exit status 0 when every bug was caught, 1 when one survived.
    Plant {
        /// The lab (package name or short form like `lab2`).
        #[arg(value_name = "LAB")]
        lab: String,
        /// Only these bugs (repeatable); default: every bug in the file.
        #[arg(long = "bug", value_name = "NAME")]
        bugs: Vec<String>,
        /// Only these tests (repeatable); default: every test of the lab.
        #[arg(long = "test", value_name = "NAME")]
        tests: Vec<String>,
        #[command(flatten)]
        iterations: Iterations,
        #[command(flatten)]
        opts: RunOpts,
    },
    /// Check what students start from: write the handout, build it
    /// warning-free, and run every test of each lab once against the
    /// skeleton; each must fail quickly with a todo!() message.
    CheckSkeleton {
        /// Labs to check (repeatable); default: all.
        #[arg(value_name = "LAB")]
        labs: Vec<String>,
        /// Where to write the handout it checks (kept); default: a
        /// temporary folder.
        #[arg(long, value_name = "DIR")]
        handout: Option<PathBuf>,
        /// Target directory for the handout's build (default: in it).
        #[arg(long, value_name = "DIR")]
        target_dir: Option<PathBuf>,
        /// Longest one failing test may take.
        #[arg(long, default_value = "30s", value_parser = parse_duration, value_name = "TIME")]
        per_test: Duration,
        /// Runs at once.
        #[arg(short = 'j', long = "jobs", default_value_t = DEFAULT_JOBS, value_name = "WORKERS", value_parser = parse_jobs)]
        jobs: usize,
    },
}

/// How many runs of every test (`-n`).
#[derive(Args, Debug, Clone, Copy)]
pub struct Iterations {
    /// Runs of every test.
    #[arg(
        short = 'n',
        long = "iterations",
        default_value_t = 1,
        value_name = "ITER",
        value_parser = parse_positive
    )]
    pub iterations: u64,
}

/// How runs are carried out.
#[derive(Args, Debug, Clone)]
pub struct RunOpts {
    /// Runs at once.
    #[arg(
        short = 'j',
        long = "jobs",
        default_value_t = DEFAULT_JOBS,
        value_name = "WORKERS",
        value_parser = parse_jobs
    )]
    pub jobs: usize,
    /// Run every run with this seed (to repeat one failing seed's faults
    /// many times); default: a fresh seed per run.
    #[arg(long, value_name = "S")]
    pub seed: Option<u64>,
    /// Output folder for logs (default: grader-out/<timestamp>).
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Keep the logs of passing runs too.
    #[arg(long)]
    pub keep_logs: bool,
    /// Print a backtrace with each failure (sets RUST_BACKTRACE=1 in the
    /// runs; without it the grader clears RUST_BACKTRACE).
    #[arg(long)]
    pub backtrace: bool,
    /// Most output kept per run's log, in MiB; the rest is drained and dropped.
    #[arg(long, default_value_t = 4, value_name = "MIB", value_parser = parse_positive)]
    pub log_cap_mib: u64,
    /// Seconds past a test's timeout_secs before the grader kills it
    /// (testkit inside the test enforces timeout_secs itself).
    #[arg(long, default_value_t = 5, value_name = "SECS")]
    pub grace: u64,
    /// Build the test binaries with `--release` instead of the test profile.
    #[arg(long)]
    pub release: bool,
    /// Cargo target directory for building the tests.
    #[arg(long, value_name = "DIR")]
    pub target_dir: Option<PathBuf>,
    /// Override the labs' scoring policy.
    #[arg(long, value_enum, value_name = "POLICY")]
    pub policy: Option<PolicyArg>,
    /// Run without the sandbox (bubblewrap) even where there is one. `grade`
    /// refuses to grade without it unless given this: unsandboxed, a
    /// submission's runs see the grader's files, environment and network,
    /// and what they start can outlive them and disturb other submissions.
    #[arg(long)]
    pub unsandboxed: bool,
    /// Do only this share of the work, for spreading one job over machines
    /// (`2/4`: the second of four): `grade` takes every Nth submission,
    /// `run`/`stress` every Nth run of each test. Needs `--campaign`;
    /// `grader merge` puts the shards' `--json` files back together.
    #[arg(long, value_name = "K/N", requires = "campaign")]
    pub shard: Option<crate::shard::Shard>,
    /// Derive each run's seed from S, the test and the run's index, so every
    /// machine and every shard gives a run the same seed (instead of a fresh
    /// seed per run).
    #[arg(long, value_name = "S", conflicts_with = "seed")]
    pub campaign: Option<u64>,
}

/// Where results go.
#[derive(Args, Debug, Clone, Default)]
pub struct ExportOpts {
    /// Every run as JSON (test, iteration, seed, verdict, seconds, rpcs,
    /// bytes, peak memory, log path) plus scores.
    #[arg(long, value_name = "FILE")]
    pub json: Option<PathBuf>,
    /// Gradescope autograder results.json (one submission).
    #[arg(long, value_name = "FILE")]
    pub gradescope: Option<PathBuf>,
    /// Who sees the Gradescope test results.
    #[arg(long, value_enum, default_value = "visible")]
    pub visibility: Visibility,
    /// JUnit XML, one test case per run.
    #[arg(long, value_name = "FILE")]
    pub junit: Option<PathBuf>,
    /// CSV roll-up, one row per submission.
    #[arg(long, value_name = "FILE")]
    pub csv: Option<PathBuf>,
}

/// A scoring policy on the command line.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum PolicyArg {
    /// Full points only if every run passed.
    AllOrNothing,
    /// Points × pass rate.
    Linear,
    /// Points × 0.5^((1 − pass rate)/0.1), zero below 70%.
    Exponential,
}

impl From<PolicyArg> for Policy {
    fn from(p: PolicyArg) -> Policy {
        match p {
            PolicyArg::AllOrNothing => Policy::AllOrNothing,
            PolicyArg::Linear => Policy::Linear,
            PolicyArg::Exponential => Policy::Exponential,
        }
    }
}

/// A count that must be at least 1 (`-n`, `--count`, `--log-cap-mib`).
fn parse_positive(text: &str) -> Result<u64, String> {
    match text.trim().parse::<u64>() {
        Ok(0) => Err("0 would do nothing; give at least 1".into()),
        Ok(n) => Ok(n),
        Err(_) => Err(format!("{text:?} is not a whole number; give one, e.g. 10")),
    }
}

/// `-j`: a number of runs at once, at least 1.
fn parse_jobs(text: &str) -> Result<usize, String> {
    match text.trim().parse::<usize>() {
        Ok(0) => Err("0 runs at once would run nothing; give at least 1 (default 6)".into()),
        Ok(n) => Ok(n),
        Err(_) => Err(format!(
            "{text:?} is not a number of runs at once; give a whole number, e.g. -j 4"
        )),
    }
}

/// `90`, `90s`, `10m`, `2h` → a duration.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let t = text.trim();
    let (num, unit) = match t.find(|c: char| !c.is_ascii_digit()) {
        Some(i) => t.split_at(i),
        None => (t, "s"),
    };
    let n: u64 = num
        .parse()
        .map_err(|_| format!("{text:?} is not a duration; write e.g. 90s, 10m or 2h"))?;
    let scale = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        _ => return Err(format!("unknown unit in {text:?}; use s, m or h")),
    };
    let secs = n
        .checked_mul(scale)
        .ok_or_else(|| format!("{text:?} is too long a duration"))?;
    if secs == 0 {
        return Err(format!(
            "{text:?} is no time at all; give a positive duration such as 90s, 10m or 2h"
        ));
    }
    Ok(Duration::from_secs(secs))
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn durations_parse_with_units() {
        assert_eq!(parse_duration("90"), Ok(Duration::from_secs(90)));
        assert_eq!(parse_duration("10m"), Ok(Duration::from_secs(600)));
        assert_eq!(parse_duration("2h"), Ok(Duration::from_secs(7200)));
        assert!(parse_duration("ten").is_err());
        assert!(parse_duration("5d").is_err());
        assert!(parse_duration("0s").is_err());
        assert!(parse_duration("99999999999999999h").is_err());
    }

    #[test]
    fn zero_or_garbage_jobs_are_refused() {
        assert_eq!(parse_jobs("3"), Ok(3));
        assert!(parse_jobs("0").unwrap_err().contains("at least 1"));
        assert!(parse_jobs("many").is_err());
    }

    #[test]
    fn zero_iterations_and_counts_are_usage_errors() {
        for args in [
            &["grader", "run", "-n", "0"][..],
            &["grader", "grade", "x", "-n", "0"],
            &["grader", "stress", "--count", "0"],
            &["grader", "run", "-j", "0"],
            &["grader", "stress", "--duration", "soon"],
            &[
                "grader",
                "handout",
                "out",
                "--no-build",
                "--target-dir",
                "t",
            ],
        ] {
            let e = Cli::try_parse_from(args).expect_err("must be refused");
            assert_eq!(e.exit_code(), 2, "{args:?}: {e}");
        }
    }

    #[test]
    fn command_line_definition_is_consistent() {
        Cli::command().debug_assert();
    }
}
