//! The SWIM monitor's deadline checks: `DeadWithin` per crash, `ViewsConvergeWithin` after
//! the last fault, and the due-check both run after events and at the end of a run.

use super::SwimMonitor;
use crate::checks::Invariant;
use crate::swim::SwimNode;
use crate::swim::members::State;
use crate::swim::pools::Pool;
use sim::{Check, NodeId, Time, View, Violation};

impl SwimMonitor {
    pub(super) fn check_deadlines(
        &mut self,
        view: &View<'_, SwimNode>,
        now: Time,
    ) -> Option<Violation> {
        let t = self.opt.dead_within?;
        for (&(p, m), rec) in self.crashes.iter_mut() {
            if rec.deadline_checked || now < rec.at + t {
                continue;
            }
            rec.deadline_checked = true;
            if rec.count >= self.up_in_pool[p as usize] {
                continue;
            }
            // Members (re)started after the crash joined a pool where it was already gone:
            // ViewsConvergeWithin covers them, not this deadline.
            let pool = &self.pools[p as usize];
            let holdout = (0..pool.members.len())
                .map(|i| pool.members.node(i))
                .find(|&v| {
                    v.0 != m
                        && self.down[v.index()].is_none()
                        && self.started[v.index()] <= rec.at
                        && !rec.believes(v)
                });
            let Some(holdout) = holdout else {
                continue;
            };
            let belief = view
                .node(holdout)
                .and_then(|node| node.view_of(p, pool.members.index(NodeId(m))?));
            return Some(Violation::new(
                Invariant::DEAD_WITHIN.name(),
                format!(
                    "n{m} crashed at {} and {t:?} later {} of {} live members of pool {} hold it \
                     dead; {} still holds it {}",
                    rec.at,
                    rec.count,
                    self.up_in_pool[p as usize],
                    pool.name,
                    holdout,
                    belief.map_or("nothing".to_string(), |b| format!("{:?}", b.state))
                ),
            ));
        }
        None
    }

    pub(super) fn check_converged(&self, view: &View<'_, SwimNode>) -> Option<Violation> {
        for (p, pool) in self.pools.iter().enumerate() {
            let p = p as u8;
            let down: Vec<u32> = (0..pool.members.len())
                .filter(|&i| self.down[pool.members.node(i).index()].is_some())
                .collect();
            for v in 0..pool.members.len() {
                let id = pool.members.node(v);
                let Some(node) = view.node(id) else {
                    continue;
                };
                let Some(slot) = node.pools.iter().find(|s| s.pool == p) else {
                    continue;
                };
                for (i, m) in slot.table.iter() {
                    let up = self.down[pool.members.node(i).index()].is_none();
                    if up && m.state != State::Alive {
                        return Some(self.unconverged(id, pool, i, m.state, "up"));
                    }
                }
                for &i in &down {
                    let m = slot.table.get(i);
                    if m.state != State::Dead {
                        return Some(self.unconverged(id, pool, i, m.state, "crashed"));
                    }
                }
            }
        }
        None
    }

    pub(super) fn unconverged(
        &self,
        v: NodeId,
        pool: &Pool,
        i: u32,
        s: State,
        is: &str,
    ) -> Violation {
        Violation::new(
            Invariant::VIEWS_CONVERGE_WITHIN.name(),
            format!(
                "at the deadline {v} holds {} {s:?} in pool {}, but it is {is}",
                pool.members.node(i),
                pool.name
            ),
        )
    }

    /// The checks whose time has come: crash deadlines, and the convergence check once.
    pub(super) fn due(&mut self, view: &View<'_, SwimNode>, now: Time) -> Check {
        if let Some(bad) = self.check_deadlines(view, now) {
            return Check::Violated(bad);
        }
        if let Some(at) = self.opt.converge_at
            && !self.converge_checked
            && now >= at
        {
            self.converge_checked = true;
            if let Some(bad) = self.check_converged(view) {
                return Check::Violated(bad);
            }
        }
        Check::Ok
    }
}
