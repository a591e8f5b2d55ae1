//! The replicas' monitor: `CommittedLogsAgree` and `ReplicasConverge` (from the logs, not the
//! clients), partition
//! leadership (`LeaderPerPartitionWithin`, leader changes) and the ISR-size series.
//!
//! A record is committed once it is below some replica's high watermark. The monitor keeps,
//! per partition, the committed records in offset order as first seen; after every event at
//! a broker it compares the part of that broker's logs newly below their high watermark with
//! them. A replica holding a different record at a committed offset has lost a committed
//! record (truncated and overwritten) or diverged: KIP-101's two scenarios, unclean election.

use super::KafkaConfig;
use super::metric;
use super::node::{Broker, Record};
use crate::checks::{Checks, Invariant};
use sim::{Check, EventInfo, Metrics, Monitor, NodeId, Time, View, Violation};

/// The ISR-size series of the first partitions: `kafka.isr_size.p0` and on.
pub const ISR_SERIES: [&str; 16] = [
    "kafka.isr_size.p0",
    "kafka.isr_size.p1",
    "kafka.isr_size.p2",
    "kafka.isr_size.p3",
    "kafka.isr_size.p4",
    "kafka.isr_size.p5",
    "kafka.isr_size.p6",
    "kafka.isr_size.p7",
    "kafka.isr_size.p8",
    "kafka.isr_size.p9",
    "kafka.isr_size.p10",
    "kafka.isr_size.p11",
    "kafka.isr_size.p12",
    "kafka.isr_size.p13",
    "kafka.isr_size.p14",
    "kafka.isr_size.p15",
];

/// Who first committed a record: the broker and when.
#[derive(Clone, Copy, Debug)]
struct Committed {
    record: Record,
    by: NodeId,
    at: Time,
}

/// Watches the replicas of a run.
pub struct KafkaMonitor {
    agree: bool,
    converge: bool,
    leader_within: Option<Time>,
    /// Per partition: the committed records.
    committed: Vec<Vec<Committed>>,
    /// Per broker and partition: how far its log was compared.
    checked: Vec<Vec<u64>>,
    /// Per partition: the newest leader `(broker, leader epoch)`, if one is up.
    leader: Vec<Option<(NodeId, u64)>>,
    /// Per partition: the newest leader epoch seen.
    epoch: Vec<u64>,
    /// Per partition: the ISR size last sampled.
    isr: Vec<usize>,
    leader_changes: u64,
    /// The samples of `kafka.isr_size.pN`, `kafka.isr_min` and `kafka.isr_size`, kept for
    /// the report.
    samples: Vec<(&'static str, Time, f64)>,
    deadline_checked: bool,
}

impl KafkaMonitor {
    /// A monitor for the checks asked for (it always records the metrics).
    pub fn new(
        config: &KafkaConfig,
        checks: &Checks,
        setup: &crate::family::Setup,
    ) -> KafkaMonitor {
        let p = config.partitions as usize;
        KafkaMonitor {
            agree: checks.has(Invariant::COMMITTED_LOGS_AGREE),
            converge: checks.has(Invariant::REPLICAS_CONVERGE),
            leader_within: checks
                .deadline(Invariant::LEADER_PER_PARTITION_WITHIN)
                .map(|d| setup.quiet_from + d.0),
            committed: vec![Vec::new(); p],
            checked: vec![vec![0; p]; setup.nodes],
            leader: vec![None; p],
            epoch: vec![0; p],
            isr: vec![0; p],
            leader_changes: 0,
            samples: Vec::new(),
            deadline_checked: false,
        }
    }

    /// Compares broker `b`'s logs below their high watermarks with the committed records.
    fn compare(&mut self, view: &View<'_, Broker>, b: NodeId) -> Option<Violation> {
        let now = view.now();
        for (p, log) in view.durable(b).logs.iter().enumerate() {
            let from = self.checked[b.index()][p].min(log.leo());
            let to = log.hw.min(log.leo());
            for o in from..to {
                let rec = log.records[o as usize];
                let committed = &mut self.committed[p];
                match committed.get(o as usize) {
                    None => committed.push(Committed {
                        record: rec,
                        by: b,
                        at: now,
                    }),
                    Some(c) if c.record == rec => {}
                    Some(c) => {
                        return Some(Violation::new(
                            Invariant::COMMITTED_LOGS_AGREE.name(),
                            format!(
                                "partition {p} offset {o}: {b} holds value {} (leader epoch {}) below its high watermark {}, but value {} (leader epoch {}) was committed there, below {}'s high watermark at {}",
                                rec.value,
                                rec.epoch,
                                log.hw,
                                c.record.value,
                                c.record.epoch,
                                c.by,
                                c.at
                            ),
                        ));
                    }
                }
            }
            self.checked[b.index()][p] = to.max(from);
        }
        None
    }

    /// Follows partition leadership at broker `b`, sampling the ISR sizes.
    fn leadership(&mut self, view: &View<'_, Broker>, b: NodeId) {
        let now = view.now();
        let up = view.node(b);
        for p in 0..self.leader.len() {
            let leads = up
                .and_then(|n| n.replica(p))
                .filter(|r| r.leads())
                .map(|r| (r.leader_epoch, r.isr.len()));
            match leads {
                Some((epoch, isr)) if epoch >= self.epoch[p] => {
                    if self.leader[p].is_some_and(|l| l != (b, epoch)) || epoch > self.epoch[p] {
                        self.leader_changes += u64::from(self.epoch[p] > 0);
                    }
                    self.epoch[p] = epoch;
                    self.leader[p] = Some((b, epoch));
                    if isr != self.isr[p] {
                        self.isr[p] = isr;
                        if let Some(name) = ISR_SERIES.get(p) {
                            self.samples.push((name, now, isr as f64));
                        }
                        self.samples.push((metric::ISR_SIZE, now, isr as f64));
                        let min = self
                            .isr
                            .iter()
                            .copied()
                            .filter(|&s| s > 0)
                            .min()
                            .unwrap_or(0);
                        self.samples.push((metric::ISR_MIN, now, min as f64));
                    }
                }
                _ if self.leader[p].is_some_and(|l| l.0 == b) => self.leader[p] = None,
                _ => {}
            }
        }
    }
}

impl Monitor<Broker> for KafkaMonitor {
    fn name(&self) -> &str {
        "kafka"
    }

    fn on_event(&mut self, view: &View<'_, Broker>, event: &EventInfo) -> Check {
        if let Some(b) = event.node {
            if self.agree
                && let Some(v) = self.compare(view, b)
            {
                return Check::Violated(v);
            }
            self.leadership(view, b);
        }
        if let Some(deadline) = self.leader_within
            && !self.deadline_checked
            && event.time >= deadline
        {
            self.deadline_checked = true;
            if let Some(why) = leaderless(view) {
                return Check::Violated(Violation::new(
                    Invariant::LEADER_PER_PARTITION_WITHIN.name(),
                    format!("at the deadline {deadline}, {why}"),
                ));
            }
        }
        Check::Ok
    }

    /// `ReplicasConverge`: at the end, every two live replicas of a partition hold the same
    /// records below both their high watermarks (a divergence that lasts, KIP-101 scenario 2).
    fn finish(&mut self, view: &View<'_, Broker>) -> Check {
        if !self.converge {
            return Check::Ok;
        }
        for p in 0..self.leader.len() {
            let replicas: Vec<NodeId> = view
                .live_nodes()
                .filter(|(_, n)| n.replica(p).is_some())
                .map(|(id, _)| id)
                .collect();
            for (i, &a) in replicas.iter().enumerate() {
                for &b in &replicas[i + 1..] {
                    let (la, lb) = (&view.durable(a).logs[p], &view.durable(b).logs[p]);
                    let below = la.hw.min(lb.hw).min(la.leo()).min(lb.leo());
                    let differ =
                        (0..below).find(|&o| la.records[o as usize] != lb.records[o as usize]);
                    if let Some(o) = differ {
                        let (ra, rb) = (la.records[o as usize], lb.records[o as usize]);
                        return Check::Violated(Violation::new(
                            Invariant::REPLICAS_CONVERGE.name(),
                            format!(
                                "partition {p} offset {o}: at the end {a} holds value {} (leader epoch {}) and {b} holds value {} (leader epoch {}), both below their high watermarks ({} and {})",
                                ra.value, ra.epoch, rb.value, rb.epoch, la.hw, lb.hw
                            ),
                        ));
                    }
                }
            }
        }
        Check::Ok
    }

    fn report(&self, metrics: &mut Metrics) {
        metrics.count(metric::LEADER_CHANGES, self.leader_changes);
        for &(name, at, v) in &self.samples {
            metrics.sample(name, at, v);
        }
    }
}

/// A partition without a serving leader, per the newest metadata any live broker holds: its
/// leader must be up and lead that leader epoch. `None` when every partition has one.
fn leaderless(view: &View<'_, Broker>) -> Option<String> {
    let Some((_, newest, meta)) = view
        .live_nodes()
        .filter_map(|(id, n)| n.meta.as_ref().map(|m| (id, n, m)))
        .max_by_key(|(_, n, _)| n.version)
    else {
        return Some("no live broker holds any metadata".to_string());
    };
    for (p, part) in meta.partitions.iter().enumerate() {
        let Some(l) = part.leader else {
            return Some(format!(
                "partition {p} is offline (metadata version {}): no in-sync replica is alive",
                newest.version
            ));
        };
        let serving = view
            .node(l)
            .and_then(|n| n.replica(p))
            .is_some_and(|r| r.leads() && r.leader_epoch == part.leader_epoch);
        if !serving {
            return Some(format!(
                "partition {p}'s leader {l} (leader epoch {}) is not serving",
                part.leader_epoch
            ));
        }
    }
    None
}
