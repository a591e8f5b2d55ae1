//! The sans-IO protocol contract: what a node is, and the [`Context`] it acts through.
//!
//! A protocol node is a plain state machine. The engine calls it when it starts (or restarts
//! from durable state), when a message arrives, when one of its timers fires, and when a client
//! request reaches it. The node acts only through the context: its own local clock (`now`),
//! `send`, `set_timer` / `cancel_timer`, its random stream, its durable storage, `reply` to a
//! client, and metrics. No threads, no async, no I/O, no globals, no wall clock: a node given
//! the same inputs in the same order does the same thing (stateright's actor model and
//! quinn-proto's "time is passed in, never read" are the models).

use crate::clock::Clock;
use crate::engine::Core;
use crate::metrics::Metrics;
use crate::rng::NodeRng;
use crate::storage::{Disk, SyncId, Synced};
use crate::{NodeId, Time};
use serde::Serialize;
use std::fmt::Debug;
use std::time::Duration;

/// Identifies a client of the system under test (a workload process).
pub type ClientId = u64;

/// A handle to a pending timer, for `cancel_timer`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TimerId(pub u64);

/// A distributed protocol, as one node's state machine.
///
/// Durable state (`Durable`) survives crashes; the node itself (`Self`) is volatile and is
/// rebuilt by [`Protocol::recover`] on restart.
pub trait Protocol: Sized + 'static {
    /// Immutable configuration shared by every node (from the scenario).
    type Config;
    /// Messages between nodes. `Serialize` because every delivered message's content is
    /// folded into the trace hash (and recorded in traces): derive it.
    type Message: Clone + Debug + Serialize;
    /// Timer payloads: what the node wants to be reminded of.
    type Timer: Clone + Debug + Serialize;
    /// Requests from clients.
    type Request: Clone + Debug + Serialize;
    /// Replies to clients.
    type Reply: Clone + Debug + Serialize;
    /// What survives a crash, as one value: writes through `Context::durable_mut` are
    /// durable at once and never fail. For a disk that takes time to sync, loses unsynced
    /// writes and can tear, corrupt or fail, use `Context::disk` and `Context::sync` instead
    /// (docs/storage.md); a protocol that does can set this to `()`.
    type Durable: Clone + Debug + Default;

    /// Builds a node on its first start; its durable storage is `Default`.
    fn start(ctx: &mut Context<'_, Self>) -> Self;

    /// Rebuilds a node after a crash from what `ctx.durable()` holds. By default the same as a
    /// first start, which is right for a protocol that reads its durable state in `start`.
    fn recover(ctx: &mut Context<'_, Self>) -> Self {
        Self::start(ctx)
    }

    /// A message from `from` arrived.
    fn on_message(&mut self, ctx: &mut Context<'_, Self>, from: NodeId, msg: Self::Message);

    /// A timer set by this node fired (by its local clock).
    fn on_timer(&mut self, ctx: &mut Context<'_, Self>, timer: Self::Timer);

    /// A client request arrived. Reply with `ctx.reply`, now or later (or never: the client
    /// times out).
    fn on_client_request(
        &mut self,
        ctx: &mut Context<'_, Self>,
        client: ClientId,
        request: Self::Request,
    );

    /// A sync this node asked for with `Context::sync` (which answered
    /// [`Synced::Pending`]) completed: `ok` says whether its writes are durable. A failed sync
    /// dropped every write not yet durable (see [`crate::storage`]). Syncs complete in the
    /// order they were asked for. The default ignores it.
    fn on_synced(&mut self, ctx: &mut Context<'_, Self>, id: SyncId, ok: bool) {
        let _ = (ctx, id, ok);
    }

    /// `Some(term)` if this node believes it leads (Raft leader, failover primary), with the
    /// term or epoch it leads in. Faults aimed at `Leader` pick the live node with the highest
    /// term. The default is a leaderless protocol.
    fn leader_term(&self) -> Option<u64> {
        None
    }

    /// Publishes what a trace should show of this node's state (its volatile state and its
    /// durable storage) — Raft's `role`, `term` and `commit`, a primary's `epoch` — as named
    /// values (`out.set("term", 3)`). Called after
    /// every call into the node, only while a trace is recorded; each value that changed
    /// becomes an `annotate` record, and viewers draw them as counter tracks. By convention
    /// `role` = `"leader"` (or `"primary"`) marks a node that believes it leads, which the
    /// leader-over-time chart plots. The default publishes nothing.
    fn annotate(&self, durable: &Self::Durable, out: &mut crate::trace::Annotations) {
        let _ = (durable, out);
    }
}

/// What a node asked for during one call into it, in the order it asked. The engine carries
/// these out when the call returns (sends go to the network, timers to the queue, replies to
/// the clients); the one-node [`crate::harness::Harness`] hands them to a test instead. This
/// is what lets the same node code run alone, in the engine, or on another runtime.
pub enum Action<P: Protocol> {
    /// Send a message to a node.
    Send { to: NodeId, msg: P::Message },
    /// Set a timer that fires after `after` on the node's local clock.
    SetTimer {
        id: TimerId,
        after: Duration,
        timer: P::Timer,
    },
    /// Cancel a pending timer.
    CancelTimer(TimerId),
    /// Reply to a client.
    Reply { client: ClientId, reply: P::Reply },
}

impl<P: Protocol> Clone for Action<P> {
    fn clone(&self) -> Self {
        match self {
            Action::Send { to, msg } => Action::Send {
                to: *to,
                msg: msg.clone(),
            },
            Action::SetTimer { id, after, timer } => Action::SetTimer {
                id: *id,
                after: *after,
                timer: timer.clone(),
            },
            Action::CancelTimer(id) => Action::CancelTimer(*id),
            Action::Reply { client, reply } => Action::Reply {
                client: *client,
                reply: reply.clone(),
            },
        }
    }
}

impl<P: Protocol> Debug for Action<P> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Action::Send { to, msg } => write!(f, "send {to} {msg:?}"),
            Action::SetTimer { id, after, timer } => {
                write!(f, "set timer {} after {after:?}: {timer:?}", id.0)
            }
            Action::CancelTimer(id) => write!(f, "cancel timer {}", id.0),
            Action::Reply { client, reply } => write!(f, "reply to client {client}: {reply:?}"),
        }
    }
}

/// Where a node's actions go: carried out by the engine the moment the node asks (a run),
/// or collected as [`Action`]s (the one-node harness, other runtimes). Both see the same
/// actions in the same order; the engine's sink skips the buffer only because every event of
/// a run pays for it (measured: collecting and draining cost 12% of engine throughput).
pub(crate) enum Sink<'a, P: Protocol> {
    /// The engine's core: sends go to the network, timers to the queue, at once.
    Engine(&'a mut Core<P>),
    /// Collected for the caller.
    Collect(Collector<'a, P>),
}

/// What a collecting sink holds: the actions, and what the engine's core would otherwise
/// provide (metrics, the timer counter, the node's clock and the cluster size).
pub(crate) struct Collector<'a, P: Protocol> {
    pub actions: &'a mut Vec<Action<P>>,
    pub metrics: &'a mut Metrics,
    pub next_timer: &'a mut u64,
    pub clock: Clock,
    pub now: Time,
    pub nodes: usize,
}

/// Everything a node can do, handed to each call into the protocol.
///
/// What the node does are [`Action`]s: in a run the engine carries each out as the node asks
/// (in that order), and the one-node [`crate::harness::Harness`] collects them as data
/// instead. Reads (`now`, `id`, `config`, `durable`) see the world as it was when the call
/// started.
pub struct Context<'a, P: Protocol> {
    pub(crate) me: NodeId,
    pub(crate) cfg: &'a P::Config,
    pub(crate) durable: &'a mut P::Durable,
    pub(crate) disk: &'a mut Option<Box<Disk>>,
    pub(crate) rng: &'a mut NodeRng,
    pub(crate) sink: Sink<'a, P>,
}

impl<P: Protocol> Context<'_, P> {
    /// This node's id.
    pub fn id(&self) -> NodeId {
        self.me
    }

    /// The number of nodes in the cluster (ids are `0..node_count`).
    pub fn node_count(&self) -> usize {
        match &self.sink {
            Sink::Engine(core) => core.meta.len(),
            Sink::Collect(c) => c.nodes,
        }
    }

    /// Every node id but this one, in order.
    pub fn peers(&self) -> impl Iterator<Item = NodeId> + 'static {
        let me = self.me;
        (0..self.node_count() as u32)
            .map(NodeId)
            .filter(move |&p| p != me)
    }

    /// The protocol configuration.
    pub fn config(&self) -> &P::Config {
        self.cfg
    }

    /// This node's local clock reading (offset and drift applied).
    #[inline]
    pub fn now(&self) -> Time {
        match &self.sink {
            Sink::Engine(core) => core.meta[self.me.index()].clock.local(core.now),
            Sink::Collect(c) => c.clock.local(c.now),
        }
    }

    /// What the node asks for.
    #[inline]
    fn act(&mut self, action: Action<P>) {
        match &mut self.sink {
            Sink::Engine(core) => core.carry_out(self.me, action),
            Sink::Collect(c) => c.actions.push(action),
        }
    }

    /// Sends a message; the network decides its fate.
    #[inline]
    pub fn send(&mut self, to: NodeId, msg: P::Message) {
        self.act(Action::Send { to, msg });
    }

    /// Sends a copy of the message to every other node.
    pub fn broadcast(&mut self, msg: &P::Message) {
        for p in 0..self.node_count() as u32 {
            if p != self.me.0 {
                self.act(Action::Send {
                    to: NodeId(p),
                    msg: msg.clone(),
                });
            }
        }
    }

    /// Sets a timer that fires after `after` has elapsed on this node's local clock.
    #[inline]
    pub fn set_timer(&mut self, after: Duration, timer: P::Timer) -> TimerId {
        let next = match &mut self.sink {
            Sink::Engine(core) => &mut core.next_timer,
            Sink::Collect(c) => &mut *c.next_timer,
        };
        let id = TimerId(*next);
        *next += 1;
        self.act(Action::SetTimer { id, after, timer });
        id
    }

    /// Cancels a pending timer (a no-op if it already fired or was cancelled).
    pub fn cancel_timer(&mut self, id: TimerId) {
        self.act(Action::CancelTimer(id));
    }

    /// This node's random stream.
    pub fn rng(&mut self) -> &mut NodeRng {
        self.rng
    }

    /// This node's durable storage, as it survives a crash.
    pub fn durable(&self) -> &P::Durable {
        self.durable
    }

    /// Writable durable storage: a write is durable when the call returns (a synchronous
    /// fsync model), so persist before sending any reply that depends on it. Every call is
    /// counted as a write (`storage.writes`).
    pub fn durable_mut(&mut self) -> &mut P::Durable {
        self.metrics().count("storage.writes", 1);
        self.durable
    }

    /// This node's disk (see [`crate::storage`]): append records, replace the metadata
    /// record, read them back. Writes are not durable until a [`Self::sync`] completes.
    pub fn disk(&mut self) -> &mut Disk {
        self.disk.get_or_insert_with(Default::default)
    }

    /// Asks the disk to make every write so far durable. With zero sync latency (the default)
    /// the answer is [`Synced::Done`] (or [`Synced::Failed`] under an `FsyncFail` fault);
    /// otherwise [`Synced::Pending`], and `Protocol::on_synced` is called when it completes.
    /// Act on what depends on the writes (acknowledge, vote, reply) only then.
    pub fn sync(&mut self) -> Synced {
        let me = self.me;
        let disk = self.disk.get_or_insert_with(Default::default);
        match &mut self.sink {
            Sink::Engine(core) => core.sync(me, disk),
            Sink::Collect(_) => {
                if disk.sync_now() {
                    Synced::Done
                } else {
                    Synced::Failed
                }
            }
        }
    }

    /// Replies to a client; the reply travels back with the client latency.
    pub fn reply(&mut self, client: ClientId, reply: P::Reply) {
        self.act(Action::Reply { client, reply });
    }

    fn metrics(&mut self) -> &mut Metrics {
        match &mut self.sink {
            Sink::Engine(core) => &mut core.metrics,
            Sink::Collect(c) => c.metrics,
        }
    }

    /// Adds `n` to a named counter.
    pub fn count(&mut self, name: &'static str, n: u64) {
        self.metrics().count(name, n);
    }

    /// Marks a coverage point as reached: a state of the protocol worth exploring, named
    /// `family.what` (`raft.truncate.conflict`). Campaigns report how often each point was
    /// reached and, with `--guided`, keep the schedules that reach new ones. Declare the
    /// points in `Family::coverage` so a campaign can list those never reached.
    pub fn cover(&mut self, point: &'static str) {
        let me = self.me.index();
        self.metrics().cover_by(me, point);
    }

    /// Records a named sample (for example a latency in milliseconds) at the current time.
    pub fn sample(&mut self, name: &'static str, value: f64) {
        let now = self.true_time();
        self.metrics().sample(name, now, value);
    }

    /// The true simulation time. Protocol logic must use `now()`; this exists for metrics that
    /// must be measured on the true timeline.
    pub fn true_time(&self) -> Time {
        match &self.sink {
            Sink::Engine(core) => core.now,
            Sink::Collect(c) => c.now,
        }
    }
}
