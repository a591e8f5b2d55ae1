//! Probing, one protocol period at a time: the next target (randomized round-robin or
//! random), the direct ping, the ping-req through k members after the probe timeout, the
//! relays' nacks (Lifeguard), and the judgement at the period's end: Lifeguard's health
//! score, and a suspicion (or a death, without suspicion) when nothing answered.

use super::config::ProbeOrder;
use super::members::{Permutation, State, Update};
use super::node::{Ctx, Message, Params, Probe, SwimNode, Timer};

impl SwimNode {
    /// Pings member `target` with the queued updates piggybacked.
    pub(super) fn ping(
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

    pub(super) fn next_target(
        &mut self,
        ctx: &mut Ctx<'_, '_>,
        s: usize,
        params: &Params,
    ) -> Option<u32> {
        if params.cfg.probe_order == ProbeOrder::Random {
            return self.random_member(ctx, s, &[], None);
        }
        let p = &mut self.pools[s];
        for _ in 0..p.size {
            if p.pos >= p.size {
                p.pos = 0;
                p.order = Permutation::new(p.size, rand::Rng::next_u64(ctx.rng()));
            }
            let i = p.order.at(p.pos);
            p.pos += 1;
            if i != p.me && p.table.get(i).state != State::Dead {
                return Some(i);
            }
        }
        None
    }

    pub(super) fn on_probe(&mut self, ctx: &mut Ctx<'_, '_>, s: usize, params: &Params) {
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

    pub(super) fn on_probe_timeout(
        &mut self,
        ctx: &mut Ctx<'_, '_>,
        s: usize,
        params: &Params,
        seq: u32,
    ) {
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

    pub(super) fn on_probe_end(
        &mut self,
        ctx: &mut Ctx<'_, '_>,
        s: usize,
        params: &Params,
        seq: u32,
    ) {
        match self.pools[s].probe {
            Some(p) if p.seq == seq => {
                self.pools[s].probe = None;
                self.judge(ctx, s, params, p);
            }
            _ => {}
        }
    }

    /// The end of a probe: Lifeguard's health update, and a suspicion if nothing answered.
    pub(super) fn judge(&mut self, ctx: &mut Ctx<'_, '_>, s: usize, params: &Params, p: Probe) {
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

    pub(super) fn on_relay_nack(
        &mut self,
        ctx: &mut Ctx<'_, '_>,
        s: usize,
        params: &Params,
        seq: u32,
    ) {
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
