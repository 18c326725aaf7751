//! The subcommands, on top of the building blocks: what `list`, `run`,
//! `stress`, `grade` and `handout` do, in order.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;
use std::time::Duration;

use testkit::grade::Policy;

use crate::binaries::{self, BuildOptions, Profile, Scope};
use crate::cli::{ExportOpts, RunOpts};
use crate::engine::{self, EngineConfig, StopRule};
use crate::error::{Context, GraderError, Result};
use crate::export::{self, Graded};
use crate::handout;
use crate::plan;
use crate::progress::Progress;
use crate::sandbox::Sandbox;
use crate::score::{self, LabScore};
use crate::shard::Job;
use crate::summary;
use crate::workspace::{Selection, Workspace};

/// How a command ended, for the exit status.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Finish {
    /// Every run passed (or nothing was run).
    AllPassed,
    /// Some run failed, or a submission could not be graded.
    SomeFailed,
    /// Ctrl-C.
    Interrupted,
}

/// `grader list [LAB]`.
pub fn list(ws: &Workspace, lab: Option<&str>) -> Result<Finish> {
    let labs: Vec<usize> = match lab {
        Some(l) => vec![ws.find_lab(l)?],
        None => (0..ws.labs.len()).collect(),
    };
    if labs.is_empty() {
        println!(
            "no labs in {} (no member has a grade.toml)",
            ws.root.display()
        );
    }
    let mut out = String::new();
    for i in labs {
        let l = &ws.labs[i];
        let g = &l.grade;
        let _ = writeln!(
            out,
            "{} ({}): {}; policy {}; {} points",
            l.package,
            l.short(),
            g.lab.title,
            g.lab.policy.name(),
            g.total_points()
        );
        if !g.lab.student_files.is_empty() {
            let _ = writeln!(out, "  student files: {}", g.lab.student_files.join(", "));
        }
        let width = g.tests.keys().map(String::len).max().unwrap_or(0);
        for (name, part) in &g.parts {
            let tests: Vec<_> = g.tests.values().filter(|t| t.part == *name).collect();
            let points: f64 = tests.iter().map(|t| t.points).sum();
            let req = if part.requires.is_empty() {
                String::new()
            } else {
                format!("; requires {}", part.requires.join(", "))
            };
            let _ = writeln!(out, "  part {name}: {} ({points} points{req})", part.title);
            for t in tests {
                let mut budgets = vec![
                    format!("timeout {}s", t.timeout_secs),
                    format!("rss {} MiB", t.max_rss_mib),
                ];
                if let Some(v) = t.max_rpcs {
                    budgets.push(format!("max_rpcs {v}"));
                }
                if let Some(v) = t.max_bytes {
                    budgets.push(format!("max_bytes {v}"));
                }
                if let Some(v) = t.max_heap_bytes {
                    budgets.push(format!("max_heap_bytes {v}"));
                }
                let _ = writeln!(
                    out,
                    "    {:width$}  {:>5} pts  {}",
                    t.name,
                    t.points,
                    budgets.join(", ")
                );
            }
        }
        out.push('\n');
    }
    print!("{out}");
    Ok(Finish::AllPassed)
}

/// Options shared by every command that runs tests.
pub struct RunRequest<'a> {
    /// `LAB[/PART]` arguments.
    pub labs: &'a [String],
    /// `--test` names.
    pub tests: &'a [String],
    /// When to stop.
    pub stop: StopRule,
    /// How to run.
    pub opts: &'a RunOpts,
    /// Whether to print scores (not in stress mode).
    pub score: bool,
}

/// `grader run` (and the default job): build, run, print the table.
pub fn run(
    ws: &Workspace,
    req: &RunRequest<'_>,
    exports: &ExportOpts,
    interrupt: &AtomicBool,
) -> Result<Finish> {
    let selections = ws.select(req.labs)?;
    let out_dir = out_dir(req.opts)?;
    let name = ws
        .root
        .file_name()
        .map_or_else(|| "kit".into(), |n| n.to_string_lossy().into_owned());
    let tree = Tree {
        ws,
        selections: &selections,
        name: &name,
        target_dir: req.opts.target_dir.clone(),
        whole_workspace: true,
        refused: Vec::new(),
        on_reference: Vec::new(),
        sandbox: isolation(req.opts, false)?,
        grading: false,
    };
    let graded = run_tree(&tree, req, &out_dir, interrupt)?;
    let command = match req.stop {
        StopRule::Iterations(_) => "run",
        StopRule::Stress { .. } => "stress",
    };
    write_exports(
        std::slice::from_ref(&graded),
        exports,
        &job_of(req, command),
    )?;
    Ok(finish_of(&[graded], interrupt))
}

/// Builds and runs one lab of a copy of the kit at `tree` (made by
/// [`handout::prepare_tree`] and changed by the caller, as `grader plant`
/// does) and returns its results under `name`. Builds into `target`.
pub fn run_copy(
    kit: &Workspace,
    tree: &Path,
    name: &str,
    package: &str,
    req: &RunRequest<'_>,
    target: &Path,
    interrupt: &AtomicBool,
) -> Result<Graded> {
    let ws = Workspace::load(tree)?;
    let lab = ws.find_lab(package)?;
    let mut sels = ws.select(req.labs)?;
    sels.retain(|s| s.lab == lab);
    if sels.is_empty() {
        sels.push(Selection { lab, part: None });
    }
    let out_root = out_dir(req.opts)?;
    let on_reference = kit
        .uses_of(&[lab])
        .into_iter()
        .map(|i| kit.labs[i].package.clone())
        .collect();
    let copy = Tree {
        ws: &ws,
        selections: &sels,
        name,
        target_dir: Some(target.to_path_buf()),
        whole_workspace: false,
        refused: Vec::new(),
        on_reference,
        sandbox: isolation(req.opts, false)?,
        grading: false,
    };
    run_tree(&copy, req, &out_root.join(name), interrupt)
}

fn finish_of(graded: &[Graded], interrupt: &AtomicBool) -> Finish {
    if interrupt.load(std::sync::atomic::Ordering::SeqCst) {
        Finish::Interrupted
    } else if graded.iter().all(Graded::all_passed) {
        Finish::AllPassed
    } else {
        Finish::SomeFailed
    }
}

fn out_dir(opts: &RunOpts) -> Result<PathBuf> {
    match &opts.out {
        Some(d) => Ok(d.clone()),
        None => {
            let here = std::env::current_dir()
                .context(|| "cannot read the current directory".to_string())?;
            let base = here.join("grader-out");
            std::fs::create_dir_all(&base)
                .context(|| format!("cannot create output folder {}", base.display()))?;
            // Two graders started in the same second must not share a
            // folder (one's clean-up would remove the other's reports), so
            // the folder is claimed with an atomic create.
            let stamp = crate::clock::folder_stamp();
            for k in 1..1000 {
                let dir = if k == 1 {
                    base.join(&stamp)
                } else {
                    base.join(format!("{stamp}-{k}"))
                };
                match std::fs::create_dir(&dir) {
                    Ok(()) => return Ok(dir),
                    Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
                    Err(e) => {
                        return Err(GraderError::new(format!(
                            "cannot create output folder {}: {e}",
                            dir.display()
                        )));
                    }
                }
            }
            Err(GraderError::new(format!(
                "cannot find a free output folder under {}; pass --out DIR",
                base.display()
            )))
        }
    }
}

/// One source tree to build and grade: the kit itself or a submission's copy.
struct Tree<'a> {
    ws: &'a Workspace,
    selections: &'a [Selection],
    /// The name its results are reported under.
    name: &'a str,
    target_dir: Option<PathBuf>,
    /// Build the whole workspace's tests (as `cargo test --workspace` does,
    /// so one build serves both) rather than each selected lab on its own.
    whole_workspace: bool,
    /// Labs (by package) that are not to be built or run, and why (a
    /// submission missing their files): they score as not run.
    refused: Vec<(String, String)>,
    /// Labs used by the graded ones that were built on the reference.
    on_reference: Vec<String>,
    /// The sandbox for the runs (and, when grading, the build).
    sandbox: Option<Sandbox>,
    /// A submission is being graded: the build is sandboxed too and the
    /// runs get none of the grader's debugging variables.
    grading: bool,
}

/// What building a tree gave: the test binaries of the labs that built,
/// and why each other lab did not (by lab index).
struct TreeBuild {
    binaries: Vec<binaries::TestBinary>,
    problems: BTreeMap<usize, String>,
}

/// The first compiler error of a failed build, with where it is, then the
/// whole output.
fn compile_problem(errors: &str) -> String {
    let mut lines = errors.lines();
    let first = lines
        .by_ref()
        .find(|l| l.starts_with("error"))
        .unwrap_or("error: see the build output");
    let at = lines
        .find_map(|l| l.trim_start().strip_prefix("--> "))
        .map_or_else(String::new, |w| format!(" (at {w})"));
    format!("the code does not compile: {first}{at}\n{errors}")
}

/// Builds the selected labs' tests: the whole workspace at once for the
/// kit (falling back to one lab at a time if that fails, to tell which labs
/// are broken), each lab on its own for a submission, so a compile error
/// zeroes only the labs it breaks.
fn build_tree(tree: &Tree<'_>, labs: &[usize], opts: &BuildOptions) -> Result<TreeBuild> {
    let ws = tree.ws;
    let mut out = TreeBuild {
        binaries: Vec::new(),
        problems: BTreeMap::new(),
    };
    if labs.is_empty() {
        return Ok(out);
    }
    let packages: Vec<&str> = labs.iter().map(|&i| ws.labs[i].package.as_str()).collect();
    if tree.whole_workspace {
        eprintln!(
            "building the workspace's tests, as `cargo test --workspace` does (one build serves both) ..."
        );
        match binaries::build(ws, Scope::Workspace { keep: &packages }, opts)? {
            Ok(b) => {
                out.binaries = b.binaries;
                return Ok(out);
            }
            Err(_) => eprintln!(
                "the workspace does not build; building each lab on its own to find which labs are broken ..."
            ),
        }
    }
    for (&lab, package) in labs.iter().zip(&packages) {
        eprintln!("building the tests of {package} ...");
        match binaries::build(ws, Scope::Packages(&[package]), opts)? {
            Ok(b) => out.binaries.extend(b.binaries),
            Err(failure) => {
                let problem = compile_problem(&failure.errors);
                println!(
                    "{}: {package}: {}",
                    tree.name,
                    problem.lines().next().unwrap_or("")
                );
                out.problems.insert(lab, problem);
            }
        }
    }
    Ok(out)
}

/// Builds, runs and scores the selected labs of one tree.
fn run_tree(
    tree: &Tree<'_>,
    req: &RunRequest<'_>,
    out_dir: &Path,
    interrupt: &AtomicBool,
) -> Result<Graded> {
    let Tree {
        ws,
        selections,
        name,
        ..
    } = *tree;
    let started = std::time::Instant::now();
    let build_opts = BuildOptions {
        profile: if req.opts.release {
            Profile::Release
        } else {
            Profile::Test
        },
        target_dir: tree.target_dir.clone(),
        env: Vec::new(),
        sandbox: tree.sandbox.clone().filter(|_| tree.grading),
    };
    let mut problems: BTreeMap<usize, String> = BTreeMap::new();
    for (package, why) in &tree.refused {
        if let Ok(i) = ws.find_lab(package) {
            problems.insert(i, why.clone());
        }
    }
    let mut labs: Vec<usize> = selections
        .iter()
        .map(|s| s.lab)
        .filter(|i| !problems.contains_key(i))
        .collect();
    labs.sort_unstable();
    labs.dedup();
    let built = build_tree(tree, &labs, &build_opts)?;
    problems.extend(built.problems);
    let binaries = built.binaries;
    let runnable: Vec<Selection> = selections
        .iter()
        .filter(|s| !problems.contains_key(&s.lab))
        .cloned()
        .collect();
    let broken: Vec<Selection> = selections
        .iter()
        .filter(|s| problems.contains_key(&s.lab))
        .cloned()
        .collect();
    let mut broken_scores = problem_scores(ws, &broken, req.opts, &problems);
    // Plan lab by lab: a lab whose tests cannot be matched (a submission
    // that broke the test binaries) gets its own problem, not the batch's.
    let mut tests = Vec::new();
    let mut runnable = runnable;
    let mut unplannable = Vec::new();
    // With `--test` names the selection is planned as one (a name belongs
    // to one of the labs); otherwise lab by lab.
    let groups: Vec<Vec<Selection>> = if req.tests.is_empty() {
        runnable.iter().map(|s| vec![s.clone()]).collect()
    } else {
        vec![runnable.clone()]
    };
    for group in &groups {
        let sel = &group[0];
        match plan::plan(ws, group, req.tests, &binaries) {
            Ok((t, warnings)) => {
                for w in warnings {
                    eprintln!("warning: {w}");
                }
                tests.extend(t);
            }
            Err(e) if !tree.whole_workspace && req.tests.is_empty() => {
                println!("{name}: {}: {e}", ws.labs[sel.lab].package);
                problems.insert(sel.lab, format!("the tests cannot be run: {e}"));
                unplannable.push(sel.clone());
            }
            Err(e) => return Err(e),
        }
    }
    if !unplannable.is_empty() {
        runnable.retain(|s| !problems.contains_key(&s.lab));
        broken_scores.extend(problem_scores(ws, &unplannable, req.opts, &problems));
    }
    if runnable.is_empty() {
        return Ok(Graded {
            name: name.to_owned(),
            on_reference: tree.on_reference.clone(),
            sandboxed: tree.sandbox.is_some(),
            records: Vec::new(),
            summaries: Vec::new(),
            scores: if req.score { broken_scores } else { Vec::new() },
            elapsed: started.elapsed(),
        });
    }
    let selections = runnable.as_slice();
    let cfg = EngineConfig {
        jobs: req.opts.jobs.max(1),
        out_dir: out_dir.to_path_buf(),
        keep_logs: req.opts.keep_logs,
        backtrace: req.opts.backtrace,
        seed: req.opts.seed,
        grace: Duration::from_secs(req.opts.grace),
        log_cap: req.opts.log_cap_mib.saturating_mul(1024 * 1024),
        stop: req.stop,
        sandbox: tree.sandbox.clone(),
        debug_env: !tree.grading,
        // A graded batch is split by submission, not by run.
        shard: req.opts.shard.filter(|_| !tree.grading),
        campaign: req.opts.campaign,
    };
    let per_test = match req.stop {
        StopRule::Iterations(n) => Some(n),
        StopRule::Stress { count, .. } => count,
    }
    .map(|n| cfg.shard.map_or(n, |s| s.share_of(n)));
    println!(
        "running {} test(s){}, {} at a time; logs of failing runs go to {}",
        tests.len(),
        per_test.map_or_else(String::new, |n| format!(" × {n}")),
        cfg.jobs,
        out_dir.display()
    );
    let progress = Progress::new(&tests, per_test);
    // The runs start the binaries as they are now, whatever cargo does to
    // the target dir meanwhile (a rebuild replaces a binary in place).
    let pinned = out_dir.join(".binaries");
    pin_binaries(&mut tests, &pinned)?;
    let outcome = engine::execute(&tests, &cfg, interrupt, &progress);
    let _ = std::fs::remove_dir_all(&pinned);
    let outcome = outcome?;
    progress.finish();
    let summaries = summary::summarize(&tests, &outcome.records);
    // After Ctrl-C, every planned run that did not finish scores as not run
    // (a failure), so a partial table never reads like full marks.
    let planned = match (outcome.interrupted, req.stop) {
        (true, StopRule::Iterations(n)) => {
            Some((tests.as_slice(), cfg.shard.map_or(n, |s| s.share_of(n))))
        }
        _ => None,
    };
    let scores = if req.score {
        let policy = req.opts.policy.map(Policy::from);
        let mut scores = score_runs(ws, selections, policy, &outcome.records, planned);
        scores.extend(broken_scores);
        gate_all(ws, &mut scores);
        scores
    } else {
        Vec::new()
    };
    if outcome.interrupted {
        let finished = outcome.records.len() as u64;
        let never =
            per_test.map(|n| (n * tests.len() as u64).saturating_sub(finished + outcome.cut_off));
        println!(
            "\nINCOMPLETE: interrupted by Ctrl-C. {finished} run(s) finished, {} cut off while running{}; \
             runs that did not finish are scored as not run.",
            outcome.cut_off,
            never.map_or_else(String::new, |k| format!(", {k} never started"))
        );
    }
    print!("{}", summary::render(&summaries, &scores));
    let runs = outcome.records.len() as f64;
    let minutes = outcome.elapsed.as_secs_f64() / 60.0;
    println!(
        "\n{} runs in {:.1} s ({:.1} runs/min at -j {})",
        outcome.records.len(),
        outcome.elapsed.as_secs_f64(),
        if minutes > 0.0 { runs / minutes } else { 0.0 },
        cfg.jobs
    );
    if is_empty_dir(out_dir) {
        let _ = std::fs::remove_dir(out_dir);
    } else {
        println!("logs: {}", out_dir.display());
    }
    Ok(Graded {
        name: name.to_owned(),
        on_reference: tree.on_reference.clone(),
        sandboxed: tree.sandbox.is_some(),
        records: outcome.records,
        summaries,
        scores,
        elapsed: started.elapsed(),
    })
}

/// What gives up `--unsandboxed` (or a machine without a sandbox), for
/// the messages.
const UNSANDBOXED_RISKS: &str = "a submission's code could read the grader's files (the kit's references included), \
     its environment and other submissions, use the network, and leave processes running that disturb \
     the runs after it";

/// The sandbox the runs get: bubblewrap where it works, unless
/// `--unsandboxed`. Without one, `run`/`stress` go on unsandboxed (saying
/// so); `grade` refuses unless told `--unsandboxed`.
fn isolation(opts: &RunOpts, grading: bool) -> Result<Option<Sandbox>> {
    if opts.unsandboxed {
        if grading {
            println!("grading WITHOUT the sandbox (--unsandboxed): {UNSANDBOXED_RISKS}");
        }
        return Ok(None);
    }
    match Sandbox::detect() {
        Ok(s) => Ok(Some(s)),
        Err(why) if grading => Err(GraderError::new(format!(
            "cannot grade without the sandbox: {why}. Install bubblewrap, or pass --unsandboxed to grade \
             without it, knowing that {UNSANDBOXED_RISKS}"
        ))),
        Err(why) => {
            eprintln!("note: running the tests without the sandbox: {why}");
            Ok(None)
        }
    }
}

/// Points every planned test at its own link (or copy) of its binary in
/// `dir`: a build that replaces the binary in the target dir while the runs
/// go on (another grader, the student's `cargo test`) changes nothing here.
fn pin_binaries(tests: &mut [plan::PlannedTest], dir: &Path) -> Result<()> {
    std::fs::create_dir_all(dir).context(|| format!("cannot create {}", dir.display()))?;
    let mut done: BTreeMap<PathBuf, PathBuf> = BTreeMap::new();
    for t in tests.iter_mut() {
        let from = t.binary.path.clone();
        if let Some(to) = done.get(&from) {
            t.binary.path = to.clone();
            continue;
        }
        let name = from.file_name().map_or_else(
            || format!("test-{}", done.len()),
            |n| n.to_string_lossy().into_owned(),
        );
        let to = dir.join(name);
        let _ = std::fs::remove_file(&to);
        if std::fs::hard_link(&from, &to).is_err() {
            std::fs::copy(&from, &to).context(|| {
                format!(
                    "cannot copy the test binary {} to {}",
                    from.display(),
                    to.display()
                )
            })?;
        }
        done.insert(from, to.clone());
        t.binary.path = to;
    }
    Ok(())
}

fn is_empty_dir(dir: &Path) -> bool {
    std::fs::read_dir(dir).is_ok_and(|mut d| d.next().is_none())
}

fn policy_of(ws: &Workspace, lab: usize, opts: &RunOpts) -> Policy {
    opts.policy
        .map_or(ws.labs[lab].grade.lab.policy, Policy::from)
}

/// Cross-lab gating over a tree's lab scores (sorted by lab).
pub fn gate_all(ws: &Workspace, scores: &mut [LabScore]) {
    scores.sort_by(|a, b| a.lab.cmp(&b.lab));
    score::gate_across_labs(scores, &|lab| {
        ws.labs
            .iter()
            .find(|l| l.package == lab)
            .map(|l| l.grade.clone())
    });
}

/// Points per lab from the finished runs. With `planned` (the tests and
/// their planned runs each, after an interrupt) a test counts its planned
/// runs, so runs that never finished score as failures.
pub fn score_runs(
    ws: &Workspace,
    selections: &[Selection],
    policy: Option<Policy>,
    records: &[engine::RunRecord],
    planned: Option<(&[plan::PlannedTest], u64)>,
) -> Vec<LabScore> {
    let mut labs: Vec<usize> = selections.iter().map(|s| s.lab).collect();
    labs.sort_unstable();
    labs.dedup();
    labs.iter()
        .map(|&i| {
            let lab = &ws.labs[i];
            let mut counts: BTreeMap<String, (u64, u64)> = BTreeMap::new();
            for r in records.iter().filter(|r| r.lab == lab.package) {
                let e = counts.entry(r.test.clone()).or_default();
                e.1 += 1;
                if r.passed() {
                    e.0 += 1;
                }
            }
            if let Some((tests, n)) = planned {
                for t in tests.iter().filter(|t| t.lab == lab.package) {
                    let e = counts.entry(t.spec.name.clone()).or_default();
                    e.1 = e.1.max(n);
                }
            }
            score::score_lab(&lab.grade, policy.unwrap_or(lab.grade.lab.policy), &counts)
        })
        .collect()
}

/// Zero scores for labs that could not run, each carrying its problem.
fn problem_scores(
    ws: &Workspace,
    selections: &[Selection],
    opts: &RunOpts,
    problems: &BTreeMap<usize, String>,
) -> Vec<LabScore> {
    let mut scores = zero_scores(ws, selections, opts);
    for score in &mut scores {
        if let Ok(i) = ws.find_lab(&score.lab) {
            score.problem = problems.get(&i).cloned();
        }
    }
    scores
}

/// Scores for a tree that could not run: every selected test failed once.
fn zero_scores(ws: &Workspace, selections: &[Selection], opts: &RunOpts) -> Vec<LabScore> {
    let mut by_lab: BTreeMap<usize, BTreeMap<String, (u64, u64)>> = BTreeMap::new();
    for s in selections {
        let counts = by_lab.entry(s.lab).or_default();
        for t in ws.labs[s.lab].grade.tests.values() {
            if s.part.as_ref().is_none_or(|p| *p == t.part) {
                counts.insert(t.name.clone(), (0, 1));
            }
        }
    }
    by_lab
        .iter()
        .map(|(&i, c)| score::score_lab(&ws.labs[i].grade, policy_of(ws, i, opts), c))
        .collect()
}

/// The job a run request describes, for the JSON export.
fn job_of(req: &RunRequest<'_>, command: &str) -> Job {
    let (per_test, stress) = match req.stop {
        StopRule::Iterations(n) => (Some(n), None),
        StopRule::Stress {
            count,
            duration,
            until_fail,
        } => (count, Some((duration.map(|d| d.as_secs()), until_fail))),
    };
    Job {
        command: command.to_owned(),
        labs: req.labs.to_vec(),
        tests: req.tests.to_vec(),
        per_test,
        stress,
        policy: req.opts.policy.map(|p| Policy::from(p).name().to_owned()),
        reference: Vec::new(),
        campaign: req.opts.campaign,
        shard: req.opts.shard,
        submissions: Vec::new(),
    }
}

/// Writes every export asked for.
pub fn write_exports(graded: &[Graded], exports: &ExportOpts, job: &Job) -> Result<()> {
    if let Some(p) = &exports.json {
        let text = serde_json::to_string_pretty(&export::to_json(graded, job))
            .context(|| "cannot encode the JSON export".to_string())?;
        export::write(p, &text)?;
        println!("wrote {}", p.display());
    }
    if let Some(p) = &exports.gradescope {
        let [one] = graded else {
            return Err(GraderError::new(
                "--gradescope writes one submission's results.json; grade one submission per call",
            ));
        };
        let text = serde_json::to_string_pretty(&export::to_gradescope(one, exports.visibility))
            .context(|| "cannot encode results.json".to_string())?;
        export::write(p, &text)?;
        println!("wrote {}", p.display());
    }
    if let Some(p) = &exports.junit {
        export::write(p, &export::to_junit(graded))?;
        println!("wrote {}", p.display());
    }
    if let Some(p) = &exports.csv {
        export::write(p, &export::to_csv(graded))?;
        println!("wrote {}", p.display());
    }
    Ok(())
}

/// The files of the selected labs a submission must provide, as
/// workspace-relative paths.
fn student_files(ws: &Workspace, selections: &[Selection]) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for s in selections {
        let lab = &ws.labs[s.lab];
        for f in &lab.grade.lab.student_files {
            let p = ws.relative(&lab.dir).join(f);
            if !files.contains(&p) {
                files.push(p);
            }
        }
    }
    files
}

/// The submission folders as absolute paths, each with the name it is
/// reported under (its folder's name, made unique within the batch).
/// A path that does not exist or is not a folder is a usage error: nothing
/// is graded, so a typo in a batch is caught before an hour of grading.
fn resolve_submissions(submissions: &[PathBuf]) -> Result<Vec<(PathBuf, String)>> {
    let mut out: Vec<(PathBuf, String)> = Vec::new();
    for sub in submissions {
        let abs = sub.canonicalize().map_err(|e| {
            GraderError::new(format!(
                "submission folder {} cannot be opened ({e}); give the path of a folder laid out like the handout",
                sub.display()
            ))
        })?;
        if !abs.is_dir() {
            return Err(GraderError::new(format!(
                "submission {} is not a folder; give the folder that holds the lab crates (e.g. `grade .` from the top of the handout)",
                sub.display()
            )));
        }
        let base = abs.file_name().map_or_else(
            || "submission".to_owned(),
            |n| n.to_string_lossy().into_owned(),
        );
        let mut name = base.clone();
        let mut k = 2;
        while out.iter().any(|(_, n)| *n == name) {
            name = format!("{base}-{k}");
            k += 1;
        }
        out.push((abs, name));
    }
    Ok(out)
}

/// The labs `--reference` names, checked: each is used (directly or not)
/// by a graded lab and is not graded itself.
pub fn reference_labs(
    kit: &Workspace,
    selections: &[Selection],
    reference: &[String],
) -> Result<Vec<usize>> {
    let graded: Vec<usize> = selections.iter().map(|s| s.lab).collect();
    let used = kit.uses_of(&graded);
    let mut out = Vec::new();
    for name in reference {
        let lab = kit.find_lab(name)?;
        let package = &kit.labs[lab].package;
        if graded.contains(&lab) {
            return Err(GraderError::new(format!(
                "--reference {name}: {package} is also being graded; grade it from the submission or drop it from --lab"
            )));
        }
        if !used.contains(&lab) {
            return Err(GraderError::new(format!(
                "--reference {name}: no graded lab builds on {package} (grade.toml `uses`); labs used: {}",
                if used.is_empty() {
                    "none".to_owned()
                } else {
                    used.iter()
                        .map(|&i| kit.labs[i].package.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                }
            )));
        }
        if !out.contains(&lab) {
            out.push(lab);
        }
    }
    out.sort_unstable();
    Ok(out)
}

/// The files a submission must hold for `lab`: its own student files and
/// those of the labs it builds on, except labs taken from the reference.
pub fn files_for_lab(kit: &Workspace, lab: usize, on_reference: &[usize]) -> Vec<PathBuf> {
    let mut labs = vec![lab];
    labs.extend(
        kit.uses_of(&[lab])
            .into_iter()
            .filter(|u| !on_reference.contains(u)),
    );
    let picks: Vec<Selection> = labs
        .into_iter()
        .map(|lab| Selection { lab, part: None })
        .collect();
    student_files(kit, &picks)
}

/// The code policy's findings in a submission's student `files`.
fn policy_breaches(sub: &Path, files: &[PathBuf]) -> Result<Vec<crate::policy::Breach>> {
    let mut out = Vec::new();
    for f in files {
        let path = sub.join(f);
        let text = std::fs::read_to_string(&path)
            .context(|| format!("cannot read the submitted file {}", path.display()))?;
        out.extend(crate::policy::check_file(f, &text));
    }
    Ok(out)
}

/// `grader grade SUBMISSION...`.
pub fn grade(
    kit: &Workspace,
    submissions: &[PathBuf],
    req: &RunRequest<'_>,
    reference: &[String],
    work_dir: Option<&Path>,
    exports: &ExportOpts,
    interrupt: &AtomicBool,
) -> Result<Finish> {
    if exports.gradescope.is_some() && submissions.len() != 1 {
        return Err(GraderError::new(
            "--gradescope writes one submission's results.json; grade one submission per call",
        ));
    }
    let selections = kit.select(req.labs)?;
    let on_reference = reference_labs(kit, &selections, reference)?;
    let reference_names: Vec<String> = on_reference
        .iter()
        .map(|&i| kit.labs[i].package.clone())
        .collect();
    let mut graded_labs: Vec<usize> = selections.iter().map(|s| s.lab).collect();
    graded_labs.sort_unstable();
    graded_labs.dedup();
    let per_lab: Vec<(usize, Vec<PathBuf>)> = graded_labs
        .iter()
        .map(|&lab| (lab, files_for_lab(kit, lab, &on_reference)))
        .collect();
    let out_root = out_dir(req.opts)?;
    // One target dir for every submission: the kit's dependencies build once.
    let target = req.opts.target_dir.clone().unwrap_or_else(|| {
        std::env::var_os("CARGO_TARGET_DIR")
            .map_or_else(|| kit.root.join("target"), PathBuf::from)
            .join("grader-submissions")
    });
    let all_subs = resolve_submissions(submissions)?;
    let mut job = job_of(req, "grade");
    job.reference = reference_names.clone();
    job.submissions = all_subs.iter().map(|(_, n)| n.clone()).collect();
    // A shard grades every Nth submission of the batch, whole.
    let subs: Vec<(PathBuf, String)> = all_subs
        .into_iter()
        .enumerate()
        .filter(|(i, _)| req.opts.shard.is_none_or(|s| s.holds(*i as u64)))
        .map(|(_, sub)| sub)
        .collect();
    if let Some(s) = req.opts.shard {
        println!(
            "shard {s}: grading {} of the {} submissions",
            subs.len(),
            job.submissions.len()
        );
    }
    let sandbox = isolation(req.opts, true)?;
    if !reference_names.is_empty() {
        println!(
            "building on the kit's reference of {} instead of the submissions' files",
            reference_names.join(", ")
        );
    }
    let mut graded = Vec::new();
    for (sub, name) in &subs {
        if interrupt.load(std::sync::atomic::Ordering::SeqCst) {
            break;
        }
        let name = name.clone();
        println!("\n== grading {name} ({})", sub.display());
        // A lab missing any file it needs is refused on its own; the others
        // are graded.
        let mut refused = Vec::new();
        for (lab, files) in &per_lab {
            let missing: Vec<String> = files
                .iter()
                .filter(|f| !sub.join(f).is_file())
                .map(|f| f.display().to_string())
                .collect();
            let package = kit.labs[*lab].package.clone();
            if !missing.is_empty() {
                let problem = format!(
                    "submission refused: required files missing: {}; submit every file listed in the grade.toml (student_files) of {package} and of the labs it uses, at its path in the workspace",
                    missing.join(", ")
                );
                println!("{name}: {package}: {problem}");
                refused.push((package, problem));
                continue;
            }
            let breaches = policy_breaches(sub, files)?;
            if !breaches.is_empty() {
                let list: Vec<String> = breaches.iter().map(ToString::to_string).collect();
                let problem = format!(
                    "submission refused by the code policy (README, \"Code policy\"): {}",
                    list.join("; ")
                );
                println!("{name}: {package}: {problem}");
                refused.push((package, problem));
            }
        }
        let temp;
        let tree = match work_dir {
            Some(d) => {
                let t = d.join(&name);
                if t.exists() {
                    std::fs::remove_dir_all(&t)
                        .context(|| format!("cannot clear {}", t.display()))?;
                }
                t
            }
            None => {
                temp = tempfile::Builder::new()
                    .prefix("grader-grade-")
                    .tempdir()
                    .context(|| "cannot create a temporary folder".to_string())?;
                temp.path().join(&name)
            }
        };
        let plan = handout::TreePlan {
            labs: None,
            keep_reference: on_reference.clone(),
        };
        handout::prepare_tree(kit, &tree, &plan)?;
        let mut overlay: Vec<&PathBuf> = per_lab.iter().flat_map(|(_, f)| f).collect();
        overlay.sort();
        overlay.dedup();
        for f in overlay.into_iter().filter(|f| sub.join(f).is_file()) {
            let dst = tree.join(f);
            if let Some(dir) = dst.parent() {
                std::fs::create_dir_all(dir)
                    .context(|| format!("cannot create {}", dir.display()))?;
            }
            std::fs::copy(sub.join(f), &dst)
                .context(|| format!("cannot copy {} into the build tree", sub.join(f).display()))?;
        }
        let ws = Workspace::load(&tree)?;
        // The copy has the same labs; map the selections by package.
        let sels: Vec<Selection> = selections
            .iter()
            .map(|s| {
                let pkg = &kit.labs[s.lab].package;
                ws.find_lab(pkg).map(|lab| Selection {
                    lab,
                    part: s.part.clone(),
                })
            })
            .collect::<Result<_>>()?;
        let tree = Tree {
            ws: &ws,
            selections: &sels,
            name: &name,
            target_dir: Some(target.clone()),
            whole_workspace: false,
            refused,
            on_reference: reference_names.clone(),
            sandbox: sandbox.clone(),
            grading: true,
        };
        let g = run_tree(&tree, req, &out_root.join(&name), interrupt)?;
        println!("{name}: {:.1}/{} points", g.score(), g.max_score());
        graded.push(g);
    }
    if graded.len() > 1 {
        println!("\nsubmission                      score");
        for g in &graded {
            println!("{:30} {:>6.1}/{}", g.name, g.score(), g.max_score());
        }
    }
    write_exports(&graded, exports, &job)?;
    Ok(finish_of(&graded, interrupt))
}
