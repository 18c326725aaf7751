//! The sequential specification a history is checked against.

use std::collections::HashMap;
use std::fmt::Debug;
use std::hash::Hash;

use crate::history::Operation;

/// A sequential specification: an initial state and a step function saying
/// which outputs are legal for an input in a state, and what state follows.
///
/// The checker searches for an order of the history's operations that (a)
/// respects real time and (b) the model accepts step by step. It remembers
/// every `(set of linearized operations, state)` pair it has explored, so
/// states must be cheap to compare and hash; it also caches each `(state,
/// operation)` step, so `step` is called at most once per pair.
///
/// # Unknown outcomes
///
/// `step` receives `None` as the output of an operation whose outcome is
/// unknown. Such an operation must still be placed somewhere after its call,
/// so `step` should accept it in every state (returning the state the
/// operation would produce if it took effect). If it also never returned
/// ([`Operation::ret`] is `None`), the checker may place it after everything
/// else, which is the same as the operation never happening: "may or may not
/// have happened" needs nothing more from the model.
///
/// # Example
///
/// A counter whose `inc` returns the new value:
///
/// ```
/// use labcheck::Model;
///
/// struct Counter;
///
/// impl Model for Counter {
///     type State = u64;
///     type Input = ();      // inc()
///     type Output = u64;    // the value after the increment
///
///     fn init(&self) -> u64 {
///         0
///     }
///
///     fn step(&self, state: &u64, _input: &(), output: Option<&u64>) -> Option<u64> {
///         let next = state + 1;
///         match output {
///             Some(&seen) if seen != next => None, // illegal
///             _ => Some(next),
///         }
///     }
/// }
/// ```
pub trait Model: Sync {
    /// The state of the sequential object.
    type State: Clone + Eq + Hash + Debug;
    /// What a client asks for.
    type Input: Debug + PartialEq + Sync;
    /// What a client gets back.
    type Output: Debug + PartialEq + Sync;

    /// The state before any operation.
    fn init(&self) -> Self::State;

    /// Whether `output` is a legal result of `input` in `state` (`output` is
    /// `None` when the outcome is unknown) and, if so, the state after it.
    fn step(
        &self,
        state: &Self::State,
        input: &Self::Input,
        output: Option<&Self::Output>,
    ) -> Option<Self::State>;

    /// Whether this operation never changes the state in any state where it
    /// is legal (a read, a failed compare-and-set). The checker then places
    /// it as soon as it is legal and never tries alternatives to that
    /// choice, which prunes the search a lot on read-heavy histories.
    ///
    /// Saying `true` for an operation that can change the state makes the
    /// checker wrong; the default, `false`, is always safe.
    fn is_read_only(&self, input: &Self::Input, output: Option<&Self::Output>) -> bool {
        let _ = (input, output);
        false
    }

    /// About how many bytes `state` holds on the heap, beyond its own
    /// `size_of` (which the checker counts itself): for a state that owns a
    /// string, the string's allocation. The checker keeps every distinct
    /// state it meets and counts this for each toward its memory cap
    /// ([`CheckOptions::max_memory_bytes`](crate::CheckOptions::max_memory_bytes)).
    /// An estimate is enough; it need not be exact. The default, 0, is
    /// right for states without heap data (integers, enums of them) and
    /// undercounts the others, so a model whose states own strings,
    /// vectors or maps should say.
    ///
    /// ```
    /// use labcheck::Model;
    ///
    /// struct Log;
    ///
    /// impl Model for Log {
    ///     type State = Vec<u32>;
    ///     type Input = u32; // append(x)
    ///     type Output = ();
    ///
    ///     fn init(&self) -> Vec<u32> {
    ///         Vec::new()
    ///     }
    ///
    ///     fn step(&self, state: &Vec<u32>, x: &u32, _: Option<&()>) -> Option<Vec<u32>> {
    ///         let mut next = state.clone();
    ///         next.push(*x);
    ///         Some(next)
    ///     }
    ///
    ///     fn state_heap_bytes(&self, state: &Vec<u32>) -> usize {
    ///         state.capacity() * std::mem::size_of::<u32>()
    ///     }
    /// }
    /// assert_eq!(Log.state_heap_bytes(&vec![1, 2, 3]), 12);
    /// ```
    fn state_heap_bytes(&self, state: &Self::State) -> usize {
        let _ = state;
        0
    }

    /// Splits a history into independent sub-histories (for a key/value
    /// store, one per key), each a list of indices into `history`. The
    /// history is linearizable exactly when every part is, so the checker
    /// checks the parts separately and in parallel. Every index must appear
    /// in exactly one part. The default keeps the history whole.
    fn partition(&self, history: &[Operation<Self::Input, Self::Output>]) -> Vec<Vec<usize>> {
        vec![(0..history.len()).collect()]
    }

    /// A short name for the part of `history` listed in `part`, such as
    /// `key "x"`, shown in verdicts and in the picture.
    fn describe_partition(
        &self,
        history: &[Operation<Self::Input, Self::Output>],
        part: &[usize],
    ) -> String {
        let _ = (history, part);
        String::new()
    }

    /// The input as shown in the picture.
    fn describe_input(&self, input: &Self::Input) -> String {
        format!("{input:?}")
    }

    /// The output as shown in the picture (`None`: unknown outcome).
    fn describe_output(&self, output: Option<&Self::Output>) -> String {
        output.map_or_else(|| "unknown".to_string(), |o| format!("{o:?}"))
    }

    /// The one-line label of an operation's bar in the picture.
    fn describe_operation(&self, input: &Self::Input, output: Option<&Self::Output>) -> String {
        format!(
            "{} -> {}",
            self.describe_input(input),
            self.describe_output(output)
        )
    }

    /// A state as shown in the picture.
    fn describe_state(&self, state: &Self::State) -> String {
        format!("{state:?}")
    }
}

/// Groups operation indices by a key taken from each operation, keeping the
/// groups in order of first appearance. A convenience for
/// [`Model::partition`].
pub fn partition_by<'h, I, O, K: Hash + Eq>(
    history: &'h [Operation<I, O>],
    mut key: impl FnMut(&'h Operation<I, O>) -> K,
) -> Vec<Vec<usize>> {
    let mut group_of: HashMap<K, usize> = HashMap::new();
    let mut groups: Vec<Vec<usize>> = Vec::new();
    for (i, op) in history.iter().enumerate() {
        let next = groups.len();
        let g = *group_of.entry(key(op)).or_insert(next);
        if g == next {
            groups.push(Vec::new());
        }
        groups[g].push(i);
    }
    groups
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partition_by_groups_in_order_of_first_appearance() {
        let history: Vec<Operation<&str, ()>> = ["b", "a", "b", "c", "a"]
            .iter()
            .enumerate()
            .map(|(i, k)| Operation::completed(0, *k, (), i as u64, i as u64))
            .collect();
        let parts = partition_by(&history, |op| op.input);
        assert_eq!(parts, vec![vec![0, 2], vec![1, 4], vec![3]]);
    }
}
