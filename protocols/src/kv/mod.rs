//! The replicated key-value service shared by Raft and primary/backup failover: its requests
//! and replies, a sequential state machine with client sessions, and the client workload.
//!
//! ```text
//!   KvWorkload ──KvRequest{client, seq, key, op}──► node ──► KvStore::apply (via the log)
//!        ▲                                                        │
//!        └──────────── KvReply{seq, result} ◄─────────────────────┘
//! ```
//!
//! Operations and their returns ([`Op`], [`Ret`]) are the linearizability checker's own: the
//! workload records its history straight into a [`crate::linearizability::History`].
//!
//! A client session (client id + sequence number) makes retries exactly-once: a store that
//! has already applied `(client, seq)` answers from the session instead of applying it again
//! (Raft thesis §6.3, "Implementing linearizable semantics").

pub mod machine;
pub mod workload;

pub use crate::linearizability::{Op, Ret};
pub use machine::{Applied, KvStore};
pub use workload::{KvWorkload, KvWorkloadConfig, draw_op, ops_complete_within};

use serde::{Deserialize, Serialize};
use sim::{ClientId, NodeId};

/// A client request: `(client, seq)` names it uniquely, and a retry re-sends the same pair.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct KvRequest {
    /// The client session.
    pub client: ClientId,
    /// The client's sequence number for this operation (1, 2, ...; retries keep it).
    pub seq: u64,
    /// The operation.
    pub op: Op,
    /// The key.
    pub key: u64,
}

/// A reply to a client, naming the request it answers so that late replies to an earlier
/// attempt can be told apart.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct KvReply {
    /// The sequence number of the request answered.
    pub seq: u64,
    /// What happened.
    pub result: KvResult,
}

/// The outcome of a request at one node.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum KvResult {
    /// Applied (or, for a read, served linearizably) with this return value.
    Ok(Ret),
    /// This node does not lead; try `hint` if known. The request was not accepted here.
    NotLeader { hint: Option<NodeId> },
    /// Definitely not applied, and never will be (for example the session moved past `seq`).
    Fail,
}
