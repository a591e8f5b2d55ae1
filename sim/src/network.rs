//! The virtual network: latency, loss, duplication, reordering, stream and datagram links,
//! partitions and delay spikes.
//!
//! Every `send` asks the network for the message's fate, drawn from the network's own random
//! stream in a fixed order (loss, latency, spike extras, reorder, then the duplicate's fate):
//! - **Datagram links** lose, duplicate and reorder with the configured probabilities; a
//!   reordered message is held back by one more latency draw, so later messages overtake it.
//! - **Stream links** (TCP-like) are reliable and FIFO: a message is never delivered before an
//!   earlier message on the same directed link. Loss, duplication and reordering do not apply
//!   to them (a stream masks them); a cut drops everything in flight on the link.
//! - A link that is cut when the message is sent drops it at once; a link cut at any moment
//!   while the message is in flight drops it on arrival (see `partition.rs`).
//! - Delay spikes add an extra latency draw to messages sent from or to the affected nodes
//!   during the spike.
//! - Zones ([`Zones`]): with a topology, each node belongs to a zone and a link without a
//!   per-link override takes its parameters from the zone-to-zone matrix (one index into a
//!   table per send; no cost without zones).
//! - Degradations ([`Degrade`], the `Degrade` fault) add an extra latency draw and a loss
//!   probability to messages between two sets of nodes for a while; a stream link turns each
//!   loss into a retransmission ([`RETRANSMIT_NS`]). They draw from the network stream only
//!   for messages they affect, so a run without one draws exactly as before.

use crate::latency::Latency;
use crate::partition::Partitions;
use crate::rng::{StreamRng, chance};
use crate::{NodeId, Time};
use rustc_hash::FxHashMap;
use std::collections::BTreeMap;

/// How a link carries messages.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum LinkKind {
    /// Ordered and reliable while connected (TCP-like); a cut drops what is in flight.
    #[default]
    Stream,
    /// Independent packets (UDP-like): lossy, duplicating, reordering as configured.
    Datagram,
}

/// The parameters of one directed link.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LinkParams {
    /// One-way latency.
    pub latency: Latency,
    /// Probability a message is lost (datagram links only).
    pub loss: f64,
    /// Probability a message is delivered twice (datagram links only).
    pub duplicate: f64,
    /// Probability a message is held back by an extra latency draw (datagram links only).
    pub reorder: f64,
    /// Stream or datagram.
    pub kind: LinkKind,
}

impl Default for LinkParams {
    fn default() -> Self {
        LinkParams {
            latency: Latency::Constant(1_000_000),
            loss: 0.0,
            duplicate: 0.0,
            reorder: 0.0,
            kind: LinkKind::Stream,
        }
    }
}

impl LinkParams {
    /// Checks probabilities and the latency distribution.
    pub fn validate(&self) -> Result<(), String> {
        self.latency.validate()?;
        for (name, p) in [
            ("loss", self.loss),
            ("duplicate", self.duplicate),
            ("reorder", self.reorder),
        ] {
            if !(0.0..=1.0).contains(&p) {
                return Err(format!("{name} must be a probability in [0, 1], got {p}"));
            }
        }
        Ok(())
    }
}

/// The network of a run: default link parameters, per-link overrides, client latency.
#[derive(Clone, Debug, Default)]
pub struct NetConfig {
    /// Parameters of every link without an override.
    pub default: LinkParams,
    /// Directed per-link overrides, `(from, to) -> params`.
    pub links: BTreeMap<(NodeId, NodeId), LinkParams>,
    /// Latency between a client and a node, each way (clients are never partitioned).
    pub client_latency: Latency,
    /// The topology: zones and their link matrix (empty: no zones, every link without an
    /// override takes `default`).
    pub zones: Zones,
}

/// One zone (a datacenter, a rack): a name and the consecutive node ids it holds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ZoneInfo {
    /// Its name, as scenario files write it in `Zone("dc1")`.
    pub name: String,
    /// Its nodes: ids `nodes.start` to `nodes.end - 1`.
    pub nodes: std::ops::Range<u32>,
}

impl ZoneInfo {
    /// Its node ids, in order.
    pub fn ids(&self) -> impl Iterator<Item = NodeId> + '_ {
        self.nodes.clone().map(NodeId)
    }

    /// Whether `id` is one of its nodes.
    pub fn contains(&self, id: NodeId) -> bool {
        self.nodes.contains(&id.0)
    }
}

/// The most zones a topology may have (the link matrix holds one entry per ordered pair).
pub const MAX_ZONES: usize = 256;

/// Zones and the zone-to-zone link matrix. A link between two nodes without a per-link
/// override takes `matrix[zone(from) * zones + zone(to)]`: the diagonal is the inside of a
/// zone, the rest the links between zones.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Zones {
    zones: Vec<ZoneInfo>,
    /// Each node's zone index.
    of_node: Vec<u16>,
    /// `zones.len()²` link parameters, row by sending zone.
    matrix: Vec<LinkParams>,
}

impl Zones {
    /// Zones covering nodes `0..n` in order, with the matrix `matrix(from_zone, to_zone)`.
    ///
    /// # Panics
    /// When the zones do not cover `0..n` consecutively in order, or there are more than
    /// [`MAX_ZONES`] (a scenario file is checked for both before a run).
    pub fn new(zones: Vec<ZoneInfo>, mut matrix: impl FnMut(usize, usize) -> LinkParams) -> Zones {
        assert!(zones.len() <= MAX_ZONES, "at most {MAX_ZONES} zones");
        let mut of_node = Vec::new();
        for (i, z) in zones.iter().enumerate() {
            assert_eq!(
                z.nodes.start as usize,
                of_node.len(),
                "zone {} must start where the one before ends",
                z.name
            );
            of_node.extend(z.nodes.clone().map(|_| i as u16));
        }
        let k = zones.len();
        let matrix = (0..k * k).map(|i| matrix(i / k, i % k)).collect();
        Zones {
            zones,
            of_node,
            matrix,
        }
    }

    /// Whether there are no zones.
    pub fn is_empty(&self) -> bool {
        self.zones.is_empty()
    }

    /// The zones, in order.
    pub fn list(&self) -> &[ZoneInfo] {
        &self.zones
    }

    /// The zone named `name`.
    pub fn get(&self, name: &str) -> Option<&ZoneInfo> {
        self.zones.iter().find(|z| z.name == name)
    }

    /// The zone of a node (`None` without zones, or for a node no zone holds).
    pub fn zone_of(&self, id: NodeId) -> Option<&ZoneInfo> {
        let i = *self.of_node.get(id.index())?;
        self.zones.get(usize::from(i))
    }

    /// The parameters of the link between two zones (by index).
    pub fn params(&self, from: usize, to: usize) -> &LinkParams {
        &self.matrix[from * self.zones.len() + to]
    }

    /// The parameters of the link from one node to another, by their zones.
    #[inline]
    fn link(&self, from: NodeId, to: NodeId) -> Option<&LinkParams> {
        let a = *self.of_node.get(from.index())? as usize;
        let b = *self.of_node.get(to.index())? as usize;
        self.matrix.get(a * self.zones.len() + b)
    }
}

/// What a stream link adds to a message for each loss a [`Degrade`] draws for it: the
/// retransmission timeout of a lost segment (Linux's minimum RTO, 200 ms). Constant, not
/// doubled per retry; at most [`MAX_RETRANSMITS`] per message.
pub const RETRANSMIT_NS: u64 = 200_000_000;

/// The most retransmissions a stream message takes under a [`Degrade`] (Linux's
/// `tcp_retries2` default), so that `loss: 1.0` delays messages instead of looping.
pub const MAX_RETRANSMITS: u32 = 15;

/// A temporary degradation of the links between two sets of nodes, both ways: extra latency
/// and loss (the `Degrade` fault).
#[derive(Clone, Debug)]
pub struct Degrade {
    /// One side, sorted.
    pub a: Vec<NodeId>,
    /// The other side, sorted.
    pub b: Vec<NodeId>,
    /// An extra latency drawn per message, if any.
    pub extra: Option<Latency>,
    /// Probability a message is lost (datagram) or retransmitted (stream), per draw.
    pub loss: f64,
    /// When it ends (true time).
    pub until: Time,
}

impl Degrade {
    /// Whether the message from `from` to `to` crosses it.
    fn hits(&self, from: NodeId, to: NodeId) -> bool {
        let (a, b) = (&self.a, &self.b);
        (a.binary_search(&from).is_ok() && b.binary_search(&to).is_ok())
            || (b.binary_search(&from).is_ok() && a.binary_search(&to).is_ok())
    }
}

/// A temporary extra delay on messages from or to some nodes.
#[derive(Clone, Debug)]
pub struct Spike {
    /// Affected nodes; `None` means every node.
    pub nodes: Option<Vec<NodeId>>,
    /// The extra latency drawn per message.
    pub extra: Latency,
    /// When the spike ends (true time).
    pub until: Time,
}

/// The fate of one sent message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fate {
    /// Dropped by random loss.
    Lost,
    /// Dropped because the link is cut.
    Cut,
    /// Delivered at this true time, and (when duplicated) once more at the second time.
    Deliver(Time, Option<Time>),
}

/// Network state during a run.
pub struct Network {
    cfg: NetConfig,
    fast_links: FxHashMap<(u32, u32), LinkParams>,
    /// Last delivery time per directed stream link, for FIFO order.
    stream_tail: FxHashMap<(u32, u32), Time>,
    /// Partitions in force and the cut log.
    pub partitions: Partitions,
    spikes: Vec<Spike>,
    degrades: Vec<Degrade>,
    /// No per-link overrides and no zones: every link takes the default.
    uniform: bool,
    rng: StreamRng,
}

impl Network {
    /// A network with the given configuration and its own random stream.
    pub fn new(cfg: NetConfig, rng: StreamRng) -> Network {
        let fast_links = cfg
            .links
            .iter()
            .map(|(&(a, b), p)| ((a.0, b.0), *p))
            .collect();
        let uniform = cfg.links.is_empty() && cfg.zones.is_empty();
        Network {
            cfg,
            fast_links,
            stream_tail: FxHashMap::default(),
            partitions: Partitions::default(),
            spikes: Vec::new(),
            degrades: Vec::new(),
            uniform,
            rng,
        }
    }

    /// The configuration.
    pub fn config(&self) -> &NetConfig {
        &self.cfg
    }

    /// The parameters of a directed link: its per-link override, else its zones' entry of
    /// the matrix, else the default.
    #[inline]
    pub fn link(&self, from: NodeId, to: NodeId) -> &LinkParams {
        if self.uniform {
            return &self.cfg.default;
        }
        if !self.fast_links.is_empty()
            && let Some(p) = self.fast_links.get(&(from.0, to.0))
        {
            return p;
        }
        self.cfg.zones.link(from, to).unwrap_or(&self.cfg.default)
    }

    /// The zones of the topology (empty without one).
    pub fn zones(&self) -> &Zones {
        &self.cfg.zones
    }

    /// Starts a delay spike.
    pub fn add_spike(&mut self, spike: Spike) {
        self.spikes.push(spike);
    }

    /// Starts a degradation between two sets of nodes.
    pub fn add_degrade(&mut self, mut degrade: Degrade) {
        degrade.a.sort_unstable();
        degrade.b.sort_unstable();
        self.degrades.push(degrade);
    }

    /// Whether a degradation in force on the link loses the message: one draw per
    /// degradation with a loss that covers the link, in the order they started, up to the
    /// first loss.
    fn degrade_lost(&mut self, now: Time, from: NodeId, to: NodeId) -> bool {
        self.degrades.retain(|g| g.until > now);
        for g in &self.degrades {
            if g.loss > 0.0 && g.hits(from, to) && chance(&mut self.rng, g.loss) {
                return true;
            }
        }
        false
    }

    /// The retransmission delay of a stream message the degradations in force lose: for each
    /// degradation with a loss that covers the link, draws until one is not lost (at most
    /// [`MAX_RETRANSMITS`]), [`RETRANSMIT_NS`] per loss.
    fn retransmissions(&mut self, now: Time, from: NodeId, to: NodeId) -> u64 {
        self.degrades.retain(|g| g.until > now);
        let mut d = 0u64;
        for g in &self.degrades {
            if g.loss > 0.0 && g.hits(from, to) {
                let mut tries = 0;
                while tries < MAX_RETRANSMITS && chance(&mut self.rng, g.loss) {
                    d = d.saturating_add(RETRANSMIT_NS);
                    tries += 1;
                }
            }
        }
        d
    }

    /// Decides the fate of a message sent now from `from` to `to`.
    pub fn send(&mut self, now: Time, from: NodeId, to: NodeId) -> Fate {
        if self.partitions.any_active() && self.partitions.blocked(from, to) {
            return Fate::Cut;
        }
        let p = *self.link(from, to);
        match p.kind {
            LinkKind::Datagram => {
                if chance(&mut self.rng, p.loss) {
                    return Fate::Lost;
                }
                if !self.degrades.is_empty() && self.degrade_lost(now, from, to) {
                    return Fate::Lost;
                }
                let first = self.datagram_arrival(now, from, to, &p);
                let dup = chance(&mut self.rng, p.duplicate)
                    .then(|| self.datagram_arrival(now, from, to, &p));
                Fate::Deliver(first, dup)
            }
            LinkKind::Stream => {
                let mut d = self.delay(now, from, to, &p);
                if !self.degrades.is_empty() {
                    // A reliable link does not lose the message: the sender retransmits it
                    // after a timeout, once per loss drawn.
                    d = d.saturating_add(self.retransmissions(now, from, to));
                }
                let at = now + std::time::Duration::from_nanos(d);
                let tail = self.stream_tail.entry((from.0, to.0)).or_insert(Time::ZERO);
                let at = at.max(*tail);
                *tail = at;
                Fate::Deliver(at, None)
            }
        }
    }

    /// A client's request or reply: the client latency, no loss, never partitioned.
    pub fn client_delay(&mut self) -> u64 {
        self.cfg.client_latency.sample(&mut self.rng)
    }

    fn datagram_arrival(&mut self, now: Time, from: NodeId, to: NodeId, p: &LinkParams) -> Time {
        let mut d = self.delay(now, from, to, p);
        if chance(&mut self.rng, p.reorder) {
            d = d.saturating_add(p.latency.sample(&mut self.rng));
        }
        Time(now.0.saturating_add(d))
    }

    /// Latency plus the extras of every spike in force on the link.
    fn delay(&mut self, now: Time, from: NodeId, to: NodeId, p: &LinkParams) -> u64 {
        let mut d = p.latency.sample(&mut self.rng);
        if !self.spikes.is_empty() {
            self.spikes.retain(|s| s.until > now);
            for s in &self.spikes {
                let hit = match &s.nodes {
                    None => true,
                    Some(nodes) => nodes.contains(&from) || nodes.contains(&to),
                };
                if hit {
                    d = d.saturating_add(s.extra.sample(&mut self.rng));
                }
            }
        }
        if !self.degrades.is_empty() {
            self.degrades.retain(|g| g.until > now);
            for g in &self.degrades {
                if let Some(extra) = g.extra
                    && g.hits(from, to)
                {
                    d = d.saturating_add(extra.sample(&mut self.rng));
                }
            }
        }
        d
    }
}
