//! The `protocol: Swim((...))` section: memberlist's presets, the Lifeguard switches, the pool
//! layout, and the timing every node derives from them.
//!
//! Every timing field is optional: a field left out takes the preset's value (`preset: Lan`,
//! hashicorp/memberlist `DefaultLANConfig`; `Wan` and `Local` likewise; values in
//! docs/references.md §4.2). [`Timing`] is the resolved set, and the formulas memberlist codes
//! (suspicion timeouts, retransmit limit, push-pull scaling) live in `theory.rs`.

use crate::units::Dur;
use serde::{Deserialize, Serialize};

/// memberlist's three default configurations.
#[derive(Deserialize, Serialize, Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Preset {
    /// `DefaultLANConfig`: 1 s probes, 500 ms probe timeout, k = 3, suspicion ×4.
    #[default]
    Lan,
    /// `DefaultWANConfig`: 5 s probes, 3 s probe timeout, suspicion ×6.
    Wan,
    /// `DefaultLocalConfig`: 1 s probes, 200 ms probe timeout, k = 1, suspicion ×3.
    Local,
}

/// The resolved timing of one pool.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Timing {
    /// Protocol period T′: one probe per member per period.
    pub probe_interval: Dur,
    /// How long a direct ping waits for its ack before asking `indirect_checks` members.
    pub probe_timeout: Dur,
    /// k: members asked to ping the target indirectly.
    pub indirect_checks: u32,
    /// Suspicion timeout multiplier (memberlist `SuspicionMult`).
    pub suspicion_mult: u32,
    /// Lifeguard's maximum suspicion timeout, as a multiple of the minimum.
    pub suspicion_max_timeout_mult: u32,
    /// λ: each update is retransmitted `retransmit_mult · ceil(log10(n + 1))` times.
    pub retransmit_mult: u32,
    /// How often a member gossips its queued updates to `gossip_nodes` random members (zero:
    /// only piggybacked on pings and acks, as in the SWIM paper).
    pub gossip_interval: Dur,
    /// Members gossiped to per gossip interval.
    pub gossip_nodes: u32,
    /// Gossip still goes to a member this long after it was declared dead, so a member
    /// wrongly declared dead (across a partition that healed) hears it and refutes.
    pub gossip_to_the_dead_time: Dur,
    /// Full state exchange with one random member, this often (scaled up for n > 32; zero:
    /// never).
    pub push_pull_interval: Dur,
    /// Lifeguard's local health multiplier saturates at this (scores 0 to max − 1).
    pub awareness_max_multiplier: u32,
}

impl Preset {
    /// The preset's timing.
    pub fn timing(self) -> Timing {
        match self {
            Preset::Lan => Timing {
                probe_interval: Dur::ms(1000),
                probe_timeout: Dur::ms(500),
                indirect_checks: 3,
                suspicion_mult: 4,
                suspicion_max_timeout_mult: 6,
                retransmit_mult: 4,
                gossip_interval: Dur::ms(200),
                gossip_nodes: 3,
                gossip_to_the_dead_time: Dur::secs(30),
                push_pull_interval: Dur::secs(30),
                awareness_max_multiplier: 8,
            },
            Preset::Wan => Timing {
                probe_interval: Dur::secs(5),
                probe_timeout: Dur::secs(3),
                indirect_checks: 3,
                suspicion_mult: 6,
                suspicion_max_timeout_mult: 6,
                retransmit_mult: 4,
                gossip_interval: Dur::ms(500),
                gossip_nodes: 4,
                gossip_to_the_dead_time: Dur::secs(60),
                push_pull_interval: Dur::secs(60),
                awareness_max_multiplier: 8,
            },
            Preset::Local => Timing {
                probe_interval: Dur::ms(1000),
                probe_timeout: Dur::ms(200),
                indirect_checks: 1,
                suspicion_mult: 3,
                suspicion_max_timeout_mult: 6,
                retransmit_mult: 2,
                gossip_interval: Dur::ms(100),
                gossip_nodes: 3,
                gossip_to_the_dead_time: Dur::secs(15),
                push_pull_interval: Dur::secs(15),
                awareness_max_multiplier: 8,
            },
        }
    }
}

/// Lifeguard's three extensions (Dadgar et al. 2018), each a switch; all on by default, as in
/// memberlist. `lifeguard: (probe: false, suspicion: false, buddy: false)` is plain SWIM with
/// suspicion.
#[derive(Deserialize, Serialize, Clone, Copy, Debug, PartialEq, Eq)]
#[serde(default, deny_unknown_fields)]
pub struct Lifeguard {
    /// LHA-Probe: a local health score that rises on missed acks and missing nacks and
    /// stretches this member's probe interval and timeout (`× (score + 1)`).
    pub probe: bool,
    /// LHA-Suspicion: a suspicion starts at the maximum timeout and shrinks toward the
    /// minimum with each independent confirmation.
    pub suspicion: bool,
    /// Buddy system: a ping to a suspected member tells it so, and it refutes at once.
    pub buddy: bool,
}

impl Default for Lifeguard {
    fn default() -> Self {
        Lifeguard {
            probe: true,
            suspicion: true,
            buddy: true,
        }
    }
}

impl Lifeguard {
    /// Every extension off: plain SWIM.
    pub const OFF: Lifeguard = Lifeguard {
        probe: false,
        suspicion: false,
        buddy: false,
    };
}

/// How a member picks whom to probe.
#[derive(Deserialize, Serialize, Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ProbeOrder {
    /// Randomized round-robin (SWIM §4.3): every member once per pass, a fresh random order
    /// per pass; a failed member is probed within 2n − 1 periods.
    #[default]
    RoundRobin,
    /// A uniformly random other member each period (SWIM §3.1's analysis).
    Random,
}

/// When members' protocol periods start.
#[derive(Deserialize, Serialize, Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Phase {
    /// Each member starts at a random offset in its first period (memberlist staggers them).
    #[default]
    Staggered,
    /// Every member's periods start at multiples of T′ on its own clock (with ideal clocks,
    /// all at once: the synchronous rounds of SWIM's analysis).
    Aligned,
}

/// Which pools members join.
#[derive(Deserialize, Serialize, Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Layout {
    /// One pool of every node.
    #[default]
    Flat,
    /// Consul's layout: one LAN pool per zone of the scenario's `topology`, and a WAN pool of
    /// the first `servers` nodes of each zone, with memberlist's WAN timing.
    Consul {
        /// Servers per zone (the WAN pool's members).
        servers: u32,
    },
}

/// Known-bug variants the checks must catch.
#[derive(Deserialize, Serialize, Clone, Copy, Debug, PartialEq, Eq)]
pub enum SwimBug {
    /// An `alive` message is applied whatever its incarnation: a stale one (from a late
    /// piggyback or a push-pull with a member that has not heard the news) brings a dead
    /// member back, and it flaps.
    NoIncarnationCheck,
    /// A suspicion never times out: a crashed member stays suspected forever.
    SuspicionNoTimeout,
}

/// The `protocol: Swim((...))` section of a scenario.
#[derive(Deserialize, Serialize, Clone, Debug, Default, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct SwimConfig {
    /// The defaults of every timing field left out.
    pub preset: Preset,
    pub probe_interval: Option<Dur>,
    pub probe_timeout: Option<Dur>,
    pub indirect_checks: Option<u32>,
    pub suspicion_mult: Option<u32>,
    pub suspicion_max_timeout_mult: Option<u32>,
    pub retransmit_mult: Option<u32>,
    pub gossip_interval: Option<Dur>,
    pub gossip_nodes: Option<u32>,
    pub gossip_to_the_dead_time: Option<Dur>,
    pub push_pull_interval: Option<Dur>,
    pub awareness_max_multiplier: Option<u32>,
    /// SWIM §4's suspicion subprotocol (default on). Off: a member that misses its probe is
    /// declared dead at once (SWIM §3).
    pub suspicion: Option<bool>,
    /// Lifeguard's extensions.
    pub lifeguard: Lifeguard,
    /// Round-robin (default) or random probe targets.
    pub probe_order: ProbeOrder,
    /// Staggered (default) or aligned protocol periods.
    pub phase: Phase,
    /// One pool, or Consul's LAN pools plus a WAN pool.
    pub layout: Layout,
    /// The `FalsePositiveRate` check's bound: false positives allowed per member-hour
    /// (default 0: any false positive is a violation).
    pub max_false_positive_rate: f64,
    /// Serf's reconnect (Consul runs it above memberlist): this often, a member exchanges
    /// state with a random member it holds dead, so a pool split by a partition longer than
    /// `gossip_to_the_dead_time` joins again after the heal. Default: off (memberlist alone).
    pub reconnect_interval: Option<Dur>,
    /// A known-bug variant, if any.
    pub bug: Option<SwimBug>,
}

impl SwimConfig {
    /// The LAN pool's timing: the preset with this section's fields applied.
    pub fn timing(&self) -> Timing {
        let p = self.preset.timing();
        Timing {
            probe_interval: self.probe_interval.unwrap_or(p.probe_interval),
            probe_timeout: self.probe_timeout.unwrap_or(p.probe_timeout),
            indirect_checks: self.indirect_checks.unwrap_or(p.indirect_checks),
            suspicion_mult: self.suspicion_mult.unwrap_or(p.suspicion_mult),
            suspicion_max_timeout_mult: self
                .suspicion_max_timeout_mult
                .unwrap_or(p.suspicion_max_timeout_mult),
            retransmit_mult: self.retransmit_mult.unwrap_or(p.retransmit_mult),
            gossip_interval: self.gossip_interval.unwrap_or(p.gossip_interval),
            gossip_nodes: self.gossip_nodes.unwrap_or(p.gossip_nodes),
            gossip_to_the_dead_time: self
                .gossip_to_the_dead_time
                .unwrap_or(p.gossip_to_the_dead_time),
            push_pull_interval: self.push_pull_interval.unwrap_or(p.push_pull_interval),
            awareness_max_multiplier: self
                .awareness_max_multiplier
                .unwrap_or(p.awareness_max_multiplier),
        }
    }

    /// Whether suspicion is on.
    pub fn suspicion(&self) -> bool {
        self.suspicion.unwrap_or(true)
    }

    /// Checks the values, with a message saying what is wrong.
    pub fn validate(&self, nodes: usize, zones: usize) -> Result<(), String> {
        use crate::limits;
        let t = self.timing();
        limits::period("probe_interval", t.probe_interval)?;
        if t.probe_timeout.0.is_zero() || t.probe_timeout >= t.probe_interval {
            return Err(format!(
                "probe_timeout ({}) must be above zero and below probe_interval ({}): the \
                 indirect probes need the rest of the period (SWIM asks T' >= 3 x the timeout)",
                t.probe_timeout, t.probe_interval
            ));
        }
        limits::count("indirect_checks", u64::from(t.indirect_checks), 0, 64)?;
        limits::count("suspicion_mult", u64::from(t.suspicion_mult), 1, 1000)?;
        limits::count(
            "suspicion_max_timeout_mult",
            u64::from(t.suspicion_max_timeout_mult),
            1,
            1000,
        )?;
        limits::count("retransmit_mult", u64::from(t.retransmit_mult), 1, 1000)?;
        limits::count("gossip_nodes", u64::from(t.gossip_nodes), 0, 64)?;
        limits::count(
            "awareness_max_multiplier",
            u64::from(t.awareness_max_multiplier),
            1,
            1000,
        )?;
        if !t.gossip_interval.0.is_zero() {
            limits::period("gossip_interval", t.gossip_interval)?;
        }
        if !t.push_pull_interval.0.is_zero() {
            limits::period("push_pull_interval", t.push_pull_interval)?;
        }
        if !(self.max_false_positive_rate.is_finite() && self.max_false_positive_rate >= 0.0) {
            return Err(format!(
                "max_false_positive_rate must be a number >= 0 (false positives per member-hour), got {}",
                self.max_false_positive_rate
            ));
        }
        if let Some(r) = self.reconnect_interval {
            limits::period("reconnect_interval", r)?;
        }
        if nodes < 2 {
            return Err("SWIM needs at least 2 nodes".into());
        }
        if let Layout::Consul { servers } = self.layout {
            if zones == 0 {
                return Err(
                    "layout: Consul needs zones: add a `topology` section naming the datacenters"
                        .into(),
                );
            }
            if servers == 0 {
                return Err("layout: Consul needs at least 1 server per zone".into());
            }
        }
        // Per member per period: a probe and its ack, its timers, and gossip.
        let per_s = 6.0 / t.probe_interval.0.as_secs_f64()
            + if t.gossip_interval.0.is_zero() {
                0.0
            } else {
                (1.0 + f64::from(t.gossip_nodes)) / t.gossip_interval.0.as_secs_f64()
            };
        limits::event_rate(
            nodes as f64 * per_s,
            "members x (probes + gossip) per second",
        )
    }
}
