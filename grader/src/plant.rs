//! `grader plant`: proves a lab's tests bite. A maintainer lists classic
//! student bugs in `<lab>/planted.toml`, each as exact edits to the
//! reference; for every bug the grader copies the kit, applies its edits to
//! the copy (the shipped reference is never touched), builds the lab on the
//! planted reference, runs the chosen tests and reports which of them
//! caught it. The file stays with the maintainers: the handout leaves it
//! out, so students never see which bugs the suite was checked against.
//!
//! ```toml
//! [[bug]]
//! name = "vote-twice"                  # what `--bug` selects
//! about = "grants a vote without checking votedFor"
//! [[bug.edit]]
//! file = "src/reference/election.rs"   # relative to the lab's folder
//! find = "if voted_for.is_none() {"    # must occur exactly once
//! replace = "if true {"
//! ```

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;

use serde::Deserialize;

use crate::commands::{self, Finish, RunRequest};
use crate::error::{Context, GraderError, Result};
use crate::handout;
use crate::verdict::VerdictKind;
use crate::workspace::Workspace;

/// The file a lab's planted bugs are listed in, in the lab's folder.
pub const PLANTED_FILE: &str = "planted.toml";

/// `planted.toml`.
#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
struct Planted {
    bug: Vec<Bug>,
}

/// One planted bug.
#[derive(Deserialize, Debug, Clone)]
#[serde(deny_unknown_fields)]
struct Bug {
    name: String,
    about: String,
    edit: Vec<Edit>,
}

/// One exact textual edit.
#[derive(Deserialize, Debug, Clone)]
#[serde(deny_unknown_fields)]
struct Edit {
    file: PathBuf,
    find: String,
    replace: String,
}

/// What one bug's runs showed.
struct Outcome {
    name: String,
    about: String,
    /// Failed runs and runs, by test; and the first failure's message.
    caught_by: BTreeMap<String, (u64, u64, String)>,
    /// The runs made.
    runs: u64,
    /// Why the planted copy did not build or run, if it did not.
    problem: Option<String>,
}

/// Reads and checks a lab's `planted.toml`.
fn read_planted(lab_dir: &Path) -> Result<Vec<Bug>> {
    let path = lab_dir.join(PLANTED_FILE);
    let text = std::fs::read_to_string(&path).context(|| {
        format!(
            "cannot read {}: a lab's planted bugs are listed there (see `grader plant --help`)",
            path.display()
        )
    })?;
    let planted: Planted = toml::from_str(&text)
        .context(|| format!("{} is not a valid planted-bug list", path.display()))?;
    if planted.bug.is_empty() {
        return Err(GraderError::new(format!(
            "{} lists no bug: add [[bug]] entries",
            path.display()
        )));
    }
    let mut seen = std::collections::BTreeSet::new();
    for bug in &planted.bug {
        if !seen.insert(bug.name.as_str()) {
            return Err(GraderError::new(format!(
                "{}: two bugs are named {:?}; names must be unique",
                path.display(),
                bug.name
            )));
        }
        if bug.edit.is_empty() {
            return Err(GraderError::new(format!(
                "{}: bug {:?} has no [[bug.edit]]",
                path.display(),
                bug.name
            )));
        }
    }
    Ok(planted.bug)
}

/// Applies `bug`'s edits under `lab_dir`; each `find` must occur exactly
/// once in its file, so a changed reference cannot silently plant nothing.
fn apply(bug: &Bug, lab_dir: &Path) -> Result<()> {
    for edit in &bug.edit {
        let path = lab_dir.join(&edit.file);
        let text = std::fs::read_to_string(&path).context(|| {
            format!(
                "bug {:?}: cannot read {} to plant it",
                bug.name,
                edit.file.display()
            )
        })?;
        let count = text.matches(edit.find.as_str()).count();
        if count != 1 {
            return Err(GraderError::new(format!(
                "bug {:?}: the text to replace occurs {count} times in {} (it must occur exactly once; \
                 the reference changed: update planted.toml):\n{}",
                bug.name,
                edit.file.display(),
                edit.find
            )));
        }
        let planted = text.replacen(edit.find.as_str(), &edit.replace, 1);
        std::fs::write(&path, planted)
            .context(|| format!("bug {:?}: cannot write {}", bug.name, path.display()))?;
    }
    Ok(())
}

/// The bugs `wanted` names, or all of them.
fn select(bugs: Vec<Bug>, wanted: &[String]) -> Result<Vec<Bug>> {
    if wanted.is_empty() {
        return Ok(bugs);
    }
    let known: Vec<String> = bugs.iter().map(|b| b.name.clone()).collect();
    wanted
        .iter()
        .map(|w| {
            bugs.iter().find(|b| &b.name == w).cloned().ok_or_else(|| {
                GraderError::new(format!(
                    "no planted bug named {w:?}; the lab has: {}",
                    known.join(", ")
                ))
            })
        })
        .collect()
}

/// `grader plant LAB`: every selected bug planted in its own copy of the
/// kit, the lab's tests run on it, and a table of what caught what.
/// Finishes `AllPassed` when every bug was caught by some run.
pub fn plant(
    kit: &Workspace,
    lab: &str,
    bugs: &[String],
    req: &RunRequest<'_>,
    interrupt: &AtomicBool,
) -> Result<Finish> {
    let lab_index = kit.find_lab(lab)?;
    let info = &kit.labs[lab_index];
    let package = info.package.clone();
    let chosen = select(read_planted(&info.dir)?, bugs)?;
    let lab_rel = kit.relative(&info.dir).to_path_buf();
    let scratch = tempfile::Builder::new()
        .prefix("grader-plant-")
        .tempdir()
        .context(|| "cannot create a temporary folder".to_string())?;
    let target = req.opts.target_dir.clone().unwrap_or_else(|| {
        std::env::var_os("CARGO_TARGET_DIR")
            .map_or_else(|| kit.root.join("target"), PathBuf::from)
            .join("grader-planted")
    });
    let mut outcomes = Vec::new();
    for bug in &chosen {
        if interrupt.load(std::sync::atomic::Ordering::SeqCst) {
            break;
        }
        println!("\n== planting {:?} in {package}: {}", bug.name, bug.about);
        let tree = scratch.path().join(&bug.name);
        if tree.exists() {
            std::fs::remove_dir_all(&tree)
                .context(|| format!("cannot clear {}", tree.display()))?;
        }
        let plan = handout::TreePlan {
            labs: None,
            keep_reference: (0..kit.labs.len()).collect(),
        };
        handout::prepare_tree(kit, &tree, &plan)?;
        apply(bug, &tree.join(&lab_rel))?;
        let graded = commands::run_copy(kit, &tree, &bug.name, &package, req, &target, interrupt)?;
        let mut caught_by: BTreeMap<String, (u64, u64, String)> = BTreeMap::new();
        for r in &graded.records {
            let entry = caught_by
                .entry(r.test.clone())
                .or_insert((0, 0, String::new()));
            entry.1 += 1;
            if r.verdict != VerdictKind::Pass {
                entry.0 += 1;
                if entry.2.is_empty() {
                    entry.2 = r
                        .message
                        .clone()
                        .unwrap_or_else(|| format!("{:?}", r.verdict));
                }
            }
        }
        let runs = graded.records.len() as u64;
        caught_by.retain(|_, (failed, _, _)| *failed > 0);
        let problem = graded.scores.iter().find_map(|s| s.problem.clone());
        outcomes.push(Outcome {
            name: bug.name.clone(),
            about: bug.about.clone(),
            caught_by,
            runs,
            problem,
        });
    }
    print_table(&outcomes);
    let all_caught = outcomes
        .iter()
        .all(|o| o.problem.is_none() && !o.caught_by.is_empty());
    Ok(if interrupt.load(std::sync::atomic::Ordering::SeqCst) {
        Finish::Interrupted
    } else if all_caught && outcomes.len() == chosen.len() {
        Finish::AllPassed
    } else {
        Finish::SomeFailed
    })
}

fn first_line(s: &str, max: usize) -> String {
    let line = s.lines().next().unwrap_or("");
    if line.chars().count() > max {
        let cut: String = line.chars().take(max).collect();
        format!("{cut}...")
    } else {
        line.to_owned()
    }
}

fn print_table(outcomes: &[Outcome]) {
    println!(
        "\nplanted bug: what it is; tests that caught it (failed runs / runs); the first message"
    );
    for o in outcomes {
        println!("\n{}: {}", o.name, o.about);
        if let Some(p) = &o.problem {
            println!("  NOT RUN: {}", first_line(p, 160));
        } else if o.caught_by.is_empty() {
            println!("  NOT CAUGHT in {} runs", o.runs);
        } else {
            for (test, (failed, runs, msg)) in &o.caught_by {
                println!("  {test} {failed}/{runs}: {}", first_line(msg, 140));
            }
        }
    }
    let caught = outcomes
        .iter()
        .filter(|o| o.problem.is_none() && !o.caught_by.is_empty())
        .count();
    println!("\n{caught} of {} planted bugs caught", outcomes.len());
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bug(find: &str) -> Bug {
        Bug {
            name: "b".into(),
            about: "a bug".into(),
            edit: vec![Edit {
                file: "f.rs".into(),
                find: find.into(),
                replace: "Y".into(),
            }],
        }
    }

    #[test]
    fn an_edit_applies_once_and_only_where_it_matches_once() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("f.rs"), "a X b").unwrap();
        apply(&bug("X"), dir.path()).unwrap();
        assert_eq!(
            std::fs::read_to_string(dir.path().join("f.rs")).unwrap(),
            "a Y b"
        );

        std::fs::write(dir.path().join("f.rs"), "X X").unwrap();
        let e = apply(&bug("X"), dir.path()).unwrap_err().to_string();
        assert!(e.contains("occurs 2 times"), "{e}");
        let e = apply(&bug("Z"), dir.path()).unwrap_err().to_string();
        assert!(e.contains("occurs 0 times"), "{e}");
    }

    #[test]
    fn a_bad_list_is_refused_with_its_reason() {
        let dir = tempfile::tempdir().unwrap();
        let e = read_planted(dir.path()).unwrap_err().to_string();
        assert!(e.contains("cannot read"), "{e}");
        std::fs::write(dir.path().join(PLANTED_FILE), "bug = []\n").unwrap();
        let e = read_planted(dir.path()).unwrap_err().to_string();
        assert!(e.contains("lists no bug"), "{e}");
        let twice = "[[bug]]\nname = \"x\"\nabout = \"\"\n[[bug.edit]]\nfile = \"f\"\nfind = \"a\"\nreplace = \"b\"\n";
        std::fs::write(dir.path().join(PLANTED_FILE), format!("{twice}{twice}")).unwrap();
        let e = read_planted(dir.path()).unwrap_err().to_string();
        assert!(e.contains("two bugs are named"), "{e}");
        std::fs::write(dir.path().join(PLANTED_FILE), twice).unwrap();
        assert_eq!(read_planted(dir.path()).unwrap().len(), 1);
        assert!(select(read_planted(dir.path()).unwrap(), &["y".into()]).is_err());
    }
}
