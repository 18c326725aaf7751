//! The grader's own failures: anything that stops it from producing a
//! verdict (exit status 2). Each message says what was wrong and what to do.

use std::fmt;

/// Why the grader could not do its job.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GraderError(pub String);

impl GraderError {
    /// An error with `message`.
    pub fn new(message: impl Into<String>) -> GraderError {
        GraderError(message.into())
    }
}

impl fmt::Display for GraderError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for GraderError {}

/// The grader's result type.
pub type Result<T> = std::result::Result<T, GraderError>;

/// Adds what the grader was doing to a lower-level error.
pub trait Context<T> {
    /// Prefixes the error with `what` (e.g. "cannot read /x/grade.toml").
    fn context(self, what: impl FnOnce() -> String) -> Result<T>;
}

impl<T, E: fmt::Display> Context<T> for std::result::Result<T, E> {
    fn context(self, what: impl FnOnce() -> String) -> Result<T> {
        self.map_err(|e| GraderError(format!("{}: {e}", what())))
    }
}
