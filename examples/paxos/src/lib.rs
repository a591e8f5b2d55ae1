//! Multi-decree Paxos (Multi-Paxos) with a replicated KV store, written against faultline's
//! public API only, as an outside user would: the worked example of
//! `docs/writing-a-protocol.md`.
//!
//! ```text
//!  KvWorkload ──KvRequest──► leader ──Accept──► acceptors (every node)
//!      ▲                       │  ◄──Accepted──┘
//!      │                       ├──Decide──► learners (every node) ──► KvStore, in slot order
//!      └──────KvReply──────────┘ (after applying)
//!  PaxosMonitor recomputes "chosen" from the acceptors' durable state after every write.
//! ```
//!
//! References: Lamport, "Paxos Made Simple" (2001), §2 (single decree) and §3 (the state
//! machine); van Renesse & Altinbuken, "Paxos Made Moderately Complex" (2015).
//!
//! Files, one concept each: [`messages`] (ballots, values, messages), [`config`] (the scenario
//! section, known bugs), [`node`] (state, `Protocol`, leader election), [`acceptor`] (phase
//! 1b/2b), [`proposer`] (phase 1a/2a, adoption), [`learner`] (decisions, apply, catch-up),
//! [`monitor`] (the invariants), [`family`] (the faultline plug-in).

pub mod acceptor;
pub mod config;
pub mod family;
pub mod learner;
pub mod messages;
pub mod monitor;
pub mod node;
pub mod proposer;

pub use config::{PaxosBug, PaxosConfig};
pub use family::PaxosFamily;
pub use messages::{Ballot, Message, Timer, Value};
pub use monitor::{AGREEMENT, APPLIED_AGREEMENT, PaxosMonitor};
pub use node::{Paxos, PaxosDurable, Role};
