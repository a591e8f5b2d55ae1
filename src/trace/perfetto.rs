//! The Chrome / Perfetto trace-event JSON export (`faultline trace FILE --perfetto OUT.json`),
//! for ui.perfetto.dev or chrome://tracing.
//!
//! - One process per node (`node 3`), with a `handlers` thread: one slice per event the node
//!   handled (start, delivery, timer, client request), named by kind and message, its payload in
//!   the slice's arguments. Virtual time has no handler durations, so a slice lasts 1 µs, or
//!   less when the node's next event comes sooner; events at the same instant are laid 1 ns
//!   apart, in their order.
//! - Flow arrows from the slice that sent a message to the slice that received it (delivered
//!   messages only; a lost one is an instant marker on the sender, with its reason).
//! - Counter tracks for every numeric annotation (term, commit index, epoch...), and a slice
//!   track per text annotation (role: follower / candidate / leader).
//! - A `status` thread per node with its crashed and paused periods, and a `cluster` process
//!   with every fault as a global marker and the partitioned periods as slices.

use super::{Period, TraceFile, fault_name, fault_periods, payload_label};
use serde_json::{Value, json};
use sim::{RecordKind, TraceRecord};
use std::collections::BTreeMap;

/// How long a handler slice lasts at most, in ns.
const SLICE_NS: u64 = 1_000;
/// Thread ids within a node's process.
const HANDLERS: u32 = 1;
const STATUS: u32 = 2;
/// Text annotations get threads from here on, one per key.
const FIRST_TEXT: u32 = 3;

fn us(ns: u64) -> f64 {
    ns as f64 / 1_000.0
}

fn pid(node: u32) -> u32 {
    node + 1
}

/// Whether an event record runs a node's handler (and so gets a slice).
fn handled(r: &TraceRecord) -> bool {
    r.is_event()
        && matches!(
            r.kind,
            RecordKind::Start
                | RecordKind::Restart
                | RecordKind::Deliver
                | RecordKind::Timer
                | RecordKind::Request
        )
}

/// The trace as a Chrome trace-event JSON document.
pub fn export(file: &TraceFile) -> Value {
    let records = &file.records;
    let end = records.last().map_or(0, |r| r.time_ns);
    let mut out: Vec<Value> = Vec::new();
    let meta = |pid: u32, tid: Option<u32>, name: &str| {
        let mut m = json!({"ph": "M", "pid": pid, "name": if tid.is_some() { "thread_name" } else { "process_name" }, "args": {"name": name}});
        if let Some(t) = tid {
            m["tid"] = json!(t);
        }
        m
    };
    out.push(meta(0, None, "cluster"));
    out.push(meta(0, Some(1), "faults"));
    out.push(meta(0, Some(2), "partitions"));
    for n in 0..file.header.nodes {
        out.push(meta(pid(n), None, &format!("node {n}")));
        out.push(json!({"ph": "M", "pid": pid(n), "name": "process_sort_index", "args": {"sort_index": n + 1}}));
        out.push(meta(pid(n), Some(HANDLERS), "handlers"));
        out.push(meta(pid(n), Some(STATUS), "status"));
    }

    // Handler slices: where each one starts and how long it lasts, per event number.
    let slices = lay_out_slices(records);
    for r in records.iter().filter(|r| handled(r)) {
        let (Some(node), Some(&(ts, dur))) = (r.node, slices.get(&r.event_number())) else {
            continue;
        };
        let label = payload_label(r.payload.as_ref(), 40);
        let name =
            if label.is_empty() || r.kind != RecordKind::Deliver && r.kind != RecordKind::Timer {
                r.kind.as_str().to_string()
            } else {
                format!("{} {label}", r.kind.as_str())
            };
        let mut args = json!({"event": r.event_number(), "time_ns": r.time_ns});
        for (k, v) in [
            ("from", r.peer.map(u64::from)),
            ("msg", r.msg),
            ("timer", r.timer),
            ("client", r.client),
        ] {
            if let Some(v) = v {
                args[k] = json!(v);
            }
        }
        if let Some(p) = &r.payload {
            args["payload"] = p.clone();
        }
        out.push(json!({"ph": "X", "pid": pid(node), "tid": HANDLERS, "ts": us(ts), "dur": us(dur), "name": name, "cat": r.kind.as_str(), "args": args}));
    }

    // Flows: send slice → delivery slice, for every delivered message.
    let mut sent_in: BTreeMap<u64, (u32, u64)> = BTreeMap::new();
    for r in records {
        match r.kind {
            RecordKind::Send | RecordKind::Duplicate if !r.is_event() => {
                let id = r.msg.unwrap_or_default();
                // A copy flows from the slice that sent the original.
                let origin = r.copy_of.and_then(|o| sent_in.get(&o).copied());
                let from =
                    origin.or_else(|| r.node.zip(slices.get(&r.event_number()).map(|&(ts, _)| ts)));
                if let Some(from) = from {
                    sent_in.insert(id, from);
                }
            }
            RecordKind::Deliver if r.is_event() => {
                let id = r.msg.unwrap_or_default();
                let (Some((from, send_ts)), Some(to), Some(&(ts, _))) = (
                    sent_in.get(&id).copied(),
                    r.node,
                    slices.get(&r.event_number()),
                ) else {
                    continue;
                };
                let name = payload_label(r.payload.as_ref(), 40);
                out.push(json!({"ph": "s", "id": id, "pid": pid(from), "tid": HANDLERS, "ts": us(send_ts), "name": name, "cat": "message"}));
                out.push(json!({"ph": "f", "bp": "e", "id": id, "pid": pid(to), "tid": HANDLERS, "ts": us(ts), "name": name, "cat": "message"}));
            }
            RecordKind::Drop => {
                let (Some(node), Some(reason)) = (r.node, &r.reason) else {
                    continue;
                };
                // Lost at send: marked on the sender; dropped on arrival: on the receiver.
                let at = if r.is_event() {
                    node
                } else {
                    r.peer.unwrap_or(node)
                };
                out.push(json!({"ph": "i", "s": "t", "pid": pid(at), "tid": HANDLERS, "ts": us(r.time_ns), "name": format!("drop: {reason}"), "cat": "drop", "args": {"msg": r.msg, "reason": reason, "from": r.peer, "to": r.node}}));
            }
            _ => {}
        }
    }

    annotations(records, end, &mut out);
    faults(records, &fault_periods(records), &mut out);
    json!({"traceEvents": out, "displayTimeUnit": "ms", "otherData": {
        "scenario": file.header.scenario, "protocol": file.header.protocol,
        "seed": file.header.seed, "trace_hash": file.header.trace_hash,
        "verdict": file.header.verdict,
    }})
}

/// Start and length (ns) of every handler slice, by event number: at the event's time, or
/// 1 ns after the node's previous slice started if that is later; as long as [`SLICE_NS`] or
/// the gap to the node's next slice.
fn lay_out_slices(records: &[TraceRecord]) -> BTreeMap<u64, (u64, u64)> {
    let mut starts: BTreeMap<u32, Vec<(u64, u64)>> = BTreeMap::new();
    for r in records.iter().filter(|r| handled(r)) {
        let Some(node) = r.node else { continue };
        let list = starts.entry(node).or_default();
        let at = list
            .last()
            .map_or(r.time_ns, |&(_, prev)| r.time_ns.max(prev + 1));
        list.push((r.event_number(), at));
    }
    let mut out = BTreeMap::new();
    for list in starts.values() {
        for (i, &(event, at)) in list.iter().enumerate() {
            let dur = list
                .get(i + 1)
                .map_or(SLICE_NS, |&(_, next)| (next - at).min(SLICE_NS));
            out.insert(event, (at, dur));
        }
    }
    out
}

/// Counter tracks for numeric annotations, slice tracks for text ones.
fn annotations(records: &[TraceRecord], end: u64, out: &mut Vec<Value>) {
    // (node, key) → (since, text) of the text value being shown.
    let mut open: BTreeMap<(u32, String), (u64, String)> = BTreeMap::new();
    let mut tids: BTreeMap<(u32, String), u32> = BTreeMap::new();
    let close = |out: &mut Vec<Value>,
                 tids: &mut BTreeMap<(u32, String), u32>,
                 key: &(u32, String),
                 since: u64,
                 text: String,
                 to: u64| {
        let next = FIRST_TEXT + tids.keys().filter(|(n, _)| *n == key.0).count() as u32;
        let tid = *tids.entry(key.clone()).or_insert_with(|| {
            out.push(json!({"ph": "M", "pid": pid(key.0), "tid": next, "name": "thread_name", "args": {"name": key.1}}));
            next
        });
        out.push(json!({"ph": "X", "pid": pid(key.0), "tid": tid, "ts": us(since), "dur": us(to.saturating_sub(since).max(1)), "name": text, "cat": "annotation"}));
    };
    for r in records.iter().filter(|r| r.kind == RecordKind::Annotate) {
        let (Some(node), Some(key)) = (r.node, &r.key) else {
            continue;
        };
        let k = (node, key.clone());
        match &r.value {
            Some(Value::Number(v)) => out.push(json!({"ph": "C", "pid": pid(node), "ts": us(r.time_ns), "name": key, "args": {key.as_str(): v}})),
            Some(Value::Bool(b)) => out.push(json!({"ph": "C", "pid": pid(node), "ts": us(r.time_ns), "name": key, "args": {key.as_str(): u8::from(*b)}})),
            other => {
                if let Some((since, text)) = open.remove(&k) {
                    close(out, &mut tids, &k, since, text, r.time_ns);
                }
                if let Some(Value::String(s)) = other {
                    open.insert(k, (r.time_ns, s.clone()));
                }
            }
        }
    }
    for (k, (since, text)) in std::mem::take(&mut open) {
        close(out, &mut tids, &k, since, text, end);
    }
}

/// Fault markers on the cluster, fault periods on the nodes' status threads and the
/// cluster's partition thread.
fn faults(records: &[TraceRecord], periods: &[Period], out: &mut Vec<Value>) {
    for r in records.iter().filter(|r| r.kind == RecordKind::Fault) {
        out.push(json!({"ph": "i", "s": "g", "pid": 0, "tid": 1, "ts": us(r.time_ns), "name": fault_name(r), "cat": "fault", "args": {"event": r.event_number(), "fault": r.payload}}));
    }
    for p in periods {
        let (pid, tid) = p.node.map_or((0, 2), |n| (pid(n), STATUS));
        out.push(json!({"ph": "X", "pid": pid, "tid": tid, "ts": us(p.from_ns), "dur": us(p.to_ns.saturating_sub(p.from_ns).max(1)), "name": p.label, "cat": "fault"}));
    }
}
