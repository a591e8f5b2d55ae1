//! The controller quorum: how the metadata (leaders, leader epochs, ISRs, fencing, consumer
//! offsets) is made fault tolerant, and the active controller's duties.
//!
//! The first `controllers` brokers are voters (KRaft's combined mode). The metadata is one
//! versioned value replicated by Multi-Paxos over a register: a voter that hears no
//! controller for its randomized timeout prepares a higher ballot; with a majority of promises
//! it adopts the highest `(ballot, version)` value they accepted (or the initial layout) and
//! re-proposes it under its own ballot. Every change is then a new version, accepted by a
//! majority before anyone acts on it; one proposal is in flight at a time. A deposed
//! controller cannot commit: the voters promised a higher ballot. This is the guarantee
//! KRaft gets from Raft (one committed metadata history) with the state kept as a value
//! rather than a log, because brokers only ever need the latest version.
//!
//! Duties of the active controller, each tick: fence brokers whose heartbeats stopped for
//! `session_timeout` (they leave every ISR; the partitions they led elect a new leader),
//! unfence brokers that heartbeat again, apply leaders' ISR change requests and consumers'
//! offset commits. Committed metadata is pushed to every broker; a heartbeat from a broker
//! with an older version is answered with the current one.

use super::meta::{Election, Metadata};
use super::node::{Accepted, Broker, Message};
use sim::rng::uniform_u64;
use sim::{ClientId, Context, NodeId, Time};
use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

/// A voter's role in the quorum.
#[derive(Debug)]
enum Role {
    /// Following whichever controller holds the highest ballot.
    Voter,
    /// Collecting promises for `ballot`.
    Candidate {
        ballot: u64,
        promises: BTreeMap<NodeId, Option<Accepted>>,
    },
    /// The active controller.
    Active(Box<Active>),
}

/// The active controller's state.
#[derive(Debug)]
struct Active {
    ballot: u64,
    /// The last committed version and its metadata (`None` until the adopted value is
    /// committed under this ballot).
    committed: Option<(u64, Metadata)>,
    /// The proposal in flight, and the voters that accepted it.
    inflight: Option<(u64, Metadata, BTreeSet<NodeId>)>,
    /// When each broker last heartbeat (local clock).
    heard: Vec<Time>,
    /// ISR change requests: (leader, partition, partition epoch, ISR).
    alters: Vec<(NodeId, u32, u64, Vec<NodeId>)>,
    /// Offset commits not yet proposed.
    commits: Vec<Commit>,
    /// Clients to answer once `version` commits.
    waiting: Vec<(u64, ClientId)>,
}

/// A consumer's offset commit waiting for the next proposal.
#[derive(Debug)]
struct Commit {
    client: ClientId,
    consumer: u64,
    offsets: Vec<(u32, u64)>,
}

/// A controller quorum voter.
#[derive(Debug)]
pub struct Quorum {
    role: Role,
    /// When a controller at or above our promise was last heard (local clock).
    heard: Time,
    /// This election timeout, drawn in `[timeout, 2·timeout)`.
    timeout: Duration,
    voters: usize,
}

impl Quorum {
    pub(super) fn new(ctx: &mut Context<'_, Broker>) -> Quorum {
        let voters = ctx.config().voters(ctx.node_count());
        let mut q = Quorum {
            role: Role::Voter,
            heard: ctx.now(),
            timeout: Duration::ZERO,
            voters,
        };
        q.reset(ctx);
        q
    }

    /// Whether this voter is the active controller with committed metadata.
    pub fn active(&self) -> bool {
        matches!(&self.role, Role::Active(a) if a.committed.is_some())
    }

    fn reset(&mut self, ctx: &mut Context<'_, Broker>) {
        let t = ctx.config().controller_timeout.0.as_nanos() as u64;
        self.timeout = Duration::from_nanos(uniform_u64(ctx.rng(), t, 2 * t - 1));
        self.heard = ctx.now();
    }

    fn majority(&self) -> usize {
        self.voters / 2 + 1
    }
}

fn election(ctx: &Context<'_, Broker>) -> Election {
    Election {
        unclean: ctx.config().unclean_leader_election,
    }
}

impl Broker {
    fn voters(&self, ctx: &Context<'_, Self>) -> Vec<NodeId> {
        let n = self.quorum.as_ref().map_or(0, |q| q.voters);
        (0..n as u32)
            .map(NodeId)
            .filter(|&v| v != ctx.id())
            .collect()
    }

    /// Voters: start an election when no controller was heard for the timeout; the active
    /// controller: its duties, and the proposal in flight re-sent to those that did not
    /// accept it.
    pub(super) fn quorum_tick(&mut self, ctx: &mut Context<'_, Self>) {
        let Some(q) = self.quorum.as_mut() else {
            return;
        };
        let now = ctx.now();
        if let Role::Active(a) = &mut q.role {
            if let Some((version, meta, acks)) = &a.inflight {
                let msg = Message::Accept {
                    ballot: a.ballot,
                    version: *version,
                    meta: meta.clone(),
                };
                for v in 0..q.voters as u32 {
                    let v = NodeId(v);
                    if v != ctx.id() && !acks.contains(&v) {
                        ctx.send(v, msg.clone());
                    }
                }
            }
            self.duties(ctx);
            return;
        }
        if now.saturating_since(q.heard) < q.timeout {
            return;
        }
        // A new ballot above every one seen, unique to this voter.
        let promised = ctx.durable().promised;
        let ballot = ((promised >> 8) + 1) << 8 | u64::from(ctx.id().0);
        ctx.durable_mut().promised = ballot;
        let mut promises = BTreeMap::new();
        promises.insert(ctx.id(), ctx.durable().accepted.clone());
        q.role = Role::Candidate { ballot, promises };
        q.reset(ctx);
        ctx.cover("kafka.controller.election");
        for v in self.voters(ctx) {
            ctx.send(v, Message::Prepare { ballot });
        }
        self.check_promises(ctx);
    }

    pub(super) fn on_prepare(&mut self, ctx: &mut Context<'_, Self>, from: NodeId, ballot: u64) {
        if self.quorum.is_none() {
            return;
        }
        if ballot <= ctx.durable().promised {
            let promised = ctx.durable().promised;
            ctx.send(from, Message::Nack { promised });
            return;
        }
        ctx.durable_mut().promised = ballot;
        let accepted = ctx.durable().accepted.clone();
        if let Some(q) = self.quorum.as_mut() {
            q.role = Role::Voter;
            q.reset(ctx);
        }
        ctx.send(from, Message::Promise { ballot, accepted });
    }

    pub(super) fn on_promise(
        &mut self,
        ctx: &mut Context<'_, Self>,
        from: NodeId,
        ballot: u64,
        accepted: Option<Accepted>,
    ) {
        if let Some(Quorum {
            role:
                Role::Candidate {
                    ballot: b,
                    promises,
                },
            ..
        }) = self.quorum.as_mut()
            && *b == ballot
        {
            promises.insert(from, accepted);
            self.check_promises(ctx);
        }
    }

    /// With a majority of promises: adopt the highest accepted value and propose it again
    /// under this ballot.
    fn check_promises(&mut self, ctx: &mut Context<'_, Self>) {
        let Some(q) = self.quorum.as_mut() else {
            return;
        };
        let Role::Candidate { ballot, promises } = &q.role else {
            return;
        };
        if promises.len() < q.majority() {
            return;
        }
        let ballot = *ballot;
        let best = promises
            .values()
            .flatten()
            .max_by_key(|a| (a.0, a.1))
            .cloned();
        let cfg = ctx.config();
        let (version, meta) = match best {
            Some((_, v, m)) => (v, m),
            None => (0, cfg.layout(ctx.node_count())),
        };
        let now = ctx.now();
        q.role = Role::Active(Box::new(Active {
            ballot,
            committed: None,
            inflight: None,
            heard: vec![now; ctx.node_count()],
            alters: Vec::new(),
            commits: Vec::new(),
            waiting: Vec::new(),
        }));
        ctx.cover("kafka.controller.elected");
        self.propose(ctx, version + 1, meta);
    }

    /// Proposes `meta` as `version`: accepted locally, sent to the other voters.
    fn propose(&mut self, ctx: &mut Context<'_, Self>, version: u64, meta: Metadata) {
        let voters = self.voters(ctx);
        let Some(Quorum {
            role: Role::Active(a),
            ..
        }) = self.quorum.as_mut()
        else {
            return;
        };
        let ballot = a.ballot;
        ctx.durable_mut().accepted = Some((ballot, version, meta.clone()));
        a.inflight = Some((version, meta.clone(), BTreeSet::from([ctx.id()])));
        for v in voters {
            ctx.send(
                v,
                Message::Accept {
                    ballot,
                    version,
                    meta: meta.clone(),
                },
            );
        }
        self.check_accepts(ctx);
    }

    pub(super) fn on_accept(
        &mut self,
        ctx: &mut Context<'_, Self>,
        from: NodeId,
        ballot: u64,
        version: u64,
        meta: Metadata,
    ) {
        if self.quorum.is_none() {
            return;
        }
        let promised = ctx.durable().promised;
        if ballot < promised {
            ctx.send(from, Message::Nack { promised });
            return;
        }
        let d = ctx.durable_mut();
        d.promised = ballot;
        d.accepted = Some((ballot, version, meta));
        if let Some(q) = self.quorum.as_mut() {
            if !matches!(q.role, Role::Voter) {
                ctx.cover("kafka.controller.deposed");
            }
            q.role = Role::Voter;
            q.reset(ctx);
        }
        ctx.send(from, Message::AcceptOk { ballot, version });
    }

    pub(super) fn on_accept_ok(
        &mut self,
        ctx: &mut Context<'_, Self>,
        from: NodeId,
        ballot: u64,
        version: u64,
    ) {
        if let Some(Quorum {
            role: Role::Active(a),
            ..
        }) = self.quorum.as_mut()
            && a.ballot == ballot
            && let Some((v, _, acks)) = a.inflight.as_mut()
            && *v == version
        {
            acks.insert(from);
            self.check_accepts(ctx);
        }
    }

    /// With a majority of acceptances the proposal is committed: push it to every broker,
    /// answer the clients waiting on it, and propose what queued up meanwhile.
    fn check_accepts(&mut self, ctx: &mut Context<'_, Self>) {
        let Some(q) = self.quorum.as_mut() else {
            return;
        };
        let majority = q.majority();
        let Role::Active(a) = &mut q.role else {
            return;
        };
        if a.inflight.as_ref().is_none_or(|i| i.2.len() < majority) {
            return;
        }
        let (version, meta, _) = a.inflight.take().expect("checked");
        a.committed = Some((version, meta.clone()));
        let ballot = a.ballot;
        let (done, waiting): (Vec<_>, Vec<_>) = a.waiting.drain(..).partition(|w| w.0 <= version);
        a.waiting = waiting;
        for (_, client) in done {
            ctx.reply(client, super::node::Reply::OffsetsCommitted);
        }
        let msg = Message::Metadata {
            ballot,
            version,
            meta: Some(meta.clone()),
        };
        for b in ctx.peers() {
            ctx.send(b, msg.clone());
        }
        let me = ctx.id();
        self.on_metadata(ctx, me, ballot, version, Some(meta));
        self.duties(ctx);
    }

    pub(super) fn on_nack(&mut self, ctx: &mut Context<'_, Self>, promised: u64) {
        let d = ctx.durable().promised;
        if let Some(q) = self.quorum.as_mut() {
            let ours = match &q.role {
                Role::Candidate { ballot, .. } => Some(*ballot),
                Role::Active(a) => Some(a.ballot),
                Role::Voter => None,
            };
            if ours.is_some_and(|b| promised > b) {
                q.role = Role::Voter;
                q.reset(ctx);
                ctx.cover("kafka.controller.deposed");
            }
        }
        if promised > d {
            ctx.durable_mut().promised = promised;
        }
    }

    /// The active controller's decisions: fencing, unfencing, ISR changes, offset commits,
    /// as one new version when anything changed (and nothing is in flight).
    fn duties(&mut self, ctx: &mut Context<'_, Self>) {
        let Some(Quorum {
            role: Role::Active(a),
            ..
        }) = self.quorum.as_mut()
        else {
            return;
        };
        let Some((version, committed)) = a.committed.as_ref() else {
            return;
        };
        if a.inflight.is_some() {
            return;
        }
        let (version, mut next) = (*version, committed.clone());
        let now = ctx.now();
        let session = ctx.config().session_timeout.0;
        let election = election(ctx);
        for b in 0..next.fenced.len() {
            let alive = now.saturating_since(a.heard[b]) <= session;
            if alive && next.fenced[b] {
                next.unfence(NodeId(b as u32), election);
                ctx.cover("kafka.broker.unfenced");
            } else if !alive && !next.fenced[b] {
                next.fence(NodeId(b as u32), election);
                ctx.cover("kafka.broker.fenced");
            }
        }
        for (leader, p, epoch, isr) in a.alters.drain(..) {
            if next.alter_isr(p as usize, leader, epoch, &isr) {
                ctx.cover("kafka.isr.changed");
            }
        }
        for Commit {
            client,
            consumer,
            offsets,
        } in a.commits.drain(..)
        {
            for (p, o) in offsets {
                next.offsets.insert((consumer, p), o);
            }
            a.waiting.push((version + 1, client));
        }
        if next != *committed {
            self.propose(ctx, version + 1, next);
        } else {
            // Offsets committed already: nothing to agree on, answer at once.
            for (_, client) in a.waiting.drain(..) {
                ctx.reply(client, super::node::Reply::OffsetsCommitted);
            }
        }
    }

    // ---- the broker side: heartbeats and metadata ----

    /// A broker's heartbeat: to the controller it knows, or to every voter when it has heard
    /// none for `session_timeout`.
    pub(super) fn heartbeat(&mut self, ctx: &mut Context<'_, Self>) {
        let version = self.version;
        let now = ctx.now();
        let silent = now.saturating_since(self.controller_heard) > ctx.config().session_timeout.0;
        if silent {
            self.controller = None;
        }
        let targets: Vec<NodeId> = match self.controller {
            Some((c, _)) => vec![c],
            None => (0..ctx.config().voters(ctx.node_count()) as u32)
                .map(NodeId)
                .collect(),
        };
        for c in targets {
            if c == ctx.id() {
                self.on_heartbeat(ctx, c, version);
            } else {
                ctx.send(c, Message::Heartbeat { version });
            }
        }
    }

    pub(super) fn on_heartbeat(&mut self, ctx: &mut Context<'_, Self>, from: NodeId, version: u64) {
        let now = ctx.now();
        let Some(Quorum {
            role: Role::Active(a),
            ..
        }) = self.quorum.as_mut()
        else {
            return;
        };
        a.heard[from.index()] = now;
        let Some((v, meta)) = a.committed.as_ref() else {
            return;
        };
        let (ballot, current) = (a.ballot, *v);
        let meta = (version < current).then(|| meta.clone());
        if from == ctx.id() {
            self.on_metadata(ctx, from, ballot, current, meta);
        } else {
            let msg = Message::Metadata {
                ballot,
                version: current,
                meta,
            };
            ctx.send(from, msg);
        }
    }

    /// The controller's word: it is alive (voters hold off elections), and perhaps newer
    /// metadata, which the replicas apply.
    pub(super) fn on_metadata(
        &mut self,
        ctx: &mut Context<'_, Self>,
        from: NodeId,
        ballot: u64,
        version: u64,
        meta: Option<Metadata>,
    ) {
        if self.controller.is_some_and(|c| c.1 > ballot) {
            return;
        }
        let now = ctx.now();
        self.controller = Some((from, ballot));
        self.controller_heard = now;
        if let Some(q) = self.quorum.as_mut()
            && ballot >= ctx.durable().promised
        {
            q.heard = now;
        }
        if let Some(meta) = meta
            && version > self.version
        {
            self.version = version;
            self.meta = Some(meta);
            for p in 0..self.replicas.len() {
                self.apply_partition(ctx, p);
            }
        }
    }

    /// A leader's ISR change request, queued for the next proposal.
    pub(super) fn on_alter_isr(
        &mut self,
        ctx: &mut Context<'_, Self>,
        from: NodeId,
        partition: u32,
        partition_epoch: u64,
        isr: Vec<NodeId>,
    ) {
        if let Some(Quorum {
            role: Role::Active(a),
            ..
        }) = self.quorum.as_mut()
        {
            a.alters.push((from, partition, partition_epoch, isr));
            self.duties(ctx);
        }
    }

    /// Sends an ISR change request to the controller (or applies it, if this is it).
    pub(super) fn send_alter_isr(
        &mut self,
        ctx: &mut Context<'_, Self>,
        partition: u32,
        partition_epoch: u64,
        isr: Vec<NodeId>,
    ) {
        match self.controller_node() {
            Some(c) if c == ctx.id() => {
                let me = ctx.id();
                self.on_alter_isr(ctx, me, partition, partition_epoch, isr)
            }
            Some(c) => ctx.send(
                c,
                Message::AlterIsr {
                    partition,
                    partition_epoch,
                    isr,
                },
            ),
            None => {}
        }
    }

    // ---- consumer offsets ----

    fn not_controller(&self, ctx: &mut Context<'_, Self>, client: ClientId) -> bool {
        if self.quorum.as_ref().is_some_and(Quorum::active) {
            return false;
        }
        let controller = self.controller_node().filter(|&c| c != ctx.id());
        ctx.reply(client, super::node::Reply::NotController { controller });
        true
    }

    pub(super) fn on_commit_offsets(
        &mut self,
        ctx: &mut Context<'_, Self>,
        client: ClientId,
        consumer: u64,
        offsets: Vec<(u32, u64)>,
    ) {
        if self.not_controller(ctx, client) {
            return;
        }
        if let Some(Quorum {
            role: Role::Active(a),
            ..
        }) = self.quorum.as_mut()
        {
            a.commits.push(Commit {
                client,
                consumer,
                offsets,
            });
        }
        self.duties(ctx);
    }

    pub(super) fn on_fetch_offsets(
        &mut self,
        ctx: &mut Context<'_, Self>,
        client: ClientId,
        consumer: u64,
    ) {
        if self.not_controller(ctx, client) {
            return;
        }
        if let Some(Quorum {
            role: Role::Active(a),
            ..
        }) = self.quorum.as_ref()
            && let Some((_, meta)) = &a.committed
        {
            let offsets = meta
                .offsets
                .range((consumer, 0)..=(consumer, u32::MAX))
                .map(|(&(_, p), &o)| (p, o))
                .collect();
            ctx.reply(client, super::node::Reply::Offsets { offsets });
        }
    }
}
