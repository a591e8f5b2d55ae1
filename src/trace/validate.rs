//! Checking a trace against its schema (docs/trace-format.md, version 1): the fields each
//! kind needs, event numbering that matches the header's (the verdict's) event count, effects
//! filed under the event they happened in, time that never runs backwards, nodes that exist,
//! and message and timer ids that tie up — every delivery or drop of a message has its send,
//! every fired or cancelled timer was set by the same node.
//!
//! serde already refuses unknown fields and wrong types when the file is read; this adds the
//! rules a type cannot express. `faultline trace FILE --validate` runs it.

use super::TraceFile;
use sim::{RecordKind, TraceRecord};
use std::collections::{BTreeMap, BTreeSet};

/// At most this many problems are listed (the first ones are the useful ones).
const MAX_PROBLEMS: usize = 20;

/// The problems found, each `record N: what` (records numbered from 1, after the header);
/// empty when the trace is valid.
pub fn validate(file: &TraceFile) -> Vec<String> {
    let mut v = Validator {
        nodes: file.header.nodes,
        problems: Vec::new(),
        last_event: 0,
        last_time: 0,
        sent: BTreeMap::new(),
        ended: BTreeSet::new(),
        timers: BTreeMap::new(),
    };
    for (i, r) in file.records.iter().enumerate() {
        v.check(i + 1, r);
        if v.problems.len() >= MAX_PROBLEMS {
            v.problems.push("(more problems not listed)".into());
            return v.problems;
        }
    }
    if v.last_event != file.header.events {
        v.problems.push(format!(
            "the trace holds {} events, but its header (the verdict) counts {}",
            v.last_event, file.header.events
        ));
    }
    v.problems
}

struct Validator {
    nodes: u32,
    problems: Vec<String>,
    last_event: u64,
    last_time: u64,
    /// Message id → (sender, receiver) of every send and duplicate seen.
    sent: BTreeMap<u64, (u32, u32)>,
    /// Message ids delivered or dropped.
    ended: BTreeSet<u64>,
    /// Timer id → its node, while set and not yet fired.
    timers: BTreeMap<u64, u32>,
}

impl Validator {
    fn bad(&mut self, i: usize, what: String) {
        self.problems.push(format!("record {i}: {what}"));
    }

    fn check(&mut self, i: usize, r: &TraceRecord) {
        let kind = r.kind.as_str();
        match (r.event, r.within) {
            (Some(n), None) => {
                if !r.kind.is_event_kind() {
                    self.bad(
                        i,
                        format!("`{kind}` is an effect, so it needs `in`, not `event`"),
                    );
                }
                if n != self.last_event + 1 {
                    self.bad(i, format!("event {n} follows event {}", self.last_event));
                }
                self.last_event = n;
            }
            (None, Some(n)) => {
                if !r.kind.is_effect_kind() {
                    self.bad(
                        i,
                        format!("`{kind}` is an event, so it needs `event`, not `in`"),
                    );
                }
                if n != self.last_event {
                    self.bad(
                        i,
                        format!(
                            "an effect filed in event {n} follows event {}",
                            self.last_event
                        ),
                    );
                }
            }
            _ => self.bad(i, "a record needs exactly one of `event` and `in`".into()),
        }
        if r.time_ns < self.last_time {
            self.bad(
                i,
                format!(
                    "time runs backwards: {} ns after {} ns",
                    r.time_ns, self.last_time
                ),
            );
        }
        self.last_time = r.time_ns;
        for (what, n) in [("node", r.node), ("peer", r.peer)] {
            if let Some(n) = n
                && n >= self.nodes
            {
                self.bad(
                    i,
                    format!("{what} {n} does not exist ({} nodes)", self.nodes),
                );
            }
        }
        let missing: Vec<&str> = required(r.kind, r.is_event())
            .iter()
            .filter(|f| !has(r, f))
            .copied()
            .collect();
        if !missing.is_empty() {
            self.bad(i, format!("`{kind}` needs {}", missing.join(", ")));
            return;
        }
        self.check_ids(i, r);
    }

    /// Messages and timers: ids tie sends to deliveries, and timer sets to fires.
    fn check_ids(&mut self, i: usize, r: &TraceRecord) {
        match r.kind {
            RecordKind::Send | RecordKind::Duplicate => {
                let id = r.msg.unwrap_or_default();
                let ends = (r.node.unwrap_or_default(), r.peer.unwrap_or_default());
                if self.sent.insert(id, ends).is_some() {
                    self.bad(i, format!("message {id} was sent twice"));
                }
                if let Some(of) = r.copy_of
                    && self.sent.get(&of) != Some(&ends)
                {
                    self.bad(
                        i,
                        format!("message {id} copies {of}, which was not sent so"),
                    );
                }
            }
            RecordKind::Deliver | RecordKind::Drop if r.msg.is_some() => {
                let id = r.msg.unwrap_or_default();
                // A delivery's `node` is the receiver and `peer` the sender.
                let ends = (r.peer.unwrap_or_default(), r.node.unwrap_or_default());
                match self.sent.get(&id) {
                    None => self.bad(i, format!("message {id} was never sent")),
                    Some(&e) if e != ends => self.bad(
                        i,
                        format!(
                            "message {id} went from {} to {}, not {} to {}",
                            e.0, e.1, ends.0, ends.1
                        ),
                    ),
                    Some(_) => {}
                }
                if !self.ended.insert(id) {
                    self.bad(i, format!("message {id} arrived or was dropped twice"));
                }
            }
            RecordKind::TimerSet => {
                if r.at_ns.unwrap_or_default() < r.time_ns {
                    self.bad(i, "a timer is due before it was set".into());
                }
                self.timers
                    .insert(r.timer.unwrap_or_default(), r.node.unwrap_or_default());
            }
            RecordKind::Timer => {
                let id = r.timer.unwrap_or_default();
                match self.timers.remove(&id) {
                    Some(n) if Some(n) == r.node => {}
                    Some(n) => self.bad(i, format!("timer {id} was set by node {n}")),
                    None => self.bad(i, format!("timer {id} fired but was not pending")),
                }
            }
            RecordKind::TimerCancel => {
                // Cancelling a timer that already fired is allowed (and harmless).
                self.timers.remove(&r.timer.unwrap_or_default());
            }
            _ => {}
        }
    }
}

/// The fields a record of `kind` must carry.
fn required(kind: RecordKind, event: bool) -> &'static [&'static str] {
    use RecordKind::*;
    match kind {
        Start | Restart => &["node"],
        Deliver => &["node", "peer", "msg", "payload"],
        Drop if event => &["node", "reason"],
        Drop => &["node", "peer", "msg", "reason"],
        Timer => &["node", "timer", "payload"],
        Request | Invoke => &["node", "client", "payload"],
        Reply => &["node", "client"],
        Workload => &["payload"],
        Fault => &["payload"],
        Tick => &[],
        Send => &["node", "peer", "msg", "payload"],
        Duplicate => &["node", "peer", "msg", "copy_of", "at_ns"],
        TimerSet => &["node", "timer", "at_ns", "payload"],
        TimerCancel => &["node", "timer"],
        Annotate => &["node", "key", "value"],
        Synced | Sync => &["node", "payload"],
    }
}

fn has(r: &TraceRecord, field: &str) -> bool {
    match field {
        "node" => r.node.is_some(),
        "peer" => r.peer.is_some(),
        "msg" => r.msg.is_some(),
        "copy_of" => r.copy_of.is_some(),
        "timer" => r.timer.is_some(),
        "at_ns" => r.at_ns.is_some(),
        "client" => r.client.is_some(),
        "reason" => r.reason.is_some(),
        "key" => r.key.is_some(),
        "value" => r.value.is_some(),
        "payload" => r.payload.is_some(),
        _ => false,
    }
}
