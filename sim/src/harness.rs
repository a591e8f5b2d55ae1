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
use crate::host::{Call, Host};
use crate::metrics::Metrics;
use crate::protocol::{Action, ClientId, Protocol, TimerId};
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
    now: Time,
    host: Host<P>,
    pending: BTreeMap<u64, Pending<P::Timer>>,
    metrics: Metrics,
}

impl<P: Protocol> Harness<P> {
    /// Node `me` of a cluster of `nodes`, with the random stream the engine would give it for
    /// `seed`. Not started: call [`Self::start`] (or [`Self::recover`] after setting its
    /// durable state with [`Self::durable_mut`]).
    pub fn new(cfg: P::Config, me: NodeId, nodes: usize, seed: u64) -> Harness<P> {
        Harness {
            cfg,
            now: Time::ZERO,
            host: Host::new(me, nodes, seed),
            pending: BTreeMap::new(),
            metrics: Metrics::default(),
        }
    }

    /// The node's local time now.
    pub fn now(&self) -> Time {
        self.host.clock().local(self.now)
    }

    /// The node's state (`None` before it starts and while it is crashed).
    pub fn node(&self) -> Option<&P> {
        self.host.node()
    }

    /// The protocol configuration the node runs with.
    pub fn config(&self) -> &P::Config {
        &self.cfg
    }

    /// The node's durable storage.
    pub fn durable(&self) -> &P::Durable {
        self.host.durable()
    }

    /// The durable storage, writable: set up what a restarted node finds.
    pub fn durable_mut(&mut self) -> &mut P::Durable {
        self.host.durable_mut()
    }

    /// The node's disk (`Context::disk`), if it wrote to it. A harnessed node's syncs
    /// complete at once.
    pub fn disk(&self) -> Option<&crate::storage::Disk> {
        self.host.disk()
    }

    /// The disk, writable: set up what a restarted node finds.
    pub fn disk_mut(&mut self) -> &mut crate::storage::Disk {
        self.host.disk_mut()
    }

    /// What the node has recorded (counters and samples) so far; read counters with
    /// [`Metrics::counter`] (the `counters` map gets recent counts only when settled).
    pub fn metrics(&self) -> &Metrics {
        &self.metrics
    }

    /// The node's clock: offset and drift relative to the harness's true time.
    pub fn set_clock(&mut self, clock: Clock) {
        self.host.set_clock(clock);
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
        self.run(|host, call| host.boot(call, false))
    }

    /// Crashes the node (its volatile state and pending timers are lost) and restarts it from
    /// its durable storage with `Protocol::recover`.
    pub fn recover(&mut self) -> Step<P> {
        self.crash();
        self.run(|host, call| host.boot(call, true))
    }

    /// Crashes the node: volatile state and pending timers are lost, durable storage kept.
    pub fn crash(&mut self) {
        self.host.crash();
        self.pending.clear();
    }

    /// Delivers a message from `from`.
    pub fn deliver(&mut self, from: NodeId, msg: P::Message) -> Step<P> {
        self.run(|host, call| host.deliver(call, from, msg))
    }

    /// Delivers a client request.
    pub fn request(&mut self, client: ClientId, req: P::Request) -> Step<P> {
        self.run(|host, call| host.request(call, client, req))
    }

    /// Fires a pending timer, moving time to its deadline if that is later than now.
    /// Panics if the timer is not pending.
    pub fn fire(&mut self, id: TimerId) -> Step<P> {
        let p = self
            .pending
            .remove(&id.0)
            .unwrap_or_else(|| panic!("timer {} is not pending", id.0));
        self.move_to_local(p.due);
        self.run(|host, call| host.fire(call, p.timer))
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
        let clock = self.host.clock();
        while clock.local(self.now) < due {
            let behind = due.0 - clock.local(self.now).0;
            self.now = Time(self.now.0 + clock.true_span(behind).max(1));
        }
    }

    /// Calls into the node and books the timers it set or cancelled.
    fn run(&mut self, f: impl FnOnce(&mut Host<P>, Call<'_, P>)) -> Step<P> {
        let writes_before = self.metrics.counter("storage.writes");
        let mut actions = Vec::new();
        f(
            &mut self.host,
            Call {
                cfg: &self.cfg,
                now: self.now,
                metrics: &mut self.metrics,
                actions: &mut actions,
            },
        );
        let local = self.now();
        let (me, nodes) = (self.host.id(), self.host.nodes());
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
                    to.index() < nodes,
                    "{me} sent to {to}, which does not exist"
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
    use crate::{Context, Limits, SimConfig, Simulation};

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
