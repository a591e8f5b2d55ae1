//! One node hosted outside the engine: what another runtime needs to drive a [`Protocol`].
//!
//! A [`Host`] holds one node's volatile state, durable storage, random stream and timer-id
//! counter, and calls into the node through the same [`Context`] the engine uses; what the
//! node asks for comes back as [`Action`]s for the caller to carry out. The one-node
//! [`crate::harness::Harness`] is built on it, and so is the madsim/tokio bridge
//! (`faultline-bridge`): time, timers, the network and the clients belong to the caller.
//!
//! Several hosts together can be judged by the engine's monitors: [`View::of_hosts`] gives
//! monitors the same read-only view of them that a run gives of its nodes.

use crate::clock::Clock;
use crate::metrics::Metrics;
use crate::monitor::View;
use crate::protocol::{Action, ClientId, Collector, Context, Protocol, Sink};
use crate::rng::{self, NodeRng};
use crate::storage::Disk;
use crate::{NodeId, Time};

/// One node of protocol `P`, hosted by a caller that owns time, timers and the network.
pub struct Host<P: Protocol> {
    me: NodeId,
    nodes: usize,
    clock: Clock,
    state: Option<P>,
    durable: P::Durable,
    /// The node's disk (`Context::disk`). A hosted node's syncs complete at once: the disk
    /// never holds an unsynced write between calls.
    disk: Option<Box<Disk>>,
    rng: NodeRng,
    next_timer: u64,
}

/// What one call into a hosted node needs from its caller.
pub struct Call<'a, P: Protocol> {
    /// The protocol configuration.
    pub cfg: &'a P::Config,
    /// True time now (the node reads it through its clock).
    pub now: Time,
    /// Where the node's counters and samples go.
    pub metrics: &'a mut Metrics,
    /// Where the node's actions go, in the order it asks.
    pub actions: &'a mut Vec<Action<P>>,
}

impl<P: Protocol> Host<P> {
    /// Node `me` of a cluster of `nodes`, with the random stream the engine would give it
    /// for `seed`, on empty durable storage. Not started.
    pub fn new(me: NodeId, nodes: usize, seed: u64) -> Host<P> {
        Host::with_rng(me, nodes, rng::node_rng(seed, me.0))
    }

    /// Like [`Host::new`], with a random stream the caller seeded (another runtime's seed).
    pub fn with_rng(me: NodeId, nodes: usize, rng: NodeRng) -> Host<P> {
        assert!(
            me.index() < nodes,
            "node {me} is not in a cluster of {nodes}"
        );
        Host {
            me,
            nodes,
            clock: Clock::default(),
            state: None,
            durable: P::Durable::default(),
            disk: None,
            rng,
            next_timer: 0,
        }
    }

    /// This node's id.
    pub fn id(&self) -> NodeId {
        self.me
    }

    /// The number of nodes in its cluster.
    pub fn nodes(&self) -> usize {
        self.nodes
    }

    /// The node's state (`None` before it starts and while it is crashed).
    pub fn node(&self) -> Option<&P> {
        self.state.as_ref()
    }

    /// Whether the node is running.
    pub fn is_up(&self) -> bool {
        self.state.is_some()
    }

    /// The node's durable storage.
    pub fn durable(&self) -> &P::Durable {
        &self.durable
    }

    /// The durable storage, writable: set what a (re)starting node finds.
    pub fn durable_mut(&mut self) -> &mut P::Durable {
        &mut self.durable
    }

    /// The node's disk, if it ever wrote to it.
    pub fn disk(&self) -> Option<&Disk> {
        self.disk.as_deref()
    }

    /// The disk, writable: set up what a (re)starting node finds.
    pub fn disk_mut(&mut self) -> &mut Disk {
        self.disk.get_or_insert_with(Default::default)
    }

    /// The node's clock (offset and drift from true time).
    pub fn clock(&self) -> Clock {
        self.clock
    }

    /// Sets the node's clock.
    pub fn set_clock(&mut self, clock: Clock) {
        self.clock = clock;
    }

    /// Starts the node (`recover`: rebuilds it from durable storage with
    /// [`Protocol::recover`]; otherwise [`Protocol::start`]). Panics if it is running.
    pub fn boot(&mut self, call: Call<'_, P>, recover: bool) {
        assert!(self.state.is_none(), "{} is already running", self.me);
        let mut node = None;
        self.with_context(call, |ctx| {
            node = Some(if recover {
                P::recover(ctx)
            } else {
                P::start(ctx)
            });
        });
        self.state = node;
    }

    /// Crashes the node: its volatile state is lost, its durable storage kept. The caller
    /// forgets the node's timers.
    pub fn crash(&mut self) {
        self.state = None;
    }

    /// Delivers a message from `from`. Panics if the node is not running.
    pub fn deliver(&mut self, call: Call<'_, P>, from: NodeId, msg: P::Message) {
        self.step(call, |n, ctx| n.on_message(ctx, from, msg));
    }

    /// Delivers a client request. Panics if the node is not running.
    pub fn request(&mut self, call: Call<'_, P>, client: ClientId, req: P::Request) {
        self.step(call, |n, ctx| n.on_client_request(ctx, client, req));
    }

    /// Fires one of the node's timers. Panics if the node is not running.
    pub fn fire(&mut self, call: Call<'_, P>, timer: P::Timer) {
        self.step(call, |n, ctx| n.on_timer(ctx, timer));
    }

    fn step(&mut self, call: Call<'_, P>, f: impl FnOnce(&mut P, &mut Context<'_, P>)) {
        let mut node = self
            .state
            .take()
            .unwrap_or_else(|| panic!("{} is not running: start it first", self.me));
        self.with_context(call, |ctx| f(&mut node, ctx));
        self.state = Some(node);
    }

    fn with_context(&mut self, call: Call<'_, P>, f: impl FnOnce(&mut Context<'_, P>)) {
        let mut ctx = Context {
            me: self.me,
            cfg: call.cfg,
            durable: &mut self.durable,
            disk: &mut self.disk,
            rng: &mut self.rng,
            sink: Sink::Collect(Collector {
                actions: call.actions,
                metrics: call.metrics,
                next_timer: &mut self.next_timer,
                clock: self.clock,
                now: call.now,
                nodes: self.nodes,
            }),
        };
        f(&mut ctx);
    }
}

impl<'a, P: Protocol> View<'a, P> {
    /// Monitors' view of hosted nodes (`hosts[i]` must be node `i`) at true time `now`:
    /// a host that is not running reads as crashed; nothing is partitioned as far as the
    /// view can tell.
    pub fn of_hosts(
        hosts: &'a [Host<P>],
        cfg: &'a P::Config,
        now: Time,
        metrics: &'a Metrics,
    ) -> View<'a, P> {
        debug_assert!(hosts.iter().enumerate().all(|(i, h)| h.me.index() == i));
        View::hosted(hosts, cfg, now, metrics)
    }
}
