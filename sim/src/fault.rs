//! Faults the engine can inject, and the targets they are aimed at.
//!
//! Targets are resolved at the moment the fault fires, so `Crash(Leader)` hits whoever leads
//! then. Random choices draw from the run's fault stream.

use crate::NodeId;
use crate::latency::Latency;
use std::time::Duration;

/// Which nodes a fault is aimed at, resolved when the fault fires.
#[derive(Clone, Debug, PartialEq)]
pub enum Target {
    /// One node by id.
    Node(NodeId),
    /// Several nodes by id.
    Nodes(Vec<NodeId>),
    /// The live node claiming leadership with the highest term (none if no node leads).
    Leader,
    /// One live node that does not claim leadership, chosen at random.
    Follower,
    /// One live node chosen at random.
    Random,
    /// Every node.
    All,
    /// Every crashed node (for `Restart`).
    Crashed,
    /// Every paused node (for `Resume`).
    Paused,
}

/// One fault.
#[derive(Clone, Debug, PartialEq)]
pub enum Fault {
    /// Crash: volatile state, pending timers and messages in flight to the node are lost.
    Crash(Target),
    /// Restart crashed nodes from their durable state.
    Restart(Target),
    /// Freeze nodes (a GC stall): nothing runs, messages queue, the clock keeps going.
    Pause(Target),
    /// Unfreeze paused nodes: overdue timers and queued messages are handled at once.
    Resume(Target),
    /// Cut the network into groups; nodes in no group form one more group.
    Partition(Vec<Vec<Target>>),
    /// Cut one node (or set) off from everyone else, both ways.
    Isolate(Target),
    /// Drop messages from `from` to `to` (one direction only).
    OneWay { from: Target, to: Target },
    /// Cut the link between two nodes, both ways.
    CutLink(NodeId, NodeId),
    /// Remove every cut in force.
    Heal,
    /// Add an extra latency draw to every message from or to the target for a while.
    DelaySpike {
        target: Target,
        extra: Latency,
        duration: Duration,
    },
    /// Move the target's clock reading by a signed number of nanoseconds.
    ClockJump { target: Target, delta_ns: i64 },
    /// Set the target's clock drift, in parts per million.
    SetDrift { target: Target, drift_ppm: i64 },
}

impl Fault {
    /// A short name for traces and summaries.
    pub fn kind(&self) -> &'static str {
        match self {
            Fault::Crash(_) => "crash",
            Fault::Restart(_) => "restart",
            Fault::Pause(_) => "pause",
            Fault::Resume(_) => "resume",
            Fault::Partition(_) => "partition",
            Fault::Isolate(_) => "isolate",
            Fault::OneWay { .. } => "one-way",
            Fault::CutLink(..) => "cut-link",
            Fault::Heal => "heal",
            Fault::DelaySpike { .. } => "delay-spike",
            Fault::ClockJump { .. } => "clock-jump",
            Fault::SetDrift { .. } => "set-drift",
        }
    }
}
