//! One Paxos node: its durable and volatile state, the `Protocol` implementation that routes
//! every input to the role that handles it, and leader election.
//!
//! Every node is proposer, acceptor and learner at once (Paxos Made Simple §2.1 and §3:
//! "each server plays all the roles"). The roles live in their own files —
//! [`crate::acceptor`] (phase 1b and 2b, the durable promise), [`crate::proposer`] (phase 1a,
//! adoption, phase 2a, counting acceptances) and [`crate::learner`] (decisions, applying in
//! slot order, replies) — as `impl Paxos` blocks over the one state below.
//!
//! Leader election (Paxos Made Simple §3 leaves it open; this is PMMC §3's "leader" with
//! Raft-style randomized timeouts): the leader sends heartbeats; a node that hears no leader
//! with a ballot at least its promise before a randomized deadline runs phase 1 with a higher
//! ballot; a Nack carrying a higher ballot makes a proposer step down (PMMC's "preempted").

use crate::config::{PaxosBug, PaxosConfig};
use crate::messages::{Ballot, Message, Timer, Value};
use faultline::kv::{KvReply, KvRequest, KvResult, KvStore};
use faultline::sim::rng::uniform_u64;
use faultline::{ClientId, Context, NodeId, Protocol, Time};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::time::Duration;

/// What survives a crash: the acceptor's promise and accepted values, and the decided log.
/// Acceptors write here before they answer (faultline's durable writes are synchronous).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PaxosDurable {
    /// The highest ballot this acceptor promised (phase 1b, and implied by phase 2b).
    pub promised: Ballot,
    /// For each slot not yet known decided: the highest-ballot proposal accepted.
    pub accepted: BTreeMap<u64, (Ballot, Value)>,
    /// The decided values this node has learned, by slot. A slot moves here from `accepted`
    /// when it is learned, so the acceptor state stays as small as the undecided window.
    pub decided: BTreeMap<u64, Value>,
}

/// A node's role as a proposer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Role {
    /// Follows the leader it last heard (or waits for one).
    Follower,
    /// Running phase 1 with its ballot.
    Candidate,
    /// Phase 1 succeeded: runs phase 2 for every new slot.
    Leader,
}

/// A slot the leader proposed and has not yet seen chosen.
#[derive(Clone, Debug)]
pub(crate) struct Proposal {
    pub(crate) value: Value,
    pub(crate) acks: BTreeSet<NodeId>,
    /// When the Accept was last sent (local clock), for re-sending.
    pub(crate) sent: Time,
}

/// One node (volatile state; [`PaxosDurable`] is what survives a crash).
#[derive(Clone, Debug)]
pub struct Paxos {
    pub(crate) me: NodeId,
    pub(crate) n: usize,
    pub(crate) cfg: PaxosConfig,
    /// The proposer's role.
    pub role: Role,
    /// The ballot this node runs (as candidate or leader) or last ran.
    pub ballot: Ballot,
    /// The leader this node follows, with its ballot (itself while it leads).
    pub leader: Option<(NodeId, Ballot)>,
    /// The acceptor's promise: durable storage's, except under `ForgetPromise`.
    pub promised: Ballot,
    /// The replicated KV store, after applying slots `1..=applied`.
    pub store: KvStore,
    /// The last slot applied to the store (slots are numbered from 1).
    pub applied: u64,
    /// The highest round seen in any ballot, so the next campaign outbids it.
    pub(crate) max_round: u64,
    /// When to start phase 1 if no leader is heard before (local clock).
    pub(crate) deadline: Time,
    pub(crate) heartbeat_armed: bool,
    /// Candidate: the first slot of phase 1 and the promises so far (with their accepted
    /// values).
    pub(crate) prepare_from: u64,
    pub(crate) promises: BTreeMap<NodeId, Vec<(u64, Ballot, Value)>>,
    /// Leader: proposals in flight, the next free slot, requests waiting for a slot.
    pub(crate) proposals: BTreeMap<u64, Proposal>,
    pub(crate) next_slot: u64,
    pub(crate) queue: VecDeque<KvRequest>,
    /// Requests this node must answer once applied: (client, seq) -> the client to reply to.
    pub(crate) waiting: BTreeMap<(u64, u64), ClientId>,
}

impl Protocol for Paxos {
    type Config = PaxosConfig;
    type Message = Message;
    type Timer = Timer;
    type Request = KvRequest;
    type Reply = KvReply;
    type Durable = PaxosDurable;

    fn start(ctx: &mut Context<'_, Self>) -> Self {
        Paxos::boot(ctx)
    }

    fn recover(ctx: &mut Context<'_, Self>) -> Self {
        ctx.count("paxos.recoveries", 1);
        Paxos::boot(ctx)
    }

    fn on_message(&mut self, ctx: &mut Context<'_, Self>, from: NodeId, msg: Message) {
        if let Some(b) = msg.ballot() {
            self.max_round = self.max_round.max(b.round);
        }
        match msg {
            Message::Prepare { ballot, from: slot } => self.on_prepare(ctx, from, ballot, slot),
            Message::Promise {
                ballot,
                accepted,
                decided,
            } => self.on_promise(ctx, from, ballot, accepted, decided),
            Message::Accept { ballot, entries } => self.on_accept(ctx, from, ballot, entries),
            Message::Accepted {
                ballot,
                slots,
                decided,
            } => self.on_accepted(ctx, from, ballot, slots, decided),
            Message::Nack { ballot, promised } => self.on_nack(ctx, ballot, promised),
            Message::Decide { entries } => self.learn(ctx, entries),
            Message::Heartbeat {
                ballot,
                decided_upto,
            } => self.on_heartbeat(ctx, from, ballot, decided_upto),
            Message::CatchUp { from: slot } => self.on_catch_up(ctx, from, slot),
        }
    }

    fn on_timer(&mut self, ctx: &mut Context<'_, Self>, timer: Timer) {
        match timer {
            Timer::Election => self.on_election_timer(ctx),
            Timer::Heartbeat => self.on_heartbeat_timer(ctx),
        }
    }

    fn on_client_request(&mut self, ctx: &mut Context<'_, Self>, client: ClientId, req: KvRequest) {
        self.serve(ctx, client, req);
    }

    fn leader_term(&self) -> Option<u64> {
        // Ballots order by (round, node): encode both so faults aimed at `Leader` pick the
        // leader of the highest ballot.
        (self.role == Role::Leader)
            .then(|| self.ballot.round * self.n as u64 + self.ballot.node.0 as u64)
    }

    /// Role, the round of its ballot and the last slot applied.
    fn annotate(&self, _: &Self::Durable, out: &mut faultline::Annotations) {
        out.set(
            "role",
            match self.role {
                Role::Follower => "follower",
                Role::Candidate => "candidate",
                Role::Leader => "leader",
            },
        );
        out.set("round", self.ballot.round);
        out.set("applied", self.applied);
    }
}

impl Paxos {
    /// A node built from its durable storage: the promise, and the store rebuilt by applying
    /// the decided log in slot order. On a first start the storage is empty.
    fn boot(ctx: &mut Context<'_, Self>) -> Paxos {
        let mut node = Paxos {
            me: ctx.id(),
            n: ctx.node_count(),
            cfg: ctx.config().clone(),
            role: Role::Follower,
            ballot: Ballot::default(),
            leader: None,
            promised: ctx.durable().promised,
            store: KvStore::new(),
            applied: 0,
            max_round: ctx.durable().promised.round,
            deadline: ctx.now(),
            heartbeat_armed: false,
            prepare_from: 1,
            promises: BTreeMap::new(),
            proposals: BTreeMap::new(),
            next_slot: 1,
            queue: VecDeque::new(),
            waiting: BTreeMap::new(),
        };
        node.apply(ctx);
        node.reset_deadline(ctx);
        ctx.set_timer(node.deadline.saturating_since(ctx.now()), Timer::Election);
        node
    }

    /// Whether a known bug is switched on.
    pub(crate) fn has_bug(&self, bug: PaxosBug) -> bool {
        self.cfg.has_bug(bug)
    }

    /// The number of nodes that make a majority.
    pub(crate) fn majority(&self) -> usize {
        self.n / 2 + 1
    }

    /// Moves the election deadline a fresh random timeout past now.
    pub(crate) fn reset_deadline(&mut self, ctx: &mut Context<'_, Self>) {
        let (lo, hi) = self.cfg.election_timeout;
        let timeout = uniform_u64(ctx.rng(), lo.nanos(), hi.nanos());
        self.deadline = ctx.now() + Duration::from_nanos(timeout);
    }

    /// One election timer is always pending; when it fires before the deadline (the deadline
    /// moved because a leader was heard) it is set again for the deadline.
    fn on_election_timer(&mut self, ctx: &mut Context<'_, Self>) {
        if self.role == Role::Leader {
            self.reset_deadline(ctx);
        } else if ctx.now() >= self.deadline {
            self.campaign(ctx);
        }
        ctx.set_timer(self.deadline.saturating_since(ctx.now()), Timer::Election);
    }

    /// Sets the heartbeat timer unless it is pending.
    pub(crate) fn arm_heartbeat(&mut self, ctx: &mut Context<'_, Self>) {
        if !self.heartbeat_armed {
            self.heartbeat_armed = true;
            ctx.set_timer(self.cfg.heartbeat.0, Timer::Heartbeat);
        }
    }

    fn on_heartbeat_timer(&mut self, ctx: &mut Context<'_, Self>) {
        self.heartbeat_armed = false;
        match self.role {
            Role::Follower => return,
            Role::Candidate => self.resend_prepare(ctx),
            Role::Leader => {
                self.send_heartbeats(ctx);
                self.resend_accepts(ctx);
            }
        }
        self.arm_heartbeat(ctx);
    }

    /// A leader of `ballot` was heard (a heartbeat or an Accept at least our promise): follow
    /// it, stepping down if this node ran a lower ballot, and give it a fresh timeout.
    pub(crate) fn follow(&mut self, ctx: &mut Context<'_, Self>, from: NodeId, ballot: Ballot) {
        if self.role != Role::Follower && ballot > self.ballot {
            self.step_down(ctx, Some(from));
        }
        if self.role == Role::Follower && self.leader.is_none_or(|(_, b)| ballot >= b) {
            self.leader = Some((from, ballot));
            self.reset_deadline(ctx);
        }
    }

    /// Stops leading or campaigning: requests in flight are answered "not leader" (the
    /// client retries with the same sequence number, so one that is chosen anyway is applied
    /// once).
    pub(crate) fn step_down(&mut self, ctx: &mut Context<'_, Self>, hint: Option<NodeId>) {
        if self.role == Role::Follower {
            return;
        }
        ctx.count("paxos.step_downs", 1);
        self.role = Role::Follower;
        self.leader = None;
        self.promises.clear();
        self.proposals.clear();
        self.queue.clear();
        for ((_, seq), client) in std::mem::take(&mut self.waiting) {
            let result = KvResult::NotLeader { hint };
            ctx.reply(client, KvReply { seq, result });
        }
    }
}
