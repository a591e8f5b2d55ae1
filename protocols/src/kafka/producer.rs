//! The producers of the queue workload: one send outstanding each, routed to the
//! partition's leader as last heard, retried with the same sequence number on "not the
//! leader" and timeouts until `give_up`, then recorded `Fail` (no attempt can have been
//! appended) or `Info`. After an `Info` (or an out-of-order sequence) a producer starts over
//! as a new process with a new producer id, as Kafka resets an idempotent producer.

use super::history::SendResult;
use super::metric;
use super::node::{Acks, Broker, ProduceError, Reply, Request};
use super::workload::QueueWorkload;
use sim::rng::{index, uniform_u64};
use sim::{ClientId, NodeId, Time, WorkloadCtx};
use std::time::Duration;

/// A producer's send in progress.
#[derive(Clone, Debug)]
pub(super) struct Send {
    pub(super) partition: u32,
    pub(super) value: u64,
    pub(super) seq: u64,
    pub(super) invoke: Time,
    /// Whether an attempt may have been appended (a timeout or a post-append error).
    pub(super) maybe_appended: bool,
    pub(super) last_error: Option<ProduceError>,
}

/// What a client's pending timer means.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Wait {
    Think,
    Reply,
    Backoff,
    Stopped,
}

#[derive(Clone, Debug)]
pub(super) struct Producer {
    pub(super) process: u64,
    pub(super) seqs: Vec<u64>,
    pub(super) send: Option<Send>,
    pub(super) target: NodeId,
    pub(super) wait: Wait,
    pub(super) generation: u64,
}

impl QueueWorkload {
    pub(super) fn wait(
        &mut self,
        ctx: &mut WorkloadCtx<'_, Broker>,
        i: usize,
        wait: Wait,
        after: Duration,
    ) {
        let pr = &mut self.producers[i];
        pr.wait = wait;
        pr.generation += 1;
        ctx.set_timer(after, Self::token(pr.generation, i));
    }

    fn think(&mut self, ctx: &mut WorkloadCtx<'_, Broker>, i: usize) {
        let mean = (1e9 / self.cfg.rate.max(1e-9)) as u64;
        let after = Duration::from_nanos(uniform_u64(ctx.rng(), 0, 2 * mean));
        self.wait(ctx, i, Wait::Think, after);
    }

    pub(super) fn invoke(&mut self, ctx: &mut WorkloadCtx<'_, Broker>, i: usize) {
        if ctx.now() >= self.stop_at {
            self.producers[i].wait = Wait::Stopped;
            return;
        }
        let partition = index(ctx.rng(), self.partitions as usize) as u32;
        let value = self.next_value;
        self.next_value += 1;
        let now = ctx.now();
        self.unread.insert(value, now);
        ctx.count("kafka.sends", 1);
        let pr = &mut self.producers[i];
        pr.send = Some(Send {
            partition,
            value,
            seq: pr.seqs[partition as usize],
            invoke: now,
            maybe_appended: false,
            last_error: None,
        });
        self.attempt(ctx, i);
    }

    pub(super) fn attempt(&mut self, ctx: &mut WorkloadCtx<'_, Broker>, i: usize) {
        let idempotent = self.cfg.idempotent();
        let acks = self.cfg.acks;
        let pr = &mut self.producers[i];
        let s = pr.send.as_ref().expect("an attempt without a send");
        if let Some(l) = self.leaders[s.partition as usize] {
            pr.target = l;
        }
        let req = Request::Produce {
            partition: s.partition,
            producer: if idempotent { pr.process } else { 0 },
            seq: s.seq,
            value: s.value,
            acks,
        };
        let target = pr.target;
        ctx.submit(target, i as ClientId, req);
        ctx.count("kafka.attempts", 1);
        if acks == Acks::Zero {
            self.complete(ctx, i, SendResult::Sent);
            return;
        }
        self.wait(ctx, i, Wait::Reply, self.cfg.timeout.0);
    }

    /// Ends the current send with `result` and thinks before the next.
    pub(super) fn complete(
        &mut self,
        ctx: &mut WorkloadCtx<'_, Broker>,
        i: usize,
        result: SendResult,
    ) {
        let now = ctx.now();
        let s = self.producers[i].send.take().expect("a send to complete");
        let p = s.partition as usize;
        match &result {
            SendResult::Ok(_) | SendResult::Sent => {
                ctx.count("kafka.acked", 1);
                self.producers[i].seqs[p] += 1;
                let ms = now.saturating_since(s.invoke).as_secs_f64() * 1e3;
                let name = match self.cfg.acks {
                    Acks::Zero => metric::PRODUCE_MS_ACKS0,
                    Acks::One => metric::PRODUCE_MS_ACKS1,
                    Acks::All => metric::PRODUCE_MS_ACKS_ALL,
                };
                ctx.sample(name, ms);
                self.latencies_ms.push(ms);
                if let Some(since) = self.down_since[p].take() {
                    ctx.sample(
                        metric::UNAVAILABLE_MS,
                        now.saturating_since(since).as_secs_f64() * 1e3,
                    );
                }
            }
            SendResult::Fail(_) => ctx.count("kafka.failed", 1),
            SendResult::Info => ctx.count("kafka.info", 1),
        }
        let reset =
            result == SendResult::Info || s.last_error == Some(ProduceError::OutOfOrderSequence);
        let process = self.producers[i].process;
        let span = (s.invoke.as_nanos(), now.as_nanos());
        self.last_send = now;
        self.history
            .send(process, span, s.partition, s.value, result);
        // After an indeterminate send the sequence number may be taken, and after an
        // out-of-order one the broker's record of it is off: a new producer id (and process)
        // either way, as Kafka resets an idempotent producer.
        if reset {
            let process = self.process();
            let pr = &mut self.producers[i];
            pr.process = process;
            pr.seqs.iter_mut().for_each(|s| *s = 0);
        }
        self.think(ctx, i);
    }

    /// A failed attempt: retry after `backoff`, or give up.
    pub(super) fn retry(&mut self, ctx: &mut WorkloadCtx<'_, Broker>, i: usize) {
        let now = ctx.now();
        let s = self.producers[i].send.as_ref().expect("a send to retry");
        let p = s.partition as usize;
        if self.down_since[p].is_none() {
            self.down_since[p] = Some(s.invoke);
        }
        if now.saturating_since(s.invoke) >= self.cfg.give_up.0 {
            let result = if s.maybe_appended {
                SendResult::Info
            } else {
                SendResult::Fail(format!(
                    "{:?}",
                    s.last_error.unwrap_or(ProduceError::NotLeader)
                ))
            };
            return self.complete(ctx, i, result);
        }
        self.wait(ctx, i, Wait::Backoff, self.cfg.backoff.0);
    }

    pub(super) fn on_produce_reply(
        &mut self,
        ctx: &mut WorkloadCtx<'_, Broker>,
        from: NodeId,
        i: usize,
        reply: Reply,
    ) {
        // Every "not the leader" refreshes the metadata cache, answered or not: acks=0
        // producers wait for no answer, and this is how they learn of a new leader.
        if let Reply::ProduceFailed {
            partition,
            leader,
            error: ProduceError::NotLeader,
            ..
        } = &reply
            && self.leaders[*partition as usize].is_none_or(|l| l == from)
        {
            self.leaders[*partition as usize] = leader.filter(|&l| l != from);
        }
        if matches!(
            reply,
            Reply::ProduceFailed {
                leader: None,
                error: ProduceError::NotLeader,
                ..
            }
        ) && self.producers[i].target == from
        {
            self.producers[i].target = NodeId((from.0 + 1) % ctx.node_count() as u32);
        }
        let pr = &self.producers[i];
        let Some(s) = pr.send.as_ref() else {
            return;
        };
        if pr.wait != Wait::Reply {
            return;
        }
        match reply {
            Reply::Produced { value, offset, .. } if value == s.value => {
                self.leaders[s.partition as usize] = Some(from);
                self.complete(ctx, i, SendResult::Ok(offset))
            }
            Reply::ProduceFailed {
                value,
                error,
                leader,
                partition,
            } if value == s.value => {
                let p = partition as usize;
                if error == ProduceError::NotLeader {
                    self.leaders[p] = leader.filter(|&l| l != from);
                    if self.leaders[p].is_none() {
                        self.producers[i].target = NodeId((from.0 + 1) % ctx.node_count() as u32);
                    }
                } else {
                    // The leader itself refused (too few in sync, a sequence gap): retry there.
                    self.leaders[p] = Some(from);
                }
                let s = self.producers[i].send.as_mut().expect("checked");
                s.last_error = Some(error);
                if !error.definite() {
                    s.maybe_appended = true;
                }
                if error == ProduceError::OutOfOrderSequence {
                    // This broker misses our earlier writes: a stale leader, or they were
                    // lost. Kafka's producer gives up the sequence (and starts over, below).
                    let result = if s.maybe_appended {
                        SendResult::Info
                    } else {
                        SendResult::Fail(format!("{error:?}"))
                    };
                    return self.complete(ctx, i, result);
                }
                self.retry(ctx, i)
            }
            _ => {}
        }
    }
}
