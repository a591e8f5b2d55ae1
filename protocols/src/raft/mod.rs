//! Raft (Ongaro & Ousterhout 2014; Ongaro's thesis) with a replicated KV store, its safety
//! and liveness checkers, metrics and known-bug variants.
//!
//! ```text
//!  KvWorkload ──KvRequest──► Raft leader ──AppendEntries──► followers
//!      ▲                        │  apply (KvStore)              │
//!      └────KvReply─────────────┘ ◄──AppendEntriesResponse──────┘
//!  RaftMonitor reads every server after every event (Figure 3 properties).
//! ```
//!
//! Files: [`config`] (scenario config, known bugs), [`log`] (the log and its prefix digests),
//! [`node`] (state, term rules, elections), [`replication`] (AppendEntries, commit, apply,
//! reads), [`snapshot`] (compaction, InstallSnapshot), [`monitor`] (invariants and election
//! metrics).
//!
//! Not implemented yet: membership changes, leadership transfer, chunked snapshots.

pub mod config;
pub mod log;
pub mod monitor;
pub mod node;
pub mod replication;
pub mod snapshot;

pub use config::{RaftBug, RaftConfig, ReadMode};
pub use monitor::RaftMonitor;
pub use node::{Message, Raft, RaftDurable, Role, Snapshot, Timer};

use crate::checks::{Check, Invariant};
use crate::family::{Built, InvariantInfo, Setup, ensure_offered};
use crate::kv::{KvWorkload, KvWorkloadConfig};

/// The workload config Raft scenarios use (`workload: Kv((...))`).
pub type RaftWorkloadConfig = KvWorkloadConfig;

/// The invariants Raft offers, one line each.
pub fn invariants() -> Vec<InvariantInfo> {
    use Invariant::*;
    let info = |invariant, about| InvariantInfo { invariant, about };
    vec![
        info(ElectionSafety, "at most one leader per term (paper Fig. 3)"),
        info(
            LeaderAppendOnly,
            "a leader never overwrites or deletes its entries",
        ),
        info(
            LogMatching,
            "same index and term => identical prefixes (checked by prefix digests)",
        ),
        info(
            LeaderCompleteness,
            "a committed entry is in every later-term leader's log",
        ),
        info(
            StateMachineSafety,
            "no two servers apply different entries at one index",
        ),
        info(
            MonotonicTerm,
            "a server's current term never decreases, across restarts too",
        ),
        info(
            MonotonicCommit,
            "a server's commit index never decreases while it is up",
        ),
        info(
            LeaderWithin,
            "within T after the last fault, a leader is followed by a majority in its term",
        ),
        info(
            Linearizable,
            "the KV client history is linearizable (checked at the end; out of budget fails)",
        ),
        info(
            OpsCompleteWithin,
            "every op completes within T of max(invocation, last fault)",
        ),
    ]
}

/// Builds a Raft run: validates the config, checks the asked-for invariants are offered,
/// and returns the protocol config, the KV clients and the monitor.
pub fn build(
    setup: &Setup,
    config: &RaftConfig,
    workload: &KvWorkloadConfig,
    checks: &[Check],
) -> Result<Built<Raft>, String> {
    let offered: Vec<Invariant> = invariants().iter().map(|i| i.invariant).collect();
    ensure_offered("raft", &offered, checks)?;
    config.validate()?;
    let monitors: Vec<Box<dyn sim::Monitor<Raft>>> = vec![Box::new(RaftMonitor::new(
        setup.nodes,
        checks,
        setup.quiet_from,
    ))];
    Ok(Built {
        config: config.clone(),
        workload: Box::new(KvWorkload::new(workload.clone(), checks, setup.quiet_from)),
        monitors,
    })
}
