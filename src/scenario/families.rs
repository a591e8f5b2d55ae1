//! The protocol families a scenario can name: the only place that lists them.
//!
//! Adding a family means one variant in [`ProtocolSpec`] (and a workload variant if it brings
//! its own clients), and one arm in each method below.

use super::Prepared;
use crate::runner::run_built;
use protocols::checks::{Check, Invariant};
use protocols::family::{InvariantInfo, Setup};
use protocols::kv::KvWorkloadConfig;
use protocols::{failover, gossip, raft};
use serde::{Deserialize, Serialize};
use sim::RunReport;

/// `protocol:` — the family and its configuration.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub enum ProtocolSpec {
    /// Raft with a replicated key-value store.
    Raft(raft::RaftConfig),
    /// Gossip: anti-entropy or rumor mongering, push / pull / push-pull.
    Gossip(gossip::GossipConfig),
    /// Primary/backup failover: naive, epoch + fencing, lease, quorum.
    Failover(failover::FailoverConfig),
}

/// `workload:` — the clients.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub enum WorkloadSpec {
    /// The family's default clients (what an omitted `workload` means).
    #[default]
    Default,
    /// No clients at all.
    Idle,
    /// Key-value clients (Raft, failover): put / get / cas with sessions and retries.
    Kv(KvWorkloadConfig),
    /// Gossip updates injected at nodes.
    Updates(gossip::WorkloadConfig),
}

/// Runs a family's `build` on the workload it takes: the family default for `Default`, an
/// idle one for `Idle`.
macro_rules! build_with {
    ($family:ident, $setup:expr, $cfg:expr, $workload:expr, $checks:expr, $variant:ident, $idle:expr) => {{
        let w = match $workload {
            WorkloadSpec::$variant(w) => w.clone(),
            WorkloadSpec::Idle => $idle,
            _ => Default::default(),
        };
        $family::build($setup, $cfg, &w, $checks)
    }};
}

fn idle_kv() -> KvWorkloadConfig {
    KvWorkloadConfig {
        clients: 0,
        ..Default::default()
    }
}

fn idle_updates() -> gossip::WorkloadConfig {
    gossip::WorkloadConfig {
        updates: vec![],
        rate: 0.0,
        ..Default::default()
    }
}

impl ProtocolSpec {
    /// The family's name as scenarios spell it.
    pub fn family(&self) -> &'static str {
        match self {
            ProtocolSpec::Raft(_) => "Raft",
            ProtocolSpec::Gossip(_) => "Gossip",
            ProtocolSpec::Failover(_) => "Failover",
        }
    }

    /// Every family with its default configuration, for `faultline list`.
    pub fn all_defaults() -> Vec<ProtocolSpec> {
        vec![
            ProtocolSpec::Raft(Default::default()),
            ProtocolSpec::Gossip(Default::default()),
            ProtocolSpec::Failover(Default::default()),
        ]
    }

    /// What the family checks, with a line each.
    pub fn invariants(&self) -> Vec<InvariantInfo> {
        match self {
            ProtocolSpec::Raft(_) => raft::invariants(),
            ProtocolSpec::Gossip(_) => gossip::invariants(),
            ProtocolSpec::Failover(_) => failover::invariants(),
        }
    }

    /// The invariants the family offers.
    pub fn offered(&self) -> Vec<Invariant> {
        self.invariants().iter().map(|i| i.invariant).collect()
    }

    /// The checks used when a scenario lists none: every offered invariant without a deadline.
    pub fn default_checks(&self) -> Vec<Check> {
        self.offered()
            .into_iter()
            .filter_map(Invariant::parameterless)
            .collect()
    }

    /// Checks that the workload suits the family, and everything the family's `build`
    /// checks (its config, its workload, the cluster size), before anything runs.
    pub fn validate(
        &self,
        setup: &Setup,
        workload: &WorkloadSpec,
        checks: &[Check],
    ) -> Result<(), String> {
        let ok = matches!(
            (self, workload),
            (_, WorkloadSpec::Default | WorkloadSpec::Idle)
                | (
                    ProtocolSpec::Raft(_) | ProtocolSpec::Failover(_),
                    WorkloadSpec::Kv(_)
                )
                | (ProtocolSpec::Gossip(_), WorkloadSpec::Updates(_))
        );
        if !ok {
            let want = match self {
                ProtocolSpec::Gossip(_) => "Updates(...)",
                _ => "Kv(...)",
            };
            return Err(format!(
                "the {} protocol takes a workload of {want} (or Idle, or none for its default)",
                self.family()
            ));
        }
        match self {
            ProtocolSpec::Raft(cfg) => {
                build_with!(raft, setup, cfg, workload, checks, Kv, idle_kv()).map(drop)
            }
            ProtocolSpec::Gossip(cfg) => build_with!(
                gossip,
                setup,
                cfg,
                workload,
                checks,
                Updates,
                idle_updates()
            )
            .map(drop),
            ProtocolSpec::Failover(cfg) => {
                build_with!(failover, setup, cfg, workload, checks, Kv, idle_kv()).map(drop)
            }
        }
    }

    /// Builds and runs the family on a prepared scenario.
    pub fn run(&self, prep: Prepared, workload: &WorkloadSpec, checks: &[Check]) -> RunReport {
        // Validation (`scenario::parse`) ran the same `build`, so a refusal here is a bug.
        let refuse =
            |e: String| -> ! { panic!("a validated scenario was refused by its family: {e}") };
        let setup = prep.setup.clone();
        match self {
            ProtocolSpec::Raft(cfg) => {
                let built = build_with!(raft, &setup, cfg, workload, checks, Kv, idle_kv())
                    .unwrap_or_else(|e| refuse(e));
                run_built(prep, built)
            }
            ProtocolSpec::Gossip(cfg) => {
                let built = build_with!(
                    gossip,
                    &setup,
                    cfg,
                    workload,
                    checks,
                    Updates,
                    idle_updates()
                )
                .unwrap_or_else(|e| refuse(e));
                run_built(prep, built)
            }
            ProtocolSpec::Failover(cfg) => {
                let built = build_with!(failover, &setup, cfg, workload, checks, Kv, idle_kv())
                    .unwrap_or_else(|e| refuse(e));
                run_built(prep, built)
            }
        }
    }
}
