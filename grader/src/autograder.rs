//! `grader autograder LAB --out FILE.zip`: the Gradescope autograder bundle
//! of one lab. The zip holds `setup.sh` and `run_autograder` at its root
//! (where Gradescope looks for them) and `kit/`: the student workspace of
//! the lab and the labs it uses (the graded lab's reference cut out, as in
//! the handout; used labs kept whole when graded on their reference), the
//! grader's source, the pristine tests and `grade.toml`. `setup.sh` installs
//! the toolchain and bubblewrap, fetches every dependency and prebuilds, so
//! grading needs no network; `run_autograder` lays the submission out as
//! the handout is (a file uploaded flat is found by its name), runs
//! `grader grade` and leaves `results.json` where Gradescope reads it. Every
//! `/autograder` path can be moved by an environment variable, which is
//! how the kit's own test runs the real script.

use std::path::{Path, PathBuf};

use crate::commands::{self, Finish};
use crate::error::{Context, GraderError, Result};
use crate::handout::{self, TreePlan};
use crate::workspace::Workspace;
use crate::zip;

/// What to bundle.
pub struct BundleRequest<'a> {
    /// The lab to grade.
    pub lab: &'a str,
    /// Used labs graded on the kit's reference instead of the student's.
    pub reference: &'a [String],
    /// Runs of each test per submission.
    pub iterations: u64,
    /// The zip to write.
    pub out: &'a Path,
    /// Also leave the bundle's files unpacked here.
    pub dir: Option<&'a Path>,
}

const SETUP: &str = r#"#!/usr/bin/env bash
# Gradescope setup for @PACKAGE@, written by `grader autograder`. It runs once
# per autograder image, with network: install the toolchain and bubblewrap,
# fetch every dependency and prebuild, so grading needs no network.
set -euo pipefail
SOURCE="${DISTLAB_AUTOGRADER_SOURCE:-/autograder/source}"
export DEBIAN_FRONTEND=noninteractive
if command -v apt-get >/dev/null 2>&1; then
    apt-get update -qq
    apt-get install -y -qq build-essential curl ca-certificates bubblewrap >/dev/null
fi
if ! command -v cargo >/dev/null 2>&1; then
    curl --proto '=https' --tlsv1.2 -sSf https://sh.rustup.rs | sh -s -- -y --profile minimal
fi
# shellcheck disable=SC1091
[ -f "$HOME/.cargo/env" ] && . "$HOME/.cargo/env"
cd "$SOURCE/kit"
cargo fetch
cargo build --release -p grader
# The dependencies of the lab's tests, built where grading builds.
CARGO_TARGET_DIR="$SOURCE/kit/target/grader-submissions" cargo test --no-run -p @PACKAGE@
echo "distlab: @PACKAGE@ autograder ready"
"#;

const RUN: &str = r#"#!/usr/bin/env bash
# Gradescope grading of @PACKAGE@, written by `grader autograder`: lay the
# submission out as the handout is, grade it with the pristine tests, write
# results.json. Every path can be moved (the kit's own test does).
set -uo pipefail
ROOT="${DISTLAB_AUTOGRADER_ROOT:-/autograder}"
SOURCE="${DISTLAB_AUTOGRADER_SOURCE:-$ROOT/source}"
SUBMISSION="${DISTLAB_AUTOGRADER_SUBMISSION:-$ROOT/submission}"
RESULTS="${DISTLAB_AUTOGRADER_RESULTS:-$ROOT/results}"
KIT="$SOURCE/kit"
GRADER="${DISTLAB_GRADER:-$KIT/target/release/grader}"
[ -f "$HOME/.cargo/env" ] && . "$HOME/.cargo/env"
FILES=(@FILES@)
mkdir -p "$RESULTS"
work="$(mktemp -d)"
layout="$work/submission"
mkdir -p "$layout"
for f in "${FILES[@]}"; do
    src=""
    if [ -f "$SUBMISSION/$f" ]; then
        src="$SUBMISSION/$f"
    else
        # Uploaded without its folders: take the one file of that name.
        found="$(find "$SUBMISSION" -type f -name "$(basename "$f")" 2>/dev/null)"
        if [ -n "$found" ] && [ "$(printf '%s\n' "$found" | wc -l)" -eq 1 ]; then
            src="$found"
        fi
    fi
    if [ -n "$src" ]; then
        mkdir -p "$layout/$(dirname "$f")"
        cp "$src" "$layout/$f"
    fi
done
# The sandbox where the container allows one; otherwise Gradescope's own
# container is the isolation (it holds no reference of the graded lab).
sandbox=()
case "${DISTLAB_AUTOGRADER_SANDBOX:-auto}" in
    on) ;;
    off) sandbox=(--unsandboxed) ;;
    *) bwrap --ro-bind / / --unshare-pid --unshare-net true >/dev/null 2>&1 || sandbox=(--unsandboxed) ;;
esac
"$GRADER" --workspace "$KIT" grade "$layout" --lab @PACKAGE@ @REFERENCE@ -n @ITERATIONS@ \
    --out "$work/logs" --gradescope "$RESULTS/results.json" "${sandbox[@]}" >"$work/grade.log" 2>&1
status=$?
cat "$work/grade.log"
if [ ! -s "$RESULTS/results.json" ]; then
    # The grader could not grade at all: say so in a zero result.
    msg="$(tail -c 3000 "$work/grade.log" | tr -d '\000-\011\013-\037"\\' | sed ':a;N;$!ba;s/\n/\\n/g')"
    printf '{"score": 0, "output": "the autograder could not grade this submission (grader exit %s):\\n%s"}\n' \
        "$status" "$msg" >"$RESULTS/results.json"
fi
exit 0
"#;

/// `grader autograder`.
pub fn bundle(kit: &Workspace, req: &BundleRequest<'_>) -> Result<Finish> {
    let lab = kit.find_lab(req.lab)?;
    let package = kit.labs[lab].package.clone();
    let selections = kit.select(std::slice::from_ref(&package))?;
    let on_reference = commands::reference_labs(kit, &selections, req.reference)?;
    let mut labs = vec![lab];
    labs.extend(kit.uses_of(&[lab]));
    let temp;
    let stage: PathBuf = match req.dir {
        Some(d) => {
            if d.exists() {
                return Err(GraderError::new(format!(
                    "{} already exists; give --dir a folder that does not exist yet",
                    d.display()
                )));
            }
            d.to_path_buf()
        }
        None => {
            temp = tempfile::Builder::new()
                .prefix("grader-autograder-")
                .tempdir()
                .context(|| "cannot create a temporary folder".to_string())?;
            temp.path().join("bundle")
        }
    };
    let plan = TreePlan {
        labs: Some(labs),
        keep_reference: on_reference.clone(),
    };
    handout::prepare_tree(kit, &stage.join("kit"), &plan)?;
    let files: Vec<String> = commands::files_for_lab(kit, lab, &on_reference)
        .iter()
        .map(|p| format!("{:?}", p.display().to_string()))
        .collect();
    let reference: Vec<String> = on_reference
        .iter()
        .map(|&i| format!("--reference {}", kit.labs[i].package))
        .collect();
    let fill = |template: &str| {
        template
            .replace("@PACKAGE@", &package)
            .replace("@FILES@", &files.join(" "))
            .replace("@REFERENCE@", &reference.join(" "))
            .replace("@ITERATIONS@", &req.iterations.to_string())
    };
    write_script(&stage.join("setup.sh"), &fill(SETUP))?;
    write_script(&stage.join("run_autograder"), &fill(RUN))?;
    let entries = zip::entries_of(&stage, &["target"])?;
    let bytes = zip::archive(&entries)?;
    crate::export::write_bytes(req.out, &bytes)?;
    println!(
        "wrote {} ({} files, {:.1} MiB): the Gradescope autograder of {package}{}, {} run(s) of each test",
        req.out.display(),
        entries.len(),
        bytes.len() as f64 / (1024.0 * 1024.0),
        if reference.is_empty() {
            String::new()
        } else {
            format!(
                " graded on the reference of {}",
                reference.join(" ").replace("--reference ", "")
            )
        },
        req.iterations
    );
    Ok(Finish::AllPassed)
}

fn write_script(path: &Path, text: &str) -> Result<()> {
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::write(path, text).context(|| format!("cannot write {}", path.display()))?;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755))
        .context(|| format!("cannot make {} executable", path.display()))
}
