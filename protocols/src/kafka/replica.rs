//! A partition replica on one broker: the leader's side (serving fetches, tracking each
//! follower's log end, the high watermark, ISR shrink and expand by replica lag time) and the
//! follower's side (truncation on a new leader epoch, fetching, the follower's high
//! watermark). Produce requests and consumer polls are in `produce.rs`.
//!
//! Truncation, the heart of KIP-101: when a follower starts following a new leader epoch
//! (metadata from the controller, or its first metadata after a restart: KAFKA-7164), it
//! asks the leader where its own latest epoch ends (OffsetsForLeaderEpoch) and truncates
//! there; if the leader does not know that epoch it answers its largest earlier one and the
//! follower truncates to where that epoch ends in both logs and asks again (KIP-279). With
//! `leader_epochs: false` the follower truncates to its own high watermark instead, the
//! pre-KIP-101 rule whose data loss and divergence the library scenarios show.

use super::node::{Broker, Message, Record, Timer};
use serde::Serialize;
use sim::{Context, NodeId, Time};
use std::collections::BTreeMap;

/// The leader's record of one follower.
#[derive(Clone, Copy, Debug, Default)]
pub struct Follower {
    /// The follower's log end, from its last fetch offset.
    pub leo: u64,
    /// The leader's log end at that fetch.
    leo_at_fetch: u64,
    /// When it last fetched.
    fetched: Time,
    /// When it was last caught up: Kafka's lastCaughtUpTimeMs.
    pub caught_up: Time,
}

/// What a follower is doing.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Following {
    /// Not following (leading, offline, or no metadata yet).
    #[default]
    Idle,
    /// Waiting for the leader's OffsetsForLeaderEpoch answer about `epoch`.
    Truncating { epoch: u64 },
    /// Fetching.
    Fetching,
}

/// One partition on one broker.
#[derive(Clone, Debug, Default)]
pub struct Replica {
    /// The leader per the metadata this broker applied.
    pub leader: Option<NodeId>,
    /// The leader epoch of that metadata (0: none applied yet).
    pub leader_epoch: u64,
    /// The partition epoch of that metadata.
    pub partition_epoch: u64,
    /// The ISR of that metadata.
    pub isr: Vec<NodeId>,
    /// The replicas.
    pub replicas: Vec<NodeId>,
    /// Leader: every member of the ISRs it asked the controller for since the ISR last
    /// changed. The high watermark counts them at once (KIP-497's maximal ISR): the controller
    /// may commit any of those requests any moment, and a committed record must be on every
    /// member of the ISR in force.
    pub requested_isr: Vec<NodeId>,
    /// Whether this broker leads the partition.
    leading: bool,
    /// Leader: each follower's progress.
    pub followers: BTreeMap<NodeId, Follower>,
    /// Leader: acks=all produce requests waiting for the high watermark.
    pub(super) waiting: Vec<super::produce::Waiting>,
    /// Leader: each idempotent producer's last sequence number and its offset.
    pub(super) producers: BTreeMap<u64, (u64, u64)>,
    /// Follower: what it is doing.
    pub following: Following,
    /// Follower: drops stale fetch timers.
    generation: u64,
}

/// A leader's answer to a follower's fetch: records from `offset` and its high watermark.
#[derive(Clone, Debug, Serialize)]
pub struct FetchReply {
    pub partition: u32,
    pub leader_epoch: u64,
    pub offset: u64,
    pub records: Vec<Record>,
    pub hw: u64,
    /// Set when the fetch offset was past the leader's log end: the follower truncates to it.
    pub leo: Option<u64>,
    /// Set when the leader does not lead this leader epoch.
    pub fenced: bool,
}

/// Truncates partition `p`'s log to `offset`, counting the records dropped.
fn truncate(ctx: &mut Context<'_, Broker>, p: usize, offset: u64) {
    let dropped = ctx.durable().logs[p].leo().saturating_sub(offset);
    ctx.durable_mut().logs[p].truncate(offset);
    ctx.count("kafka.truncated_records", dropped);
}

impl Replica {
    /// Whether this broker leads the partition.
    pub fn leads(&self) -> bool {
        self.leading
    }
}

impl Broker {
    pub(super) fn rep(&mut self, p: usize) -> &mut Replica {
        self.replicas[p]
            .as_mut()
            .expect("a replica of this partition")
    }

    /// Applies partition `p` of newly applied metadata: a new leader epoch makes this broker
    /// the leader or a follower (truncating first); a new ISR may move the high watermark.
    pub(super) fn apply_partition(&mut self, ctx: &mut Context<'_, Self>, p: usize) {
        let Some(meta) = self.meta.as_ref().map(|m| m.partitions[p].clone()) else {
            return;
        };
        if self.replicas[p].is_none() {
            return;
        }
        let me = ctx.id();
        let r = self.rep(p);
        let new_epoch = meta.leader_epoch != r.leader_epoch;
        if meta.partition_epoch != r.partition_epoch {
            r.requested_isr.clear();
        }
        r.leader = meta.leader;
        r.isr = meta.isr.clone();
        r.partition_epoch = meta.partition_epoch;
        r.replicas = meta.replicas.clone();
        if !new_epoch {
            if r.leading {
                self.advance_hw(ctx, p);
            }
            return;
        }
        r.leader_epoch = meta.leader_epoch;
        if r.leading {
            self.lose_leadership(ctx, p);
        }
        match meta.leader {
            Some(l) if l == me => self.become_leader(ctx, p),
            Some(l) => self.become_follower(ctx, p, l),
            None => self.rep(p).following = Following::Idle,
        }
    }

    fn become_leader(&mut self, ctx: &mut Context<'_, Self>, p: usize) {
        let now = ctx.now();
        let me = ctx.id();
        let epoch = self.rep(p).leader_epoch;
        let log = &mut ctx.durable_mut().logs[p];
        if log.last_epoch() < epoch {
            let leo = log.leo();
            log.epochs.push((epoch, leo));
        }
        let mut producers = BTreeMap::new();
        for (offset, rec) in ctx.durable().logs[p].records.iter().enumerate() {
            if rec.producer != 0 {
                producers.insert(rec.producer, (rec.seq, offset as u64));
            }
        }
        let r = self.rep(p);
        r.leading = true;
        r.following = Following::Idle;
        r.producers = producers;
        r.followers = r
            .replicas
            .iter()
            .filter(|&&f| f != me)
            .map(|&f| {
                let fresh = Follower {
                    caught_up: now,
                    fetched: now,
                    ..Follower::default()
                };
                (f, fresh)
            })
            .collect();
        ctx.cover("kafka.leader.elected");
        self.advance_hw(ctx, p);
    }

    fn lose_leadership(&mut self, ctx: &mut Context<'_, Self>, p: usize) {
        let r = self.rep(p);
        r.leading = false;
        r.followers.clear();
        r.requested_isr.clear();
        let waiting = std::mem::take(&mut r.waiting);
        for w in waiting {
            w.fail(
                ctx,
                p as u32,
                super::node::ProduceError::LeadershipLost,
                None,
            );
        }
        ctx.cover("kafka.leader.deposed");
    }

    fn become_follower(&mut self, ctx: &mut Context<'_, Self>, p: usize, leader: NodeId) {
        if ctx.config().leader_epochs {
            let epoch = ctx.durable().logs[p].last_epoch();
            self.rep(p).following = Following::Truncating { epoch };
            self.send_query(ctx, p, leader, epoch);
        } else {
            // Pre-KIP-101: everything above the local high watermark goes.
            let log = &ctx.durable().logs[p];
            if log.leo() > log.hw {
                let hw = log.hw;
                truncate(ctx, p, hw);
                ctx.cover("kafka.truncate.to_hw");
            }
            self.rep(p).following = Following::Fetching;
            self.send_fetch(ctx, p);
        }
    }

    fn send_query(&mut self, ctx: &mut Context<'_, Self>, p: usize, leader: NodeId, epoch: u64) {
        let leader_epoch = self.rep(p).leader_epoch;
        ctx.send(
            leader,
            Message::EpochQuery {
                partition: p as u32,
                leader_epoch,
                epoch,
            },
        );
        self.retry_later(ctx, p, ctx.config().fetch_timeout.0);
    }

    /// A follower's fetch from its log end, with a timer to retry if no answer comes.
    fn send_fetch(&mut self, ctx: &mut Context<'_, Self>, p: usize) {
        let r = self.rep(p);
        let (Some(leader), Following::Fetching) = (r.leader, r.following) else {
            return;
        };
        let leader_epoch = r.leader_epoch;
        let offset = ctx.durable().logs[p].leo();
        ctx.send(
            leader,
            Message::Fetch {
                partition: p as u32,
                leader_epoch,
                offset,
            },
        );
        self.retry_later(ctx, p, ctx.config().fetch_timeout.0);
    }

    fn retry_later(&mut self, ctx: &mut Context<'_, Self>, p: usize, after: std::time::Duration) {
        let r = self.rep(p);
        r.generation += 1;
        let generation = r.generation;
        ctx.set_timer(
            after,
            Timer::Fetch {
                partition: p as u32,
                generation,
            },
        );
    }

    /// A follower's fetch timer: fetch again, or ask again where the epoch ends.
    pub(super) fn fetch_due(
        &mut self,
        ctx: &mut Context<'_, Self>,
        partition: u32,
        generation: u64,
    ) {
        let p = partition as usize;
        let Some(r) = self.replica(p) else {
            return;
        };
        if r.generation != generation {
            return;
        }
        match (r.following, r.leader) {
            (Following::Truncating { epoch }, Some(l)) => self.send_query(ctx, p, l, epoch),
            (Following::Fetching, _) => self.send_fetch(ctx, p),
            _ => {}
        }
    }

    /// The leader serves a follower's fetch: it learns the follower's log end, updates when
    /// it was last caught up, may take it back into the ISR, and moves the high watermark.
    pub(super) fn on_fetch(
        &mut self,
        ctx: &mut Context<'_, Self>,
        from: NodeId,
        partition: u32,
        leader_epoch: u64,
        offset: u64,
    ) {
        let p = partition as usize;
        let now = ctx.now();
        let leo = ctx.durable().logs.get(p).map_or(0, |l| l.leo());
        let serving = self.serves(p, leader_epoch);
        let mut reply = FetchReply {
            partition,
            leader_epoch,
            offset,
            records: Vec::new(),
            hw: 0,
            leo: None,
            fenced: !serving,
        };
        if serving && offset > leo {
            // The follower's log is longer than ours: it must truncate to our end.
            reply.leo = Some(leo);
        } else if serving {
            let r = self.rep(p);
            if let Some(f) = r.followers.get_mut(&from) {
                if offset >= leo {
                    f.caught_up = now;
                } else if offset >= f.leo_at_fetch {
                    f.caught_up = f.caught_up.max(f.fetched);
                }
                f.leo = offset;
                f.leo_at_fetch = leo;
                f.fetched = now;
            }
            self.advance_hw(ctx, p);
            self.maybe_expand(ctx, p, from);
            let log = &ctx.durable().logs[p];
            let end = leo.min(offset + ctx.config().max_batch as u64);
            reply.records = log.records[offset as usize..end as usize].to_vec();
            reply.hw = log.hw;
        }
        ctx.send(from, Message::FetchReply(reply));
    }

    /// Whether this broker leads partition `p` in `leader_epoch`.
    fn serves(&self, p: usize, leader_epoch: u64) -> bool {
        self.replica(p)
            .is_some_and(|r| r.leading && r.leader_epoch == leader_epoch)
    }

    /// The follower takes what the leader sent: appends it, raises its high watermark to
    /// the leader's (never past its own log end), and fetches again at once if there was
    /// data, else after `fetch_interval`.
    pub(super) fn on_fetch_reply(
        &mut self,
        ctx: &mut Context<'_, Self>,
        from: NodeId,
        reply: FetchReply,
    ) {
        let p = reply.partition as usize;
        let Some(r) = self.replica(p) else {
            return;
        };
        if r.following != Following::Fetching
            || r.leader != Some(from)
            || r.leader_epoch != reply.leader_epoch
        {
            return;
        }
        let interval = ctx.config().fetch_interval.0;
        if reply.fenced {
            self.retry_later(ctx, p, interval);
            return;
        }
        if let Some(leo) = reply.leo {
            truncate(ctx, p, leo);
            ctx.cover("kafka.truncate.out_of_range");
            self.send_fetch(ctx, p);
            return;
        }
        let log = &ctx.durable().logs[p];
        if reply.offset != log.leo() {
            return;
        }
        let got = !reply.records.is_empty();
        let hw = reply.hw.min(log.leo() + reply.records.len() as u64);
        if got || hw > log.hw {
            let log = &mut ctx.durable_mut().logs[p];
            for rec in reply.records {
                log.append(rec);
            }
            log.hw = log.hw.max(hw);
        }
        if got {
            self.send_fetch(ctx, p);
        } else {
            self.retry_later(ctx, p, interval);
        }
    }

    /// OffsetsForLeaderEpoch, at the leader.
    pub(super) fn on_epoch_query(
        &mut self,
        ctx: &mut Context<'_, Self>,
        from: NodeId,
        partition: u32,
        leader_epoch: u64,
        epoch: u64,
    ) {
        let p = partition as usize;
        if !self.serves(p, leader_epoch) {
            return;
        }
        let (epoch, end_offset) = ctx.durable().logs[p].end_of_epoch(epoch);
        ctx.send(
            from,
            Message::EpochAnswer {
                partition,
                leader_epoch,
                epoch,
                end_offset,
            },
        );
    }

    /// The follower truncates to where its latest epoch ends in the leader's log; when the
    /// leader knew only an earlier epoch, to where that one ends in both logs, and asks again.
    pub(super) fn on_epoch_answer(
        &mut self,
        ctx: &mut Context<'_, Self>,
        partition: u32,
        leader_epoch: u64,
        epoch: u64,
        end_offset: u64,
    ) {
        let p = partition as usize;
        let Some(r) = self.replica(p) else {
            return;
        };
        let Following::Truncating { epoch: asked } = r.following else {
            return;
        };
        if r.leader_epoch != leader_epoch {
            return;
        }
        let leader = r.leader.expect("following a leader");
        let log = &ctx.durable().logs[p];
        let mut to = end_offset.min(log.leo());
        if epoch != asked {
            to = to.min(log.end_of_epoch(epoch).1);
        }
        if to < log.leo() {
            truncate(ctx, p, to);
            ctx.cover("kafka.truncate.epoch");
        }
        if epoch != asked {
            let epoch = ctx.durable().logs[p].last_epoch();
            if epoch != asked {
                self.rep(p).following = Following::Truncating { epoch };
                self.send_query(ctx, p, leader, epoch);
                return;
            }
        }
        self.rep(p).following = Following::Fetching;
        self.send_fetch(ctx, p);
    }

    /// The leader's high watermark: the smallest log end over the ISR. It only rises; when
    /// it does, waiting acks=all produce requests below it complete.
    pub(super) fn advance_hw(&mut self, ctx: &mut Context<'_, Self>, p: usize) {
        let me = ctx.id();
        let leo = ctx.durable().logs[p].leo();
        let r = self.rep(p);
        if !r.leading {
            return;
        }
        let hw = r
            .isr
            .iter()
            .chain(&r.requested_isr)
            .filter(|&&f| f != me)
            .map(|f| r.followers.get(f).map_or(0, |f| f.leo))
            .fold(leo, u64::min);
        if hw > ctx.durable().logs[p].hw {
            ctx.durable_mut().logs[p].hw = hw;
            self.complete_waiting(ctx, p);
        }
    }

    /// The ISR a leader wants: itself, the members not lagging longer than
    /// `replica_lag_time`, and the followers that caught up to the high watermark within
    /// this leader epoch.
    fn wanted_isr(&self, ctx: &Context<'_, Self>, p: usize) -> Vec<NodeId> {
        let r = self.replica(p).expect("a replica");
        let now = ctx.now();
        let lag = ctx.config().replica_lag_time.0;
        let log = &ctx.durable().logs[p];
        let epoch_start = log
            .epochs
            .iter()
            .find(|e| e.0 == r.leader_epoch)
            .map_or(0, |e| e.1);
        r.replicas
            .iter()
            .copied()
            .filter(|&f| {
                let Some(s) = r.followers.get(&f) else {
                    return f == ctx.id();
                };
                let fresh = now.saturating_since(s.caught_up) <= lag;
                let caught = r.isr.contains(&f) || (s.leo >= log.hw && s.leo >= epoch_start);
                fresh && caught
            })
            .collect()
    }

    fn maybe_expand(&mut self, ctx: &mut Context<'_, Self>, p: usize, follower: NodeId) {
        let r = self.replica(p).expect("a replica");
        if r.isr.contains(&follower) {
            return;
        }
        let wanted = self.wanted_isr(ctx, p);
        if wanted.contains(&follower) {
            let epoch = r.partition_epoch;
            ctx.cover("kafka.isr.expand_requested");
            self.request_isr(ctx, p, epoch, wanted);
        }
    }

    /// Every tick, each partition this broker leads: ask the controller for the ISR it
    /// wants, while that differs from the one in force (requests carry the partition epoch,
    /// so a repeat is harmless).
    pub(super) fn isr_tick(&mut self, ctx: &mut Context<'_, Self>) {
        for p in 0..self.replicas.len() {
            let Some(r) = self.replica(p).filter(|r| r.leading) else {
                continue;
            };
            let (isr, epoch) = (r.isr.clone(), r.partition_epoch);
            let wanted = self.wanted_isr(ctx, p);
            if wanted != isr {
                if wanted.len() < isr.len() {
                    ctx.cover("kafka.isr.shrink_requested");
                }
                self.request_isr(ctx, p, epoch, wanted);
            }
        }
    }

    fn request_isr(&mut self, ctx: &mut Context<'_, Self>, p: usize, epoch: u64, isr: Vec<NodeId>) {
        // Every member asked for since the last ISR change counts until the controller
        // answers: any one of those requests may be the one it commits.
        let r = self.rep(p);
        for &m in &isr {
            if !r.requested_isr.contains(&m) {
                r.requested_isr.push(m);
            }
        }
        self.send_alter_isr(ctx, p as u32, epoch, isr);
    }
}
