//! The generic parts of a scenario: network, clocks, faults and their targets, limits, and
//! their conversion into the engine's types.
//!
//! Every struct rejects unknown fields and defaults every optional field, so a typo is an
//! error and a short file is a complete one. `docs/scenario-format.md` documents each field.

use super::validate::{FaultTime, NodeRef, Probability, SignedDur};
use protocols::units::Dur;
use serde::{Deserialize, Serialize};
use sim::{Fault, Latency, LinkKind, LinkParams, NetConfig, NodeId, Target};
use std::collections::BTreeMap;

/// A latency distribution, with durations written with units.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub enum LatencySpec {
    /// Always the same: `Constant("2ms")`.
    Constant(Dur),
    /// Uniform between two bounds: `Uniform("1ms", "10ms")`.
    Uniform(Dur, Dur),
    /// Normal, truncated at zero: `Normal(mean: "10ms", std_dev: "2ms")`.
    Normal { mean: Dur, std_dev: Dur },
    /// Exponential with a mean: `Exponential(mean: "5ms")`.
    Exponential { mean: Dur },
    /// Log-normal: `LogNormal(median: "5ms", sigma: 0.5)`.
    LogNormal { median: Dur, sigma: f64 },
    /// Pareto type I, never below `scale`: `Pareto(scale: "1ms", shape: 2.5)`.
    Pareto { scale: Dur, shape: f64 },
}

impl Default for LatencySpec {
    fn default() -> Self {
        LatencySpec::Constant(Dur::ms(1))
    }
}

impl LatencySpec {
    /// The engine's distribution.
    pub fn to_sim(self) -> Latency {
        match self {
            LatencySpec::Constant(d) => Latency::Constant(d.nanos()),
            LatencySpec::Uniform(a, b) => Latency::Uniform {
                min: a.nanos(),
                max: b.nanos(),
            },
            LatencySpec::Normal { mean, std_dev } => Latency::Normal {
                mean: mean.nanos(),
                std_dev: std_dev.nanos(),
            },
            LatencySpec::Exponential { mean } => Latency::Exponential { mean: mean.nanos() },
            LatencySpec::LogNormal { median, sigma } => Latency::LogNormal {
                median: median.nanos(),
                sigma,
            },
            LatencySpec::Pareto { scale, shape } => Latency::Pareto {
                scale: scale.nanos(),
                shape,
            },
        }
    }
}

/// Stream (TCP-like) or datagram (UDP-like) links.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum LinksSpec {
    #[default]
    Stream,
    Datagram,
}

impl LinksSpec {
    fn to_sim(self) -> LinkKind {
        match self {
            LinksSpec::Stream => LinkKind::Stream,
            LinksSpec::Datagram => LinkKind::Datagram,
        }
    }
}

/// The network section.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct NetworkSpec {
    /// One-way latency of every link without an override.
    pub latency: LatencySpec,
    /// Probability a message is lost (datagram links).
    pub loss: Probability,
    /// Probability a message is delivered twice (datagram links).
    pub duplicate: Probability,
    /// Probability a message is held back by an extra latency draw (datagram links).
    pub reorder: Probability,
    /// Stream or Datagram.
    pub links: LinksSpec,
    /// Latency between clients and nodes, each way (default: `latency`).
    pub client_latency: Option<LatencySpec>,
    /// Per-link overrides.
    pub overrides: Vec<LinkOverride>,
}

/// Parameters of some links that differ from the defaults.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LinkOverride {
    /// Sending nodes.
    pub from: Vec<NodeRef>,
    /// Receiving nodes.
    pub to: Vec<NodeRef>,
    /// Apply to the reverse direction too (default true).
    pub both_ways: Option<bool>,
    pub latency: Option<LatencySpec>,
    pub loss: Option<Probability>,
    pub duplicate: Option<Probability>,
    pub reorder: Option<Probability>,
    pub links: Option<LinksSpec>,
}

impl NetworkSpec {
    /// The engine's network, or a message saying what is inconsistent.
    pub fn to_sim(&self) -> Result<NetConfig, String> {
        let default = LinkParams {
            latency: self.latency.to_sim(),
            loss: self.loss.0,
            duplicate: self.duplicate.0,
            reorder: self.reorder.0,
            kind: self.links.to_sim(),
        };
        check_link("network", &default)?;
        let mut links = BTreeMap::new();
        for (i, o) in self.overrides.iter().enumerate() {
            if o.from.is_empty() || o.to.is_empty() {
                return Err(format!(
                    "network.overrides[{i}] needs non-empty `from` and `to` node lists"
                ));
            }
            let p = LinkParams {
                latency: o.latency.map_or(default.latency, LatencySpec::to_sim),
                loss: o.loss.map_or(default.loss, |p| p.0),
                duplicate: o.duplicate.map_or(default.duplicate, |p| p.0),
                reorder: o.reorder.map_or(default.reorder, |p| p.0),
                kind: o.links.map_or(default.kind, LinksSpec::to_sim),
            };
            check_link(&format!("network.overrides[{i}]"), &p)?;
            for a in &o.from {
                for b in &o.to {
                    if a != b {
                        links.insert((NodeId(a.0), NodeId(b.0)), p);
                        if o.both_ways.unwrap_or(true) {
                            links.insert((NodeId(b.0), NodeId(a.0)), p);
                        }
                    }
                }
            }
        }
        let client_latency = self.client_latency.unwrap_or(self.latency).to_sim();
        client_latency
            .validate()
            .map_err(|e| format!("network.client_latency: {e}"))?;
        Ok(NetConfig {
            default,
            links,
            client_latency,
        })
    }
}

fn check_link(at: &str, p: &LinkParams) -> Result<(), String> {
    p.validate().map_err(|e| format!("{at}: {e}"))?;
    if p.kind == LinkKind::Stream && (p.loss > 0.0 || p.duplicate > 0.0 || p.reorder > 0.0) {
        return Err(format!(
            "{at}: stream links are reliable and ordered, so loss, duplicate and reorder do not \
             apply to them; use `links: Datagram` to model a lossy network"
        ));
    }
    Ok(())
}

/// Node clocks: random offsets and drifts within bounds, and exact per-node settings.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ClocksSpec {
    /// Each node's drift is drawn uniformly in [-max_drift_ppm, +max_drift_ppm].
    pub max_drift_ppm: u32,
    /// Each node's offset is drawn uniformly in [-max_offset, +max_offset].
    pub max_offset: Dur,
    /// Exact settings for some nodes (they replace the random draw).
    pub nodes: Vec<NodeClock>,
}

/// One node's exact clock.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NodeClock {
    pub node: NodeRef,
    #[serde(default)]
    pub drift_ppm: i64,
    #[serde(default = "zero_offset")]
    pub offset: SignedDur,
}

fn zero_offset() -> SignedDur {
    SignedDur(0)
}

impl ClocksSpec {
    /// Per-node clocks, drawing random ones from the run's clock stream.
    pub fn to_sim(&self, nodes: usize, seed: u64) -> Result<Vec<sim::Clock>, String> {
        if self.max_drift_ppm >= 1_000_000 {
            return Err(format!(
                "clocks.max_drift_ppm must be below 1000000, got {}",
                self.max_drift_ppm
            ));
        }
        let mut rng = sim::rng::stream(seed, sim::rng::Purpose::Clocks);
        let max_off = self.max_offset.nanos().min(i64::MAX as u64) as i64;
        let ppm = i64::from(self.max_drift_ppm);
        let mut clocks: Vec<sim::Clock> = (0..nodes)
            .map(|_| {
                // Two draws per node, always, so one node's setting never shifts another's.
                let d = sim::rng::uniform_u64(&mut rng, 0, 2 * ppm as u64) as i64 - ppm;
                let o = sim::rng::uniform_u64(&mut rng, 0, 2 * max_off as u64) as i64 - max_off;
                sim::Clock::new(o, d)
            })
            .collect();
        for c in &self.nodes {
            if c.drift_ppm <= -1_000_000 {
                return Err(format!(
                    "clocks.nodes: node {} drift {} ppm would stop its clock",
                    c.node.0, c.drift_ppm
                ));
            }
            clocks[c.node.0 as usize] = sim::Clock::new(c.offset.0, c.drift_ppm);
        }
        Ok(clocks)
    }
}

/// Who a fault is aimed at.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum TargetSpec {
    /// One node: `Node(2)`.
    Node(NodeRef),
    /// Several nodes: `Nodes([0, 1])`.
    Nodes(Vec<NodeRef>),
    /// A contiguous range of ids, both ends included: `Range(0, 499)`.
    Range(NodeRef, NodeRef),
    /// The current leader (Raft) or primary (failover), resolved when the fault fires.
    Leader,
    /// Same as `Leader`, for primary/backup protocols.
    Primary,
    /// A random live node that does not lead.
    Follower,
    /// A random live node.
    Random,
    /// Every node.
    All,
    /// Every crashed node (for `Restart`).
    Crashed,
    /// Every paused node (for `Resume`).
    Paused,
}

impl TargetSpec {
    /// The engine's target.
    pub fn to_sim(&self) -> Target {
        match self {
            TargetSpec::Node(n) => Target::Node(NodeId(n.0)),
            TargetSpec::Nodes(ns) => Target::Nodes(ns.iter().map(|n| NodeId(n.0)).collect()),
            TargetSpec::Range(a, b) => {
                Target::Nodes((a.0.min(b.0)..=a.0.max(b.0)).map(NodeId).collect())
            }
            TargetSpec::Leader | TargetSpec::Primary => Target::Leader,
            TargetSpec::Follower => Target::Follower,
            TargetSpec::Random => Target::Random,
            TargetSpec::All => Target::All,
            TargetSpec::Crashed => Target::Crashed,
            TargetSpec::Paused => Target::Paused,
        }
    }
}

fn all_nodes() -> TargetSpec {
    TargetSpec::All
}

/// One fault.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum FaultSpec {
    /// Crash: volatile state, timers and in-flight messages to it are lost.
    Crash(TargetSpec),
    /// Restart crashed nodes from durable state.
    Restart(TargetSpec),
    /// Freeze (a GC stall); the clock keeps going.
    Pause(TargetSpec),
    /// Unfreeze.
    Resume(TargetSpec),
    /// Split into groups; unlisted nodes form one more group.
    Partition(Vec<Vec<TargetSpec>>),
    /// Cut nodes off from everyone else, both ways.
    Isolate(TargetSpec),
    /// Drop messages from `from` to `to` only.
    OneWay { from: TargetSpec, to: TargetSpec },
    /// Cut one link both ways (two of these around a node make a bridge shape).
    CutLink(NodeRef, NodeRef),
    /// Remove every cut.
    Heal,
    /// Extra latency on messages from or to `target` for `duration`.
    DelaySpike {
        #[serde(default = "all_nodes")]
        target: TargetSpec,
        extra: LatencySpec,
        duration: Dur,
    },
    /// Move clocks' readings by a signed amount: `ClockJump(target: Node(1), by: "-2s")`.
    ClockJump { target: TargetSpec, by: SignedDur },
    /// Change clocks' drift rate: `SetDrift(target: Node(0), ppm: 5000)`.
    SetDrift { target: TargetSpec, ppm: i64 },
}

impl FaultSpec {
    /// The engine's fault, or a message saying what is wrong with its parameters.
    pub fn to_sim(&self) -> Result<Fault, String> {
        Ok(match self {
            FaultSpec::Crash(t) => Fault::Crash(t.to_sim()),
            FaultSpec::Restart(t) => Fault::Restart(t.to_sim()),
            FaultSpec::Pause(t) => Fault::Pause(t.to_sim()),
            FaultSpec::Resume(t) => Fault::Resume(t.to_sim()),
            FaultSpec::Partition(groups) => {
                if groups.is_empty() {
                    return Err("Partition needs at least one group".into());
                }
                Fault::Partition(
                    groups
                        .iter()
                        .map(|g| g.iter().map(TargetSpec::to_sim).collect())
                        .collect(),
                )
            }
            FaultSpec::Isolate(t) => Fault::Isolate(t.to_sim()),
            FaultSpec::OneWay { from, to } => Fault::OneWay {
                from: from.to_sim(),
                to: to.to_sim(),
            },
            FaultSpec::CutLink(a, b) => {
                if a == b {
                    return Err(format!(
                        "CutLink({}, {}) names the same node twice",
                        a.0, b.0
                    ));
                }
                Fault::CutLink(NodeId(a.0), NodeId(b.0))
            }
            FaultSpec::Heal => Fault::Heal,
            FaultSpec::DelaySpike {
                target,
                extra,
                duration,
            } => {
                let extra = extra.to_sim();
                extra
                    .validate()
                    .map_err(|e| format!("DelaySpike.extra: {e}"))?;
                Fault::DelaySpike {
                    target: target.to_sim(),
                    extra,
                    duration: duration.0,
                }
            }
            FaultSpec::ClockJump { target, by } => Fault::ClockJump {
                target: target.to_sim(),
                delta_ns: by.0,
            },
            FaultSpec::SetDrift { target, ppm } => {
                if *ppm <= -1_000_000 {
                    return Err(format!(
                        "SetDrift ppm {ppm} would stop the clock (must be > -1000000)"
                    ));
                }
                Fault::SetDrift {
                    target: target.to_sim(),
                    drift_ppm: *ppm,
                }
            }
        })
    }
}

/// A fault at a time.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TimedFault {
    /// When, from the start of the run.
    pub at: FaultTime,
    /// What.
    #[serde(rename = "do")]
    pub action: FaultSpec,
}

/// Guards that end a runaway run.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LimitsSpec {
    /// Maximum processed events (default: no limit).
    pub max_events: Option<u64>,
    /// Maximum wall-clock time for one run (default: no limit).
    pub max_wall: Option<Dur>,
}
