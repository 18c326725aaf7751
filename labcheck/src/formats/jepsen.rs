//! Jepsen etcd logs, as in Porcupine's `test_data/jepsen`.
//!
//! One event per line, `INFO jepsen.util - PROC TYPE F VALUE`, in real-time
//! order and without timestamps, so each line's number is its time:
//!
//! | line | meaning |
//! |---|---|
//! | `:invoke :read nil` | call `read()` |
//! | `:invoke :write V` | call `write(V)` |
//! | `:invoke :cas [A B]` | call `cas(A, B)` |
//! | `:ok :read V` / `:ok :read nil` | the read returned V / nil |
//! | `:ok :write V`, `:ok :cas [A B]` | the write / compare-and-set applied |
//! | `:fail :cas [A B]` | the compare failed (an observation, kept) |
//! | `:fail :read ...` | the read returns here with an unknown output |
//! | `:fail :write ...` | the write did not happen (dropped) |
//! | `:info ...` | outcome unknown: the call stays open forever |
//!
//! A completion belongs to the latest `:invoke` of the same process.
//! Operations still open at the end of the file have unknown outcomes.

use std::collections::HashMap;
use std::path::Path;

use super::{ParseError, read_text};
use crate::history::{History, Operation};
use crate::models::{RegisterInput, RegisterOutput};

/// Reads a Jepsen etcd log from a file.
pub fn load(path: &Path) -> Result<History<RegisterInput, RegisterOutput>, ParseError> {
    let text = read_text(path)?;
    parse(&path.display().to_string(), &text)
}

/// Parses a Jepsen etcd log; `file` names it in errors.
pub fn parse(file: &str, text: &str) -> Result<History<RegisterInput, RegisterOutput>, ParseError> {
    let mut ops: Vec<Operation<RegisterInput, RegisterOutput>> = Vec::new();
    let mut dropped: Vec<bool> = Vec::new();
    // Process id -> (index of its open operation, line of the invoke).
    let mut open: HashMap<u64, (usize, usize)> = HashMap::new();

    for (i, raw) in text.lines().enumerate() {
        let line_no = i + 1;
        let time = line_no as u64;
        let err = |message: String| ParseError::at(file, line_no, message);
        if raw.trim().is_empty() {
            continue;
        }
        let event = Event::parse(raw).map_err(&err)?;
        if event.kind == ":invoke" {
            if let Some((_, since)) = open.get(&event.process) {
                return Err(err(format!(
                    "process {} invokes again while its call from line {since} is still open",
                    event.process
                )));
            }
            let input = event.input().map_err(&err)?;
            open.insert(event.process, (ops.len(), line_no));
            ops.push(Operation::unknown(event.process, input, time));
            dropped.push(false);
            continue;
        }
        let Some((index, _)) = open.remove(&event.process) else {
            return Err(err(format!(
                "{} for process {} which has no open call",
                event.kind, event.process
            )));
        };
        let op = &mut ops[index];
        let invoked = match op.input {
            RegisterInput::Read => ":read",
            RegisterInput::Write { .. } => ":write",
            RegisterInput::Cas { .. } => ":cas",
        };
        if invoked != event.function {
            return Err(err(format!(
                "{} {} completes a {invoked} call of process {}",
                event.kind, event.function, event.process
            )));
        }
        match (event.kind, op.input) {
            (":ok", RegisterInput::Read) => {
                op.output = Some(RegisterOutput::Value(
                    parse_read_value(event.value).map_err(&err)?,
                ));
                op.ret = Some(time);
            }
            (":ok", _) => {
                op.output = Some(RegisterOutput::Ok);
                op.ret = Some(time);
            }
            (":fail", RegisterInput::Cas { .. }) => {
                op.output = Some(RegisterOutput::CasFailed);
                op.ret = Some(time);
            }
            // A read that failed returns here, having observed nothing.
            (":fail", RegisterInput::Read) => op.ret = Some(time),
            // A write that failed definitely did not happen.
            (":fail", RegisterInput::Write { .. }) => dropped[index] = true,
            // Outcome unknown: the call stays open with no output.
            (":info", _) => {}
            (kind, _) => {
                return Err(err(format!(
                    "unknown event type {kind:?} (expected :invoke, :ok, :fail or :info)"
                )));
            }
        }
    }
    Ok(ops
        .into_iter()
        .zip(dropped)
        .filter_map(|(op, dropped)| (!dropped).then_some(op))
        .collect())
}

/// One parsed line.
struct Event<'a> {
    process: u64,
    kind: &'a str,
    function: &'a str,
    value: &'a str,
}

impl<'a> Event<'a> {
    fn parse(line: &'a str) -> Result<Self, String> {
        let mut words = line.split_whitespace();
        let expected = "expected \"INFO jepsen.util - PROCESS TYPE FUNCTION VALUE\"";
        for want in ["INFO", "jepsen.util", "-"] {
            match words.next() {
                Some(w) if w == want => {}
                Some(w) => return Err(format!("found {w:?} where {want:?} belongs; {expected}")),
                None => return Err(format!("line ends early; {expected}")),
            }
        }
        let mut field = |name: &str| {
            words
                .next()
                .ok_or_else(|| format!("line ends before the {name}; {expected}"))
        };
        let process = field("process id")?;
        let process = process
            .parse()
            .map_err(|_| format!("process id {process:?} is not a non-negative integer"))?;
        let kind = field("event type")?;
        let function = field("function")?;
        if !matches!(kind, ":invoke" | ":ok" | ":fail" | ":info") {
            return Err(format!(
                "unknown event type {kind:?} (expected :invoke, :ok, :fail or :info)"
            ));
        }
        if !matches!(function, ":read" | ":write" | ":cas") {
            return Err(format!(
                "unknown function {function:?} (expected :read, :write or :cas)"
            ));
        }
        // The value is the rest of the line: it may be "[1 2]".
        // `function` is a slice of `line`, so its end is an offset into it.
        let end = function.as_ptr() as usize - line.as_ptr() as usize + function.len();
        let value = line[end..].trim();
        if value.is_empty() {
            return Err(format!("line ends before the value; {expected}"));
        }
        Ok(Self {
            process,
            kind,
            function,
            value,
        })
    }

    fn input(&self) -> Result<RegisterInput, String> {
        match self.function {
            ":read" => Ok(RegisterInput::Read),
            ":write" => Ok(RegisterInput::Write {
                value: parse_int(self.value)?,
            }),
            _ => {
                let (from, to) = parse_pair(self.value)?;
                Ok(RegisterInput::Cas { from, to })
            }
        }
    }
}

fn parse_int(s: &str) -> Result<i64, String> {
    s.parse()
        .map_err(|_| format!("value {s:?} is not an integer"))
}

fn parse_read_value(s: &str) -> Result<Option<i64>, String> {
    if s == "nil" {
        Ok(None)
    } else {
        parse_int(s).map(Some)
    }
}

fn parse_pair(s: &str) -> Result<(i64, i64), String> {
    let inner = s
        .strip_prefix('[')
        .and_then(|s| s.strip_suffix(']'))
        .ok_or_else(|| format!("compare-and-set value {s:?} is not of the form [FROM TO]"))?;
    let mut parts = inner.split_whitespace();
    match (parts.next(), parts.next(), parts.next()) {
        (Some(a), Some(b), None) => Ok((parse_int(a)?, parse_int(b)?)),
        _ => Err(format!(
            "compare-and-set value {s:?} is not of the form [FROM TO]"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LOG: &str = "INFO  jepsen.util - 0\t:invoke\t:read\tnil
INFO  jepsen.util - 1\t:invoke\t:cas\t[1 2]
INFO  jepsen.util - 0\t:ok\t:read\tnil
INFO  jepsen.util - 1\t:fail\t:cas\t[1 2]
INFO  jepsen.util - 2   :invoke :write  3
INFO  jepsen.util - 2   :info   :write  :timed-out
INFO  jepsen.util - 3   :invoke :read   nil
INFO  jepsen.util - 3   :fail   :read   :timed-out
";

    #[test]
    fn parses_each_kind_of_line_with_line_numbers_as_times() {
        let history = parse("t.log", LOG).expect("valid log");
        let ops = history.ops();
        assert_eq!(ops.len(), 4);
        assert_eq!(
            ops[0],
            Operation::completed(0, RegisterInput::Read, RegisterOutput::Value(None), 1, 3)
        );
        assert_eq!(
            ops[1],
            Operation::completed(
                1,
                RegisterInput::Cas { from: 1, to: 2 },
                RegisterOutput::CasFailed,
                2,
                4
            )
        );
        assert_eq!(
            ops[2],
            Operation::unknown(2, RegisterInput::Write { value: 3 }, 5)
        );
        assert_eq!(
            ops[3].output, None,
            "a timed-out read has an unknown output"
        );
        assert_eq!(ops[3].ret, Some(8), "a timed-out read returns at its line");
    }

    #[test]
    fn a_malformed_line_names_the_file_and_line() {
        let log = "INFO  jepsen.util - 0\t:invoke\t:read\tnil\nINFO  jepsen.util - 0\t:ok\t:read\tseven\n";
        let e = parse("bad.log", log).unwrap_err();
        assert_eq!((e.file.as_str(), e.line), ("bad.log", 2));
        assert!(e.to_string().starts_with("bad.log:2: "), "{e}");
        assert!(e.message.contains("\"seven\""), "{e}");
    }

    #[test]
    fn completion_without_a_call_is_an_error() {
        let e = parse("x.log", "INFO jepsen.util - 4 :ok :write 1\n").unwrap_err();
        assert_eq!(e.line, 1);
        assert!(e.message.contains("no open call"), "{e}");
    }

    #[test]
    fn mismatched_completion_is_an_error() {
        let log = "INFO jepsen.util - 4 :invoke :write 1\nINFO jepsen.util - 4 :ok :read 1\n";
        let e = parse("x.log", log).unwrap_err();
        assert_eq!(e.line, 2);
        assert!(e.message.contains(":write call"), "{e}");
    }

    #[test]
    fn bad_cas_value_is_an_error() {
        let e = parse("x.log", "INFO jepsen.util - 4 :invoke :cas [1]\n").unwrap_err();
        assert!(e.message.contains("[FROM TO]"), "{e}");
    }

    #[test]
    fn failed_write_is_dropped() {
        let log = "INFO jepsen.util - 4 :invoke :write 1\nINFO jepsen.util - 4 :fail :write 1\n";
        assert!(parse("x.log", log).expect("valid").is_empty());
    }
}
