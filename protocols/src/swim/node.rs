//! The SWIM member: probing (ping, ping-req through k members, ack, Lifeguard's nack),
//! suspicion with incarnations and refutation, piggybacked dissemination, gossip and
//! push-pull, and Lifeguard's local health, dogpile timeouts and buddy system.
//!
//! One protocol period per pool, memberlist's shape (`state.go` `probeNode`): at the start a
//! member pings its next target; if no ack comes within the probe timeout it asks k others
//! to ping the target (`PingReq`); if no ack, direct or relayed, has come by the end of the
//! period, it suspects the target (or, without suspicion, declares it dead). A suspicion
//! times out into `dead` unless the member refutes it with a higher incarnation. Every state
//! change is queued for dissemination and rides on the next messages (up to
//! [`PIGGYBACK`] updates each), each sent `retransmit_limit(n)` times.
//!
//! A member records the changes each event makes to its views in `changes`, which the
//! monitor reads after the event (cleared when the next event starts).
//!
//! This file holds the member's state, its start, the helpers every part uses, and the
//! message dispatch; `probe.rs` the protocol period, `updates.rs` the views and their
//! dissemination.

use super::config::{Lifeguard, Phase, SwimConfig};
use super::members::{Broadcasts, Member, Permutation, State, Table, Update};
use super::pools::{Pool, pools_of};
use super::theory;
use rustc_hash::FxHashMap;
use serde::Serialize;
use sim::{ClientId, Context, NodeId, Protocol, Time, TimerId};
use std::sync::Arc;
use std::time::Duration;

/// Updates piggybacked on one message at most (a 1400-byte UDP packet holds about this many
/// of memberlist's compound parts).
pub const PIGGYBACK: usize = 24;
/// Estimated bytes of a message header (type, sequence number, pool).
pub const HEADER_BYTES: u64 = 20;
/// Estimated bytes of one member update (name, address, incarnation, state).
pub const UPDATE_BYTES: u64 = 32;

/// What every member shares: the scenario's section and the pools.
#[derive(Clone, Debug)]
pub struct Params {
    pub cfg: SwimConfig,
    pub pools: Arc<Vec<Pool>>,
}

/// One message. `pool` indexes [`Params::pools`]; members are named by pool index.
#[derive(Clone, Debug, Serialize)]
pub enum Message {
    /// A probe. `suspect`: the buddy system's "you are suspected at this incarnation".
    Ping {
        pool: u8,
        seq: u32,
        suspect: Option<u32>,
        updates: Vec<Update>,
    },
    /// Ask the receiver to ping `target` and relay its ack (Lifeguard: or a nack).
    PingReq {
        pool: u8,
        seq: u32,
        target: u32,
        nack: bool,
        updates: Vec<Update>,
    },
    /// The answer to a ping (or a relayed one).
    Ack {
        pool: u8,
        seq: u32,
        updates: Vec<Update>,
    },
    /// Lifeguard: the relay heard nothing from the target in time.
    Nack { pool: u8, seq: u32 },
    /// Queued updates sent on the gossip interval.
    Gossip { pool: u8, updates: Vec<Update> },
    /// A full-state exchange: every entry that differs from `alive 0`, and the sender's own.
    PushPull {
        pool: u8,
        reply: bool,
        entries: Vec<Update>,
    },
}

/// Timers, per pool.
#[derive(Clone, Debug, Serialize)]
pub enum Timer {
    /// Start the next protocol period.
    Probe { pool: u8 },
    /// The direct ping's timeout: ask for indirect probes.
    ProbeTimeout { pool: u8, seq: u32 },
    /// The period's end: suspect the target unless an ack came.
    ProbeEnd { pool: u8, seq: u32 },
    /// A relay's deadline to nack.
    RelayNack { pool: u8, seq: u32 },
    /// A suspicion's timeout.
    Suspicion {
        pool: u8,
        member: u32,
        incarnation: u32,
    },
    /// Send queued updates to random members.
    Gossip { pool: u8 },
    /// Exchange full state with a random member.
    PushPull { pool: u8 },
    /// Serf's reconnect: exchange state with a member held dead.
    Reconnect { pool: u8 },
}

/// A change to one member's view, for the monitor.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Change {
    pub pool: u8,
    /// The member whose entry changed.
    pub member: NodeId,
    pub state: State,
    pub incarnation: u32,
    /// This member's own timer declared it (a probe that failed or a suspicion that timed
    /// out), rather than a message telling it.
    pub declared: bool,
}

/// The probe of the current period.
#[derive(Clone, Copy, Debug)]
pub(super) struct Probe {
    pub(super) seq: u32,
    pub(super) target: u32,
    pub(super) acked: bool,
    pub(super) expected_nacks: u32,
    pub(super) nacks: u32,
}

/// A ping sent on someone else's behalf.
#[derive(Clone, Copy, Debug)]
pub(super) struct Relay {
    pub(super) seq: u32,
    pub(super) requester: NodeId,
    pub(super) their_seq: u32,
    pub(super) answered: bool,
}

/// A suspicion this member holds, with Lifeguard's confirmations.
#[derive(Clone, Debug)]
pub(super) struct Suspicion {
    pub(super) incarnation: u32,
    pub(super) start: Time,
    pub(super) min: u64,
    pub(super) max: u64,
    pub(super) k: u32,
    pub(super) confirmers: Vec<u32>,
    pub(super) timer: TimerId,
}

/// A member's state in one pool.
#[derive(Clone, Debug)]
pub struct PoolState {
    pub pool: u8,
    /// This member's index in the pool.
    pub me: u32,
    pub incarnation: u32,
    /// This member's view of the pool.
    pub table: Table,
    /// Lifeguard's local health score (0 = healthy).
    pub awareness: u32,
    pub(super) size: u32,
    pub(super) order: Permutation,
    pub(super) pos: u32,
    pub(super) seq: u32,
    pub(super) probe: Option<Probe>,
    pub(super) relays: Vec<Relay>,
    pub(super) suspicions: FxHashMap<u32, Suspicion>,
    /// When each member held dead was declared so (for gossip to the dead).
    pub(super) dead_since: FxHashMap<u32, Time>,
    pub(super) broadcasts: Broadcasts,
}

/// A SWIM member: its state in each pool it belongs to.
#[derive(Clone, Debug)]
pub struct SwimNode {
    pub pools: Vec<PoolState>,
    /// The changes the latest event made to this member's views.
    pub changes: Vec<Change>,
}

/// What survives a crash: the incarnation per pool, so a restarted member rejoins above
/// every rumor of its death.
#[derive(Clone, Debug, Default)]
pub struct Durable {
    pub incarnations: Vec<u32>,
}

pub(super) type Ctx<'a, 'b> = Context<'a, SwimNode>;

pub(super) fn ns(d: Duration) -> u64 {
    sim::time::nanos(d)
}

impl SwimNode {
    pub(super) fn slot(&self, pool: u8) -> Option<usize> {
        self.pools.iter().position(|p| p.pool == pool)
    }

    /// This member's view of `member` (a node) in `pool`, if it belongs to both.
    pub fn view_of(&self, pool: u8, member: u32) -> Option<Member> {
        self.slot(pool).map(|s| self.pools[s].table.get(member))
    }

    pub(super) fn new(ctx: &mut Ctx<'_, '_>, restarted: bool) -> SwimNode {
        let params = ctx.config().clone();
        let me = ctx.id();
        let mut pools = Vec::new();
        for (slot, pool) in pools_of(&params.pools, me).into_iter().enumerate() {
            let def = &params.pools[pool as usize];
            let idx = def.members.index(me).expect("member of its own pool");
            let size = def.members.len();
            let key = rand::Rng::next_u64(ctx.rng());
            let incarnation = if restarted {
                let d = ctx.durable_mut();
                if d.incarnations.len() <= slot {
                    d.incarnations.resize(slot + 1, 0);
                }
                d.incarnations[slot] += 1;
                d.incarnations[slot]
            } else {
                ctx.durable().incarnations.get(slot).copied().unwrap_or(0)
            };
            let mut table = Table::default();
            table.set(
                idx,
                Member {
                    state: State::Alive,
                    incarnation,
                },
            );
            pools.push(PoolState {
                pool,
                me: idx,
                incarnation,
                table,
                awareness: 0,
                size,
                order: Permutation::new(size, key),
                pos: 0,
                seq: 0,
                probe: None,
                relays: Vec::new(),
                suspicions: FxHashMap::default(),
                dead_since: FxHashMap::default(),
                broadcasts: Broadcasts::default(),
            });
        }
        let mut node = SwimNode {
            pools,
            changes: Vec::new(),
        };
        for s in 0..node.pools.len() {
            node.start_pool(ctx, s, restarted);
        }
        node
    }

    pub(super) fn start_pool(&mut self, ctx: &mut Ctx<'_, '_>, s: usize, restarted: bool) {
        let params = ctx.config().clone();
        let pool = self.pools[s].pool;
        let t = params.pools[pool as usize].timing;
        let interval = ns(t.probe_interval.0);
        let first = match params.cfg.phase {
            Phase::Staggered => sim::rng::uniform_u64(ctx.rng(), 0, interval - 1),
            Phase::Aligned => interval - ctx.now().0 % interval,
        };
        ctx.set_timer(Duration::from_nanos(first), Timer::Probe { pool });
        if !t.gossip_interval.0.is_zero() {
            let g = ns(t.gossip_interval.0);
            let first = sim::rng::uniform_u64(ctx.rng(), 0, g - 1);
            ctx.set_timer(Duration::from_nanos(first), Timer::Gossip { pool });
        }
        if !t.push_pull_interval.0.is_zero() {
            let pp = self.push_pull_ns(&params, s);
            let first = sim::rng::uniform_u64(ctx.rng(), 0, pp - 1);
            ctx.set_timer(Duration::from_nanos(first), Timer::PushPull { pool });
        }
        if let Some(r) = params.cfg.reconnect_interval {
            let r = ns(r.0);
            let first = sim::rng::uniform_u64(ctx.rng(), 0, r - 1);
            ctx.set_timer(Duration::from_nanos(first), Timer::Reconnect { pool });
        }
        if restarted {
            // Rejoin: announce the new incarnation and fetch the pool's state at once.
            let p = &mut self.pools[s];
            let alive = Update {
                member: p.me,
                state: State::Alive,
                incarnation: p.incarnation,
                from: p.me,
            };
            p.broadcasts.push(alive);
            self.push_pull(ctx, s, &params, None);
        }
    }

    pub(super) fn push_pull_ns(&self, params: &Params, s: usize) -> u64 {
        let p = &self.pools[s];
        let t = params.pools[p.pool as usize].timing;
        ns(t.push_pull_interval.0)
            * theory::push_pull_scale((p.size - p.table.dead_count()) as usize)
    }

    /// Live members this one knows of (itself included): memberlist's `estNumNodes`.
    pub(super) fn estimate(&self, s: usize) -> usize {
        let p = &self.pools[s];
        (p.size - p.table.dead_count()) as usize
    }

    pub(super) fn scaled(&self, s: usize, d: Duration) -> Duration {
        d * (self.pools[s].awareness + 1)
    }

    pub(super) fn lifeguard(params: &Params) -> Lifeguard {
        params.cfg.lifeguard
    }

    pub(super) fn adjust_awareness(&mut self, s: usize, params: &Params, delta: i64) {
        if !Self::lifeguard(params).probe {
            return;
        }
        let p = &mut self.pools[s];
        let max = params.pools[p.pool as usize]
            .timing
            .awareness_max_multiplier;
        let v = (i64::from(p.awareness) + delta).clamp(0, i64::from(max) - 1);
        p.awareness = v as u32;
    }

    /// Updates for one outgoing message.
    pub(super) fn piggyback(&mut self, s: usize, params: &Params) -> Vec<Update> {
        let n = self.estimate(s);
        let p = &mut self.pools[s];
        let mult = params.pools[p.pool as usize].timing.retransmit_mult;
        p.broadcasts
            .take(PIGGYBACK, theory::retransmit_limit(mult, n))
    }

    pub(super) fn send(
        &self,
        ctx: &mut Ctx<'_, '_>,
        s: usize,
        params: &Params,
        to: u32,
        msg: Message,
    ) {
        let updates = match &msg {
            Message::Ping { updates, .. }
            | Message::PingReq { updates, .. }
            | Message::Ack { updates, .. }
            | Message::Gossip { updates, .. } => updates.len() as u64,
            Message::PushPull { .. } => u64::from(self.pools[s].size),
            Message::Nack { .. } => 0,
        };
        ctx.count("swim.messages", 1);
        ctx.count("swim.bytes", HEADER_BYTES + updates * UPDATE_BYTES);
        let node = params.pools[self.pools[s].pool as usize].members.node(to);
        ctx.send(node, msg);
    }

    /// A random member other than this one and those in `not`, not held dead (or, with
    /// `dead_for`, held dead for less than that).
    pub(super) fn random_member(
        &self,
        ctx: &mut Ctx<'_, '_>,
        s: usize,
        not: &[u32],
        dead_for: Option<Duration>,
    ) -> Option<u32> {
        let p = &self.pools[s];
        if p.size <= 1 + not.len() as u32 {
            return None;
        }
        let now = ctx.now();
        let ok = |i: u32| match p.table.get(i).state {
            State::Dead => dead_for.is_some_and(|d| {
                p.dead_since
                    .get(&i)
                    .is_some_and(|&t| now.saturating_since(t) < d)
            }),
            _ => true,
        };
        // Rejection sampling: dead members are few in any run that works.
        for _ in 0..64 {
            let i = sim::rng::index(ctx.rng(), p.size as usize) as u32;
            if i != p.me && !not.contains(&i) && ok(i) {
                return Some(i);
            }
        }
        None
    }

    fn on_message(&mut self, ctx: &mut Ctx<'_, '_>, params: &Params, from: NodeId, msg: Message) {
        let pool = match &msg {
            Message::Ping { pool, .. }
            | Message::PingReq { pool, .. }
            | Message::Ack { pool, .. }
            | Message::Nack { pool, .. }
            | Message::Gossip { pool, .. }
            | Message::PushPull { pool, .. } => *pool,
        };
        let Some(s) = self.slot(pool) else {
            return;
        };
        let Some(sender) = params.pools[pool as usize].members.index(from) else {
            return;
        };
        match msg {
            Message::Ping {
                seq,
                suspect,
                updates,
                ..
            } => {
                self.merge(ctx, s, params, &updates);
                if let Some(inc) = suspect
                    && inc >= self.pools[s].incarnation
                {
                    ctx.count("swim.buddy_refutations", 1);
                    self.refute(ctx, s, params, inc);
                }
                let updates = self.piggyback(s, params);
                self.send(ctx, s, params, sender, Message::Ack { pool, seq, updates });
            }
            Message::PingReq {
                seq,
                target,
                nack,
                updates,
                ..
            } => {
                self.merge(ctx, s, params, &updates);
                if target >= self.pools[s].size {
                    return;
                }
                let p = &mut self.pools[s];
                p.seq = p.seq.wrapping_add(1);
                let mine = p.seq;
                p.relays.retain(|r| !r.answered);
                if p.relays.len() > 64 {
                    p.relays.remove(0);
                }
                p.relays.push(Relay {
                    seq: mine,
                    requester: from,
                    their_seq: seq,
                    answered: false,
                });
                self.ping(ctx, s, params, target, mine, None);
                if nack {
                    let t = params.pools[pool as usize].timing;
                    ctx.set_timer(
                        t.probe_timeout.0 * 4 / 5,
                        Timer::RelayNack { pool, seq: mine },
                    );
                }
            }
            Message::Ack { seq, updates, .. } => {
                self.merge(ctx, s, params, &updates);
                let p = &mut self.pools[s];
                if let Some(probe) = &mut p.probe
                    && probe.seq == seq
                {
                    probe.acked = true;
                }
                if let Some(r) = p.relays.iter_mut().find(|r| r.seq == seq && !r.answered) {
                    r.answered = true;
                    let (to, their) = (r.requester, r.their_seq);
                    let idx = params.pools[pool as usize].members.index(to);
                    if let Some(idx) = idx {
                        let updates = self.piggyback(s, params);
                        self.send(
                            ctx,
                            s,
                            params,
                            idx,
                            Message::Ack {
                                pool,
                                seq: their,
                                updates,
                            },
                        );
                    }
                }
            }
            Message::Nack { seq, .. } => {
                if let Some(probe) = &mut self.pools[s].probe
                    && probe.seq == seq
                {
                    probe.nacks += 1;
                }
            }
            Message::Gossip { updates, .. } => self.merge(ctx, s, params, &updates),
            Message::PushPull { reply, entries, .. } => {
                // The message stands for the sender's whole table: a member it leaves out is
                // `alive 0` there. Merging that is a no-op under the precedence rules, but
                // not under NoIncarnationCheck, so apply it like any other entry.
                let listed: Vec<u32> = entries.iter().map(|u| u.member).collect();
                let me = self.pools[s].me;
                let implicit: Vec<Update> = self.pools[s]
                    .table
                    .entries()
                    .into_iter()
                    .filter(|&(i, m)| {
                        i != me && m.state != State::Alive && listed.binary_search(&i).is_err()
                    })
                    .map(|(i, _)| Update {
                        member: i,
                        state: State::Alive,
                        incarnation: 0,
                        from: sender,
                    })
                    .collect();
                for u in implicit {
                    self.apply(ctx, s, params, u, false);
                }
                // memberlist's mergeState: a remote `dead` becomes a suspicion here.
                for mut u in entries {
                    if u.state == State::Dead {
                        u.state = State::Suspect;
                    }
                    u.from = sender;
                    self.apply(ctx, s, params, u, false);
                }
                // The answer carries the state after the merge: a refutation this exchange
                // prompted reaches the initiator even if it holds this member dead.
                if reply {
                    let mine = self.state_entries(s);
                    self.send(
                        ctx,
                        s,
                        params,
                        sender,
                        Message::PushPull {
                            pool,
                            reply: false,
                            entries: mine,
                        },
                    );
                }
            }
        }
    }

    pub(super) fn merge(
        &mut self,
        ctx: &mut Ctx<'_, '_>,
        s: usize,
        params: &Params,
        updates: &[Update],
    ) {
        for u in updates {
            self.apply(ctx, s, params, *u, false);
        }
    }
}

impl Protocol for SwimNode {
    type Config = Params;
    type Message = Message;
    type Timer = Timer;
    type Request = ();
    type Reply = ();
    type Durable = Durable;

    fn start(ctx: &mut Context<'_, Self>) -> Self {
        SwimNode::new(ctx, false)
    }

    fn recover(ctx: &mut Context<'_, Self>) -> Self {
        SwimNode::new(ctx, true)
    }

    fn on_message(&mut self, ctx: &mut Context<'_, Self>, from: NodeId, msg: Message) {
        self.changes.clear();
        let params = ctx.config().clone();
        SwimNode::on_message(self, ctx, &params, from, msg);
    }

    fn on_timer(&mut self, ctx: &mut Context<'_, Self>, timer: Timer) {
        self.changes.clear();
        let params = ctx.config().clone();
        let pool = match timer {
            Timer::Probe { pool }
            | Timer::ProbeTimeout { pool, .. }
            | Timer::ProbeEnd { pool, .. }
            | Timer::RelayNack { pool, .. }
            | Timer::Suspicion { pool, .. }
            | Timer::Gossip { pool }
            | Timer::PushPull { pool }
            | Timer::Reconnect { pool } => pool,
        };
        let Some(s) = self.slot(pool) else {
            return;
        };
        match timer {
            Timer::Probe { .. } => self.on_probe(ctx, s, &params),
            Timer::ProbeTimeout { seq, .. } => self.on_probe_timeout(ctx, s, &params, seq),
            Timer::ProbeEnd { seq, .. } => self.on_probe_end(ctx, s, &params, seq),
            Timer::RelayNack { seq, .. } => self.on_relay_nack(ctx, s, &params, seq),
            Timer::Suspicion {
                member,
                incarnation,
                ..
            } => self.on_suspicion_timeout(ctx, s, &params, member, incarnation),
            Timer::Gossip { .. } => self.on_gossip(ctx, s, &params),
            Timer::Reconnect { .. } => self.on_reconnect(ctx, s, &params),
            Timer::PushPull { .. } => {
                let pp = self.push_pull_ns(&params, s);
                ctx.set_timer(Duration::from_nanos(pp), Timer::PushPull { pool });
                self.push_pull(ctx, s, &params, None);
            }
        }
    }

    fn on_client_request(&mut self, _ctx: &mut Context<'_, Self>, _client: ClientId, _req: ()) {}

    fn annotate(&self, _durable: &Durable, out: &mut sim::Annotations) {
        if let Some(p) = self.pools.first() {
            out.set("incarnation", u64::from(p.incarnation));
            out.set("awareness", u64::from(p.awareness));
            out.set("dead_known", u64::from(p.table.dead_count()));
        }
    }
}
