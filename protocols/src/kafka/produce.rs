//! The client side of a partition leader: produce requests (acks 0/1/all,
//! `min.insync.replicas`, the idempotent producer's sequence numbers) and consumer polls,
//! which read only below the high watermark.

use super::node::{Acks, Broker, ProduceError, Record, Reply};
use sim::{ClientId, Context, NodeId};

/// A produce request as the leader handles it.
#[derive(Clone, Copy, Debug)]
pub struct Produce {
    pub client: ClientId,
    pub partition: u32,
    /// The idempotent producer's id, or 0.
    pub producer: u64,
    pub seq: u64,
    pub value: u64,
    pub acks: Acks,
}

/// A consumer's poll as the leader handles it.
#[derive(Clone, Copy, Debug)]
pub struct Poll {
    pub client: ClientId,
    pub partition: u32,
    pub offset: u64,
    pub max: u32,
    /// The newest leader epoch the consumer has seen.
    pub leader_epoch: u64,
}

/// An acks=all request waiting for the high watermark to pass its offset.
#[derive(Clone, Copy, Debug)]
pub struct Waiting {
    client: ClientId,
    value: u64,
    offset: u64,
}

impl Waiting {
    /// Answers the client with an error.
    pub(super) fn fail(
        self,
        ctx: &mut Context<'_, Broker>,
        partition: u32,
        error: ProduceError,
        leader: Option<NodeId>,
    ) {
        let reply = Reply::ProduceFailed {
            partition,
            value: self.value,
            error,
            leader,
        };
        ctx.reply(self.client, reply);
    }
}

impl Broker {
    /// The leader of `p` as far as this broker knows.
    fn leader_hint(&self, p: usize) -> Option<NodeId> {
        self.meta
            .as_ref()
            .and_then(|m| m.partitions.get(p))
            .and_then(|m| m.leader)
    }

    pub(super) fn on_produce(&mut self, ctx: &mut Context<'_, Self>, req: Produce) {
        let p = req.partition as usize;
        let hint = self.leader_hint(p);
        let fail = |ctx: &mut Context<'_, Self>, error| {
            let w = Waiting {
                client: req.client,
                value: req.value,
                offset: 0,
            };
            w.fail(ctx, req.partition, error, hint);
        };
        let Some(r) = self.replica(p).filter(|r| r.leads()) else {
            return fail(ctx, ProduceError::NotLeader);
        };
        let min_isr = ctx.config().min_insync_replicas as usize;
        if req.acks == Acks::All && r.isr.len() < min_isr {
            ctx.cover("kafka.produce.not_enough_replicas");
            return fail(ctx, ProduceError::NotEnoughReplicas);
        }
        let epoch = r.leader_epoch;
        if req.producer != 0
            && let Some(&(last, offset)) = r.producers.get(&req.producer)
        {
            if req.seq == last {
                // A retry of the last write: answer for the copy already in the log.
                ctx.cover("kafka.produce.duplicate");
                return self.acknowledge(ctx, p, req, offset);
            }
            if req.seq != last + 1 {
                ctx.cover("kafka.produce.out_of_order");
                // Below the last: an older attempt this producer gave up on, which may be in
                // the log (indeterminate); above the next: a gap (nothing appended).
                let error = if req.seq < last {
                    ProduceError::LeadershipLost
                } else {
                    ProduceError::OutOfOrderSequence
                };
                return fail(ctx, error);
            }
        }
        let log = &mut ctx.durable_mut().logs[p];
        let offset = log.leo();
        log.append(Record {
            epoch,
            value: req.value,
            producer: req.producer,
            seq: req.seq,
        });
        if req.producer != 0 {
            self.rep(p)
                .producers
                .insert(req.producer, (req.seq, offset));
        }
        self.acknowledge(ctx, p, req, offset);
        self.advance_hw(ctx, p);
    }

    /// Answers a write at `offset` as its acks mode asks: acks=1 now, acks=all once the high
    /// watermark passes it, acks=0 never.
    fn acknowledge(&mut self, ctx: &mut Context<'_, Self>, p: usize, req: Produce, offset: u64) {
        let produced = Reply::Produced {
            partition: req.partition,
            value: req.value,
            offset,
        };
        match req.acks {
            Acks::Zero => {}
            Acks::One => ctx.reply(req.client, produced),
            Acks::All if offset < ctx.durable().logs[p].hw => ctx.reply(req.client, produced),
            Acks::All => self.rep(p).waiting.push(Waiting {
                client: req.client,
                value: req.value,
                offset,
            }),
        }
    }

    /// The high watermark rose: acks=all writes below it are committed. Kafka answers
    /// NotEnoughReplicasAfterAppend when the ISR fell below `min_insync_replicas` meanwhile.
    pub(super) fn complete_waiting(&mut self, ctx: &mut Context<'_, Self>, p: usize) {
        let hw = ctx.durable().logs[p].hw;
        let min_isr = ctx.config().min_insync_replicas as usize;
        let r = self.rep(p);
        let enough = r.isr.len() >= min_isr;
        let (done, waiting): (Vec<_>, Vec<_>) = r.waiting.drain(..).partition(|w| w.offset < hw);
        r.waiting = waiting;
        for w in done {
            if enough {
                let reply = Reply::Produced {
                    partition: p as u32,
                    value: w.value,
                    offset: w.offset,
                };
                ctx.reply(w.client, reply);
            } else {
                ctx.cover("kafka.produce.not_enough_after_append");
                w.fail(
                    ctx,
                    p as u32,
                    ProduceError::NotEnoughReplicasAfterAppend,
                    None,
                );
            }
        }
    }

    /// A consumer's poll: committed records (below the high watermark) from `offset`.
    /// A broker that does not lead, or leads an epoch older than the consumer has seen,
    /// refuses.
    pub(super) fn on_poll(&mut self, ctx: &mut Context<'_, Self>, poll: Poll) {
        let Poll {
            client,
            partition,
            offset,
            max,
            ..
        } = poll;
        let p = partition as usize;
        let leader = self.leader_hint(p);
        let Some(epoch) = self
            .replica(p)
            .filter(|r| r.leads() && r.leader_epoch >= poll.leader_epoch)
            .map(|r| r.leader_epoch)
        else {
            let reply = Reply::PollFailed {
                partition,
                leader,
                leo: None,
            };
            return ctx.reply(client, reply);
        };
        let leo = ctx.durable().logs[p].leo();
        if offset > leo {
            ctx.cover("kafka.poll.out_of_range");
            let reply = Reply::PollFailed {
                partition,
                leader,
                leo: Some(leo),
            };
            return ctx.reply(client, reply);
        }
        let log = &ctx.durable().logs[p];
        let end = log.hw.min(offset + u64::from(max)).max(offset);
        let records = (offset..end)
            .map(|o| (o, log.records[o as usize].value))
            .collect();
        let reply = Reply::Records {
            partition,
            leader_epoch: epoch,
            offset,
            records,
            hw: log.hw,
        };
        ctx.reply(client, reply);
    }
}
