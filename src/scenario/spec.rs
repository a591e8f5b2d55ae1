//! The generic parts of a scenario: network, clocks, timed faults, limits.
//!
//! Every struct rejects unknown fields and defaults every optional field, so a typo is an
//! error and a short file is a complete one. Faults and latency distributions are the engine's
//! own types (`sim::Fault`, `sim::Latency`), read as written; node ids are [`NodeRef`]s, which
//! check that the node exists while the file is parsed. Each section has a `validate` that
//! `scenario::parse` runs once, and an infallible conversion into the engine's types that each
//! run uses. `docs/scenario-format.md` documents each field.

use super::validate::{FaultTime, NodeRef, Probability, ZoneRef};
use protocols::units::{Dur, SignedDur};
use serde::{Deserialize, Serialize};
use sim::{Fault, Latency, LinkKind, LinkParams, NetConfig, NodeId};
use std::collections::BTreeMap;

/// A fault as a scenario names nodes.
pub type FaultSpec = Fault<NodeRef>;
/// A target as a scenario names nodes.
pub type TargetSpec = sim::Target<NodeRef>;

/// The engine's fault for a scenario's.
pub fn to_engine(f: &FaultSpec) -> Fault {
    f.clone().map_nodes(|n| NodeId(n.0))
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

fn default_latency() -> Latency {
    Latency::Constant(1_000_000)
}

/// The network section.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct NetworkSpec {
    /// One-way latency of every link without an override.
    pub latency: Latency,
    /// Probability a message is lost (datagram links).
    pub loss: Probability,
    /// Probability a message is delivered twice (datagram links).
    pub duplicate: Probability,
    /// Probability a message is held back by an extra latency draw (datagram links).
    pub reorder: Probability,
    /// Stream or Datagram.
    pub links: LinksSpec,
    /// Latency between clients and nodes, each way (default: `latency`).
    pub client_latency: Option<Latency>,
    /// Per-link overrides.
    pub overrides: Vec<LinkOverride>,
}

impl Default for NetworkSpec {
    fn default() -> Self {
        NetworkSpec {
            latency: default_latency(),
            loss: Probability::default(),
            duplicate: Probability::default(),
            reorder: Probability::default(),
            links: LinksSpec::default(),
            client_latency: None,
            overrides: vec![],
        }
    }
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
    pub latency: Option<Latency>,
    pub loss: Option<Probability>,
    pub duplicate: Option<Probability>,
    pub reorder: Option<Probability>,
    pub links: Option<LinksSpec>,
}

impl NetworkSpec {
    fn default_link(&self) -> LinkParams {
        LinkParams {
            latency: self.latency,
            loss: self.loss.0,
            duplicate: self.duplicate.0,
            reorder: self.reorder.0,
            kind: self.links.to_sim(),
        }
    }

    fn override_link(&self, o: &LinkOverride) -> LinkParams {
        let default = self.default_link();
        LinkParams {
            latency: o.latency.unwrap_or(default.latency),
            loss: o.loss.map_or(default.loss, |p| p.0),
            duplicate: o.duplicate.map_or(default.duplicate, |p| p.0),
            reorder: o.reorder.map_or(default.reorder, |p| p.0),
            kind: o.links.map_or(default.kind, LinksSpec::to_sim),
        }
    }

    /// Checks the section, with a message saying what is inconsistent.
    pub fn validate(&self) -> Result<(), String> {
        check_link("network", &self.default_link())?;
        for (i, o) in self.overrides.iter().enumerate() {
            if o.from.is_empty() || o.to.is_empty() {
                return Err(format!(
                    "network.overrides[{i}] needs non-empty `from` and `to` node lists"
                ));
            }
            check_link(&format!("network.overrides[{i}]"), &self.override_link(o))?;
        }
        self.client_latency
            .unwrap_or(self.latency)
            .validate()
            .map_err(|e| format!("network.client_latency: {e}"))
    }

    /// The engine's network (the section must have passed [`Self::validate`]).
    pub fn to_sim(&self) -> NetConfig {
        let mut links = BTreeMap::new();
        for o in &self.overrides {
            let p = self.override_link(o);
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
        NetConfig {
            default: self.default_link(),
            links,
            client_latency: self.client_latency.unwrap_or(self.latency),
            zones: sim::Zones::default(),
        }
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

/// The topology section: zones (datacenters, racks) with node counts, the latency inside a
/// zone and between zones, and per zone-pair overrides (the matrix). Zones take consecutive
/// node ids in the order listed. Per-node `network.overrides` still win over it.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TopologySpec {
    /// The zones, in node-id order: `[(name: "dc1", nodes: 3), (name: "dc2", nodes: 3)]`.
    pub zones: Vec<ZoneSpec>,
    /// The latency of links inside a zone (default: `network.latency`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub inside: Option<Latency>,
    /// The latency of links between zones (default: `network.latency`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub between: Option<Latency>,
    /// Per zone-pair parameters, later entries winning.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub links: Vec<ZoneLink>,
}

/// One zone: a name and how many nodes it holds.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ZoneSpec {
    pub name: String,
    pub nodes: usize,
}

/// The parameters of the links from one zone to another (the inside of a zone when `from`
/// and `to` are the same), replacing `inside`/`between` and the network's defaults.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ZoneLink {
    pub from: ZoneRef,
    pub to: ZoneRef,
    /// Apply to the reverse direction too (default true).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub both_ways: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub latency: Option<Latency>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub loss: Option<Probability>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duplicate: Option<Probability>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reorder: Option<Probability>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub links: Option<LinksSpec>,
}

impl TopologySpec {
    /// The zone names, in order.
    pub fn names(&self) -> Vec<String> {
        self.zones.iter().map(|z| z.name.clone()).collect()
    }

    /// The zones with their node ids (consecutive, in the order listed).
    pub fn zone_infos(&self) -> Vec<sim::ZoneInfo> {
        let mut next = 0u32;
        self.zones
            .iter()
            .map(|z| {
                let start = next;
                next = next.saturating_add(u32::try_from(z.nodes).unwrap_or(u32::MAX));
                sim::ZoneInfo {
                    name: z.name.clone(),
                    nodes: start..next,
                }
            })
            .collect()
    }

    fn index(&self, name: &ZoneRef) -> Option<usize> {
        self.zones.iter().position(|z| z.name == name.0)
    }

    /// The directed zone-to-zone parameters, `k * k` of them, row by sending zone.
    fn matrix(&self, network: &NetworkSpec) -> Vec<LinkParams> {
        let k = self.zones.len();
        let base = network.default_link();
        let mut m: Vec<LinkParams> = (0..k * k)
            .map(|i| LinkParams {
                latency: if i / k == i % k {
                    self.inside.unwrap_or(base.latency)
                } else {
                    self.between.unwrap_or(base.latency)
                },
                ..base
            })
            .collect();
        for l in &self.links {
            let (Some(a), Some(b)) = (self.index(&l.from), self.index(&l.to)) else {
                continue;
            };
            let pairs = if l.both_ways.unwrap_or(true) && a != b {
                vec![(a, b), (b, a)]
            } else {
                vec![(a, b)]
            };
            for (x, y) in pairs {
                let p = &mut m[x * k + y];
                if let Some(lat) = l.latency {
                    p.latency = lat;
                }
                if let Some(v) = l.loss {
                    p.loss = v.0;
                }
                if let Some(v) = l.duplicate {
                    p.duplicate = v.0;
                }
                if let Some(v) = l.reorder {
                    p.reorder = v.0;
                }
                if let Some(v) = l.links {
                    p.kind = v.to_sim();
                }
            }
        }
        m
    }

    /// Checks the section against the cluster, with a message saying what is wrong.
    pub fn validate(&self, nodes: usize, network: &NetworkSpec) -> Result<(), String> {
        if self.zones.is_empty() {
            return Err(
                "topology needs at least one zone: zones: [(name: \"dc1\", nodes: 3), ...]".into(),
            );
        }
        if self.zones.len() > sim::network::MAX_ZONES {
            return Err(format!(
                "topology names {} zones; at most {}",
                self.zones.len(),
                sim::network::MAX_ZONES
            ));
        }
        for (i, z) in self.zones.iter().enumerate() {
            let mut chars = z.name.chars();
            let ok = chars.next().is_some_and(|c| c.is_ascii_alphabetic())
                && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
            if !ok {
                return Err(format!(
                    "topology.zones[{i}]: a zone name is a letter followed by letters, digits, `_` or `-` (got {:?})",
                    z.name
                ));
            }
            if z.nodes == 0 {
                return Err(format!(
                    "topology.zones[{i}] ({}) holds no nodes: a zone holds at least one",
                    z.name
                ));
            }
            if let Some(first) = self.zones[..i].iter().position(|o| o.name == z.name) {
                return Err(format!(
                    "topology.zones[{i}] is named `{}` again (topology.zones[{first}] already is): zone names must be unique",
                    z.name
                ));
            }
        }
        let total = self
            .zones
            .iter()
            .fold(0usize, |t, z| t.saturating_add(z.nodes));
        if total != nodes {
            return Err(format!(
                "the topology's zones hold {total} nodes in all, but the scenario has `nodes: {nodes}`: the zones' node counts must add up to the cluster size"
            ));
        }
        for (what, l) in [("inside", self.inside), ("between", self.between)] {
            if let Some(l) = l {
                l.validate().map_err(|e| format!("topology.{what}: {e}"))?;
            }
        }
        if self.links.len() > self.zones.len() * self.zones.len() {
            return Err(format!(
                "topology.links has {} entries, more than the {} ordered zone pairs",
                self.links.len(),
                self.zones.len() * self.zones.len()
            ));
        }
        for (i, l) in self.links.iter().enumerate() {
            if self.index(&l.from).is_none() || self.index(&l.to).is_none() {
                return Err(format!(
                    "topology.links[{i}] names a zone that does not exist"
                ));
            }
        }
        let k = self.zones.len();
        for (i, p) in self.matrix(network).iter().enumerate() {
            let (a, b) = (&self.zones[i / k].name, &self.zones[i % k].name);
            check_link(&format!("topology: the links from {a} to {b}"), p)?;
        }
        Ok(())
    }

    /// The engine's zones (the section must have passed [`Self::validate`]).
    pub fn to_sim(&self, network: &NetworkSpec) -> sim::Zones {
        let k = self.zones.len();
        let m = self.matrix(network);
        sim::Zones::new(self.zone_infos(), |a, b| m[a * k + b])
    }
}

/// The default spread of clock rates: each node's oscillator runs up to this many parts per
/// million fast or slow, drawn per node from the run's clock stream. 100 ppm is a common
/// tolerance of the quartz crystals in servers. It is what breaks the perfect lockstep that
/// identical timeouts would otherwise keep forever (fixed 150–150 ms Raft election timeouts
/// livelock with ideal clocks; with this spread they end after tens of seconds, as in the Raft
/// paper's Figure 16; docs/references.md §1.3). `max_drift_ppm: 0` asks for ideal clocks.
pub const DEFAULT_MAX_DRIFT_PPM: u32 = 100;

/// Node clocks: random offsets and drifts within bounds, and exact per-node settings.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ClocksSpec {
    /// Each node's drift is drawn uniformly in [-max_drift_ppm, +max_drift_ppm] (default
    /// [`DEFAULT_MAX_DRIFT_PPM`]; 0 gives every node an ideal clock).
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
    #[serde(default)]
    pub offset: SignedDur,
}

impl Default for ClocksSpec {
    fn default() -> Self {
        ClocksSpec {
            max_drift_ppm: DEFAULT_MAX_DRIFT_PPM,
            max_offset: Dur::default(),
            nodes: Vec::new(),
        }
    }
}

impl ClocksSpec {
    /// Checks the section, with a message saying what is wrong.
    pub fn validate(&self) -> Result<(), String> {
        if self.max_drift_ppm >= 1_000_000 {
            return Err(format!(
                "clocks.max_drift_ppm must be below 1000000, got {}",
                self.max_drift_ppm
            ));
        }
        for c in &self.nodes {
            if c.drift_ppm <= -1_000_000 {
                return Err(format!(
                    "clocks.nodes: node {} drift {} ppm would stop its clock",
                    c.node.0, c.drift_ppm
                ));
            }
        }
        Ok(())
    }

    /// Per-node clocks, drawing random ones from the run's clock stream (the section must have
    /// passed [`Self::validate`]).
    pub fn to_sim(&self, nodes: usize, seed: u64) -> Vec<sim::Clock> {
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
            clocks[c.node.0 as usize] = sim::Clock::new(c.offset.0, c.drift_ppm);
        }
        clocks
    }
}

/// The storage section: how long each node's disk takes to sync (docs/storage.md). Without
/// it a sync completes at once, as before the disk model existed.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct StorageSpec {
    /// Every node's sync latency: `sync: Uniform("2ms", "10ms")`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sync: Option<Latency>,
    /// Per-node sync latencies, replacing `sync` for those nodes:
    /// `nodes: [(node: 0, sync: Constant("100ms"))]`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub nodes: Vec<NodeDisk>,
}

/// One node's sync latency.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NodeDisk {
    pub node: NodeRef,
    pub sync: Latency,
}

impl StorageSpec {
    /// Whether the section says nothing (every sync completes at once).
    pub fn is_default(&self) -> bool {
        self == &StorageSpec::default()
    }

    /// Checks the section, with a message saying what is wrong.
    pub fn validate(&self) -> Result<(), String> {
        if let Some(l) = &self.sync {
            l.validate().map_err(|e| format!("storage.sync: {e}"))?;
        }
        for (i, d) in self.nodes.iter().enumerate() {
            d.sync
                .validate()
                .map_err(|e| format!("storage.nodes[{i}].sync: {e}"))?;
            if let Some(first) = self.nodes[..i].iter().position(|o| o.node == d.node) {
                return Err(format!(
                    "storage.nodes[{i}] sets node {} again (storage.nodes[{first}] already does)",
                    d.node.0
                ));
            }
        }
        Ok(())
    }

    /// The engine's storage configuration.
    pub fn to_sim(&self) -> sim::StorageConfig {
        sim::StorageConfig {
            sync: self.sync,
            nodes: self.nodes.iter().map(|d| (d.node.0, d.sync)).collect(),
        }
    }
}

/// The processing section: how long each node takes to handle an event (slow nodes,
/// `sim::processing`). Without it every event is handled the instant it arrives, as before
/// the model existed.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ProcessingSpec {
    /// Every node's processing time per event: `time: Exponential(mean: "200us")`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub time: Option<Latency>,
    /// Per-node processing times, replacing `time` for those nodes:
    /// `nodes: [(node: 4, time: Constant("5ms"))]`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub nodes: Vec<NodeProcessing>,
    /// `Queued` (default): timers wait behind a busy node like messages; `OnTime`: timers
    /// fire on time and only messages and requests are slow.
    #[serde(skip_serializing_if = "TimersSpec::is_default")]
    pub timers: TimersSpec,
}

/// Whether timers queue behind a busy node.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum TimersSpec {
    #[default]
    Queued,
    OnTime,
}

impl TimersSpec {
    fn is_default(&self) -> bool {
        *self == TimersSpec::Queued
    }
}

/// One node's processing time.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NodeProcessing {
    pub node: NodeRef,
    pub time: Latency,
}

impl ProcessingSpec {
    /// Whether the section says nothing (every event is handled at once).
    pub fn is_default(&self) -> bool {
        self == &ProcessingSpec::default()
    }

    /// Checks the section, with a message saying what is wrong.
    pub fn validate(&self) -> Result<(), String> {
        if let Some(l) = &self.time {
            l.validate().map_err(|e| format!("processing.time: {e}"))?;
        }
        for (i, d) in self.nodes.iter().enumerate() {
            d.time
                .validate()
                .map_err(|e| format!("processing.nodes[{i}].time: {e}"))?;
            if let Some(first) = self.nodes[..i].iter().position(|o| o.node == d.node) {
                return Err(format!(
                    "processing.nodes[{i}] sets node {} again (processing.nodes[{first}] already does)",
                    d.node.0
                ));
            }
        }
        Ok(())
    }

    /// Checks that every `Slow` fault can slow something: one without `per_event` needs a
    /// processing time to multiply.
    pub fn check_slow<'a>(
        &self,
        faults: impl IntoIterator<Item = &'a FaultSpec>,
    ) -> Result<(), String> {
        if self.time.is_some() || !self.nodes.is_empty() {
            return Ok(());
        }
        for f in faults {
            if let Fault::Slow {
                per_event: None, ..
            } = f
            {
                return Err(
                    "a Slow fault multiplies the nodes' processing time, and this scenario has none: add a \
                     `processing` section with a time (processing: (time: Exponential(mean: \
                     \"200us\"))) or give the fault a base cost (per_event: Constant(\"1ms\"))"
                        .into(),
                );
            }
        }
        Ok(())
    }

    /// The engine's processing configuration.
    pub fn to_sim(&self) -> sim::ProcessingConfig {
        sim::ProcessingConfig {
            time: self.time,
            nodes: self.nodes.iter().map(|d| (d.node.0, d.time)).collect(),
            timers: match self.timers {
                TimersSpec::Queued => sim::processing::TimerMode::Queued,
                TimersSpec::OnTime => sim::processing::TimerMode::OnTime,
            },
        }
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
    /// Maximum resident memory of the process during the run, with units ("2GiB"); reaching
    /// it ends the run as stalled. Default: 90% of the machine's memory, or 85% of the
    /// process's address-space limit when one is set.
    pub max_memory: Option<sim::units::Bytes>,
}
