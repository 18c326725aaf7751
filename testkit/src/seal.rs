//! Reports a run's own code cannot forge.
//!
//! Under the grader, each run gets a fresh 32-byte secret through an
//! inherited pipe whose descriptor number is in `DISTLAB_KEY_FD` (the
//! variable holds only the number; the secret never appears in the
//! environment). The first [`crate::Run`] of the process reads the secret
//! and empties the pipe before the test's body, and so any student code,
//! runs; the run keeps it privately and appends to its report line a tab and
//! the HMAC-SHA256 of the report's JSON under that secret. The grader, which
//! made the secret, accepts a PASS only from a report with a valid tag for
//! that exact test and seed. A later `Run` in the same process, or code that
//! opens the descriptor afterwards, finds the pipe empty and gets no key.
//!
//! Without the grader (plain `cargo test`) there is no descriptor, no key
//! and no tag, and everything works as before.

use std::io::Read;

/// The environment variable holding the number of the key's descriptor.
pub const KEY_FD_VAR: &str = "DISTLAB_KEY_FD";

/// Bytes in a run key.
pub const KEY_LEN: usize = 32;

/// Separates a report's JSON from its tag on the report line.
pub const TAG_SEPARATOR: char = '\t';

/// A run's secret key. Deliberately neither `Clone` nor `Debug`.
pub struct Key([u8; KEY_LEN]);

impl Key {
    /// A key from its bytes (the grader's side, which made them).
    pub fn from_bytes(bytes: [u8; KEY_LEN]) -> Key {
        Key(bytes)
    }

    /// The hex HMAC-SHA256 of `message` under this key.
    pub fn tag(&self, message: &str) -> String {
        hex(&hmac_sha256::HMAC::mac(message.as_bytes(), self.0))
    }

    /// Whether `tag` (hex) is this key's tag of `message`, compared in
    /// constant time.
    pub fn verify(&self, message: &str, tag: &str) -> bool {
        let expected = self.tag(message);
        expected.len() == tag.len()
            && expected
                .bytes()
                .zip(tag.bytes())
                .fold(0u8, |acc, (a, b)| acc | (a ^ b))
                == 0
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Reads the run's key from the descriptor `DISTLAB_KEY_FD` names, if
/// there is one, leaving the pipe empty. `None` without the grader, or when
/// the key was already taken in this process.
pub(crate) fn take_key() -> Option<Key> {
    let fd: u32 = std::env::var(KEY_FD_VAR).ok()?.trim().parse().ok()?;
    let mut pipe = std::fs::File::open(format!("/proc/self/fd/{fd}")).ok()?;
    let mut bytes = [0u8; KEY_LEN];
    pipe.read_exact(&mut bytes).ok()?;
    Some(Key(bytes))
}

/// Splits a report line into its JSON and its tag, if it has one.
pub fn split_line(line: &str) -> (&str, Option<&str>) {
    match line.rsplit_once(TAG_SEPARATOR) {
        Some((json, tag)) => (json, Some(tag.trim())),
        None => (line, None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_tag_verifies_only_under_its_key_and_message() {
        let key = Key::from_bytes([7; KEY_LEN]);
        let tag = key.tag("{\"passed\":true}");
        assert_eq!(tag.len(), 64);
        assert!(key.verify("{\"passed\":true}", &tag));
        assert!(!key.verify("{\"passed\":false}", &tag));
        assert!(!Key::from_bytes([8; KEY_LEN]).verify("{\"passed\":true}", &tag));
        assert!(!key.verify("{\"passed\":true}", &tag[..63]));
    }

    #[test]
    fn lines_split_at_the_last_tab() {
        assert_eq!(split_line("{\"a\":1}\tabc\n"), ("{\"a\":1}", Some("abc")));
        assert_eq!(split_line("{\"a\":1}"), ("{\"a\":1}", None));
    }
}
