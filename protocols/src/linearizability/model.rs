//! Sequential specifications for the linearizability checker.
//!
//! Owns the [`Model`] trait and [`KvRegister`], the model of one key of the key-value store.
//! The trait follows porcupine's `Model` (`anishathalye/porcupine` `model.go`: `Init`, `Step`,
//! `DescribeOperation`, `DescribeState`), with three differences (and two hints for the search,
//! `is_read_only` and `never_changes_state`):
//!
//! - `step` returns the next state or `None` instead of `(ok, state)`, and the output is an
//!   `Option`: `None` is an indeterminate (`info`) operation, whose output the model must accept
//!   whatever it is. Porcupine encodes that as a special output value inside each model.
//! - State equality and hashing come from `Eq + Hash` on the state type, which the checker's
//!   memo table (Lowe 2017) needs; porcupine asks for `Equal` and `Hash` functions.
//! - Partitioning is not a model function: checker entries carry a `key` and the checker splits
//!   on it (Horn & Kroening 2015, P-compositionality), so every partition starts from `init`.
//!
//! A model must be deterministic: the same state, input and output always give the same answer,
//! or the memo table would prune configurations that are not really equivalent.

use std::fmt::Debug;
use std::hash::Hash;

use super::history::{Op, Ret};

/// A sequential specification: what one partition of the history (one key) may do.
pub trait Model {
    /// The state of one partition. Cloned for every configuration the checker remembers, so
    /// keep it small.
    type State: Clone + Eq + Hash + Debug;
    /// What a client asked for.
    type Input: Debug;
    /// What the operation returned.
    type Output: Debug;

    /// The state before any operation.
    fn init(&self) -> Self::State;

    /// Applies `input` to `state`. With `Some(output)`, returns the next state if the operation
    /// can return `output` in `state`, else `None`. With `None` (indeterminate), the operation
    /// may have returned anything: return the state it leaves, which should always be `Some`.
    fn step(
        &self,
        state: &Self::State,
        input: &Self::Input,
        output: Option<&Self::Output>,
    ) -> Option<Self::State>;

    /// Whether `input` never changes the state. The checker drops indeterminate read-only
    /// operations, which can neither constrain nor change anything.
    fn is_read_only(&self, _input: &Self::Input) -> bool {
        false
    }

    /// Whether an operation that returned `output` leaves the state as it is in every state
    /// that allows it: a read, a cas that reported a mismatch. The checker linearizes such an
    /// operation as soon as it fits, without trying the alternatives (a forced move), so this
    /// must never be `true` for an operation that can change the state. The default is
    /// [`Model::is_read_only`].
    fn never_changes_state(&self, input: &Self::Input, _output: &Self::Output) -> bool {
        self.is_read_only(input)
    }

    /// A short human description of an operation, for explanations.
    fn describe_operation(&self, input: &Self::Input, output: Option<&Self::Output>) -> String {
        match output {
            Some(output) => format!("{input:?} -> {output:?}"),
            None => format!("{input:?} -> ?"),
        }
    }

    /// A short human description of a state, for explanations.
    fn describe_state(&self, state: &Self::State) -> String {
        format!("{state:?}")
    }
}

/// One key of the key-value store: a register holding `None` (absent) or a value, with put,
/// get and compare-and-set (Knossos's cas-register, with an absent initial value).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct KvRegister;

impl Model for KvRegister {
    type State = Option<u64>;
    type Input = Op;
    type Output = Ret;

    fn init(&self) -> Option<u64> {
        None
    }

    fn step(&self, state: &Option<u64>, input: &Op, output: Option<&Ret>) -> Option<Option<u64>> {
        let state = *state;
        match (*input, output.copied()) {
            (Op::Put(value), None | Some(Ret::Put)) => Some(Some(value)),
            (Op::Get, None) => Some(state),
            (Op::Get, Some(Ret::Get(read))) => (read == state).then_some(state),
            (Op::Cas { expected, new }, None) => Some(if state == Some(expected) {
                Some(new)
            } else {
                state
            }),
            (Op::Cas { expected, new }, Some(Ret::Cas(true))) => {
                (state == Some(expected)).then_some(Some(new))
            }
            (Op::Cas { expected, .. }, Some(Ret::Cas(false))) => {
                (state != Some(expected)).then_some(state)
            }
            (input, Some(output)) => panic!("{output:?} cannot answer {input:?}"),
        }
    }

    fn is_read_only(&self, input: &Op) -> bool {
        matches!(input, Op::Get)
    }

    fn never_changes_state(&self, input: &Op, output: &Ret) -> bool {
        matches!(
            (input, output),
            (Op::Get, _) | (Op::Cas { .. }, Ret::Cas(false))
        )
    }

    fn describe_operation(&self, input: &Op, output: Option<&Ret>) -> String {
        let call = match *input {
            Op::Put(value) => format!("put {value}"),
            Op::Get => "get".to_string(),
            Op::Cas { expected, new } => format!("cas {expected}->{new}"),
        };
        let result = match output {
            None => "?".to_string(),
            Some(Ret::Put) | Some(Ret::Cas(true)) => "ok".to_string(),
            Some(Ret::Cas(false)) => "false".to_string(),
            Some(Ret::Get(read)) => describe_value(*read),
        };
        format!("{call} -> {result}")
    }

    fn describe_state(&self, state: &Option<u64>) -> String {
        describe_value(*state)
    }
}

/// `nil` for an absent key, as Knossos prints it, else the number.
fn describe_value(value: Option<u64>) -> String {
    value.map_or_else(|| "nil".to_string(), |v| v.to_string())
}
