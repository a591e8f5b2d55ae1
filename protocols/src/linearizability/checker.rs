//! The linearizability checker: Wing–Gong–Lowe search, partitioned by key.
//!
//! Owns [`check`] and its generic form [`check_entries`], the search budget and the results.
//! It follows (docs/references.md §6):
//!
//! - Wing & Gong 1993: depth-first search that repeatedly linearizes a *minimal* operation (one
//!   invoked no later than every pending operation's return), applies it to the model, and
//!   backtracks on failure.
//! - Lowe 2017: memoisation of configurations, the (set of linearized operations, model state)
//!   pairs already explored, so each is searched once.
//! - Horn & Kroening 2015 (P-compositionality): the history is linearizable iff each key's
//!   sub-history is, so each key is searched alone, in ascending key order.
//! - porcupine `checker.go` for the data structure: the calls and returns in one doubly linked
//!   list sorted by time, where linearizing an operation "lifts" its call and return out of the
//!   list and backtracking puts them back. The calls before the first remaining return are then
//!   exactly the minimal operations.
//!
//! Real time: `[call, return]` is a closed interval. Operation A precedes B only if A returns
//! strictly before B is called; at equal times the call is sorted before the return, so the two
//! are concurrent. An indeterminate operation returns at +infinity, and need not be linearized
//! at all (it may never have taken effect); the search succeeds once every operation that did
//! return is linearized.
//!
//! Determinism: no threads, no clock; the memo table is an `FxHashSet` used only for membership
//! tests, never iterated. The budget counts model steps, so the same input always gives the same
//! result, and an exhausted budget gives [`CheckResult::Unknown`], never a pass.

use std::collections::BTreeMap;

use rustc_hash::FxHashSet;
use serde::Serialize;

use super::explain;
use super::history::{History, OpId};
use super::model::{KvRegister, Model};

/// An entry of the history checked against model `M`.
type ModelEntry<M> = Entry<<M as Model>::Input, <M as Model>::Output>;

/// A limit on the work of one check: model steps, memory for remembered configurations, and
/// optionally a wall-clock deadline. Running out of any is [`CheckResult::Unknown`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Budget {
    /// Model steps (attempts to linearize one operation), summed over all keys.
    pub steps_max: u64,
    /// Bytes the memo table of one key's search may hold (estimated).
    pub memo_bytes_max: u64,
    /// Stop when the wall clock passes this instant (the run's wall-time guard).
    #[serde(skip)]
    pub deadline: Option<std::time::Instant>,
}

impl Budget {
    /// The default step limit: a few hundred milliseconds of search, and at most this many
    /// remembered configurations per key.
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
    /// Configurations remembered in the memo table.
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

/// The deepest configuration the search reached: what explanations show.
pub(super) struct Deepest<S> {
    /// How many entries are linearized.
    pub depth: usize,
    /// Bit `i` set: partition entry `i` is linearized.
    pub linearized: Vec<u64>,
    pub state: S,
    /// The last few linearized entries, oldest first.
    pub recent: Vec<usize>,
}

/// How many of the last linearized operations an explanation shows.
const RECENT_MAX: usize = 6;

struct Search<S> {
    verdict: KeyVerdict,
    steps: u64,
    configurations: usize,
    best: Deepest<S>,
    /// What ran out, for an `Unknown` verdict.
    out_of: Option<OutOf>,
}

/// Sentinel for "no node" in the linked list.
const NIL: usize = usize::MAX;
/// The list head sentinel is node 0; node `1 + 2i` is entry i's call, `2 + 2i` its return.
const HEAD: usize = 0;

/// The calls and returns of one partition in one doubly linked list, in time order.
struct EventList {
    next: Vec<usize>,
    prev: Vec<usize>,
}

impl EventList {
    fn new<I, O>(entries: &[Entry<I, O>]) -> Self {
        // Sort key: (never returns, time, is a return, entry). Calls sort before returns at
        // equal times, which makes the intervals closed; indeterminate returns go last.
        let mut events: Vec<(bool, u64, bool, usize)> = Vec::with_capacity(2 * entries.len());
        for (i, entry) in entries.iter().enumerate() {
            events.push((false, entry.call_ns, false, i));
            match &entry.returned {
                Some(returned) => events.push((false, returned.time_ns, true, i)),
                None => events.push((true, 0, true, i)),
            }
        }
        events.sort_unstable();
        let nodes = 1 + 2 * entries.len();
        let mut list = EventList {
            next: vec![NIL; nodes],
            prev: vec![NIL; nodes],
        };
        let mut last = HEAD;
        for (_, _, is_return, i) in events {
            let node = if is_return {
                return_node(i)
            } else {
                call_node(i)
            };
            list.next[last] = node;
            list.prev[node] = last;
            last = node;
        }
        list
    }

    /// Removes entry `i`'s call and return (Knuth's dancing links, as porcupine's `lift`).
    fn lift(&mut self, i: usize) {
        self.unlink(call_node(i));
        self.unlink(return_node(i));
    }

    /// Undoes `lift(i)`; lifts must be undone in reverse order.
    fn unlift(&mut self, i: usize) {
        self.relink(return_node(i));
        self.relink(call_node(i));
    }

    fn unlink(&mut self, node: usize) {
        let (prev, next) = (self.prev[node], self.next[node]);
        self.next[prev] = next;
        if next != NIL {
            self.prev[next] = prev;
        }
    }

    fn relink(&mut self, node: usize) {
        let (prev, next) = (self.prev[node], self.next[node]);
        self.next[prev] = node;
        if next != NIL {
            self.prev[next] = node;
        }
    }
}

fn call_node(i: usize) -> usize {
    1 + 2 * i
}

fn return_node(i: usize) -> usize {
    2 + 2 * i
}

/// The entry of a node, and whether the node is its return.
fn node_entry(node: usize) -> (usize, bool) {
    ((node - 1) / 2, node & 1 == 0)
}

/// Searches one partition for a linearization, using at most `steps_max` model steps and the
/// budget's memory and time.
fn search<M: Model>(
    model: &M,
    entries: &[Entry<M::Input, M::Output>],
    budget: Budget,
    steps_max: u64,
) -> Search<M::State> {
    // What one remembered configuration costs: the bit set, the state, the table's overhead.
    let config_bytes =
        (entries.len().div_ceil(64) * 8 + std::mem::size_of::<M::State>() + 48) as u64;
    let memo_max = (budget.memo_bytes_max / config_bytes).max(1);
    let mut out_of = None;
    let mut list = EventList::new(entries);
    let mut linearized = vec![0u64; entries.len().div_ceil(64)];
    let mut memo: FxHashSet<(Box<[u64]>, M::State)> = FxHashSet::default();
    // The linearized entries in order, each with the state before it.
    let mut stack: Vec<(usize, M::State)> = Vec::new();
    let mut state = model.init();
    let mut best = Deepest {
        depth: 0,
        linearized: linearized.clone(),
        state: state.clone(),
        recent: Vec::new(),
    };
    let mut steps = 0u64;
    let mut node = list.next[HEAD];

    let verdict = loop {
        if node == NIL {
            // Only an empty list can be walked off the end: its last node is a return.
            assert!(list.next[HEAD] == NIL, "walked past the last return");
            break KeyVerdict::Linearizable;
        }
        let (i, is_return) = node_entry(node);
        if is_return {
            if entries[i].returned.is_none() {
                // Indeterminate returns sort last, so every determinate operation is
                // linearized; the remaining indeterminate ones never took effect.
                break KeyVerdict::Linearizable;
            }
            // Entry i must be linearized before anything further, and nothing let it be.
            let Some((j, previous)) = stack.pop() else {
                break KeyVerdict::NotLinearizable;
            };
            list.unlift(j);
            linearized[j / 64] &= !(1 << (j % 64));
            state = previous;
            node = list.next[call_node(j)];
            continue;
        }
        if steps == steps_max {
            out_of = Some(OutOf::Steps);
            break KeyVerdict::Unknown;
        }
        if memo.len() as u64 >= memo_max {
            out_of = Some(OutOf::Memory);
            break KeyVerdict::Unknown;
        }
        #[allow(clippy::disallowed_methods)] // Wall time only stops a search; it never steers one.
        if steps & 0xfff == 0xfff
            && budget
                .deadline
                .is_some_and(|d| std::time::Instant::now() >= d)
        {
            out_of = Some(OutOf::Time);
            break KeyVerdict::Unknown;
        }
        steps += 1;
        let entry = &entries[i];
        let output = entry.returned.as_ref().map(|r| &r.output);
        if let Some(next_state) = model.step(&state, &entry.input, output) {
            linearized[i / 64] |= 1 << (i % 64);
            if memo.insert((linearized.clone().into_boxed_slice(), next_state.clone())) {
                stack.push((i, std::mem::replace(&mut state, next_state)));
                list.lift(i);
                if stack.len() > best.depth {
                    best.record(&stack, &linearized, &state);
                }
                node = list.next[HEAD];
                continue;
            }
            linearized[i / 64] &= !(1 << (i % 64));
        }
        node = list.next[node];
    };
    Search {
        verdict,
        steps,
        configurations: memo.len(),
        best,
        out_of,
    }
}

impl<S: Clone> Deepest<S> {
    /// Whether partition entry `i` is linearized.
    pub fn is_linearized(&self, i: usize) -> bool {
        self.linearized[i / 64] & (1 << (i % 64)) != 0
    }

    /// Copies the current configuration: O(entries / 64), done at most once per depth reached
    /// for the first time.
    fn record(&mut self, stack: &[(usize, S)], linearized: &[u64], state: &S) {
        self.depth = stack.len();
        self.linearized.copy_from_slice(linearized);
        self.state = state.clone();
        let recent_from = stack.len().saturating_sub(RECENT_MAX);
        self.recent = stack[recent_from..].iter().map(|&(i, _)| i).collect();
    }
}
