//! The gossip monitor: the three invariants, the spread metrics, and the early stop.
//!
//! Owns [`GossipMonitor`]. It keeps a shadow copy of every node's store and, after each event
//! at a node, diffs the node's store against it, so its cost per event is one comparison of a
//! (usually inline) store, not a scan of the cluster. From the diffs it maintains, per update
//! `(key, version)`: the writer's value, the number of nodes holding exactly that version
//! (`holders`) and the number holding it or a newer version of the key (`informed`).
//!
//! Invariants (names as in `checks.rs`):
//! - **NoInventedValues**: a `(key, version)` first appears only at the node a client wrote it
//!   to (a `Request` event), and always with the writer's value.
//! - **VersionsMonotonic**: while a node is up, its version of a key never goes down (a
//!   restart without persistence empties the store on purpose and is not a regression).
//! - **UpdatesSurviveRestart** (with `persist: true` only): when a node restarts, it holds
//!   every key of the store it had before the crash at the same version or a newer one. The
//!   "before" is the monitor's own copy of the store, taken while the node was up.
//! - **ConvergedWithin(T)**: at `max(last fault, last update) + T` every live node holds the
//!   same data (keys, versions, values). One O(n) scan, at the deadline.
//!
//! Metrics it reports (see the module docs of `gossip` for the full list) are emitted in
//! `report`, since a monitor only reads the cluster while the run goes.

use super::node::{GossipNode, round_of};
use super::store::{Store, StoreExt};
use crate::checks::Invariant;
use sim::{Check, EventInfo, EventKind, Metrics, Monitor, NodeId, Time, View, Violation};
use std::collections::BTreeMap;

/// What the monitor checks and when it may stop the run.
#[derive(Clone, Debug)]
pub struct MonitorOptions {
    /// Check NoInventedValues.
    pub no_invented: bool,
    /// Check VersionsMonotonic.
    pub monotonic: bool,
    /// Check UpdatesSurviveRestart (only asked with a persistent store).
    pub survive_restart: bool,
    /// Check ConvergedWithin at this true time.
    pub converge_deadline: Option<Time>,
    /// Answer `Done` once the spread is complete (anti-entropy: every node holds every
    /// update; rumor mongering: no rumor is hot any more), from `done_after` on.
    pub stop_when_done: bool,
    /// Earliest time for `Done` (after the last fault and the last update).
    pub done_after: Time,
    /// The round period in nanoseconds.
    pub period_ns: u64,
    /// Rumor mongering (the spread ends when rumors die) rather than anti-entropy.
    pub rumor: bool,
}

/// One update's spread.
#[derive(Clone, Copy, Debug)]
struct Spread {
    value: u64,
    written: Time,
    holders: u32,
    informed: u32,
    t99: Option<Time>,
    t100: Option<Time>,
}

/// Checks gossip invariants and measures the spread of every update.
pub struct GossipMonitor {
    opt: MonitorOptions,
    n: u32,
    shadow: Vec<Store>,
    hot: Vec<u16>,
    hot_total: u64,
    updates: BTreeMap<(u32, u64), Spread>,
    next_boundary: Time,
    curve: Vec<(Time, f64)>,
    curve_latest: Vec<(Time, f64)>,
    converge_checked: bool,
    /// The monitor ended the run early (`Done`): the state is final.
    declared_done: bool,
    invented: u64,
    last: Time,
}

impl GossipMonitor {
    /// A monitor for `n` nodes.
    pub fn new(opt: MonitorOptions, n: usize) -> GossipMonitor {
        // One record per node, read at random: huge pages at scale (see `advise_huge`).
        let mut shadow = Vec::with_capacity(n);
        sim::memory::advise_huge(&shadow);
        shadow.resize(n, Store::default());
        GossipMonitor {
            next_boundary: Time(opt.period_ns),
            n: n as u32,
            shadow,
            hot: if opt.rumor { vec![0; n] } else { Vec::new() },
            hot_total: 0,
            updates: BTreeMap::new(),
            curve: Vec::new(),
            curve_latest: Vec::new(),
            converge_checked: false,
            declared_done: false,
            invented: 0,
            last: Time::ZERO,
            opt,
        }
    }

    fn threshold_99(&self) -> u32 {
        (u64::from(self.n) * 99).div_ceil(100) as u32
    }

    /// Diffs node `id`'s store against the shadow; a violation ends the run.
    fn on_node(
        &mut self,
        view: &View<'_, GossipNode>,
        id: NodeId,
        kind: EventKind,
    ) -> Option<Violation> {
        let i = id.index();
        // Only rumor mongering has hot rumors (anti-entropy nodes never do): skip the count,
        // and the cache miss its per-node record costs at scale.
        if self.opt.rumor {
            let h = view.node(id).map_or(0, |n| n.hot.len() as u16);
            self.hot_total = self.hot_total + u64::from(h) - u64::from(self.hot[i]);
            self.hot[i] = h;
        }
        let new = view.durable(id);
        if *new == self.shadow[i] {
            return None;
        }
        let old = std::mem::replace(&mut self.shadow[i], new.clone());
        let now = view.now();
        if kind == EventKind::Start && self.opt.survive_restart {
            let lost = old
                .as_slice()
                .iter()
                .find(|o| new.version_of(o.key) < o.version);
            if let Some(o) = lost {
                return Some(Violation::new(
                    Invariant::UPDATES_SURVIVE_RESTART.name(),
                    format!(
                        "{id} restarted holding key {} at version {}, below the version {} it had stored",
                        o.key,
                        new.version_of(o.key),
                        o.version
                    ),
                ));
            }
        }
        for e in new.as_slice() {
            let ov = old.version_of(e.key);
            if ov == e.version && old.get(e.key).map(|o| o.value) == Some(e.value) {
                continue;
            }
            match self.updates.get(&(e.key, e.version)) {
                None => {
                    if kind != EventKind::Request && self.opt.no_invented {
                        return Some(Violation::new(
                            Invariant::NO_INVENTED_VALUES.name(),
                            format!(
                                "{id} holds key {} version {:#x} value {}, which no client wrote",
                                e.key, e.version, e.value
                            ),
                        ));
                    }
                    if kind != EventKind::Request {
                        self.invented += 1;
                    }
                    let informed = self
                        .updates
                        .range((e.key, e.version + 1)..=(e.key, u64::MAX))
                        .map(|(_, s)| s.holders)
                        .sum();
                    self.updates.insert(
                        (e.key, e.version),
                        Spread {
                            value: e.value,
                            written: now,
                            holders: 0,
                            informed,
                            t99: None,
                            t100: None,
                        },
                    );
                }
                Some(s) if s.value != e.value && self.opt.no_invented => {
                    return Some(Violation::new(
                        Invariant::NO_INVENTED_VALUES.name(),
                        format!(
                            "{id} holds key {} version {:#x} with value {}, but value {} was written",
                            e.key, e.version, e.value, s.value
                        ),
                    ));
                }
                Some(_) => {}
            }
            if e.version < ov && self.opt.monotonic && kind != EventKind::Start {
                return Some(Violation::new(
                    Invariant::VERSIONS_MONOTONIC.name(),
                    format!(
                        "{id}'s version of key {} went back from {ov:#x} to {:#x}",
                        e.key, e.version
                    ),
                ));
            }
            self.move_holder(e.key, ov, e.version, now);
        }
        for o in old.as_slice() {
            if new.get(o.key).is_none() {
                if self.opt.monotonic && kind != EventKind::Start {
                    return Some(Violation::new(
                        Invariant::VERSIONS_MONOTONIC.name(),
                        format!("{id} lost key {} (version {:#x})", o.key, o.version),
                    ));
                }
                self.move_holder(o.key, o.version, 0, now);
            }
        }
        None
    }

    /// One node's version of `key` moved from `from` to `to` (0 = absent).
    fn move_holder(&mut self, key: u32, from: u64, to: u64, now: Time) {
        let (n, t99) = (self.n, self.threshold_99());
        if let Some(s) = self.updates.get_mut(&(key, from)) {
            s.holders -= 1;
        }
        if let Some(s) = self.updates.get_mut(&(key, to)) {
            s.holders += 1;
        }
        if to > from {
            for (_, s) in self.updates.range_mut((key, from + 1)..=(key, to)) {
                s.informed += 1;
                if s.informed >= t99 && s.t99.is_none() {
                    s.t99 = Some(now);
                }
                if s.informed >= n && s.t100.is_none() {
                    s.t100 = Some(now);
                }
            }
        } else {
            for (_, s) in self.updates.range_mut((key, to + 1)..=(key, from)) {
                s.informed -= 1;
            }
        }
    }

    /// A round boundary passed: sample the curve, and maybe end a finished run.
    fn on_boundary(&mut self, now: Time) -> Check {
        let p = self.opt.period_ns;
        self.next_boundary = Time((now.0 / p + 1) * p);
        if !self.updates.is_empty() {
            let n = f64::from(self.n);
            let sum: f64 = self.updates.values().map(|s| f64::from(s.informed)).sum();
            self.curve.push((now, sum / n / self.updates.len() as f64));
            let latest = self.updates.values().max_by_key(|s| s.written);
            if let Some(s) = latest {
                self.curve_latest.push((now, f64::from(s.informed) / n));
            }
        }
        if self.opt.stop_when_done && now >= self.opt.done_after {
            let spread = if self.opt.rumor {
                self.hot_total == 0
            } else {
                self.updates.values().all(|s| s.informed >= self.n)
            };
            if spread {
                self.declared_done = true;
                return Check::Done;
            }
        }
        Check::Ok
    }

    /// ConvergedWithin: every live node holds the same data.
    fn check_converged(&mut self, view: &View<'_, GossipNode>) -> Check {
        self.converge_checked = true;
        let mut live = view.live_nodes().map(|(id, _)| id);
        let Some(first) = live.next() else {
            return Check::Ok;
        };
        let reference = view.durable(first);
        let differ: Vec<NodeId> = live
            .filter(|&id| !view.durable(id).same_data(reference))
            .collect();
        if let Some(&other) = differ.first() {
            let show = |s: &Store| {
                s.as_slice()
                    .iter()
                    .map(|e| format!("{}@{:#x}={}", e.key, e.version, e.value))
                    .collect::<Vec<_>>()
                    .join(" ")
            };
            return Check::Violated(Violation::new(
                Invariant::CONVERGED_WITHIN.name(),
                format!(
                    "{} live nodes differ from {first} at the deadline; {first} holds [{}] but {other} holds [{}]",
                    differ.len(),
                    show(reference),
                    show(view.durable(other)),
                ),
            ));
        }
        Check::Ok
    }
}

impl Monitor<GossipNode> for GossipMonitor {
    fn name(&self) -> &str {
        "gossip"
    }

    fn on_event(&mut self, view: &View<'_, GossipNode>, ev: &EventInfo) -> Check {
        self.last = ev.time;
        let mut verdict = Check::Ok;
        if ev.time >= self.next_boundary {
            verdict = self.on_boundary(ev.time);
        }
        match (ev.kind, ev.node) {
            (
                EventKind::Deliver | EventKind::Timer | EventKind::Request | EventKind::Start,
                Some(id),
            ) => {
                if let Some(v) = self.on_node(view, id, ev.kind) {
                    return Check::Violated(v);
                }
            }
            (EventKind::Fault, _) => {
                // A fault may crash or restart many nodes at once, and a restart boots the
                // node inside the fault event (no separate event reaches monitors): diff every
                // node, allowing a restarted node's amnesia (faults are rare, so O(n) is fine).
                for i in 0..self.n {
                    if let Some(v) = self.on_node(view, NodeId(i), EventKind::Start) {
                        return Check::Violated(v);
                    }
                }
            }
            _ => {}
        }
        if let Some(d) = self.opt.converge_deadline
            && !self.converge_checked
            && ev.time >= d
        {
            let c = self.check_converged(view);
            if c != Check::Ok {
                return c;
            }
        }
        verdict
    }

    fn finish(&mut self, view: &View<'_, GossipNode>) -> Check {
        self.last = view.now();
        match self.opt.converge_deadline {
            // A run this monitor ended early is final (the spread is complete or every rumor
            // is dead), so convergence is judged now rather than never.
            Some(d) if !self.converge_checked && (view.now() >= d || self.declared_done) => {
                self.check_converged(view)
            }
            _ => Check::Ok,
        }
    }

    fn prefetch(&self, node: NodeId) {
        if let Some(s) = self.shadow.get(node.index()) {
            sim::prefetch::prefetch(s);
        }
        if self.opt.rumor
            && let Some(h) = self.hot.get(node.index())
        {
            sim::prefetch::prefetch(h);
        }
    }

    fn report(&self, m: &mut Metrics) {
        let (n, p, end) = (f64::from(self.n), self.opt.period_ns, self.last);
        for &(t, f) in &self.curve {
            m.sample("gossip.informed_fraction", t, f);
        }
        for &(t, f) in &self.curve_latest {
            m.sample("gossip.informed_fraction.latest", t, f);
        }
        let mut residue = 0.0;
        for s in self.updates.values() {
            let r0 = round_of(s.written, p);
            for (name_r, name_t, at) in [
                (
                    "gossip.update.rounds_to_99",
                    "gossip.update.time_to_99_ms",
                    s.t99,
                ),
                (
                    "gossip.update.rounds_to_100",
                    "gossip.update.time_to_100_ms",
                    s.t100,
                ),
            ] {
                if let Some(t) = at {
                    m.sample(name_r, t, f64::from(round_of(t, p) - r0));
                    m.sample(name_t, t, (t.0 - s.written.0) as f64 / 1e6);
                }
            }
            let r = 1.0 - f64::from(s.informed) / n;
            residue += r;
            m.sample("gossip.update.residue", end, r);
        }
        let k = self.updates.len();
        m.count("gossip.updates", k as u64);
        m.count(
            "gossip.updates_fully_spread",
            self.updates.values().filter(|s| s.t100.is_some()).count() as u64,
        );
        m.count("gossip.invented", self.invented);
        if k > 0 {
            m.sample("gossip.residue", end, residue / k as f64);
        }
        let per_node = |c: &str| m.counter(c) as f64 / n;
        let (msgs, bytes, entry_msgs) = (
            per_node("gossip.messages"),
            per_node("gossip.bytes"),
            per_node("gossip.entry_messages"),
        );
        m.sample("gossip.messages_per_node", end, msgs);
        m.sample("gossip.bytes_per_node", end, bytes);
        m.sample("gossip.entry_messages_per_node", end, entry_msgs);
        let carried = m.counter("gossip.entry_messages");
        if carried > 0 {
            let r = m.counter("gossip.redundant_messages") as f64 / carried as f64;
            m.sample("gossip.redundant_ratio", end, r);
        }
    }
}
