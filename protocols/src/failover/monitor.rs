//! The failover checks and metrics, read from node state after every event on the true
//! timeline (`View::now`).
//!
//! - **NoSplitBrain** (docs/references.md §5.5, invariant 5): believing is not accepting. Several
//!   nodes may believe they are primary at once (the old one has not noticed yet); what must
//!   not happen is that two of them get writes *accepted*. A primary's stint starts when the
//!   monitor first sees it primary in an epoch; a write is accepted when its primary commits
//!   it. The check fails when a primary commits a write that it appended after a newer stint
//!   had started and had itself committed: from then on two primaries serve the same keys.
//!   A write appended before the newer stint and committed late (its acks were held up by a
//!   pause) is not split brain — the backups held it before the new primary took over.
//! - **OnePrimaryPerEpoch** (invariant 1): the (epoch, node) of every primary seen; one node
//!   per epoch.
//! - **CommittedNeverOverwritten**: the monitor's own record of committed entries, in
//!   [`super::committed`].
//! - **PrimaryWithin(T)**: some node serves writes (`FailoverNode::serving`) within T of the
//!   last fault (`Setup::quiet_from`).
//!
//! Metrics (docs/references.md §5.6, "failover latency expectation"), all in milliseconds of true
//! time, per fault that hits the believed primary (crash, pause, isolation): detection (→
//! another node suspects it), failover (→ a write accepted by another primary), the
//! unavailability window (→ any primary, old or new, gets a write accepted that was appended
//! after the fault); and over the run, the dual-belief time (two or more nodes believe they
//! are primary, fenced or not).

use super::FailoverNode;
use super::committed::CommittedLog;
use crate::checks::{Checks, Invariant};
use sim::{
    EventInfo, EventKind, Metrics, Monitor, NodeId, NodeStatus, Protocol, Time, View, Violation,
};
use std::collections::BTreeMap;
use std::time::Duration;

/// Metric names recorded by the failover family.
pub mod metric {
    /// Sample: fault on the primary → first suspicion by another node, ms.
    pub const DETECTION_MS: &str = "failover.detection_ms";
    /// Sample: fault on the primary → first write accepted by another primary, ms.
    pub const FAILOVER_MS: &str = "failover.failover_ms";
    /// Sample: fault on the primary → first write appended after it accepted by any
    /// primary, ms.
    pub const UNAVAILABLE_MS: &str = "failover.unavailable_ms";
    /// Sample (one, at the end): total time two or more nodes believed they were primary, ms.
    pub const DUAL_BELIEF_MS: &str = "failover.dual_belief_ms";
    /// Counter: Appends carrying writes that a fenced replica rejected for a stale epoch.
    pub const STALE_WRITES_REJECTED: &str = "failover.stale_writes_rejected";
    /// Counter: every Append (heartbeats included) rejected for a stale epoch.
    pub const STALE_REJECTED: &str = "failover.stale_rejected";
}

/// Which checks the monitor enforces (it always measures).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct MonitorOptions {
    /// Enforce NoSplitBrain.
    pub no_split_brain: bool,
    /// Enforce OnePrimaryPerEpoch.
    pub one_primary_per_epoch: bool,
    /// Enforce CommittedNeverOverwritten.
    pub committed_never_overwritten: bool,
    /// `PrimaryWithin(T)`: T.
    pub primary_within: Option<Duration>,
    /// When the last fault fired.
    pub quiet_from: Time,
}

impl MonitorOptions {
    /// The options for the checks a scenario lists.
    pub fn from_checks(checks: &Checks, quiet_from: Time) -> MonitorOptions {
        MonitorOptions {
            no_split_brain: checks.has(Invariant::NO_SPLIT_BRAIN),
            one_primary_per_epoch: checks.has(Invariant::ONE_PRIMARY_PER_EPOCH),
            committed_never_overwritten: checks.has(Invariant::COMMITTED_NEVER_OVERWRITTEN),
            primary_within: checks.deadline(Invariant::PRIMARY_WITHIN).map(|d| d.0),
            quiet_from,
        }
    }
}

/// One primary stint, keyed by (epoch, node).
#[derive(Clone, Copy, Debug)]
struct Stint {
    start: Time,
    first_accept: Option<Time>,
}

/// A fault that hit the believed primary, waiting to be detected and failed over.
#[derive(Clone, Copy, Debug)]
struct Pending {
    at: Time,
    node: NodeId,
    detected: bool,
    failed_over: bool,
    available: bool,
}

/// The failover monitor: NoSplitBrain, OnePrimaryPerEpoch, CommittedNeverOverwritten,
/// PrimaryWithin, and the metrics.
#[derive(Debug)]
pub struct FailoverMonitor {
    opts: MonitorOptions,
    stints: BTreeMap<(u64, NodeId), Stint>,
    epoch_owner: BTreeMap<u64, NodeId>,
    terms: Vec<Option<u64>>,
    accepted: Vec<u64>,
    detections: Vec<u64>,
    last_time: Time,
    partitioned: bool,
    dual: bool,
    dual_total: Duration,
    windows: Vec<(Time, f64)>,
    pending: Option<Pending>,
    detection: Vec<(Time, f64)>,
    failover: Vec<(Time, f64)>,
    within_met: bool,
    committed: CommittedLog,
}

fn ms(d: Duration) -> f64 {
    d.as_nanos() as f64 / 1e6
}

impl FailoverMonitor {
    /// A monitor enforcing `opts`.
    pub fn new(opts: MonitorOptions) -> FailoverMonitor {
        FailoverMonitor {
            opts,
            stints: BTreeMap::new(),
            epoch_owner: BTreeMap::new(),
            terms: Vec::new(),
            accepted: Vec::new(),
            detections: Vec::new(),
            last_time: Time::ZERO,
            partitioned: false,
            dual: false,
            dual_total: Duration::ZERO,
            windows: Vec::new(),
            pending: None,
            detection: Vec::new(),
            failover: Vec::new(),
            within_met: false,
            committed: CommittedLog::default(),
        }
    }

    /// Adds the time since the last event to the running totals.
    fn integrate(&mut self, now: Time) {
        if self.dual {
            self.dual_total += now.saturating_since(self.last_time);
        }
        self.last_time = now;
    }

    /// A newly seen primary: its stint, and OnePrimaryPerEpoch.
    fn on_primary(&mut self, now: Time, node: NodeId, epoch: u64) -> Option<Violation> {
        self.stints.entry((epoch, node)).or_insert(Stint {
            start: now,
            first_accept: None,
        });
        let owner = *self.epoch_owner.entry(epoch).or_insert(node);
        (self.opts.one_primary_per_epoch && owner != node).then(|| {
            Violation::new(
                Invariant::ONE_PRIMARY_PER_EPOCH.name(),
                format!("{owner} and {node} were both primary in epoch {epoch}"),
            )
        })
    }

    /// A commit step by `node` in `epoch`: NoSplitBrain, and the failover metric.
    fn on_accept(
        &mut self,
        now: Time,
        node: NodeId,
        epoch: u64,
        appended: Option<Time>,
    ) -> Option<Violation> {
        let me = self.stints.get_mut(&(epoch, node))?;
        me.first_accept.get_or_insert(now);
        let start = me.start;
        let appended = appended?;
        if let Some(p) = self.pending.as_mut() {
            let since = ms(now.saturating_since(p.at));
            if p.node != node && !p.failed_over {
                p.failed_over = true;
                self.failover.push((now, since));
            }
            if appended > p.at && !p.available {
                p.available = true;
                self.windows.push((now, since));
            }
        }
        if !self.opts.no_split_brain {
            return None;
        }
        let newer = self.stints.iter().find(|&(&(_, n), s)| {
            n != node && s.start > start && s.first_accept.is_some() && appended > s.start
        });
        newer.map(|(&(e2, n2), s)| {
            Violation::new(
                Invariant::NO_SPLIT_BRAIN.name(),
                format!(
                    "{node} (primary in epoch {epoch} since {start}) had a write appended at \
                     {appended} accepted at {now}, after {n2} (primary in epoch {e2} since {}) \
                     had writes accepted from {}",
                    s.start,
                    s.first_accept.unwrap_or(Time::ZERO)
                ),
            )
        })
    }

    /// PrimaryWithin: some node serves within the deadline after the last fault.
    fn on_serving(&mut self, now: Time, serving: bool) -> Option<Violation> {
        let d = self.opts.primary_within?;
        let quiet = self.opts.quiet_from;
        if self.within_met {
            return None;
        }
        if serving && now >= quiet {
            self.within_met = true;
            return None;
        }
        (now > quiet + d).then(|| {
            Violation::new(
                Invariant::PRIMARY_WITHIN.name(),
                format!("no primary served writes within {d:?} of the last fault at {quiet}"),
            )
        })
    }
}

impl Monitor<FailoverNode> for FailoverMonitor {
    fn name(&self) -> &str {
        "failover"
    }

    fn on_event(&mut self, view: &View<'_, FailoverNode>, info: &EventInfo) -> sim::Check {
        let now = view.now();
        let n = view.node_count();
        if self.terms.len() != n {
            self.terms = vec![None; n];
            self.accepted = vec![0; n];
            self.detections = vec![0; n];
        }
        self.integrate(now);
        // A fault that took the believed primary down or away (crash, pause, cut) starts a
        // measurement, but not one that brought it back (resume) or left it running (a
        // clock fault). A new cut of several nodes counts too: the engine does not say which
        // side the primary is on, and if it was not cut off the measurement only records a
        // short window and no failover.
        let partitioned = view.partitioned();
        let new_cut = partitioned && !self.partitioned && info.node.is_none();
        self.partitioned = partitioned;
        let hit = match info.node {
            Some(x)
                if self.terms[x.index()].is_some()
                    && (view.status(x) != NodeStatus::Up || partitioned) =>
            {
                Some(x)
            }
            None if new_cut => (0..n)
                .find(|&i| self.terms[i].is_some())
                .map(|i| NodeId(i as u32)),
            _ => None,
        };
        if info.kind == EventKind::Fault
            && let Some(x) = hit
        {
            self.pending = Some(Pending {
                at: now,
                node: x,
                detected: false,
                failed_over: false,
                available: false,
            });
        }
        let mut serving = false;
        let mut believers = 0;
        let mut found = None;
        for i in 0..n {
            let id = NodeId(i as u32);
            if self.opts.committed_never_overwritten && info.node.is_none_or(|x| x == id) {
                found = found.or_else(|| self.committed.observe(view, id));
            }
            let node = view.node(id);
            let term = node.and_then(FailoverNode::leader_term);
            self.terms[i] = term;
            let Some(node) = node else {
                // A restarted node counts from zero again.
                self.accepted[i] = 0;
                self.detections[i] = 0;
                continue;
            };
            serving |= node.serving();
            if let Some(epoch) = term {
                believers += 1;
                found = found.or(self.on_primary(now, id, epoch));
            }
            if node.detections() > self.detections[i] {
                self.detections[i] = node.detections();
                if let Some(p) = self.pending.as_mut()
                    && !p.detected
                    && p.node != id
                {
                    p.detected = true;
                    self.detection.push((now, ms(now.saturating_since(p.at))));
                }
            }
            if node.accepted() != self.accepted[i] {
                self.accepted[i] = node.accepted();
                if let Some(epoch) = term {
                    found = found.or(self.on_accept(now, id, epoch, node.accepted_appended()));
                }
            }
        }
        self.dual = believers >= 2;
        found = found.or(self.on_serving(now, serving));
        match found {
            Some(v) => sim::Check::Violated(v),
            None => sim::Check::Ok,
        }
    }

    fn finish(&mut self, view: &View<'_, FailoverNode>) -> sim::Check {
        let now = view.now();
        self.integrate(now);
        if let Some(d) = self.opts.primary_within
            && !self.within_met
            && now > self.opts.quiet_from + d
        {
            return sim::Check::Violated(Violation::new(
                Invariant::PRIMARY_WITHIN.name(),
                format!(
                    "no primary served writes within {d:?} of the last fault at {}",
                    self.opts.quiet_from
                ),
            ));
        }
        sim::Check::Ok
    }

    fn report(&self, metrics: &mut Metrics) {
        for &(t, v) in &self.detection {
            metrics.sample(metric::DETECTION_MS, t, v);
        }
        for &(t, v) in &self.failover {
            metrics.sample(metric::FAILOVER_MS, t, v);
        }
        for &(t, v) in &self.windows {
            metrics.sample(metric::UNAVAILABLE_MS, t, v);
        }
        metrics.sample(metric::DUAL_BELIEF_MS, self.last_time, ms(self.dual_total));
    }
}
