//! Checking hooks: monitors see every event and can read every node's state.
//!
//! A [`Monitor`] is called after every processed event with a read-only [`View`] of the
//! cluster. It answers [`Check::Ok`], [`Check::Done`] (the run has reached its goal and may
//! stop, e.g. a rumor reached everyone) or [`Check::Violated`]; a violation stops the run and
//! is reported with the invariant, the virtual time, the event number and its message.

use crate::engine::{Core, NodeStatus, Slot};
use crate::host::Host;
use crate::metrics::Metrics;
use crate::protocol::Protocol;
use crate::{NodeId, Time};
use std::fmt;

/// What a processed event was.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum EventKind {
    /// A message was delivered (`peer` is the sender).
    Deliver,
    /// A message was dropped (`peer` is the sender; see the trace summary for why).
    Drop,
    /// A node's timer fired.
    Timer,
    /// A client request reached a node.
    Request,
    /// A node's reply reached its client (`node` is the replying node).
    Reply,
    /// A workload timer fired.
    Workload,
    /// A fault was applied (`node` is set when it hit one node).
    Fault,
    /// A node started or restarted.
    Start,
    /// A periodic observation tick.
    Tick,
    /// A sync a node asked for completed (or failed) on its disk.
    Synced,
}

impl EventKind {
    /// The lower-case name used in traces.
    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::Deliver => "deliver",
            EventKind::Drop => "drop",
            EventKind::Timer => "timer",
            EventKind::Request => "request",
            EventKind::Reply => "reply",
            EventKind::Workload => "workload",
            EventKind::Fault => "fault",
            EventKind::Start => "start",
            EventKind::Tick => "tick",
            EventKind::Synced => "synced",
        }
    }
}

/// One processed event, as monitors see it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct EventInfo {
    /// The event number (1-based count of processed events).
    pub number: u64,
    /// True simulation time.
    pub time: Time,
    /// What happened.
    pub kind: EventKind,
    /// The node it happened at, if any.
    pub node: Option<NodeId>,
    /// The other node involved (a message's sender), if any.
    pub peer: Option<NodeId>,
}

/// An invariant that failed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Violation {
    /// The invariant's name, as scenarios spell it (e.g. `ElectionSafety`).
    pub invariant: String,
    /// A readable explanation: which nodes, which values.
    pub message: String,
    /// When it was detected (filled by the engine).
    pub time: Time,
    /// The event number at detection (filled by the engine; 0 when found after the run).
    pub event: u64,
}

impl Violation {
    /// A violation of `invariant`; the engine stamps the time and event number.
    pub fn new(invariant: impl Into<String>, message: impl Into<String>) -> Violation {
        Violation {
            invariant: invariant.into(),
            message: message.into(),
            time: Time::ZERO,
            event: 0,
        }
    }
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} violated at {} (event {}): {}",
            self.invariant, self.time, self.event, self.message
        )
    }
}

/// A monitor's answer after an event.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Check {
    /// Nothing wrong.
    Ok,
    /// The run reached its goal; stop with a completed verdict.
    Done,
    /// An invariant failed; stop and report.
    Violated(Violation),
    /// An end-of-run check could not decide within its budget (of steps, memory or wall
    /// time): the invariant is neither shown to hold nor shown to fail. The message says
    /// which budget ran out.
    Unknown(Violation),
}

/// A read-only view of the cluster for monitors and end-of-run checks: of a run's nodes, or
/// of nodes hosted by another runtime ([`View::of_hosts`]).
pub struct View<'a, P: Protocol> {
    src: Source<'a, P>,
    cfg: &'a P::Config,
}

/// Where a view's nodes live.
enum Source<'a, P: Protocol> {
    /// A run of the engine.
    Engine {
        core: &'a Core<P>,
        slots: &'a [Slot<P>],
    },
    /// Nodes hosted outside the engine.
    Hosts {
        hosts: &'a [Host<P>],
        now: Time,
        metrics: &'a Metrics,
    },
}

impl<'a, P: Protocol> View<'a, P> {
    /// The view of a run.
    pub(crate) fn engine(core: &'a Core<P>, slots: &'a [Slot<P>], cfg: &'a P::Config) -> Self {
        View {
            src: Source::Engine { core, slots },
            cfg,
        }
    }

    /// The view of hosted nodes (see [`View::of_hosts`]).
    pub(crate) fn hosted(
        hosts: &'a [Host<P>],
        cfg: &'a P::Config,
        now: Time,
        metrics: &'a Metrics,
    ) -> Self {
        View {
            src: Source::Hosts {
                hosts,
                now,
                metrics,
            },
            cfg,
        }
    }
}

impl<P: Protocol> View<'_, P> {
    /// True simulation time.
    pub fn now(&self) -> Time {
        match &self.src {
            Source::Engine { core, .. } => core.now,
            Source::Hosts { now, .. } => *now,
        }
    }

    /// The number of nodes.
    pub fn node_count(&self) -> usize {
        match &self.src {
            Source::Engine { slots, .. } => slots.len(),
            Source::Hosts { hosts, .. } => hosts.len(),
        }
    }

    /// A node's state, or `None` if it is crashed.
    #[inline]
    pub fn node(&self, id: NodeId) -> Option<&P> {
        match &self.src {
            Source::Engine { slots, .. } => slots[id.index()].state.as_ref(),
            Source::Hosts { hosts, .. } => hosts[id.index()].node(),
        }
    }

    /// A node's durable storage (present even while it is crashed).
    pub fn durable(&self, id: NodeId) -> &P::Durable {
        match &self.src {
            Source::Engine { slots, .. } => &slots[id.index()].durable,
            Source::Hosts { hosts, .. } => hosts[id.index()].durable(),
        }
    }

    /// A node's disk (present even while it is crashed; `None` if it never wrote to one).
    /// Reads see what the node would read; [`crate::Disk::durable_len`] says what a crash
    /// would keep of its log.
    pub fn disk(&self, id: NodeId) -> Option<&crate::storage::Disk> {
        match &self.src {
            Source::Engine { slots, .. } => slots[id.index()].disk.as_deref(),
            Source::Hosts { hosts, .. } => hosts[id.index()].disk(),
        }
    }

    /// Whether a node is up, crashed or paused.
    pub fn status(&self, id: NodeId) -> NodeStatus {
        match &self.src {
            Source::Engine { core, .. } => core.meta[id.index()].status,
            Source::Hosts { hosts, .. } if hosts[id.index()].is_up() => NodeStatus::Up,
            Source::Hosts { .. } => NodeStatus::Crashed,
        }
    }

    /// When the latest `Slow` fault on a node ends (or ended), if it ever had one (hosted
    /// nodes: never). The node is slowed now if this is later than [`Self::now`].
    pub fn slowed_until(&self, id: NodeId) -> Option<Time> {
        match &self.src {
            Source::Engine { core, .. } => core.processing.as_deref()?.slowed_until(id),
            Source::Hosts { .. } => None,
        }
    }

    /// A node's local clock reading now.
    pub fn local_time(&self, id: NodeId) -> Time {
        match &self.src {
            Source::Engine { core, .. } => core.meta[id.index()].clock.local(core.now),
            Source::Hosts { hosts, now, .. } => hosts[id.index()].clock().local(*now),
        }
    }

    /// The protocol configuration.
    pub fn config(&self) -> &P::Config {
        self.cfg
    }

    /// When the run's wall-time guard (`Limits::max_wall`) expires, if it has one. End-of-run
    /// checks that search (a linearizability check) stop here and answer [`Check::Unknown`].
    pub fn wall_deadline(&self) -> Option<std::time::Instant> {
        match &self.src {
            Source::Engine { core, .. } => core.wall_deadline,
            Source::Hosts { .. } => None,
        }
    }

    /// Metrics recorded so far.
    pub fn metrics(&self) -> &Metrics {
        match &self.src {
            Source::Engine { core, .. } => &core.metrics,
            Source::Hosts { metrics, .. } => metrics,
        }
    }

    /// Whether any partition is in force right now (hosted nodes: never known).
    pub fn partitioned(&self) -> bool {
        match &self.src {
            Source::Engine { core, .. } => core.net.partitions.any_active(),
            Source::Hosts { .. } => false,
        }
    }

    /// Iterates over `(id, state)` of every live node.
    pub fn live_nodes(&self) -> impl Iterator<Item = (NodeId, &P)> {
        (0..self.node_count() as u32).filter_map(|i| self.node(NodeId(i)).map(|p| (NodeId(i), p)))
    }
}

/// A checker or observer attached to a run.
pub trait Monitor<P: Protocol> {
    /// The monitor's name, for reports.
    fn name(&self) -> &str;

    /// Called after every processed event.
    fn on_event(&mut self, view: &View<'_, P>, event: &EventInfo) -> Check;

    /// Called on each observation tick, if the run has a tick period.
    fn on_tick(&mut self, _view: &View<'_, P>) -> Check {
        Check::Ok
    }

    /// Called once when the run ends without a violation (end-of-run and liveness checks).
    fn finish(&mut self, _view: &View<'_, P>) -> Check {
        Check::Ok
    }

    /// Adds this monitor's measurements to the run's metrics.
    fn report(&self, _metrics: &mut Metrics) {}

    /// A hint that an event at `node` comes a few events from now: a monitor that keeps
    /// per-node records may prefetch `node`'s ([`crate::prefetch::prefetch`]) so that reading
    /// it then does not wait for memory. It must not change anything the monitor decides.
    fn prefetch(&self, _node: NodeId) {}
}
