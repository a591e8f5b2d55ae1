//! What a member believes and tells: SWIM's precedence rules applied to updates,
//! refutation, suspicion timers with Lifeguard's confirmations, and dissemination beyond
//! piggybacking: the gossip interval, push-pull and Serf's reconnect.

use super::config::SwimBug;
use super::members::{Applied, Member, State, Update};
use super::node::{Change, Ctx, Message, Params, Suspicion, SwimNode, Timer, ns};
use super::theory;
use std::time::Duration;

impl SwimNode {
    /// Applies an update (from a message, or this member's own declaration), refuting
    /// rumors about itself.
    pub(super) fn apply(
        &mut self,
        ctx: &mut Ctx<'_, '_>,
        s: usize,
        params: &Params,
        u: Update,
        own: bool,
    ) {
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

    pub(super) fn refute(
        &mut self,
        ctx: &mut Ctx<'_, '_>,
        s: usize,
        params: &Params,
        accused: u32,
    ) {
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
    pub(super) fn suspect(&mut self, ctx: &mut Ctx<'_, '_>, s: usize, params: &Params, u: Update) {
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
    pub(super) fn confirm(&mut self, ctx: &mut Ctx<'_, '_>, s: usize, params: &Params, u: Update) {
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

    pub(super) fn on_suspicion_timeout(
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

    pub(super) fn on_gossip(&mut self, ctx: &mut Ctx<'_, '_>, s: usize, params: &Params) {
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
    pub(super) fn on_reconnect(&mut self, ctx: &mut Ctx<'_, '_>, s: usize, params: &Params) {
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

    pub(super) fn state_entries(&self, s: usize) -> Vec<Update> {
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
    pub(super) fn push_pull(
        &mut self,
        ctx: &mut Ctx<'_, '_>,
        s: usize,
        params: &Params,
        to: Option<u32>,
    ) {
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
}
