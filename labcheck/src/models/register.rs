//! A single register with read, write and compare-and-set, as in Jepsen's
//! etcd test (the `jepsen/` histories of the Porcupine data).
//!
//! The register starts as nil, which differs from every integer. A failed
//! compare-and-set is an observation ("the register was not `from`"), not a
//! no-op to drop. An operation with an unknown outcome is legal in any state:
//! a write then applies, a compare-and-set applies only if it matches, a read
//! changes nothing.

use serde::{Deserialize, Serialize};

use crate::model::Model;

/// A register request, tagged by `"op"` in JSON: `{"op":"read"}`,
/// `{"op":"write","value":3}`, `{"op":"cas","from":1,"to":2}`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum RegisterInput {
    /// Read the register.
    Read,
    /// Set the register.
    Write {
        /// The new value.
        value: i64,
    },
    /// Set the register to `to` if it holds `from`.
    Cas {
        /// The expected value.
        from: i64,
        /// The new value.
        to: i64,
    },
}

/// A register reply. In JSON: `{"value":3}`, `{"value":null}` (nil), `"ok"`
/// or `"cas_failed"`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RegisterOutput {
    /// A read's result; `None` is nil (never written).
    Value(Option<i64>),
    /// A write, or a compare-and-set that applied.
    Ok,
    /// A compare-and-set whose comparison failed: the register did not hold
    /// `from`.
    CasFailed,
}

/// The register model. State: `None` (nil) or the value.
#[derive(Clone, Copy, Debug, Default)]
pub struct Register;

impl Model for Register {
    type State = Option<i64>;
    type Input = RegisterInput;
    type Output = RegisterOutput;

    fn init(&self) -> Option<i64> {
        None
    }

    fn step(
        &self,
        state: &Option<i64>,
        input: &RegisterInput,
        output: Option<&RegisterOutput>,
    ) -> Option<Option<i64>> {
        match (input, output) {
            (RegisterInput::Read, None) => Some(*state),
            (RegisterInput::Read, Some(RegisterOutput::Value(seen))) => {
                (seen == state).then_some(*state)
            }
            (RegisterInput::Read, Some(_)) => None,
            (RegisterInput::Write { value }, None | Some(RegisterOutput::Ok)) => Some(Some(*value)),
            (RegisterInput::Write { .. }, Some(_)) => None,
            (RegisterInput::Cas { from, to }, Some(RegisterOutput::Ok)) => {
                (*state == Some(*from)).then_some(Some(*to))
            }
            (RegisterInput::Cas { from, .. }, Some(RegisterOutput::CasFailed)) => {
                (*state != Some(*from)).then_some(*state)
            }
            (RegisterInput::Cas { from, to }, None) => Some(if *state == Some(*from) {
                Some(*to)
            } else {
                *state
            }),
            (RegisterInput::Cas { .. }, Some(RegisterOutput::Value(_))) => None,
        }
    }

    fn is_read_only(&self, input: &RegisterInput, output: Option<&RegisterOutput>) -> bool {
        match input {
            RegisterInput::Read => true,
            RegisterInput::Write { .. } => false,
            RegisterInput::Cas { .. } => output == Some(&RegisterOutput::CasFailed),
        }
    }

    fn describe_input(&self, input: &RegisterInput) -> String {
        match input {
            RegisterInput::Read => "read()".to_string(),
            RegisterInput::Write { value } => format!("write({value})"),
            RegisterInput::Cas { from, to } => format!("cas({from}, {to})"),
        }
    }

    fn describe_output(&self, output: Option<&RegisterOutput>) -> String {
        match output {
            None => "unknown".to_string(),
            Some(RegisterOutput::Value(None)) => "nil".to_string(),
            Some(RegisterOutput::Value(Some(v))) => v.to_string(),
            Some(RegisterOutput::Ok) => "ok".to_string(),
            Some(RegisterOutput::CasFailed) => "failed".to_string(),
        }
    }

    fn describe_state(&self, state: &Option<i64>) -> String {
        state.map_or_else(|| "nil".to_string(), |v| v.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use RegisterInput::{Cas, Read, Write};
    use RegisterOutput::{CasFailed, Ok, Value};

    fn step(
        state: Option<i64>,
        input: RegisterInput,
        output: Option<RegisterOutput>,
    ) -> Option<Option<i64>> {
        Register.step(&state, &input, output.as_ref())
    }

    #[test]
    fn the_register_starts_nil_and_nil_differs_from_every_integer() {
        assert_eq!(Register.init(), None);
        assert_eq!(step(None, Read, Some(Value(None))), Some(None));
        assert_eq!(step(None, Read, Some(Value(Some(0)))), None);
        assert_eq!(step(Some(0), Read, Some(Value(None))), None);
    }

    #[test]
    fn read_must_return_the_current_value() {
        assert_eq!(step(Some(3), Read, Some(Value(Some(3)))), Some(Some(3)));
        assert_eq!(step(Some(3), Read, Some(Value(Some(4)))), None);
        assert_eq!(step(Some(3), Read, Some(Ok)), None);
    }

    #[test]
    fn write_always_applies_even_with_unknown_outcome() {
        assert_eq!(step(None, Write { value: 2 }, Some(Ok)), Some(Some(2)));
        assert_eq!(step(Some(1), Write { value: 2 }, None), Some(Some(2)));
        assert_eq!(step(Some(1), Write { value: 2 }, Some(CasFailed)), None);
    }

    #[test]
    fn successful_cas_needs_a_match_and_swaps() {
        assert_eq!(
            step(Some(1), Cas { from: 1, to: 2 }, Some(Ok)),
            Some(Some(2))
        );
        assert_eq!(step(Some(3), Cas { from: 1, to: 2 }, Some(Ok)), None);
        assert_eq!(step(None, Cas { from: 1, to: 2 }, Some(Ok)), None);
    }

    #[test]
    fn failed_cas_is_an_observation_that_the_compare_failed() {
        assert_eq!(
            step(Some(3), Cas { from: 1, to: 2 }, Some(CasFailed)),
            Some(Some(3))
        );
        assert_eq!(
            step(None, Cas { from: 1, to: 2 }, Some(CasFailed)),
            Some(None)
        );
        assert_eq!(step(Some(1), Cas { from: 1, to: 2 }, Some(CasFailed)), None);
    }

    #[test]
    fn cas_with_unknown_outcome_is_legal_anywhere_and_swaps_only_on_a_match() {
        assert_eq!(step(Some(1), Cas { from: 1, to: 2 }, None), Some(Some(2)));
        assert_eq!(step(Some(3), Cas { from: 1, to: 2 }, None), Some(Some(3)));
        assert_eq!(step(None, Cas { from: 1, to: 2 }, None), Some(None));
    }

    #[test]
    fn reads_and_failed_cas_are_read_only() {
        assert!(Register.is_read_only(&Read, None));
        assert!(Register.is_read_only(&Cas { from: 1, to: 2 }, Some(&CasFailed)));
        assert!(!Register.is_read_only(&Cas { from: 1, to: 2 }, None));
        assert!(!Register.is_read_only(&Write { value: 1 }, Some(&Ok)));
    }
}
