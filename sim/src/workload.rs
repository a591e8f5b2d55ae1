//! Workloads: the clients of the system under test.
//!
//! A workload issues client requests to nodes, receives their replies and keeps whatever
//! history it needs (for example for a linearizability check at the end). Requests and replies
//! travel with the network's client latency; clients are never partitioned from nodes, but a
//! crashed node never answers, and a paused one answers late.

use crate::engine::Core;
use crate::metrics::Metrics;
use crate::monitor::{Check, View};
use crate::protocol::{ClientId, Protocol};
use crate::rng::StreamRng;
use crate::{NodeId, Time};
use std::time::Duration;

/// The clients of a run.
pub trait Workload<P: Protocol> {
    /// Called once at time zero, after the nodes have started.
    fn start(&mut self, ctx: &mut WorkloadCtx<'_, P>);

    /// A node's reply reached a client.
    fn on_reply(
        &mut self,
        ctx: &mut WorkloadCtx<'_, P>,
        from: NodeId,
        client: ClientId,
        reply: P::Reply,
    );

    /// A timer set with `WorkloadCtx::set_timer` fired.
    fn on_timer(&mut self, ctx: &mut WorkloadCtx<'_, P>, token: u64);

    /// What the timer `token` is, for the trace (asked as it fires, before `on_timer`, and only
    /// while a trace is recorded): `{"client": 3, "waits_for": "reply"}` rather than a bare
    /// number. The default says nothing, and the trace shows the token alone.
    fn describe_timer(&self, token: u64) -> Option<serde_json::Value> {
        let _ = token;
        None
    }

    /// Called once when the run ends without a violation: check the history here.
    fn finish(&mut self, _view: &View<'_, P>) -> Check {
        Check::Ok
    }

    /// Adds this workload's measurements to the run's metrics.
    fn report(&self, _metrics: &mut Metrics) {}

    /// What the workload can write out for other tools, as `(format, text)` pairs — the KV
    /// clients' history as JSON lines (`jsonl`) and as Jepsen EDN (`edn`). Asked for once at
    /// the end of a run whose config sets `record_exports` (`faultline run --history`).
    fn exports(&self) -> Vec<(&'static str, String)> {
        Vec::new()
    }
}

/// A workload that does nothing (protocols that run on their own, like an anti-entropy
/// cluster without updates).
pub struct NoWorkload;

impl<P: Protocol> Workload<P> for NoWorkload {
    fn start(&mut self, _ctx: &mut WorkloadCtx<'_, P>) {}
    fn on_reply(&mut self, _: &mut WorkloadCtx<'_, P>, _: NodeId, _: ClientId, _: P::Reply) {}
    fn on_timer(&mut self, _ctx: &mut WorkloadCtx<'_, P>, _token: u64) {}
}

/// What a workload can do.
pub struct WorkloadCtx<'a, P: Protocol> {
    pub(crate) core: &'a mut Core<P>,
    pub(crate) rng: &'a mut StreamRng,
}

impl<P: Protocol> WorkloadCtx<'_, P> {
    /// True simulation time (clients measure latency on the true timeline).
    pub fn now(&self) -> Time {
        self.core.now
    }

    /// The number of nodes.
    pub fn node_count(&self) -> usize {
        self.core.meta.len()
    }

    /// Sends a request to a node; it arrives after the client latency.
    pub fn submit(&mut self, node: NodeId, client: ClientId, request: P::Request) {
        self.core.submit(node, client, request);
    }

    /// Sets a timer that fires after `after` with `token`.
    pub fn set_timer(&mut self, after: Duration, token: u64) {
        self.core.set_workload_timer(after, token);
    }

    /// The workload's random stream.
    pub fn rng(&mut self) -> &mut StreamRng {
        self.rng
    }

    /// Adds `n` to a named counter.
    pub fn count(&mut self, name: &'static str, n: u64) {
        self.core.metrics.count(name, n);
    }

    /// Records a named sample at the current time.
    pub fn sample(&mut self, name: &'static str, value: f64) {
        let now = self.core.now;
        self.core.metrics.sample(name, now, value);
    }
}
