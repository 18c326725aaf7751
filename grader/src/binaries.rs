//! Building the lab test binaries once (`cargo test --no-run`) and listing
//! the tests inside each, so every run afterwards is a plain process start.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use serde::Deserialize;

use crate::error::{Context, GraderError, Result};
use crate::sandbox::{self, Jail, Sandbox};
use crate::workspace::{Workspace, cargo};

/// Which Cargo profile builds the test binaries.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Profile {
    /// The `test` profile (`cargo test`'s own; the kit sets opt-level 1),
    /// so the grader reuses what students' `cargo test` already built.
    Test,
    /// `cargo test --release`.
    Release,
}

/// Where and how to build.
#[derive(Clone, Debug)]
pub struct BuildOptions {
    /// The profile.
    pub profile: Profile,
    /// `--target-dir`, when not Cargo's default (or `CARGO_TARGET_DIR`).
    pub target_dir: Option<PathBuf>,
    /// Extra environment for cargo (e.g. `RUSTFLAGS`).
    pub env: Vec<(String, String)>,
    /// Build inside this sandbox (a submission's build): the tree and the
    /// target dir writable, the toolchain read-only, nothing else of the
    /// machine, no network, only the variables cargo needs.
    pub sandbox: Option<Sandbox>,
}

/// A compiled test target.
#[derive(Clone, Debug)]
pub struct TestBinary {
    /// The package it belongs to.
    pub package: String,
    /// The target name (`part_a`, or the lib's name for unit tests).
    pub target: String,
    /// Whether it is the library's unit-test binary.
    pub is_lib: bool,
    /// The package directory (tests run there, as under `cargo test`).
    pub package_dir: PathBuf,
    /// The executable.
    pub path: PathBuf,
    /// Full libtest names of the tests inside (`module::name` or `name`).
    pub tests: Vec<String>,
}

impl TestBinary {
    /// The cargo command that reruns `test` of this binary with `seed`.
    pub fn rerun_command(&self, test: &str, seed: u64) -> String {
        let target = if self.is_lib {
            "--lib".to_owned()
        } else {
            format!("--test {}", self.target)
        };
        format!(
            "{}={seed} cargo test -p {} {target} -- --exact {test}",
            testkit::seed::SEED_VAR,
            self.package
        )
    }
}

/// Why a build failed: the compiler's errors, for the student.
#[derive(Clone, Debug)]
pub struct BuildFailure {
    /// The rendered compiler errors (or cargo's own message).
    pub errors: String,
}

#[derive(Deserialize)]
struct Message {
    reason: String,
    #[serde(default)]
    manifest_path: Option<PathBuf>,
    #[serde(default)]
    target: Option<Target>,
    #[serde(default)]
    profile: Option<ArtifactProfile>,
    #[serde(default)]
    executable: Option<PathBuf>,
    #[serde(default)]
    message: Option<Diagnostic>,
}

#[derive(Deserialize)]
struct Target {
    name: String,
    kind: Vec<String>,
}

#[derive(Deserialize)]
struct ArtifactProfile {
    test: bool,
}

#[derive(Deserialize)]
struct Diagnostic {
    level: String,
    #[serde(default)]
    message: String,
    #[serde(default)]
    rendered: Option<String>,
}

/// What a successful build made.
#[derive(Clone, Debug)]
pub struct Built {
    /// The test binaries asked for, with their tests listed.
    pub binaries: Vec<TestBinary>,
    /// The compiler's warnings on the workspace's own crates, rendered
    /// (cargo caps lints on registry crates, and replays cached warnings
    /// when nothing is recompiled, so this is complete on a warm build too).
    pub warnings: Vec<String>,
}

/// Which test binaries one build makes.
#[derive(Clone, Copy, Debug)]
pub enum Scope<'a> {
    /// Every member's, exactly as `cargo test --workspace` (and plain
    /// `cargo test` at the root) builds them. Cargo resolves dependency
    /// features from the packages a command selects, so `-p` lists give
    /// different artifacts than `--workspace`; building the same set as the
    /// README's test command means neither build redoes the other's. Only
    /// the binaries of `keep` are listed and returned.
    Workspace {
        /// Packages whose binaries are wanted.
        keep: &'a [&'a str],
    },
    /// Only these packages (`-p` each): what grading a submission lab by
    /// lab needs.
    Packages(&'a [&'a str]),
}

/// The variables of the grader's environment a sandboxed build keeps
/// (cargo and rustup need them to find the toolchain); every other one is
/// dropped.
const BUILD_VARS: &[&str] = &[
    "PATH",
    "HOME",
    "CARGO_HOME",
    "RUSTUP_HOME",
    "RUSTUP_TOOLCHAIN",
    "CARGO_BUILD_JOBS",
    "CARGO_INCREMENTAL",
    "CARGO_TERM_COLOR",
];

/// `cargo ARGS` in the sandbox, after fetching the tree's dependencies
/// outside it (the build itself has no network; the manifests and lock
/// file are the kit's, not the student's, so fetching runs no student
/// input).
fn sandboxed_cargo(
    ws: &Workspace,
    sb: &Sandbox,
    opts: &BuildOptions,
    args: Vec<std::ffi::OsString>,
) -> Result<Command> {
    let program = absolute_program(&cargo()).ok_or_else(|| {
        GraderError::new("cannot find cargo for the sandboxed build (is cargo on PATH?)")
    })?;
    let fetched = Command::new(&program)
        .args(["fetch", "--quiet"])
        .current_dir(&ws.root)
        .stdin(Stdio::null())
        .output()
        .context(|| "cannot run `cargo fetch` before the sandboxed build".to_string())?;
    if !fetched.status.success() {
        return Err(GraderError::new(format!(
            "`cargo fetch` in {} failed, so the sandboxed build (which has no network) cannot find the kit's \
             dependencies: {}",
            ws.root.display(),
            String::from_utf8_lossy(&fetched.stderr).trim()
        )));
    }
    let target = opts
        .target_dir
        .clone()
        .or_else(|| std::env::var_os("CARGO_TARGET_DIR").map(PathBuf::from))
        .unwrap_or_else(|| ws.root.join("target"));
    std::fs::create_dir_all(&target)
        .context(|| format!("cannot create the target dir {}", target.display()))?;
    let home = std::env::var_os("HOME").map(PathBuf::from);
    let tool_dir = |var: &str, default: &str| {
        std::env::var_os(var)
            .map(PathBuf::from)
            .or_else(|| home.as_ref().map(|h| h.join(default)))
            .filter(|p| p.is_dir())
    };
    let mut read_only: Vec<PathBuf> = [
        tool_dir("CARGO_HOME", ".cargo"),
        tool_dir("RUSTUP_HOME", ".rustup"),
    ]
    .into_iter()
    .flatten()
    .collect();
    // A toolchain outside both (and outside /usr): its root, `bin/..`.
    if let Some(root) = program.parent().and_then(Path::parent)
        && !root.starts_with("/usr")
        && !read_only.iter().any(|d| program.starts_with(d))
    {
        read_only.push(root.to_path_buf());
    }
    read_only.extend(crate::handout::outside_workspaces(&ws.root));
    let jail = Jail {
        read_only,
        writable: vec![ws.root.clone(), target],
        cwd: ws.root.clone(),
    };
    let mut cmd = Command::new(sb.program());
    cmd.args(sb.build_args(&jail, &program, &args)).env_clear();
    for var in BUILD_VARS {
        if let Some(v) = std::env::var_os(var) {
            cmd.env(var, v);
        }
    }
    Ok(cmd)
}

/// `program` as an absolute path (looked up on `PATH` if it is a bare name).
fn absolute_program(program: &Path) -> Option<PathBuf> {
    if program.is_absolute() {
        return Some(program.to_path_buf());
    }
    if program.components().count() > 1 {
        return std::fs::canonicalize(program).ok();
    }
    sandbox::on_path(&program.to_string_lossy())
}

/// Builds the test binaries of `scope` once and lists their tests.
///
/// The outer `Result` is the grader's own failure (cargo missing, a binary
/// that will not list its tests); the inner one is the code not compiling,
/// which is the student's failure and is scored, not raised.
pub fn build(
    ws: &Workspace,
    scope: Scope<'_>,
    opts: &BuildOptions,
) -> Result<std::result::Result<Built, BuildFailure>> {
    let mut args: Vec<std::ffi::OsString> = ["test", "--no-run", "--message-format=json"]
        .map(Into::into)
        .to_vec();
    let keep = match scope {
        Scope::Workspace { keep } => {
            args.push("--workspace".into());
            keep
        }
        Scope::Packages(packages) => {
            for p in packages {
                args.extend(["-p".into(), p.into()]);
            }
            packages
        }
    };
    if opts.profile == Profile::Release {
        args.push("--release".into());
    }
    if let Some(t) = &opts.target_dir {
        args.extend(["--target-dir".into(), t.into()]);
    }
    let mut cmd = match &opts.sandbox {
        Some(sb) => sandboxed_cargo(ws, sb, opts, args)?,
        None => {
            let mut cmd = Command::new(cargo());
            cmd.args(args);
            cmd
        }
    };
    cmd.envs(opts.env.iter().map(|(k, v)| (k, v)));
    cmd.current_dir(&ws.root)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit());
    let mut child = cmd
        .spawn()
        .context(|| "cannot run `cargo test --no-run` (is cargo on PATH?)".to_string())?;
    let stdout = child
        .stdout
        .take()
        .ok_or_else(|| GraderError::new("cargo's stdout was not captured"))?;
    let mut binaries = Vec::new();
    let mut errors = String::new();
    let mut warnings = Vec::new();
    for line in BufReader::new(stdout).lines() {
        let line = line.context(|| "cannot read cargo's output".to_string())?;
        let Ok(msg) = serde_json::from_str::<Message>(&line) else {
            continue;
        };
        match msg.reason.as_str() {
            "compiler-message" => {
                if let Some(d) = msg.message
                    && let Some(r) = d.rendered
                {
                    eprint!("{r}");
                    if d.level == "error" {
                        errors.push_str(&r);
                    } else if d.level == "warning" && !is_warning_tally(&d.message) {
                        warnings.push(r);
                    }
                }
            }
            "compiler-artifact" => {
                let (Some(exe), Some(target), Some(manifest)) =
                    (msg.executable, msg.target, msg.manifest_path)
                else {
                    continue;
                };
                if !msg.profile.is_some_and(|p| p.test) {
                    continue;
                }
                let package_dir = manifest.parent().map(Path::to_path_buf).unwrap_or_default();
                let Some(member) = ws.members.iter().find(|m| m.dir == package_dir) else {
                    continue;
                };
                if !keep.contains(&member.package.as_str()) {
                    continue;
                }
                binaries.push(TestBinary {
                    package: member.package.clone(),
                    is_lib: target.kind.iter().any(|k| k == "lib" || k == "rlib"),
                    target: target.name,
                    package_dir,
                    path: exe,
                    tests: Vec::new(),
                });
            }
            _ => {}
        }
    }
    let status = child
        .wait()
        .context(|| "cannot wait for cargo".to_string())?;
    if !status.success() {
        if errors.is_empty() {
            errors = format!("`cargo test --no-run` failed ({status}); see its output above");
        }
        return Ok(Err(BuildFailure { errors }));
    }
    for b in &mut binaries {
        b.tests = list_tests(&b.path)?;
    }
    Ok(Ok(Built { binaries, warnings }))
}

/// rustc's closing "N warnings emitted" line, which is not a warning of
/// its own.
fn is_warning_tally(message: &str) -> bool {
    message.ends_with("warning emitted") || message.ends_with("warnings emitted")
}

/// The tests in a libtest binary, by full name.
pub fn list_tests(binary: &Path) -> Result<Vec<String>> {
    let out = Command::new(binary)
        .args(["--list", "--format", "terse"])
        .stdin(Stdio::null())
        .output()
        .context(|| format!("cannot run {} --list", binary.display()))?;
    if !out.status.success() {
        return Err(GraderError::new(format!(
            "{} --list failed ({}): {}",
            binary.display(),
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        )));
    }
    Ok(parse_list(&String::from_utf8_lossy(&out.stdout)))
}

/// `name: test` lines of `--list --format terse`; benchmarks are skipped.
fn parse_list(text: &str) -> Vec<String> {
    text.lines()
        .filter_map(|l| l.strip_suffix(": test"))
        .map(str::to_owned)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_warning_tally_is_not_counted_as_a_warning() {
        assert!(is_warning_tally("2 warnings emitted"));
        assert!(is_warning_tally("1 warning emitted"));
        assert!(!is_warning_tally("unused variable: `x`"));
    }

    #[test]
    fn list_keeps_tests_and_drops_benchmarks() {
        let text = "a: test\nm::b: test\nbench_x: benchmark\n";
        assert_eq!(parse_list(text), vec!["a".to_string(), "m::b".to_string()]);
    }

    #[test]
    fn rerun_command_names_the_target_and_seed() {
        let b = TestBinary {
            package: "lab1-kvsrv".into(),
            target: "part_a".into(),
            is_lib: false,
            package_dir: PathBuf::new(),
            path: PathBuf::new(),
            tests: vec![],
        };
        assert_eq!(
            b.rerun_command("one_client", 7),
            "DISTLAB_SEED=7 cargo test -p lab1-kvsrv --test part_a -- --exact one_client"
        );
    }
}
