//! # sim — faultline's deterministic discrete-event simulation engine
//!
//! One thread, one event queue, one virtual clock: a run is a pure function of its
//! configuration and its seed. The engine knows nothing about any particular protocol; a
//! protocol implements [`Protocol`] (a sans-IO state machine) and acts only through its
//! [`Context`].
//!
//! ```
//! use sim::{Context, NodeId, Protocol, SimConfig, Simulation, Limits, Verdict};
//! use std::time::Duration;
//!
//! /// Every node pings its right-hand neighbour once a second and counts the pongs.
//! #[derive(Debug)]
//! struct Ping { pongs: u64 }
//!
//! impl Protocol for Ping {
//!     type Config = ();
//!     type Message = bool; // true = ping, false = pong
//!     type Timer = ();
//!     type Request = ();
//!     type Reply = ();
//!     type Durable = ();
//!     fn start(ctx: &mut Context<'_, Self>) -> Self {
//!         ctx.set_timer(Duration::from_secs(1), ());
//!         Ping { pongs: 0 }
//!     }
//!     fn on_message(&mut self, ctx: &mut Context<'_, Self>, from: NodeId, ping: bool) {
//!         if ping { ctx.send(from, false) } else { self.pongs += 1 }
//!     }
//!     fn on_timer(&mut self, ctx: &mut Context<'_, Self>, _: ()) {
//!         let next = NodeId((ctx.id().0 + 1) % ctx.node_count() as u32);
//!         ctx.send(next, true);
//!         ctx.set_timer(Duration::from_secs(1), ());
//!     }
//!     fn on_client_request(&mut self, _: &mut Context<'_, Self>, _: u64, _: ()) {}
//! }
//!
//! let cfg = SimConfig {
//!     nodes: 3,
//!     seed: 42,
//!     limits: Limits { duration: Some(Duration::from_millis(10_500)), ..Limits::default() },
//!     ..SimConfig::default()
//! };
//! let mut sim = Simulation::<Ping>::new(cfg, ());
//! let report = sim.run();
//! assert_eq!(report.verdict, Verdict::Completed);
//! assert_eq!(sim.view().node(NodeId(0)).unwrap().pongs, 10);
//! ```
//!
//! What the engine promises, and where:
//! - virtual time in integer nanoseconds ([`Time`]); no wall clock reaches behaviour;
//! - one queue ordered by `(time, sequence number)` (`engine/queue.rs`);
//! - independent seeded streams per purpose ([`rng`]);
//! - the network model: latency distributions, loss, duplication, reordering, stream and
//!   datagram links, partitions of any shape, delay spikes, zones and degraded links between
//!   them ([`network`], [`partition`], [`latency`]);
//! - node faults and clocks ([`fault`], [`clock`]);
//! - monitors that see every event, guards that end runs, caught panics ([`monitor`],
//!   [`Simulation::run`]);
//! - a trace hash for every run, and recorded traces on demand ([`trace`]).

pub mod bench;
pub mod clock;
mod engine;
pub mod fault;
pub mod harness;
pub mod host;
pub mod latency;
pub mod memory;
pub mod metrics;
pub mod monitor;
pub mod network;
pub mod partition;
pub mod prefetch;
pub mod processing;
pub mod protocol;
pub mod rng;
pub mod storage;
pub mod time;
pub mod trace;
pub mod units;
pub mod workload;

pub use clock::Clock;
pub use engine::{Limits, NodeStatus, Progress, RunReport, SimConfig, Simulation, Verdict};
pub use fault::{Fault, NodeNaming, Target};
pub use host::{Call, Host};
pub use latency::Latency;
pub use metrics::{Metrics, Summary};
pub use monitor::{Check, EventInfo, EventKind, Monitor, View, Violation};
pub use network::{LinkKind, LinkParams, NetConfig, ZoneInfo, Zones};
pub use processing::ProcessingConfig;
pub use protocol::{Action, ClientId, Context, Protocol, TimerId};
pub use storage::{Disk, StorageConfig, SyncId, Synced};
pub use time::Time;
pub use trace::{Annotations, RecordKind, TraceHeader, TraceRecord};
pub use workload::{NoWorkload, Workload, WorkloadCtx};

use std::fmt;

/// A node's id: its index in the cluster, `0..nodes`.
#[derive(
    Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, serde::Serialize, serde::Deserialize,
)]
#[serde(transparent)]
pub struct NodeId(pub u32);

impl NodeId {
    /// The id as a vector index.
    pub fn index(self) -> usize {
        self.0 as usize
    }
}

impl fmt::Display for NodeId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "n{}", self.0)
    }
}

impl fmt::Debug for NodeId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "n{}", self.0)
    }
}
