//! # swim — SWIM membership with the Lifeguard extensions (memberlist, as Consul and Serf run it)
//!
//! After Das, Gupta and Motivala 2002 ("SWIM: Scalable Weakly-consistent Infection-style
//! Process Group Membership Protocol") and Dadgar, Phillips and Currey 2018 ("Lifeguard:
//! Local Health Awareness for More Accurate Failure Detection"), shaped like
//! hashicorp/memberlist, whose LAN, WAN and Local defaults are the presets.
//!
//! | switch | values |
//! |---|---|
//! | `preset` | `Lan` (default) · `Wan` · `Local`: memberlist's default timing |
//! | timing fields | `probe_interval`, `probe_timeout`, `indirect_checks`, `suspicion_mult`, `suspicion_max_timeout_mult`, `retransmit_mult`, `gossip_interval`, `gossip_nodes`, `push_pull_interval`, `awareness_max_multiplier` (each overrides the preset) |
//! | `suspicion` | SWIM §4's suspicion subprotocol (default true) |
//! | `lifeguard` | `(probe, suspicion, buddy)`: LHA-Probe, LHA-Suspicion, buddy system (all true by default) |
//! | `probe_order` | `RoundRobin` (randomized, default) · `Random` |
//! | `phase` | `Staggered` (default) · `Aligned` (every period starts at k·T′) |
//! | `layout` | `Flat` (one pool) · `Consul(servers: 3)` (a LAN pool per zone, a WAN pool of servers) |
//! | `max_false_positive_rate` | the `FalsePositiveRate` bound, per member-hour (default 0) |
//! | `bug` | `NoIncarnationCheck` · `SuspicionNoTimeout` |
//!
//! Files: `config.rs` (the section, presets), `pools.rs` (who is in which pool), `members.rs`
//! (member table, precedence, probe order, broadcast queue), `node.rs` (the protocol),
//! `monitor.rs` (invariants and metrics), `theory.rs` (the paper's and memberlist's formulas).
//! docs/swim.md has the model, the measurements against the papers, and the limits.

mod config;
mod members;
mod monitor;
mod node;
mod pools;
mod probe;
pub mod theory;
mod updates;

pub use config::{Layout, Lifeguard, Phase, Preset, ProbeOrder, SwimBug, SwimConfig, Timing};
pub use members::{Applied, Broadcasts, Member, Permutation, State, Table, Update};
pub use monitor::{SwimChecks, SwimMonitor};
pub use node::{
    Change, Durable, HEADER_BYTES, Message, PIGGYBACK, Params, PoolState, SwimNode, Timer,
    UPDATE_BYTES,
};
pub use pools::{Members, Pool, pools, pools_of};

use crate::checks::{Checks, Invariant, InvariantInfo};
use crate::family::{Built, Family, MetricInfo, NoClients, Setup};
use sim::{NoWorkload, Time};
use std::sync::Arc;
use std::time::Duration;

/// The scenario's zones as (name, first node, node count).
pub fn zones(setup: &Setup) -> Vec<(String, u32, u32)> {
    setup
        .zones
        .iter()
        .map(|z| (z.name.clone(), z.nodes.start, z.nodes.end - z.nodes.start))
        .collect()
}

/// The SWIM family: `protocol: Swim((...))` in a scenario; no clients.
#[derive(Clone, Copy, Debug, Default)]
pub struct SwimFamily;

impl Family for SwimFamily {
    type Protocol = SwimNode;
    type Config = SwimConfig;
    type Workload = NoClients;

    fn name(&self) -> &'static str {
        "Swim"
    }

    fn about(&self) -> &'static str {
        "SWIM membership with Lifeguard after memberlist (a timing field left None takes the preset's value: Lan, Wan or Local), one pool or Consul's pools"
    }

    fn invariants(&self) -> Vec<InvariantInfo> {
        use InvariantInfo as I;
        vec![
            I::safety(
                Invariant::FALSE_POSITIVE_RATE,
                "healthy members declared dead stay within max_false_positive_rate per member-hour",
            ),
            I::safety(
                Invariant::NO_FLAPPING,
                "a member holding a crashed member dead never holds it alive again while it is down",
            ),
            I::within(
                Invariant::DEAD_WITHIN,
                "every crashed member is held dead by every live member of its pools within T of the crash",
            ),
            I::within(
                Invariant::VIEWS_CONVERGE_WITHIN,
                "T after the last fault, every live member holds up members alive and crashed ones dead",
            ),
        ]
    }

    fn metrics(&self) -> Vec<MetricInfo> {
        let m = MetricInfo::new;
        vec![
            m("swim.messages", "messages sent"),
            m(
                "swim.bytes",
                "estimated bytes sent (20 per header, 32 per member update)",
            ),
            m("swim.probes", "probes started"),
            m(
                "swim.indirect_probes",
                "probes that went indirect (ping-req)",
            ),
            m(
                "swim.failed_probes",
                "probes without any ack by the period's end",
            ),
            m("swim.suspicions", "views changed to suspect"),
            m(
                "swim.confirmations",
                "Lifeguard: independent suspicion confirmations",
            ),
            m("swim.deaths", "views changed to dead"),
            m(
                "swim.refutations",
                "members refuting a rumor of their own suspicion or death",
            ),
            m(
                "swim.buddy_refutations",
                "refutations prompted by a buddy-system ping",
            ),
            m(
                "swim.reconnects",
                "Serf reconnects: state exchanged with a member held dead",
            ),
            m(
                "swim.first_detection_ms",
                "per crash: until some member suspects it (ms)",
            ),
            m(
                "swim.first_detection_periods",
                "per crash: the same, in protocol periods",
            ),
            m(
                "swim.first_dead_ms",
                "per crash: until some member declares it dead (ms)",
            ),
            m(
                "swim.all_dead_ms",
                "per crash: until every live member holds it dead (ms)",
            ),
            m(
                "swim.dissemination_periods",
                "per crash: periods from the first death declaration to the last",
            ),
            m("swim.crashes_tracked", "crashes the monitor followed"),
            m("swim.false_positives", "healthy members declared dead"),
            m(
                "swim.excused_deaths",
                "up members declared dead while crashed, paused, partitioned or slowed recently",
            ),
            m(
                "swim.false_dead_views",
                "views changed to dead about up members",
            ),
            m(
                "swim.false_positive_rate",
                "false positives per member-hour",
            ),
            m(
                "swim.messages_per_member_s",
                "messages per member per second",
            ),
            m(
                "swim.bytes_per_member_s",
                "estimated bytes per member per second",
            ),
        ]
    }

    fn check(
        &self,
        setup: &Setup,
        config: &SwimConfig,
        _workload: &NoClients,
        _checks: &Checks,
    ) -> Result<(), String> {
        config.validate(setup.nodes, zones(setup).len())
    }

    fn build(
        &self,
        setup: &Setup,
        config: &SwimConfig,
        _workload: &NoClients,
        checks: &Checks,
    ) -> Built<SwimNode> {
        let pools = Arc::new(pools(config, setup.nodes, &zones(setup)));
        let opt = swim_checks(setup, config, &pools, checks);
        Built {
            config: Params {
                cfg: config.clone(),
                pools: pools.clone(),
            },
            workload: Box::new(NoWorkload),
            monitors: vec![Box::new(SwimMonitor::new(opt, pools, setup.nodes))],
        }
    }
}

/// The monitor's options for a run (exposed for tests that run `sim::Simulation` directly).
pub fn swim_checks(
    setup: &Setup,
    config: &SwimConfig,
    pools: &[Pool],
    checks: &Checks,
) -> SwimChecks {
    // The longest a declaration can lag its cause: the largest pool's longest suspicion plus
    // two periods stretched by the largest local health multiplier.
    let window = pools
        .iter()
        .map(|p| {
            let t = p.timing;
            let period = sim::time::nanos(t.probe_interval.0);
            let min = theory::suspicion_min_ns(t.suspicion_mult, p.members.len() as usize, period);
            let max = min * u64::from(t.suspicion_max_timeout_mult);
            Duration::from_nanos(max + 2 * period * u64::from(t.awareness_max_multiplier))
        })
        .max()
        .unwrap_or_default();
    let member_hours = setup.nodes as f64 * setup.duration.as_secs_f64() / 3600.0;
    SwimChecks {
        false_positive_rate: checks.has(Invariant::FALSE_POSITIVE_RATE),
        false_positive_budget: config.max_false_positive_rate * member_hours,
        no_flapping: checks.has(Invariant::NO_FLAPPING),
        dead_within: checks.deadline(Invariant::DEAD_WITHIN).map(|d| d.0),
        converge_at: checks
            .deadline(Invariant::VIEWS_CONVERGE_WITHIN)
            .map(|d| setup.quiet_from.max(Time::ZERO) + d.0),
        excuse_window: window,
    }
}
