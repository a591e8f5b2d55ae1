//! The processing model's state in a run (see [`crate::processing`] for the model).
//!
//! It exists only when the run has a processing time or a `Slow` fault has fired
//! (`Core::processing` is `None` otherwise), so a run without the model pays one predictable
//! branch per node event and draws nothing.
//!
//! Each node with work has a FIFO of entries (`waiting`): the front one is being handled, and
//! completes at the node's `busy_until`, where a `Wake` event is queued; the rest wait. An
//! event that finds the node free and costs nothing is handled at once and never enters the
//! FIFO. A wake is valid only while it is the one the node expects (`wake_seq`), so a crash
//! or a pause simply forgets it.

use super::core::{Core, Entry, Ev};
use crate::latency::{LATENCY_CAP, Latency};
use crate::processing::ProcessingConfig;
use crate::protocol::Protocol;
use crate::rng::{self, Purpose, StreamRng};
use crate::{NodeId, Time};
use rustc_hash::FxHashMap;
use std::collections::VecDeque;

/// No wake expected.
const NO_WAKE: u64 = u64::MAX;

/// A `Slow` fault in force on a node.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Slowdown {
    pub until: Time,
    pub factor: f64,
    pub per_event: Option<Latency>,
}

/// One node's timing.
#[derive(Clone, Copy, Debug)]
struct NodeTiming {
    /// When the event being handled completes (in the past when the node is free).
    busy_until: Time,
    /// The sequence number of the wake the node expects, or `NO_WAKE`.
    wake_seq: u64,
}

/// The processing model's state.
pub(crate) struct Processing<P: Protocol> {
    cfg: ProcessingConfig,
    rng: StreamRng,
    nodes: Vec<NodeTiming>,
    /// Per node: the entry being handled (front), then the entries waiting, in arrival order.
    /// Looked up only, never iterated.
    waiting: FxHashMap<u32, VecDeque<Entry<P>>>,
    /// `Slow` faults in force (or expired and not yet replaced). Looked up only.
    slow: FxHashMap<u32, Slowdown>,
    /// Set while an entry whose handling just completed is dispatched: it must not wait again.
    releasing: bool,
    /// Events that waited behind a busy node.
    queued: u64,
    /// Nanoseconds nodes spent handling events.
    busy_ns: u64,
}

impl<P: Protocol> Processing<P> {
    /// The model's state for a run of `nodes` nodes, or `None` when `cfg` is off.
    pub(crate) fn new(cfg: &ProcessingConfig, nodes: usize, seed: u64) -> Option<Box<Self>> {
        (!cfg.is_off()).then(|| Self::always(cfg, nodes, seed))
    }

    /// The model's state even when `cfg` is off (a `Slow` fault turns it on).
    pub(crate) fn always(cfg: &ProcessingConfig, nodes: usize, seed: u64) -> Box<Self> {
        Box::new(Processing {
            cfg: cfg.clone(),
            rng: rng::stream(seed, Purpose::Processing),
            nodes: vec![
                NodeTiming {
                    busy_until: Time::ZERO,
                    wake_seq: NO_WAKE,
                };
                nodes
            ],
            waiting: FxHashMap::default(),
            slow: FxHashMap::default(),
            releasing: false,
            queued: 0,
            busy_ns: 0,
        })
    }

    /// Applies a `Slow` fault to a node (replacing one in force).
    pub(crate) fn slow(&mut self, node: NodeId, s: Slowdown) {
        self.slow.insert(node.0, s);
    }

    /// When the latest `Slow` fault on `node` ends (or ended).
    pub(crate) fn slowed_until(&self, node: NodeId) -> Option<Time> {
        self.slow.get(&node.0).map(|s| s.until)
    }

    /// Draws the cost of an event whose handling starts now at `node`; `None` when the node
    /// has no processing time (then nothing is drawn).
    fn cost(&mut self, node: NodeId, now: Time) -> Option<u64> {
        let slow = self.slow.get(&node.0).filter(|s| now < s.until).copied();
        let base = self
            .cfg
            .time(node.0)
            .or(slow.as_ref().and_then(|s| s.per_event.as_ref()))?;
        let ns = base.sample(&mut self.rng);
        Some(match slow {
            // Plain IEEE multiplication and a truncating conversion: the same on every platform.
            Some(s) => (ns as f64 * s.factor).min(LATENCY_CAP as f64) as u64,
            None => ns,
        })
    }

    /// Starts handling an event that arrived at `arrived`: draws its cost, records its
    /// queueing delay, and returns when it completes.
    fn start(&mut self, node: NodeId, now: Time, arrived: Time, m: &mut crate::Metrics) -> Time {
        let Some(cost) = self.cost(node, now) else {
            return now;
        };
        let delay = now.0.saturating_sub(arrived.0);
        m.sample("node.queue_delay_ms", now, delay as f64 / 1e6);
        self.busy_ns = self.busy_ns.saturating_add(cost);
        let done = Time(now.0.saturating_add(cost));
        self.nodes[node.index()].busy_until = done;
        done
    }

    /// Forgets the node's work (a crash or a pause): returns the entries it held, the one
    /// being handled first.
    pub(crate) fn take(&mut self, node: NodeId) -> VecDeque<Entry<P>> {
        let t = &mut self.nodes[node.index()];
        t.busy_until = Time::ZERO;
        t.wake_seq = NO_WAKE;
        self.waiting.remove(&node.0).unwrap_or_default()
    }

    /// Folds the counters into the metrics.
    pub(crate) fn flush(&self, m: &mut crate::Metrics) {
        m.counters.insert("node.queued", self.queued);
        m.counters.insert("node.busy_us", self.busy_ns / 1000);
    }
}

impl<P: Protocol> Core<P> {
    /// Whether an event for `node` that would be handled now must wait for it (the processing
    /// model is on, and the node is busy or the event takes time); the caller then hands the
    /// entry to [`Self::hold`]. Without the model: false, at the cost of one branch.
    #[inline]
    pub(crate) fn must_wait(&mut self, node: NodeId) -> bool {
        if self.processing.is_none() {
            return false;
        }
        self.must_wait_slow(node)
    }

    /// [`Self::must_wait`] for a timer or a completed sync: with `TimerMode::OnTime` they
    /// never wait.
    #[inline]
    pub(crate) fn must_wait_timer(&mut self, node: NodeId) -> bool {
        match self.processing.as_deref() {
            None => false,
            Some(p) if p.cfg.timers == crate::processing::TimerMode::OnTime => false,
            Some(_) => self.must_wait_slow(node),
        }
    }

    #[inline(never)]
    fn must_wait_slow(&mut self, node: NodeId) -> bool {
        let now = self.now;
        let p = self.processing.as_deref_mut().expect("the model is on");
        if p.releasing {
            return false;
        }
        if p.waiting.get(&node.0).is_some_and(|q| !q.is_empty()) {
            p.queued += 1;
            return true;
        }
        p.start(node, now, now, &mut self.metrics) > now
    }

    /// Keeps an entry at its node: the one that just started (the node's FIFO was empty: its
    /// completion is queued as a wake), or one that waits behind it.
    #[inline(never)]
    pub(crate) fn hold(&mut self, node: NodeId, entry: Entry<P>) {
        let p = self.processing.as_deref_mut().expect("the model is on");
        let q = p.waiting.entry(node.0).or_default();
        q.push_back(entry);
        if q.len() == 1 {
            let at = p.nodes[node.index()].busy_until;
            self.wake_at(node, at);
        }
    }

    fn wake_at(&mut self, node: NodeId, at: Time) {
        let seq = self.seq;
        let p = self.processing.as_deref_mut().expect("the model is on");
        p.nodes[node.index()].wake_seq = seq;
        self.push(at, Ev::Wake { node });
    }

    /// A wake with sequence number `seq` for `node`: the entry whose handling completes now,
    /// ready to dispatch (it does not wait again), or `None` for a wake the node no longer
    /// expects.
    #[inline(never)]
    pub(crate) fn complete(&mut self, node: NodeId, seq: u64) -> Option<Entry<P>> {
        let now = self.now;
        let generation = self.net.partitions.generation();
        let p = self.processing.as_deref_mut()?;
        if p.nodes[node.index()].wake_seq != seq {
            return None;
        }
        p.nodes[node.index()].wake_seq = NO_WAKE;
        let mut e = p.waiting.get_mut(&node.0)?.pop_front()?;
        e.time = now;
        // The message arrived before it waited: cuts made since do not drop it.
        if let Ev::Deliver { cut_gen, .. } = &mut e.ev {
            *cut_gen = generation;
        }
        p.releasing = true;
        Some(e)
    }

    /// After a completed entry was dispatched: starts handling the next one waiting at the
    /// node, if any (timers cancelled while they waited are discarded first).
    #[inline(never)]
    pub(crate) fn start_next(&mut self, node: NodeId) {
        let now = self.now;
        let Some(p) = self.processing.as_deref_mut() else {
            return;
        };
        p.releasing = false;
        let Some(q) = p.waiting.get_mut(&node.0) else {
            return;
        };
        while let Some(front) = q.front() {
            match front.ev {
                Ev::Timer { id, .. } if !self.live_timers.contains(id) => {
                    self.live_timers.remove(id);
                    q.pop_front();
                }
                _ => break,
            }
        }
        let Some(arrived) = q.front().map(|e| e.time) else {
            return;
        };
        let done = p.start(node, now, arrived, &mut self.metrics);
        self.wake_at(node, done);
    }
}
