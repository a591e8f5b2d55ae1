//! The queue workload's run: producers (`producer.rs`) and consumers (`consumer.rs`)
//! recording into the [`QueueHistory`] that Jepsen's queue checker (`check.rs`) reads at the
//! end, with `AcknowledgedKept` judged against the final logs. Producers stop `drain` before
//! the end; the consumers then read to each leader's high watermark, which makes `Unseen`
//! meaningful. The configuration is in `queue_config.rs`.

use super::check::{self, Anomaly};
use super::consumer::{Consumer, Pending};
use super::history::{QueueHistory, SendResult};
use super::metric;
use super::node::{Broker, Reply};
use super::producer::{Producer, Wait};
use super::queue_config::QueueWorkloadConfig;
use crate::checks::{Checks, Invariant};
use crate::family::Setup;
use sim::{ClientId, Metrics, NodeId, Time, View, Violation, Workload, WorkloadCtx};
use std::collections::BTreeMap;
use std::time::Duration;

/// The producers and consumers of a run.
pub struct QueueWorkload {
    pub(super) cfg: QueueWorkloadConfig,
    pub(super) partitions: u32,
    pub(super) producers: Vec<Producer>,
    pub(super) consumers: Vec<Consumer>,
    pub(super) history: QueueHistory,
    pub(super) next_value: u64,
    pub(super) next_process: u64,
    /// The leader of each partition as last heard, shared by every client (a metadata cache).
    pub(super) leaders: Vec<Option<NodeId>>,
    /// The newest leader epoch of each partition a consumer has read from.
    pub(super) epochs: Vec<u64>,
    pub(super) controller: Option<NodeId>,
    /// When each partition's producers started getting no acknowledgement.
    pub(super) down_since: Vec<Option<Time>>,
    /// Invocation time of every value not yet read.
    pub(super) unread: BTreeMap<u64, Time>,
    /// Per partition: when a consumer's last read found it at the high watermark (`None`
    /// if that read was behind).
    pub(super) at_hw: Vec<Option<Time>>,
    /// When the last send ended.
    pub(super) last_send: Time,
    /// Acknowledged sends missing from the final logs (set at the end of the run).
    pub(super) missing: Option<u64>,
    pub(super) latencies_ms: Vec<f64>,
    pub(super) checks: Checks,
    pub(super) stop_at: Time,
    pub(super) quiet_from: Time,
    pub(super) duration: Duration,
}

pub(super) const STOP: u64 = u64::MAX;

impl QueueWorkload {
    /// The clients of `cfg` over `partitions` partitions; `checks` selects what `finish`
    /// reports.
    pub fn new(
        cfg: QueueWorkloadConfig,
        partitions: u32,
        checks: &Checks,
        setup: &Setup,
    ) -> QueueWorkload {
        let p = partitions as usize;
        QueueWorkload {
            producers: Vec::new(),
            consumers: Vec::new(),
            history: QueueHistory::default(),
            next_value: 1,
            next_process: 0,
            leaders: vec![None; p],
            epochs: vec![0; p],
            controller: None,
            down_since: vec![None; p],
            unread: BTreeMap::new(),
            at_hw: vec![None; p],
            last_send: Time::ZERO,
            missing: None,
            latencies_ms: Vec::new(),
            checks: checks.clone(),
            stop_at: Time::ZERO + setup.duration.saturating_sub(cfg.drain.0),
            quiet_from: setup.quiet_from,
            duration: setup.duration,
            partitions,
            cfg,
        }
    }

    pub(super) fn process(&mut self) -> u64 {
        self.next_process += 1;
        self.next_process
    }

    pub(super) fn token(generation: u64, i: usize) -> u64 {
        (generation << 20) | i as u64
    }
}

impl Workload<Broker> for QueueWorkload {
    fn start(&mut self, ctx: &mut WorkloadCtx<'_, Broker>) {
        let n = ctx.node_count();
        let p = self.partitions as usize;
        for i in 0..self.cfg.producers as usize {
            let process = self.process();
            self.producers.push(Producer {
                process,
                seqs: vec![0; p],
                send: None,
                target: NodeId((i % n) as u32),
                wait: Wait::Think,
                generation: 0,
            });
        }
        for j in 0..self.cfg.consumers as usize {
            let process = self.process();
            self.consumers.push(Consumer {
                process,
                session: 0,
                positions: vec![Some(0); p],
                next: j,
                pending: None,
                target: NodeId((j % n) as u32),
                last_commit: Time::ZERO,
                generation: 0,
            });
        }
        for i in 0..self.producers.len() {
            self.wait(ctx, i, Wait::Think, self.cfg.start.0);
        }
        for j in 0..self.consumers.len() {
            let c = &mut self.consumers[j];
            c.generation += 1;
            let token = Self::token(c.generation, self.producers.len() + j);
            ctx.set_timer(self.cfg.start.0, token);
            self.schedule_restart(ctx, j);
        }
    }

    fn on_reply(
        &mut self,
        ctx: &mut WorkloadCtx<'_, Broker>,
        from: NodeId,
        client: ClientId,
        reply: Reply,
    ) {
        let i = client as usize;
        if i < self.producers.len() {
            self.on_produce_reply(ctx, from, i, reply);
        } else {
            self.on_consumer_reply(ctx, from, i - self.producers.len(), reply);
        }
    }

    fn on_timer(&mut self, ctx: &mut WorkloadCtx<'_, Broker>, token: u64) {
        if token > STOP - 1 - (1 << 20) {
            return self.restart_consumer(ctx, ((STOP - 1) ^ token) as usize);
        }
        let (generation, i) = (token >> 20, (token & ((1 << 20) - 1)) as usize);
        if i < self.producers.len() {
            let pr = &mut self.producers[i];
            if pr.generation != generation {
                return;
            }
            match pr.wait {
                Wait::Think => self.invoke(ctx, i),
                Wait::Backoff => self.attempt(ctx, i),
                Wait::Reply => {
                    let n = ctx.node_count() as u32;
                    let s = pr.send.as_mut().expect("waiting for a reply");
                    s.maybe_appended = true;
                    self.leaders[s.partition as usize] = None;
                    pr.target = NodeId((pr.target.0 + 1) % n);
                    self.retry(ctx, i);
                }
                Wait::Stopped => {}
            }
        } else {
            let j = i - self.producers.len();
            let c = &mut self.consumers[j];
            if c.generation != generation {
                return;
            }
            if c.pending.is_some() {
                // Timed out: try another broker.
                let n = ctx.node_count() as u32;
                c.target = NodeId((c.target.0 + 1) % n);
                match c.pending {
                    Some(Pending::Poll { partition, .. }) => {
                        self.leaders[partition as usize] = None
                    }
                    Some(Pending::Commit) => {
                        // Commits are periodic: a lost one is retried next period, and the
                        // consumer goes on polling meanwhile.
                        c.last_commit = ctx.now();
                        self.controller = None;
                    }
                    _ => self.controller = None,
                }
                c.pending = None;
            }
            self.consumer_step(ctx, j);
        }
    }

    fn finish(&mut self, view: &View<'_, Broker>) -> sim::Check {
        self.history.drained = self.drained();
        let (missing, explanation) = missing_from_logs(&self.history, view);
        self.missing = Some(missing);
        if missing > 0 && self.checks.has(Invariant::ACKNOWLEDGED_KEPT) {
            return sim::Check::Violated(Violation::new(
                Invariant::ACKNOWLEDGED_KEPT.name(),
                explanation,
            ));
        }
        let anomalies: Vec<Anomaly> = check::check(&self.history);
        match anomalies.into_iter().find(|a| self.checks.has(a.invariant)) {
            Some(a) => sim::Check::Violated(Violation::new(a.invariant.name(), a.message)),
            None => sim::Check::Ok,
        }
    }

    fn report(&self, metrics: &mut Metrics) {
        if let Some(missing) = self.missing {
            metrics.count(metric::ACKED_MISSING, missing);
        }
        metrics.count("kafka.drained", u64::from(self.history.drained));
        let (acked, unread) = check::unread_acknowledged(&self.history);
        metrics.count("kafka.acked_unread", unread as u64);
        let secs = self.duration.as_secs_f64().max(1e-9);
        metrics.sample(metric::THROUGHPUT, Time::ZERO, acked as f64 / secs);
        if acked > 0 {
            metrics.sample(metric::LOSS_RATE, Time::ZERO, unread as f64 / acked as f64);
        }
        if let Some(s) = sim::Summary::of(&self.latencies_ms) {
            metrics.sample("kafka.produce_p50_ms", Time::ZERO, s.p50);
            metrics.sample("kafka.produce_p99_ms", Time::ZERO, s.p99);
        }
    }

    fn exports(&self) -> Vec<(&'static str, String)> {
        let lines: Vec<String> = self
            .history
            .ops
            .iter()
            .map(|op| serde_json::to_string(op).expect("a history op serializes"))
            .collect();
        vec![("jsonl", lines.join("\n") + "\n")]
    }
}

/// Sends acknowledged at an offset that the final log of their partition does not hold:
/// the log of the live broker leading the newest leader epoch, or, with no live leader, the
/// longest live replica's. Consumers may have read such a send before it vanished, so
/// Jepsen's lost-write misses it; `AcknowledgedKept` does not. Returns the count and an
/// explanation naming the first few.
fn missing_from_logs(history: &QueueHistory, view: &View<'_, Broker>) -> (u64, String) {
    let mut logs: BTreeMap<u32, (u64, u64, NodeId)> = BTreeMap::new();
    for (id, node) in view.live_nodes() {
        for (p, log) in view.durable(id).logs.iter().enumerate() {
            let Some(r) = node.replica(p) else { continue };
            let rank = (u64::from(r.leads()) * r.leader_epoch, log.leo());
            let best = logs.entry(p as u32).or_insert((rank.0, rank.1, id));
            if rank > (best.0, best.1) {
                *best = (rank.0, rank.1, id);
            }
        }
    }
    let mut missing = 0u64;
    let mut cases = Vec::new();
    for (i, op) in history.ops.iter().enumerate() {
        let super::history::OpKind::Send {
            partition,
            value,
            result: SendResult::Ok(offset),
        } = &op.kind
        else {
            continue;
        };
        let holder = logs.get(partition).map(|l| l.2);
        let held = holder.and_then(|id| {
            view.durable(id).logs[*partition as usize]
                .records
                .get(*offset as usize)
        });
        if held.is_some_and(|r| r.value == *value) {
            continue;
        }
        missing += 1;
        if cases.len() < 3 {
            let there = match (holder, held) {
                (Some(id), Some(r)) => format!("{id}'s log holds value {} there", r.value),
                (Some(id), None) => format!("{id}'s log ends before it"),
                (None, _) => "no live replica holds the partition".to_string(),
            };
            cases.push(format!(
                "op {i} sent value {value}, acknowledged at partition {partition} offset {offset}; {there}"
            ));
        }
    }
    let more = missing.saturating_sub(cases.len() as u64);
    let mut text = format!(
        "{missing} acknowledged send(s) missing from the final log: {}",
        cases.join("; ")
    );
    if more > 0 {
        text.push_str(&format!("; and {more} more"));
    }
    (missing, text)
}
