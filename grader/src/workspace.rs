//! The kit being graded: its workspace root, its packages and its labs (the
//! members that carry a `grade.toml`), and how `LAB[/PART]` arguments pick
//! among them.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde::Deserialize;
use testkit::grade::GradeFile;

use crate::error::{Context, GraderError, Result};

/// One lab: a workspace member with a `grade.toml`.
#[derive(Clone, Debug)]
pub struct Lab {
    /// The Cargo package, e.g. `lab1-kvsrv`.
    pub package: String,
    /// The crate's directory.
    pub dir: PathBuf,
    /// Its parsed `grade.toml`.
    pub grade: GradeFile,
}

impl Lab {
    /// The short name students type: `lab1` for `lab1-kvsrv`.
    pub fn short(&self) -> &str {
        self.package.split('-').next().unwrap_or(&self.package)
    }
}

/// A workspace member (lab or not).
#[derive(Clone, Debug)]
pub struct Member {
    /// The Cargo package name.
    pub package: String,
    /// The crate's directory.
    pub dir: PathBuf,
}

/// A Cargo workspace and the labs in it.
#[derive(Clone, Debug)]
pub struct Workspace {
    /// The directory holding the workspace's `Cargo.toml`.
    pub root: PathBuf,
    /// Every member, labs included.
    pub members: Vec<Member>,
    /// The labs, in package-name order.
    pub labs: Vec<Lab>,
}

/// What a `LAB[/PART]` argument chose.
#[derive(Clone, Debug)]
pub struct Selection {
    /// Index into [`Workspace::labs`].
    pub lab: usize,
    /// The part, when one was named.
    pub part: Option<String>,
}

#[derive(Deserialize)]
struct Metadata {
    workspace_root: PathBuf,
    packages: Vec<MetaPackage>,
    workspace_members: Vec<String>,
}

#[derive(Deserialize)]
struct MetaPackage {
    name: String,
    id: String,
    manifest_path: PathBuf,
}

impl Workspace {
    /// The workspace at `dir` if given, else the one enclosing the current
    /// directory.
    pub fn open(dir: Option<&Path>) -> Result<Workspace> {
        let root = match dir {
            Some(d) => {
                let d = d
                    .canonicalize()
                    .context(|| format!("cannot open workspace {}", d.display()))?;
                if !is_workspace_root(&d) {
                    return Err(GraderError::new(format!(
                        "{} has no Cargo.toml with a [workspace] table; pass the kit's root to --workspace",
                        d.display()
                    )));
                }
                d
            }
            None => {
                let here = std::env::current_dir()
                    .context(|| "cannot read the current directory".to_string())?;
                find_root(&here)?
            }
        };
        Workspace::load(&root)
    }

    /// Reads the members of the workspace at `root` with `cargo metadata`.
    pub fn load(root: &Path) -> Result<Workspace> {
        let out = Command::new(cargo())
            .args(["metadata", "--no-deps", "--format-version", "1"])
            .current_dir(root)
            .output()
            .context(|| "cannot run `cargo metadata` (is cargo on PATH?)".to_string())?;
        if !out.status.success() {
            return Err(GraderError::new(format!(
                "`cargo metadata` failed in {}:\n{}",
                root.display(),
                String::from_utf8_lossy(&out.stderr).trim()
            )));
        }
        let meta: Metadata = serde_json::from_slice(&out.stdout)
            .context(|| "cannot read `cargo metadata` output".to_string())?;
        let mut members = Vec::new();
        let mut labs = Vec::new();
        for p in meta
            .packages
            .into_iter()
            .filter(|p| meta.workspace_members.contains(&p.id))
        {
            let dir = p
                .manifest_path
                .parent()
                .map(Path::to_path_buf)
                .unwrap_or_default();
            let grade_path = dir.join("grade.toml");
            if grade_path.is_file() {
                let grade =
                    GradeFile::load(&grade_path).map_err(|e| GraderError::new(e.to_string()))?;
                if grade.lab.name != p.name {
                    return Err(GraderError::new(format!(
                        "{}: lab.name is {:?} but the crate's package is {:?}; they must match",
                        grade_path.display(),
                        grade.lab.name,
                        p.name
                    )));
                }
                labs.push(Lab {
                    package: p.name.clone(),
                    dir: dir.clone(),
                    grade,
                });
            }
            members.push(Member {
                package: p.name,
                dir,
            });
        }
        labs.sort_by(|a, b| a.package.cmp(&b.package));
        let ws = Workspace {
            root: meta.workspace_root,
            members,
            labs,
        };
        ws.check_uses()?;
        Ok(ws)
    }

    /// Every `uses` names a lab of this workspace, without cycles, and
    /// every cross-lab `requires` names a part that lab declares.
    fn check_uses(&self) -> Result<()> {
        for lab in &self.labs {
            let path = &lab.grade.path;
            for used in &lab.grade.lab.uses {
                if !self.labs.iter().any(|l| l.package == *used) {
                    return Err(GraderError::new(format!(
                        "{}: lab.uses names {used:?}, which is not a lab of this workspace; labs: {}",
                        path.display(),
                        self.lab_names()
                    )));
                }
            }
            for (name, part) in &lab.grade.parts {
                for (other, other_part) in part.requires.iter().filter_map(|r| r.split_once('/')) {
                    let declared = self
                        .labs
                        .iter()
                        .find(|l| l.package == other)
                        .is_some_and(|l| l.grade.parts.contains_key(other_part));
                    if !declared {
                        return Err(GraderError::new(format!(
                            "{}: parts.{name}.requires names part {other_part:?} of {other}, which {other}'s grade.toml does not declare",
                            path.display()
                        )));
                    }
                }
            }
        }
        for i in 0..self.labs.len() {
            if self.uses_of(&[i]).contains(&i) {
                return Err(GraderError::new(format!(
                    "{}: lab.uses forms a cycle through {}; a lab cannot build on itself",
                    self.labs[i].grade.path.display(),
                    self.labs[i].package
                )));
            }
        }
        Ok(())
    }

    /// The labs `labs` build on, directly or through others (`uses`),
    /// not counting `labs` themselves unless a cycle leads back to them.
    pub fn uses_of(&self, labs: &[usize]) -> Vec<usize> {
        let mut found: Vec<usize> = Vec::new();
        let mut stack: Vec<usize> = labs.to_vec();
        while let Some(i) = stack.pop() {
            for used in &self.labs[i].grade.lab.uses {
                if let Some(j) = self.labs.iter().position(|l| l.package == *used)
                    && !found.contains(&j)
                {
                    found.push(j);
                    stack.push(j);
                }
            }
        }
        found.sort_unstable();
        found
    }

    /// The lab a `LAB` argument names: the package name or its short form.
    pub fn find_lab(&self, name: &str) -> Result<usize> {
        if let Some(i) = self.labs.iter().position(|l| l.package == name) {
            return Ok(i);
        }
        let short: Vec<usize> = (0..self.labs.len())
            .filter(|&i| self.labs[i].short() == name)
            .collect();
        match short.as_slice() {
            [i] => Ok(*i),
            _ => Err(GraderError::new(format!(
                "no lab {name:?} in {}; labs: {}",
                self.root.display(),
                self.lab_names()
            ))),
        }
    }

    /// Resolves `LAB[/PART]` arguments; none means every lab.
    pub fn select(&self, args: &[String]) -> Result<Vec<Selection>> {
        if self.labs.is_empty() {
            return Err(GraderError::new(format!(
                "the workspace at {} has no labs (no member has a grade.toml)",
                self.root.display()
            )));
        }
        if args.is_empty() {
            return Ok((0..self.labs.len())
                .map(|lab| Selection { lab, part: None })
                .collect());
        }
        let mut out = Vec::new();
        for arg in args {
            let (lab_name, part) = match arg.split_once('/') {
                Some((l, p)) => (l, Some(p.to_owned())),
                None => (arg.as_str(), None),
            };
            let lab = self.find_lab(lab_name)?;
            if let Some(p) = &part {
                let grade = &self.labs[lab].grade;
                if !grade.parts.contains_key(p) {
                    let parts: Vec<&str> = grade.parts.keys().map(String::as_str).collect();
                    return Err(GraderError::new(format!(
                        "lab {} has no part {p:?}; parts: {}",
                        self.labs[lab].package,
                        parts.join(", ")
                    )));
                }
            }
            out.push(Selection { lab, part });
        }
        Ok(out)
    }

    /// `a, b, c` of the labs' package names, for messages.
    pub fn lab_names(&self) -> String {
        if self.labs.is_empty() {
            return "(none)".into();
        }
        self.labs
            .iter()
            .map(|l| format!("{} ({})", l.package, l.short()))
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// `path` relative to the workspace root, for messages and overlays.
    pub fn relative<'a>(&self, path: &'a Path) -> &'a Path {
        path.strip_prefix(&self.root).unwrap_or(path)
    }
}

/// The `cargo` the grader runs: `$CARGO` when a cargo command started us.
pub fn cargo() -> PathBuf {
    std::env::var_os("CARGO").map_or_else(|| PathBuf::from("cargo"), PathBuf::from)
}

fn is_workspace_root(dir: &Path) -> bool {
    let Ok(text) = std::fs::read_to_string(dir.join("Cargo.toml")) else {
        return false;
    };
    text.parse::<toml::Table>()
        .map(|t| t.contains_key("workspace"))
        .unwrap_or(false)
}

/// The nearest directory at or above `start` whose Cargo.toml has
/// `[workspace]`.
pub fn find_root(start: &Path) -> Result<PathBuf> {
    let mut dir = Some(start);
    while let Some(d) = dir {
        if is_workspace_root(d) {
            return Ok(d.to_path_buf());
        }
        dir = d.parent();
    }
    Err(GraderError::new(format!(
        "no Cargo workspace at or above {}; run the grader inside the kit or pass --workspace DIR",
        start.display()
    )))
}
