//! The consumers of the queue workload: each polls every partition in turn from its
//! positions (reading only below the high watermark, fenced by the newest leader epoch it has
//! seen), commits its positions to the controller every `commit_interval`, and on a restart
//! starts a new session from its committed offsets.

use super::metric;
use super::node::{Broker, Reply, Request};
use super::workload::{QueueWorkload, STOP};
use sim::rng::uniform_u64;
use sim::{ClientId, NodeId, Time, WorkloadCtx};
use std::time::Duration;

/// A consumer's request in flight.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Pending {
    Poll { partition: u32, invoke: Time },
    FetchOffsets,
    Commit,
}

#[derive(Clone, Debug)]
pub(super) struct Consumer {
    pub(super) process: u64,
    pub(super) session: u64,
    pub(super) positions: Vec<Option<u64>>,
    pub(super) next: usize,
    pub(super) pending: Option<Pending>,
    pub(super) target: NodeId,
    pub(super) last_commit: Time,
    pub(super) generation: u64,
}

impl QueueWorkload {
    pub(super) fn consumer_step(&mut self, ctx: &mut WorkloadCtx<'_, Broker>, j: usize) {
        let now = ctx.now();
        let n = ctx.node_count() as u32;
        let c = &mut self.consumers[j];
        let client = (self.producers.len() + j) as ClientId;
        let consumer = j as u64;
        let (req, target) = if c.positions.iter().any(Option::is_none) {
            c.pending = Some(Pending::FetchOffsets);
            (
                Request::FetchOffsets { consumer },
                self.controller.unwrap_or(c.target),
            )
        } else if now.saturating_since(c.last_commit) >= self.cfg.commit_interval.0 {
            c.pending = Some(Pending::Commit);
            let offsets = c
                .positions
                .iter()
                .enumerate()
                .map(|(p, o)| (p as u32, o.unwrap_or(0)))
                .collect();
            (
                Request::CommitOffsets { consumer, offsets },
                self.controller.unwrap_or(c.target),
            )
        } else {
            let p = c.next % self.partitions as usize;
            c.next += 1;
            c.pending = Some(Pending::Poll {
                partition: p as u32,
                invoke: now,
            });
            let req = Request::Poll {
                partition: p as u32,
                offset: c.positions[p].unwrap_or(0),
                max: self.cfg.poll_max,
                leader_epoch: self.epochs[p],
            };
            (req, self.leaders[p].unwrap_or(c.target))
        };
        c.target = NodeId(target.0 % n);
        c.generation += 1;
        let token = Self::token(c.generation, self.producers.len() + j);
        ctx.submit(target, client, req);
        ctx.set_timer(self.cfg.timeout.0, token);
    }

    pub(super) fn consumer_next(&mut self, ctx: &mut WorkloadCtx<'_, Broker>, j: usize) {
        let c = &mut self.consumers[j];
        c.pending = None;
        c.generation += 1;
        let token = Self::token(c.generation, self.producers.len() + j);
        ctx.set_timer(self.cfg.poll_interval.0, token);
    }

    pub(super) fn on_consumer_reply(
        &mut self,
        ctx: &mut WorkloadCtx<'_, Broker>,
        from: NodeId,
        j: usize,
        reply: Reply,
    ) {
        let now = ctx.now();
        let n = ctx.node_count() as u32;
        let Some(pending) = self.consumers[j].pending else {
            return;
        };
        match (pending, reply) {
            (
                Pending::Poll { partition, invoke },
                Reply::Records {
                    partition: rp,
                    leader_epoch,
                    offset,
                    records,
                    hw,
                },
            ) if rp == partition => {
                let p = partition as usize;
                self.epochs[p] = self.epochs[p].max(leader_epoch);
                let c = &mut self.consumers[j];
                if c.positions[p] != Some(offset) {
                    return;
                }
                self.leaders[p] = Some(from);
                if let Some(&(last, _)) = records.last() {
                    c.positions[p] = Some(last + 1);
                }
                let position = c.positions[p].unwrap_or(0);
                let (process, session) = (c.process, c.session);
                // A poll sent after the last send ended sees every acknowledged record
                // below the high watermark.
                self.at_hw[p] = (position >= hw).then_some(invoke);
                if !records.is_empty() {
                    ctx.count("kafka.polls", 1);
                    for (_, v) in &records {
                        if let Some(sent) = self.unread.remove(v) {
                            ctx.sample(
                                metric::END_TO_END_MS,
                                now.saturating_since(sent).as_secs_f64() * 1e3,
                            );
                        }
                    }
                    self.history.poll(
                        process,
                        (invoke.as_nanos(), now.as_nanos()),
                        partition,
                        session,
                        records,
                    );
                }
            }
            (
                Pending::Poll { partition, .. },
                Reply::PollFailed {
                    partition: rp,
                    leader,
                    leo,
                },
            ) if rp == partition => {
                let p = partition as usize;
                self.leaders[p] = leader.filter(|&l| l != from);
                let c = &mut self.consumers[j];
                if self.leaders[p].is_none() {
                    c.target = NodeId((from.0 + 1) % n);
                }
                if let (Some(leo), Some(pos)) = (leo, c.positions[p])
                    && pos > leo
                {
                    // auto.offset.reset to the log end: the consumer was ahead of the leader.
                    c.positions[p] = Some(leo);
                }
            }
            (Pending::FetchOffsets, Reply::Offsets { offsets }) => {
                self.controller = Some(from);
                let c = &mut self.consumers[j];
                for pos in c.positions.iter_mut() {
                    *pos = Some(pos.unwrap_or(0));
                }
                for (p, o) in offsets {
                    if let Some(pos) = c.positions.get_mut(p as usize) {
                        *pos = Some(o);
                    }
                }
            }
            (Pending::Commit, Reply::OffsetsCommitted) => {
                self.controller = Some(from);
                self.consumers[j].last_commit = now;
            }
            (Pending::FetchOffsets | Pending::Commit, Reply::NotController { controller }) => {
                self.controller = controller;
                if controller.is_none() {
                    self.consumers[j].target = NodeId((from.0 + 1) % n);
                }
            }
            _ => return,
        }
        self.consumer_next(ctx, j);
    }

    pub(super) fn restart_consumer(&mut self, ctx: &mut WorkloadCtx<'_, Broker>, j: usize) {
        let process = self.process();
        let c = &mut self.consumers[j];
        c.process = process;
        c.session += 1;
        c.positions.iter_mut().for_each(|p| *p = None);
        self.consumer_next(ctx, j);
        self.schedule_restart(ctx, j);
    }

    pub(super) fn schedule_restart(&mut self, ctx: &mut WorkloadCtx<'_, Broker>, j: usize) {
        let mean = self.cfg.restart_interval.0.as_nanos() as u64;
        if mean == 0 {
            return;
        }
        let after = Duration::from_nanos(uniform_u64(ctx.rng(), mean / 2, mean * 3 / 2));
        ctx.set_timer(after, (STOP - 1) ^ j as u64);
    }

    /// Whether the consumers' last read of every partition found it at the leader's high
    /// watermark, after the last send ended and the faults stopped.
    pub(super) fn drained(&self) -> bool {
        let after = self.quiet_from.max(self.last_send);
        !self.consumers.is_empty() && self.at_hw.iter().all(|t| t.is_some_and(|t| t >= after))
    }
}
