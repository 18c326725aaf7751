//! The kit's JSON-lines history format: one JSON object per operation.
//!
//! ```text
//! {"client":0,"input":{"op":"put","key":"x","value":"1"},"output":"ok","call":1200,"return":5400}
//! {"client":1,"input":{"op":"get","key":"x"},"output":{"value":"1"},"call":6000,"return":9100}
//! {"client":2,"input":{"op":"append","key":"x","value":"2"},"output":null,"call":7000,"return":null}
//! ```
//!
//! | field | meaning |
//! |---|---|
//! | `client` | client id (non-negative integer) |
//! | `input` | the request, in the model's JSON form |
//! | `output` | the reply in the model's JSON form; `null`, `"unknown"` or absent: outcome unknown |
//! | `call` | call time, integer nanoseconds since any fixed start |
//! | `return` | return time (at least `call`); `null` or absent: never returned |
//!
//! Blank lines are ignored. Operations may appear in any order.

use std::io::{self, Write};
use std::path::Path;

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use super::{ParseError, read_text};
use crate::history::{History, Operation};

const FIELDS: &str = "client, input, output, call, return";

/// Reads a JSON-lines history from a file.
pub fn load<I: DeserializeOwned, O: DeserializeOwned>(
    path: &Path,
) -> Result<History<I, O>, ParseError> {
    let text = read_text(path)?;
    parse(&path.display().to_string(), &text)
}

/// Parses a JSON-lines history; `file` names it in errors.
pub fn parse<I: DeserializeOwned, O: DeserializeOwned>(
    file: &str,
    text: &str,
) -> Result<History<I, O>, ParseError> {
    let mut history = History::new();
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let op = parse_line(line).map_err(|message| ParseError::at(file, i + 1, message))?;
        history.push(op);
    }
    Ok(history)
}

fn parse_line<I: DeserializeOwned, O: DeserializeOwned>(
    line: &str,
) -> Result<Operation<I, O>, String> {
    let value: Value = serde_json::from_str(line).map_err(|e| format!("not valid JSON: {e}"))?;
    let Value::Object(mut fields) = value else {
        return Err(format!("expected a JSON object with fields {FIELDS}"));
    };
    let client = take_u64(&mut fields, "client")?.ok_or("missing field \"client\"")?;
    let call = take_u64(&mut fields, "call")?.ok_or("missing field \"call\"")?;
    let ret = take_u64(&mut fields, "return")?;
    if let Some(ret) = ret
        && ret < call
    {
        return Err(format!("\"return\" ({ret}) is before \"call\" ({call})"));
    }
    let input = fields.remove("input").ok_or("missing field \"input\"")?;
    let input: I = serde_json::from_value(input).map_err(|e| format!("bad \"input\": {e}"))?;
    let output = match fields.remove("output") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) if s == "unknown" => None,
        Some(v) => Some(serde_json::from_value(v).map_err(|e| format!("bad \"output\": {e}"))?),
    };
    if let Some(extra) = fields.keys().next() {
        return Err(format!("unknown field {extra:?} (the fields are {FIELDS})"));
    }
    Ok(Operation {
        client,
        input,
        output,
        call,
        ret,
    })
}

/// Removes `name` from `fields`: `None` when absent or null.
fn take_u64(fields: &mut Map<String, Value>, name: &str) -> Result<Option<u64>, String> {
    match fields.remove(name) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => v
            .as_u64()
            .map(Some)
            .ok_or_else(|| format!("{name:?} must be a non-negative integer, found {v}")),
    }
}

#[derive(Serialize)]
struct LineOut<'a, I, O> {
    client: u64,
    input: &'a I,
    output: Option<&'a O>,
    call: u64,
    #[serde(rename = "return")]
    ret: Option<u64>,
}

/// Writes a history, one line per operation.
pub fn write<I: Serialize, O: Serialize>(
    history: &History<I, O>,
    mut to: impl Write,
) -> io::Result<()> {
    for op in history.ops() {
        let line = LineOut {
            client: op.client,
            input: &op.input,
            output: op.output.as_ref(),
            call: op.call,
            ret: op.ret,
        };
        serde_json::to_writer(&mut to, &line).map_err(io::Error::other)?;
        to.write_all(b"\n")?;
    }
    to.flush()
}

/// Writes a history to a file (created or replaced).
pub fn save<I: Serialize, O: Serialize>(history: &History<I, O>, path: &Path) -> io::Result<()> {
    let file = std::fs::File::create(path)?;
    write(history, io::BufWriter::new(file))
}

impl<I: Serialize, O: Serialize> History<I, O> {
    /// Saves the history in the JSON-lines format (see [`jsonl`](self)).
    pub fn save_jsonl(&self, path: impl AsRef<Path>) -> io::Result<()> {
        save(self, path.as_ref())
    }

    /// The history in the JSON-lines format.
    pub fn to_jsonl(&self) -> String {
        let mut out = Vec::new();
        // Writing to a Vec cannot fail, and serde_json only fails on maps
        // with non-string keys, which the format never writes at top level.
        let _ = write(self, &mut out);
        String::from_utf8_lossy(&out).into_owned()
    }
}

impl<I: DeserializeOwned, O: DeserializeOwned> History<I, O> {
    /// Loads a history saved by [`History::save_jsonl`].
    pub fn load_jsonl(path: impl AsRef<Path>) -> Result<Self, ParseError> {
        load(path.as_ref())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::models::{KvInput, KvOutput, RegisterInput, RegisterOutput};

    #[test]
    fn kv_history_round_trips_including_unknown_outcomes() {
        let history: History<KvInput, KvOutput> = vec![
            Operation::completed(0, KvInput::put("x", "1"), KvOutput::Ok, 0, 10),
            Operation::completed(1, KvInput::get("x"), KvOutput::value("1"), 12, 20),
            Operation::unknown(2, KvInput::append("x", "2"), 15),
            Operation {
                client: 3,
                input: KvInput::append_return_old("y", "\"quoted\"\n"),
                output: None,
                call: 16,
                ret: Some(30),
            },
        ]
        .into();
        let text = history.to_jsonl();
        assert_eq!(text.lines().count(), 4);
        let back: History<KvInput, KvOutput> = parse("mem", &text).expect("own output parses");
        assert_eq!(back, history);
    }

    #[test]
    fn register_history_round_trips_through_a_file() {
        let history: History<RegisterInput, RegisterOutput> = vec![
            Operation::completed(0, RegisterInput::Read, RegisterOutput::Value(None), 0, 1),
            Operation::completed(
                1,
                RegisterInput::Cas { from: 1, to: 2 },
                RegisterOutput::CasFailed,
                0,
                2,
            ),
        ]
        .into();
        let dir = tempfile::tempdir().expect("temp dir is writable");
        let path = dir.path().join("history.jsonl");
        history.save_jsonl(&path).expect("temp dir is writable");
        let back = History::load_jsonl(&path);
        assert_eq!(back.expect("saved file loads"), history);
    }

    #[test]
    fn the_documented_example_lines_parse() {
        let text = r#"{"client":0,"input":{"op":"put","key":"x","value":"1"},"output":"ok","call":1200,"return":5400}
{"client":1,"input":{"op":"get","key":"x"},"output":{"value":"1"},"call":6000,"return":9100}

{"client":2,"input":{"op":"append","key":"x","value":"2"},"output":"unknown","call":7000}
"#;
        let history: History<KvInput, KvOutput> = parse("doc", text).expect("documented example");
        assert_eq!(history.len(), 3);
        assert_eq!(
            history.ops()[2],
            Operation::unknown(2, KvInput::append("x", "2"), 7000)
        );
    }

    fn error_of(text: &str) -> ParseError {
        parse::<KvInput, KvOutput>("h.jsonl", text).unwrap_err()
    }

    #[test]
    fn malformed_lines_name_file_line_and_problem() {
        let good = r#"{"client":0,"input":{"op":"get","key":"x"},"output":{"value":""},"call":1,"return":2}"#;
        let cases = [
            ("{not json", "not valid JSON"),
            ("[1,2]", "expected a JSON object"),
            (
                r#"{"input":{"op":"get","key":"x"},"call":1}"#,
                "missing field \"client\"",
            ),
            (r#"{"client":0,"call":1}"#, "missing field \"input\""),
            (
                r#"{"client":0,"input":{"op":"gett","key":"x"},"call":1}"#,
                "bad \"input\"",
            ),
            (
                r#"{"client":0,"input":{"op":"get","key":"x"},"output":5,"call":1}"#,
                "bad \"output\"",
            ),
            (
                r#"{"client":-1,"input":{"op":"get","key":"x"},"call":1}"#,
                "non-negative integer",
            ),
            (
                r#"{"client":0,"input":{"op":"get","key":"x"},"call":5,"return":4}"#,
                "before \"call\"",
            ),
            (
                r#"{"client":0,"input":{"op":"get","key":"x"},"call":5,"retrun":6}"#,
                "unknown field \"retrun\"",
            ),
        ];
        for (bad, expected) in cases {
            let e = error_of(&format!("{good}\n{bad}\n"));
            assert_eq!((e.file.as_str(), e.line), ("h.jsonl", 2), "for {bad}");
            assert!(
                e.message.contains(expected),
                "for {bad}: got {e}, expected {expected:?}"
            );
            assert!(e.to_string().starts_with("h.jsonl:2: "));
        }
    }
}
