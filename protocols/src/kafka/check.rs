//! Jepsen's queue checker (`jepsen/tests/kafka.clj`, docs: docs/references.md §8) over a
//! [`QueueHistory`]: the anomalies a Kafka-style log can show its producers and consumers.
//!
//! Everything is judged per partition. One pass over the history builds what was *observed*:
//! for each partition, which values sat at which offset, from sends acknowledged with an offset
//! and from every record a poll returned. The checks read that map and the history's order:
//!
//! - `LostWrite`: an acknowledged send at or below the highest offset read was never read.
//! - `Unseen`: an acknowledged send was never read, though the consumers drained at the end.
//! - `Duplicate`: one value at two (partition, offset) places.
//! - `InconsistentOffsets`: two values at one (partition, offset).
//! - `NonmonotonicSend`: a producer's acknowledged offsets on a partition did not increase.
//! - `NonmonotonicPoll`: a consumer's reads of a partition went back within one session.
//! - `PollSkip`: a consumer's successive reads jumped over an offset that holds a record.
//! - `AbortedRead`: a consumer read a value whose send definitely failed (Jepsen's G1a).
//!
//! Values are unique per send, so a value names its send. Sends that ended `Info` or `Sent`
//! carry no offset: they only matter when a poll returns their value. Each kind is reported at
//! most once, counting its cases and naming the first few, in the order of [`KINDS`].

use super::history::{OpKind, QueueHistory, SendResult};
use crate::checks::Invariant;
use std::collections::{BTreeMap, BTreeSet};
use std::ops::Bound::Excluded;

/// One anomaly found: the invariant it breaks and a readable explanation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Anomaly {
    /// The invariant broken.
    pub invariant: Invariant,
    /// How many cases, and the first few with partition, offsets, values and op indices.
    pub message: String,
}

/// The kinds [`check`] can report, in report order.
pub const KINDS: [Invariant; 8] = [
    Invariant::LOST_WRITE,
    Invariant::UNSEEN,
    Invariant::DUPLICATE,
    Invariant::INCONSISTENT_OFFSETS,
    Invariant::NONMONOTONIC_SEND,
    Invariant::NONMONOTONIC_POLL,
    Invariant::POLL_SKIP,
    Invariant::ABORTED_READ,
];

/// How many cases of a kind a message names; the rest are only counted.
const EXAMPLES_MAX: usize = 3;

/// Every anomaly in `history`, in the order of [`KINDS`], at most one per kind: its message
/// counts the cases and names the first [`EXAMPLES_MAX`].
pub fn check(history: &QueueHistory) -> Vec<Anomaly> {
    let seen = Observed::of(history);
    let mut report = Report::default();
    unread_sends(history, &seen, &mut report);
    places(&seen, &mut report);
    send_offsets(history, &mut report);
    poll_offsets(history, &seen, &mut report);
    failed_reads(history, &seen, &mut report);
    report.finish()
}

/// Counts for metrics: how many acknowledged sends ([`SendResult::acknowledged`]) there were,
/// and how many of them no poll ever returned (by value).
pub fn unread_acknowledged(history: &QueueHistory) -> (usize, usize) {
    let seen = Observed::of(history);
    let acknowledged: Vec<u64> = sends(history)
        .filter(|(.., result)| result.acknowledged())
        .map(|(_, _, _, v, _)| v)
        .collect();
    let unread = acknowledged
        .iter()
        .filter(|v| !seen.read.contains(v))
        .count();
    (acknowledged.len(), unread)
}

/// The sends of `history`: (op index, process, partition, value, result).
fn sends(history: &QueueHistory) -> impl Iterator<Item = (usize, u64, u32, u64, &SendResult)> {
    history
        .ops
        .iter()
        .enumerate()
        .filter_map(|(i, op)| match &op.kind {
            OpKind::Send {
                partition,
                value,
                result,
            } => Some((i, op.process, *partition, *value, result)),
            OpKind::Poll { .. } => None,
        })
}

/// The polls of `history`: (op index, process, partition, session, records).
fn polls(history: &QueueHistory) -> impl Iterator<Item = (usize, u64, u32, u64, &[(u64, u64)])> {
    history
        .ops
        .iter()
        .enumerate()
        .filter_map(|(i, op)| match &op.kind {
            OpKind::Poll {
                partition,
                session,
                records,
            } => Some((i, op.process, *partition, *session, records.as_slice())),
            OpKind::Send { .. } => None,
        })
}

/// What the history observed, built in one pass. Each observation keeps the index of the first
/// op that made it, for explanations (ops are visited in order, so the first insert wins).
#[derive(Default)]
struct Observed<'h> {
    /// Per partition, per offset: the values seen there, each with the first op that saw it.
    at: BTreeMap<u32, BTreeMap<u64, BTreeMap<u64, usize>>>,
    /// Per value: the (partition, offset) places it was seen, each with the first op there.
    places: BTreeMap<u64, BTreeMap<(u32, u64), usize>>,
    /// The values some poll returned.
    read: BTreeSet<u64>,
    /// Per partition: the highest offset any poll returned.
    read_max: BTreeMap<u32, u64>,
    /// Per value: the op that sent it and how that send ended.
    sends: BTreeMap<u64, (usize, &'h SendResult)>,
}

impl<'h> Observed<'h> {
    fn of(history: &'h QueueHistory) -> Observed<'h> {
        let mut seen = Observed::default();
        for (i, op) in history.ops.iter().enumerate() {
            match &op.kind {
                OpKind::Send {
                    partition,
                    value,
                    result,
                } => {
                    seen.sends.entry(*value).or_insert((i, result));
                    if let SendResult::Ok(offset) = result {
                        seen.observe(i, *partition, *offset, *value);
                    }
                }
                OpKind::Poll {
                    partition, records, ..
                } => {
                    for &(offset, value) in records {
                        seen.observe(i, *partition, offset, value);
                        seen.read.insert(value);
                        let max = seen.read_max.entry(*partition).or_insert(offset);
                        *max = (*max).max(offset);
                    }
                }
            }
        }
        seen
    }

    /// Records that op `i` saw `value` at `offset` of `partition`.
    fn observe(&mut self, i: usize, partition: u32, offset: u64, value: u64) {
        let values = self.at.entry(partition).or_default();
        values.entry(offset).or_default().entry(value).or_insert(i);
        let places = self.places.entry(value).or_default();
        places.entry((partition, offset)).or_insert(i);
    }
}

/// `LostWrite` and `Unseen`: acknowledged sends whose value no poll returned.
fn unread_sends(history: &QueueHistory, seen: &Observed, report: &mut Report) {
    for (i, _, p, v, result) in sends(history) {
        if !result.acknowledged() || seen.read.contains(&v) {
            continue;
        }
        // Lost only below what consumers reached: later records may simply not be read yet.
        if let SendResult::Ok(o) = result
            && let Some(&max) = seen.read_max.get(&p)
            && *o <= max
        {
            report.add(Invariant::LOST_WRITE, || {
                format!(
                    "op {i} sent value {v} to partition {p}, acknowledged at offset {o}, but no \
                     consumer read it although consumers read partition {p} up to offset {max}"
                )
            });
        }
        if history.drained {
            report.add(Invariant::UNSEEN, || match result {
                SendResult::Ok(o) => {
                    format!("op {i} sent value {v} to partition {p}, acknowledged at offset {o}")
                }
                _ => format!("op {i} sent value {v} to partition {p} (acks=0, no offset)"),
            });
        }
    }
}

/// `Duplicate` (a value at several places) and `InconsistentOffsets` (a place with several
/// values). Reading one value twice at the same place is neither.
fn places(seen: &Observed, report: &mut Report) {
    for (v, places) in seen.places.iter().filter(|(_, places)| places.len() > 1) {
        report.add(Invariant::DUPLICATE, || {
            let places = places
                .iter()
                .map(|((p, o), i)| format!("partition {p} offset {o} (op {i})"));
            format!("value {v} at {}", first_few(places).0)
        });
    }
    for (p, offsets) in &seen.at {
        for (o, values) in offsets.iter().filter(|(_, values)| values.len() > 1) {
            report.add(Invariant::INCONSISTENT_OFFSETS, || {
                let values = values.iter().map(|(v, i)| format!("value {v} (op {i})"));
                format!("partition {p} offset {o} holds {}", first_few(values).0)
            });
        }
    }
}

/// `NonmonotonicSend`: each producer's acknowledged offsets on a partition, in history order,
/// must increase.
fn send_offsets(history: &QueueHistory, report: &mut Report) {
    // (process, partition) -> (offset, op) of its previous acknowledged send there.
    let mut last: BTreeMap<(u64, u32), (u64, usize)> = BTreeMap::new();
    for (i, process, p, v, result) in sends(history) {
        let SendResult::Ok(o) = *result else {
            continue;
        };
        if let Some((prev, j)) = last.insert((process, p), (o, i))
            && o <= prev
        {
            report.add(Invariant::NONMONOTONIC_SEND, || {
                format!(
                    "process {process} sent value {v} to partition {p}, acknowledged at offset \
                     {o} (op {i}), after its previous send there was acknowledged at offset \
                     {prev} (op {j})"
                )
            });
        }
    }
}

/// `NonmonotonicPoll` and `PollSkip`: each consumer session's reads of a partition, flattened
/// across its polls (empty polls change nothing), must go strictly up in offset, and must not
/// jump over an offset that the history observed holding a record. A new session may start
/// anywhere, since a restarted consumer resumes from its committed offset.
fn poll_offsets(history: &QueueHistory, seen: &Observed, report: &mut Report) {
    // (process, session, partition) -> (offset, value, op) of its previous read.
    let mut last: BTreeMap<(u64, u64, u32), (u64, u64, usize)> = BTreeMap::new();
    let no_offsets = BTreeMap::new();
    for (i, process, p, s, records) in polls(history) {
        let log = seen.at.get(&p).unwrap_or(&no_offsets);
        for &(o, v) in records {
            let Some((prev, pv, j)) = last.insert((process, s, p), (o, v, i)) else {
                continue;
            };
            let who = || format!("process {process} session {s} read partition {p}");
            if o <= prev {
                report.add(Invariant::NONMONOTONIC_POLL, || {
                    format!(
                        "{} offset {o} (value {v}, op {i}) after offset {prev} (value {pv}, \
                         op {j})",
                        who()
                    )
                });
                continue;
            }
            // The offsets strictly between the two reads that the history saw holding a record.
            let skipped = log
                .range((Excluded(prev), Excluded(o)))
                .map(|(k, _)| k.to_string());
            let (list, n) = first_few(skipped);
            if n > 0 {
                report.add(Invariant::POLL_SKIP, || {
                    let offsets = if n == 1 { "offset" } else { "offsets" };
                    format!(
                        "{} offset {prev} (op {j}) then offset {o} (op {i}), skipping \
                         {offsets} {list}",
                        who()
                    )
                });
            }
        }
    }
}

/// `AbortedRead`: a poll returned the value of a send that definitely failed.
fn failed_reads(history: &QueueHistory, seen: &Observed, report: &mut Report) {
    for (i, _, p, _, records) in polls(history) {
        for (o, v) in records {
            if let Some(&(j, SendResult::Fail(reason))) = seen.sends.get(v) {
                report.add(Invariant::ABORTED_READ, || {
                    format!(
                        "op {i} read value {v} at partition {p} offset {o}, but its send \
                         (op {j}) definitely failed: {reason}"
                    )
                });
            }
        }
    }
}

/// The cases found so far, per kind in the order of [`KINDS`]: a count, and the explanations
/// of the first [`EXAMPLES_MAX`].
#[derive(Default)]
struct Report([(usize, Vec<String>); KINDS.len()]);

impl Report {
    /// Counts a case of `kind`; explains it (calls `explain`) only while examples are wanted.
    fn add(&mut self, kind: Invariant, explain: impl FnOnce() -> String) {
        let k = KINDS.iter().position(|&known| known == kind);
        let (count, examples) = &mut self.0[k.expect("check reports only KINDS")];
        *count += 1;
        if examples.len() < EXAMPLES_MAX {
            examples.push(explain());
        }
    }

    /// One anomaly per kind with cases: "2 acknowledged sends lost: op 14 ...; op 20 ...".
    fn finish(self) -> Vec<Anomaly> {
        let found = KINDS.into_iter().zip(self.0);
        found
            .filter(|(_, (count, _))| *count > 0)
            .map(|(invariant, (count, examples))| {
                let noun = noun(invariant).replace("{s}", if count == 1 { "" } else { "s" });
                let mut message = format!("{count} {noun}: {}", examples.join("; "));
                if count > examples.len() {
                    message.push_str(&format!("; and {} more", count - examples.len()));
                }
                Anomaly { invariant, message }
            })
            .collect()
    }
}

/// How a message names the cases of `kind`: `{s}` stands for the plural's "s".
fn noun(kind: Invariant) -> &'static str {
    match kind {
        Invariant::LOST_WRITE => "acknowledged send{s} lost",
        Invariant::UNSEEN => {
            "acknowledged send{s} never read although the consumers drained every partition"
        }
        Invariant::DUPLICATE => "value{s} observed at more than one offset",
        Invariant::INCONSISTENT_OFFSETS => "offset{s} observed with more than one value",
        Invariant::NONMONOTONIC_SEND => {
            "send{s} acknowledged at an offset not above the producer's previous one"
        }
        Invariant::NONMONOTONIC_POLL => {
            "read{s} at an offset not above the previous read in the same session"
        }
        Invariant::POLL_SKIP => "read{s} that skipped offsets holding records",
        Invariant::ABORTED_READ => "read{s} of a definitely failed send's value",
        _ => unreachable!("check reports only KINDS"),
    }
}

/// Up to [`EXAMPLES_MAX`] items joined with ", ", then how many more there were; and how many
/// items there were in all.
fn first_few(items: impl Iterator<Item = String>) -> (String, usize) {
    let mut shown = Vec::new();
    let mut more = 0;
    for item in items {
        if shown.len() < EXAMPLES_MAX {
            shown.push(item);
        } else {
            more += 1;
        }
    }
    let mut list = shown.join(", ");
    if more > 0 {
        list.push_str(&format!(" and {more} more"));
    }
    (list, shown.len() + more)
}

#[cfg(test)]
#[path = "check_tests.rs"]
mod tests;
