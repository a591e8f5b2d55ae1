//! The linearizability checker: Wing–Gong–Lowe search, partitioned by key.
//!
//! Owns [`check`] and its generic form [`check_entries`], the search budget and the results.
//! It follows (docs/references.md §6):
//!
//! - Horn & Kroening 2015 (P-compositionality): the history is linearizable iff each key's
//!   sub-history is, so each key is searched alone, in ascending key order.
//! - Wing & Gong 1993, Lowe 2017: per key, a depth-first search that linearizes one *minimal*
//!   operation at a time and remembers the configurations that failed (module `search`, with
//!   porcupine's event list and a compact name for the linearized set in `partition`, and the
//!   memo table in `memo`).
//!
//! Real time: `[call, return]` is a closed interval. Operation A precedes B only if A returns
//! strictly before B is called; at equal times the call is sorted before the return, so the two
//! are concurrent. An indeterminate operation returns at +infinity, and need not be linearized
//! at all (it may never have taken effect); the search succeeds once every operation that did
//! return is linearized.
//!
//! Determinism: no threads, no clock; the memo table is hashed but never iterated. The budget
//! counts model steps, so the same input always gives the same result, and an exhausted budget
//! gives [`CheckResult::Unknown`], never a pass.
//!
//! Cost (`faultline bench --linearizability`, docs/architecture.md): a 10^5-operation history of
//! 32 clients on 8 keys takes about 0.25 M steps and well under a second; one key with 32
//! clients about 18 M steps. What grows the search is the number of operations in flight on
//! one key.

use std::collections::BTreeMap;

use serde::Serialize;

use super::explain;
use super::history::{History, OpId};
use super::model::{KvRegister, Model};
use super::search::search;

/// An entry of the history checked against model `M`.
type ModelEntry<M> = Entry<<M as Model>::Input, <M as Model>::Output>;

/// A limit on the work of one check: model steps, memory for remembered configurations, and
/// optionally a wall-clock deadline. Running out of any is [`CheckResult::Unknown`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Budget {
    /// Model steps (calls to [`Model::step`]: attempts to linearize an operation, and the
    /// lookahead that orders them), summed over all keys.
    pub steps_max: u64,
    /// Bytes the memo table of one key's search may hold (estimated).
    pub memo_bytes_max: u64,
    /// Stop when the wall clock passes this instant (the run's wall-time guard).
    #[serde(skip)]
    pub deadline: Option<std::time::Instant>,
}

impl Budget {
    /// The default step limit: a few hundred milliseconds of search.
    pub const STEPS_MAX_DEFAULT: u64 = 2_000_000;
    /// The default memory for one key's memo table.
    pub const MEMO_BYTES_MAX_DEFAULT: u64 = 512 * 1024 * 1024;

    /// A budget of `steps_max` steps with the default memory and no deadline.
    pub fn steps(steps_max: u64) -> Budget {
        Budget {
            steps_max,
            ..Budget::default()
        }
    }
}

impl Default for Budget {
    fn default() -> Self {
        Budget {
            steps_max: Self::STEPS_MAX_DEFAULT,
            memo_bytes_max: Self::MEMO_BYTES_MAX_DEFAULT,
            deadline: None,
        }
    }
}

/// Why a search stopped without deciding.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum OutOf {
    Steps,
    Memory,
    Time,
}

/// What an operation returned, when it did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Returned<O> {
    pub output: O,
    pub time_ns: u64,
}

/// One operation as the checker sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry<I, O> {
    /// Used only to name the operation in explanations.
    pub id: OpId,
    /// Used only in explanations; real-time order already orders a process's operations.
    pub process: u64,
    /// The partition: entries with different keys are checked independently.
    pub key: u64,
    pub input: I,
    pub call_ns: u64,
    /// `None`: indeterminate, treated as returning at +infinity with any output.
    pub returned: Option<Returned<O>>,
}

/// The verdict of a check.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum CheckResult {
    /// Every key's sub-history has a linearization.
    Linearizable,
    /// The sub-history of `key` has none; `explanation` shows where the best attempt got stuck.
    NotLinearizable { key: u64, explanation: String },
    /// The budget ran out before a verdict.
    Unknown { reason: String },
}

impl CheckResult {
    /// Whether the history was shown linearizable.
    pub fn is_linearizable(&self) -> bool {
        matches!(self, CheckResult::Linearizable)
    }
}

/// The verdict for one key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum KeyVerdict {
    Linearizable,
    NotLinearizable,
    /// The budget ran out while searching this key.
    Unknown,
    /// Not searched: an earlier key already decided the result.
    NotChecked,
}

/// Search statistics of one key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct KeyStats {
    pub key: u64,
    /// Operations searched (after dropping `fail` and indeterminate read-only operations).
    pub ops: usize,
    /// Of which indeterminate.
    pub ops_indeterminate: usize,
    /// Model steps spent on this key.
    pub steps: u64,
    /// Configurations remembered in the memo table: those that failed.
    pub configurations: usize,
    pub verdict: KeyVerdict,
}

/// The verdict with per-key statistics, in ascending key order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CheckReport {
    pub result: CheckResult,
    pub keys: Vec<KeyStats>,
    /// Model steps over all keys.
    pub steps: u64,
}

/// Checks a key-value history against [`KvRegister`].
pub fn check(history: &History, budget: Budget) -> CheckResult {
    check_report(history, budget).result
}

/// [`check`], with per-key statistics.
pub fn check_report(history: &History, budget: Budget) -> CheckReport {
    check_entries(&KvRegister, history.entries(), budget)
}

/// Checks entries against any [`Model`], partitioned by [`Entry::key`]. Indeterminate entries
/// that the model calls read-only are dropped. Stops at the first key (in ascending order) that
/// is not linearizable or exhausts the budget; later keys are reported as
/// [`KeyVerdict::NotChecked`].
pub fn check_entries<M: Model>(
    model: &M,
    entries: Vec<Entry<M::Input, M::Output>>,
    budget: Budget,
) -> CheckReport {
    let mut partitions: BTreeMap<u64, Vec<ModelEntry<M>>> = BTreeMap::new();
    for entry in entries {
        if let Some(returned) = &entry.returned {
            assert!(
                returned.time_ns >= entry.call_ns,
                "{:?} returns before its call",
                entry.id
            );
        } else if model.is_read_only(&entry.input) {
            continue;
        }
        partitions.entry(entry.key).or_default().push(entry);
    }

    let mut report = CheckReport {
        result: CheckResult::Linearizable,
        keys: Vec::new(),
        steps: 0,
    };
    for (&key, partition) in &partitions {
        let ops_indeterminate = partition.iter().filter(|e| e.returned.is_none()).count();
        let mut stats = KeyStats {
            key,
            ops: partition.len(),
            ops_indeterminate,
            steps: 0,
            configurations: 0,
            verdict: KeyVerdict::NotChecked,
        };
        if report.result.is_linearizable() {
            let search = search(model, partition, budget, budget.steps_max - report.steps);
            report.steps += search.steps;
            stats.steps = search.steps;
            stats.configurations = search.configurations;
            stats.verdict = search.verdict;
            match search.verdict {
                KeyVerdict::Linearizable => {}
                KeyVerdict::NotLinearizable => {
                    let explanation =
                        explain::not_linearizable(model, key, partition, &search.best);
                    report.result = CheckResult::NotLinearizable { key, explanation };
                }
                KeyVerdict::Unknown => {
                    let reason = explain::budget_exhausted(
                        key,
                        partition,
                        &search.best,
                        budget,
                        search.out_of.unwrap_or(OutOf::Steps),
                    );
                    report.result = CheckResult::Unknown { reason };
                }
                KeyVerdict::NotChecked => unreachable!("search always decides or runs out"),
            }
        }
        report.keys.push(stats);
    }
    report
}
