//! The student handout: the kit with the reference solutions cut out, the
//! skeletons selected, and a student README; then built with warnings as
//! errors to prove what students receive compiles cleanly.
//!
//! The transform follows the lab-crate pattern (see "The handout" in the grader's README):
//! lines between the reference-begin and reference-end marker comments are
//! deleted in `.rs` files and `Cargo.toml`s, lines that are exactly the
//! `not(feature = "reference")` cfg attribute are deleted, and every
//! `src/reference/` folder goes. `grader grade` builds submissions on the
//! same transformed tree, so a student's files replace the skeletons.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use crate::binaries::{self, BuildOptions, Profile, Scope};
use crate::error::{Context, GraderError, Result};
use crate::workspace::Workspace;

// Spelled in pieces so that this file, which is itself copied into the
// handout, does not contain the markers it removes.
/// The marker that opens a reference-only block.
pub const BEGIN: &str = concat!("distlab:", "reference-begin");
/// The marker that closes it.
pub const END: &str = concat!("distlab:", "reference-end");
/// The attribute on the skeleton's module lines, deleted in the handout.
const SKELETON_CFG: &str = concat!("#[cfg(not(feature = \"", "reference", "\"))]");

/// Folder and file names never copied.
const SKIPPED: &[&str] = &["target", ".git", "grader-out", ".ci"];

/// Deletes the reference-only parts of one file's `text`. `comment` is the
/// line-comment leader of its language (`//` or `#`); `path` is for errors.
pub fn strip_reference(text: &str, comment: &str, path: &Path) -> Result<String> {
    let begin = format!("{comment} {BEGIN}");
    let end = format!("{comment} {END}");
    let mut out = String::with_capacity(text.len());
    let mut open: Option<usize> = None;
    for (i, line) in text.split_inclusive('\n').enumerate() {
        let t = line.trim();
        if t.starts_with(&begin) {
            if let Some(at) = open {
                return Err(GraderError::new(format!(
                    "{}:{}: reference block opened again before the one at line {at} was closed",
                    path.display(),
                    i + 1
                )));
            }
            open = Some(i + 1);
        } else if t.starts_with(&end) {
            if open.take().is_none() {
                return Err(GraderError::new(format!(
                    "{}:{}: reference block closed without being opened",
                    path.display(),
                    i + 1
                )));
            }
        } else if open.is_none() && t != SKELETON_CFG {
            out.push_str(line);
        }
    }
    if let Some(at) = open {
        return Err(GraderError::new(format!(
            "{}:{at}: reference block never closed (add `{end}`)",
            path.display()
        )));
    }
    Ok(out)
}

/// Which labs a student tree holds, and which keep their reference.
#[derive(Clone, Debug, Default)]
pub struct TreePlan {
    /// The labs to include (indexes into the kit's labs), or all. Give the
    /// labs they use too ([`Workspace::uses_of`]); the others are left out
    /// of the tree and of its workspace members.
    pub labs: Option<Vec<usize>>,
    /// Labs copied untransformed, so they build their reference: what
    /// `grade --reference` builds a later lab on.
    pub keep_reference: Vec<usize>,
}

/// Copies the parts of `ws` a student tree needs into `dest` and applies
/// the transform. Nested workspaces (test fixtures) and build output are
/// left out.
pub fn prepare_tree(ws: &Workspace, dest: &Path, plan: &TreePlan) -> Result<()> {
    std::fs::create_dir_all(dest).context(|| format!("cannot create {}", dest.display()))?;
    for name in [
        "Cargo.toml",
        "Cargo.lock",
        "rustfmt.toml",
        ".rustfmt.toml",
        "rust-toolchain.toml",
        "clippy.toml",
        ".gitignore",
    ] {
        let src = ws.root.join(name);
        if src.is_file() {
            copy_file(&src, &dest.join(name))?;
        }
    }
    let mut tops: Vec<PathBuf> = ws
        .members
        .iter()
        .filter_map(|m| ws.relative(&m.dir).components().next())
        .map(|c| PathBuf::from(c.as_os_str()))
        .collect();
    tops.push(PathBuf::from("docs"));
    tops.sort();
    tops.dedup();
    let lab_dirs: Vec<&Path> = ws.labs.iter().map(|l| ws.relative(&l.dir)).collect();
    let included = |i: usize| plan.labs.as_ref().is_none_or(|l| l.contains(&i));
    let left_out: Vec<&Path> = (0..ws.labs.len())
        .filter(|&i| !included(i))
        .map(|i| lab_dirs[i])
        .collect();
    let untouched: Vec<PathBuf> = plan
        .keep_reference
        .iter()
        .map(|&i| dest.join(lab_dirs[i]))
        .collect();
    let grader_dir = ws
        .members
        .iter()
        .find(|m| m.package == env!("CARGO_PKG_NAME"))
        .map(|m| ws.relative(&m.dir));
    for top in tops {
        let src = ws.root.join(&top);
        if left_out.contains(&top.as_path()) {
            continue;
        }
        if top == Path::new("docs") && plan.labs.is_some() {
            copy_docs(ws, &src, &dest.join(&top), &included)?;
        } else if lab_dirs.contains(&top.as_path()) {
            copy_parts(&src, &dest.join(&top), LAB_PARTS)?;
        } else if grader_dir == Some(top.as_path()) {
            copy_parts(&src, &dest.join(&top), GRADER_PARTS)?;
        } else if src.is_dir() {
            copy_tree(&src, &dest.join(&top), true)?;
        }
    }
    for doc in INSTRUCTOR_DOCS {
        let path = dest.join("docs").join(doc);
        if path.is_file() {
            std::fs::remove_file(&path).context(|| format!("cannot remove {}", path.display()))?;
        }
    }
    pin_outside_path_deps(&ws.root, dest)?;
    if !left_out.is_empty() {
        drop_members(&dest.join("Cargo.toml"), &left_out)?;
    }
    transform_tree(dest, &untouched)?;
    Ok(())
}

/// Guides in `docs/` for instructors, not students: left out of the
/// handout (they name the kit's maintainer files, which it does not have).
const INSTRUCTOR_DOCS: &[&str] = &["grading-a-course.md"];

/// Where the kit keeps the clippy configuration students get: the runtime
/// facade's, which flags std's threads, locks, clock and channels.
const STUDENT_CLIPPY: &str = "student-clippy.toml";

/// Puts the facade's student clippy configuration in every included lab's
/// folder as `clippy.toml`, so `cargo clippy` there warns, with the facade
/// item to use, wherever student code blocks or tells time behind
/// `labrt`'s back. A kit without the `labrt` crate (the grader's test
/// fixtures) has none to give.
fn write_student_clippy(
    ws: &Workspace,
    dest: &Path,
    included: &dyn Fn(usize) -> bool,
) -> Result<()> {
    let Some(labrt) = ws.members.iter().find(|m| m.package == "labrt") else {
        return Ok(());
    };
    let src = labrt.dir.join(STUDENT_CLIPPY);
    let text = std::fs::read_to_string(&src).context(|| {
        format!(
            "cannot read {}: the handout gives it to every lab as clippy.toml",
            src.display()
        )
    })?;
    for (_, lab) in ws.labs.iter().enumerate().filter(|(i, _)| included(*i)) {
        crate::export::write(&dest.join(ws.relative(&lab.dir)).join("clippy.toml"), &text)?;
    }
    Ok(())
}

/// Copies `docs/` keeping, of the per-lab handouts (`docs/<package>.md`),
/// only those of included labs.
fn copy_docs(
    ws: &Workspace,
    src: &Path,
    dst: &Path,
    included: &dyn Fn(usize) -> bool,
) -> Result<()> {
    if !src.is_dir() {
        return Ok(());
    }
    copy_tree(src, dst, true)?;
    for (i, lab) in ws.labs.iter().enumerate() {
        let doc = dst.join(format!("{}.md", lab.package));
        if !included(i) && doc.is_file() {
            std::fs::remove_file(&doc).context(|| format!("cannot remove {}", doc.display()))?;
        }
    }
    Ok(())
}

/// Rewrites the `members = [...]` list of a workspace manifest without the
/// folders in `drop`, leaving the rest of the file (comments included) as
/// it was.
fn drop_members(manifest: &Path, drop: &[&Path]) -> Result<()> {
    let text = std::fs::read_to_string(manifest)
        .context(|| format!("cannot read {}", manifest.display()))?;
    let doc: toml::Table = text
        .parse()
        .context(|| format!("cannot parse {}", manifest.display()))?;
    let members: Vec<String> = doc
        .get("workspace")
        .and_then(|w| w.get("members"))
        .and_then(|m| m.as_array())
        .map(|a| {
            a.iter()
                .filter_map(|v| v.as_str())
                .filter(|m| !drop.iter().any(|d| Path::new(m) == *d))
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default();
    let start = text
        .lines()
        .scan(0, |at, line| {
            let here = *at;
            *at += line.len() + 1;
            Some((here, line))
        })
        .find(|(_, line)| line.trim_start().starts_with("members"))
        .map(|(at, _)| at);
    let Some(start) = start else {
        return Err(GraderError::new(format!(
            "{}: no `members = [...]` line to leave labs out of",
            manifest.display()
        )));
    };
    let Some(close) = text[start..].find(']').map(|i| start + i + 1) else {
        return Err(GraderError::new(format!(
            "{}: the members list is not closed",
            manifest.display()
        )));
    };
    let list: Vec<String> = members.iter().map(|m| format!("{m:?}")).collect();
    let new = format!(
        "{}members = [{}]{}",
        &text[..start],
        list.join(", "),
        &text[close..]
    );
    std::fs::write(manifest, new).context(|| format!("cannot write {}", manifest.display()))
}

/// What of a lab crate goes to students: what builds and tests it. Its
/// maintainer README (the reference's design, the planted-bug table) and
/// maintainer scripts stay behind; students get `docs/` instead.
const LAB_PARTS: &[&str] = &[
    "Cargo.toml",
    "grade.toml",
    "build.rs",
    "src",
    "tests",
    "benches",
    "examples",
];

/// What of the grader goes to students: the tool itself. Its own test
/// suite needs its fixtures, which stay in the kit.
const GRADER_PARTS: &[&str] = &["Cargo.toml", "README.md", "src"];

fn copy_parts(src: &Path, dst: &Path, parts: &[&str]) -> Result<()> {
    std::fs::create_dir_all(dst).context(|| format!("cannot create {}", dst.display()))?;
    for part in parts {
        let from = src.join(part);
        if from.is_dir() {
            copy_tree(&from, &dst.join(part), false)?;
        } else if from.is_file() {
            copy_file(&from, &dst.join(part))?;
        }
    }
    Ok(())
}

/// Rewrites `[workspace.dependencies]` path entries that point outside the
/// workspace (e.g. the grader's fixtures using the kit's testkit) to
/// absolute paths, so they still resolve from the copy. The kit itself has
/// none, and then its Cargo.toml is left byte for byte as it was.
fn pin_outside_path_deps(src_root: &Path, dest: &Path) -> Result<()> {
    let manifest = dest.join("Cargo.toml");
    let text = std::fs::read_to_string(&manifest)
        .context(|| format!("cannot read {}", manifest.display()))?;
    let mut doc: toml::Table = text
        .parse()
        .context(|| format!("cannot parse {}", manifest.display()))?;
    let Some(deps) = doc
        .get_mut("workspace")
        .and_then(|w| w.get_mut("dependencies"))
        .and_then(|d| d.as_table_mut())
    else {
        return Ok(());
    };
    let root = src_root
        .canonicalize()
        .unwrap_or_else(|_| src_root.to_path_buf());
    let mut changed = false;
    for (_, dep) in deps.iter_mut() {
        let Some(path) = dep.get("path").and_then(|p| p.as_str()) else {
            continue;
        };
        let Ok(abs) = root.join(path).canonicalize() else {
            continue;
        };
        if abs.starts_with(&root) {
            continue;
        }
        if let Some(t) = dep.as_table_mut() {
            t.insert(
                "path".into(),
                toml::Value::String(abs.display().to_string()),
            );
            changed = true;
        }
    }
    if changed {
        let text =
            toml::to_string(&doc).context(|| format!("cannot write {}", manifest.display()))?;
        std::fs::write(&manifest, text)
            .context(|| format!("cannot write {}", manifest.display()))?;
    }
    Ok(())
}

/// The workspaces outside `tree` that its `[workspace.dependencies]` name
/// by absolute path (as [`pin_outside_path_deps`] left them): what a
/// sandboxed build of the tree must see besides the tree. The kit's own
/// trees have none.
pub fn outside_workspaces(tree: &Path) -> Vec<PathBuf> {
    let Ok(text) = std::fs::read_to_string(tree.join("Cargo.toml")) else {
        return Vec::new();
    };
    let Ok(doc) = text.parse::<toml::Table>() else {
        return Vec::new();
    };
    let Some(deps) = doc
        .get("workspace")
        .and_then(|w| w.get("dependencies"))
        .and_then(|d| d.as_table())
    else {
        return Vec::new();
    };
    let mut out: Vec<PathBuf> = Vec::new();
    for dep in deps.values() {
        let Some(path) = dep.get("path").and_then(|p| p.as_str()).map(Path::new) else {
            continue;
        };
        if !path.is_absolute() || path.starts_with(tree) {
            continue;
        }
        // The dependency's own workspace: its manifest inherits from it.
        let root = crate::workspace::find_root(path).unwrap_or_else(|_| path.to_path_buf());
        if !out.contains(&root) {
            out.push(root);
        }
    }
    out
}

fn copy_file(src: &Path, dst: &Path) -> Result<()> {
    std::fs::copy(src, dst)
        .map(|_| ())
        .context(|| format!("cannot copy {} to {}", src.display(), dst.display()))
}

fn copy_tree(src: &Path, dst: &Path, top: bool) -> Result<()> {
    // A folder with its own [workspace] is another workspace (the grader's
    // fixtures): not part of this one.
    if !top && is_nested_workspace(src) {
        return Ok(());
    }
    std::fs::create_dir_all(dst).context(|| format!("cannot create {}", dst.display()))?;
    let entries = std::fs::read_dir(src).context(|| format!("cannot list {}", src.display()))?;
    for entry in entries {
        let entry = entry.context(|| format!("cannot list {}", src.display()))?;
        let name = entry.file_name();
        let name_str = name.to_string_lossy();
        if SKIPPED.contains(&name_str.as_ref()) || name_str.starts_with("target-") {
            continue;
        }
        let ty = entry
            .file_type()
            .context(|| format!("cannot stat {}", entry.path().display()))?;
        if ty.is_dir() {
            copy_tree(&entry.path(), &dst.join(&name), false)?;
        } else if ty.is_file() {
            copy_file(&entry.path(), &dst.join(&name))?;
        }
    }
    Ok(())
}

fn is_nested_workspace(dir: &Path) -> bool {
    std::fs::read_to_string(dir.join("Cargo.toml"))
        .ok()
        .and_then(|t| t.parse::<toml::Table>().ok())
        .is_some_and(|t| t.contains_key("workspace"))
}

/// Applies the transform to every file under `dir`, except under the
/// folders in `untouched`.
fn transform_tree(dir: &Path, untouched: &[PathBuf]) -> Result<()> {
    if untouched.iter().any(|u| u == dir) {
        return Ok(());
    }
    let entries = std::fs::read_dir(dir).context(|| format!("cannot list {}", dir.display()))?;
    for entry in entries {
        let entry = entry.context(|| format!("cannot list {}", dir.display()))?;
        let path = entry.path();
        if path.is_dir() {
            if path.file_name().is_some_and(|n| n == "reference")
                && dir.file_name().is_some_and(|n| n == "src")
            {
                std::fs::remove_dir_all(&path)
                    .context(|| format!("cannot remove {}", path.display()))?;
                continue;
            }
            transform_tree(&path, untouched)?;
            continue;
        }
        let comment = match path.file_name().and_then(|n| n.to_str()) {
            Some("Cargo.toml") => "#",
            Some(n) if n.ends_with(".rs") => "//",
            _ => continue,
        };
        let text =
            std::fs::read_to_string(&path).context(|| format!("cannot read {}", path.display()))?;
        let stripped = strip_reference(&text, comment, &path)?;
        if stripped != text {
            std::fs::write(&path, stripped)
                .context(|| format!("cannot write {}", path.display()))?;
        }
    }
    Ok(())
}

/// Files under `dir` that still hold a marker or a `src/reference` folder.
pub fn leftovers(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for entry in entries.flatten() {
            let p = entry.path();
            if p.is_dir() {
                if p.file_name().is_some_and(|n| n == "target") {
                    continue;
                }
                if p.file_name().is_some_and(|n| n == "reference")
                    && d.file_name().is_some_and(|n| n == "src")
                {
                    found.push(p);
                } else {
                    stack.push(p);
                }
            } else if let Ok(text) = std::fs::read_to_string(&p)
                && (text.contains(BEGIN) || text.contains(END))
            {
                found.push(p);
            }
        }
    }
    found
}

/// How to write a handout.
#[derive(Clone, Debug)]
pub struct HandoutOptions {
    /// Build the handout afterwards (with warnings as errors).
    pub build: bool,
    /// Target directory for that build (default: OUT_DIR/target).
    pub target_dir: Option<PathBuf>,
    /// Write into a non-empty OUT_DIR.
    pub force: bool,
    /// Which labs to write.
    pub plan: TreePlan,
    /// Write over a student's existing workspace, keeping their files.
    pub update: bool,
}

/// Writes the student workspace for `ws` into `out`.
pub fn write_handout(ws: &Workspace, out: &Path, opts: &HandoutOptions) -> Result<()> {
    let mut plan = opts.plan.clone();
    let staging;
    let dest: &Path = if opts.update {
        if !out.join("Cargo.toml").is_file() {
            return Err(GraderError::new(format!(
                "--update: {} holds no workspace (no Cargo.toml); give the folder of the student's existing handout",
                out.display()
            )));
        }
        // The labs the student has stay in the workspace.
        if let Some(labs) = plan.labs.as_mut() {
            for (i, lab) in ws.labs.iter().enumerate() {
                if out.join(ws.relative(&lab.dir)).join("grade.toml").is_file()
                    && !labs.contains(&i)
                {
                    labs.push(i);
                }
            }
            labs.sort_unstable();
        }
        staging = tempfile::Builder::new()
            .prefix("grader-handout-")
            .tempdir()
            .context(|| "cannot create a temporary folder".to_string())?;
        staging.path()
    } else {
        if out.exists() {
            let nonempty = std::fs::read_dir(out)
                .context(|| format!("cannot list {}", out.display()))?
                .next()
                .is_some();
            if nonempty && !opts.force {
                return Err(GraderError::new(format!(
                    "{} exists and is not empty; choose a new folder, pass --force to write over it, or --update to bring new labs and fixed tests into a student's workspace",
                    out.display()
                )));
            }
        }
        out
    };
    prepare_tree(ws, dest, &plan)?;
    let left = leftovers(dest);
    if !left.is_empty() {
        let list: Vec<String> = left.iter().map(|p| p.display().to_string()).collect();
        return Err(GraderError::new(format!(
            "reference code remains in the handout: {}",
            list.join(", ")
        )));
    }
    let included = |i: usize| plan.labs.as_ref().is_none_or(|l| l.contains(&i));
    write_student_clippy(ws, dest, &included)?;
    crate::export::write(&dest.join("README.md"), &student_readme(ws, &included))?;
    if !dest.join(".gitignore").exists() {
        crate::export::write(&dest.join(".gitignore"), "/target\n/grader-out\n")?;
    }
    let findings = crate::doclint::check_handout(dest)
        .context(|| format!("cannot read back the handout in {}", dest.display()))?;
    if !findings.is_empty() {
        let list: Vec<String> = findings.iter().map(ToString::to_string).collect();
        return Err(GraderError::new(format!(
            "the handout would tell students what is not so ({} problem(s)); fix the kit's docs:\n{}",
            list.len(),
            list.join("\n")
        )));
    }
    if opts.update {
        let kept = merge_update(ws, dest, out)?;
        println!(
            "{} updated; the student's own files were kept: {}",
            out.display(),
            if kept.is_empty() {
                "(none yet)".to_owned()
            } else {
                kept.join(", ")
            }
        );
    } else {
        println!("handout written to {}", out.display());
    }
    if opts.build {
        check_build(out, opts.target_dir.clone())?;
    }
    Ok(())
}

/// Copies a freshly written handout `from` over a student's workspace
/// `to`, except the student files (`student_files` of every lab) that
/// `to` already has: new labs, fixed tests, harness and docs come in, the
/// student's work stays. Files only the student has are left alone.
/// Returns the student files kept.
fn merge_update(ws: &Workspace, from: &Path, to: &Path) -> Result<Vec<String>> {
    let student: Vec<PathBuf> = ws
        .labs
        .iter()
        .flat_map(|l| {
            l.grade
                .lab
                .student_files
                .iter()
                .map(|f| ws.relative(&l.dir).join(f))
        })
        .collect();
    let mut kept = Vec::new();
    let mut stack = vec![from.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let entries =
            std::fs::read_dir(&dir).context(|| format!("cannot list {}", dir.display()))?;
        for entry in entries {
            let entry = entry.context(|| format!("cannot list {}", dir.display()))?;
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
                continue;
            }
            let rel = path.strip_prefix(from).unwrap_or(&path).to_path_buf();
            let dst = to.join(&rel);
            if student.contains(&rel) && dst.exists() {
                kept.push(rel.display().to_string());
                continue;
            }
            if let Some(parent) = dst.parent() {
                std::fs::create_dir_all(parent)
                    .context(|| format!("cannot create {}", parent.display()))?;
            }
            copy_file(&path, &dst)?;
        }
    }
    kept.sort();
    Ok(kept)
}

/// Builds the handout's tests exactly as the student's first
/// `cargo test --workspace` will (same profile, same flags, same target
/// folder unless told otherwise), and fails on any compiler warning in the
/// workspace's crates. Warnings are read from cargo's messages rather than
/// forced into errors with `RUSTFLAGS=-Dwarnings`: changed flags would make
/// the student's first build start over.
fn check_build(out: &Path, target_dir: Option<PathBuf>) -> Result<()> {
    let target = target_dir.unwrap_or_else(|| out.join("target"));
    println!(
        "building its tests as `cargo test --workspace` will (target dir {}) ...",
        target.display()
    );
    let ws = Workspace::load(out)?;
    let opts = BuildOptions {
        profile: Profile::Test,
        target_dir: Some(target),
        env: Vec::new(),
        sandbox: None,
    };
    let built = binaries::build(&ws, Scope::Workspace { keep: &[] }, &opts)?.map_err(|f| {
        GraderError::new(format!(
            "the handout in {} does not build; fix the skeletons:\n{}",
            out.display(),
            f.errors
        ))
    })?;
    if !built.warnings.is_empty() {
        return Err(GraderError::new(format!(
            "the handout in {} builds with {} warning(s) (shown above); students must start warning-free: fix the skeletons",
            out.display(),
            built.warnings.len()
        )));
    }
    println!("the handout builds warning-free");
    Ok(())
}

/// The README students get at the top of the handout.
pub fn student_readme(ws: &Workspace, included: &dyn Fn(usize) -> bool) -> String {
    let mut s = String::new();
    s.push_str(
        "# distlab: your lab workspace\n\n\
         A Cargo workspace with a simulated network (`labrpc`), test plumbing (`testkit`),\n\
         history checkers (`labcheck`), the grader, and one crate per lab. Each lab crate\n\
         holds a skeleton for you to fill in; the tests and their harness are already\n\
         there.\n\n",
    );
    if ws.root.join("docs").is_dir() {
        s.push_str("The handout for each lab is in `docs/`.\n\n");
    }
    s.push_str(
        "## Test\n\n\
         The first command builds everything (a few minutes the first time; later builds\n\
         are incremental). Add `--no-fail-fast`, or plain `cargo test` stops at the first\n\
         part whose tests fail and never shows you the others:\n\n\
         ```sh\n\
         cargo test --workspace --no-fail-fast          # every test of every lab\n\
         cargo test -p LAB --no-fail-fast               # every test of one lab, e.g. -p lab1-kvsrv\n\
         cargo test -p LAB NAME                         # the tests whose name contains NAME\n\
         ```\n\n\
         A failure prints what the test saw, the seed, and the command that reruns it with\n\
         that seed, e.g. `DISTLAB_SEED=123 cargo test -p LAB --test part_a -- --exact NAME`.\n\
         The seed repeats the network's faults and the workload, not the thread\n\
         interleaving, so a rare failure may need a few reruns. `DISTLAB_LOG=debug` turns on\n\
         logs (`DISTLAB_LOG=vote,append=debug` picks topics); `RUST_BACKTRACE=1` adds a\n\
         backtrace to each failure.\n\n\
         ## Stress your code with the grader\n\n\
         Concurrency bugs show up once in hundreds of runs. The grader runs each test in its\n\
         own process, many at a time, with a fresh seed each run, and keeps the log of every\n\
         failing run (named with its seed) under `grader-out/`:\n\n\
         ```sh\n\
         cargo run --release -p grader -- list                        # labs, parts, tests, points\n\
         cargo run --release -p grader -- stress LAB/PART             # every test of a part, 100 runs each\n\
         cargo run --release -p grader -- stress LAB --test NAME --until-fail\n\
         ```\n\n\
         ## Grade yourself\n\n\
         This is what the course runs on your submission (below), run here on your files:\n\n\
         ```sh\n\
         cargo run --release -p grader -- grade . --lab LAB            # e.g. --lab lab1; add -n 10 for 10 runs of each test\n\
         ```\n\n\
         ## The labs and the files you edit\n\n",
    );
    for (_, lab) in ws.labs.iter().enumerate().filter(|(i, _)| included(*i)) {
        let g = &lab.grade;
        let rel = ws.relative(&lab.dir).display().to_string();
        let _ = writeln!(
            s,
            "### {} ({}): {}\n",
            lab.package,
            lab.short(),
            g.lab.title
        );
        let doc = ws.root.join("docs").join(format!("{}.md", lab.package));
        if doc.is_file() {
            let _ = writeln!(s, "Read `docs/{}.md` first.\n", lab.package);
        }
        if g.lab.student_files.is_empty() {
            s.push_str("Files you edit: see the lab's handout.\n\n");
        } else {
            s.push_str("Files you edit and submit:\n\n");
            for f in &g.lab.student_files {
                let _ = writeln!(s, "- `{rel}/{f}`");
            }
            s.push('\n');
        }
        let _ = writeln!(
            s,
            "Parts (scored with the `{}` policy over repeated runs):\n",
            g.lab.policy.name()
        );
        for (name, part) in &g.parts {
            let points: f64 = g
                .tests
                .values()
                .filter(|t| t.part == *name)
                .map(|t| t.points)
                .sum();
            let gate = if part.requires.is_empty() {
                String::new()
            } else {
                format!("; counts only if part {} scores", part.requires.join(", "))
            };
            let _ = writeln!(
                s,
                "- {name}: {} ({points} points{gate}): `cargo run --release -p grader -- run {}/{name}`",
                part.title,
                lab.short()
            );
        }
        s.push('\n');
    }
    s.push_str(&crate::policy::handout_text());
    s.push_str(
        "## How you are graded\n\n\
         The course runs `grader grade` on your submission: it takes only the files listed\n\
         above from it and lays the pristine tests, harness and `grade.toml` over them, so\n\
         changing a test or a budget changes nothing. Each test runs several times; a run\n\
         passes only if the test passes within its time, memory and RPC budgets\n\
         (`grade.toml`).\n",
    );
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p() -> PathBuf {
        PathBuf::from("x.rs")
    }

    #[test]
    fn reference_blocks_and_skeleton_cfg_are_removed() {
        let text = format!(
            "{SKELETON_CFG}\nmod server;\n// {BEGIN}\n#[cfg(feature = \"reference\")]\n#[path = \"reference/server.rs\"]\nmod server;\n// {END}\npub use server::KvServer;\n"
        );
        let out = strip_reference(&text, "//", &p()).expect("balanced markers");
        assert_eq!(out, "mod server;\npub use server::KvServer;\n");
    }

    #[test]
    fn toml_markers_use_hash_comments() {
        let text =
            format!("[features]\n# {BEGIN}\ndefault = [\"reference\"]\nreference = []\n# {END}\n");
        let out = strip_reference(&text, "#", &p()).expect("balanced markers");
        assert_eq!(out, "[features]\n");
    }

    #[test]
    fn indented_markers_count_too() {
        let text = format!("fn f() {{\n    // {BEGIN}\n    secret();\n    // {END}\n}}\n");
        let out = strip_reference(&text, "//", &p()).expect("balanced markers");
        assert_eq!(out, "fn f() {\n}\n");
    }

    #[test]
    fn unclosed_block_is_an_error_naming_the_line() {
        let text = format!("a\n// {BEGIN}\nb\n");
        let e = strip_reference(&text, "//", &p()).expect_err("unclosed");
        assert!(e.0.starts_with("x.rs:2:"), "{e}");
    }

    #[test]
    fn stray_end_marker_is_an_error() {
        let text = format!("a\n// {END}\n");
        let e = strip_reference(&text, "//", &p()).expect_err("stray end");
        assert!(e.0.contains("without being opened"), "{e}");
    }

    #[test]
    fn a_marker_inside_a_string_is_not_a_marker() {
        let text = format!("let m = \"// {BEGIN}\";\n");
        let out = strip_reference(&text, "//", &p()).expect("no markers");
        assert_eq!(out, text);
    }
}
