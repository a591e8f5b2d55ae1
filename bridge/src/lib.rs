//! # faultline-bridge — the same protocol code on madsim and on a real network
//!
//! A protocol proven in faultline's engine leaves the testbed through this crate, unchanged:
//! every node runs as an async task ([`node::run_node`]) that drives the node's
//! [`sim::Protocol`] state machine through the engine's own `Context` contract
//! ([`sim::Host`]), sends its messages over `madsim::net::Endpoint` (serde + postcard,
//! [`wire`]), sets its timers on `madsim::time`, and keeps its durable state across a restart
//! ([`cluster`]).
//!
//! The crate builds two ways, as madsim does:
//! - **`RUSTFLAGS="--cfg madsim"`**: madsim's deterministic simulator. [`madsim_run`] runs a
//!   scenario file's network and faults that madsim can express (uniform latency, loss,
//!   partitions and cut links as clogged links, crash = kill, restart, pause) with the
//!   scenario's clients, judged by the family's own monitors and the linearizability checker;
//!   anything else is refused with the reason. `bridge-bench` compares it with faultline's
//!   engine on the same protocol code.
//! - **normally**: madsim's std mode, where an `Endpoint` is real TCP on tokio. The
//!   `faultline-node` binary serves one Raft KV node on a real port ([`real`]), with its
//!   durable state in a file.
//!
//! Build the madsim flavour in its own target directory so the normal build is not redone:
//! `RUSTFLAGS="--cfg madsim" CARGO_TARGET_DIR=target/madsim cargo test -p faultline-bridge`.

#[cfg(madsim)]
pub mod bench;
pub mod client;
pub mod cluster;
#[cfg(madsim)]
pub mod elections;
#[cfg(madsim)]
pub mod madsim_run;
pub mod net;
pub mod node;
#[cfg(not(madsim))]
pub mod real;
pub mod wire;

use serde::Serialize;
use serde::de::DeserializeOwned;

/// A protocol the bridge can carry: its messages, requests and replies cross a real wire,
/// and its durable state is written to a file, so they (de)serialize. Every
/// [`sim::Protocol`] whose types derive `Serialize` and `Deserialize` is one.
pub trait Bridged:
    sim::Protocol<
        Message: DeserializeOwned,
        Request: DeserializeOwned,
        Reply: DeserializeOwned,
        Durable: Serialize + DeserializeOwned,
    >
{
}

impl<P> Bridged for P where
    P: sim::Protocol<
            Message: DeserializeOwned,
            Request: DeserializeOwned,
            Reply: DeserializeOwned,
            Durable: Serialize + DeserializeOwned,
        >
{
}
