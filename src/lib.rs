//! # faultline — deterministic simulation testing for distributed protocols
//!
//! faultline runs a protocol's nodes in a single-threaded discrete-event simulator with a
//! virtual network and virtual clocks, injects partitions, delays, crashes, pauses and clock
//! faults from replayable scenario files (RON), checks the invariants the protocol must hold,
//! and turns runs into numbers and plots. Same scenario + same seed ⇒ same trace hash.
//!
//! It ships three protocol families (Raft, gossip, failover), and any protocol written in
//! another crate plugs in the same way they do:
//!
//! 1. write the node as a [`Protocol`]: a sans-IO state machine that acts only through its
//!    [`Context`] (send, timers, durable storage, replies);
//! 2. describe the family with [`Family`]: its name, its configuration type, the workload it
//!    accepts, the invariants it offers (monitors that watch every event) and `build`;
//! 3. give it the command line — `faultline::Cli::new().family(MyFamily).run()` in `main` —
//!    and `run`, `check`, `list`, `fuzz`, `shrink` and `sweep` work on
//!    `protocol: MyFamily((...))` files, with file:line:column errors for its fields;
//! 4. test it from `cargo test` with [`testing`]: scenario campaigns over many seeds with
//!    replayable failure files, and a one-node harness for unit and golden tests.
//!
//! `docs/writing-a-protocol.md` walks through a whole protocol (multi-decree Paxos, in
//! `examples/paxos`), and `docs/architecture.md` explains the layers.
//!
//! Modules: [`scenario`] reads and validates scenario files; [`runner`] runs one and judges the
//! result; [`fuzz`] runs campaigns and shrinks failures; [`sweep`] runs parameter grids and
//! draws charts; [`report`] writes the HTML run and campaign reports; [`cli`] is the command
//! line; [`testing`] is the `cargo test` integration.
//! The engine is re-exported as [`sim`], the shared protocol pieces as [`family`], [`checks`],
//! [`kv`], [`linearizability`] and [`units`], and the built-in families in [`builtin`].

pub mod bench;
pub mod cli;
pub mod fuzz;
pub mod io;
pub mod output;
pub mod report;
pub mod runner;
pub mod scenario;
pub mod sweep;
pub mod testing;
pub mod trace;

pub use cli::Cli;
pub use protocols::{checks, family, kv, limits, linearizability, units};
pub use sim;

pub use protocols::checks::{Check, Checks, Expect, Invariant, InvariantInfo};
pub use protocols::family::{
    Built, Family, MetricInfo, NoClients, Registry, Settings, Setup, WorkloadConfig,
};
pub use sim::{Action, Annotations, ClientId, Context, NodeId, Protocol, Time, TimerId};

/// The families shipped with faultline, and their registry.
pub mod builtin {
    pub use protocols::builtin as registry;
    pub use protocols::{failover, gossip, raft};
}

/// Everything a protocol crate usually needs: `use faultline::prelude::*;`.
pub mod prelude {
    pub use crate::Cli;
    pub use protocols::checks::{Check, Checks, Expect, Invariant, InvariantInfo};
    pub use protocols::family::{
        Built, Family, MetricInfo, NoClients, Registry, Settings, Setup, WorkloadConfig,
    };
    pub use protocols::units::Dur;
    /// A monitor's answer after an event (`sim::Check`), named apart from the scenario's
    /// [`Check`].
    pub use sim::Check as MonitorCheck;
    pub use sim::{
        Action, Annotations, ClientId, Context, EventInfo, EventKind, Metrics, Monitor, NodeId,
        NodeStatus, Protocol, Time, TimerId, View, Violation, Workload, WorkloadCtx,
    };
}

/// This build: `faultline <version> (<git commit>[, dirty])`, recorded in failure files and
/// JSON reports.
pub const BUILD: &str = env!("FAULTLINE_BUILD");
