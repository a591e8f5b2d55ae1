//! One line of a structured trace (schema version [`SCHEMA_VERSION`], docs/trace-format.md),
//! and the protocol annotations a node publishes into it.
//!
//! A trace is a sequence of records. An *event* record (`event: n`) is one processed event:
//! the engine numbers them 1, 2, 3... exactly as monitors and the verdict count them. An
//! *effect* record (`in: n`) is something that happened while event `n` was processed — a
//! send, a message lost at send time, a timer set or cancelled, a client's request submitted,
//! a protocol's state change — and is not an event of its own. Effects follow their event.

use serde::{Deserialize, Serialize};
use std::borrow::Cow;

/// The trace schema's version: bumped when a field changes meaning or a required field is
/// added. Readers accept files whose header names this version.
pub const SCHEMA_VERSION: u32 = 1;

/// What a record is.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum RecordKind {
    // ---- events (numbered) ----
    /// A node's first start.
    Start,
    /// A node's restart after a crash (`Protocol::recover`).
    Restart,
    /// A message arrived (`node` the receiver, `peer` the sender, `msg` its id).
    Deliver,
    /// A message (or client request) reached a node that could not take it; `reason` says why.
    /// As an effect (`in`), a message lost when it was sent.
    Drop,
    /// A node's timer fired (`timer` its id).
    Timer,
    /// A client request reached a node (`client`).
    Request,
    /// A node's reply reached its client (`node` the replying node, `client`).
    Reply,
    /// A workload timer fired (`payload` its token).
    Workload,
    /// A fault was applied (`payload.fault`, `payload.nodes` the nodes it hit).
    Fault,
    /// A periodic observation tick.
    #[default]
    Tick,
    /// A node's sync completed (`payload.sync` its id, `payload.ok` whether it succeeded).
    Synced,
    // ---- effects (within an event) ----
    /// A node sent a message (`node` the sender, `peer` the receiver, `msg` its id, `at_ns`
    /// when it will arrive unless something stops it).
    Send,
    /// The network duplicated a message: `msg` is the copy's id, `copy_of` the original's.
    Duplicate,
    /// A node set a timer (`timer` its id, `at_ns` the true time it is due).
    TimerSet,
    /// A node cancelled a timer (`timer`).
    TimerCancel,
    /// A client submitted a request to a node (`client`, `payload` the request).
    Invoke,
    /// A node's published state changed (`key`, `value`; `null` when it crashed).
    Annotate,
    /// A node asked its disk for a sync: `payload.writes` the unsynced writes it covers, and
    /// `payload.sync` its id with `at_ns` when it completes later, or `payload.ok` when it
    /// completed at once.
    Sync,
}

impl RecordKind {
    /// Whether records of this kind are numbered events (as opposed to effects); `Drop` is
    /// both, told apart by the record's `event` / `in` field.
    pub fn is_event_kind(self) -> bool {
        matches!(
            self,
            RecordKind::Start
                | RecordKind::Restart
                | RecordKind::Deliver
                | RecordKind::Drop
                | RecordKind::Timer
                | RecordKind::Request
                | RecordKind::Reply
                | RecordKind::Workload
                | RecordKind::Fault
                | RecordKind::Tick
                | RecordKind::Synced
        )
    }

    /// Whether records of this kind can be effects.
    pub fn is_effect_kind(self) -> bool {
        !self.is_event_kind() || self == RecordKind::Drop
    }

    /// The name written in traces.
    pub fn as_str(self) -> &'static str {
        match self {
            RecordKind::Start => "start",
            RecordKind::Restart => "restart",
            RecordKind::Deliver => "deliver",
            RecordKind::Drop => "drop",
            RecordKind::Timer => "timer",
            RecordKind::Request => "request",
            RecordKind::Reply => "reply",
            RecordKind::Workload => "workload",
            RecordKind::Fault => "fault",
            RecordKind::Tick => "tick",
            RecordKind::Synced => "synced",
            RecordKind::Send => "send",
            RecordKind::Duplicate => "duplicate",
            RecordKind::TimerSet => "timer_set",
            RecordKind::TimerCancel => "timer_cancel",
            RecordKind::Invoke => "invoke",
            RecordKind::Annotate => "annotate",
            RecordKind::Sync => "sync",
        }
    }
}

/// One line of a trace. Fields that do not apply are left out of the JSON.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TraceRecord {
    /// The event number, for an event record (1-based, consecutive).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event: Option<u64>,
    /// For an effect record: the number of the event it happened in (0 before the first).
    #[serde(default, rename = "in", skip_serializing_if = "Option::is_none")]
    pub within: Option<u64>,
    /// True time in nanoseconds.
    pub time_ns: u64,
    /// What it is.
    pub kind: RecordKind,
    /// The node it happened at.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub node: Option<u32>,
    /// The other node involved (a message's sender on `deliver`, its receiver on `send`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub peer: Option<u32>,
    /// The message id: unique in the run, the same on its `send` and its `deliver` or `drop`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub msg: Option<u64>,
    /// On `duplicate`: the id of the message copied.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub copy_of: Option<u64>,
    /// The timer id, on `timer_set`, `timer` and `timer_cancel`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timer: Option<u64>,
    /// When a sent message will arrive or a timer is due (true time, ns).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub at_ns: Option<u64>,
    /// The client, on `invoke`, `request`, `reply` and a dropped request.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client: Option<u64>,
    /// Why a message was dropped: `loss`, `partition`, `partition in flight`, `node crashed`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// The annotation's name, on `annotate`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
    /// The annotation's new value, on `annotate` (`null` when the node crashed).
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "present"
    )]
    pub value: Option<serde_json::Value>,
    /// The content: the message, timer, request, reply, fault or token, as JSON through the
    /// type's `Serialize` implementation (`null` for a unit type).
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "present"
    )]
    pub payload: Option<serde_json::Value>,
}

impl TraceRecord {
    /// The event this record is or happened in.
    pub fn event_number(&self) -> u64 {
        self.event.or(self.within).unwrap_or(0)
    }

    /// Whether it is an event record (not an effect).
    pub fn is_event(&self) -> bool {
        self.event.is_some()
    }
}

/// A field that is present, even as `null`, is `Some` (serde's `Option` would read `null` as
/// absent).
fn present<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<serde_json::Value>, D::Error> {
    serde_json::Value::deserialize(d).map(Some)
}

/// A value a node publishes about itself: a number, a flag or a short text.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum Value {
    /// A number (term, index, epoch, node id).
    Int(i64),
    /// A flag.
    Bool(bool),
    /// A name (a role).
    Text(Cow<'static, str>),
}

macro_rules! value_from_int {
    ($($t:ty),*) => {$(
        impl From<$t> for Value {
            fn from(v: $t) -> Value {
                Value::Int(i64::try_from(v).unwrap_or(i64::MAX))
            }
        }
    )*};
}
value_from_int!(u8, u16, u32, u64, usize, i32, i64);

impl From<bool> for Value {
    fn from(v: bool) -> Value {
        Value::Bool(v)
    }
}

impl From<&'static str> for Value {
    fn from(v: &'static str) -> Value {
        Value::Text(Cow::Borrowed(v))
    }
}

impl From<String> for Value {
    fn from(v: String) -> Value {
        Value::Text(Cow::Owned(v))
    }
}

impl From<crate::NodeId> for Value {
    fn from(v: crate::NodeId) -> Value {
        Value::Int(i64::from(v.0))
    }
}

/// What a node publishes about itself ([`crate::Protocol::annotate`]): named values the trace
/// records whenever they change, such as Raft's role, term and commit index. Viewers draw them
/// as counter tracks; the leader chart reads `role`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Annotations {
    pub(crate) items: Vec<(&'static str, Value)>,
}

impl Annotations {
    /// Publishes `key = value` (a later `set` of the same key in one call wins).
    pub fn set(&mut self, key: &'static str, value: impl Into<Value>) {
        let value = value.into();
        match self.items.iter_mut().find(|(k, _)| *k == key) {
            Some(slot) => slot.1 = value,
            None => self.items.push((key, value)),
        }
    }

    /// Publishes `key` only when `value` is `Some`; `None` publishes nothing (the key is
    /// recorded as `null` if it was set before).
    pub fn set_opt<V: Into<Value>>(&mut self, key: &'static str, value: Option<V>) {
        if let Some(v) = value {
            self.set(key, v);
        }
    }

    /// The published values, in the order they were set.
    pub fn iter(&self) -> impl Iterator<Item = (&'static str, &Value)> {
        self.items.iter().map(|(k, v)| (*k, v))
    }

    /// The value of `key`, if published.
    pub fn get(&self, key: &str) -> Option<&Value> {
        self.items.iter().find(|(k, _)| *k == key).map(|(_, v)| v)
    }
}

/// The header line of a trace file: what produced it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TraceHeader {
    /// Always `faultline-trace`.
    pub schema: String,
    /// [`SCHEMA_VERSION`] when written.
    pub version: u32,
    /// The scenario's name.
    pub scenario: String,
    /// The protocol family.
    pub protocol: String,
    /// The number of nodes (ids `0..nodes`).
    pub nodes: u32,
    /// The root seed.
    pub seed: u64,
    /// The run's trace hash, 16 hex digits.
    pub trace_hash: String,
    /// How many event records follow (the verdict's event count).
    pub events: u64,
    /// The verdict, as the run printed it.
    pub verdict: String,
    /// The violation that stopped the run, if one did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub violation: Option<TraceViolation>,
}

/// The violation a trace ends with.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TraceViolation {
    /// The invariant's name.
    pub invariant: String,
    /// The event it was found at.
    pub event: u64,
    /// Which nodes, which values.
    pub message: String,
}

/// The `schema` field every trace header carries.
pub const SCHEMA_NAME: &str = "faultline-trace";
