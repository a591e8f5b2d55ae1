//! The queue workload: producers sending unique values to partitions, and consumers polling
//! every partition from their positions and committing them, both recording into the
//! [`QueueHistory`] that Jepsen's queue checker reads at the end of the run.
//!
//! Producers have one send outstanding. An attempt goes to the partition's leader as last
//! heard (or the next broker); "not the leader" and timeouts retry, with the same sequence
//! number, until `give_up`: the send then ends `Fail` if no attempt can have been appended,
//! else `Info`. After an `Info` the producer starts over as a new process with a new
//! producer id, as Kafka resets an idempotent producer. acks=0 sends end `Sent` at once.
//!
//! Consumers start from offset 0, read only below the high watermark, and commit their
//! positions to the controller every `commit_interval`. A consumer restart (every
//! `restart_interval` on average, if set) starts a new session from the committed offsets.
//! Producers stop `drain` before the end; the consumers then read to each leader's high
//! watermark, which makes `Unseen` meaningful.

use super::check::{self, Anomaly};
use super::history::{QueueHistory, SendResult};
use super::metric;
use super::node::{Acks, Broker, ProduceError, Reply, Request};
use crate::checks::Checks;
use crate::family::{MetricInfo, Setup, WorkloadConfig};
use crate::units::Dur;
use serde::{Deserialize, Serialize};
use sim::rng::{index, uniform_u64};
use sim::{ClientId, Metrics, NodeId, Time, View, Violation, Workload, WorkloadCtx};
use std::collections::BTreeMap;
use std::time::Duration;

/// The `workload: Queue((...))` section of a scenario.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct QueueWorkloadConfig {
    /// Producers.
    pub producers: u32,
    /// Sends per second per producer (think time uniform in `[0, 2/rate]`).
    pub rate: f64,
    /// The producers' acks mode.
    pub acks: Acks,
    /// Idempotent producers (sequence numbers, deduplicated retries). Kafka allows it only
    /// with acks=all; unset means "when acks is All".
    pub idempotent: Option<bool>,
    /// Consumers (each reads every partition).
    pub consumers: u32,
    /// A consumer's pause between requests.
    pub poll_interval: Dur,
    /// At most this many records per poll.
    pub poll_max: u32,
    /// How often a consumer commits its positions.
    pub commit_interval: Dur,
    /// Mean time between a consumer's restarts (it resumes from its committed offsets);
    /// `"0s"` never restarts.
    pub restart_interval: Dur,
    /// How long one attempt waits for an answer.
    pub timeout: Dur,
    /// The pause before retrying after an error.
    pub backoff: Dur,
    /// How long after its invocation a send is given up.
    pub give_up: Dur,
    /// When the clients start (the controller is elected first).
    pub start: Dur,
    /// Producers stop this long before the end, so that consumers can read everything.
    pub drain: Dur,
}

impl Default for QueueWorkloadConfig {
    fn default() -> Self {
        QueueWorkloadConfig {
            producers: 3,
            rate: 20.0,
            acks: Acks::All,
            idempotent: None,
            consumers: 2,
            poll_interval: Dur::ms(20),
            poll_max: 100,
            commit_interval: Dur::ms(500),
            restart_interval: Dur::secs(0),
            timeout: Dur::ms(300),
            backoff: Dur::ms(20),
            give_up: Dur::secs(3),
            start: Dur::secs(1),
            drain: Dur::secs(3),
        }
    }
}

impl QueueWorkloadConfig {
    /// Whether the producers are idempotent.
    pub fn idempotent(&self) -> bool {
        self.idempotent.unwrap_or(self.acks == Acks::All)
    }
}

impl WorkloadConfig for QueueWorkloadConfig {
    const NAME: &'static str = "Queue";
    const ABOUT: &'static str = "producers (acks 0/1/all, idempotent) and consumers (poll, commit, restart) with a queue history";

    fn idle() -> Self {
        QueueWorkloadConfig {
            producers: 0,
            consumers: 0,
            ..QueueWorkloadConfig::default()
        }
    }

    fn validate(&self, setup: &Setup) -> Result<(), String> {
        use crate::limits::{self, MAX_CLIENT_RATE};
        limits::count("producers", u64::from(self.producers), 0, 1000)?;
        limits::count("consumers", u64::from(self.consumers), 0, 1000)?;
        limits::number("rate", self.rate, 0.0, MAX_CLIENT_RATE)?;
        if self.idempotent() && self.acks != Acks::All {
            return Err(format!(
                "idempotent producers need acks: All (Kafka's rule); with acks: {:?} set idempotent: false",
                self.acks
            ));
        }
        for (field, d) in [
            ("poll_interval", self.poll_interval),
            ("commit_interval", self.commit_interval),
            ("timeout", self.timeout),
            ("backoff", self.backoff),
            ("give_up", self.give_up),
        ] {
            limits::period(field, d)?;
        }
        limits::count("poll_max", u64::from(self.poll_max), 1, 100_000)?;
        for (field, d) in [
            ("restart_interval", self.restart_interval),
            ("start", self.start),
            ("drain", self.drain),
        ] {
            limits::duration(field, d, Duration::ZERO)?;
        }
        if self.start.0 + self.drain.0 > setup.duration {
            return Err(format!(
                "start ({}) plus drain ({}) leave no time to produce in a {} run",
                self.start,
                self.drain,
                Dur(setup.duration)
            ));
        }
        Ok(())
    }

    fn reductions() -> Vec<crate::family::Reduction<Self>> {
        vec![fewer_clients]
    }

    fn metrics() -> Vec<MetricInfo> {
        let m = MetricInfo::new;
        vec![
            m("kafka.sends", "sends invoked"),
            m("kafka.acked", "sends acknowledged (acks=0: sent)"),
            m("kafka.failed", "sends that definitely failed"),
            m("kafka.info", "sends given up on (indeterminate)"),
            m("kafka.attempts", "produce requests, retries included"),
            m("kafka.polls", "polls answered with records"),
            m(
                metric::PRODUCE_MS_ACKS0,
                "acks=0 produce latency (ms; zero by definition)",
            ),
            m(metric::PRODUCE_MS_ACKS1, "acks=1 produce latency (ms)"),
            m(metric::PRODUCE_MS_ACKS_ALL, "acks=all produce latency (ms)"),
            m(
                "kafka.produce_p50_ms",
                "median produce latency of acknowledged sends (ms)",
            ),
            m(
                "kafka.produce_p99_ms",
                "99th percentile produce latency (ms)",
            ),
            m(
                metric::END_TO_END_MS,
                "from a send's invocation to its first read (ms)",
            ),
            m(
                metric::UNAVAILABLE_MS,
                "windows with no acknowledgement for a partition's producers (ms)",
            ),
            m(
                metric::THROUGHPUT,
                "acknowledged sends per second of virtual time",
            ),
            m(
                metric::LOSS_RATE,
                "fraction of acknowledged sends never read",
            ),
            m("kafka.acked_unread", "acknowledged sends never read"),
        ]
    }
}

/// Shrinking: one producer and one consumer, or half of each.
fn fewer_clients(w: &QueueWorkloadConfig) -> Vec<(String, QueueWorkloadConfig)> {
    let mut out = Vec::new();
    for (p, c) in [(1, 1), (w.producers.div_ceil(2), w.consumers.div_ceil(2))] {
        let (p, c) = (p.min(w.producers), c.min(w.consumers));
        if (p, c) != (w.producers, w.consumers)
            && !out
                .iter()
                .any(|o: &(String, QueueWorkloadConfig)| o.1.producers == p && o.1.consumers == c)
        {
            let what = format!(
                "producers {} -> {p}, consumers {} -> {c}",
                w.producers, w.consumers
            );
            out.push((
                what,
                QueueWorkloadConfig {
                    producers: p,
                    consumers: c,
                    ..w.clone()
                },
            ));
        }
    }
    out
}

/// A producer's send in progress.
#[derive(Clone, Debug)]
struct Send {
    partition: u32,
    value: u64,
    seq: u64,
    invoke: Time,
    /// Whether an attempt may have been appended (a timeout or a post-append error).
    maybe_appended: bool,
    last_error: Option<ProduceError>,
}

/// What a client's pending timer means.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Wait {
    Think,
    Reply,
    Backoff,
    Stopped,
}

#[derive(Clone, Debug)]
struct Producer {
    process: u64,
    seqs: Vec<u64>,
    send: Option<Send>,
    target: NodeId,
    wait: Wait,
    generation: u64,
}

/// A consumer's request in flight.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Pending {
    Poll { partition: u32, invoke: Time },
    FetchOffsets,
    Commit,
}

#[derive(Clone, Debug)]
struct Consumer {
    process: u64,
    session: u64,
    positions: Vec<Option<u64>>,
    next: usize,
    pending: Option<Pending>,
    target: NodeId,
    last_commit: Time,
    generation: u64,
}

/// The producers and consumers of a run.
pub struct QueueWorkload {
    cfg: QueueWorkloadConfig,
    partitions: u32,
    producers: Vec<Producer>,
    consumers: Vec<Consumer>,
    history: QueueHistory,
    next_value: u64,
    next_process: u64,
    /// The leader of each partition as last heard, shared by every client (a metadata cache).
    leaders: Vec<Option<NodeId>>,
    /// The newest leader epoch of each partition a consumer has read from.
    epochs: Vec<u64>,
    controller: Option<NodeId>,
    /// When each partition's producers started getting no acknowledgement.
    down_since: Vec<Option<Time>>,
    /// Invocation time of every value not yet read.
    unread: BTreeMap<u64, Time>,
    /// Per partition: when a consumer's last read found it at the high watermark (`None`
    /// if that read was behind).
    at_hw: Vec<Option<Time>>,
    /// When the last send ended.
    last_send: Time,
    latencies_ms: Vec<f64>,
    checks: Checks,
    stop_at: Time,
    quiet_from: Time,
    duration: Duration,
}

const STOP: u64 = u64::MAX;

impl QueueWorkload {
    /// The clients of `cfg` over `partitions` partitions; `checks` selects what `finish`
    /// reports.
    pub fn new(
        cfg: QueueWorkloadConfig,
        partitions: u32,
        checks: &Checks,
        setup: &Setup,
    ) -> QueueWorkload {
        let p = partitions as usize;
        QueueWorkload {
            producers: Vec::new(),
            consumers: Vec::new(),
            history: QueueHistory::default(),
            next_value: 1,
            next_process: 0,
            leaders: vec![None; p],
            epochs: vec![0; p],
            controller: None,
            down_since: vec![None; p],
            unread: BTreeMap::new(),
            at_hw: vec![None; p],
            last_send: Time::ZERO,
            latencies_ms: Vec::new(),
            checks: checks.clone(),
            stop_at: Time::ZERO + setup.duration.saturating_sub(cfg.drain.0),
            quiet_from: setup.quiet_from,
            duration: setup.duration,
            partitions,
            cfg,
        }
    }

    fn process(&mut self) -> u64 {
        self.next_process += 1;
        self.next_process
    }

    fn token(generation: u64, i: usize) -> u64 {
        (generation << 20) | i as u64
    }

    fn wait(&mut self, ctx: &mut WorkloadCtx<'_, Broker>, i: usize, wait: Wait, after: Duration) {
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

    fn invoke(&mut self, ctx: &mut WorkloadCtx<'_, Broker>, i: usize) {
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

    fn attempt(&mut self, ctx: &mut WorkloadCtx<'_, Broker>, i: usize) {
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
    fn complete(&mut self, ctx: &mut WorkloadCtx<'_, Broker>, i: usize, result: SendResult) {
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
    fn retry(&mut self, ctx: &mut WorkloadCtx<'_, Broker>, i: usize) {
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

    fn on_produce_reply(
        &mut self,
        ctx: &mut WorkloadCtx<'_, Broker>,
        from: NodeId,
        i: usize,
        reply: Reply,
    ) {
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
                self.leaders[p] = leader.filter(|&l| l != from);
                if self.leaders[p].is_none() {
                    self.producers[i].target = NodeId((from.0 + 1) % ctx.node_count() as u32);
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

    // ---- consumers ----

    fn consumer_step(&mut self, ctx: &mut WorkloadCtx<'_, Broker>, j: usize) {
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

    fn consumer_next(&mut self, ctx: &mut WorkloadCtx<'_, Broker>, j: usize) {
        let c = &mut self.consumers[j];
        c.pending = None;
        c.generation += 1;
        let token = Self::token(c.generation, self.producers.len() + j);
        ctx.set_timer(self.cfg.poll_interval.0, token);
    }

    fn on_consumer_reply(
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

    fn restart_consumer(&mut self, ctx: &mut WorkloadCtx<'_, Broker>, j: usize) {
        let process = self.process();
        let c = &mut self.consumers[j];
        c.process = process;
        c.session += 1;
        c.positions.iter_mut().for_each(|p| *p = None);
        self.consumer_next(ctx, j);
        self.schedule_restart(ctx, j);
    }

    fn schedule_restart(&mut self, ctx: &mut WorkloadCtx<'_, Broker>, j: usize) {
        let mean = self.cfg.restart_interval.0.as_nanos() as u64;
        if mean == 0 {
            return;
        }
        let after = Duration::from_nanos(uniform_u64(ctx.rng(), mean / 2, mean * 3 / 2));
        ctx.set_timer(after, (STOP - 1) ^ j as u64);
    }

    /// Whether the consumers' last read of every partition found it at the leader's high
    /// watermark, after the last send ended and the faults stopped.
    fn drained(&self) -> bool {
        let after = self.quiet_from.max(self.last_send);
        !self.consumers.is_empty() && self.at_hw.iter().all(|t| t.is_some_and(|t| t >= after))
    }
}

impl Workload<Broker> for QueueWorkload {
    fn start(&mut self, ctx: &mut WorkloadCtx<'_, Broker>) {
        let n = ctx.node_count();
        let p = self.partitions as usize;
        for i in 0..self.cfg.producers as usize {
            let process = self.process();
            self.producers.push(Producer {
                process,
                seqs: vec![0; p],
                send: None,
                target: NodeId((i % n) as u32),
                wait: Wait::Think,
                generation: 0,
            });
        }
        for j in 0..self.cfg.consumers as usize {
            let process = self.process();
            self.consumers.push(Consumer {
                process,
                session: 0,
                positions: vec![Some(0); p],
                next: j,
                pending: None,
                target: NodeId((j % n) as u32),
                last_commit: Time::ZERO,
                generation: 0,
            });
        }
        for i in 0..self.producers.len() {
            self.wait(ctx, i, Wait::Think, self.cfg.start.0);
        }
        for j in 0..self.consumers.len() {
            let c = &mut self.consumers[j];
            c.generation += 1;
            let token = Self::token(c.generation, self.producers.len() + j);
            ctx.set_timer(self.cfg.start.0, token);
            self.schedule_restart(ctx, j);
        }
    }

    fn on_reply(
        &mut self,
        ctx: &mut WorkloadCtx<'_, Broker>,
        from: NodeId,
        client: ClientId,
        reply: Reply,
    ) {
        let i = client as usize;
        if i < self.producers.len() {
            self.on_produce_reply(ctx, from, i, reply);
        } else {
            self.on_consumer_reply(ctx, from, i - self.producers.len(), reply);
        }
    }

    fn on_timer(&mut self, ctx: &mut WorkloadCtx<'_, Broker>, token: u64) {
        if token > STOP - 1 - (1 << 20) {
            return self.restart_consumer(ctx, ((STOP - 1) ^ token) as usize);
        }
        let (generation, i) = (token >> 20, (token & ((1 << 20) - 1)) as usize);
        if i < self.producers.len() {
            let pr = &mut self.producers[i];
            if pr.generation != generation {
                return;
            }
            match pr.wait {
                Wait::Think => self.invoke(ctx, i),
                Wait::Backoff => self.attempt(ctx, i),
                Wait::Reply => {
                    let n = ctx.node_count() as u32;
                    let s = pr.send.as_mut().expect("waiting for a reply");
                    s.maybe_appended = true;
                    self.leaders[s.partition as usize] = None;
                    pr.target = NodeId((pr.target.0 + 1) % n);
                    self.retry(ctx, i);
                }
                Wait::Stopped => {}
            }
        } else {
            let j = i - self.producers.len();
            let c = &mut self.consumers[j];
            if c.generation != generation {
                return;
            }
            if c.pending.is_some() {
                // Timed out: try another broker.
                let n = ctx.node_count() as u32;
                c.target = NodeId((c.target.0 + 1) % n);
                match c.pending {
                    Some(Pending::Poll { partition, .. }) => {
                        self.leaders[partition as usize] = None
                    }
                    Some(Pending::Commit) => {
                        // Commits are periodic: a lost one is retried next period, and the
                        // consumer goes on polling meanwhile.
                        c.last_commit = ctx.now();
                        self.controller = None;
                    }
                    _ => self.controller = None,
                }
                c.pending = None;
            }
            self.consumer_step(ctx, j);
        }
    }

    fn finish(&mut self, _view: &View<'_, Broker>) -> sim::Check {
        self.history.drained = self.drained();
        let anomalies: Vec<Anomaly> = check::check(&self.history);
        match anomalies.into_iter().find(|a| self.checks.has(a.invariant)) {
            Some(a) => sim::Check::Violated(Violation::new(a.invariant.name(), a.message)),
            None => sim::Check::Ok,
        }
    }

    fn report(&self, metrics: &mut Metrics) {
        let (acked, unread) = check::unread_acknowledged(&self.history);
        metrics.count("kafka.acked_unread", unread as u64);
        let secs = self.duration.as_secs_f64().max(1e-9);
        metrics.sample(metric::THROUGHPUT, Time::ZERO, acked as f64 / secs);
        if acked > 0 {
            metrics.sample(metric::LOSS_RATE, Time::ZERO, unread as f64 / acked as f64);
        }
        if let Some(s) = sim::Summary::of(&self.latencies_ms) {
            metrics.sample("kafka.produce_p50_ms", Time::ZERO, s.p50);
            metrics.sample("kafka.produce_p99_ms", Time::ZERO, s.p99);
        }
    }

    fn exports(&self) -> Vec<(&'static str, String)> {
        let lines: Vec<String> = self
            .history
            .ops
            .iter()
            .map(|op| serde_json::to_string(op).expect("a history op serializes"))
            .collect();
        vec![("jsonl", lines.join("\n") + "\n")]
    }
}
