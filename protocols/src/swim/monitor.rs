//! The SWIM monitor: accuracy, completeness and convergence checks, and the detection and
//! dissemination metrics.
//!
//! It reads each member's `changes` after every event at that member, and the engine's node
//! statuses after every fault, so it knows at each instant which members are crashed, which
//! live member believes what about them, and when each belief changed. Per crashed member
//! (per pool) it keeps the set of live members holding it dead.
//!
//! Invariants (names as in `checks.rs`):
//! - **FalsePositiveRate**: false positives per member-hour stay within the configuration's
//!   `max_false_positive_rate` (default 0). A false positive is a member declaring another
//!   dead (its own failed probe without suspicion, or its own suspicion timing out) while
//!   that member is up and was neither crashed, paused, partitioned nor slowed within the
//!   excuse window (the longest suspicion timeout plus two periods) before.
//! - **NoFlapping**: a live member that holds a crashed member dead, at the incarnation the
//!   member had when it crashed or above, never believes it alive or suspect again while it
//!   stays crashed. (A death declared at an older incarnation, across a partition say, may be
//!   overtaken by a refutation the member sent before it crashed.)
//! - **DeadWithin(T)**: every member crashed at t (and still crashed) is held dead by every
//!   live member of its pools by t + T (members that restarted after t are left to
//!   ViewsConvergeWithin: they rejoined a pool where it was already gone).
//! - **ViewsConvergeWithin(T)**: T after the last fault, every live member holds every up
//!   member of its pools alive and every crashed one dead.

use super::members::State;
use super::node::{Change, SwimNode};
use super::pools::Pool;
use crate::checks::Invariant;
use rustc_hash::FxHashMap;
use sim::{
    Check, EventInfo, EventKind, Metrics, Monitor, NodeId, NodeStatus, Time, View, Violation,
};
use std::sync::Arc;
use std::time::Duration;

mod liveness;

/// What the monitor checks.
#[derive(Clone, Debug)]
pub struct SwimChecks {
    pub false_positive_rate: bool,
    /// The allowed false positives over the whole run (rate × member-hours).
    pub false_positive_budget: f64,
    pub no_flapping: bool,
    pub dead_within: Option<Duration>,
    pub converge_at: Option<Time>,
    /// A declaration this soon after a member (or the network) was impaired is excused.
    pub excuse_window: Duration,
}

/// One crash of one member, in one pool.
#[derive(Clone, Debug)]
struct CrashRec {
    at: Time,
    first_detect: Option<Time>,
    first_dead: Option<Time>,
    all_dead: Option<Time>,
    /// Live members holding it dead (at any incarnation).
    believers: Vec<u64>,
    count: u32,
    /// Its incarnation when it crashed: a member holding it dead at this incarnation or above
    /// can never see an alive that outranks it while it is down.
    incarnation: u32,
    /// Members holding it dead at `incarnation` or above.
    firm: Vec<u64>,
    deadline_checked: bool,
}

fn bit(set: &[u64], v: NodeId) -> bool {
    set[v.index() / 64] & (1 << (v.index() % 64)) != 0
}

fn put(set: &mut [u64], v: NodeId, on: bool) {
    let (w, b) = (v.index() / 64, 1u64 << (v.index() % 64));
    if on {
        set[w] |= b;
    } else {
        set[w] &= !b;
    }
}

impl CrashRec {
    fn believes(&self, v: NodeId) -> bool {
        bit(&self.believers, v)
    }
    fn set(&mut self, v: NodeId, on: bool) {
        let (w, b) = (v.index() / 64, 1u64 << (v.index() % 64));
        if on && self.believers[w] & b == 0 {
            self.believers[w] |= b;
            self.count += 1;
        } else if !on && self.believers[w] & b != 0 {
            self.believers[w] &= !b;
            self.count -= 1;
        }
    }
}

/// Checks SWIM's invariants and measures detection and dissemination.
pub struct SwimMonitor {
    opt: SwimChecks,
    pools: Arc<Vec<Pool>>,
    n: usize,
    /// When each node crashed (None: up or paused).
    down: Vec<Option<Time>>,
    paused: Vec<bool>,
    /// The last time each node was crashed, paused, restarted or slowed.
    impaired: Vec<Time>,
    /// When each node last (re)started.
    started: Vec<Time>,
    /// Whether a partition is in force, and when one last was.
    partition_on: bool,
    partition_last: Option<Time>,
    /// Up nodes per pool.
    up_in_pool: Vec<u32>,
    crashes: FxHashMap<(u8, u32), CrashRec>,
    finished: Vec<CrashRec>,
    false_positives: u64,
    excused: u64,
    false_dead_views: u64,
    first_fp: Option<String>,
    converge_checked: bool,
    last: Time,
}

impl SwimMonitor {
    /// A monitor for `n` nodes in `pools`.
    pub fn new(opt: SwimChecks, pools: Arc<Vec<Pool>>, n: usize) -> SwimMonitor {
        let up_in_pool = pools.iter().map(|p| p.members.len()).collect();
        SwimMonitor {
            opt,
            pools,
            n,
            down: vec![None; n],
            paused: vec![false; n],
            impaired: vec![Time::ZERO; n],
            started: vec![Time::ZERO; n],
            partition_on: false,
            partition_last: None,
            up_in_pool,
            crashes: FxHashMap::default(),
            finished: Vec::new(),
            false_positives: 0,
            excused: 0,
            false_dead_views: 0,
            first_fp: None,
            converge_checked: false,
            last: Time::ZERO,
        }
    }

    fn pools_of(&self, node: NodeId) -> impl Iterator<Item = u8> + '_ {
        self.pools
            .iter()
            .enumerate()
            .filter(move |(_, p)| p.members.index(node).is_some())
            .map(|(i, _)| i as u8)
    }

    /// Re-reads node statuses after a fault.
    fn on_fault(&mut self, view: &View<'_, SwimNode>) {
        let now = view.now();
        if view.partitioned() {
            self.partition_on = true;
        } else if self.partition_on {
            self.partition_on = false;
            self.partition_last = Some(now);
        }
        for i in 0..self.n {
            let id = NodeId(i as u32);
            let st = view.status(id);
            match (st, self.down[i]) {
                (NodeStatus::Crashed, None) => {
                    self.down[i] = Some(now);
                    self.impaired[i] = now;
                    let pools: Vec<u8> = self.pools_of(id).collect();
                    for p in pools {
                        self.up_in_pool[p as usize] -= 1;
                        let slot = self.pools_of(id).position(|q| q == p).unwrap_or(0);
                        let incarnation = view
                            .durable(id)
                            .incarnations
                            .get(slot)
                            .copied()
                            .unwrap_or(0);
                        let mut rec = CrashRec {
                            at: now,
                            first_detect: None,
                            first_dead: None,
                            all_dead: None,
                            believers: vec![0; self.n.div_ceil(64)],
                            count: 0,
                            incarnation,
                            firm: vec![0; self.n.div_ceil(64)],
                            deadline_checked: false,
                        };
                        // Members that already held it dead (declared across a partition,
                        // say) believe it from the start.
                        let pool = &self.pools[p as usize];
                        let idx = pool.members.index(id).expect("a member of its pool");
                        for v in 0..pool.members.len() {
                            let v = pool.members.node(v);
                            let held = view.node(v).and_then(|node| node.view_of(p, idx));
                            if let Some(m) = held
                                && m.state == State::Dead
                            {
                                rec.set(v, true);
                                put(&mut rec.firm, v, m.incarnation >= incarnation);
                            }
                        }
                        self.crashes.insert((p, id.0), rec);
                    }
                    // A crashed observer's beliefs go with it.
                    for rec in self.crashes.values_mut() {
                        rec.set(id, false);
                        put(&mut rec.firm, id, false);
                    }
                }
                (NodeStatus::Crashed, Some(_)) => {}
                (_, Some(_)) => {
                    self.down[i] = None;
                    self.impaired[i] = now;
                    self.started[i] = now;
                    let pools: Vec<u8> = self.pools_of(id).collect();
                    for p in pools {
                        self.up_in_pool[p as usize] += 1;
                        if let Some(rec) = self.crashes.remove(&(p, id.0)) {
                            self.finished.push(rec);
                        }
                    }
                }
                (_, None) => {}
            }
            let paused = st == NodeStatus::Paused;
            if paused || self.paused[i] {
                self.impaired[i] = now;
            }
            self.paused[i] = paused;
        }
        // Completeness may have been reached by a crash of the last holdout.
        for (&(p, _), rec) in self.crashes.iter_mut() {
            if rec.all_dead.is_none() && rec.count >= self.up_in_pool[p as usize] {
                rec.all_dead = Some(now);
            }
        }
    }

    fn excused(&self, view: &View<'_, SwimNode>, member: NodeId, now: Time) -> bool {
        let w = self.opt.excuse_window;
        let recent = |t: Time| now.saturating_since(t) <= w;
        let i = member.index();
        // A Slow fault in force, or one that ended within the window.
        let slowed = view.slowed_until(member).is_some_and(recent);
        self.paused[i]
            || slowed
            || (self.impaired[i] > Time::ZERO && recent(self.impaired[i]))
            || self.partition_on
            || self.partition_last.is_some_and(recent)
    }

    /// Every crash record, finished ones first (pool `u8::MAX`), then the open ones by pool.
    fn all_recs(&self) -> impl Iterator<Item = (&CrashRec, u8)> {
        self.finished
            .iter()
            .map(|r| (r, u8::MAX))
            .chain(self.crashes.iter().map(|(k, r)| (r, k.0)))
    }

    fn on_change(
        &mut self,
        view: &View<'_, SwimNode>,
        observer: NodeId,
        c: &Change,
        now: Time,
    ) -> Option<Violation> {
        let key = (c.pool, c.member.0);
        if let Some(rec) = self.crashes.get_mut(&key) {
            let up = self.up_in_pool[c.pool as usize];
            if c.state != State::Alive && rec.first_detect.is_none() {
                rec.first_detect = Some(now);
            }
            if c.state == State::Dead {
                rec.first_dead.get_or_insert(now);
                rec.set(observer, true);
                put(&mut rec.firm, observer, c.incarnation >= rec.incarnation);
                if rec.all_dead.is_none() && rec.count >= up {
                    rec.all_dead = Some(now);
                }
            } else if rec.believes(observer) {
                rec.set(observer, false);
                // Holding it dead below its last incarnation was stale news (a refutation it
                // sent before crashing may still overtake it); at or above, nothing can.
                let firm = bit(&rec.firm, observer);
                put(&mut rec.firm, observer, false);
                if self.opt.no_flapping && firm {
                    return Some(Violation::new(
                        Invariant::NO_FLAPPING.name(),
                        format!(
                            "{observer} held crashed {} dead and now holds it {:?} at incarnation \
                             {} (it crashed at {} and has not restarted)",
                            c.member, c.state, c.incarnation, rec.at
                        ),
                    ));
                }
            }
            return None;
        }
        if c.state != State::Dead {
            return None;
        }
        self.false_dead_views += 1;
        if !c.declared {
            return None;
        }
        if self.excused(view, c.member, now) {
            self.excused += 1;
            return None;
        }
        self.false_positives += 1;
        let what = format!(
            "{observer} declared {} dead at {now} (incarnation {}), but it was up and had not \
             been crashed, paused, partitioned or slowed in the {:?} before",
            c.member, c.incarnation, self.opt.excuse_window
        );
        self.first_fp.get_or_insert(what.clone());
        if self.opt.false_positive_rate
            && self.false_positives as f64 > self.opt.false_positive_budget
        {
            return Some(Violation::new(
                Invariant::FALSE_POSITIVE_RATE.name(),
                format!(
                    "{} false positives, over the budget of {:.2} for this run; the latest: {what}",
                    self.false_positives, self.opt.false_positive_budget
                ),
            ));
        }
        None
    }
}

impl Monitor<SwimNode> for SwimMonitor {
    fn name(&self) -> &str {
        "swim"
    }

    fn on_event(&mut self, view: &View<'_, SwimNode>, event: &EventInfo) -> Check {
        let now = event.time;
        self.last = now;
        if event.kind == EventKind::Fault {
            self.on_fault(view);
        }
        if let Some(v) = event.node
            && let Some(node) = view.node(v)
            && !node.changes.is_empty()
            && matches!(
                event.kind,
                EventKind::Deliver | EventKind::Timer | EventKind::Start
            )
        {
            for c in node.changes.clone() {
                if let Some(bad) = self.on_change(view, v, &c, now) {
                    return Check::Violated(bad);
                }
            }
        }
        self.due(view, now)
    }

    fn finish(&mut self, view: &View<'_, SwimNode>) -> Check {
        self.due(view, view.now())
    }

    fn report(&self, m: &mut Metrics) {
        let ms = |d: Duration| d.as_secs_f64() * 1e3;
        for (rec, _) in self.all_recs() {
            // Periods of the first pool's timing: Flat runs have one pool, and Consul's
            // crashes are reported in LAN periods.
            let period = self.pools[0].timing.probe_interval.0.as_secs_f64();
            if let Some(t) = rec.first_detect {
                let d = t.saturating_since(rec.at);
                m.sample("swim.first_detection_ms", rec.at, ms(d));
                m.sample(
                    "swim.first_detection_periods",
                    rec.at,
                    d.as_secs_f64() / period,
                );
            }
            if let Some(t) = rec.first_dead {
                m.sample("swim.first_dead_ms", rec.at, ms(t.saturating_since(rec.at)));
            }
            if let Some(t) = rec.all_dead {
                m.sample("swim.all_dead_ms", rec.at, ms(t.saturating_since(rec.at)));
                if let Some(f) = rec.first_dead {
                    m.sample(
                        "swim.dissemination_periods",
                        rec.at,
                        t.saturating_since(f).as_secs_f64() / period,
                    );
                }
            }
        }
        m.count("swim.crashes_tracked", self.all_recs().count() as u64);
        m.count("swim.false_positives", self.false_positives);
        m.count("swim.excused_deaths", self.excused);
        m.count("swim.false_dead_views", self.false_dead_views);
        let secs = self.last.0 as f64 / 1e9;
        if secs > 0.0 {
            let hours = self.n as f64 * secs / 3600.0;
            m.sample(
                "swim.false_positive_rate",
                self.last,
                self.false_positives as f64 / hours,
            );
            let per = |c: u64| c as f64 / self.n as f64 / secs;
            m.sample(
                "swim.messages_per_member_s",
                self.last,
                per(m.counter("swim.messages")),
            );
            m.sample(
                "swim.bytes_per_member_s",
                self.last,
                per(m.counter("swim.bytes")),
            );
        }
    }
}
