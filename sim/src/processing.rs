//! Slow nodes: how long a node takes to handle an event.
//!
//! Without a processing model (the default) a node handles every event the instant it
//! arrives, and the engine keeps no state for it: runs are exactly as they were before the
//! model existed, down to the trace hash. With one ([`ProcessingConfig`], or a `Slow` fault),
//! each event a node handles — a message delivery, a timer, a client request, a completed
//! sync — occupies it for a *cost* drawn from its processing-time distribution (the
//! [`crate::rng::Purpose::Processing`] stream), times the factor of a `Slow` fault in force
//! when its handling starts:
//!
//! - An event that reaches a free node at `t` with cost `c` is handled at `t + c`: its
//!   handler runs then, reads the node's clock then, and what it sends leaves then (the work
//!   takes the time, and its effects appear when it is done). A cost of zero handles it at once.
//! - An event that reaches a busy node waits behind the ones before it, in arrival order
//!   (FIFO), and its handling starts when the node is free. `node.queue_delay_ms` records how
//!   long each event waited before its handling started; `node.busy_us` the total time nodes
//!   spent handling events; `node.queued` the events that had to wait.
//! - A timer cancelled while it waits is discarded without occupying the node.
//! - A crash discards the events waiting at the node (like the events held for a paused node)
//!   and the one being handled: a completed sync whose notification was waiting is lost with
//!   the node's other pending syncs.
//! - A pause moves the events waiting at the node, the one being handled first, to the events
//!   held while paused; a resume releases them in that order, and the interrupted one starts
//!   over with a new draw.
//! - Node starts and restarts take no time.
//! - With [`TimerMode::OnTime`], timers and completed syncs skip the queue and take no time:
//!   only messages and client requests are slow (a saturated receive path).
//!
//! A `Slow { factor, per_event, duration }` fault multiplies the cost of every event whose
//! handling starts while it is in force; a node with no processing time of its own draws its
//! base cost from the fault's `per_event` instead (no `per_event` and no processing time: the
//! fault changes nothing). A later `Slow` fault on a node replaces the one in force.

use crate::latency::Latency;
use std::collections::BTreeMap;

/// Whether timers wait for a busy node like messages do.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum TimerMode {
    /// Timers (and completed syncs) queue behind a busy node and take time like any event:
    /// one thread does everything (an event loop).
    #[default]
    Queued,
    /// Timers (and completed syncs) fire on time and take no time; only messages and client
    /// requests queue and cost: the receive path is what is slow (a starved packet handler
    /// while timer goroutines still run, the case Lifeguard was built for).
    OnTime,
}

/// Every node's processing time, and per-node overrides. The default (no time, no overrides)
/// turns the model off.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ProcessingConfig {
    /// Every node's processing time per event; `None` is zero.
    pub time: Option<Latency>,
    /// Per-node processing times, replacing `time` for those nodes.
    pub nodes: BTreeMap<u32, Latency>,
    /// Whether timers queue too.
    pub timers: TimerMode,
}

impl ProcessingConfig {
    /// Whether the model is off (no node has a processing time, and timers queue as they
    /// would: a `Slow` fault turns it on with these settings).
    pub fn is_off(&self) -> bool {
        self.time.is_none() && self.nodes.is_empty() && self.timers == TimerMode::Queued
    }

    /// Node `i`'s processing time, if it has one.
    pub fn time(&self, node: u32) -> Option<&Latency> {
        self.nodes.get(&node).or(self.time.as_ref())
    }
}
