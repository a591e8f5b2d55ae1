//! Slow nodes: the processing-time model and the `Slow` fault (`sim::processing`).

mod common;

use common::{Handled, Node, Script, config, link, ms, node};
use sim::{
    Fault, Latency, LinkKind, LinkParams, NodeId, ProcessingConfig, Simulation, Target, Time,
    Verdict,
};

fn n(i: u32) -> Target {
    Target::Node(NodeId(i))
}

fn constant_ms(d: u64) -> LinkParams {
    link(Latency::Constant(d * 1_000_000), LinkKind::Stream)
}

fn constant(d: u64) -> Latency {
    Latency::Constant(d * 1_000_000)
}

/// Node `node` takes `cost` ms per event; every other node is instant.
fn only(node: u32, cost: u64) -> ProcessingConfig {
    ProcessingConfig {
        time: None,
        nodes: [(node, constant(cost))].into_iter().collect(),
        ..ProcessingConfig::default()
    }
}

/// True handling times of a node's messages, in ms.
fn got_ms(sim: &Simulation<Node>, id: u32) -> Vec<u64> {
    node(sim, id)
        .got
        .iter()
        .map(|g| g.at.0 / 1_000_000)
        .collect()
}

/// n0 sends messages 1 to 5 to n1 at start; they all arrive at 1 ms.
fn burst() -> Script {
    Script {
        start: |_, ctx| {
            if ctx.id() == NodeId(0) {
                for m in 1..=5 {
                    ctx.send(NodeId(1), m);
                }
            }
        },
        message: |_, ctx, from, msg| {
            if ctx.id() == NodeId(1) {
                ctx.send(from, msg + 100);
            }
        },
        ..Script::default()
    }
}

#[test]
fn events_queue_in_arrival_order_behind_a_busy_node() {
    let mut cfg = config(2, 1, constant_ms(1), ms(100));
    cfg.processing = only(1, 10);
    let mut sim = Simulation::<Node>::new(cfg, burst());
    let report = sim.run();
    assert_eq!(report.verdict, Verdict::Completed);
    let n1 = node(&sim, 1);
    // All five arrive at 1 ms; each takes 10 ms and is handled when its handling completes.
    assert_eq!(
        n1.handled,
        (1..=5)
            .map(|m| Handled::Message(NodeId(0), m))
            .collect::<Vec<_>>()
    );
    assert_eq!(got_ms(&sim, 1), vec![11, 21, 31, 41, 51]);
    // Its clock reads the handling time (ideal clocks), and its answers leave then.
    for g in &n1.got {
        assert_eq!(g.local, g.at);
    }
    assert_eq!(got_ms(&sim, 0), vec![12, 22, 32, 42, 52]);
    // n0 has no processing time: nothing of it waited or was measured.
    assert_eq!(
        report.metrics.values("node.queue_delay_ms"),
        vec![0.0, 10.0, 20.0, 30.0, 40.0]
    );
    assert_eq!(report.metrics.counter("node.queued"), 4);
    assert_eq!(report.metrics.counter("node.busy_us"), 50_000);
}

#[test]
fn a_zero_processing_time_changes_nothing() {
    let run = |processing: ProcessingConfig| {
        let mut cfg = config(
            2,
            3,
            link(Latency::Uniform(1_000_000, 9_000_000), LinkKind::Datagram),
            ms(100),
        );
        cfg.processing = processing;
        let mut sim = Simulation::<Node>::new(cfg, burst());
        sim.run()
    };
    let off = run(ProcessingConfig::default());
    let zero = run(ProcessingConfig {
        time: Some(Latency::Constant(0)),
        ..ProcessingConfig::default()
    });
    assert_eq!(off.trace_hash, zero.trace_hash);
    assert_eq!(off.events, zero.events);
    assert!(off.metrics.values("node.queue_delay_ms").is_empty());
    assert_eq!(zero.metrics.values("node.queue_delay_ms").len(), 10);
    let slow = run(only(1, 1));
    assert_ne!(off.trace_hash, slow.trace_hash);
}

/// n0 sends n1 a message every 10 ms (at 10, 20, ...: arriving at 11, 21, ...).
fn ticker() -> Script {
    Script {
        start: |_, ctx| {
            if ctx.id() == NodeId(0) {
                ctx.set_timer(ms(10), 0);
            }
        },
        timer: |_, ctx, tag| {
            ctx.send(NodeId(1), tag);
            ctx.set_timer(ms(10), tag + 1);
        },
        ..Script::default()
    }
}

/// How long after its arrival each of n1's messages was handled, in ms.
fn lags(sim: &Simulation<Node>) -> Vec<u64> {
    node(sim, 1)
        .got
        .iter()
        .map(|g| (g.at.0 - (g.msg + 1) * 10_000_000 - 1_000_000) / 1_000_000)
        .collect()
}

#[test]
fn a_slow_fault_multiplies_costs_for_exactly_its_duration() {
    let mut cfg = config(2, 1, constant_ms(1), ms(100));
    cfg.processing = only(1, 1);
    let mut sim = Simulation::<Node>::new(cfg, ticker());
    // Handling that starts in [25 ms, 55 ms) costs 5 ms: the messages arriving at 31, 41, 51.
    sim.schedule_fault(
        Time::from_millis(25),
        Fault::Slow {
            target: n(1),
            factor: 5.0,
            per_event: None,
            duration: sim::units::Dur(ms(30)),
        },
    );
    let report = sim.run();
    assert_eq!(report.verdict, Verdict::Completed);
    assert_eq!(lags(&sim), vec![1, 1, 5, 5, 5, 1, 1, 1, 1]);
    assert_eq!(report.applied_faults.len(), 1);
}

#[test]
fn a_slow_fault_brings_its_own_cost_to_a_node_without_one() {
    // No processing section at all: the fault's `per_event` is the base it multiplies.
    let cfg = config(2, 1, constant_ms(1), ms(100));
    let mut sim = Simulation::<Node>::new(cfg, ticker());
    sim.schedule_fault(
        Time::from_millis(25),
        Fault::Slow {
            target: n(1),
            factor: 3.0,
            per_event: Some(constant(2)),
            duration: sim::units::Dur(ms(30)),
        },
    );
    sim.run();
    assert_eq!(lags(&sim), vec![0, 0, 6, 6, 6, 0, 0, 0, 0]);
    // Without `per_event` and without a processing time, it changes nothing.
    let cfg = config(2, 1, constant_ms(1), ms(100));
    let mut sim = Simulation::<Node>::new(cfg, ticker());
    sim.schedule_fault(
        Time::from_millis(25),
        Fault::Slow {
            target: n(1),
            factor: 3.0,
            per_event: None,
            duration: sim::units::Dur(ms(30)),
        },
    );
    sim.run();
    assert_eq!(lags(&sim), vec![0; 9]);
}

#[test]
fn a_slow_node_fires_its_timers_late() {
    // n1 sets itself a 10 ms timer each time one fires; handling takes 1 ms, and 20 ms while
    // slowed from 30 ms to 60 ms, so its timers fall behind and stay behind.
    let script = Script {
        start: |_, ctx| {
            if ctx.id() == NodeId(1) {
                ctx.set_timer(ms(10), 0);
            }
        },
        timer: |_, ctx, tag| {
            ctx.set_timer(ms(10), tag + 1);
        },
        ..Script::default()
    };
    let mut cfg = config(2, 1, constant_ms(1), ms(100));
    cfg.processing = only(1, 1);
    let mut sim = Simulation::<Node>::new(cfg, script);
    sim.schedule_fault(
        Time::from_millis(30),
        Fault::Slow {
            target: n(1),
            factor: 20.0,
            per_event: None,
            duration: sim::units::Dur(ms(30)),
        },
    );
    sim.run();
    let fired: Vec<u64> = node(&sim, 1)
        .fired
        .iter()
        .map(|f| f.at.0 / 1_000_000)
        .collect();
    // Due at 10, 21, 32 (handled 52), 62, 73, 84, 95.
    assert_eq!(fired, vec![11, 22, 52, 63, 74, 85, 96]);
}

#[test]
fn with_timers_on_time_only_messages_wait() {
    // n0 sends n1 five messages at start (arriving at 1 ms, 10 ms of work each), and n1 sets
    // itself a timer for 5 ms. Timers queued: it fires after the messages ahead of it.
    // Timers on time: it fires at 5 ms while the messages are still being worked through.
    let script = Script {
        start: |_, ctx| {
            if ctx.id() == NodeId(0) {
                for m in 1..=5 {
                    ctx.send(NodeId(1), m);
                }
            } else {
                ctx.set_timer(ms(5), 0);
            }
        },
        ..Script::default()
    };
    let run = |timers: sim::processing::TimerMode| {
        let mut cfg = config(2, 1, constant_ms(1), ms(100));
        cfg.processing = ProcessingConfig {
            timers,
            ..only(1, 10)
        };
        let mut sim = Simulation::<Node>::new(cfg, script);
        sim.run();
        let n1 = node(&sim, 1);
        let fired: Vec<u64> = n1.fired.iter().map(|f| f.at.0 / 1_000_000).collect();
        (fired, got_ms(&sim, 1))
    };
    let (fired, got) = run(sim::processing::TimerMode::Queued);
    assert_eq!(fired, vec![61]);
    assert_eq!(got, vec![11, 21, 31, 41, 51]);
    let (fired, got) = run(sim::processing::TimerMode::OnTime);
    assert_eq!(fired, vec![5]);
    assert_eq!(got, vec![11, 21, 31, 41, 51]);
}

#[test]
fn a_crash_drops_the_events_waiting_at_the_node() {
    // Messages 1-5 arrive at n1 at 1 ms and take 10 ms each; n1 crashes at 25 ms, in the
    // middle of message 3, and restarts at 40 ms. n0 sends message 9 at 50 ms.
    let script = Script {
        start: |_, ctx| {
            if ctx.id() == NodeId(0) {
                for m in 1..=5 {
                    ctx.send(NodeId(1), m);
                }
                ctx.set_timer(ms(50), 9);
            }
        },
        timer: |_, ctx, tag| ctx.send(NodeId(1), tag),
        ..Script::default()
    };
    let mut cfg = config(2, 1, constant_ms(1), ms(100));
    cfg.processing = only(1, 10);
    let mut sim = Simulation::<Node>::new(cfg, script);
    sim.schedule_fault(Time::from_millis(25), Fault::Crash(n(1)));
    sim.schedule_fault(Time::from_millis(40), Fault::Restart(n(1)));
    let report = sim.run();
    let n1 = node(&sim, 1);
    assert!(n1.recovered);
    // Messages 3 to 5 were lost with the crash; message 9 found the node free.
    assert_eq!(n1.handled, vec![Handled::Message(NodeId(0), 9)]);
    assert_eq!(got_ms(&sim, 1), vec![61]);
    assert_eq!(report.metrics.counter("net.delivered"), 3);
}

#[test]
fn a_pause_holds_the_events_at_a_busy_node_and_the_interrupted_one_starts_over() {
    // Messages 1-3 arrive at n1 at 1 ms and take 10 ms each. n1 pauses at 15 ms (message 2
    // is being handled) and resumes at 40 ms; message 4 arrives at 21 ms, during the pause.
    let script = Script {
        start: |_, ctx| {
            if ctx.id() == NodeId(0) {
                for m in 1..=3 {
                    ctx.send(NodeId(1), m);
                }
                ctx.set_timer(ms(20), 4);
            }
        },
        timer: |_, ctx, tag| ctx.send(NodeId(1), tag),
        ..Script::default()
    };
    let mut cfg = config(2, 1, constant_ms(1), ms(100));
    cfg.processing = only(1, 10);
    let mut sim = Simulation::<Node>::new(cfg, script);
    sim.schedule_fault(Time::from_millis(15), Fault::Pause(n(1)));
    sim.schedule_fault(Time::from_millis(40), Fault::Resume(n(1)));
    sim.run();
    let n1 = node(&sim, 1);
    assert_eq!(
        n1.handled,
        (1..=4)
            .map(|m| Handled::Message(NodeId(0), m))
            .collect::<Vec<_>>()
    );
    // Message 2 starts over at the resume; nothing is handled while paused.
    assert_eq!(got_ms(&sim, 1), vec![11, 50, 60, 70]);
}

#[test]
fn a_timer_cancelled_while_it_waits_takes_no_time() {
    // n1 sets timers for 5 ms and 6 ms; message 1 (arriving at 1 ms, handled at 11 ms)
    // cancels the first while it waits. The second then runs from 11 ms to 21 ms, and
    // message 2 (arriving at 7 ms) after it.
    let script = Script {
        start: |node, ctx| {
            if ctx.id() == NodeId(0) {
                ctx.send(NodeId(1), 1);
                ctx.set_timer(ms(6), 0);
            } else {
                let t = ctx.set_timer(ms(5), 7);
                node.timers.push(t);
                ctx.set_timer(ms(6), 8);
            }
        },
        message: |node, ctx, _, msg| {
            if msg == 1 {
                ctx.cancel_timer(node.timers[0]);
            }
        },
        timer: |_, ctx, _| {
            if ctx.id() == NodeId(0) {
                ctx.send(NodeId(1), 2);
            }
        },
        ..Script::default()
    };
    let mut cfg = config(2, 1, constant_ms(1), ms(100));
    cfg.processing = only(1, 10);
    let mut sim = Simulation::<Node>::new(cfg, script);
    sim.run();
    let n1 = node(&sim, 1);
    assert_eq!(
        n1.handled,
        vec![
            Handled::Message(NodeId(0), 1),
            Handled::Timer(8),
            Handled::Message(NodeId(0), 2),
        ]
    );
    assert_eq!(n1.fired[0].at, Time::from_millis(21));
    assert_eq!(got_ms(&sim, 1), vec![11, 31]);
}

#[test]
fn runs_with_processing_replay_to_the_same_hash() {
    // Random processing times and latencies, a ticker and a burst: the same seed twice.
    let script = Script {
        start: |_, ctx| {
            ctx.set_timer(ms(3), 0);
            for to in 0..3 {
                if to != ctx.id().0 {
                    ctx.send(NodeId(to), 1);
                }
            }
        },
        message: |_, ctx, from, msg| {
            if msg < 50 {
                ctx.send(from, msg + 1);
            }
        },
        timer: |_, ctx, tag| {
            ctx.set_timer(ms(3), tag + 1);
        },
        ..Script::default()
    };
    let run = |seed: u64| {
        let mut cfg = config(
            3,
            seed,
            link(Latency::Uniform(1_000_000, 5_000_000), LinkKind::Datagram),
            ms(500),
        );
        cfg.processing = ProcessingConfig {
            time: Some(Latency::Exponential { mean: 400_000 }),
            nodes: [(2, Latency::Uniform(1_000_000, 3_000_000))]
                .into_iter()
                .collect(),
            ..ProcessingConfig::default()
        };
        let mut sim = Simulation::<Node>::new(cfg, script);
        sim.schedule_fault(
            Time::from_millis(100),
            Fault::Slow {
                target: Target::All,
                factor: 4.0,
                per_event: None,
                duration: sim::units::Dur(ms(100)),
            },
        );
        sim.schedule_fault(Time::from_millis(250), Fault::Pause(n(0)));
        sim.schedule_fault(Time::from_millis(300), Fault::Resume(n(0)));
        sim.schedule_fault(Time::from_millis(320), Fault::Crash(n(1)));
        sim.schedule_fault(Time::from_millis(340), Fault::Restart(n(1)));
        sim.run()
    };
    let a = run(7);
    let b = run(7);
    assert_eq!(a.verdict, Verdict::Completed);
    assert_eq!((a.trace_hash, a.events), (b.trace_hash, b.events));
    assert_eq!(a.metrics, b.metrics);
    assert!(a.metrics.counter("node.queued") > 0);
    assert_ne!(a.trace_hash, run(8).trace_hash);
}
