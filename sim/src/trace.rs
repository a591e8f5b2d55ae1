//! Traces: an optional structured record of the run, and the trace hash every run has.
//!
//! The hash folds, for every processed event, its number, true time, kind, node and peer, and
//! its full content — the message, timer, client request or reply, or fault, through the
//! type's `Serialize` implementation ([`content`]) — into a 64-bit value with a fixed mixing
//! function (not `std`'s hasher, whose algorithm may change between releases). So a matching
//! hash means a matching run: two runs whose messages differ in any field hash differently.
//! Same scenario + same seed ⇒ same hash, on every machine and in debug and release builds.
//!
//! A recorded trace ([`record`], docs/trace-format.md) holds every event and, between them,
//! their effects: sends with message ids, losses with reasons, timers set and cancelled,
//! client submissions, and the values nodes publish ([`Annotations`]). Effects are recorded
//! only, never hashed (except a message lost at send time, which the hash has always counted),
//! so recording cannot change a run or its hash.

pub mod content;
pub mod record;

pub use record::{Annotations, RecordKind, TraceHeader, TraceRecord, TraceViolation, Value};

use crate::monitor::{EventInfo, EventKind};
use crate::{NodeId, Time};
use serde::Serialize;

/// The running trace hash and, when enabled, the recorded events and effects.
#[derive(Debug)]
pub struct Trace {
    hash: u64,
    record: bool,
    /// Recorded records (empty unless recording).
    pub records: Vec<TraceRecord>,
    /// What each node last published, to record only changes (empty unless recording).
    published: Vec<Vec<(&'static str, Value)>>,
    /// The number of the current event (for effects).
    current: u64,
}

const SEED: u64 = 0xcbf2_9ce4_8422_2325;
const MUL: u64 = 0x9E37_79B9_7F4A_7C15;

impl Trace {
    /// A fresh trace; `record` keeps every record in memory.
    pub fn new(record: bool) -> Trace {
        Trace {
            hash: SEED,
            record,
            records: Vec::new(),
            published: Vec::new(),
            current: 0,
        }
    }

    /// Whether records are being kept (so effects are worth building).
    #[inline]
    pub fn recording(&self) -> bool {
        self.record
    }

    fn mix(&mut self, w: u64) {
        self.hash = (self.hash.rotate_left(5) ^ w).wrapping_mul(MUL);
    }

    /// Folds one event without content into the hash and records it if recording.
    pub fn event(&mut self, info: &EventInfo, fill: impl FnOnce(&mut TraceRecord)) {
        self.event_with::<()>(info, None, fill);
    }

    /// Folds one event and its content into the hash and, if recording, records it with the
    /// content as its payload; `fill` adds the fields of its kind (called only when recording).
    pub fn event_with<T: Serialize + ?Sized>(
        &mut self,
        info: &EventInfo,
        content: Option<&T>,
        fill: impl FnOnce(&mut TraceRecord),
    ) {
        self.fold(info, content);
        self.current = info.number;
        if self.record {
            let mut r = TraceRecord {
                event: Some(info.number),
                time_ns: info.time.0,
                kind: record_kind(info.kind),
                node: info.node.map(|n| n.0),
                peer: info.peer.map(|n| n.0),
                payload: content.and_then(|c| serde_json::to_value(c).ok()),
                ..TraceRecord::default()
            };
            fill(&mut r);
            self.records.push(r);
        }
    }

    /// Folds an event's identity and content into the hash without recording anything.
    pub fn fold<T: Serialize + ?Sized>(&mut self, info: &EventInfo, content: Option<&T>) {
        self.mix(info.number);
        self.mix(info.time.0);
        self.mix(info.kind as u64);
        self.mix(node_word(info.node));
        self.mix(node_word(info.peer));
        if let Some(c) = content {
            content::fold(&mut self.hash, c);
        }
    }

    /// Records an effect of the current event, if recording (never hashed). `fill` sets its
    /// fields and runs only while recording, so callers need no check of their own; the event
    /// number and kind are set here.
    #[inline]
    pub fn effect(&mut self, time: Time, kind: RecordKind, fill: impl FnOnce(&mut TraceRecord)) {
        if !self.record {
            return;
        }
        let mut r = TraceRecord {
            within: Some(self.current),
            time_ns: time.0,
            kind,
            ..TraceRecord::default()
        };
        fill(&mut r);
        self.records.push(r);
    }

    /// Records what changed in what `node` publishes (recording only).
    pub fn publish(&mut self, time: Time, node: NodeId, now: &Annotations) {
        if !self.record {
            return;
        }
        let i = node.index();
        if self.published.len() <= i {
            self.published.resize_with(i + 1, Vec::new);
        }
        let mut before = std::mem::take(&mut self.published[i]);
        for (key, value) in &now.items {
            if before.iter().any(|(k, v)| k == key && v == value) {
                continue;
            }
            self.annotate(time, node, key, serde_json::to_value(value).ok());
        }
        for (key, _) in &before {
            if now.get(key).is_none() {
                self.annotate(time, node, key, Some(serde_json::Value::Null));
            }
        }
        before.clone_from(&now.items);
        self.published[i] = before;
    }

    /// Records that `node` lost everything it published (it crashed): each key becomes `null`.
    pub fn forget(&mut self, time: Time, node: NodeId) {
        if let Some(before) = self.published.get_mut(node.index()).map(std::mem::take) {
            for (key, _) in before {
                self.annotate(time, node, key, Some(serde_json::Value::Null));
            }
        }
    }

    fn annotate(&mut self, time: Time, node: NodeId, key: &str, value: Option<serde_json::Value>) {
        self.effect(time, RecordKind::Annotate, |r| {
            r.node = Some(node.0);
            r.key = Some(key.to_string());
            r.value = value;
        });
    }

    /// The hash so far.
    pub fn hash(&self) -> u64 {
        // A final avalanche so that nearby traces give unrelated-looking hashes.
        crate::rng::splitmix64(self.hash)
    }
}

/// The record kind of an event kind (a restart is told apart by the caller).
fn record_kind(kind: EventKind) -> RecordKind {
    match kind {
        EventKind::Deliver => RecordKind::Deliver,
        EventKind::Drop => RecordKind::Drop,
        EventKind::Timer => RecordKind::Timer,
        EventKind::Request => RecordKind::Request,
        EventKind::Reply => RecordKind::Reply,
        EventKind::Workload => RecordKind::Workload,
        EventKind::Fault => RecordKind::Fault,
        EventKind::Start => RecordKind::Start,
        EventKind::Tick => RecordKind::Tick,
        EventKind::Synced => RecordKind::Synced,
    }
}

fn node_word(n: Option<NodeId>) -> u64 {
    n.map_or(u64::MAX, |n| u64::from(n.0))
}

/// Event records of a kind in a recorded trace (a convenience for tests).
pub fn count_kind(records: &[TraceRecord], kind: EventKind) -> usize {
    let kind = record_kind(kind);
    records
        .iter()
        .filter(|r| r.is_event() && r.kind == kind)
        .count()
}
