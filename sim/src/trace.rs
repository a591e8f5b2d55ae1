//! Traces: an optional record of every processed event, and the trace hash every run has.
//!
//! The hash folds, for every processed event, its number, true time, kind, node and peer, and
//! its full content — the message, timer, client request or reply, or fault, through the
//! type's `Serialize` implementation ([`content`]) — into a 64-bit value with a fixed mixing
//! function (not `std`'s hasher, whose algorithm may change between releases). So a matching
//! hash means a matching run: two runs whose messages differ in any field hash differently.
//! Same scenario + same seed ⇒ same hash, on every machine and in debug and release builds.
//! A recorded trace carries the same content as JSON (`payload`), from the same
//! `Serialize` implementation.

pub mod content;

use crate::monitor::{EventInfo, EventKind};
use crate::{NodeId, Time};
use serde::Serialize;

/// One recorded event.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct TraceEvent {
    /// Event number (1-based).
    pub event: u64,
    /// True time in nanoseconds.
    pub time_ns: u64,
    /// The node it happened at.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub node: Option<u32>,
    /// `deliver`, `drop`, `timer`, `request`, `reply`, `workload`, `fault`, `start`, `tick`.
    pub kind: &'static str,
    /// The other node involved (a message's sender).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub peer: Option<u32>,
    /// What it was: the message, timer, request or fault, as `Debug` prints it.
    pub summary: String,
    /// The content hashed for this event (message, timer, request, reply or fault), as JSON.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub payload: Option<serde_json::Value>,
}

/// The running trace hash and, when enabled, the recorded events.
#[derive(Debug)]
pub struct Trace {
    hash: u64,
    record: bool,
    /// Recorded events (empty unless recording).
    pub events: Vec<TraceEvent>,
}

const SEED: u64 = 0xcbf2_9ce4_8422_2325;
const MUL: u64 = 0x9E37_79B9_7F4A_7C15;

impl Trace {
    /// A fresh trace; `record` keeps every event in memory.
    pub fn new(record: bool) -> Trace {
        Trace {
            hash: SEED,
            record,
            events: Vec::new(),
        }
    }

    /// Whether events are being recorded (so summaries are worth formatting).
    pub fn recording(&self) -> bool {
        self.record
    }

    fn mix(&mut self, w: u64) {
        self.hash = (self.hash.rotate_left(5) ^ w).wrapping_mul(MUL);
    }

    /// Folds one event without content into the hash and records it if recording.
    /// `summary` is called only when recording.
    pub fn event(&mut self, info: &EventInfo, summary: impl FnOnce() -> String) {
        self.event_with::<()>(info, None, summary);
    }

    /// Folds one event and its content into the hash and records it if recording. `summary`
    /// is called only when recording.
    pub fn event_with<T: Serialize + ?Sized>(
        &mut self,
        info: &EventInfo,
        content: Option<&T>,
        summary: impl FnOnce() -> String,
    ) {
        self.mix(info.number);
        self.mix(info.time.0);
        self.mix(info.kind as u64);
        self.mix(node_word(info.node));
        self.mix(node_word(info.peer));
        if let Some(c) = content {
            content::fold(&mut self.hash, c);
        }
        if self.record {
            self.events.push(TraceEvent {
                event: info.number,
                time_ns: info.time.0,
                node: info.node.map(|n| n.0),
                kind: info.kind.as_str(),
                peer: info.peer.map(|n| n.0),
                summary: summary(),
                payload: content.and_then(|c| serde_json::to_value(c).ok()),
            });
        }
    }

    /// The hash so far.
    pub fn hash(&self) -> u64 {
        // A final avalanche so that nearby traces give unrelated-looking hashes.
        crate::rng::splitmix64(self.hash)
    }
}

fn node_word(n: Option<NodeId>) -> u64 {
    n.map_or(u64::MAX, |n| u64::from(n.0))
}

/// Events of a kind in a recorded trace (a convenience for tests).
pub fn count_kind(events: &[TraceEvent], kind: EventKind) -> usize {
    events.iter().filter(|e| e.kind == kind.as_str()).count()
}

/// Formats the true time of a trace event.
pub fn time_of(e: &TraceEvent) -> Time {
    Time(e.time_ns)
}
