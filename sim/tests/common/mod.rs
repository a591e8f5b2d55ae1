//! A scripted test protocol shared by the engine's integration tests.
//!
//! Each test describes what its nodes do with plain function pointers in the protocol config
//! ([`Script`]); the node itself only records what happened to it (messages with their true
//! and local arrival times, timer firings, whether it was recovered), so tests can compare the
//! record with the exact outcome the engine promises.

#![allow(dead_code)]

use sim::{Clock, Context, LinkKind, LinkParams, NetConfig, NodeId, Protocol, SimConfig, Time};
use std::time::Duration;

/// What a node does; every hook defaults to doing nothing.
#[derive(Clone, Copy)]
pub struct Script {
    pub start: fn(&mut Node, &mut Context<'_, Node>),
    pub recover: fn(&mut Node, &mut Context<'_, Node>),
    pub message: fn(&mut Node, &mut Context<'_, Node>, NodeId, u64),
    pub timer: fn(&mut Node, &mut Context<'_, Node>, u64),
}

fn nothing(_: &mut Node, _: &mut Context<'_, Node>) {}
fn ignore_message(_: &mut Node, _: &mut Context<'_, Node>, _: NodeId, _: u64) {}
fn ignore_timer(_: &mut Node, _: &mut Context<'_, Node>, _: u64) {}

impl Default for Script {
    fn default() -> Self {
        Script {
            start: nothing,
            recover: nothing,
            message: ignore_message,
            timer: ignore_timer,
        }
    }
}

/// One message as its receiver saw it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Got {
    /// True arrival time.
    pub at: Time,
    /// The receiver's local clock at arrival.
    pub local: Time,
    pub from: NodeId,
    pub msg: u64,
}

/// One timer firing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Fired {
    pub at: Time,
    pub local: Time,
    pub tag: u64,
}

/// What a node handled, in order: a message or a timer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Handled {
    Message(NodeId, u64),
    Timer(u64),
}

/// The scripted node: a recorder plus a few fields scripts may use.
#[derive(Clone, Debug, Default)]
pub struct Node {
    pub got: Vec<Got>,
    pub fired: Vec<Fired>,
    pub handled: Vec<Handled>,
    /// True when built by `recover` rather than `start`.
    pub recovered: bool,
    /// The durable log as `recover` found it.
    pub durable_at_recover: Vec<u64>,
    /// A volatile value scripts may set; it must not survive a crash.
    pub note: u64,
    /// What `leader_term` answers.
    pub lead: Option<u64>,
    /// Timer ids a script wants to keep.
    pub timers: Vec<sim::TimerId>,
}

impl Protocol for Node {
    type Config = Script;
    type Message = u64;
    type Timer = u64;
    type Request = ();
    type Reply = ();
    type Durable = Vec<u64>;

    fn start(ctx: &mut Context<'_, Self>) -> Self {
        let mut node = Node::default();
        let f = ctx.config().start;
        f(&mut node, ctx);
        node
    }

    fn recover(ctx: &mut Context<'_, Self>) -> Self {
        let mut node = Node {
            recovered: true,
            durable_at_recover: ctx.durable().clone(),
            ..Node::default()
        };
        let f = ctx.config().recover;
        f(&mut node, ctx);
        node
    }

    fn on_message(&mut self, ctx: &mut Context<'_, Self>, from: NodeId, msg: u64) {
        self.got.push(Got {
            at: ctx.true_time(),
            local: ctx.now(),
            from,
            msg,
        });
        self.handled.push(Handled::Message(from, msg));
        let f = ctx.config().message;
        f(self, ctx, from, msg);
    }

    fn on_timer(&mut self, ctx: &mut Context<'_, Self>, tag: u64) {
        self.fired.push(Fired {
            at: ctx.true_time(),
            local: ctx.now(),
            tag,
        });
        self.handled.push(Handled::Timer(tag));
        let f = ctx.config().timer;
        f(self, ctx, tag);
    }

    fn on_client_request(&mut self, _: &mut Context<'_, Self>, _: u64, _: ()) {}

    fn leader_term(&self) -> Option<u64> {
        self.lead
    }
}

/// Milliseconds as a `Duration`.
pub fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

/// Link parameters with a latency and kind and no loss, duplication or reordering.
pub fn link(latency: sim::Latency, kind: LinkKind) -> LinkParams {
    LinkParams {
        latency,
        kind,
        ..LinkParams::default()
    }
}

/// A run of `nodes` nodes over `link` lasting `duration`.
pub fn config(nodes: usize, seed: u64, link: LinkParams, duration: Duration) -> SimConfig {
    SimConfig {
        nodes,
        seed,
        network: NetConfig {
            default: link,
            ..NetConfig::default()
        },
        limits: sim::Limits {
            duration: Some(duration),
            ..sim::Limits::default()
        },
        ..SimConfig::default()
    }
}

/// The same, with per-node clocks.
pub fn with_clocks(mut cfg: SimConfig, clocks: Vec<Clock>) -> SimConfig {
    cfg.clocks = clocks;
    cfg
}

/// A copy of a node's record after the run (panics if the node is crashed, a test bug).
pub fn node(sim: &sim::Simulation<Node>, id: u32) -> Node {
    sim.view()
        .node(NodeId(id))
        .unwrap_or_else(|| panic!("n{id} is crashed at the end of the run"))
        .clone()
}
