//! The plug-in glue: what faultline needs to run `protocol: Paxos((...))` scenarios — the
//! name, the configuration and workload types, the invariants offered, validation, and
//! `build` (the config, the shared KV clients, the monitor).

use crate::config::PaxosConfig;
use crate::monitor::{AGREEMENT, APPLIED_AGREEMENT, PaxosMonitor};
use crate::node::Paxos;
use faultline::kv::{KvWorkload, KvWorkloadConfig};
use faultline::prelude::*;

/// The Paxos family: `protocol: Paxos((...))` in a scenario, with the KV workload.
#[derive(Clone, Copy, Debug, Default)]
pub struct PaxosFamily;

impl Family for PaxosFamily {
    type Protocol = Paxos;
    type Config = PaxosConfig;
    type Workload = KvWorkloadConfig;

    fn name(&self) -> &'static str {
        "Paxos"
    }

    fn about(&self) -> &'static str {
        "Multi-Paxos (Paxos Made Simple §3) with a replicated KV store (examples/paxos)"
    }

    fn invariants(&self) -> Vec<InvariantInfo> {
        use InvariantInfo as I;
        vec![
            I::safety(
                AGREEMENT,
                "no two values chosen for one slot (from acceptors' durable state)",
            ),
            I::safety(
                APPLIED_AGREEMENT,
                "no two nodes apply different values at one slot",
            ),
            I::safety(
                Invariant::LINEARIZABLE,
                "the KV client history is linearizable",
            ),
            I::within(
                Invariant::OPS_COMPLETE_WITHIN,
                "every op completes within T of the last fault",
            ),
            I::within(
                Invariant::LEADER_WITHIN,
                "a leader followed by a majority within T of the last fault",
            ),
        ]
    }

    fn metrics(&self) -> Vec<MetricInfo> {
        let m = MetricInfo::new;
        vec![
            m("paxos.elections", "phase 1 runs started (candidacies)"),
            m("paxos.leaders", "phase 1 runs won"),
            m(
                "paxos.step_downs",
                "leaders and candidates that stepped down",
            ),
            m(
                "paxos.preempted",
                "step-downs caused by a Nack with a higher ballot",
            ),
            m(
                "paxos.adopted",
                "values a new leader re-proposed from the promises",
            ),
            m("paxos.noops", "gaps a new leader filled with no-ops"),
            m("paxos.chosen", "slots a leader saw chosen"),
            m(
                "paxos.slots_chosen",
                "slots chosen, computed by the monitor",
            ),
            m("paxos.max_round", "the highest ballot round accepted"),
            m("paxos.batch_size", "client requests per proposed slot"),
            m("paxos.catch_up", "catch-up requests answered"),
            m("paxos.recoveries", "nodes restarted from durable state"),
        ]
    }

    fn check(
        &self,
        setup: &Setup,
        config: &PaxosConfig,
        _: &KvWorkloadConfig,
        _: &Checks,
    ) -> Result<(), String> {
        config.validate(setup.nodes)
    }

    fn build(
        &self,
        setup: &Setup,
        config: &PaxosConfig,
        workload: &KvWorkloadConfig,
        checks: &Checks,
    ) -> Built<Paxos> {
        Built {
            config: config.clone(),
            workload: Box::new(KvWorkload::new(workload.clone(), checks, setup.quiet_from)),
            monitors: vec![Box::new(PaxosMonitor::new(
                setup.nodes,
                checks,
                setup.quiet_from,
            ))],
        }
    }
}
