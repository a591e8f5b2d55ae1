//! How runs end, and that they replay: monitors (violations and goals), the event, virtual-time
//! and wall-time guards, panics in protocol code, and trace-hash determinism.

mod common;

use common::{Node, Script, config, link, ms};
use sim::rng::{chance, index, uniform_u64};
use sim::{
    Check, EventInfo, EventKind, Fault, Latency, Limits, LinkKind, LinkParams, Monitor, NodeId,
    RunReport, Simulation, Target, Time, Verdict, View,
};
use std::time::Duration;

/// n0 and n1 ping-pong forever over a 1 ms link.
fn ping_pong() -> Script {
    Script {
        start: |_, ctx| {
            if ctx.id() == NodeId(0) {
                ctx.send(NodeId(1), 0);
            }
        },
        message: |_, ctx, from, k| ctx.send(from, k + 1),
        ..Script::default()
    }
}

fn constant_1ms() -> LinkParams {
    link(Latency::Constant(1_000_000), LinkKind::Stream)
}

/// Violates `TooManyMessages` once any node has received three messages.
struct AtMostTwo;

impl Monitor<Node> for AtMostTwo {
    fn name(&self) -> &str {
        "at-most-two"
    }
    fn on_event(&mut self, view: &View<'_, Node>, _: &EventInfo) -> Check {
        for (id, node) in view.live_nodes() {
            if node.got.len() >= 3 {
                return Check::Violated(sim::Violation::new(
                    "TooManyMessages",
                    format!("{id} received {} messages", node.got.len()),
                ));
            }
        }
        Check::Ok
    }
}

#[test]
fn a_violation_stops_the_run_with_invariant_time_event_and_message() {
    let mut sim = Simulation::<Node>::new(config(2, 3, constant_1ms(), ms(1000)), ping_pong());
    sim.add_monitor(Box::new(AtMostTwo));
    let report = sim.run();
    let Verdict::Violated(v) = report.verdict else {
        panic!("expected a violation, got {:?}", report.verdict);
    };
    // Events: 2 starts, then deliveries at 1, 2, 3, 4, 5 ms; n1 gets its third message (the
    // fifth delivery) at 5 ms, which is event 7.
    assert_eq!(v.invariant, "TooManyMessages");
    assert_eq!(v.message, "n1 received 3 messages");
    assert_eq!(v.time, Time::from_millis(5));
    assert_eq!(v.event, 7);
    assert_eq!(report.events, 7, "the run stopped at the violation");
    assert_eq!(report.end_time, Time::from_millis(5));
}

/// Reports the goal reached after `n` events.
struct DoneAfter(u64);

impl Monitor<Node> for DoneAfter {
    fn name(&self) -> &str {
        "done-after"
    }
    fn on_event(&mut self, _: &View<'_, Node>, e: &EventInfo) -> Check {
        if e.number >= self.0 {
            Check::Done
        } else {
            Check::Ok
        }
    }
}

#[test]
fn done_ends_the_run_as_completed() {
    let mut sim = Simulation::<Node>::new(config(2, 3, constant_1ms(), ms(1000)), ping_pong());
    sim.add_monitor(Box::new(DoneAfter(10)));
    let report = sim.run();
    assert_eq!(report.verdict, Verdict::Completed);
    assert_eq!(report.events, 10);
}

fn guarded(limits: Limits, script: Script) -> RunReport {
    let mut cfg = config(2, 3, constant_1ms(), ms(0));
    cfg.limits = limits;
    Simulation::<Node>::new(cfg, script).run()
}

#[test]
fn event_budget_ends_as_event_limit() {
    let report = guarded(
        Limits {
            max_events: Some(100),
            ..Limits::default()
        },
        ping_pong(),
    );
    assert_eq!(report.verdict, Verdict::EventLimit);
    assert_eq!(report.events, 100);
}

#[test]
fn virtual_time_guard_ends_as_time_limit() {
    let report = guarded(
        Limits {
            max_virtual_time: Some(ms(1000)),
            ..Limits::default()
        },
        ping_pong(),
    );
    assert_eq!(report.verdict, Verdict::TimeLimit);
    assert_eq!(report.end_time, Time::from_secs(1));
    // 2 starts and one delivery per millisecond up to and including 1 s.
    assert_eq!(report.events, 2 + 1000);
}

#[test]
fn wall_guard_ends_a_zero_delay_timer_storm() {
    // Virtual time never advances: only the wall guard can end this run.
    let storm = Script {
        start: |_, ctx| {
            ctx.set_timer(Duration::ZERO, 0);
        },
        timer: |_, ctx, _| {
            ctx.set_timer(Duration::ZERO, 0);
        },
        ..Script::default()
    };
    let report = guarded(
        Limits {
            max_wall: Some(ms(200)),
            // A backstop so a broken wall guard fails this test (as EventLimit, after some
            // seconds) instead of hanging it.
            max_events: Some(200_000_000),
            ..Limits::default()
        },
        storm,
    );
    assert_eq!(report.verdict, Verdict::WallLimit);
    assert_eq!(report.end_time, Time::ZERO);
    assert!(report.events > 1000, "it did run: {} events", report.events);
}

#[test]
fn a_panic_in_protocol_code_is_a_verdict_with_the_seed() {
    let script = Script {
        start: |_, ctx| {
            ctx.set_timer(ms(5), 0);
        },
        timer: |_, ctx, _| {
            if ctx.id() == NodeId(1) {
                panic!("boom at {}", ctx.id());
            }
        },
        ..Script::default()
    };
    let mut sim = Simulation::<Node>::new(config(3, 4242, constant_1ms(), ms(100)), script);
    let report = sim.run();
    assert_eq!(report.verdict, Verdict::Panicked("boom at n1".into()));
    assert_eq!(report.seed, 4242);
    assert_eq!(report.end_time, Time::from_millis(5));
}

/// A gossip-like protocol with random choices: every node wakes at random intervals, sends a
/// random value to a random peer, and forwards some of what it receives; it persists a
/// running sum so restarts carry state.
fn chatter() -> Script {
    Script {
        start: |_, ctx| {
            let d = uniform_u64(ctx.rng(), 1_000_000, 9_000_000);
            ctx.set_timer(Duration::from_nanos(d), 0);
        },
        recover: |node, ctx| {
            node.note = ctx.durable().iter().sum();
            ctx.set_timer(ms(3), 0);
        },
        message: |node, ctx, _, v| {
            node.note = node.note.wrapping_add(v);
            if chance(ctx.rng(), 0.3) {
                let n = ctx.node_count();
                let to = index(ctx.rng(), n) as u32;
                if to != ctx.id().0 {
                    ctx.send(NodeId(to), v / 2);
                }
            }
            if v % 7 == 0 {
                ctx.durable_mut().push(v);
            }
        },
        timer: |_, ctx, _| {
            let n = ctx.node_count();
            let to = index(ctx.rng(), n - 1) as u32;
            let to = if to >= ctx.id().0 { to + 1 } else { to };
            let v = uniform_u64(ctx.rng(), 0, 1_000_000);
            ctx.send(NodeId(to), v);
            let d = uniform_u64(ctx.rng(), 1_000_000, 9_000_000);
            ctx.set_timer(Duration::from_nanos(d), 0);
        },
    }
}

/// Faults of every kind the chatter runs get, some with role targets.
fn chatter_faults() -> Vec<(Time, Fault)> {
    let n = |i| Target::Node(NodeId(i));
    vec![
        (
            Time::from_millis(500),
            Fault::Partition(vec![vec![n(0), n(1)]]),
        ),
        (Time::from_millis(800), Fault::Crash(Target::Random)),
        (Time::from_millis(1200), Fault::Heal),
        (Time::from_millis(1500), Fault::Restart(Target::Crashed)),
        (
            Time::from_millis(1800),
            Fault::DelaySpike {
                target: n(2),
                extra: Latency::Uniform(0, 20_000_000),
                duration: sim::units::Dur::ms(300),
            },
        ),
        (Time::from_millis(2000), Fault::Pause(Target::Random)),
        (Time::from_millis(2100), Fault::Resume(Target::Paused)),
    ]
}

fn chatter_run(seed: u64, record: bool) -> RunReport {
    chatter_run_with(seed, record, chatter_faults())
}

fn chatter_run_with(seed: u64, record: bool, faults: Vec<(Time, Fault)>) -> RunReport {
    let p = LinkParams {
        latency: Latency::Exponential { mean: 3_000_000 },
        loss: 0.05,
        duplicate: 0.02,
        reorder: 0.1,
        kind: LinkKind::Datagram,
    };
    let mut cfg = config(5, seed, p, ms(3000));
    cfg.record_trace = record;
    let mut sim = Simulation::<Node>::new(cfg, chatter());
    for (t, f) in faults {
        sim.schedule_fault(t, f);
    }
    let report = sim.run();
    assert_eq!(report.verdict, Verdict::Completed);
    report
}

#[test]
fn applied_faults_name_the_nodes_roles_resolved_to_and_replay_the_same_run() {
    let a = chatter_run(11, false);
    assert_eq!(a.applied_faults.len(), chatter_faults().len());
    let role = |t: &Target| !matches!(t, Target::Node(_) | Target::Nodes(_) | Target::All);
    for (_, f) in &a.applied_faults {
        let roles = match f {
            Fault::Crash(t) | Fault::Restart(t) | Fault::Pause(t) | Fault::Resume(t) => role(t),
            Fault::Partition(g) => g.iter().flatten().any(role),
            _ => false,
        };
        assert!(!roles, "{f:?} still has a role target");
    }
    // The random crash and the restart of crashed nodes name the same single node; so do the
    // random pause and the resume of paused nodes.
    let nodes = |i: usize| match &a.applied_faults[i].1 {
        Fault::Crash(Target::Nodes(v))
        | Fault::Restart(Target::Nodes(v))
        | Fault::Pause(Target::Nodes(v))
        | Fault::Resume(Target::Nodes(v)) => v.clone(),
        other => panic!("fault {i} is {other:?}"),
    };
    assert_eq!(nodes(1).len(), 1);
    assert_eq!(nodes(1), nodes(3));
    assert_eq!(nodes(5).len(), 1);
    assert_eq!(nodes(5), nodes(6));
    let times: Vec<Time> = a.applied_faults.iter().map(|(t, _)| *t).collect();
    let want: Vec<Time> = chatter_faults().iter().map(|(t, _)| *t).collect();
    assert_eq!(times, want);
    let replay = chatter_run_with(11, false, a.applied_faults.clone());
    assert_eq!(replay.trace_hash, a.trace_hash);
    assert_eq!(replay.applied_faults, a.applied_faults);
}

#[test]
fn same_seed_same_trace_different_seed_different_hash() {
    let a = chatter_run(11, true);
    let b = chatter_run(11, true);
    assert!(a.events > 2000, "a non-trivial run: {} events", a.events);
    for kind in [EventKind::Drop, EventKind::Fault, EventKind::Start] {
        assert!(
            sim::trace::count_kind(&a.trace, kind) > 0,
            "the run exercises {kind:?}"
        );
    }
    assert_eq!(a.trace_hash, b.trace_hash);
    assert_eq!(a.trace, b.trace);
    assert_eq!(a.metrics, b.metrics);
    let c = chatter_run(12, true);
    assert_ne!(
        a.trace_hash, c.trace_hash,
        "a different seed gives a different run"
    );
    let unrecorded = chatter_run(11, false);
    assert_eq!(
        unrecorded.trace_hash, a.trace_hash,
        "recording does not change the run"
    );
    assert!(unrecorded.trace.is_empty());
}
