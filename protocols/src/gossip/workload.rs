//! The update workload: clients that inject `(key, value)` updates at nodes.
//!
//! Owns [`UpdateWorkload`], built from [`UpdatesConfig`]. Updates come from an explicit list
//! (`updates: [(at: "1s", node: Some(3), key: 0)]`) and/or at a fixed `rate` per second
//! between `start` and `stop`, each to a fixed node or to a node drawn uniformly from the
//! workload's random stream. Every update carries a fresh value (1, 2, 3, ...), so the
//! NoInventedValues check can tell any two writes apart. An update sent to a crashed node is
//! lost (the engine drops the request), as a client's write to a dead server would be.

use super::node::{GossipNode, Update};
use super::{UpdateAt, UpdatesConfig};
use sim::rng::index;
use sim::{ClientId, NodeId, Workload, WorkloadCtx};
use std::time::Duration;

/// Timer tokens: the explicit list uses its index; the rate stream uses this one.
const RATE_TOKEN: u64 = u64::MAX;

/// The workload of a gossip run.
pub struct UpdateWorkload {
    cfg: UpdatesConfig,
    nodes: u32,
    /// Values handed out so far (the next value is `issued + 1`).
    issued: u64,
}

impl UpdateWorkload {
    /// A workload for a cluster of `nodes` nodes.
    pub fn new(cfg: UpdatesConfig, nodes: usize) -> UpdateWorkload {
        UpdateWorkload {
            cfg,
            nodes: nodes as u32,
            issued: 0,
        }
    }

    fn issue(&mut self, ctx: &mut WorkloadCtx<'_, GossipNode>, node: Option<u32>, key: u32) {
        self.issued += 1;
        let node = match node {
            Some(n) => n,
            None => index(ctx.rng(), self.nodes as usize) as u32,
        };
        ctx.count("gossip.updates_submitted", 1);
        ctx.submit(
            NodeId(node),
            self.issued,
            Update {
                key,
                value: self.issued,
            },
        );
    }
}

impl Workload<GossipNode> for UpdateWorkload {
    fn start(&mut self, ctx: &mut WorkloadCtx<'_, GossipNode>) {
        for (i, u) in self.cfg.updates.iter().enumerate() {
            ctx.set_timer(u.at.0, i as u64);
        }
        if self.cfg.rate > 0.0 && self.cfg.stop > self.cfg.start {
            ctx.set_timer(self.cfg.start.0, RATE_TOKEN);
        }
    }

    fn on_reply(&mut self, _: &mut WorkloadCtx<'_, GossipNode>, _: NodeId, _: ClientId, _: ()) {}

    /// A scheduled update (its node and key), or the next update of the rate stream.
    fn describe_timer(&self, token: u64) -> Option<serde_json::Value> {
        Some(match self.cfg.updates.get(token as usize) {
            Some(u) if token != RATE_TOKEN => {
                serde_json::json!({ "update": { "node": u.node, "key": u.key } })
            }
            _ => serde_json::json!({ "update": "next of the rate stream" }),
        })
    }

    fn on_timer(&mut self, ctx: &mut WorkloadCtx<'_, GossipNode>, token: u64) {
        if token != RATE_TOKEN {
            let UpdateAt { node, key, .. } = self.cfg.updates[token as usize];
            self.issue(ctx, node, key);
            return;
        }
        let key = index(ctx.rng(), self.cfg.keys.max(1) as usize) as u32;
        self.issue(ctx, self.cfg.node, key);
        let gap = Duration::from_secs_f64(1.0 / self.cfg.rate);
        if ctx.now() + gap < sim::Time::ZERO + self.cfg.stop.0 {
            ctx.set_timer(gap, RATE_TOKEN);
        }
    }
}

impl UpdatesConfig {
    /// The true time of the last update this workload may inject (zero if none).
    pub fn last_update(&self) -> Duration {
        let listed = self.updates.iter().map(|u| u.at.0).max();
        let rated = (self.rate > 0.0 && self.stop > self.start).then_some(self.stop.0);
        listed.into_iter().chain(rated).max().unwrap_or_default()
    }

    /// Checks the config against the cluster size and the run's length.
    pub fn validate(&self, nodes: usize, duration: Duration) -> Result<(), String> {
        use crate::limits;
        if self.updates.len() > limits::MAX_LIST {
            return Err(format!(
                "{} updates listed; at most {}",
                self.updates.len(),
                limits::MAX_LIST
            ));
        }
        if let Some(u) = self.updates.iter().find(|u| u.at.0 > duration) {
            return Err(format!(
                "an update at {} is after the end of the run ({})",
                u.at,
                crate::units::Dur(duration)
            ));
        }
        limits::number("rate", self.rate, 0.0, 1e6)?;
        limits::count("keys", u64::from(self.keys), 0, limits::MAX_KEYS)?;
        if self.start > self.stop && self.rate > 0.0 {
            return Err(format!(
                "start ({}) must not be after stop ({})",
                self.start, self.stop
            ));
        }
        let bad_node = |n: Option<u32>| n.filter(|&n| n as usize >= nodes);
        if let Some(n) = bad_node(self.node) {
            return Err(format!("workload node {n} does not exist ({nodes} nodes)"));
        }
        if let Some(u) = self.updates.iter().find(|u| bad_node(u.node).is_some()) {
            return Err(format!(
                "update at {} targets node {:?}, which does not exist ({nodes} nodes)",
                u.at,
                u.node.unwrap_or_default()
            ));
        }
        if self.rate > 0.0 && self.keys == 0 {
            return Err("keys must be at least 1 when rate is set".into());
        }
        Ok(())
    }
}
