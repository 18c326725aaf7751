//! The command line, parsed by hand (one subcommand, seven options).

use std::path::PathBuf;

use labcheck::CheckOptions;
use labcheck::formats::Format;
use labrt::time::Duration;

/// The synopsis, printed under a usage error.
pub const SYNOPSIS: &str = "usage: labcheck check FILE --model MODEL [--format FORMAT] \
[--html OUT.html] [--timeout SECS] [--max-memory-mib MIB] [--allow-empty] [--stats]";

/// What `--help` prints.
pub const USAGE: &str = "\
usage: labcheck check FILE --model MODEL [--format FORMAT] [--html OUT.html] [--timeout SECS]
                      [--max-memory-mib MIB] [--allow-empty] [--stats]

Checks whether the history in FILE is linearizable.

  --model        kv | kv-nopartition | kv-versioned | register | etcd
                 (etcd is the register model, for Jepsen etcd logs)
  --format       auto (default) | jsonl | porcupine-kv | jepsen
  --html         also write the history picture to this file
  --timeout      give up after this many seconds (default 60); a timeout is
                 reported as unknown, never as a pass
  --max-memory-mib
                 give up once the search holds about this many MiB (estimated;
                 default 2048); reaching the cap is reported as unknown, never
                 as a pass
  --allow-empty  accept a history with no operations (reported as linearizable);
                 without it an empty history is an error, since it proves nothing
  --stats        also print, for the slowest parts (keys), their size, time,
                 search nodes, memo hits and model states: where a slow check
                 spends its time

exit status: 0 linearizable, 1 not linearizable,
             2 no verdict: the check timed out (unknown), or the command line
               or the file is wrong (one line on stderr says what to do)";

/// The models the command line knows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ModelName {
    /// `kv`: [`labcheck::models::Kv`], checked key by key.
    Kv,
    /// `kv-nopartition`: [`labcheck::models::KvNoPartition`], the whole map.
    KvNoPartition,
    /// `kv-versioned`: [`labcheck::models::KvVersioned`].
    KvVersioned,
    /// `register` or `etcd`: [`labcheck::models::Register`].
    Register,
}

impl ModelName {
    fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "kv" => ModelName::Kv,
            "kv-nopartition" => ModelName::KvNoPartition,
            "kv-versioned" => ModelName::KvVersioned,
            "register" | "etcd" => ModelName::Register,
            _ => return None,
        })
    }

    /// The model's name on the command line.
    pub fn name(self) -> &'static str {
        match self {
            ModelName::Kv => "kv",
            ModelName::KvNoPartition => "kv-nopartition",
            ModelName::KvVersioned => "kv-versioned",
            ModelName::Register => "register",
        }
    }
}

/// What `labcheck check` was asked to do.
#[derive(Debug, PartialEq)]
pub struct CheckArgs {
    /// The history file.
    pub file: PathBuf,
    /// The model to check it against.
    pub model: ModelName,
    /// `None`: detect from the file.
    pub format: Option<Format>,
    /// Where to write the picture, if anywhere.
    pub html: Option<PathBuf>,
    /// When to give up (the verdict is then unknown).
    pub timeout: Duration,
    /// The memory cap of the search, in bytes (reaching it: unknown).
    pub max_memory_bytes: u64,
    /// Whether a history with no operations is accepted (as linearizable)
    /// rather than refused.
    pub allow_empty: bool,
    /// Whether to print what each part's check took.
    pub stats: bool,
}

/// What the command line asks for.
#[derive(Debug, PartialEq)]
pub enum Command {
    /// `labcheck check ...`.
    Check(CheckArgs),
    /// `--help`: print [`USAGE`].
    Help,
    /// `--version`.
    Version,
}

/// Parses the arguments after the program name; errors are messages for the
/// user.
pub fn parse(args: &[String]) -> Result<Command, String> {
    let mut args = args.iter().peekable();
    match args.next().map(String::as_str) {
        None => return Err("no command given".to_string()),
        Some("-h" | "--help" | "help") => return Ok(Command::Help),
        Some("-V" | "--version") => return Ok(Command::Version),
        Some("check") => {}
        Some(other) => {
            return Err(format!(
                "unknown command {other:?} (the command is `check`)"
            ));
        }
    }
    let mut file = None;
    let mut model = None;
    let mut format = None;
    let mut html = None;
    let mut timeout = CheckOptions::DEFAULT_TIMEOUT;
    let mut max_memory_bytes = CheckOptions::DEFAULT_MAX_MEMORY_BYTES;
    let mut allow_empty = false;
    let mut stats = false;
    while let Some(arg) = args.next() {
        // Accept both "--opt value" and "--opt=value".
        let (name, inline) = match arg.split_once('=') {
            Some((n, v)) if n.starts_with("--") => (n, Some(v.to_string())),
            _ => (arg.as_str(), None),
        };
        // "--opt=value" takes anything; "--opt value" will not swallow the
        // next option ("--html --timeout 5" is a mistake, not a file name).
        let mut value = |name: &str| match &inline {
            Some(v) => Ok(v.clone()),
            None => args
                .next_if(|a| !a.starts_with("--"))
                .cloned()
                .ok_or_else(|| format!("{name} needs a value")),
        };
        match name {
            "-h" | "--help" => return Ok(Command::Help),
            "--model" => {
                let v = value(name)?;
                model = Some(ModelName::parse(&v).ok_or_else(|| {
                    format!("unknown model {v:?} (expected kv, kv-nopartition, kv-versioned, register or etcd)")
                })?);
            }
            "--format" => {
                let v = value(name)?;
                format = match v.as_str() {
                    "auto" => None,
                    "jsonl" => Some(Format::Jsonl),
                    "porcupine-kv" => Some(Format::PorcupineKv),
                    "jepsen" => Some(Format::Jepsen),
                    _ => {
                        return Err(format!(
                            "unknown format {v:?} (expected auto, jsonl, porcupine-kv or jepsen)"
                        ));
                    }
                };
            }
            "--html" => {
                let v = value(name)?;
                if v.is_empty() {
                    return Err("--html needs a file name".to_string());
                }
                html = Some(PathBuf::from(v));
            }
            "--allow-empty" => {
                if inline.is_some() {
                    return Err("--allow-empty takes no value".to_string());
                }
                allow_empty = true;
            }
            "--stats" => {
                if inline.is_some() {
                    return Err("--stats takes no value".to_string());
                }
                stats = true;
            }
            "--timeout" => {
                let v = value(name)?;
                let secs: f64 = v
                    .parse()
                    .ok()
                    .filter(|s: &f64| s.is_finite() && *s > 0.0)
                    .ok_or_else(|| {
                        format!("--timeout {v:?} is not a positive number of seconds")
                    })?;
                timeout = Duration::from_secs_f64(secs.min(1e9));
            }
            "--max-memory-mib" => {
                let v = value(name)?;
                let mib: u64 = v.parse().ok().filter(|&m| m > 0).ok_or_else(|| {
                    format!(
                        "--max-memory-mib {v:?} is not a positive whole number of MiB \
                         (the default is {})",
                        CheckOptions::DEFAULT_MAX_MEMORY_BYTES >> 20
                    )
                })?;
                max_memory_bytes = mib.saturating_mul(1 << 20);
            }
            flag if flag.starts_with('-') && flag.len() > 1 => {
                return Err(format!("unknown option {flag:?}"));
            }
            "" => return Err("FILE is an empty string".to_string()),
            path => {
                if file.is_some() {
                    return Err(format!("more than one FILE given ({path:?})"));
                }
                file = Some(PathBuf::from(path));
            }
        }
    }
    let file = file.ok_or("no FILE given")?;
    let model = model.ok_or("--model is required")?;
    Ok(Command::Check(CheckArgs {
        file,
        model,
        format,
        html,
        timeout,
        max_memory_bytes,
        allow_empty,
        stats,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(s: &str) -> Vec<String> {
        s.split_whitespace().map(String::from).collect()
    }

    #[test]
    fn full_command_line_parses() {
        let cmd = parse(&args(
            "check h.log --model etcd --format=jepsen --html out.html --timeout 2.5",
        ));
        assert_eq!(
            cmd,
            Ok(Command::Check(CheckArgs {
                file: "h.log".into(),
                model: ModelName::Register,
                format: Some(Format::Jepsen),
                html: Some("out.html".into()),
                timeout: Duration::from_millis(2500),
                max_memory_bytes: 2 << 30,
                allow_empty: false,
                stats: false,
            }))
        );
    }

    #[test]
    fn allow_empty_is_off_unless_given() {
        let Ok(Command::Check(plain)) = parse(&args("check h.jsonl --model kv")) else {
            panic!("a plain check parses");
        };
        assert!(!plain.allow_empty);
        let Ok(Command::Check(allowed)) = parse(&args("check --allow-empty h.jsonl --model kv"))
        else {
            panic!("--allow-empty parses");
        };
        assert!(allowed.allow_empty);
        assert_eq!(allowed.file, PathBuf::from("h.jsonl"));
        assert!(!allowed.stats);
        let Ok(Command::Check(with_stats)) = parse(&args("check h.jsonl --stats --model kv"))
        else {
            panic!("--stats parses");
        };
        assert!(with_stats.stats);
    }

    #[test]
    fn an_inline_value_leaves_the_next_argument_alone() {
        let Ok(Command::Check(parsed)) = parse(&args("check --model=kv h.jsonl --timeout=3"))
        else {
            panic!("inline values parse");
        };
        assert_eq!(parsed.file, PathBuf::from("h.jsonl"));
        assert_eq!(parsed.timeout, Duration::from_secs(3));
        assert_eq!(parsed.max_memory_bytes, 2 << 30, "the default cap");
        assert_eq!(
            parse(&args("check --model=kv h.jsonl --html=p.html q.html")),
            Err("more than one FILE given (\"q.html\")".to_string())
        );
    }

    #[test]
    fn mistakes_are_explained() {
        let cases = [
            ("", "no command"),
            ("chek x", "unknown command"),
            ("check --model kv", "no FILE"),
            ("check x", "--model is required"),
            ("check x --model kvv", "unknown model"),
            ("check x --model kv --format edn", "unknown format"),
            ("check x --model kv --timeout -1", "positive number"),
            (
                "check x --model kv --max-memory-mib 0",
                "positive whole number of MiB",
            ),
            (
                "check x --model kv --max-memory-mib 1.5",
                "positive whole number of MiB",
            ),
            (
                "check x --model kv --max-memory-mib -5",
                "positive whole number of MiB",
            ),
            (
                "check x --model kv --max-memory-mib=lots",
                "positive whole number of MiB",
            ),
            ("check x --model kv --max-memory-mib", "needs a value"),
            ("check x --model kv --html", "needs a value"),
            (
                "check x --model kv --html --timeout 5",
                "--html needs a value",
            ),
            ("check x --model kv --html=", "needs a file name"),
            ("check x --model kv --allow-empty=yes", "takes no value"),
            ("check x --model kv --stats=1", "takes no value"),
            ("check x y --model kv", "more than one FILE"),
            ("check x --model kv --fast", "unknown option"),
        ];
        for (line, expected) in cases {
            let err = parse(&args(line)).expect_err(line);
            assert!(
                err.contains(expected),
                "{line:?}: {err:?} lacks {expected:?}"
            );
        }
    }

    #[test]
    fn the_memory_cap_is_given_in_mib() {
        let Ok(Command::Check(parsed)) =
            parse(&args("check h.jsonl --model kv --max-memory-mib 64"))
        else {
            panic!("--max-memory-mib parses");
        };
        assert_eq!(parsed.max_memory_bytes, 64 << 20);
        let Ok(Command::Check(huge)) = parse(&args(&format!(
            "check h.jsonl --model kv --max-memory-mib={}",
            u64::MAX
        ))) else {
            panic!("a huge cap parses");
        };
        assert_eq!(huge.max_memory_bytes, u64::MAX, "saturates: no cap");
    }

    #[test]
    fn help_and_version_are_recognised() {
        assert_eq!(parse(&args("--help")), Ok(Command::Help));
        assert_eq!(parse(&args("check --help")), Ok(Command::Help));
        assert_eq!(parse(&args("--version")), Ok(Command::Version));
    }
}
