//! The engine's core: the event queue, node metadata, and the actions a node or workload
//! takes through its context (send, timers, replies, requests).
//!
//! The queue (`queue.rs`) is ordered by `(time, sequence number)`; the sequence number is
//! assigned when an event is scheduled and strictly increases, so ties at the same instant are
//! broken by scheduling order, never by queue internals. Events are stored inline in the
//! queue's slab (a message is moved in, not boxed), and slab slots are reused: the engine
//! itself allocates nothing per delivered message beyond the queue's amortised growth.

use super::queue::{EventQueue, NO_NODE};
use super::timers::LiveTimers;
use crate::clock::Clock;
use crate::metrics::Metrics;
use crate::network::{Fate, Network};
use crate::protocol::{Action, ClientId, Protocol, TimerId};
use crate::rng::StreamRng;
use crate::storage::{Disk, StorageConfig, SyncId, Synced};
use crate::trace::{RecordKind, Trace};
use crate::{NodeId, Time};
use rustc_hash::FxHashMap;
use std::collections::VecDeque;
use std::time::Duration;

/// Whether a node is running.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NodeStatus {
    /// Running.
    Up,
    /// Crashed: no volatile state until restarted.
    Crashed,
    /// Frozen: state kept, nothing runs, events queue until resumed.
    Paused,
}

/// Per-node bookkeeping the engine needs on every event.
#[derive(Clone, Debug)]
pub(crate) struct NodeMeta {
    pub status: NodeStatus,
    /// The engine's next sequence number when the node last crashed (0 if never): an event
    /// for this node scheduled before then (a smaller sequence number) belongs to an earlier
    /// incarnation and is dropped. The same test as stamping every event with an incarnation
    /// counter, without reading the receiver's metadata when a message is sent (at 10^6
    /// nodes that read is a cache miss per send).
    pub crash_seq: u64,
    pub clock: Clock,
}

/// One scheduled event.
pub(crate) enum Ev<P: Protocol> {
    Deliver {
        to: NodeId,
        from: NodeId,
        cut_gen: u32,
        msg: P::Message,
    },
    Timer {
        node: NodeId,
        /// The id the node was given (`TimerId`), for cancellation.
        id: u64,
        timer: P::Timer,
    },
    Request {
        node: NodeId,
        client: ClientId,
        req: P::Request,
    },
    Reply {
        node: NodeId,
        client: ClientId,
        reply: P::Reply,
    },
    WorkloadTimer {
        token: u64,
    },
    /// A sync a node asked for completes.
    Synced {
        node: NodeId,
        id: SyncId,
    },
    Fault(Box<crate::fault::Fault>),
    Tick,
    /// The event a node is handling completes (the processing model, `processing.rs`).
    Wake {
        node: NodeId,
    },
}

/// An event taken out of the queue (or held for a paused node): its key and payload.
pub(crate) struct Entry<P: Protocol> {
    pub time: Time,
    /// Its sequence number: when it was scheduled (compared with a node's `crash_seq`).
    pub seq: u64,
    pub ev: Ev<P>,
}

/// Network counters kept as plain fields on the hot path, folded into metrics at the end.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct NetCounters {
    pub sent: u64,
    pub lost: u64,
    pub cut: u64,
    pub duplicated: u64,
    pub delivered: u64,
    pub dropped_in_flight: u64,
    pub dropped_down: u64,
}

/// Everything but the nodes' own state: what a context borrows mutably.
pub struct Core<P: Protocol> {
    pub(crate) now: Time,
    pub(crate) queue: EventQueue<Ev<P>>,
    pub(crate) seq: u64,
    pub(crate) meta: Vec<NodeMeta>,
    pub(crate) net: Network,
    /// Ids of timers that are pending and not cancelled.
    pub(crate) live_timers: LiveTimers,
    /// The next timer id to hand out (ids are dense and increasing, like sequence numbers).
    pub(crate) next_timer: u64,
    /// Events that reached a paused node, in arrival order, per node.
    pub(crate) deferred: FxHashMap<u32, Vec<Entry<P>>>,
    /// Held events released by a resume: they run before anything in the queue, in the order
    /// they arrived (the queue would order them by scheduling order, not arrival order).
    pub(crate) ready: VecDeque<Entry<P>>,
    pub(crate) metrics: Metrics,
    pub(crate) counters: NetCounters,
    /// Sync latencies, and the stream that draws them and storage faults' choices.
    pub(crate) storage: StorageConfig,
    pub(crate) storage_rng: StreamRng,
    pub(crate) trace: Trace,
    /// Processed events so far (the event number of the current one).
    pub(crate) events: u64,
    /// When the wall-time guard expires (set when the run starts).
    pub(crate) wall_deadline: Option<std::time::Instant>,
    /// The processing model (slow nodes), when the run has one: `None` keeps every event
    /// instant and costs one branch per node event.
    pub(crate) processing: Option<Box<super::processing::Processing<P>>>,
}

impl<P: Protocol> Core<P> {
    pub(crate) fn push(&mut self, time: Time, ev: Ev<P>) {
        let seq = self.seq;
        self.seq += 1;
        let node = match &ev {
            Ev::Deliver { to: node, .. }
            | Ev::Timer { node, .. }
            | Ev::Request { node, .. }
            | Ev::Synced { node, .. }
            | Ev::Wake { node } => node.0,
            _ => NO_NODE,
        };
        self.queue.push(time, seq, node, ev);
    }

    /// Removes the earliest queued event.
    #[inline]
    pub(crate) fn pop(&mut self) -> Option<Entry<P>> {
        let (time, seq, ev) = self.queue.pop()?;
        Some(Entry { time, seq, ev })
    }

    pub(crate) fn send(&mut self, from: NodeId, to: NodeId, msg: P::Message) {
        assert!(
            to.index() < self.meta.len(),
            "{from} sent to {to}, which does not exist"
        );
        self.counters.sent += 1;
        let fate = self.net.send(self.now, from, to);
        match fate {
            Fate::Lost | Fate::Cut => {
                // A lost message still takes a sequence number, as its id: sequence numbers
                // only order the queue, so skipping one changes nothing else.
                let id = self.seq;
                self.seq += 1;
                let reason = if fate == Fate::Lost {
                    self.counters.lost += 1;
                    "loss"
                } else {
                    self.counters.cut += 1;
                    "partition"
                };
                self.trace_send(from, to, id, None, &msg);
                self.trace_drop(from, to, id, reason, &msg);
            }
            Fate::Deliver(at, dup) => {
                let cut_gen = self.net.partitions.generation();
                // Message ids are the sequence numbers of their deliveries: the copy is
                // scheduled first, so the original's id is the one after it.
                let copy = dup.map(|_| self.seq);
                let id = self.seq + u64::from(dup.is_some());
                self.trace_send(from, to, id, Some(at), &msg);
                if let (Some(copy), Some(at2)) = (copy, dup) {
                    self.trace.effect(self.now, RecordKind::Duplicate, |r| {
                        r.node = Some(from.0);
                        r.peer = Some(to.0);
                        r.msg = Some(copy);
                        r.copy_of = Some(id);
                        r.at_ns = Some(at2.0);
                    });
                }
                if let Some(at2) = dup {
                    self.counters.duplicated += 1;
                    self.push(
                        at2,
                        Ev::Deliver {
                            to,
                            from,
                            cut_gen,
                            msg: msg.clone(),
                        },
                    );
                }
                self.push(
                    at,
                    Ev::Deliver {
                        to,
                        from,
                        cut_gen,
                        msg,
                    },
                );
            }
        }
    }

    /// Records a send (recording only).
    fn trace_send(
        &mut self,
        from: NodeId,
        to: NodeId,
        id: u64,
        at: Option<Time>,
        msg: &P::Message,
    ) {
        self.trace.effect(self.now, RecordKind::Send, |r| {
            r.node = Some(from.0);
            r.peer = Some(to.0);
            r.msg = Some(id);
            r.at_ns = at.map(|t| t.0);
            r.payload = serde_json::to_value(msg).ok();
        });
    }

    /// Records a message dropped at send time: not an event of its own, but folded into the
    /// hash under the current event's number, as it always has been.
    fn trace_drop(&mut self, from: NodeId, to: NodeId, id: u64, reason: &str, msg: &P::Message) {
        let info = crate::monitor::EventInfo {
            number: self.events,
            time: self.now,
            kind: crate::monitor::EventKind::Drop,
            node: Some(to),
            peer: Some(from),
        };
        self.trace.fold(&info, Some(msg));
        self.trace.effect(self.now, RecordKind::Drop, |r| {
            r.node = Some(to.0);
            r.peer = Some(from.0);
            r.msg = Some(id);
            r.reason = Some(reason.to_string());
        });
    }

    fn set_timer(&mut self, node: NodeId, id: TimerId, after: Duration, timer: P::Timer) {
        let meta = &self.meta[node.index()];
        let span = meta.clock.true_span(crate::time::nanos(after));
        let at = Time(self.now.0.saturating_add(span));
        self.trace.effect(self.now, RecordKind::TimerSet, |r| {
            r.node = Some(node.0);
            r.timer = Some(id.0);
            r.at_ns = Some(at.0);
            r.payload = serde_json::to_value(&timer).ok();
        });
        self.push(
            at,
            Ev::Timer {
                node,
                id: id.0,
                timer,
            },
        );
        self.live_timers.insert(id.0);
    }

    /// Carries out one thing node `me` asked for.
    #[inline]
    pub(crate) fn carry_out(&mut self, me: NodeId, action: Action<P>) {
        match action {
            Action::Send { to, msg } => self.send(me, to, msg),
            Action::SetTimer { id, after, timer } => self.set_timer(me, id, after, timer),
            Action::CancelTimer(id) => {
                self.live_timers.remove(id.0);
                self.trace.effect(self.now, RecordKind::TimerCancel, |r| {
                    r.node = Some(me.0);
                    r.timer = Some(id.0);
                });
            }
            Action::Reply { client, reply } => self.reply(me, client, reply),
        }
    }

    /// A node asks its disk for a sync. With no sync latency, no slow-disk fault in force and
    /// no sync still queued, it completes at once; otherwise it completes after the node's
    /// earlier syncs and a drawn latency, as an event.
    pub(crate) fn sync(&mut self, node: NodeId, disk: &mut Disk) -> Synced {
        let base = self.storage.latency(node.0).copied();
        let slow = disk
            .slow
            .filter(|&(until, _)| self.now < until)
            .map(|(_, extra)| extra);
        let writes = disk.dirty_writes();
        if base.is_none() && slow.is_none() && !disk.has_pending() {
            let ok = disk.sync_now();
            self.trace.effect(self.now, RecordKind::Sync, |r| {
                r.node = Some(node.0);
                r.payload = Some(serde_json::json!({ "writes": writes, "ok": ok }));
            });
            return if ok { Synced::Done } else { Synced::Failed };
        }
        let mut latency = base.map_or(0, |l| l.sample(&mut self.storage_rng));
        if let Some(extra) = slow {
            latency = latency.saturating_add(extra.sample(&mut self.storage_rng));
        }
        let id = disk.issue();
        let at = Time(self.now.max(disk.busy_until).0.saturating_add(latency));
        disk.busy_until = at;
        self.trace.effect(self.now, RecordKind::Sync, |r| {
            r.node = Some(node.0);
            r.at_ns = Some(at.0);
            r.payload = Some(serde_json::json!({ "writes": writes, "sync": id.0 }));
        });
        self.push(at, Ev::Synced { node, id });
        Synced::Pending(id)
    }

    fn reply(&mut self, node: NodeId, client: ClientId, reply: P::Reply) {
        let at = Time(self.now.0.saturating_add(self.net.client_delay()));
        self.push(
            at,
            Ev::Reply {
                node,
                client,
                reply,
            },
        );
    }

    pub(crate) fn submit(&mut self, node: NodeId, client: ClientId, req: P::Request) {
        assert!(
            node.index() < self.meta.len(),
            "request to {node}, which does not exist"
        );
        let at = Time(self.now.0.saturating_add(self.net.client_delay()));
        self.trace.effect(self.now, RecordKind::Invoke, |r| {
            r.node = Some(node.0);
            r.client = Some(client);
            r.at_ns = Some(at.0);
            r.payload = serde_json::to_value(&req).ok();
        });
        self.push(at, Ev::Request { node, client, req });
    }

    pub(crate) fn set_workload_timer(&mut self, after: Duration, token: u64) {
        let at = self.now + after;
        self.push(at, Ev::WorkloadTimer { token });
    }

    /// Folds the hot-path counters into the metrics.
    pub(crate) fn flush_counters(&mut self) {
        self.metrics.settle();
        let c = self.counters;
        for (name, v) in [
            ("net.sent", c.sent),
            ("net.lost", c.lost),
            ("net.cut", c.cut),
            ("net.duplicated", c.duplicated),
            ("net.delivered", c.delivered),
            ("net.dropped_in_flight", c.dropped_in_flight),
            ("net.dropped_node_down", c.dropped_down),
        ] {
            self.metrics.counters.insert(name, v);
        }
        if let Some(p) = self.processing.as_deref() {
            p.flush(&mut self.metrics);
        }
    }
}
