//! Reading and writing histories.
//!
//! - [`jsonl`]: the kit's own JSON-lines format, one operation per line, for
//!   any model whose inputs and outputs are serde types. The labs save
//!   failing histories in it.
//! - [`jepsen`]: Jepsen etcd logs (Porcupine's `test_data/jepsen`), for the
//!   [`Register`](crate::models::Register) model.
//! - [`porcupine_kv`]: Porcupine's key/value histories (`test_data/kv`), EDN
//!   maps one per line, for the [`Kv`](crate::models::Kv) models.
//!
//! Every parser reports errors as a [`ParseError`] naming the file and line.

pub mod jepsen;
pub mod jsonl;
pub mod porcupine_kv;

mod edn;

use std::fmt;
use std::path::Path;

/// A history file that could not be read or understood.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParseError {
    /// The file's name as given.
    pub file: String,
    /// The 1-based line number, or 0 when the problem is not on one line.
    pub line: usize,
    /// What is wrong, and when possible what was expected.
    pub message: String,
}

impl ParseError {
    pub(crate) fn at(file: &str, line: usize, message: impl Into<String>) -> Self {
        Self {
            file: file.to_string(),
            line,
            message: message.into(),
        }
    }
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line == 0 {
            write!(f, "{}: {}", self.file, self.message)
        } else {
            write!(f, "{}:{}: {}", self.file, self.line, self.message)
        }
    }
}

impl std::error::Error for ParseError {}

/// Reads a whole file as UTF-8 text, with an error that names it.
pub(crate) fn read_text(path: &Path) -> Result<String, ParseError> {
    let name = path.display().to_string();
    std::fs::read_to_string(path)
        .map_err(|e| ParseError::at(&name, 0, format!("cannot read the file: {e}")))
}

/// The history file formats `labcheck` reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// The kit's JSON-lines format ([`jsonl`]).
    Jsonl,
    /// Porcupine's key/value EDN lines ([`porcupine_kv`]).
    PorcupineKv,
    /// Jepsen etcd logs ([`jepsen`]).
    Jepsen,
}

impl Format {
    /// Guesses the format from the first non-blank line: Jepsen logs start
    /// with `INFO` and name `jepsen.util`, Porcupine's key/value lines start
    /// with `{:`, anything else is taken as JSON lines.
    pub fn detect(text: &str) -> Format {
        let first = text.lines().map(str::trim).find(|l| !l.is_empty());
        match first {
            Some(line) if line.starts_with("INFO") && line.contains("jepsen.util") => {
                Format::Jepsen
            }
            Some(line) if line.starts_with("{:") => Format::PorcupineKv,
            _ => Format::Jsonl,
        }
    }

    /// The format's name on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Format::Jsonl => "jsonl",
            Format::PorcupineKv => "porcupine-kv",
            Format::Jepsen => "jepsen",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detect_recognises_each_format_by_its_first_line() {
        assert_eq!(
            Format::detect("\nINFO  jepsen.util - 0\t:invoke\t:read\tnil\n"),
            Format::Jepsen
        );
        assert_eq!(
            Format::detect("{:process 0, :type :invoke, :f :get, :key \"1\", :value nil}"),
            Format::PorcupineKv
        );
        assert_eq!(Format::detect("{\"client\":0}"), Format::Jsonl);
    }

    #[test]
    fn parse_error_names_file_and_line() {
        let e = ParseError::at("h.jsonl", 3, "bad");
        assert_eq!(e.to_string(), "h.jsonl:3: bad");
        assert_eq!(
            ParseError::at("h.jsonl", 0, "bad").to_string(),
            "h.jsonl: bad"
        );
    }
}
