//! Key/value store with versioned puts (MIT's 2025 kvsrv1, lab 1 part B).
//!
//! Each key is missing or holds `(value, version)`. A get returns both, or
//! [`VersionedOutput::NoKey`]. `put(key, value, version)` applies only when
//! `version` matches the stored version (0 for a missing key, which the put
//! then creates with version 1); the stored version then goes up by one. A
//! put whose version does not match changes nothing and returns
//! [`VersionedOutput::WrongVersion`] ([`VersionedOutput::NoKey`] when the key
//! is missing). A clerk that cannot tell whether its retried put applied
//! returns [`VersionedOutput::Maybe`], which the model accepts either way.

use serde::{Deserialize, Serialize};

use crate::history::Operation;
use crate::model::{Model, partition_by};

/// A versioned key/value request, tagged by `"op"` in JSON:
/// `{"op":"put","key":"k","value":"v","version":0}`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum VersionedInput {
    /// Read a key's value and version.
    Get {
        /// The key.
        key: String,
    },
    /// Write a key if its version is still `version`.
    Put {
        /// The key.
        key: String,
        /// The new value.
        value: String,
        /// The version the client believes the key has (0: missing).
        version: u64,
    },
}

impl VersionedInput {
    /// `get(key)`.
    pub fn get(key: impl Into<String>) -> Self {
        VersionedInput::Get { key: key.into() }
    }

    /// `put(key, value, version)`.
    pub fn put(key: impl Into<String>, value: impl Into<String>, version: u64) -> Self {
        VersionedInput::Put {
            key: key.into(),
            value: value.into(),
            version,
        }
    }

    /// The key the request is about.
    pub fn key(&self) -> &str {
        match self {
            VersionedInput::Get { key } | VersionedInput::Put { key, .. } => key,
        }
    }
}

/// A versioned key/value reply. In JSON: `{"value":{"value":"v","version":1}}`,
/// `"ok"`, `"no_key"`, `"wrong_version"` or `"maybe"`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum VersionedOutput {
    /// A get found the key.
    Value {
        /// The value read.
        value: String,
        /// The key's version.
        version: u64,
    },
    /// A put applied.
    Ok,
    /// The key does not exist (get, or a put with version > 0).
    NoKey,
    /// A put's version did not match (`ErrVersion`).
    WrongVersion,
    /// A put that may or may not have applied (`ErrMaybe`).
    Maybe,
}

impl VersionedOutput {
    /// `Value { value, version }`.
    pub fn value(value: impl Into<String>, version: u64) -> Self {
        VersionedOutput::Value {
            value: value.into(),
            version,
        }
    }
}

/// A key's state: `None` when missing, else `(value, version)`.
pub type VersionedState = Option<(String, u64)>;

/// The versioned key/value model, checked key by key.
#[derive(Clone, Copy, Debug, Default)]
pub struct KvVersioned;

impl Model for KvVersioned {
    type State = VersionedState;
    type Input = VersionedInput;
    type Output = VersionedOutput;

    fn init(&self) -> VersionedState {
        None
    }

    fn step(
        &self,
        state: &VersionedState,
        input: &VersionedInput,
        output: Option<&VersionedOutput>,
    ) -> Option<VersionedState> {
        use VersionedOutput as Out;
        match input {
            VersionedInput::Get { .. } => {
                let legal = match (output, state) {
                    (None, _) => true,
                    (Some(Out::Value { value, version }), Some((v, ver))) => {
                        value == v && version == ver
                    }
                    (Some(Out::NoKey), None) => true,
                    _ => false,
                };
                legal.then(|| state.clone())
            }
            VersionedInput::Put { value, version, .. } => {
                let current = state.as_ref().map_or(0, |(_, ver)| *ver);
                if current == *version {
                    // The put applies (or, if it failed, still may have).
                    match output {
                        None | Some(Out::Ok | Out::Maybe) => {
                            Some(Some((value.clone(), version + 1)))
                        }
                        Some(_) => None,
                    }
                } else {
                    let refusal = if state.is_none() {
                        Out::NoKey
                    } else {
                        Out::WrongVersion
                    };
                    match output {
                        None | Some(Out::Maybe) => Some(state.clone()),
                        Some(out) if *out == refusal => Some(state.clone()),
                        Some(_) => None,
                    }
                }
            }
        }
    }

    fn is_read_only(&self, input: &VersionedInput, output: Option<&VersionedOutput>) -> bool {
        match input {
            VersionedInput::Get { .. } => true,
            // A refused put never changes anything.
            VersionedInput::Put { .. } => {
                matches!(
                    output,
                    Some(VersionedOutput::NoKey | VersionedOutput::WrongVersion)
                )
            }
        }
    }

    fn state_heap_bytes(&self, state: &VersionedState) -> usize {
        // An empty string allocates nothing.
        state
            .as_ref()
            .filter(|(value, _)| value.capacity() > 0)
            .map_or(0, |(value, _)| {
                super::kv_state::allocation(value.capacity())
            })
    }

    fn partition(&self, history: &[Operation<VersionedInput, VersionedOutput>]) -> Vec<Vec<usize>> {
        partition_by(history, |op| op.input.key())
    }

    fn describe_partition(
        &self,
        history: &[Operation<VersionedInput, VersionedOutput>],
        part: &[usize],
    ) -> String {
        part.first().map_or_else(String::new, |&i| {
            format!("key {:?}", history[i].input.key())
        })
    }

    fn describe_input(&self, input: &VersionedInput) -> String {
        match input {
            VersionedInput::Get { key } => format!("get({key:?})"),
            VersionedInput::Put {
                key,
                value,
                version,
            } => format!("put({key:?}, {value:?}, v{version})"),
        }
    }

    fn describe_output(&self, output: Option<&VersionedOutput>) -> String {
        match output {
            None => "unknown".to_string(),
            Some(VersionedOutput::Value { value, version }) => format!("{value:?} v{version}"),
            Some(VersionedOutput::Ok) => "ok".to_string(),
            Some(VersionedOutput::NoKey) => "ErrNoKey".to_string(),
            Some(VersionedOutput::WrongVersion) => "ErrVersion".to_string(),
            Some(VersionedOutput::Maybe) => "ErrMaybe".to_string(),
        }
    }

    fn describe_state(&self, state: &VersionedState) -> String {
        match state {
            None => "missing".to_string(),
            Some((value, version)) => format!("{value:?} v{version}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use VersionedOutput as Out;

    fn step(
        state: VersionedState,
        input: VersionedInput,
        output: Option<Out>,
    ) -> Option<VersionedState> {
        KvVersioned.step(&state, &input, output.as_ref())
    }

    fn at(value: &str, version: u64) -> VersionedState {
        Some((value.to_string(), version))
    }

    #[test]
    fn get_must_return_value_and_version_or_no_key() {
        let get = VersionedInput::get("k");
        assert_eq!(
            step(at("a", 2), get.clone(), Some(Out::value("a", 2))),
            Some(at("a", 2))
        );
        assert_eq!(
            step(at("a", 2), get.clone(), Some(Out::value("a", 1))),
            None
        );
        assert_eq!(
            step(at("a", 2), get.clone(), Some(Out::value("b", 2))),
            None
        );
        assert_eq!(step(at("a", 2), get.clone(), Some(Out::NoKey)), None);
        assert_eq!(step(None, get.clone(), Some(Out::NoKey)), Some(None));
        assert_eq!(step(None, get.clone(), Some(Out::value("", 0))), None);
        assert_eq!(step(at("a", 2), get, None), Some(at("a", 2)));
    }

    #[test]
    fn put_with_version_zero_creates_a_missing_key_at_version_one() {
        let put = VersionedInput::put("k", "a", 0);
        assert_eq!(step(None, put.clone(), Some(Out::Ok)), Some(at("a", 1)));
        assert_eq!(step(None, put, Some(Out::Maybe)), Some(at("a", 1)));
    }

    #[test]
    fn matching_put_must_answer_ok_or_maybe_and_bumps_the_version() {
        let put = VersionedInput::put("k", "b", 3);
        assert_eq!(
            step(at("a", 3), put.clone(), Some(Out::Ok)),
            Some(at("b", 4))
        );
        assert_eq!(
            step(at("a", 3), put.clone(), Some(Out::Maybe)),
            Some(at("b", 4))
        );
        assert_eq!(step(at("a", 3), put.clone(), None), Some(at("b", 4)));
        assert_eq!(step(at("a", 3), put.clone(), Some(Out::WrongVersion)), None);
        assert_eq!(step(at("a", 3), put, Some(Out::NoKey)), None);
    }

    #[test]
    fn mismatched_put_must_answer_wrong_version_or_maybe_and_changes_nothing() {
        let put = VersionedInput::put("k", "b", 2);
        assert_eq!(
            step(at("a", 3), put.clone(), Some(Out::WrongVersion)),
            Some(at("a", 3))
        );
        assert_eq!(
            step(at("a", 3), put.clone(), Some(Out::Maybe)),
            Some(at("a", 3))
        );
        assert_eq!(step(at("a", 3), put.clone(), None), Some(at("a", 3)));
        assert_eq!(step(at("a", 3), put, Some(Out::Ok)), None);
    }

    #[test]
    fn put_with_nonzero_version_on_missing_key_answers_no_key() {
        let put = VersionedInput::put("k", "b", 1);
        assert_eq!(step(None, put.clone(), Some(Out::NoKey)), Some(None));
        assert_eq!(step(None, put.clone(), Some(Out::Maybe)), Some(None));
        assert_eq!(step(None, put.clone(), Some(Out::WrongVersion)), None);
        assert_eq!(step(None, put, Some(Out::Ok)), None);
    }

    #[test]
    fn put_with_version_zero_on_existing_key_is_a_mismatch() {
        let put = VersionedInput::put("k", "b", 0);
        assert_eq!(
            step(at("a", 1), put.clone(), Some(Out::WrongVersion)),
            Some(at("a", 1))
        );
        assert_eq!(step(at("a", 1), put, Some(Out::Ok)), None);
    }

    #[test]
    fn refused_puts_and_gets_are_read_only_but_maybe_is_not() {
        let put = VersionedInput::put("k", "b", 0);
        assert!(KvVersioned.is_read_only(&VersionedInput::get("k"), None));
        assert!(KvVersioned.is_read_only(&put, Some(&Out::WrongVersion)));
        assert!(KvVersioned.is_read_only(&put, Some(&Out::NoKey)));
        assert!(!KvVersioned.is_read_only(&put, Some(&Out::Maybe)));
        assert!(!KvVersioned.is_read_only(&put, Some(&Out::Ok)));
        assert!(!KvVersioned.is_read_only(&put, None));
    }
}
