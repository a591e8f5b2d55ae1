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
        Network {
            cfg,
            fast_links,
            stream_tail: FxHashMap::default(),
            partitions: Partitions::default(),
            spikes: Vec::new(),
            rng,
        }
    }

    /// The configuration.
    pub fn config(&self) -> &NetConfig {
        &self.cfg
    }

    /// The parameters of a directed link.
    pub fn link(&self, from: NodeId, to: NodeId) -> &LinkParams {
        if self.fast_links.is_empty() {
            return &self.cfg.default;
        }
        self.fast_links
            .get(&(from.0, to.0))
            .unwrap_or(&self.cfg.default)
    }

    /// Starts a delay spike.
    pub fn add_spike(&mut self, spike: Spike) {
        self.spikes.push(spike);
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
                let first = self.datagram_arrival(now, from, to, &p);
                let dup = chance(&mut self.rng, p.duplicate)
                    .then(|| self.datagram_arrival(now, from, to, &p));
                Fate::Deliver(first, dup)
            }
            LinkKind::Stream => {
                let at = now + std::time::Duration::from_nanos(self.delay(now, from, to, &p));
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
        d
    }
}
