//! The proposer and leader: phase 1a (campaign with a higher ballot), collecting promises,
//! adopting the values they report, phase 2a (Accept), counting acceptances and announcing
//! decisions, batching and pipelining client requests, re-sending what got no answer.
//!
//! Follows Paxos Made Simple §3 and PMMC §3 (Scout = phase 1, Commander = phase 2):
//! - phase 1 runs once for every slot from the candidate's first undecided slot (`applied + 1`);
//! - with promises from a majority, for each slot the leader adopts the value of the
//!   highest-ballot proposal any promise reports (P2c, §2.2: "v is the value of the
//!   highest-numbered proposal among the responses"); slots below the highest reported one
//!   that nobody reports are filled with no-ops (§3: "it proposes ... a special no-op
//!   command that leaves the state unchanged");
//! - a value is chosen once a majority accepted it in one ballot; the leader then learns it
//!   (see [`crate::learner`]) and sends `Decide` to everyone;
//! - a `Nack` with a higher ballot means another proposer got ahead: step down (PMMC's
//!   "preempted").
//!
//! The known bug `IgnorePromisedValues` skips adoption: the new leader reuses the slots the
//! promises report for its own client requests.

use crate::config::PaxosBug;
use crate::messages::{Ballot, Message, Value};
use crate::node::{Paxos, Proposal, Role};
use faultline::{Context, NodeId};
use std::collections::{BTreeMap, BTreeSet};

impl Paxos {
    /// Phase 1a: run for leader with a ballot above every one seen, starting with our own
    /// acceptor's promise (persisted before any Prepare leaves).
    pub(crate) fn campaign(&mut self, ctx: &mut Context<'_, Self>) {
        let round = self.promised.round.max(self.max_round) + 1;
        let ballot = Ballot {
            round,
            node: self.me,
        };
        ctx.count("paxos.elections", 1);
        self.max_round = round;
        self.ballot = ballot;
        self.role = Role::Candidate;
        self.leader = None;
        self.promise(ctx, ballot);
        self.prepare_from = self.applied + 1;
        let mine = ctx
            .durable()
            .accepted
            .range(self.prepare_from..)
            .map(|(&s, (b, v))| (s, *b, v.clone()))
            .collect();
        self.promises = BTreeMap::from([(self.me, mine)]);
        self.reset_deadline(ctx);
        let from = self.prepare_from;
        ctx.broadcast(&Message::Prepare { ballot, from });
        self.arm_heartbeat(ctx);
        self.maybe_lead(ctx);
    }

    /// Candidate: re-sends the Prepare to the nodes that have not promised.
    pub(crate) fn resend_prepare(&mut self, ctx: &mut Context<'_, Self>) {
        let (ballot, from) = (self.ballot, self.prepare_from);
        for p in ctx.peers() {
            if !self.promises.contains_key(&p) {
                ctx.send(p, Message::Prepare { ballot, from });
            }
        }
    }

    /// Phase 1b arrives: learn what it says is decided, count the promise.
    pub(crate) fn on_promise(
        &mut self,
        ctx: &mut Context<'_, Self>,
        from: NodeId,
        ballot: Ballot,
        accepted: Vec<(u64, Ballot, Value)>,
        decided: Vec<(u64, Value)>,
    ) {
        self.learn(ctx, decided);
        if self.role != Role::Candidate || ballot != self.ballot {
            return;
        }
        self.promises.insert(from, accepted);
        self.maybe_lead(ctx);
    }

    /// With a majority of promises: adopt, fill gaps, lead.
    fn maybe_lead(&mut self, ctx: &mut Context<'_, Self>) {
        if self.role != Role::Candidate || self.promises.len() < self.majority() {
            return;
        }
        let first = self.prepare_from.max(self.applied + 1);
        // Per slot, the value of the highest ballot any promise reports (P2c).
        let mut adopted: BTreeMap<u64, (Ballot, Value)> = BTreeMap::new();
        for (slot, ballot, value) in std::mem::take(&mut self.promises).into_values().flatten() {
            if slot >= first && adopted.get(&slot).is_none_or(|(b, _)| ballot > *b) {
                adopted.insert(slot, (ballot, value));
            }
        }
        if self.has_bug(PaxosBug::IgnorePromisedValues) {
            adopted.clear();
        }
        self.role = Role::Leader;
        self.leader = Some((self.me, self.ballot));
        ctx.count("paxos.leaders", 1);
        let decided = &ctx.durable().decided;
        let top = adopted.keys().copied().max().unwrap_or(0);
        let mut entries = vec![];
        for slot in first..=top {
            if decided.contains_key(&slot) {
                continue;
            }
            match adopted.remove(&slot) {
                Some((_, value)) => entries.push((slot, value)),
                None => entries.push((slot, Value::noop())),
            }
        }
        let noops = entries.iter().filter(|(_, v)| v.is_noop()).count() as u64;
        ctx.count("paxos.adopted", entries.len() as u64 - noops);
        ctx.count("paxos.noops", noops);
        self.next_slot = first.max(top + 1);
        self.send_heartbeats(ctx);
        self.propose(ctx, entries);
        self.propose_pending(ctx);
    }

    /// Leader: fills free slots with batches of waiting client requests, while fewer than
    /// `window` slots are in flight.
    pub(crate) fn propose_pending(&mut self, ctx: &mut Context<'_, Self>) {
        while self.role == Role::Leader
            && !self.queue.is_empty()
            && self.proposals.len() < self.cfg.window
        {
            let take = self.queue.len().min(self.cfg.max_batch);
            let batch: Vec<_> = self.queue.drain(..take).collect();
            ctx.sample("paxos.batch_size", batch.len() as f64);
            while ctx.durable().decided.contains_key(&self.next_slot) {
                self.next_slot += 1;
            }
            let slot = self.next_slot;
            self.next_slot += 1;
            self.propose(ctx, vec![(slot, Value(batch))]);
        }
    }

    /// Phase 2a for `entries`: our own acceptor accepts first (durably), then the Accepts go
    /// out.
    fn propose(&mut self, ctx: &mut Context<'_, Self>, entries: Vec<(u64, Value)>) {
        if entries.is_empty() {
            return;
        }
        let now = ctx.now();
        for (slot, value) in &entries {
            let proposal = Proposal {
                value: value.clone(),
                acks: BTreeSet::new(),
                sent: now,
            };
            self.proposals.insert(*slot, proposal);
        }
        let ballot = self.ballot;
        let Some(done) = self.accept(ctx, ballot, entries.clone()) else {
            // Our own acceptor promised a higher ballot: we no longer lead.
            return self.step_down(ctx, None);
        };
        for chunk in entries.chunks(self.cfg.max_entries_per_message) {
            for p in ctx.peers() {
                let entries = chunk.to_vec();
                ctx.send(p, Message::Accept { ballot, entries });
            }
        }
        let me = self.me;
        self.on_accepted(ctx, me, ballot, done.slots, done.decided);
    }

    /// Leader: re-sends the Accepts that have waited a heartbeat period, to the nodes that
    /// have not accepted them.
    pub(crate) fn resend_accepts(&mut self, ctx: &mut Context<'_, Self>) {
        let now = ctx.now();
        let due = self.cfg.heartbeat.0;
        let ballot = self.ballot;
        for p in ctx.peers() {
            let entries: Vec<(u64, Value)> = self
                .proposals
                .iter()
                .filter(|(_, pr)| now.saturating_since(pr.sent) >= due && !pr.acks.contains(&p))
                .map(|(&s, pr)| (s, pr.value.clone()))
                .collect();
            for chunk in entries.chunks(self.cfg.max_entries_per_message) {
                let entries = chunk.to_vec();
                ctx.send(p, Message::Accept { ballot, entries });
            }
        }
        for pr in self.proposals.values_mut() {
            if now.saturating_since(pr.sent) >= due {
                pr.sent = now;
            }
        }
    }

    /// Phase 2b arrives: count it; a slot accepted by a majority in our ballot is chosen.
    pub(crate) fn on_accepted(
        &mut self,
        ctx: &mut Context<'_, Self>,
        from: NodeId,
        ballot: Ballot,
        slots: Vec<u64>,
        decided: Vec<(u64, Value)>,
    ) {
        for (slot, _) in &decided {
            self.proposals.remove(slot);
        }
        self.learn(ctx, decided);
        if self.role != Role::Leader || ballot != self.ballot {
            return;
        }
        let majority = self.majority();
        let mut chosen = vec![];
        for slot in slots {
            if let Some(p) = self.proposals.get_mut(&slot) {
                p.acks.insert(from);
                if p.acks.len() >= majority {
                    let p = self.proposals.remove(&slot).expect("present");
                    chosen.push((slot, p.value));
                }
            }
        }
        if !chosen.is_empty() {
            ctx.count("paxos.chosen", chosen.len() as u64);
            ctx.broadcast(&Message::Decide {
                entries: chosen.clone(),
            });
            self.learn(ctx, chosen);
        }
        if from != self.me {
            // Slots left the window (our own acceptance comes from `propose`, which is
            // already filling it).
            self.propose_pending(ctx);
        }
    }

    /// A proposer's ballot was refused because the acceptor promised a higher one: step down
    /// and let the other proposer finish.
    pub(crate) fn on_nack(
        &mut self,
        ctx: &mut Context<'_, Self>,
        ballot: Ballot,
        promised: Ballot,
    ) {
        if self.role != Role::Follower && ballot == self.ballot && promised > self.ballot {
            ctx.count("paxos.preempted", 1);
            self.step_down(ctx, None);
            self.reset_deadline(ctx);
        }
    }
}
