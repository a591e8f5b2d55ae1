//! One node, stepped by hand: the unit-test harness.
//!
//! A [`Harness`] builds one node of any [`Protocol`] outside the engine and lets a test feed it
//! one input at a time — start, a message, a timer, a client request, a crash and restart — and
//! read what the node did as data: the [`Action`]s it asked for (sends, timers set and
//! cancelled, replies) and how many durable writes it made. This is how etcd-io/raft tests its
//! `Step` function, and it runs exactly the code the engine runs: the engine drives nodes
//! through the same [`Context`] and carries out the same actions.
//!
//! Time is the node's own: it starts at zero and moves when a test advances it or fires a
//! timer (to the timer's deadline). The node's random stream is the one the engine would give
//! node `me` for the same seed.
//!
//! ```
//! use sim::harness::Harness;
//! use sim::{Action, Context, NodeId, Protocol};
//! use std::time::Duration;
//!
//! /// Answers every ping with a pong; pings node 1 once a second.
//! struct Ping;
//! impl Protocol for Ping {
//!     type Config = ();
//!     type Message = &'static str;
//!     type Timer = ();
//!     type Request = ();
//!     type Reply = ();
//!     type Durable = ();
//!     fn start(ctx: &mut Context<'_, Self>) -> Self {
//!         ctx.set_timer(Duration::from_secs(1), ());
//!         Ping
//!     }
//!     fn on_message(&mut self, ctx: &mut Context<'_, Self>, from: NodeId, msg: &'static str) {
//!         if msg == "ping" { ctx.send(from, "pong") }
//!     }
//!     fn on_timer(&mut self, ctx: &mut Context<'_, Self>, _: ()) {
//!         ctx.send(NodeId(1), "ping");
//!         ctx.set_timer(Duration::from_secs(1), ());
//!     }
//!     fn on_client_request(&mut self, _: &mut Context<'_, Self>, _: u64, _: ()) {}
//! }
//!
//! let mut h = Harness::<Ping>::new((), NodeId(0), 3, 7);
//! h.start();
//! let step = h.deliver(NodeId(2), "ping");
//! assert!(matches!(step.actions[..], [Action::Send { to: NodeId(2), msg: "pong" }]));
//! let step = h.fire_next().expect("the start set a timer");
//! assert_eq!(h.now().as_nanos(), 1_000_000_000);
//! assert_eq!(step.actions.len(), 2); // the ping and the next timer
//! ```

pub mod golden;

use crate::clock::Clock;
use crate::metrics::Metrics;
use crate::protocol::{Action, ClientId, Collector, Context, Protocol, Sink, TimerId};
use crate::rng::{self, NodeRng};
use crate::{NodeId, Time};
use std::collections::BTreeMap;
use std::fmt::{self, Debug};
use std::time::Duration;

/// What one input made the node do.
pub struct Step<P: Protocol> {
    /// The actions, in the order the node asked for them.
    pub actions: Vec<Action<P>>,
    /// Durable writes made (calls to `Context::durable_mut`).
    pub durable_writes: u64,
}

impl<P: Protocol> Step<P> {
    /// The messages sent, in order.
    pub fn sends(&self) -> impl Iterator<Item = (NodeId, &P::Message)> {
        self.actions.iter().filter_map(|a| match a {
            Action::Send { to, msg } => Some((*to, msg)),
            _ => None,
        })
    }

    /// The replies to clients, in order.
    pub fn replies(&self) -> impl Iterator<Item = (ClientId, &P::Reply)> {
        self.actions.iter().filter_map(|a| match a {
            Action::Reply { client, reply } => Some((*client, reply)),
            _ => None,
        })
    }

    /// The timers set, in order.
    pub fn timers_set(&self) -> impl Iterator<Item = (TimerId, Duration, &P::Timer)> {
        self.actions.iter().filter_map(|a| match a {
            Action::SetTimer { id, after, timer } => Some((*id, *after, timer)),
            _ => None,
        })
    }
}

impl<P: Protocol> Debug for Step<P> {
    /// One action per line, then the durable writes if any.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for a in &self.actions {
            writeln!(f, "{a:?}")?;
        }
        if self.durable_writes > 0 {
            writeln!(f, "durable writes: {}", self.durable_writes)?;
        }
        Ok(())
    }
}

/// A pending timer.
struct Pending<T> {
    /// When it fires, on the node's local clock.
    due: Time,
    timer: T,
}

/// One node of protocol `P`, stepped by hand (see the module docs).
pub struct Harness<P: Protocol> {
    cfg: P::Config,
    me: NodeId,
    nodes: usize,
    now: Time,
    clock: Clock,
    node: Option<P>,
    durable: P::Durable,
    rng: NodeRng,
    next_timer: u64,
    pending: BTreeMap<u64, Pending<P::Timer>>,
    metrics: Metrics,
}

impl<P: Protocol> Harness<P> {
    /// Node `me` of a cluster of `nodes`, with the random stream the engine would give it for
    /// `seed`. Not started: call [`Self::start`] (or [`Self::recover`] after setting its
    /// durable state with [`Self::durable_mut`]).
    pub fn new(cfg: P::Config, me: NodeId, nodes: usize, seed: u64) -> Harness<P> {
        assert!(
            me.index() < nodes,
            "node {me} is not in a cluster of {nodes}"
        );
        Harness {
            cfg,
            me,
            nodes,
            now: Time::ZERO,
            clock: Clock::default(),
            node: None,
            durable: P::Durable::default(),
            rng: rng::node_rng(seed, me.0),
            next_timer: 0,
            pending: BTreeMap::new(),
            metrics: Metrics::default(),
        }
    }

    /// The node's local time now.
    pub fn now(&self) -> Time {
        self.clock.local(self.now)
    }

    /// The node's state (`None` before it starts and while it is crashed).
    pub fn node(&self) -> Option<&P> {
        self.node.as_ref()
    }

    /// The node's durable storage.
    pub fn durable(&self) -> &P::Durable {
        &self.durable
    }

    /// The durable storage, writable: set up what a restarted node finds.
    pub fn durable_mut(&mut self) -> &mut P::Durable {
        &mut self.durable
    }

    /// What the node has recorded (counters and samples) so far; read counters with
    /// [`Metrics::counter`] (the `counters` map gets recent counts only when settled).
    pub fn metrics(&self) -> &Metrics {
        &self.metrics
    }

    /// The node's clock: offset and drift relative to the harness's true time.
    pub fn set_clock(&mut self, clock: Clock) {
        self.clock = clock;
    }

    /// Moves time forward without firing anything.
    pub fn advance(&mut self, by: Duration) {
        self.now += by;
    }

    /// Timers set and neither fired nor cancelled, earliest first: id, local deadline, payload.
    pub fn pending_timers(&self) -> Vec<(TimerId, Time, &P::Timer)> {
        let mut v: Vec<_> = self
            .pending
            .iter()
            .map(|(&id, p)| (TimerId(id), p.due, &p.timer))
            .collect();
        v.sort_by_key(|&(id, due, _)| (due, id));
        v
    }

    /// Starts the node on empty (or whatever [`Self::durable_mut`] set) storage.
    pub fn start(&mut self) -> Step<P> {
        self.boot(false)
    }

    /// Crashes the node (its volatile state and pending timers are lost) and restarts it from
    /// its durable storage with `Protocol::recover`.
    pub fn recover(&mut self) -> Step<P> {
        self.crash();
        self.boot(true)
    }

    /// Crashes the node: volatile state and pending timers are lost, durable storage kept.
    pub fn crash(&mut self) {
        self.node = None;
        self.pending.clear();
    }

    /// Delivers a message from `from`.
    pub fn deliver(&mut self, from: NodeId, msg: P::Message) -> Step<P> {
        self.call(|n, ctx| n.on_message(ctx, from, msg))
    }

    /// Delivers a client request.
    pub fn request(&mut self, client: ClientId, req: P::Request) -> Step<P> {
        self.call(|n, ctx| n.on_client_request(ctx, client, req))
    }

    /// Fires a pending timer, moving time to its deadline if that is later than now.
    /// Panics if the timer is not pending.
    pub fn fire(&mut self, id: TimerId) -> Step<P> {
        let p = self
            .pending
            .remove(&id.0)
            .unwrap_or_else(|| panic!("timer {} is not pending", id.0));
        self.move_to_local(p.due);
        self.call(|n, ctx| n.on_timer(ctx, p.timer))
    }

    /// Fires the earliest pending timer (ties by id), if any.
    pub fn fire_next(&mut self) -> Option<Step<P>> {
        let (id, _, _) = self.pending_timers().first().copied()?;
        Some(self.fire(id))
    }

    /// Fires the earliest pending timer whose payload matches, if any.
    pub fn fire_where(&mut self, matches: impl Fn(&P::Timer) -> bool) -> Option<Step<P>> {
        let (id, _, _) = self
            .pending_timers()
            .into_iter()
            .find(|(_, _, t)| matches(t))?;
        Some(self.fire(id))
    }

    fn move_to_local(&mut self, due: Time) {
        while self.clock.local(self.now) < due {
            let behind = due.0 - self.clock.local(self.now).0;
            self.now = Time(self.now.0 + self.clock.true_span(behind).max(1));
        }
    }

    fn boot(&mut self, recover: bool) -> Step<P> {
        assert!(self.node.is_none(), "{} is already running", self.me);
        let mut node = None;
        let step = self.with_context(|ctx| {
            node = Some(if recover {
                P::recover(ctx)
            } else {
                P::start(ctx)
            });
        });
        self.node = node;
        step
    }

    fn call(&mut self, f: impl FnOnce(&mut P, &mut Context<'_, P>)) -> Step<P> {
        let mut node = self
            .node
            .take()
            .unwrap_or_else(|| panic!("{} is not running: start it first", self.me));
        let step = self.with_context(|ctx| f(&mut node, ctx));
        self.node = Some(node);
        step
    }

    fn with_context(&mut self, f: impl FnOnce(&mut Context<'_, P>)) -> Step<P> {
        let writes_before = self.metrics.counter("storage.writes");
        let mut actions = Vec::new();
        let mut ctx = Context {
            me: self.me,
            cfg: &self.cfg,
            durable: &mut self.durable,
            rng: &mut self.rng,
            sink: Sink::Collect(Collector {
                actions: &mut actions,
                metrics: &mut self.metrics,
                next_timer: &mut self.next_timer,
                clock: self.clock,
                now: self.now,
                nodes: self.nodes,
            }),
        };
        f(&mut ctx);
        let local = self.clock.local(self.now);
        for a in &actions {
            match a {
                Action::SetTimer { id, after, timer } => {
                    self.pending.insert(
                        id.0,
                        Pending {
                            due: local + *after,
                            timer: timer.clone(),
                        },
                    );
                }
                Action::CancelTimer(id) => {
                    self.pending.remove(&id.0);
                }
                Action::Send { to, .. } => assert!(
                    to.index() < self.nodes,
                    "{} sent to {to}, which does not exist",
                    self.me
                ),
                Action::Reply { .. } => {}
            }
        }
        Step {
            actions,
            durable_writes: self.metrics.counter("storage.writes") - writes_before,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Limits, SimConfig, Simulation};

    /// Records what its context tells it, and asks for a little of everything.
    #[derive(Debug, Default)]
    struct Recorder {
        seen: Vec<(Time, TimerId, u64)>,
    }

    impl Protocol for Recorder {
        type Config = ();
        type Message = u64;
        type Timer = u64;
        type Request = ();
        type Reply = ();
        type Durable = u64;

        fn start(ctx: &mut Context<'_, Self>) -> Self {
            ctx.set_timer(Duration::from_millis(7), 0);
            Recorder::default()
        }

        fn on_message(&mut self, _: &mut Context<'_, Self>, _: NodeId, _: u64) {}

        fn on_timer(&mut self, ctx: &mut Context<'_, Self>, n: u64) {
            let draw = crate::rng::uniform_u64(ctx.rng(), 1, 9);
            *ctx.durable_mut() += draw;
            let spare = ctx.set_timer(Duration::from_millis(draw), n + 100);
            ctx.cancel_timer(spare);
            let id = ctx.set_timer(Duration::from_millis(draw), n + 1);
            ctx.send(NodeId(1), n);
            self.seen.push((ctx.now(), id, *ctx.durable()));
        }

        fn on_client_request(&mut self, _: &mut Context<'_, Self>, _: u64, _: ()) {}
    }

    #[test]
    fn a_node_stepped_alone_sees_what_it_sees_in_a_run() {
        let mut sim = Simulation::<Recorder>::new(
            SimConfig {
                nodes: 2,
                seed: 9,
                clocks: vec![crate::Clock::new(3_000, 250)],
                limits: Limits {
                    duration: Some(Duration::from_millis(200)),
                    ..Limits::default()
                },
                ..SimConfig::default()
            },
            (),
        );
        sim.run();
        let in_run = sim.view().node(NodeId(0)).unwrap().seen.clone();
        assert!(in_run.len() > 10);
        let mut h = Harness::<Recorder>::new((), NodeId(0), 2, 9);
        h.set_clock(crate::Clock::new(3_000, 250));
        // Timer ids differ (a run hands them out across every node); what the node sees of
        // time, its random stream and its storage must not.
        h.start();
        for _ in 0..in_run.len() {
            h.fire_next().expect("a pending timer");
        }
        let alone = &h.node().unwrap().seen;
        let seen = |v: &[(Time, TimerId, u64)]| v.iter().map(|s| (s.0, s.2)).collect::<Vec<_>>();
        assert_eq!(seen(alone), seen(&in_run), "local times and durable state");
        assert_eq!(*h.durable(), *sim.view().durable(NodeId(0)));
    }
}
