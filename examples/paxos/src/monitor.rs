//! The checker: Paxos's safety property computed from the acceptors' durable state, agreement
//! of what learners apply, and leader-within-T. It does not trust what nodes claim.
//!
//! - `Agreement` (Paxos Made Simple §2.1: "only a single value is chosen"): a value is chosen
//!   for a slot when a majority of acceptors have accepted it in the same ballot (§2.2). The
//!   monitor watches each acceptor's durable `accepted` map after every event that wrote
//!   durable storage, records every (slot, ballot, value) each acceptor ever accepted, and
//!   declares a value chosen the moment a majority is reached — whatever the leader thinks. It
//!   remembers every value ever chosen per slot and flags a second, different one.
//! - `AppliedAgreement` (the state-machine version, §3): no two nodes apply different values
//!   at one slot. Checked as each node's `applied` counter advances, against the decided log
//!   it applies from; a restarted node re-applies from slot 1 and is checked again.
//! - `LeaderWithin(T)`: within T after the last fault, a live leader is followed by a
//!   majority of live nodes in its ballot.
//!
//! Cost: an event that wrote nothing costs O(nodes); a write costs a comparison of one
//! acceptor's undecided slots with their last-seen copy (decided slots leave that map).

use crate::messages::{Ballot, Value};
use crate::node::{Paxos, Role};
use faultline::prelude::{EventInfo, Metrics, Monitor, NodeId, Time, View, Violation};
use faultline::sim::Check as SimCheck;
use faultline::{Checks, Invariant};
use std::collections::{BTreeMap, BTreeSet};

/// No two different values are chosen for one slot (computed from acceptors' durable state).
pub const AGREEMENT: Invariant = Invariant::new("Agreement");
/// No two nodes apply different values at the same slot.
pub const APPLIED_AGREEMENT: Invariant = Invariant::new("AppliedAgreement");

/// The values accepted in one (slot, ballot), each with the acceptors that accepted it (one
/// value, if proposers behave).
type Votes = Vec<(Value, BTreeSet<NodeId>)>;

/// A value chosen for a slot: in which ballot, and by which acceptors.
#[derive(Clone, Debug)]
struct Chosen {
    ballot: Ballot,
    value: Value,
    acceptors: BTreeSet<NodeId>,
}

/// One monitor for every Paxos check asked for.
pub struct PaxosMonitor {
    enabled: BTreeSet<Invariant>,
    majority: usize,
    /// The `storage.writes` counter at the last event: nothing to re-read if unchanged.
    writes: u64,
    /// Each acceptor's `accepted` map as last seen.
    shadow: Vec<BTreeMap<u64, (Ballot, Value)>>,
    /// Every (slot, ballot) any acceptor ever accepted, with its votes.
    votes: BTreeMap<(u64, Ballot), Votes>,
    /// The first value seen chosen for each slot.
    chosen: BTreeMap<u64, Chosen>,
    /// The first value seen applied at each slot, and by whom.
    applied: BTreeMap<u64, (NodeId, Value)>,
    last_applied: Vec<u64>,
    quiet_from: Time,
    leader_deadline: Option<Time>,
    leader_ok: bool,
    max_round: u64,
}

impl PaxosMonitor {
    /// A monitor of `checks` for `nodes` nodes; deadlines count from `quiet_from`.
    pub fn new(nodes: usize, checks: &Checks, quiet_from: Time) -> PaxosMonitor {
        let leader_deadline = checks
            .deadline(Invariant::LEADER_WITHIN)
            .map(|d| Time(quiet_from.as_nanos() + d.nanos()));
        PaxosMonitor {
            enabled: checks.iter().map(|c| c.invariant).collect(),
            majority: nodes / 2 + 1,
            writes: 0,
            shadow: vec![BTreeMap::new(); nodes],
            votes: BTreeMap::new(),
            chosen: BTreeMap::new(),
            applied: BTreeMap::new(),
            last_applied: vec![0; nodes],
            quiet_from,
            leader_deadline,
            leader_ok: false,
            max_round: 0,
        }
    }

    fn fail(&self, inv: Invariant, msg: String) -> Result<(), Violation> {
        if self.enabled.contains(&inv) {
            Err(Violation::new(inv.name(), msg))
        } else {
            Ok(())
        }
    }

    /// Re-reads acceptor `id`'s durable `accepted` map and counts every new acceptance.
    fn read_acceptor(&mut self, id: NodeId, view: &View<'_, Paxos>) -> Result<(), Violation> {
        let now = &view.durable(id).accepted;
        let seen = &self.shadow[id.index()];
        if now == seen {
            return Ok(());
        }
        let new: Vec<_> = now
            .iter()
            .filter(|&(s, e)| seen.get(s) != Some(e))
            .map(|(&s, (b, v))| (s, *b, v.clone()))
            .collect();
        self.shadow[id.index()] = now.clone();
        for (slot, ballot, value) in new {
            self.max_round = self.max_round.max(ballot.round);
            self.vote(id, slot, ballot, value)?;
        }
        Ok(())
    }

    /// Acceptor `id` accepted `value` for `slot` in `ballot`; is it now chosen?
    fn vote(
        &mut self,
        id: NodeId,
        slot: u64,
        ballot: Ballot,
        value: Value,
    ) -> Result<(), Violation> {
        let values = self.votes.entry((slot, ballot)).or_default();
        let i = match values.iter().position(|(v, _)| *v == value) {
            Some(i) => i,
            None => {
                values.push((value.clone(), BTreeSet::new()));
                values.len() - 1
            }
        };
        let acceptors = &mut values[i].1;
        if !acceptors.insert(id) || acceptors.len() != self.majority {
            return Ok(());
        }
        let acceptors = acceptors.clone();
        match self.chosen.get(&slot) {
            None => {
                self.chosen.insert(slot, Chosen { ballot, value, acceptors });
                Ok(())
            }
            Some(first) if first.value != value => self.fail(
                AGREEMENT,
                format!(
                    "slot {slot}: {:?} was chosen in ballot {:?} (accepted by {:?}), then {value:?} in ballot {ballot:?} (accepted by {acceptors:?})",
                    first.value, first.ballot, first.acceptors
                ),
            ),
            Some(_) => Ok(()),
        }
    }

    /// Checks the slots node `id` applied since the last event against every other node's.
    fn check_applied(
        &mut self,
        id: NodeId,
        node: &Paxos,
        view: &View<'_, Paxos>,
    ) -> Result<(), Violation> {
        let i = id.index();
        if node.applied < self.last_applied[i] {
            self.last_applied[i] = 0; // Restarted: it applies its decided log again.
        }
        let decided = &view.durable(id).decided;
        for slot in self.last_applied[i] + 1..=node.applied {
            let Some(value) = decided.get(&slot) else {
                return self.fail(
                    APPLIED_AGREEMENT,
                    format!("{id} applied slot {slot} without a decided value for it"),
                );
            };
            let (first, v) = self.applied.entry(slot).or_insert((id, value.clone()));
            if v != value {
                let msg = format!("{id} applied {value:?} at slot {slot}, {first} applied {v:?}");
                return self.fail(APPLIED_AGREEMENT, msg);
            }
        }
        self.last_applied[i] = node.applied;
        Ok(())
    }

    fn check(&mut self, view: &View<'_, Paxos>, event: &EventInfo) -> Result<(), Violation> {
        let writes = view.metrics().counter("storage.writes");
        if writes != self.writes {
            self.writes = writes;
            match event.node {
                Some(id) => self.read_acceptor(id, view)?,
                None => {
                    for i in 0..view.node_count() {
                        self.read_acceptor(NodeId(i as u32), view)?;
                    }
                }
            }
        }
        for i in 0..view.node_count() {
            let id = NodeId(i as u32);
            if let Some(node) = view.node(id) {
                self.check_applied(id, node, view)?;
            }
        }
        if self.leader_deadline.is_some() && !self.leader_ok && view.now() >= self.quiet_from {
            self.leader_ok = stable_leader(view);
        }
        Ok(())
    }

    fn leader_violation(&self) -> SimCheck {
        let deadline = self.leader_deadline.unwrap_or(Time::ZERO);
        SimCheck::Violated(Violation::new(
            Invariant::LEADER_WITHIN.name(),
            format!(
                "no leader followed by a majority between the last fault at {} and the deadline {deadline}",
                self.quiet_from
            ),
        ))
    }
}

/// Whether a live leader is followed by a majority of the nodes (itself included) in its
/// ballot.
fn stable_leader(view: &View<'_, Paxos>) -> bool {
    let majority = view.node_count() / 2 + 1;
    view.live_nodes().any(|(id, l)| {
        l.role == Role::Leader
            && view
                .live_nodes()
                .filter(|(_, r)| r.leader == Some((id, l.ballot)))
                .count()
                >= majority
    })
}

impl Monitor<Paxos> for PaxosMonitor {
    fn name(&self) -> &str {
        "paxos"
    }

    fn on_event(&mut self, view: &View<'_, Paxos>, event: &EventInfo) -> SimCheck {
        if let Err(v) = self.check(view, event) {
            return SimCheck::Violated(v);
        }
        match self.leader_deadline {
            Some(deadline) if !self.leader_ok && view.now() > deadline => self.leader_violation(),
            _ => SimCheck::Ok,
        }
    }

    fn finish(&mut self, view: &View<'_, Paxos>) -> SimCheck {
        match self.leader_deadline {
            Some(deadline) if !self.leader_ok && view.now() >= deadline => self.leader_violation(),
            _ => SimCheck::Ok,
        }
    }

    fn report(&self, metrics: &mut Metrics) {
        metrics.count("paxos.slots_chosen", self.chosen.len() as u64);
        metrics.count("paxos.max_round", self.max_round);
    }
}
