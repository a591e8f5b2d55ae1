//! The generic parts of a scenario: network, clocks, timed faults, limits.
//!
//! Every struct rejects unknown fields and defaults every optional field, so a typo is an
//! error and a short file is a complete one. Faults and latency distributions are the engine's
//! own types (`sim::Fault`, `sim::Latency`), read as written; node ids are [`NodeRef`]s, which
//! check that the node exists while the file is parsed. Each section has a `validate` that
//! `scenario::parse` runs once, and an infallible conversion into the engine's types that each
//! run uses. `docs/scenario-format.md` documents each field.

use super::validate::{FaultTime, NodeRef, Probability};
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
