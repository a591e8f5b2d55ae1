//! Human-readable explanations of checker verdicts.
//!
//! Owns the text of [`CheckResult::NotLinearizable`] and [`CheckResult::Unknown`]. A failed
//! search is explained by its deepest configuration, as Knossos reports the first operation
//! that cannot be linearized with the longest linearizable prefix before it (`jepsen-io/knossos`
//! README: `:op`, `:previous-ok`, `:final-paths`):
//!
//! - the last operations of that prefix and the model state they leave;
//! - the *blocking* operation, the one left that returned first: it must be linearized before
//!   everything invoked after its return, so the operations that could go next are those invoked
//!   no later than it returned (Wing & Gong's minimal operations), all concurrent with it;
//! - the window of its interval: every operation concurrent with it, with its times, and for
//!   each one left whether the model allows it in that state.
//!
//! Every operation is printed as `#id pPROCESS description [call, return]`, times in simulated
//! nanoseconds, `inf` for an indeterminate return.
//!
//! [`CheckResult::NotLinearizable`]: super::CheckResult::NotLinearizable
//! [`CheckResult::Unknown`]: super::CheckResult::Unknown

use std::fmt::Write;

use super::checker::{Budget, Entry, OutOf};
use super::model::Model;
use super::search::Deepest;

/// How many operations of the stuck window an explanation lists.
const WINDOW_MAX: usize = 20;

/// Explains why the sub-history of `key` has no linearization.
pub(super) fn not_linearizable<M: Model>(
    model: &M,
    key: u64,
    entries: &[Entry<M::Input, M::Output>],
    best: &Deepest<M::State>,
) -> String {
    let mut text = String::new();
    // Writing to a String cannot fail, hence the ignored fmt::Results below.
    let _ = writeln!(
        text,
        "key {key}: no linearization of its {} operations exists.",
        entries.len()
    );
    if best.depth == 0 {
        let _ = writeln!(text, "Not even the first operation can be linearized.");
    } else {
        let _ = writeln!(
            text,
            "The longest linearizable prefix found orders {} operations; its last {} (oldest first):",
            best.depth,
            best.recent.len()
        );
        for &i in &best.recent {
            let _ = writeln!(text, "  {}", describe_entry(model, &entries[i]));
        }
    }
    let _ = writeln!(
        text,
        "It leaves the state {}.",
        model.describe_state(&best.state)
    );

    // The search only fails while a determinate operation is left: once all of them are
    // linearized it succeeds, so the deepest configuration has one.
    let blocking = (0..entries.len())
        .filter(|&i| !best.is_linearized(i))
        .filter_map(|i| {
            entries[i]
                .returned
                .as_ref()
                .map(|r| (r.time_ns, entries[i].call_ns, i))
        })
        .min()
        .map(|(_, _, i)| i)
        .expect("a failed search leaves a determinate operation");
    let (call_ns, return_ns) = interval(&entries[blocking]);
    let _ = writeln!(
        text,
        "Then {} returned first among the operations left, so it must be linearized before \
         anything invoked after {return_ns} ns, and neither it nor any operation concurrent with \
         it can go next. The operations concurrent with it, [{call_ns}, {return_ns}] ns:",
        describe_entry(model, &entries[blocking]),
    );
    let mut window: Vec<usize> = (0..entries.len())
        .filter(|&i| {
            let (call, ret) = interval(&entries[i]);
            call <= return_ns && ret >= call_ns
        })
        .collect();
    window.sort_by_key(|&i| (entries[i].call_ns, i));
    for &i in window.iter().take(WINDOW_MAX) {
        let entry = &entries[i];
        let output = entry.returned.as_ref().map(|r| &r.output);
        let status = if best.is_linearized(i) {
            "in the prefix".to_string()
        } else {
            match model.step(&best.state, &entry.input, output) {
                None => format!("impossible in state {}", model.describe_state(&best.state)),
                Some(next) => format!(
                    "possible (state becomes {}), but no linearization continues from there",
                    model.describe_state(&next)
                ),
            }
        };
        let _ = writeln!(text, "  {}: {status}", describe_entry(model, entry));
    }
    if window.len() > WINDOW_MAX {
        let _ = writeln!(text, "  ... and {} more", window.len() - WINDOW_MAX);
    }
    text
}

/// An entry's `[call, return]` interval, with `u64::MAX` for an indeterminate return.
fn interval<I, O>(entry: &Entry<I, O>) -> (u64, u64) {
    (
        entry.call_ns,
        entry.returned.as_ref().map_or(u64::MAX, |r| r.time_ns),
    )
}

/// Explains a budget exhausted while searching `key`.
pub(super) fn budget_exhausted<I, O, S>(
    key: u64,
    entries: &[Entry<I, O>],
    best: &Deepest<S>,
    budget: Budget,
    out_of: OutOf,
) -> String {
    let indeterminate = entries.iter().filter(|e| e.returned.is_none()).count();
    let what = match out_of {
        OutOf::Steps => format!(
            "search budget of {} model steps exhausted",
            budget.steps_max
        ),
        OutOf::Memory => format!(
            "search memory budget of {} MiB exhausted",
            budget.memo_bytes_max / (1024 * 1024)
        ),
        OutOf::Time => "wall-time limit reached".to_string(),
    };
    format!(
        "{what} on key {key} ({} operations, {indeterminate} indeterminate); the deepest \
         partial linearization ordered {} of them. Keys before it were linearizable; later keys \
         were not checked. Raise the budget (the workload's check_budget, the run's max_wall), \
         or check a shorter or less concurrent history.",
        entries.len(),
        best.depth
    )
}

fn describe_entry<M: Model>(model: &M, entry: &Entry<M::Input, M::Output>) -> String {
    let output = entry.returned.as_ref().map(|r| &r.output);
    let return_ns = entry
        .returned
        .as_ref()
        .map_or("inf".to_string(), |r| r.time_ns.to_string());
    format!(
        "#{} p{} {} [{}, {return_ns}]",
        entry.id.0,
        entry.process,
        model.describe_operation(&entry.input, output),
        entry.call_ns
    )
}
