//! The engine benchmark: events per second of the bare engine, next to a plain binary-heap
//! event loop doing the same work in the same call (docs/architecture.md, "Performance notes").
//!
//! The workload is [`Relay`]: 5 nodes keep [`IN_FLIGHT`] messages in flight; every delivered
//! message makes its receiver forward it to a random peer (the node's own random stream) with
//! a uniform 1–10 ms latency (the network stream), and every node runs a 1 ms periodic timer.
//! The baseline ([`run_baseline`]) is the practical limit: one `BinaryHeap` of plain structs
//! ordered by `(time, seq)`, the same RNG types seeded the same way, the same draws in the same
//! order and the same per-event counting, with none of the engine's bookkeeping (node status and
//! incarnation checks, partitions, timer cancellation, trace hash, monitors, guards). It is an
//! exact replica: for the same seed and event budget both deliver the same messages to the same
//! nodes, which [`compare`] asserts, so the two numbers measure the same work.
//!
//! Wall time is read here only to measure; it never steers a run.

use crate::latency::Latency;
use crate::network::{LinkKind, LinkParams, NetConfig};
use crate::protocol::{ClientId, Context, Protocol};
use crate::rng::{self, NodeRng, Purpose, StreamRng, index};
use crate::{Limits, NodeId, SimConfig, Simulation, Verdict};
use std::cmp::Ordering;
use std::collections::BinaryHeap;
use std::time::Duration;

/// Nodes in the benchmark cluster.
pub const NODES: usize = 5;
/// Messages kept in flight (each node starts `IN_FLIGHT / NODES`).
pub const IN_FLIGHT: usize = 1000;
/// Each node's periodic timer.
pub const TIMER_PERIOD_NS: u64 = 1_000_000;
/// The link latency: uniform in [1 ms, 10 ms].
pub const LATENCY: Latency = Latency::Uniform(1_000_000, 10_000_000);

/// The result of one [`compare`] call.
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize)]
pub struct BenchResult {
    /// Best events per second of the engine over the repetitions.
    pub engine_events_per_sec: f64,
    /// Best events per second of the plain binary-heap loop.
    pub baseline_events_per_sec: f64,
    /// `engine / baseline`: the fraction of the practical limit the engine reaches.
    pub ratio: f64,
    /// Events processed per engine run.
    pub engine_events: u64,
    /// Events processed per baseline run.
    pub baseline_events: u64,
    /// Messages delivered per run (the same in both).
    pub delivered: u64,
    /// Best wall time of one engine run, in seconds.
    pub engine_secs: f64,
    /// Best wall time of one baseline run, in seconds.
    pub baseline_secs: f64,
    /// Repetitions of each side (the best is kept: the machine is noisy).
    pub repeats: u32,
}

/// The benchmark protocol: forward every message to a random peer, tick a timer.
#[derive(Clone, Debug, Default)]
pub struct Relay {
    /// Messages this node received.
    pub delivered: u64,
    /// Timer firings at this node.
    pub timers: u64,
}

impl Relay {
    /// A uniformly random peer other than `me`, from the node's stream.
    fn peer(rng: &mut NodeRng, me: u32) -> u32 {
        let k = index(rng, NODES - 1) as u32;
        if k >= me { k + 1 } else { k }
    }
}

impl Protocol for Relay {
    type Config = ();
    /// A hop count.
    type Message = u64;
    type Timer = ();
    type Request = ();
    type Reply = ();
    type Durable = ();

    fn start(ctx: &mut Context<'_, Self>) -> Self {
        let me = ctx.id().0;
        for _ in 0..IN_FLIGHT / NODES {
            let to = Relay::peer(ctx.rng(), me);
            ctx.send(NodeId(to), 0);
        }
        ctx.set_timer(Duration::from_nanos(TIMER_PERIOD_NS), ());
        Relay::default()
    }

    fn on_message(&mut self, ctx: &mut Context<'_, Self>, _from: NodeId, hops: u64) {
        self.delivered += 1;
        let me = ctx.id().0;
        let to = Relay::peer(ctx.rng(), me);
        ctx.send(NodeId(to), hops + 1);
    }

    fn on_timer(&mut self, ctx: &mut Context<'_, Self>, _: ()) {
        self.timers += 1;
        ctx.set_timer(Duration::from_nanos(TIMER_PERIOD_NS), ());
    }

    fn on_client_request(&mut self, _: &mut Context<'_, Self>, _: ClientId, _: ()) {}
}

/// The engine run of the benchmark: `events` events (starts included) from `seed`.
pub fn relay_simulation(events: u64, seed: u64) -> Simulation<Relay> {
    Simulation::new(relay_config(events, seed), ())
}

/// The configuration of [`relay_simulation`]: datagram links with [`LATENCY`], no loss, and an
/// event budget (the relay never stops on its own).
pub fn relay_config(events: u64, seed: u64) -> SimConfig {
    SimConfig {
        nodes: NODES,
        seed,
        network: NetConfig {
            default: LinkParams {
                latency: LATENCY,
                kind: LinkKind::Datagram,
                ..LinkParams::default()
            },
            ..NetConfig::default()
        },
        limits: Limits {
            max_events: Some(events),
            ..Limits::default()
        },
        ..SimConfig::default()
    }
}

/// Runs the engine side; returns `(events, delivered)`.
pub fn run_engine(events: u64, seed: u64) -> (u64, u64) {
    let mut sim = relay_simulation(events, seed);
    let report = sim.run();
    assert_eq!(report.verdict, Verdict::EventLimit, "the relay never stops");
    let delivered = sim.view().live_nodes().map(|(_, n)| n.delivered).sum();
    (report.events, delivered)
}

/// One event of the baseline loop.
struct Event {
    time: u64,
    seq: u64,
    /// `None` for a timer, `Some(hops)` for a message.
    msg: Option<u64>,
    node: u32,
}

impl PartialEq for Event {
    fn eq(&self, other: &Self) -> bool {
        self.seq == other.seq
    }
}
impl Eq for Event {}
impl PartialOrd for Event {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Event {
    /// Reversed, so the max-heap pops the earliest `(time, seq)` first. Compared as one
    /// 128-bit key, like the engine's queue: measured faster than the tuple comparison, and
    /// the baseline should be the fastest plain loop, not a handicapped one.
    fn cmp(&self, other: &Self) -> Ordering {
        let key = |e: &Self| (u128::from(e.time) << 64) | u128::from(e.seq);
        key(other).cmp(&key(self))
    }
}

/// The plain event loop: the same cluster, draws and counting as [`run_engine`], and nothing
/// else. Returns `(events, delivered)`.
pub fn run_baseline(events: u64, seed: u64) -> (u64, u64) {
    let mut node_rngs: Vec<NodeRng> = (0..NODES as u32).map(|i| rng::node_rng(seed, i)).collect();
    let mut net: StreamRng = rng::stream(seed, Purpose::Network);
    let mut relays = vec![Relay::default(); NODES];
    let mut heap = BinaryHeap::new();
    let mut seq = 0u64;
    let mut push = |heap: &mut BinaryHeap<Event>, time: u64, node: u32, msg: Option<u64>| {
        heap.push(Event {
            time,
            seq,
            msg,
            node,
        });
        seq += 1;
    };
    let mut processed = 0u64;
    for me in 0..NODES as u32 {
        processed += 1;
        for _ in 0..IN_FLIGHT / NODES {
            let to = Relay::peer(&mut node_rngs[me as usize], me);
            push(&mut heap, LATENCY.sample(&mut net), to, Some(0));
        }
        push(&mut heap, TIMER_PERIOD_NS, me, None);
    }
    while processed < events {
        let Some(ev) = heap.pop() else { break };
        processed += 1;
        let relay = &mut relays[ev.node as usize];
        match ev.msg {
            Some(hops) => {
                relay.delivered += 1;
                let to = Relay::peer(&mut node_rngs[ev.node as usize], ev.node);
                let at = ev.time + LATENCY.sample(&mut net);
                push(&mut heap, at, to, Some(hops + 1));
            }
            None => {
                relay.timers += 1;
                push(&mut heap, ev.time + TIMER_PERIOD_NS, ev.node, None);
            }
        }
    }
    (processed, relays.iter().map(|r| r.delivered).sum())
}

/// Wall time of one call of `f`, in seconds, and its result.
fn timed<T>(f: impl FnOnce() -> T) -> (f64, T) {
    #[allow(clippy::disallowed_methods)]
    // Measures the benchmark; never steers a run.
    let t0 = std::time::Instant::now();
    let r = std::hint::black_box(f());
    (t0.elapsed().as_secs_f64(), r)
}

/// Runs the engine and the baseline `repeats` times each on `events` events from `seed` and
/// reports the best of each. The two sides alternate, so a burst of load from other processes
/// hits both alike. Panics if the two did not do the same work (a benchmark bug).
pub fn compare(events: u64, seed: u64, repeats: u32) -> BenchResult {
    let (mut engine_secs, mut baseline_secs) = (f64::INFINITY, f64::INFINITY);
    let (mut engine_run, mut baseline_run) = ((0, 0), (0, 0));
    for _ in 0..repeats.max(1) {
        let (secs, r) = timed(|| run_engine(events, seed));
        engine_secs = engine_secs.min(secs);
        engine_run = r;
        let (secs, r) = timed(|| run_baseline(events, seed));
        baseline_secs = baseline_secs.min(secs);
        baseline_run = r;
    }
    let ((engine_events, engine_delivered), (baseline_events, delivered)) =
        (engine_run, baseline_run);
    assert_eq!(
        (engine_events, engine_delivered),
        (baseline_events, delivered),
        "the engine and the baseline must do the same work"
    );
    let engine_events_per_sec = engine_events as f64 / engine_secs;
    let baseline_events_per_sec = baseline_events as f64 / baseline_secs;
    BenchResult {
        engine_events_per_sec,
        baseline_events_per_sec,
        ratio: engine_events_per_sec / baseline_events_per_sec,
        engine_events,
        baseline_events,
        delivered,
        engine_secs,
        baseline_secs,
        repeats,
    }
}
