//! The learner and the client side: decided values are recorded durably and applied to the KV
//! store strictly in slot order, clients are answered after their request is applied (or
//! redirected to the leader), and a learner that missed decisions catches up.
//!
//! Paxos Made Simple §3: "the server can execute command i only after it has executed
//! commands 1 through i-1", so a slot decided out of order waits for the gap below it. The
//! leader learns a value when a majority accepted it and tells everyone (PMMC §3's "decision"
//! messages); a learner that missed some (lost messages, a crash, a partition) sees the gap in
//! the leader's heartbeat (`decided_upto`) and asks for the decisions from its first gap on.
//!
//! Clients talk to the leader; any other node redirects them with `NotLeader { hint }`. Reads
//! go through the log like writes: a read is answered with the value it read at its place in
//! the log, which makes reads linearizable without leases. `KvStore`'s client sessions make a
//! request decided in two slots (a client retry that two leaders both proposed) take effect
//! once.

use crate::messages::{Ballot, Message, Value};
use crate::node::{Paxos, Role};
use faultline::kv::machine::Applied;
use faultline::kv::{KvReply, KvRequest, KvResult};
use faultline::{ClientId, Context, NodeId};

impl Paxos {
    /// A client request: the leader queues it for a slot (a retry of a request already
    /// queued or proposed is answered when that one is applied); anyone else redirects.
    pub(crate) fn serve(&mut self, ctx: &mut Context<'_, Self>, client: ClientId, req: KvRequest) {
        if self.role != Role::Leader {
            let hint = self.leader.map(|(id, _)| id).filter(|&id| id != self.me);
            let result = KvResult::NotLeader { hint };
            ctx.reply(
                client,
                KvReply {
                    seq: req.seq,
                    result,
                },
            );
            return;
        }
        if self.waiting.insert((req.client, req.seq), client).is_none() {
            self.queue.push_back(req);
            self.propose_pending(ctx);
        }
    }

    /// Learns decided values: writes the new ones to the decided log (dropping the slot's
    /// accepted entry, which the decision supersedes) in one durable write, then applies.
    pub(crate) fn learn(&mut self, ctx: &mut Context<'_, Self>, entries: Vec<(u64, Value)>) {
        let applied = self.applied;
        let new: Vec<_> = entries
            .into_iter()
            .filter(|(s, _)| *s > applied && !ctx.durable().decided.contains_key(s))
            .collect();
        if new.is_empty() {
            return;
        }
        let durable = ctx.durable_mut();
        for (slot, value) in new {
            durable.accepted.remove(&slot);
            durable.decided.insert(slot, value);
        }
        self.apply(ctx);
    }

    /// Applies every decided slot after `applied` that has no gap below it, in order, and
    /// answers the clients waiting here.
    pub(crate) fn apply(&mut self, ctx: &mut Context<'_, Self>) {
        while let Some(value) = ctx.durable().decided.get(&(self.applied + 1)) {
            let value = value.clone();
            self.applied += 1;
            for req in &value.0 {
                let result = match self.store.apply(req) {
                    Applied::Executed(ret) | Applied::Duplicate(ret) => KvResult::Ok(ret),
                    Applied::Stale => KvResult::Fail,
                };
                if let Some(client) = self.waiting.remove(&(req.client, req.seq)) {
                    ctx.reply(
                        client,
                        KvReply {
                            seq: req.seq,
                            result,
                        },
                    );
                }
            }
        }
    }

    /// A Heartbeat: follow a leader at least as high as our promise and ask for the decisions
    /// we miss; refuse a lower one, so that a deposed leader learns it was.
    pub(crate) fn on_heartbeat(
        &mut self,
        ctx: &mut Context<'_, Self>,
        from: NodeId,
        ballot: Ballot,
        decided_upto: u64,
    ) {
        if ballot < self.promised {
            let promised = self.promised;
            ctx.send(from, Message::Nack { ballot, promised });
            return;
        }
        self.follow(ctx, from, ballot);
        if self.applied + 1 < decided_upto {
            let from_slot = self.applied + 1;
            ctx.send(from, Message::CatchUp { from: from_slot });
        }
    }

    /// A learner asks for the decisions from `first` on: send what we have, a message's worth.
    pub(crate) fn on_catch_up(&mut self, ctx: &mut Context<'_, Self>, from: NodeId, first: u64) {
        let entries: Vec<(u64, Value)> = ctx
            .durable()
            .decided
            .range(first..)
            .take(self.cfg.max_entries_per_message)
            .map(|(&s, v)| (s, v.clone()))
            .collect();
        if !entries.is_empty() {
            ctx.count("paxos.catch_up", 1);
            ctx.send(from, Message::Decide { entries });
        }
    }

    /// Leader: tells everyone it is alive and how far the log is decided.
    pub(crate) fn send_heartbeats(&mut self, ctx: &mut Context<'_, Self>) {
        ctx.broadcast(&Message::Heartbeat {
            ballot: self.ballot,
            decided_upto: self.applied + 1,
        });
    }
}
