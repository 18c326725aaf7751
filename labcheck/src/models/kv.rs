//! Key/value store with get, put and append (labs 1, 3 and 4).
//!
//! Each key holds a string, initially `""`. [`Kv`] checks each key's
//! operations separately (a history is linearizable exactly when every key's
//! sub-history is); [`KvNoPartition`] checks the same specification with the
//! whole map as one state, which is much slower and exists to compare against
//! Porcupine's unpartitioned model.

use serde::{Deserialize, Serialize};

use super::kv_state::{KvMap, KvValue};
use crate::history::Operation;
use crate::model::{Model, partition_by};

/// A key/value request. In the JSON-lines format it is an object tagged by
/// `"op"`, e.g. `{"op":"append","key":"k","value":"x 0 1 y"}`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum KvInput {
    /// Read a key; the output is its value (`""` when missing).
    Get {
        /// The key.
        key: String,
    },
    /// Replace a key's value.
    Put {
        /// The key.
        key: String,
        /// The new value.
        value: String,
    },
    /// Add to the end of a key's value; returns nothing.
    Append {
        /// The key.
        key: String,
        /// What to add.
        value: String,
    },
    /// Add to the end of a key's value and return the value before the
    /// append (MIT's 2024 kvsrv).
    AppendReturnOld {
        /// The key.
        key: String,
        /// What to add.
        value: String,
    },
}

impl KvInput {
    /// `get(key)`.
    pub fn get(key: impl Into<String>) -> Self {
        KvInput::Get { key: key.into() }
    }

    /// `put(key, value)`.
    pub fn put(key: impl Into<String>, value: impl Into<String>) -> Self {
        KvInput::Put {
            key: key.into(),
            value: value.into(),
        }
    }

    /// `append(key, value)`, returning nothing.
    pub fn append(key: impl Into<String>, value: impl Into<String>) -> Self {
        KvInput::Append {
            key: key.into(),
            value: value.into(),
        }
    }

    /// `append(key, value)`, returning the old value.
    pub fn append_return_old(key: impl Into<String>, value: impl Into<String>) -> Self {
        KvInput::AppendReturnOld {
            key: key.into(),
            value: value.into(),
        }
    }

    /// The key the request is about.
    pub fn key(&self) -> &str {
        match self {
            KvInput::Get { key }
            | KvInput::Put { key, .. }
            | KvInput::Append { key, .. }
            | KvInput::AppendReturnOld { key, .. } => key,
        }
    }
}

/// A key/value reply. In the JSON-lines format: `{"value":"..."}` or `"ok"`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum KvOutput {
    /// The value read by a get, or the old value returned by an
    /// append-returning-old-value.
    Value(String),
    /// A put or append completed (no value returned).
    Ok,
}

impl KvOutput {
    /// `Value(v)`.
    pub fn value(v: impl Into<String>) -> Self {
        KvOutput::Value(v.into())
    }
}

/// Applies a request to one key's value: `Some(new value)` when `output` is
/// legal, `None` when it is not. Shared by both key/value models.
fn step_key(value: &KvValue, input: &KvInput, output: Option<&KvOutput>) -> Option<KvValue> {
    match (input, output) {
        (KvInput::Get { .. }, Some(KvOutput::Value(seen))) => {
            (*value == **seen).then(|| value.clone())
        }
        // A get must return a value.
        (KvInput::Get { .. }, Some(KvOutput::Ok)) => None,
        (KvInput::Get { .. }, None) => Some(value.clone()),
        // Put and append return nothing the model could check.
        (KvInput::Put { value: new, .. }, _) => Some(KvValue::from(new.as_str())),
        (KvInput::Append { value: add, .. }, _) => Some(value.append(add)),
        (KvInput::AppendReturnOld { value: add, .. }, Some(KvOutput::Value(old))) => {
            (*value == **old).then(|| value.append(add))
        }
        (KvInput::AppendReturnOld { value: add, .. }, Some(KvOutput::Ok) | None) => {
            Some(value.append(add))
        }
    }
}

fn describe_input(input: &KvInput) -> String {
    match input {
        KvInput::Get { key } => format!("get({key:?})"),
        KvInput::Put { key, value } => format!("put({key:?}, {value:?})"),
        KvInput::Append { key, value } => format!("append({key:?}, {value:?})"),
        KvInput::AppendReturnOld { key, value } => {
            format!("append_return_old({key:?}, {value:?})")
        }
    }
}

fn describe_output(output: Option<&KvOutput>) -> String {
    match output {
        Some(KvOutput::Value(v)) => format!("{v:?}"),
        Some(KvOutput::Ok) => "ok".to_string(),
        None => "unknown".to_string(),
    }
}

/// The key/value model, checked key by key. State: one key's value.
#[derive(Clone, Copy, Debug, Default)]
pub struct Kv;

impl Model for Kv {
    type State = KvValue;
    type Input = KvInput;
    type Output = KvOutput;

    fn init(&self) -> KvValue {
        KvValue::default()
    }

    fn step(&self, state: &KvValue, input: &KvInput, output: Option<&KvOutput>) -> Option<KvValue> {
        step_key(state, input, output)
    }

    fn is_read_only(&self, input: &KvInput, _output: Option<&KvOutput>) -> bool {
        matches!(input, KvInput::Get { .. })
    }

    fn state_heap_bytes(&self, state: &KvValue) -> usize {
        state.heap_bytes()
    }

    fn partition(&self, history: &[Operation<KvInput, KvOutput>]) -> Vec<Vec<usize>> {
        partition_by(history, |op| op.input.key())
    }

    fn describe_partition(
        &self,
        history: &[Operation<KvInput, KvOutput>],
        part: &[usize],
    ) -> String {
        part.first().map_or_else(String::new, |&i| {
            format!("key {:?}", history[i].input.key())
        })
    }

    fn describe_input(&self, input: &KvInput) -> String {
        describe_input(input)
    }

    fn describe_output(&self, output: Option<&KvOutput>) -> String {
        describe_output(output)
    }

    fn describe_state(&self, state: &KvValue) -> String {
        format!("{state:?}")
    }
}

/// The key/value model with the whole map as one state (no partitioning).
/// Same verdicts as [`Kv`], much slower; useful to cross-check [`Kv`] and to
/// compare with Porcupine's unpartitioned model.
#[derive(Clone, Copy, Debug, Default)]
pub struct KvNoPartition;

impl Model for KvNoPartition {
    type State = KvMap;
    type Input = KvInput;
    type Output = KvOutput;

    fn init(&self) -> KvMap {
        KvMap::default()
    }

    fn step(&self, state: &KvMap, input: &KvInput, output: Option<&KvOutput>) -> Option<KvMap> {
        let key = input.key();
        let old = state.value(key);
        let new = step_key(&old, input, output)?;
        if new == old {
            return Some(state.clone());
        }
        Some(state.with(key, new))
    }

    fn is_read_only(&self, input: &KvInput, _output: Option<&KvOutput>) -> bool {
        matches!(input, KvInput::Get { .. })
    }

    fn state_heap_bytes(&self, state: &KvMap) -> usize {
        state.heap_bytes()
    }

    fn describe_input(&self, input: &KvInput) -> String {
        describe_input(input)
    }

    fn describe_output(&self, output: Option<&KvOutput>) -> String {
        describe_output(output)
    }

    fn describe_state(&self, state: &KvMap) -> String {
        let entries: Vec<String> = state.iter().map(|(k, v)| format!("{k:?}: {v:?}")).collect();
        format!("{{{}}}", entries.join(", "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn step(state: &str, input: KvInput, output: Option<KvOutput>) -> Option<String> {
        Kv.step(&KvValue::from(state), &input, output.as_ref())
            .map(|v| v.to_string())
    }

    #[test]
    fn get_is_legal_only_when_it_returns_the_current_value() {
        assert_eq!(
            step("a", KvInput::get("k"), Some(KvOutput::value("a"))),
            Some("a".into())
        );
        assert_eq!(
            step("a", KvInput::get("k"), Some(KvOutput::value("b"))),
            None
        );
        assert_eq!(
            step("", KvInput::get("k"), Some(KvOutput::value(""))),
            Some("".into())
        );
    }

    #[test]
    fn get_answered_ok_is_illegal() {
        assert_eq!(step("a", KvInput::get("k"), Some(KvOutput::Ok)), None);
    }

    #[test]
    fn get_with_unknown_outcome_is_legal_anywhere_and_changes_nothing() {
        assert_eq!(step("a", KvInput::get("k"), None), Some("a".into()));
    }

    #[test]
    fn put_replaces_and_append_concatenates() {
        assert_eq!(
            step("a", KvInput::put("k", "b"), Some(KvOutput::Ok)),
            Some("b".into())
        );
        assert_eq!(
            step("a", KvInput::append("k", "b"), Some(KvOutput::Ok)),
            Some("ab".into())
        );
    }

    #[test]
    fn put_and_append_with_unknown_outcome_take_effect_when_placed() {
        assert_eq!(step("a", KvInput::put("k", "b"), None), Some("b".into()));
        assert_eq!(
            step("a", KvInput::append("k", "b"), None),
            Some("ab".into())
        );
    }

    #[test]
    fn append_return_old_must_return_the_value_before_the_append() {
        let input = KvInput::append_return_old("k", "b");
        assert_eq!(
            step("a", input.clone(), Some(KvOutput::value("a"))),
            Some("ab".into())
        );
        assert_eq!(step("a", input.clone(), Some(KvOutput::value("ab"))), None);
        assert_eq!(step("a", input, None), Some("ab".into()));
    }

    #[test]
    fn only_gets_are_read_only() {
        assert!(Kv.is_read_only(&KvInput::get("k"), None));
        assert!(!Kv.is_read_only(&KvInput::put("k", "v"), None));
        assert!(!Kv.is_read_only(&KvInput::append_return_old("k", "v"), None));
    }

    #[test]
    fn kv_partitions_by_key() {
        let history: Vec<Operation<KvInput, KvOutput>> = ["a", "b", "a"]
            .iter()
            .map(|k| Operation::completed(0, KvInput::get(*k), KvOutput::value(""), 0, 1))
            .collect();
        assert_eq!(Kv.partition(&history), vec![vec![0, 2], vec![1]]);
        assert_eq!(Kv.describe_partition(&history, &[1]), "key \"b\"");
    }

    #[test]
    fn whole_map_model_treats_empty_and_missing_alike() {
        let empty = KvNoPartition.init();
        let after_put = KvNoPartition
            .step(&empty, &KvInput::put("k", ""), Some(&KvOutput::Ok))
            .expect("put is always legal");
        assert_eq!(after_put, empty);
        let after_append = KvNoPartition
            .step(&empty, &KvInput::append("k", "x"), Some(&KvOutput::Ok))
            .expect("append is always legal");
        assert_eq!(after_append.get("k"), "x");
        assert_eq!(
            KvNoPartition.step(
                &after_append,
                &KvInput::get("k"),
                Some(&KvOutput::value(""))
            ),
            None
        );
    }
}
