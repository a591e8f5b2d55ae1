//! The simulation: nodes, the run loop, guards and verdicts.
//!
//! ```text
//!   faults ─┐      ┌──────────── event queue (time, seq) ─────────────┐
//!  workload ┼─push─┤ Deliver · Timer · Request · Reply · Fault · Tick  ├─pop─► dispatch
//!   nodes  ─┘      └───────────────────────────────────────────────────┘        │
//!                                                                      node / workload code
//!                                                                               │
//!                          monitors ◄── EventInfo + View ── trace hash ◄────────┘
//! ```
//!
//! One thread, one queue: the run is a pure function of the scenario and the seed. A run ends
//! when the duration is reached, the queue empties, or a monitor reports `Done` (all
//! `Completed`); when a monitor reports a violation; or when a guard trips (event budget,
//! virtual-time limit, wall-time limit), each with its own verdict. A panic in protocol code
//! is caught and becomes a `Panicked` verdict carrying the seed.

mod core;
mod faults;
mod processing;
mod queue;
mod radix;
mod timers;

pub use self::core::NodeStatus;
pub(crate) use self::core::{Core, Ev, NodeMeta};

use crate::clock::Clock;
use crate::fault::Fault;
use crate::metrics::Metrics;
use crate::monitor::{Check, EventInfo, EventKind, Monitor, View, Violation};
use crate::network::{NetConfig, Network};
use crate::protocol::{Context, Protocol, Sink};
use crate::rng::{self, NodeRng, Purpose, StreamRng};
use crate::trace::{Annotations, RecordKind, Trace, TraceRecord};
use crate::workload::{NoWorkload, Workload, WorkloadCtx};
use crate::{NodeId, Time};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::time::Duration;

/// A node's state and what survives it.
pub(crate) struct Slot<P: Protocol> {
    pub state: Option<P>,
    pub durable: P::Durable,
    /// The node's disk, made on its first write (most nodes of a large gossip run have none).
    pub disk: Option<Box<crate::storage::Disk>>,
    pub rng: NodeRng,
}

/// Limits that end a run.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Limits {
    /// The planned length of the run: reaching it is a normal end (`Completed`).
    pub duration: Option<Duration>,
    /// A guard for runs without a fixed duration: reaching it ends the run as `TimeLimit`.
    pub max_virtual_time: Option<Duration>,
    /// A guard on processed events: reaching it ends the run as `EventLimit`.
    pub max_events: Option<u64>,
    /// A guard on real time spent: reaching it ends the run as `WallLimit`.
    pub max_wall: Option<Duration>,
    /// A guard on the process's resident memory, in bytes: reaching it ends the run as
    /// `MemoryLimit`. Without it the process's own budget applies (see [`crate::memory`]).
    pub max_memory: Option<u64>,
}

/// Everything a run is built from, except the protocol config, workload and monitors.
#[derive(Clone, Debug, Default)]
pub struct SimConfig {
    /// Number of nodes (ids `0..nodes`).
    pub nodes: usize,
    /// The root seed.
    pub seed: u64,
    /// The network.
    pub network: NetConfig,
    /// Per-node clocks; missing entries are ideal clocks.
    pub clocks: Vec<Clock>,
    /// How long disk syncs take (zero by default: a sync completes at once).
    pub storage: crate::storage::StorageConfig,
    /// How long nodes take to handle events (off by default: every event is handled the
    /// instant it arrives; see [`crate::processing`]).
    pub processing: crate::processing::ProcessingConfig,
    /// When the run ends.
    pub limits: Limits,
    /// Keep every event in memory (for `--trace`).
    pub record_trace: bool,
    /// Ask the workload for its exports at the end ([`Workload::exports`]; for `--history`).
    pub record_exports: bool,
    /// Call monitors' `on_tick` this often.
    pub tick: Option<Duration>,
}

/// How a run ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// The run reached its end (duration, quiescence or a monitor's goal) with every check held.
    Completed,
    /// An invariant failed.
    Violated(Violation),
    /// The event budget ran out first.
    EventLimit,
    /// The virtual-time guard was reached first.
    TimeLimit,
    /// The wall-time guard was reached first.
    WallLimit,
    /// The memory guard was reached first (or the cluster could not be allocated); the message
    /// says how much was in use.
    MemoryLimit(String),
    /// Protocol (or monitor) code panicked; the message is the panic's.
    Panicked(String),
    /// Every check held during the run, but an end-of-run check could not decide within its
    /// budget (see [`Check::Unknown`]): neither a pass nor a violation.
    Unknown(Violation),
}

/// The result of a run.
#[derive(Clone, Debug)]
pub struct RunReport {
    /// The root seed, so every failure can be replayed.
    pub seed: u64,
    /// How the run ended.
    pub verdict: Verdict,
    /// Processed events.
    pub events: u64,
    /// True time at the end.
    pub end_time: Time,
    /// The trace hash: same scenario and seed ⇒ same hash.
    pub trace_hash: u64,
    /// Metrics from nodes, the network, monitors and the workload.
    pub metrics: Metrics,
    /// Recorded events (empty unless `record_trace`).
    pub trace: Vec<TraceRecord>,
    /// Every fault applied, in order, with its true time and its role targets (`Leader`,
    /// `Random`, `Crashed`...) replaced by the nodes they resolved to. Scheduling these instead
    /// of the originals replays the same run; shrinkers use them to decouple faults.
    pub applied_faults: Vec<(Time, Fault)>,
    /// What the workload exports, by format (`jsonl`, `edn`), when `record_exports` is set.
    pub exports: Vec<(&'static str, String)>,
}

/// A deterministic simulation of one protocol on one cluster.
pub struct Simulation<P: Protocol> {
    cfg: P::Config,
    slots: Vec<Slot<P>>,
    core: Core<P>,
    monitors: Vec<Box<dyn Monitor<P>>>,
    workload: Box<dyn Workload<P>>,
    workload_rng: StreamRng,
    fault_rng: StreamRng,
    applied: Vec<(Time, Fault)>,
    /// Whether the report carries the workload's exports.
    record_exports: bool,
    seed: u64,
    limits: Limits,
    tick: Option<Duration>,
    started: bool,
    progress: Option<Progress>,
    /// Why the cluster could not be set up (it did not fit in memory): the run ends at once.
    setup_error: Option<String>,
}

/// Called now and then during a run with the true time and the events processed so far.
pub type Progress = Box<dyn FnMut(Time, u64)>;

/// Events between memory checks and calls to the progress callback.
const EVERY_64K: u64 = 1 << 16;

impl<P: Protocol> Simulation<P> {
    /// A cluster of `sim.nodes` nodes of protocol `P`, not yet started.
    pub fn new(sim: SimConfig, cfg: P::Config) -> Simulation<P> {
        assert!(sim.nodes > 0, "a cluster needs at least one node");
        assert!(sim.nodes <= u32::MAX as usize, "node ids are u32");
        let seed = sim.seed;
        // The cluster's tables are the largest allocations a run makes at once: reserve them
        // without aborting, so a cluster too large for the process ends as a verdict.
        let mut meta = Vec::new();
        let mut slots = Vec::new();
        let setup_error = match (
            meta.try_reserve_exact(sim.nodes),
            slots.try_reserve_exact(sim.nodes),
        ) {
            (Ok(()), Ok(())) => {
                crate::memory::advise_huge(&meta);
                crate::memory::advise_huge(&slots);
                meta.extend((0..sim.nodes).map(|i| NodeMeta {
                    status: NodeStatus::Crashed,
                    crash_seq: 0,
                    clock: sim.clocks.get(i).copied().unwrap_or_default(),
                }));
                slots.extend((0..sim.nodes).map(|i| Slot {
                    state: None,
                    durable: P::Durable::default(),
                    disk: None,
                    rng: rng::node_rng(seed, i as u32),
                }));
                None
            }
            _ => Some(format!(
                "memory limit reached: the tables of {} nodes do not fit in memory",
                sim.nodes
            )),
        };
        Simulation {
            cfg,
            slots,
            core: Core {
                now: Time::ZERO,
                queue: Default::default(),
                seq: 0,
                meta,
                net: Network::new(sim.network, rng::stream(seed, Purpose::Network)),
                live_timers: Default::default(),
                next_timer: 0,
                deferred: Default::default(),
                ready: Default::default(),
                metrics: Metrics::default(),
                counters: Default::default(),
                storage: sim.storage,
                storage_rng: rng::stream(seed, Purpose::Storage),
                trace: Trace::new(sim.record_trace),
                events: 0,
                wall_deadline: None,
                processing: processing::Processing::new(&sim.processing, sim.nodes, seed),
            },
            monitors: Vec::new(),
            workload: Box::new(NoWorkload),
            workload_rng: rng::stream(seed, Purpose::Workload),
            fault_rng: rng::stream(seed, Purpose::Faults),
            applied: Vec::new(),
            record_exports: sim.record_exports,
            seed,
            limits: sim.limits,
            tick: sim.tick,
            started: false,
            progress: None,
            setup_error,
        }
    }

    /// Reports progress during the run: `f` is called every 65,536 events with the true time
    /// and the events processed (for a progress line; it cannot change the run).
    pub fn set_progress(&mut self, f: Progress) {
        self.progress = Some(f);
    }

    /// Attaches a checker or observer.
    pub fn add_monitor(&mut self, m: Box<dyn Monitor<P>>) {
        self.monitors.push(m);
    }

    /// Sets the clients.
    pub fn set_workload(&mut self, w: Box<dyn Workload<P>>) {
        self.workload = w;
    }

    /// Schedules a fault at a true time.
    pub fn schedule_fault(&mut self, at: Time, fault: Fault) {
        self.core.push(at, Ev::Fault(Box::new(fault)));
    }

    /// The current true time.
    pub fn now(&self) -> Time {
        self.core.now
    }

    /// A read-only view of the cluster.
    pub fn view(&self) -> View<'_, P> {
        View::engine(&self.core, &self.slots, &self.cfg)
    }

    /// Runs until an end condition; see the module docs. Can be called once.
    pub fn run(&mut self) -> RunReport {
        assert!(!self.started, "a simulation runs once");
        if let Some(why) = self.setup_error.clone() {
            self.started = true;
            return self.report(Verdict::MemoryLimit(why));
        }
        let verdict = match catch_unwind(AssertUnwindSafe(|| self.run_loop())) {
            Ok(v) => v,
            Err(payload) => match payload.downcast::<crate::memory::Exhausted>() {
                Ok(exhausted) => Verdict::MemoryLimit(exhausted.0),
                Err(payload) => Verdict::Panicked(panic_message(&*payload)),
            },
        };
        let verdict = if verdict == Verdict::Completed {
            self.finish()
        } else {
            verdict
        };
        self.report(verdict)
    }

    /// The run's report, with every monitor's and the workload's measurements.
    fn report(&mut self, verdict: Verdict) -> RunReport {
        self.core.flush_counters();
        self.count_storage();
        for m in &self.monitors {
            m.report(&mut self.core.metrics);
        }
        self.workload.report(&mut self.core.metrics);
        // What the monitors and the workload counted in their reports, folded in too.
        self.core.metrics.settle();
        RunReport {
            seed: self.seed,
            verdict,
            events: self.core.events,
            end_time: self.core.now,
            trace_hash: self.core.trace.hash(),
            metrics: self.core.metrics.clone(),
            trace: std::mem::take(&mut self.core.trace.records),
            applied_faults: std::mem::take(&mut self.applied),
            exports: if self.record_exports {
                self.workload.exports()
            } else {
                Vec::new()
            },
        }
    }

    /// Folds the disks' counters into the metrics (only when some node has a disk).
    fn count_storage(&mut self) {
        let disks = self.slots.iter().filter_map(|s| s.disk.as_deref());
        let (mut syncs, mut failed, mut bytes, mut any) = (0, 0, 0, false);
        for d in disks {
            any = true;
            syncs += d.syncs;
            failed += d.failed;
            bytes += d.bytes;
        }
        if any {
            let c = &mut self.core.metrics.counters;
            c.insert("storage.syncs", syncs);
            c.insert("storage.sync_failures", failed);
            c.insert("storage.bytes_written", bytes);
        }
    }

    /// End-of-run checks of monitors and the workload.
    fn finish(&mut self) -> Verdict {
        let view = View::engine(&self.core, &self.slots, &self.cfg);
        // Every check answers; a violation anywhere wins over an undecided check.
        let checks = catch_unwind(AssertUnwindSafe(|| {
            let mut answers: Vec<Check> =
                self.monitors.iter_mut().map(|m| m.finish(&view)).collect();
            answers.push(self.workload.finish(&view));
            let violated = answers.iter().position(|c| matches!(c, Check::Violated(_)));
            let unknown = answers.iter().position(|c| matches!(c, Check::Unknown(_)));
            violated.or(unknown).map(|i| answers.swap_remove(i))
        }));
        let stamp = |mut v: Violation| {
            v.time = self.core.now;
            v.event = self.core.events;
            v
        };
        match checks {
            Ok(Some(Check::Violated(v))) => Verdict::Violated(stamp(v)),
            Ok(Some(Check::Unknown(v))) => Verdict::Unknown(stamp(v)),
            Ok(_) => Verdict::Completed,
            Err(payload) => Verdict::Panicked(panic_message(&*payload)),
        }
    }

    fn run_loop(&mut self) -> Verdict {
        self.started = true;
        self.start_nodes();
        if let Some(p) = self.tick {
            self.core.push(Time::ZERO + p, Ev::Tick);
        }
        let end = self.limits.duration.map(|d| Time::ZERO + d);
        let guard = self.limits.max_virtual_time.map(|d| Time::ZERO + d);
        let max_events = self.limits.max_events.unwrap_or(u64::MAX);
        #[allow(clippy::disallowed_methods)]
        // The wall guard only stops a run; it never steers one.
        let wall_start = self.limits.max_wall.map(|w| (std::time::Instant::now(), w));
        self.core.wall_deadline = wall_start.map(|(start, max)| start + max);
        loop {
            let front = self.core.ready.front().map(|e| e.time);
            let Some(next) = front.or_else(|| self.core.queue.peek_time()) else {
                return Verdict::Completed;
            };
            if let Some(end) = end.filter(|&e| next > e) {
                self.core.now = end;
                return Verdict::Completed;
            }
            if let Some(g) = guard.filter(|&g| next > g) {
                self.core.now = g;
                return Verdict::TimeLimit;
            }
            if self.core.events >= max_events {
                return Verdict::EventLimit;
            }
            if self.core.events & 0x3fff == 0 {
                if let Some((start, max)) = wall_start
                    && start.elapsed() > max
                {
                    return Verdict::WallLimit;
                }
                // Reading the process's memory costs a few system calls, and progress is for
                // people: both every 65,536 events.
                if self.core.events.is_multiple_of(EVERY_64K) {
                    if let Some(why) = crate::memory::over(self.limits.max_memory) {
                        return Verdict::MemoryLimit(why);
                    }
                    if let Some(report) = self.progress.as_mut() {
                        report(self.core.now, self.core.events);
                    }
                }
            }
            let entry = match self.core.ready.pop_front() {
                Some(e) => e,
                None => self.core.pop().expect("peeked an entry"),
            };
            self.prefetch_ahead();
            self.core.now = entry.time;
            let Some(info) = self.dispatch(entry) else {
                continue;
            };
            if let Some(v) = self.check(&info) {
                return v;
            }
        }
    }

    /// Hints the data of the node of the event a few steps ahead in the queue (its metadata,
    /// its state, what monitors keep for it) into the cache, so that those misses overlap with
    /// the events before it (see `crate::prefetch`). A hint: it changes nothing else. Only
    /// large queues look ahead; small runs stay in cache anyway.
    #[inline]
    fn prefetch_ahead(&self) {
        let node = self.core.queue.ahead_node();
        if node == queue::NO_NODE {
            return;
        }
        let i = node as usize;
        if let (Some(meta), Some(slot)) = (self.core.meta.get(i), self.slots.get(i)) {
            crate::prefetch::prefetch(meta);
            crate::prefetch::prefetch(slot);
            for m in &self.monitors {
                m.prefetch(NodeId(node));
            }
        }
    }

    /// Runs the monitors after an event; `Some` ends the run.
    fn check(&mut self, info: &EventInfo) -> Option<Verdict> {
        if self.monitors.is_empty() {
            return None;
        }
        let view = View::engine(&self.core, &self.slots, &self.cfg);
        let mut done = false;
        for m in &mut self.monitors {
            let c = if info.kind == EventKind::Tick {
                m.on_tick(&view)
            } else {
                m.on_event(&view, info)
            };
            match c {
                Check::Ok => {}
                Check::Done => done = true,
                Check::Violated(mut v) | Check::Unknown(mut v) => {
                    // Monitors decide as the run goes; only end-of-run checks are undecided.
                    v.time = info.time;
                    v.event = info.number;
                    return Some(Verdict::Violated(v));
                }
            }
        }
        done.then_some(Verdict::Completed)
    }

    fn start_nodes(&mut self) {
        for i in 0..self.slots.len() {
            self.boot(NodeId(i as u32), false);
        }
        let mut ctx = WorkloadCtx {
            core: &mut self.core,
            rng: &mut self.workload_rng,
        };
        self.workload.start(&mut ctx);
    }

    /// Starts (or, with `recover`, restarts) a node and records a `Start` event.
    fn boot(&mut self, id: NodeId, recover: bool) {
        self.core.meta[id.index()].status = NodeStatus::Up;
        let info = self.next_event(EventKind::Start, Some(id), None);
        self.core.trace.event(&info, |r| {
            if recover {
                r.kind = RecordKind::Restart;
            }
        });
        self.call(id, |state, ctx| {
            *state = Some(if recover {
                P::recover(ctx)
            } else {
                P::start(ctx)
            });
        });
    }

    /// Counts an event and returns its description.
    fn next_event(
        &mut self,
        kind: EventKind,
        node: Option<NodeId>,
        peer: Option<NodeId>,
    ) -> EventInfo {
        self.core.events += 1;
        EventInfo {
            number: self.core.events,
            time: self.core.now,
            kind,
            node,
            peer,
        }
    }

    /// Holds an event for a paused node until it resumes.
    fn defer(&mut self, node: NodeId, entry: core::Entry<P>) {
        self.core.deferred.entry(node.0).or_default().push(entry);
    }

    /// Processes one event; `None` if it was silently discarded (a cancelled or stale timer,
    /// or an event held for a paused node).
    ///
    /// Always inlined: the run loop is its hot caller, and [`Self::wake`] (which hands it an
    /// event whose handling by the processing model completed) keeps its own copy. Left to
    /// itself the compiler does not inline a `dispatch` that calls itself back through `wake`,
    /// which cost 3% of the engine benchmark's instructions (measured with callgrind: +1.3%
    /// as it is, against the engine without the processing model).
    #[inline(always)]
    fn dispatch(&mut self, entry: core::Entry<P>) -> Option<EventInfo> {
        match entry.ev {
            Ev::Deliver {
                to,
                from,
                cut_gen,
                ref msg,
            } => {
                let meta = &self.core.meta[to.index()];
                let reason = if meta.status == NodeStatus::Crashed || entry.seq < meta.crash_seq {
                    self.core.counters.dropped_down += 1;
                    Some("node crashed")
                } else if cut_gen != self.core.net.partitions.generation()
                    && self.core.net.partitions.cut_since(cut_gen, from, to)
                {
                    self.core.counters.dropped_in_flight += 1;
                    Some("partition in flight")
                } else {
                    None
                };
                if let Some(reason) = reason {
                    let info = self.next_event(EventKind::Drop, Some(to), Some(from));
                    self.core.trace.event_with(&info, Some(msg), |r| {
                        r.msg = Some(entry.seq);
                        r.reason = Some(reason.to_string());
                    });
                    return Some(info);
                }
                if meta.status == NodeStatus::Paused {
                    self.defer(to, entry);
                    return None;
                }
                if self.core.must_wait(to) {
                    self.core.hold(to, entry);
                    return None;
                }
                let Ev::Deliver { msg, .. } = entry.ev else {
                    unreachable!()
                };
                self.core.counters.delivered += 1;
                let info = self.next_event(EventKind::Deliver, Some(to), Some(from));
                self.core
                    .trace
                    .event_with(&info, Some(&msg), |r| r.msg = Some(entry.seq));
                self.with_node(to, |node, ctx| node.on_message(ctx, from, msg));
                Some(info)
            }
            Ev::Timer { node, id, .. } => {
                if !self.core.live_timers.contains(id)
                    || entry.seq < self.core.meta[node.index()].crash_seq
                {
                    self.core.live_timers.remove(id);
                    return None;
                }
                if self.core.meta[node.index()].status == NodeStatus::Paused {
                    self.defer(node, entry);
                    return None;
                }
                if self.core.must_wait_timer(node) {
                    self.core.hold(node, entry);
                    return None;
                }
                self.core.live_timers.remove(id);
                let Ev::Timer { timer, .. } = entry.ev else {
                    unreachable!()
                };
                let info = self.next_event(EventKind::Timer, Some(node), None);
                self.core
                    .trace
                    .event_with(&info, Some(&timer), |r| r.timer = Some(id));
                self.with_node(node, |n, ctx| n.on_timer(ctx, timer));
                Some(info)
            }
            Ev::Request {
                node,
                client,
                ref req,
            } => {
                let meta = &self.core.meta[node.index()];
                if meta.status == NodeStatus::Crashed || entry.seq < meta.crash_seq {
                    let info = self.next_event(EventKind::Drop, Some(node), None);
                    self.core
                        .trace
                        .event_with(&info, Some(&(client, req)), |r| {
                            r.client = Some(client);
                            r.reason = Some("node crashed".into());
                            r.payload = serde_json::to_value(req).ok();
                        });
                    return Some(info);
                }
                if meta.status == NodeStatus::Paused {
                    self.defer(node, entry);
                    return None;
                }
                if self.core.must_wait(node) {
                    self.core.hold(node, entry);
                    return None;
                }
                let Ev::Request { req, .. } = entry.ev else {
                    unreachable!()
                };
                let info = self.next_event(EventKind::Request, Some(node), None);
                self.core
                    .trace
                    .event_with(&info, Some(&(client, &req)), |r| {
                        r.client = Some(client);
                        r.payload = serde_json::to_value(&req).ok();
                    });
                self.with_node(node, |n, ctx| n.on_client_request(ctx, client, req));
                Some(info)
            }
            Ev::Reply {
                node,
                client,
                reply,
            } => {
                let info = self.next_event(EventKind::Reply, Some(node), None);
                self.core
                    .trace
                    .event_with(&info, Some(&(client, &reply)), |r| {
                        r.client = Some(client);
                        r.payload = serde_json::to_value(&reply).ok();
                    });
                let mut ctx = WorkloadCtx {
                    core: &mut self.core,
                    rng: &mut self.workload_rng,
                };
                self.workload.on_reply(&mut ctx, node, client, reply);
                Some(info)
            }
            Ev::WorkloadTimer { token } => {
                let info = self.next_event(EventKind::Workload, None, None);
                let what = self
                    .core
                    .trace
                    .recording()
                    .then(|| self.workload.describe_timer(token))
                    .flatten();
                self.core.trace.event_with(&info, Some(&token), |r| {
                    let mut p = serde_json::json!({ "token": token });
                    if let Some(what) = what {
                        p["timer"] = what;
                    }
                    r.payload = Some(p);
                });
                let mut ctx = WorkloadCtx {
                    core: &mut self.core,
                    rng: &mut self.workload_rng,
                };
                self.workload.on_timer(&mut ctx, token);
                Some(info)
            }
            Ev::Synced { node, id } => {
                let meta = &self.core.meta[node.index()];
                if meta.status == NodeStatus::Crashed || entry.seq < meta.crash_seq {
                    return None;
                }
                if meta.status == NodeStatus::Paused {
                    self.defer(node, entry);
                    return None;
                }
                if self.core.must_wait_timer(node) {
                    self.core.hold(node, entry);
                    return None;
                }
                let disk = self.slots[node.index()].disk.as_deref_mut();
                let ok = disk.expect("a node with a sync has a disk").complete(id);
                let info = self.next_event(EventKind::Synced, Some(node), None);
                self.core.trace.event_with(&info, Some(&(id.0, ok)), |r| {
                    r.payload = Some(serde_json::json!({ "sync": id.0, "ok": ok }));
                });
                self.with_node(node, |n, ctx| n.on_synced(ctx, id, ok));
                Some(info)
            }
            Ev::Fault(fault) => Some(self.apply_fault(*fault)),
            Ev::Wake { node } => self.wake(node, entry.seq),
            Ev::Tick => {
                let info = self.next_event(EventKind::Tick, None, None);
                self.core.trace.event(&info, |_| {});
                if let Some(p) = self.tick {
                    let at = self.core.now + p;
                    self.core.push(at, Ev::Tick);
                }
                Some(info)
            }
        }
    }

    /// The processing model's wake: the event a node was handling completes and is handled
    /// now, then the next one waiting at the node starts. `None` for a wake the node no longer
    /// expects (it crashed or paused since).
    #[inline(never)]
    fn wake(&mut self, node: NodeId, seq: u64) -> Option<EventInfo> {
        let done = self.core.complete(node, seq)?;
        let info = self.dispatch(done);
        self.core.start_next(node);
        info
    }

    /// Calls into a running node with a fresh context.
    fn with_node(&mut self, id: NodeId, f: impl FnOnce(&mut P, &mut Context<'_, P>)) {
        self.call(id, |state, ctx| {
            f(state.as_mut().expect("a running node has state"), ctx)
        });
    }

    /// Calls into node `id` (its slot's state, which may be empty before a start) with a
    /// fresh context, then carries out what it asked for.
    fn call(&mut self, id: NodeId, f: impl FnOnce(&mut Option<P>, &mut Context<'_, P>)) {
        let slot = &mut self.slots[id.index()];
        let mut ctx = Context {
            me: id,
            cfg: &self.cfg,
            durable: &mut slot.durable,
            disk: &mut slot.disk,
            rng: &mut slot.rng,
            sink: Sink::Engine(&mut self.core),
        };
        f(&mut slot.state, &mut ctx);
        if self.core.trace.recording()
            && let Some(state) = &slot.state
        {
            let mut published = Annotations::default();
            state.annotate(&slot.durable, &mut published);
            self.core.trace.publish(self.core.now, id, &published);
        }
    }
}

/// The text of a panic payload.
fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "panic with a non-string payload".to_string()
    }
}
