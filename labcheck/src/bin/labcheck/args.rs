//! The command line, parsed by hand (one subcommand, four options).

use std::path::PathBuf;
use std::time::Duration;

use labcheck::formats::Format;

pub const USAGE: &str = "\
usage: labcheck check FILE --model MODEL [--format FORMAT] [--html OUT.html] [--timeout SECS]

Checks whether the history in FILE is linearizable.

  --model    kv | kv-nopartition | kv-versioned | register | etcd
             (etcd is the register model, for Jepsen etcd logs)
  --format   auto (default) | jsonl | porcupine-kv | jepsen
  --html     also write the history picture to this file
  --timeout  give up after this many seconds (default 60); a timeout is
             reported as unknown, never as a pass

exit status: 0 linearizable, 1 not linearizable, 2 unknown (timed out),
             3 usage or file error";

/// The models the command line knows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ModelName {
    Kv,
    KvNoPartition,
    KvVersioned,
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
}

/// What `labcheck check` was asked to do.
#[derive(Debug, PartialEq)]
pub struct CheckArgs {
    pub file: PathBuf,
    pub model: ModelName,
    /// `None`: detect from the file.
    pub format: Option<Format>,
    pub html: Option<PathBuf>,
    pub timeout: Duration,
}

#[derive(Debug, PartialEq)]
pub enum Command {
    Check(CheckArgs),
    Help,
    Version,
}

/// Parses the arguments after the program name; errors are messages for the
/// user.
pub fn parse(args: &[String]) -> Result<Command, String> {
    let mut args = args.iter();
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
    let mut timeout = Duration::from_secs(60);
    while let Some(arg) = args.next() {
        // Accept both "--opt value" and "--opt=value".
        let (name, inline) = match arg.split_once('=') {
            Some((n, v)) if n.starts_with("--") => (n, Some(v.to_string())),
            _ => (arg.as_str(), None),
        };
        let mut value = |name: &str| {
            inline
                .clone()
                .or_else(|| args.next().cloned())
                .ok_or_else(|| format!("{name} needs a value"))
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
            "--html" => html = Some(PathBuf::from(value(name)?)),
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
            flag if flag.starts_with('-') && flag.len() > 1 => {
                return Err(format!("unknown option {flag:?}"));
            }
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
            }))
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
            ("check x --model kv --html", "needs a value"),
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
    fn help_and_version_are_recognised() {
        assert_eq!(parse(&args("--help")), Ok(Command::Help));
        assert_eq!(parse(&args("check --help")), Ok(Command::Help));
        assert_eq!(parse(&args("--version")), Ok(Command::Version));
    }
}
