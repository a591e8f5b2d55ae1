//! Linearizability checking of client histories (docs/references.md §6).
//!
//! A history is linearizable (Herlihy & Wing 1990) if its operations can be put in one total
//! order that (a) the sequential specification accepts and (b) respects real time: if A returns
//! before B is invoked, A comes first. This module records histories and checks them with the
//! Wing–Gong–Lowe search (Wing & Gong 1993, Lowe 2017), one key at a time (Horn & Kroening 2015).
//!
//! ```text
//!  harness ─invoke/complete─▶ History ─entries()─▶ check_entries(model, ..) ─▶ CheckReport
//!                               │                  one WGL search per key       verdict + stats
//!                               └─to_jsonl()─▶ Knossos-like JSON lines
//! ```
//!
//! - [`history`]: [`History`], [`Op`], [`Ret`], [`Outcome`]; JSON lines in and out.
//! - [`model`]: the [`Model`] trait (porcupine-style `init` + `step`) and [`KvRegister`].
//! - [`checker`]: [`check`], [`check_report`], [`check_entries`], [`Budget`], the results.
//! - `search`: the search of one key (forced moves, just-in-time order); `partition`: its
//!   event lists and the compact name of a linearized set; `memo`: the failed configurations.
//! - `explain`: the text of a failed or exhausted check.
//!
//! # Tutorial
//!
//! Record each client operation when it is invoked and when its response arrives. A response
//! that never arrives (a timeout, a crashed client) is `Info`, or simply never completed: the
//! operation may have taken effect at any time after its invocation, or not at all. `Fail` is
//! only for operations that definitely did not take effect.
//!
//! ```
//! use protocols::linearizability::{Budget, CheckResult, History, Op, Outcome, Ret, check};
//!
//! let mut history = History::new();
//! let put = history.invoke(1, 42, Op::Put(7), 100);
//! history.complete(put, Outcome::Ok(Ret::Put), 200);
//! // A read invoked after the put returned must see it...
//! let get = history.invoke(2, 42, Op::Get, 300);
//! history.complete(get, Outcome::Ok(Ret::Get(None)), 400);
//! // ...and this one did not.
//! let CheckResult::NotLinearizable { key, explanation } = check(&history, Budget::default()) else {
//!     panic!("a stale read is not linearizable");
//! };
//! assert_eq!(key, 42);
//! assert!(explanation.contains("#1 p2 get -> nil [300, 400]"));
//! ```
//!
//! The explanation names the operation the search could not place and the operations
//! concurrent with it. [`check_report`] adds per-key statistics (operations, model steps, memo
//! size). The search is exponential in the worst case, so it has a [`Budget`] of model steps;
//! when that runs out the result is [`CheckResult::Unknown`], never a pass. What makes a
//! history expensive is the number of operations in flight on one key: 10^5 operations of 32
//! clients spread over 8 keys take a fraction of a second, the same on one key seconds, and
//! proving a violation on such a key may not fit the default budget. Operations that never
//! returned cost a few steps each per configuration, not a doubling of the search.
//!
//! To check another store (say a primary/backup failover store with its own semantics),
//! implement [`Model`] for it and call [`check_entries`] with entries built by
//! [`History::entries`] or by hand; the checker never looks inside inputs, outputs or states.

pub mod checker;
mod explain;
pub mod history;
mod memo;
pub mod model;
mod partition;
mod search;

pub use checker::{
    Budget, CheckReport, CheckResult, Entry, KeyStats, KeyVerdict, Returned, check, check_entries,
    check_report,
};
pub use history::{
    Completion, History, HistorySummary, JsonlError, Op, OpId, Operation, Outcome, Ret,
};
pub use model::{KvRegister, Model};

#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_history;
#[cfg(test)]
mod tests_large;
#[cfg(test)]
mod tests_random;
#[cfg(test)]
mod tests_reference;
