//! The ShiViz log export (`faultline trace FILE --shiviz OUT.log`), for
//! <https://bestchai.bitbucket.io/shiviz/>: a space-time diagram built from vector clocks.
//!
//! The file is ShiViz's upload format: the parser expression on the first line, an empty
//! execution delimiter on the second, then two lines per logged event — its description, then
//! `node<i> {"node<i>": c, ...}`, its vector clock. ShiViz's rules hold by construction: a
//! host's own entry is 1 on its first event and grows by exactly 1 per logged event; a
//! receive merges the clock the message was sent with (entry-wise maximum) before its own
//! increment; entries of other hosts are never ahead of what that host had logged.
//!
//! Logged per node: start and restart, every send (the clock it carries), every delivery,
//! timer and client request, every fault that hit it, and changes of its text annotations
//! (its role).

use super::{TraceFile, fault_name, fault_nodes, payload_label};
use sim::{RecordKind, TraceRecord};
use std::collections::BTreeMap;
use std::fmt::Write;

/// The parser expression ShiViz is given on the file's first line.
pub const REGEX: &str = r"(?<event>.*)\n(?<host>\S*) (?<clock>{.*})";

type Clock = BTreeMap<u32, u64>;

/// The trace as a ShiViz log.
pub fn export(file: &TraceFile) -> String {
    let mut out = format!("{REGEX}\n\n");
    let mut clocks: BTreeMap<u32, Clock> = BTreeMap::new();
    // The clock each message was sent with, by message id; the original of each copy.
    let mut carried: BTreeMap<u64, Clock> = BTreeMap::new();
    let mut original: BTreeMap<u64, u64> = BTreeMap::new();
    for r in &file.records {
        if r.kind == RecordKind::Duplicate {
            // A copy carries the clock of the original's send.
            if let (Some(id), Some(of)) = (r.msg, r.copy_of)
                && let Some(c) = carried.get(&of)
            {
                carried.insert(id, c.clone());
                original.insert(id, of);
            }
            continue;
        }
        let Some(mut what) = describe(r) else {
            continue;
        };
        if let Some(of) = r.msg.and_then(|id| original.remove(&id)) {
            what = what.replacen(')', &format!(", a copy of msg {of})"), 1);
        }
        let what = format!("{what} @ {} ns", r.time_ns);
        match (r.kind, r.node) {
            (RecordKind::Fault, _) => {
                for n in fault_nodes(r) {
                    entry(&mut out, &mut clocks, n, &what, None);
                }
            }
            (RecordKind::Send, Some(node)) => {
                let c = entry(&mut out, &mut clocks, node, &what, None);
                carried.insert(r.msg.unwrap_or_default(), c);
            }
            (RecordKind::Deliver, Some(node)) => {
                let sent = carried.remove(&r.msg.unwrap_or_default());
                entry(&mut out, &mut clocks, node, &what, sent.as_ref());
            }
            (_, Some(node)) => {
                entry(&mut out, &mut clocks, node, &what, None);
            }
            (_, None) => {}
        }
    }
    out
}

/// Logs one event at `node`: merges `merge`, increments its own entry, writes both lines, and
/// returns the event's clock.
fn entry(
    out: &mut String,
    clocks: &mut BTreeMap<u32, Clock>,
    node: u32,
    what: &str,
    merge: Option<&Clock>,
) -> Clock {
    let clock = clocks.entry(node).or_default();
    if let Some(m) = merge {
        for (&h, &c) in m {
            let e = clock.entry(h).or_default();
            *e = (*e).max(c);
        }
    }
    *clock.entry(node).or_default() += 1;
    let _ = writeln!(out, "{}", what.replace('\n', " "));
    let entries: Vec<String> = clock
        .iter()
        .map(|(h, c)| format!("\"node{h}\":{c}"))
        .collect();
    let _ = writeln!(out, "node{node} {{{}}}", entries.join(","));
    clock.clone()
}

/// The description of a record worth logging, or `None`.
fn describe(r: &TraceRecord) -> Option<String> {
    let label = || payload_label(r.payload.as_ref(), 60);
    let peer = r.peer.map_or(String::new(), |p| format!("node{p}"));
    Some(match r.kind {
        RecordKind::Start => "start".into(),
        RecordKind::Restart => "restart".into(),
        RecordKind::Send if !r.is_event() => format!("send {} to {peer} (msg {})", label(), r.msg?),
        RecordKind::Deliver => format!("receive {} from {peer} (msg {})", label(), r.msg?),
        RecordKind::Timer => format!("timer {}", label()),
        RecordKind::Request => format!("request from client {}: {}", r.client?, label()),
        RecordKind::Fault => format!("fault {}", fault_name(r)),
        RecordKind::Annotate => match &r.value {
            Some(serde_json::Value::String(s)) => format!("{} = {s}", r.key.as_deref()?),
            _ => return None,
        },
        _ => return None,
    })
}
