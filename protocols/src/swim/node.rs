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

use super::config::{Lifeguard, Phase, ProbeOrder, SwimBug, SwimConfig};
use super::members::{Applied, Broadcasts, Member, Permutation, State, Table, Update};
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
struct Probe {
    seq: u32,
    target: u32,
    acked: bool,
    expected_nacks: u32,
    nacks: u32,
}

/// A ping sent on someone else's behalf.
#[derive(Clone, Copy, Debug)]
struct Relay {
    seq: u32,
    requester: NodeId,
    their_seq: u32,
    answered: bool,
}

/// A suspicion this member holds, with Lifeguard's confirmations.
#[derive(Clone, Debug)]
struct Suspicion {
    incarnation: u32,
    start: Time,
    min: u64,
    max: u64,
    k: u32,
    confirmers: Vec<u32>,
    timer: TimerId,
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
    size: u32,
    order: Permutation,
    pos: u32,
    seq: u32,
    probe: Option<Probe>,
    relays: Vec<Relay>,
    suspicions: FxHashMap<u32, Suspicion>,
    /// When each member held dead was declared so (for gossip to the dead).
    dead_since: FxHashMap<u32, Time>,
    broadcasts: Broadcasts,
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

type Ctx<'a, 'b> = Context<'a, SwimNode>;

fn ns(d: Duration) -> u64 {
    sim::time::nanos(d)
}

impl SwimNode {
    fn slot(&self, pool: u8) -> Option<usize> {
        self.pools.iter().position(|p| p.pool == pool)
    }

    /// This member's view of `member` (a node) in `pool`, if it belongs to both.
    pub fn view_of(&self, pool: u8, member: u32) -> Option<Member> {
        self.slot(pool).map(|s| self.pools[s].table.get(member))
    }

    fn new(ctx: &mut Ctx<'_, '_>, restarted: bool) -> SwimNode {
        let params = ctx.config().clone();
        let me = ctx.id();
        let mut pools = Vec::new();
        for (slot, pool) in pools_of(&params.pools, me).into_iter().enumerate() {
            let def = &params.pools[pool as usize];
            let idx = def.members.index(me).expect("member of its own pool");
            let size = def.members.len();
            let key = ctx.rng().next_u64_();
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

    fn start_pool(&mut self, ctx: &mut Ctx<'_, '_>, s: usize, restarted: bool) {
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

    fn push_pull_ns(&self, params: &Params, s: usize) -> u64 {
        let p = &self.pools[s];
        let t = params.pools[p.pool as usize].timing;
        ns(t.push_pull_interval.0)
            * theory::push_pull_scale((p.size - p.table.dead_count()) as usize)
    }

    /// Live members this one knows of (itself included): memberlist's `estNumNodes`.
    fn estimate(&self, s: usize) -> usize {
        let p = &self.pools[s];
        (p.size - p.table.dead_count()) as usize
    }

    fn scaled(&self, s: usize, d: Duration) -> Duration {
        d * (self.pools[s].awareness + 1)
    }

    fn lifeguard(params: &Params) -> Lifeguard {
        params.cfg.lifeguard
    }

    fn adjust_awareness(&mut self, s: usize, params: &Params, delta: i64) {
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
    fn piggyback(&mut self, s: usize, params: &Params) -> Vec<Update> {
        let n = self.estimate(s);
        let p = &mut self.pools[s];
        let mult = params.pools[p.pool as usize].timing.retransmit_mult;
        p.broadcasts
            .take(PIGGYBACK, theory::retransmit_limit(mult, n))
    }

    fn send(&self, ctx: &mut Ctx<'_, '_>, s: usize, params: &Params, to: u32, msg: Message) {
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
    fn random_member(
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

    /// Pings member `target` with the queued updates piggybacked.
    fn ping(
        &mut self,
        ctx: &mut Ctx<'_, '_>,
        s: usize,
        params: &Params,
        target: u32,
        seq: u32,
        suspect: Option<u32>,
    ) {
        let pool = self.pools[s].pool;
        let updates = self.piggyback(s, params);
        let msg = Message::Ping {
            pool,
            seq,
            suspect,
            updates,
        };
        self.send(ctx, s, params, target, msg);
    }

    fn next_target(&mut self, ctx: &mut Ctx<'_, '_>, s: usize, params: &Params) -> Option<u32> {
        if params.cfg.probe_order == ProbeOrder::Random {
            return self.random_member(ctx, s, &[], None);
        }
        let p = &mut self.pools[s];
        for _ in 0..p.size {
            if p.pos >= p.size {
                p.pos = 0;
                p.order = Permutation::new(p.size, ctx.rng().next_u64_());
            }
            let i = p.order.at(p.pos);
            p.pos += 1;
            if i != p.me && p.table.get(i).state != State::Dead {
                return Some(i);
            }
        }
        None
    }

    fn on_probe(&mut self, ctx: &mut Ctx<'_, '_>, s: usize, params: &Params) {
        let pool = self.pools[s].pool;
        let t = params.pools[pool as usize].timing;
        let interval = self.scaled(s, t.probe_interval.0);
        if let Some(prev) = self.pools[s].probe.take() {
            // The period ended without its end timer (it was stretched): judge it now.
            self.judge(ctx, s, params, prev);
        }
        let Some(target) = self.next_target(ctx, s, params) else {
            ctx.set_timer(interval, Timer::Probe { pool });
            return;
        };
        let p = &mut self.pools[s];
        p.seq = p.seq.wrapping_add(1);
        let seq = p.seq;
        let tm = p.table.get(target);
        let suspect =
            (params.cfg.lifeguard.buddy && tm.state == State::Suspect).then_some(tm.incarnation);
        p.probe = Some(Probe {
            seq,
            target,
            acked: false,
            expected_nacks: 0,
            nacks: 0,
        });
        self.ping(ctx, s, params, target, seq, suspect);
        ctx.count("swim.probes", 1);
        ctx.set_timer(
            self.scaled(s, t.probe_timeout.0),
            Timer::ProbeTimeout { pool, seq },
        );
        ctx.set_timer(interval, Timer::ProbeEnd { pool, seq });
        ctx.set_timer(interval, Timer::Probe { pool });
    }

    fn on_probe_timeout(&mut self, ctx: &mut Ctx<'_, '_>, s: usize, params: &Params, seq: u32) {
        let Some(probe) = self.pools[s].probe else {
            return;
        };
        if probe.seq != seq || probe.acked {
            return;
        }
        let pool = self.pools[s].pool;
        let k = params.pools[pool as usize].timing.indirect_checks;
        let nack = params.cfg.lifeguard.probe;
        let mut asked: Vec<u32> = vec![probe.target];
        for _ in 0..k {
            let Some(m) = self.random_member(ctx, s, &asked, None) else {
                break;
            };
            asked.push(m);
            let updates = self.piggyback(s, params);
            self.send(
                ctx,
                s,
                params,
                m,
                Message::PingReq {
                    pool,
                    seq,
                    target: probe.target,
                    nack,
                    updates,
                },
            );
        }
        ctx.count("swim.indirect_probes", 1);
        if let Some(p) = &mut self.pools[s].probe
            && nack
        {
            p.expected_nacks = asked.len() as u32 - 1;
        }
    }

    fn on_probe_end(&mut self, ctx: &mut Ctx<'_, '_>, s: usize, params: &Params, seq: u32) {
        match self.pools[s].probe {
            Some(p) if p.seq == seq => {
                self.pools[s].probe = None;
                self.judge(ctx, s, params, p);
            }
            _ => {}
        }
    }

    /// The end of a probe: Lifeguard's health update, and a suspicion if nothing answered.
    fn judge(&mut self, ctx: &mut Ctx<'_, '_>, s: usize, params: &Params, p: Probe) {
        if p.acked {
            self.adjust_awareness(s, params, -1);
            return;
        }
        let delta = if p.expected_nacks > 0 {
            i64::from(p.expected_nacks.saturating_sub(p.nacks))
        } else {
            1
        };
        self.adjust_awareness(s, params, delta);
        ctx.count("swim.failed_probes", 1);
        let ps = &self.pools[s];
        let cur = ps.table.get(p.target);
        if cur.state == State::Dead {
            return;
        }
        let state = if params.cfg.suspicion() {
            State::Suspect
        } else {
            State::Dead
        };
        let u = Update {
            member: p.target,
            state,
            incarnation: cur.incarnation,
            from: ps.me,
        };
        self.apply(ctx, s, params, u, true);
    }

    /// Applies an update (from a message, or this member's own declaration), refuting
    /// rumors about itself.
    fn apply(&mut self, ctx: &mut Ctx<'_, '_>, s: usize, params: &Params, u: Update, own: bool) {
        let me = self.pools[s].me;
        if u.member == me {
            if u.state != State::Alive && u.incarnation >= self.pools[s].incarnation {
                self.refute(ctx, s, params, u.incarnation);
            }
            return;
        }
        if u.member >= self.pools[s].size {
            return;
        }
        let check = params.cfg.bug != Some(SwimBug::NoIncarnationCheck);
        let applied = self.pools[s].table.apply(&u, check);
        match applied {
            Applied::Stale => {
                // Lifeguard: another member's suspicion of one already suspected confirms it.
                if u.state == State::Suspect {
                    self.confirm(ctx, s, params, u);
                }
            }
            Applied::Changed { was } => {
                let pool = self.pools[s].pool;
                let member = params.pools[pool as usize].members.node(u.member);
                self.changes.push(Change {
                    pool,
                    member,
                    state: u.state,
                    incarnation: u.incarnation,
                    declared: own,
                });
                if was.state == State::Suspect
                    && let Some(sus) = self.pools[s].suspicions.remove(&u.member)
                {
                    ctx.cancel_timer(sus.timer);
                }
                if u.state == State::Dead {
                    let now = ctx.now();
                    self.pools[s].dead_since.insert(u.member, now);
                } else if was.state == State::Dead {
                    self.pools[s].dead_since.remove(&u.member);
                }
                match u.state {
                    State::Suspect => {
                        ctx.count("swim.suspicions", 1);
                        self.suspect(ctx, s, params, u);
                    }
                    State::Dead => ctx.count("swim.deaths", 1),
                    State::Alive => {}
                }
                self.pools[s].broadcasts.push(u);
            }
        }
    }

    fn refute(&mut self, ctx: &mut Ctx<'_, '_>, s: usize, params: &Params, accused: u32) {
        let p = &mut self.pools[s];
        p.incarnation = accused + 1;
        let inc = p.incarnation;
        p.table.set(
            p.me,
            Member {
                state: State::Alive,
                incarnation: inc,
            },
        );
        let me = p.me;
        p.broadcasts.push(Update {
            member: me,
            state: State::Alive,
            incarnation: inc,
            from: me,
        });
        let d = ctx.durable_mut();
        if d.incarnations.len() <= s {
            d.incarnations.resize(s + 1, 0);
        }
        d.incarnations[s] = inc;
        ctx.count("swim.refutations", 1);
        self.adjust_awareness(s, params, 1);
    }

    /// Starts the suspicion timer of a member just suspected.
    fn suspect(&mut self, ctx: &mut Ctx<'_, '_>, s: usize, params: &Params, u: Update) {
        if params.cfg.bug == Some(SwimBug::SuspicionNoTimeout) {
            return;
        }
        let n = self.estimate(s);
        let p = &self.pools[s];
        let t = params.pools[p.pool as usize].timing;
        let min = theory::suspicion_min_ns(t.suspicion_mult, n, ns(t.probe_interval.0));
        let (max, k) = if params.cfg.lifeguard.suspicion {
            (
                min * u64::from(t.suspicion_max_timeout_mult),
                theory::suspicion_confirmations(t.suspicion_mult, n),
            )
        } else {
            (min, 0)
        };
        let first = theory::suspicion_timeout_ns(min, max, 0, k);
        let pool = p.pool;
        let timer = ctx.set_timer(
            Duration::from_nanos(first),
            Timer::Suspicion {
                pool,
                member: u.member,
                incarnation: u.incarnation,
            },
        );
        let start = ctx.now();
        self.pools[s].suspicions.insert(
            u.member,
            Suspicion {
                incarnation: u.incarnation,
                start,
                min,
                max,
                k,
                confirmers: vec![u.from],
                timer,
            },
        );
    }

    /// Lifeguard's dogpile: an independent confirmation shortens the suspicion.
    fn confirm(&mut self, ctx: &mut Ctx<'_, '_>, s: usize, params: &Params, u: Update) {
        if !params.cfg.lifeguard.suspicion {
            return;
        }
        let pool = self.pools[s].pool;
        let now = ctx.now();
        let Some(sus) = self.pools[s].suspicions.get_mut(&u.member) else {
            return;
        };
        if sus.incarnation != u.incarnation
            || sus.confirmers.contains(&u.from)
            || sus.confirmers.len() as u32 > sus.k
        {
            return;
        }
        sus.confirmers.push(u.from);
        let c = sus.confirmers.len() as u32 - 1;
        let timeout = theory::suspicion_timeout_ns(sus.min, sus.max, c, sus.k);
        let due = sus.start + Duration::from_nanos(timeout);
        let after = if due > now { due - now } else { Duration::ZERO };
        ctx.cancel_timer(sus.timer);
        sus.timer = ctx.set_timer(
            after,
            Timer::Suspicion {
                pool,
                member: u.member,
                incarnation: u.incarnation,
            },
        );
        ctx.count("swim.confirmations", 1);
        // Pass the confirmation on, as memberlist re-broadcasts a new confirmer's suspicion.
        self.pools[s].broadcasts.push(u);
    }

    fn on_suspicion_timeout(
        &mut self,
        ctx: &mut Ctx<'_, '_>,
        s: usize,
        params: &Params,
        member: u32,
        incarnation: u32,
    ) {
        let p = &mut self.pools[s];
        match p.suspicions.get(&member) {
            Some(sus) if sus.incarnation == incarnation => {}
            _ => return,
        }
        p.suspicions.remove(&member);
        let me = p.me;
        let u = Update {
            member,
            state: State::Dead,
            incarnation,
            from: me,
        };
        self.apply(ctx, s, params, u, true);
    }

    fn on_gossip(&mut self, ctx: &mut Ctx<'_, '_>, s: usize, params: &Params) {
        let pool = self.pools[s].pool;
        let t = params.pools[pool as usize].timing;
        ctx.set_timer(t.gossip_interval.0, Timer::Gossip { pool });
        if self.pools[s].broadcasts.is_empty() {
            return;
        }
        let mut sent: Vec<u32> = Vec::new();
        for _ in 0..t.gossip_nodes {
            let dead_for = Some(t.gossip_to_the_dead_time.0);
            let Some(m) = self.random_member(ctx, s, &sent, dead_for) else {
                break;
            };
            sent.push(m);
            let updates = self.piggyback(s, params);
            if updates.is_empty() {
                break;
            }
            self.send(ctx, s, params, m, Message::Gossip { pool, updates });
        }
    }

    /// Serf's reconnect: with probability dead / live, a push-pull with a random member held
    /// dead; if it is up, the exchange tells each side the other holds it dead, and both
    /// refute.
    fn on_reconnect(&mut self, ctx: &mut Ctx<'_, '_>, s: usize, params: &Params) {
        let pool = self.pools[s].pool;
        if let Some(r) = params.cfg.reconnect_interval {
            ctx.set_timer(r.0, Timer::Reconnect { pool });
        }
        let dead: Vec<u32> = self.pools[s]
            .table
            .entries()
            .into_iter()
            .filter(|(_, m)| m.state == State::Dead)
            .map(|(i, _)| i)
            .collect();
        if dead.is_empty() {
            return;
        }
        let live = self.estimate(s).max(1) as f64;
        if sim::rng::unit_f64(ctx.rng()) > dead.len() as f64 / live {
            return;
        }
        let pick = dead[sim::rng::index(ctx.rng(), dead.len())];
        ctx.count("swim.reconnects", 1);
        self.push_pull(ctx, s, params, Some(pick));
    }

    fn state_entries(&self, s: usize) -> Vec<Update> {
        let p = &self.pools[s];
        p.table
            .entries()
            .into_iter()
            .map(|(i, m)| Update {
                member: i,
                state: m.state,
                incarnation: m.incarnation,
                from: p.me,
            })
            .collect()
    }

    /// Sends this member's full state to `to` (a random member when `None`).
    fn push_pull(&mut self, ctx: &mut Ctx<'_, '_>, s: usize, params: &Params, to: Option<u32>) {
        let Some(to) = to.or_else(|| self.random_member(ctx, s, &[], None)) else {
            return;
        };
        let pool = self.pools[s].pool;
        let entries = self.state_entries(s);
        self.send(
            ctx,
            s,
            params,
            to,
            Message::PushPull {
                pool,
                reply: true,
                entries,
            },
        );
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

    fn merge(&mut self, ctx: &mut Ctx<'_, '_>, s: usize, params: &Params, updates: &[Update]) {
        for u in updates {
            self.apply(ctx, s, params, *u, false);
        }
    }

    fn on_relay_nack(&mut self, ctx: &mut Ctx<'_, '_>, s: usize, params: &Params, seq: u32) {
        let pool = self.pools[s].pool;
        let p = &mut self.pools[s];
        let Some(r) = p.relays.iter_mut().find(|r| r.seq == seq && !r.answered) else {
            return;
        };
        r.answered = true;
        let (to, their) = (r.requester, r.their_seq);
        if let Some(idx) = params.pools[pool as usize].members.index(to) {
            self.send(ctx, s, params, idx, Message::Nack { pool, seq: their });
        }
    }
}

trait NextU64 {
    fn next_u64_(&mut self) -> u64;
}

impl NextU64 for sim::rng::NodeRng {
    fn next_u64_(&mut self) -> u64 {
        rand::Rng::next_u64(self)
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
