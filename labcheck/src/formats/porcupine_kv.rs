//! Porcupine's key/value histories (`test_data/kv`): one EDN map per line,
//!
//! ```text
//! {:process 3, :type :invoke, :f :append, :key "1", :value "x 3 0 y"}
//! {:process 3, :type :ok, :f :append, :key "1", :value "x 3 0 y"}
//! {:process 4, :type :invoke, :f :get, :key "1", :value nil}
//! {:process 4, :type :ok, :f :get, :key "1", :value "x 3 0 y"}
//! ```
//!
//! Line order is real-time order, so each line's number is its time. `:type`
//! is `:invoke`, `:ok`, `:fail` (the operation did not happen: dropped) or
//! `:info` (outcome unknown: it stays open). `:f` is `:get`, `:put` or
//! `:append`. A completion belongs to the latest `:invoke` of the same
//! process.

use std::collections::HashMap;
use std::path::Path;

use super::edn::{self, Value};
use super::{ParseError, read_text};
use crate::history::{History, Operation};
use crate::models::{KvInput, KvOutput};

/// Reads a Porcupine key/value history from a file.
pub fn load(path: &Path) -> Result<History<KvInput, KvOutput>, ParseError> {
    let text = read_text(path)?;
    parse(&path.display().to_string(), &text)
}

/// Parses a Porcupine key/value history; `file` names it in errors.
pub fn parse(file: &str, text: &str) -> Result<History<KvInput, KvOutput>, ParseError> {
    let mut ops: Vec<Operation<KvInput, KvOutput>> = Vec::new();
    let mut dropped: Vec<bool> = Vec::new();
    let mut open: HashMap<u64, (usize, usize)> = HashMap::new();

    for (i, raw) in text.lines().enumerate() {
        let line_no = i + 1;
        let time = line_no as u64;
        let err = |message: String| ParseError::at(file, line_no, message);
        if raw.trim().is_empty() {
            continue;
        }
        let line = Line::parse(raw).map_err(&err)?;
        match line.kind.as_str() {
            "invoke" => {
                if let Some((_, since)) = open.get(&line.process) {
                    return Err(err(format!(
                        "process {} invokes again while its call from line {since} is still open",
                        line.process
                    )));
                }
                let input = line.input().map_err(&err)?;
                open.insert(line.process, (ops.len(), line_no));
                ops.push(Operation::unknown(line.process, input, time));
                dropped.push(false);
            }
            kind @ ("ok" | "fail" | "info") => {
                let Some((index, _)) = open.remove(&line.process) else {
                    return Err(err(format!(
                        ":{kind} for process {} which has no open call",
                        line.process
                    )));
                };
                let op = &mut ops[index];
                let (invoked_f, invoked_key) = match &op.input {
                    KvInput::Get { key } => ("get", key),
                    KvInput::Put { key, .. } => ("put", key),
                    KvInput::Append { key, .. } | KvInput::AppendReturnOld { key, .. } => {
                        ("append", key)
                    }
                };
                if invoked_f != line.function || *invoked_key != line.key {
                    return Err(err(format!(
                        ":{kind} :{} on key {:?} completes a :{invoked_f} call on key {invoked_key:?} of process {}",
                        line.function, line.key, line.process
                    )));
                }
                match kind {
                    "ok" => {
                        op.output = Some(match &op.input {
                            KvInput::Get { .. } => match &line.value {
                                Value::Str(s) => KvOutput::Value(s.clone()),
                                other => {
                                    return Err(err(format!(
                                        "a completed :get needs a string :value, found {}",
                                        other.describe()
                                    )));
                                }
                            },
                            _ => KvOutput::Ok,
                        });
                        op.ret = Some(time);
                    }
                    "fail" => dropped[index] = true,
                    _ => {} // :info: unknown outcome, stays open.
                }
            }
            other => {
                return Err(err(format!(
                    "unknown :type :{other} (expected :invoke, :ok, :fail or :info)"
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

struct Line {
    process: u64,
    kind: String,
    function: String,
    key: String,
    value: Value,
}

impl Line {
    fn parse(raw: &str) -> Result<Self, String> {
        let entries = edn::parse_map(raw)?;
        let get = |name: &str| {
            entries
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.clone())
                .ok_or_else(|| format!("the map has no :{name}"))
        };
        let process = match get("process")? {
            Value::Int(p) if p >= 0 => p as u64,
            other => {
                return Err(format!(
                    ":process must be a non-negative integer, found {}",
                    other.describe()
                ));
            }
        };
        let keyword = |name: &str| match get(name)? {
            Value::Keyword(k) => Ok(k),
            other => Err(format!(
                ":{name} must be a keyword, found {}",
                other.describe()
            )),
        };
        let kind = keyword("type")?;
        let function = keyword("f")?;
        if !matches!(function.as_str(), "get" | "put" | "append") {
            return Err(format!(
                "unknown :f :{function} (expected :get, :put or :append)"
            ));
        }
        let key = match get("key")? {
            Value::Str(k) => k,
            Value::Int(i) => i.to_string(),
            other => return Err(format!(":key must be a string, found {}", other.describe())),
        };
        let value = get("value")?;
        Ok(Self {
            process,
            kind,
            function,
            key,
            value,
        })
    }

    fn input(&self) -> Result<KvInput, String> {
        let argument = || match &self.value {
            Value::Str(s) => Ok(s.clone()),
            other => Err(format!(
                "a :{} needs a string :value, found {}",
                self.function,
                other.describe()
            )),
        };
        Ok(match self.function.as_str() {
            "get" => KvInput::get(self.key.clone()),
            "put" => KvInput::put(self.key.clone(), argument()?),
            _ => KvInput::append(self.key.clone(), argument()?),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_calls_and_completions_with_line_numbers_as_times() {
        let text = r#"{:process 0, :type :invoke, :f :append, :key "1", :value "x 0 0 y"}
{:process 1, :type :invoke, :f :get, :key "1", :value nil}
{:process 0, :type :ok, :f :append, :key "1", :value "x 0 0 y"}
{:process 1, :type :ok, :f :get, :key "1", :value ""}
{:process 2, :type :invoke, :f :put, :key "2", :value "v"}
"#;
        let history = parse("kv.txt", text).expect("valid");
        let ops = history.ops();
        assert_eq!(
            ops[0],
            Operation::completed(0, KvInput::append("1", "x 0 0 y"), KvOutput::Ok, 1, 3)
        );
        assert_eq!(
            ops[1],
            Operation::completed(1, KvInput::get("1"), KvOutput::value(""), 2, 4)
        );
        assert_eq!(ops[2], Operation::unknown(2, KvInput::put("2", "v"), 5));
    }

    #[test]
    fn a_malformed_line_names_the_file_and_line() {
        let text = "{:process 0, :type :invoke, :f :get, :key \"1\", :value nil}\n{:process 0, :type :ok, :f :get, :key \"1\", :value nil}\n";
        let e = parse("kv.txt", text).unwrap_err();
        assert!(e.to_string().starts_with("kv.txt:2: "), "{e}");
        assert!(e.message.contains("string :value"), "{e}");
    }

    #[test]
    fn unknown_function_is_an_error() {
        let e = parse(
            "kv.txt",
            "{:process 0, :type :invoke, :f :cas, :key \"1\", :value nil}",
        )
        .unwrap_err();
        assert_eq!(e.line, 1);
        assert!(e.message.contains(":cas"), "{e}");
    }

    #[test]
    fn completion_on_another_key_is_an_error() {
        let text = "{:process 0, :type :invoke, :f :get, :key \"1\", :value nil}\n{:process 0, :type :ok, :f :get, :key \"2\", :value \"\"}\n";
        let e = parse("kv.txt", text).unwrap_err();
        assert_eq!(e.line, 2);
    }

    #[test]
    fn failed_operations_are_dropped_and_info_ones_stay_open() {
        let text = "{:process 0, :type :invoke, :f :put, :key \"1\", :value \"a\"}\n{:process 0, :type :fail, :f :put, :key \"1\", :value \"a\"}\n{:process 1, :type :invoke, :f :put, :key \"1\", :value \"b\"}\n{:process 1, :type :info, :f :put, :key \"1\", :value \"b\"}\n";
        let history = parse("kv.txt", text).expect("valid");
        assert_eq!(
            history.ops(),
            &[Operation::unknown(1, KvInput::put("1", "b"), 3)]
        );
    }
}
