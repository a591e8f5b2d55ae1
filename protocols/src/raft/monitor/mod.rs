//! The Raft checker: reads every server's state after every event and enforces the paper's
//! Figure 3 properties, monotonic terms and commit indices, and leader-within-T; it also
//! measures election times and messages per committed entry.
//!
//! How each property is checked (docs/references.md §1.1):
//! - Election Safety: a map term → the first server seen leading it.
//! - Leader Append-Only: a server leading the same term in two observations never loses or
//!   changes an entry it held.
//! - Log Matching: the monitor keeps its own copy of every server's log (term and command of
//!   each entry) and chains its own digest over it; a global map `(index, term) → digest`
//!   must never see two digests. Nothing here reads the digests the log code stores
//!   ([`super::log`]): a log edit that leaves them stale cannot hide a divergence.
//! - Leader Completeness: every entry seen committed (with the term in which it was seen
//!   committed) must be in the log of every leader of a later term — checked when a server
//!   becomes leader and when an entry is first seen committed.
//! - State Machine Safety: a global map index → applied entry must never see two entries.
//!
//! With snapshots, compacted entries are no longer visible: a server's snapshot ending at
//! `(index, term)` stands for the prefix the monitor saw ending there (the digest it chained
//! for that entry), and the entries the server keeps after it are chained from that prefix.
//! A server that keeps entries after a snapshot they do not extend therefore shows up as two
//! digests for one `(index, term)`.
//!
//! Cost: an event changes only the server it happened at (the engine hands a server's state
//! to nothing else), so only that server is read after it; an event at no server (a
//! partition, a tick) reads them all. There the entries after the server's last seen commit
//! index (or the highest index seen committed, if lower) are compared with the monitor's copy
//! (term and command; hashing only what changed) at every event, and the whole log after a
//! snapshot, before any Log Matching violation is reported, at the end of the run, and every
//! `max(32, length / 4)`-th event at that server (about four entries compared per event
//! however long the log); so an edit below a commit index is seen within that many events, or
//! at the end. Checks not asked for are not computed.

use super::log::Command;
use super::node::{Raft, Role};
use crate::checks::{Checks, Invariant};
use sim::{EventInfo, Metrics, Monitor, NodeId, Time, View, Violation};
use std::collections::{BTreeMap, BTreeSet};

mod dense;
mod log_matching;
use dense::Dense;
pub use log_matching::entry_digest;

/// One monitor for every Raft invariant asked for.
pub struct RaftMonitor {
    enabled: BTreeSet<Invariant>,
    /// Which of the costly checks are asked for (a check not asked for is not computed).
    logs: bool,
    completeness: bool,
    state_machine: bool,
    leader_within: Option<Time>,
    quiet_from: Time,
    leader_ok: bool,
    leaders: BTreeMap<u64, NodeId>,
    /// Per server, the monitor's copy of the entries after `shadow_base`: term, command and
    /// the monitor's own prefix digest.
    shadow: Vec<Vec<(u64, Command, u64)>>,
    /// Per server, the log offset its shadow starts after, and the monitor's digest of the
    /// prefix up to it.
    shadow_base: Vec<(u64, u64)>,
    /// The highest index seen committed.
    max_committed: u64,
    /// Per server, events at it since its last full comparison.
    quiet_events: Vec<u32>,
    seen_role: Vec<Option<(Role, u64)>>,
    chains: BTreeMap<(u64, u64), u64>,
    committed: Dense<(u64, u64)>,
    applied: Dense<(u64, Command)>,
    last_term: Vec<u64>,
    /// Per server: the highest term it knew durable when last seen up.
    synced_term: Vec<u64>,
    last_commit: Vec<Option<u64>>,
    last_applied: Vec<u64>,
    had_leader: Option<(NodeId, u64)>,
    lost_at: Option<(Time, u64)>,
    election_ms: Vec<(Time, f64)>,
    first_leader_ms: Option<f64>,
    /// The time of the last event seen (the end of the run once it finishes).
    last_seen: Time,
}

impl RaftMonitor {
    /// A monitor for `checks` on `nodes` servers; liveness deadlines count from `quiet_from`.
    pub fn new(nodes: usize, checks: &Checks, quiet_from: Time) -> RaftMonitor {
        let leader_within = checks
            .deadline(Invariant::LEADER_WITHIN)
            .map(|d| Time(quiet_from.as_nanos() + d.nanos()));
        let enabled: BTreeSet<Invariant> = checks.iter().map(|c| c.invariant).collect();
        RaftMonitor {
            logs: enabled.contains(&Invariant::LOG_MATCHING)
                || enabled.contains(&Invariant::LEADER_APPEND_ONLY),
            completeness: enabled.contains(&Invariant::LEADER_COMPLETENESS),
            state_machine: enabled.contains(&Invariant::STATE_MACHINE_SAFETY),
            enabled,
            leader_within,
            quiet_from,
            leader_ok: false,
            leaders: BTreeMap::new(),
            shadow: vec![Vec::new(); nodes],
            shadow_base: vec![(0, 0); nodes],
            quiet_events: vec![0; nodes],
            max_committed: 0,
            seen_role: vec![None; nodes],
            chains: BTreeMap::new(),
            committed: Dense::default(),
            applied: Dense::default(),
            last_term: vec![0; nodes],
            synced_term: vec![0; nodes],
            last_commit: vec![None; nodes],
            last_applied: vec![0; nodes],
            had_leader: None,
            lost_at: Some((Time::ZERO, 0)),
            election_ms: Vec::new(),
            first_leader_ms: None,
            last_seen: Time::ZERO,
        }
    }

    /// Election times measured so far (ms), from losing a leader to the first server
    /// hearing from a leader of a later term.
    pub fn election_times_ms(&self) -> Vec<f64> {
        self.election_ms.iter().map(|&(_, v)| v).collect()
    }

    fn fail(&self, inv: Invariant, msg: String) -> Result<(), Violation> {
        if self.enabled.contains(&inv) {
            Err(Violation::new(inv.name(), msg))
        } else {
            Ok(())
        }
    }

    fn check_node(&mut self, id: NodeId, r: &Raft, view: &View<'_, Raft>) -> Result<(), Violation> {
        let i = id.index();
        if r.term < self.last_term[i] {
            self.fail(
                Invariant::MONOTONIC_TERM,
                format!("{id} went from term {} to {}", self.last_term[i], r.term),
            )?;
        }
        self.last_term[i] = r.term;
        self.synced_term[i] = r.synced_term();
        let leading = r.role == Role::Leader;
        if leading {
            let first = *self.leaders.entry(r.term).or_insert(id);
            if first != id {
                self.fail(
                    Invariant::ELECTION_SAFETY,
                    format!("{first} and {id} both led term {}", r.term),
                )?;
            }
        }
        let same_reign = leading && self.seen_role[i] == Some((Role::Leader, r.term));
        if self.logs {
            self.check_log(id, r, same_reign, false)?;
        }
        if leading && !same_reign && self.completeness {
            self.check_new_leader(id, r)?;
        }
        self.seen_role[i] = Some((r.role, r.term));
        self.check_commit(id, r, view)?;
        if self.state_machine {
            self.check_applied(id, r)?;
        }
        Ok(())
    }

    fn check_new_leader(&self, id: NodeId, r: &Raft) -> Result<(), Violation> {
        for (idx, (term, seen_in)) in self.committed.iter() {
            // Entries inside the leader's snapshot are applied there; the snapshot stands for
            // the prefix the monitor saw at its index (see the module docs).
            if seen_in < r.term && idx >= r.log.offset() && r.log.term_at(idx) != Some(term) {
                return self.fail(
                    Invariant::LEADER_COMPLETENESS,
                    format!(
                        "{id} leads term {} without entry {idx} of term {term}, committed in term {seen_in} (it holds term {:?})",
                        r.term,
                        r.log.term_at(idx)
                    ),
                );
            }
        }
        Ok(())
    }

    fn check_commit(
        &mut self,
        id: NodeId,
        r: &Raft,
        view: &View<'_, Raft>,
    ) -> Result<(), Violation> {
        let i = id.index();
        let prev = self.last_commit[i];
        if let Some(p) = prev
            && r.commit < p
        {
            self.fail(
                Invariant::MONOTONIC_COMMIT,
                format!("{id}'s commit index went from {p} to {}", r.commit),
            )?;
        }
        let from = prev.unwrap_or(0) + 1;
        for idx in from..=r.commit {
            if self.committed.get(idx).is_some() {
                continue;
            }
            if idx < r.log.offset() {
                continue; // Inside a snapshot this server installed.
            }
            let Some(term) = r.log.term_at(idx) else {
                break;
            };
            self.committed.get_or_insert(idx, (term, r.term));
            self.max_committed = self.max_committed.max(idx);
            if !self.completeness {
                continue;
            }
            for (lid, l) in view.live_nodes() {
                if l.role == Role::Leader
                    && l.term > r.term
                    && idx >= l.log.offset()
                    && l.log.term_at(idx) != Some(term)
                {
                    return self.fail(
                        Invariant::LEADER_COMPLETENESS,
                        format!("entry {idx} of term {term} committed (seen by {id} in term {}) is missing from leader {lid} of term {}", r.term, l.term),
                    );
                }
            }
        }
        self.last_commit[i] = Some(r.commit.max(prev.unwrap_or(0)));
        Ok(())
    }

    fn check_applied(&mut self, id: NodeId, r: &Raft) -> Result<(), Violation> {
        let i = id.index();
        if r.applied < self.last_applied[i] {
            self.last_applied[i] = 0; // Restarted: it re-applies from the start.
        }
        for idx in self.last_applied[i] + 1..=r.applied {
            // Entries that arrived inside an installed snapshot are not seen one by one.
            let Some(e) = r.log.get(idx) else { continue };
            let first = self.applied.get_or_insert(idx, (e.term, e.command));
            if first != (e.term, e.command) {
                return self.fail(
                    Invariant::STATE_MACHINE_SAFETY,
                    format!("{id} applied {:?} (term {}) at index {idx}, another server applied {:?} (term {})", e.command, e.term, first.1, first.0),
                );
            }
        }
        self.last_applied[i] = r.applied;
        Ok(())
    }

    fn observe_leadership(&mut self, view: &View<'_, Raft>) {
        let now = view.now();
        self.last_seen = now;
        let lead = view
            .live_nodes()
            .filter(|(_, r)| r.role == Role::Leader)
            .max_by_key(|(_, r)| r.term)
            .map(|(id, r)| (id, r.term));
        if let Some(had) = self.had_leader
            && lead != Some(had)
            && self.lost_at.is_none()
        {
            self.lost_at = Some((now, had.1));
        }
        self.had_leader = lead;
        if let Some((at, term)) = self.lost_at {
            let heard = view
                .live_nodes()
                .any(|(_, r)| r.role != Role::Leader && r.leader.is_some() && r.term > term);
            if heard {
                let ms = (now.as_nanos() - at.as_nanos()) as f64 / 1e6;
                if term == 0 && self.first_leader_ms.is_none() {
                    self.first_leader_ms = Some(ms);
                } else {
                    self.election_ms.push((now, ms));
                }
                self.lost_at = None;
            }
        }
        if !self.leader_ok && now >= self.quiet_from && self.leader_within.is_some() {
            self.leader_ok = stable_leader(view);
        }
    }
}

/// Whether a live leader has a majority of servers following it in its term.
fn stable_leader(view: &View<'_, Raft>) -> bool {
    let quorum = view.node_count() / 2 + 1;
    view.live_nodes().any(|(id, l)| {
        l.role == Role::Leader
            && view
                .live_nodes()
                .filter(|(_, r)| r.term == l.term && r.leader == Some(id))
                .count()
                >= quorum
    })
}

impl Monitor<Raft> for RaftMonitor {
    fn name(&self) -> &str {
        "raft"
    }

    fn on_event(&mut self, view: &View<'_, Raft>, event: &EventInfo) -> sim::Check {
        for i in 0..view.node_count() {
            let id = NodeId(i as u32);
            // An event changes only the server it happens at (or, for events at no server
            // such as a partition, none; those are checked everywhere anyway).
            if event.node.is_some_and(|n| n != id) {
                continue;
            }
            match view.node(id) {
                Some(r) if r.halted.is_none() => {
                    if let Err(v) = self.check_node(id, r, view) {
                        return sim::Check::Violated(v);
                    }
                }
                // A server halted on a damaged disk does nothing: it is checked as if down.
                // A crash takes back a term adopted but not yet synced (the server acted on
                // nothing that depends on it): it may come back at its last synced term.
                _ => {
                    if let Some(r) = view.node(id) {
                        self.last_term[i] = r.synced_term();
                    } else {
                        self.last_term[i] = self.synced_term[i];
                    }
                    self.last_commit[i] = None;
                    self.seen_role[i] = None;
                }
            }
        }
        self.observe_leadership(view);
        if let Some(deadline) = self.leader_within
            && !self.leader_ok
            && view.now() > deadline
        {
            return sim::Check::Violated(self.leader_violation(deadline));
        }
        sim::Check::Ok
    }

    fn finish(&mut self, view: &View<'_, Raft>) -> sim::Check {
        self.last_seen = view.now();
        // Every log compared whole once more: an edit below a commit index made since a
        // server's last full comparison is not left unseen.
        if self.logs {
            for (id, r) in view.live_nodes() {
                let same_reign =
                    r.role == Role::Leader && self.seen_role[id.index()] == Some((r.role, r.term));
                if let Err(v) = self.check_log(id, r, same_reign, true) {
                    return sim::Check::Violated(v);
                }
            }
        }
        match self.leader_within {
            Some(deadline) if !self.leader_ok && view.now() >= deadline => {
                sim::Check::Violated(self.leader_violation(deadline))
            }
            _ => sim::Check::Ok,
        }
    }

    fn report(&self, metrics: &mut Metrics) {
        for &(at, ms) in &self.election_ms {
            metrics.sample("raft.election_time_ms", at, ms);
        }
        if let Some(ms) = self.first_leader_ms {
            metrics.sample("raft.first_leader_ms", Time::ZERO, ms);
        }
        // An election still going at the end is not an election time: it is reported apart,
        // so that a sweep can tell a run that never elected from one that was fast.
        if let Some((at, _)) = self.lost_at {
            let ms = self.last_seen.as_nanos().saturating_sub(at.as_nanos()) as f64 / 1e6;
            metrics.sample("raft.election_unfinished_ms", self.last_seen, ms);
        }
        let committed = self.committed.len() as u64;
        metrics.count("raft.committed_entries", committed);
        if committed > 0 {
            let per = metrics.counter("net.sent") as f64 / committed as f64;
            metrics.sample("raft.msgs_per_commit", Time::ZERO, per);
            let replication =
                metrics.counter("raft.append_msgs") + metrics.counter("raft.append_replies");
            metrics.sample(
                "raft.replication_msgs_per_commit",
                Time::ZERO,
                replication as f64 / committed as f64,
            );
            let followers = self.last_term.len().saturating_sub(1).max(1) as f64;
            let copies = metrics.counter("raft.entries_sent") as f64;
            metrics.sample(
                "raft.copies_per_entry",
                Time::ZERO,
                copies / (committed as f64 * followers),
            );
        }
        metrics.count(
            "raft.terms",
            self.last_term.iter().copied().max().unwrap_or(0),
        );
    }
}

impl RaftMonitor {
    fn leader_violation(&self, deadline: Time) -> Violation {
        Violation::new(
            Invariant::LEADER_WITHIN.name(),
            format!(
                "no leader followed by a majority between the last fault at {} and the deadline {}",
                self.quiet_from, deadline
            ),
        )
    }
}
