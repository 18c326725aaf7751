//! Checks that what the docs tell a reader to type, and the files they name,
//! are real: every quoted grader command parses with the grader's own
//! command line, and every path in backticks exists. The kit's docs are
//! checked by a unit test; a handout's docs are checked when it is written,
//! with extra rules for what students must not be told.

use std::path::{Path, PathBuf};

use clap::Parser as _;

use crate::cli::Cli;

/// One problem found in a document, with where it is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Finding {
    /// The document.
    pub file: PathBuf,
    /// 1-based line number.
    pub line: usize,
    /// What is wrong there.
    pub problem: String,
}

impl std::fmt::Display for Finding {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}: {}", self.file.display(), self.line, self.problem)
    }
}

/// How the docs invoke the grader through cargo.
const GRADER_PREFIXES: &[&str] = &["cargo run --release -p grader", "cargo run -p grader"];

/// The grader command lines quoted in `text`: `(line number, arguments
/// after the program name)`. A command ends at a closing backtick or a `#`
/// comment; one that continues on the next line is not recognised.
pub fn grader_commands(text: &str) -> Vec<(usize, Vec<String>)> {
    let mut found = Vec::new();
    for (i, line) in text.lines().enumerate() {
        for prefix in GRADER_PREFIXES {
            let mut rest = line;
            while let Some(at) = rest.find(prefix) {
                let after = &rest[at + prefix.len()..];
                rest = after;
                // `cargo run -p grader` must be the whole word, not `-p grader-x`.
                if after.starts_with(|c: char| !c.is_whitespace() && c != '`') {
                    continue;
                }
                let end = after.find(['`', '#']).unwrap_or(after.len());
                let words: Vec<&str> = after[..end].split_whitespace().collect();
                let args = match words.split_first() {
                    Some((&"--", args)) => args.iter().map(|w| (*w).to_owned()).collect(),
                    Some(_) => continue, // cargo options of its own: not ours to parse
                    None => Vec::new(),
                };
                found.push((i + 1, args));
            }
        }
    }
    found
}

/// Why `args` (a quoted grader command) does not parse, if it does not.
pub fn parse_problem(args: &[String]) -> Option<String> {
    let argv = std::iter::once("grader".to_owned()).chain(args.iter().cloned());
    let err = Cli::try_parse_from(argv).err()?;
    // `--help` and `--version` "fail" by printing; that is what they are for.
    if matches!(
        err.kind(),
        clap::error::ErrorKind::DisplayHelp | clap::error::ErrorKind::DisplayVersion
    ) {
        return None;
    }
    Some(err).map(|e| {
        let first = e.to_string();
        let first = first.lines().next().unwrap_or("").to_owned();
        format!("`grader {}` does not parse: {first}", args.join(" "))
    })
}

/// The paths named in backticks in `text`: `(line number, path)`. A path
/// has a `/` or a file extension the kit uses, and only the characters of
/// file names; placeholders (`LAB/PART`, `<stamp>`), globs, absolute paths
/// and command lines are not paths.
pub fn named_paths(text: &str) -> Vec<(usize, String)> {
    let mut found = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let mut parts = line.split('`');
        parts.next(); // before the first backtick
        while let Some(span) = parts.next() {
            if is_path(span) {
                found.push((i + 1, span.to_owned()));
            }
            parts.next(); // the text between this span and the next
        }
    }
    found
}

fn is_path(span: &str) -> bool {
    const EXTS: &[&str] = &[".rs", ".md", ".toml", ".sh", ".tsv", ".json", ".lock"];
    // File names whose capitals are real, not a placeholder's.
    const CAPITALISED: &[&str] = &["README", "LICENSE", "SHA256SUMS", "Cargo", "DESIGN"];
    let name_chars = |c: char| c.is_ascii_alphanumeric() || "_-./".contains(c);
    if span.is_empty() || !span.chars().all(name_chars) || span.starts_with('/') {
        return false;
    }
    let segments: Vec<&str> = span.split('/').filter(|s| !s.is_empty()).collect();
    // Capitals mark placeholders: `LAB/PART`, `src/X.rs`, `etcd_NNN.log`.
    let placeholder = segments.iter().any(|seg| {
        let stem = seg.split('.').next().unwrap_or(seg);
        stem.chars().any(|c| c.is_ascii_uppercase()) && !CAPITALISED.contains(&stem)
    });
    // `github.com/...` is an address, not a file of ours.
    let address = segments.len() > 1 && segments[0].contains('.') && !segments[0].starts_with('.');
    // `lab2/B`-style selectors: a short lab name, then a part.
    let selector = span
        .split_once('/')
        .is_some_and(|(a, b)| a.starts_with("lab") && !a.contains('-') && !b.contains('.'));
    if placeholder || address || selector || segments.is_empty() {
        return false;
    }
    let stemmed_ext = |e: &&str| span.len() > e.len() && span.ends_with(e);
    if span.contains('/') {
        segments.iter().any(|s| s.len() > 1)
    } else {
        // A bare file name is usually relative to a folder the text has in
        // mind; only scripts, which a reader is told to run, are checked.
        EXTS.iter().filter(|e| **e == ".sh").any(stemmed_ext)
    }
}

/// Checks one document: every quoted grader command parses and every named
/// path exists under one of `roots` (or is one of `generated`: folders the
/// tools create, such as `grader-out`).
pub fn check_doc(file: &Path, text: &str, roots: &[PathBuf], generated: &[&str]) -> Vec<Finding> {
    let mut out = Vec::new();
    for (line, args) in grader_commands(text) {
        if let Some(problem) = parse_problem(&args) {
            out.push(Finding {
                file: file.to_owned(),
                line,
                problem,
            });
        }
    }
    for (line, path) in named_paths(text) {
        let made = generated
            .iter()
            .any(|g| path == *g || path.starts_with(&format!("{g}/")));
        let trimmed = path.trim_end_matches('/');
        if !made && !roots.iter().any(|r| r.join(trimmed).exists()) {
            out.push(Finding {
                file: file.to_owned(),
                line,
                problem: format!("names `{path}`, which does not exist"),
            });
        }
    }
    out
}

/// Text students must not be told: kit-only ways of building.
const KIT_ONLY: &[&str] = &[
    "--no-default-features",
    "`reference` feature",
    "reference feature",
    "src/reference",
];

/// Lines of a handout file that speak of the kit rather than to a student.
pub fn kit_only_lines(file: &Path, text: &str) -> Vec<Finding> {
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        for bad in KIT_ONLY {
            if line.contains(bad) {
                out.push(Finding {
                    file: file.to_owned(),
                    line: i + 1,
                    problem: format!("mentions {bad:?}, which the handout does not have"),
                });
            }
        }
    }
    out
}

/// Every file under `dir` whose name ends with one of `exts`, skipping
/// build output, version control and nested workspaces other than `dir`.
pub fn files_with(dir: &Path, exts: &[&str]) -> std::io::Result<Vec<PathBuf>> {
    let mut found = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d)? {
            let entry = entry?;
            let path = entry.path();
            let name = entry.file_name().to_string_lossy().into_owned();
            if entry.file_type()?.is_dir() {
                let skip = name.starts_with('.') && name != ".ci"
                    || name.starts_with("target")
                    || name == "grader-out";
                if !skip {
                    stack.push(path);
                }
            } else if exts.iter().any(|e| name.ends_with(e)) {
                found.push(path);
            }
        }
    }
    found.sort();
    Ok(found)
}

/// The workspace members under `root`: folders holding a `Cargo.toml`.
fn member_dirs(root: &Path) -> Vec<PathBuf> {
    let mut members: Vec<PathBuf> = std::fs::read_dir(root)
        .map(|d| {
            d.flatten()
                .map(|e| e.path())
                .filter(|p| p.join("Cargo.toml").is_file())
                .collect()
        })
        .unwrap_or_default();
    members.sort();
    members
}

/// Checks every Markdown file under `root` (a kit or a handout): quoted
/// grader commands parse, and named paths exist relative to the root, the
/// document's folder or a member crate. Vendored data under `testdata/`
/// describes its upstream's layout and is skipped; so are the Markdown files
/// `skip` names relative to the root.
pub fn check_docs(root: &Path, skip: &dyn Fn(&Path) -> bool) -> std::io::Result<Vec<Finding>> {
    let members = member_dirs(root);
    let mut out = Vec::new();
    for file in files_with(root, &[".md"])? {
        let rel = file.strip_prefix(root).unwrap_or(&file).to_path_buf();
        if rel.components().any(|c| c.as_os_str() == "testdata") || skip(&rel) {
            continue;
        }
        let text = std::fs::read_to_string(&file)?;
        let mut roots = vec![root.to_path_buf()];
        roots.extend(file.parent().map(Path::to_path_buf));
        roots.extend(members.iter().cloned());
        // A crate's README may name files of its data sets by their path
        // inside the set (`kv/c10-ok.txt`).
        if let Some(data) = file.parent().map(|d| d.join("testdata"))
            && let Ok(sets) = std::fs::read_dir(&data)
        {
            roots.extend(sets.flatten().map(|e| e.path()).filter(|p| p.is_dir()));
        }
        out.extend(check_doc(&rel, &text, &roots, &["grader-out", "target"]));
    }
    Ok(out)
}

/// Checks a written handout at `root`: its docs' commands and paths, and
/// that neither docs nor sources speak of kit-only features. The grader's
/// own README describes the kit it came from (its fixtures, its tests) and
/// is held to the kit's check instead.
pub fn check_handout(root: &Path) -> std::io::Result<Vec<Finding>> {
    let mut out = Vec::new();
    for file in files_with(root, &[".md", ".rs", ".toml"])? {
        let rel = file.strip_prefix(root).unwrap_or(&file).to_path_buf();
        // The grader's own sources name the transform's rules; they are
        // tools, not instructions to students.
        if !rel.starts_with("grader") {
            let text = std::fs::read_to_string(&file)?;
            out.extend(kit_only_lines(&rel, &text));
        }
    }
    out.extend(check_docs(root, &|rel| rel.starts_with("grader"))?);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_are_found_with_and_without_arguments() {
        let text = "run `cargo run --release -p grader` now\n\
                    cargo run --release -p grader -- run lab1 -n 20   # twenty\n\
                    `cargo run -p grader -- list` and `cargo run -p graderx -- no`\n";
        let found = grader_commands(text);
        assert_eq!(
            found,
            vec![
                (1, vec![]),
                (
                    2,
                    vec!["run".into(), "lab1".into(), "-n".into(), "20".into()]
                ),
                (3, vec!["list".into()]),
            ]
        );
    }

    #[test]
    fn a_command_that_does_not_parse_is_reported() {
        assert!(parse_problem(&["run".into(), "-n".into(), "20".into()]).is_none());
        let p = parse_problem(&["run".into(), "--frobnicate".into()]).expect("bad flag");
        assert!(p.contains("--frobnicate"), "{p}");
    }

    #[test]
    fn paths_are_told_from_placeholders_and_selectors() {
        let text = "edit `lab1-kvsrv/src/client.rs`, see `docs/`, run `lab2/B`,\n\
                    not `LAB/PART` nor `/tmp/x` nor `a b/c` nor `github.com/x` nor `kv.rs`\n\
                    but `stress.sh`\n";
        let paths: Vec<String> = named_paths(text).into_iter().map(|(_, p)| p).collect();
        assert_eq!(paths, ["lab1-kvsrv/src/client.rs", "docs/", "stress.sh"]);
    }

    #[test]
    fn a_missing_path_and_kit_only_text_are_findings() {
        let dir = tempfile::tempdir().expect("temp dir");
        std::fs::write(dir.path().join("here.md"), "x").expect("write");
        let text = "`here.md` and `gone/stress.sh` and `grader-out/x/y`\n";
        let f = check_doc(
            Path::new("d.md"),
            text,
            &[dir.path().to_path_buf()],
            &["grader-out"],
        );
        assert_eq!(f.len(), 1, "{f:?}");
        assert!(f[0].problem.contains("gone/stress.sh"));
        let k = kit_only_lines(
            Path::new("lib.rs"),
            "//! build with --no-default-features\n",
        );
        assert_eq!(k.len(), 1);
        assert_eq!(k[0].line, 1);
    }

    /// The kit's own docs: every quoted grader command parses, every named
    /// path exists, and no file points outside the repository.
    #[test]
    fn the_kits_docs_are_true() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"))
            .parent()
            .expect("the grader is inside the workspace")
            .to_path_buf();
        let mut findings = check_docs(&root, &|_| false).expect("walk the workspace");
        let outside = concat!("..", "/shared");
        for file in files_with(&root, &[".md", ".rs", ".toml", ".sh", "run"]).expect("walk") {
            let text = std::fs::read_to_string(&file).unwrap_or_default();
            for (i, line) in text.lines().enumerate() {
                if line.contains(outside) {
                    findings.push(Finding {
                        file: file.strip_prefix(&root).unwrap_or(&file).to_path_buf(),
                        line: i + 1,
                        problem: "points outside the repository; copy what is needed in".into(),
                    });
                }
            }
        }
        let list: Vec<String> = findings.iter().map(ToString::to_string).collect();
        assert!(
            list.is_empty(),
            "{} problem(s) in the docs:\n{}",
            list.len(),
            list.join("\n")
        );
    }
}
