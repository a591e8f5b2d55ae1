//! Node faults: crash and restart, pause and resume, and the targets faults resolve to.

mod common;

use common::{Handled, Node, Script, config, link, ms, node};
use sim::{
    Context, Fault, Latency, LinkKind, LinkParams, NodeId, NodeStatus, Simulation, Target, Time,
    TraceRecord, Verdict,
};

fn n(i: u32) -> Target {
    Target::Node(NodeId(i))
}

fn constant_ms(d: u64) -> LinkParams {
    link(Latency::Constant(d * 1_000_000), LinkKind::Stream)
}

#[test]
fn crash_drops_in_flight_messages_timers_and_volatile_state() {
    // n0 sends to n1 at 0 ms (arrives at 10 ms) and, by a timer, to n2 at 3 ms (n2 is down).
    // n1 persists 42, sets a volatile note and an 8 ms timer; it crashes at 2 ms and restarts
    // at 5 ms, before both the message and the timer are due.
    let script = Script {
        start: |node, ctx| match ctx.id().0 {
            0 => {
                ctx.send(NodeId(1), 1);
                ctx.set_timer(ms(3), 0);
            }
            1 => {
                ctx.durable_mut().push(42);
                node.note = 99;
                ctx.set_timer(ms(8), 7);
            }
            _ => {}
        },
        timer: |_, ctx, _| {
            if ctx.id() == NodeId(0) {
                ctx.send(NodeId(2), 2);
            }
        },
        ..Script::default()
    };
    let mut sim = Simulation::<Node>::new(config(3, 1, constant_ms(10), ms(100)), script);
    sim.schedule_fault(Time::from_millis(1), Fault::Crash(n(2)));
    sim.schedule_fault(Time::from_millis(2), Fault::Crash(n(1)));
    sim.schedule_fault(Time::from_millis(5), Fault::Restart(n(1)));
    let report = sim.run();
    assert_eq!(report.verdict, Verdict::Completed);
    let n1 = node(&sim, 1);
    assert!(n1.recovered, "restart goes through Protocol::recover");
    assert_eq!(n1.durable_at_recover, vec![42], "durable state survives");
    assert_eq!(n1.note, 0, "volatile state does not");
    assert!(
        n1.got.is_empty(),
        "a message sent before the crash: {:?}",
        n1.got
    );
    assert!(
        n1.fired.is_empty(),
        "a timer set before the crash: {:?}",
        n1.fired
    );
    assert_eq!(sim.view().status(NodeId(2)), NodeStatus::Crashed);
    assert!(sim.view().node(NodeId(2)).is_none());
    // One drop for the message in flight to n1, one for the message sent to the crashed n2.
    assert_eq!(report.metrics.counter("net.dropped_node_down"), 2);
    assert_eq!(report.metrics.counter("net.delivered"), 0);
}

#[test]
fn restarted_node_receives_new_messages_and_timers() {
    // The contrast to the test above: after a restart the node works normally.
    let script = Script {
        recover: |_, ctx| {
            ctx.set_timer(ms(1), 5);
        },
        timer: |_, ctx, tag| {
            if ctx.id() == NodeId(0) {
                ctx.send(NodeId(1), tag);
            }
        },
        start: |_, ctx| {
            if ctx.id() == NodeId(0) {
                ctx.set_timer(ms(20), 3);
            }
        },
        ..Script::default()
    };
    let mut sim = Simulation::<Node>::new(config(2, 1, constant_ms(1), ms(100)), script);
    sim.schedule_fault(Time::from_millis(2), Fault::Crash(n(1)));
    sim.schedule_fault(Time::from_millis(5), Fault::Restart(n(1)));
    sim.run();
    let n1 = node(&sim, 1);
    assert_eq!(n1.fired.len(), 1);
    assert_eq!(n1.fired[0].at, Time::from_millis(6));
    assert_eq!(n1.got.len(), 1);
    assert_eq!(n1.got[0].at, Time::from_millis(21));
}

/// The pause scenario: n1 is paused from 10 ms to 50 ms.
///
/// - n0 sends A at 0 ms over a 15 ms link (arrives 15 ms);
/// - n2 sends B at 13 ms over a 1 ms link (arrives 14 ms: B arrives before A, though it was
///   scheduled after A and after n1's timers);
/// - n1's own timers: tag 1 due at 20 ms, tag 2 due at 30 ms (which A cancels), tag 3 at 70 ms.
fn pause_run() -> (Simulation<Node>, sim::RunReport) {
    let script = Script {
        start: |node, ctx| match ctx.id().0 {
            0 => ctx.send(NodeId(1), 100),
            1 => {
                ctx.set_timer(ms(20), 1);
                let t2 = ctx.set_timer(ms(30), 2);
                node.timers.push(t2);
                ctx.set_timer(ms(70), 3);
            }
            _ => {
                ctx.set_timer(ms(13), 0);
            }
        },
        timer: |_, ctx, _| {
            if ctx.id() == NodeId(2) {
                ctx.send(NodeId(1), 200);
            }
        },
        message: |node, ctx, _, msg| {
            if msg == 100 {
                let t2 = node.timers[0];
                ctx.cancel_timer(t2);
            }
        },
        ..Script::default()
    };
    let mut cfg = config(3, 1, constant_ms(1), ms(100));
    cfg.network
        .links
        .insert((NodeId(0), NodeId(1)), constant_ms(15));
    let mut sim = Simulation::<Node>::new(cfg, script);
    sim.schedule_fault(Time::from_millis(10), Fault::Pause(n(1)));
    sim.schedule_fault(Time::from_millis(50), Fault::Resume(n(1)));
    let report = sim.run();
    (sim, report)
}

#[test]
fn pause_holds_events_and_resume_handles_them_in_arrival_order() {
    let (sim, report) = pause_run();
    assert_eq!(report.verdict, Verdict::Completed);
    let n1 = node(&sim, 1);
    // Arrival order: B (14 ms), A (15 ms), timer 1 (20 ms); timer 2 (30 ms) was cancelled by A
    // before it could run; timer 3 (70 ms) is after the resume.
    assert_eq!(
        n1.handled,
        vec![
            Handled::Message(NodeId(2), 200),
            Handled::Message(NodeId(0), 100),
            Handled::Timer(1),
            Handled::Timer(3),
        ]
    );
    // Nothing ran while paused; the clock kept going, so the node reads 50 ms at resume.
    for g in &n1.got {
        assert_eq!(
            (g.at, g.local),
            (Time::from_millis(50), Time::from_millis(50))
        );
    }
    assert_eq!(n1.fired[0].at, Time::from_millis(50));
    assert_eq!(n1.fired[0].local, Time::from_millis(50));
    assert_eq!(n1.fired[1].at, Time::from_millis(70));
}

#[test]
fn crash_while_paused_drops_held_events() {
    // n0 sends to n1 every 5 ms; n1 is paused at 10 ms, crashed at 20 ms and restarted at 30 ms.
    let script = Script {
        start: |_, ctx| {
            if ctx.id() == NodeId(0) {
                ctx.set_timer(ms(5), 0);
            }
        },
        timer: |_, ctx, _| {
            let t = ctx.true_time().as_nanos() / 1_000_000;
            ctx.send(NodeId(1), t);
            ctx.set_timer(ms(5), 0);
        },
        ..Script::default()
    };
    let mut sim = Simulation::<Node>::new(config(2, 1, constant_ms(1), ms(42)), script);
    sim.schedule_fault(Time::from_millis(10), Fault::Pause(n(1)));
    sim.schedule_fault(Time::from_millis(20), Fault::Crash(n(1)));
    sim.schedule_fault(Time::from_millis(30), Fault::Restart(n(1)));
    sim.run();
    let sent: Vec<u64> = node(&sim, 1).got.iter().map(|g| g.msg).collect();
    // Held messages (sent at 10 and 15 ms) died with the crash; those sent at 20 and 25 ms
    // reached a crashed node; the restarted node (a fresh state) sees only what came after.
    assert_eq!(sent, vec![30, 35, 40]);
}

/// Fault events of a recorded trace, as `(time in ms, node)`.
fn fault_hits(trace: &[TraceRecord]) -> Vec<(u64, Option<u32>)> {
    trace
        .iter()
        .filter(|e| e.kind == sim::RecordKind::Fault)
        .map(|e| (e.time_ns / 1_000_000, e.node))
        .collect()
}

/// n3 leads in term 7, n4 in term 5, n1 in term 3.
fn leaders_start(node: &mut Node, ctx: &mut Context<'_, Node>) {
    node.lead = match ctx.id().0 {
        1 => Some(3),
        3 => Some(7),
        4 => Some(5),
        _ => None,
    };
}

#[test]
fn leader_and_crashed_targets_resolve_when_the_fault_fires() {
    let script = Script {
        start: leaders_start,
        ..Script::default()
    };
    let mut cfg = config(6, 1, constant_ms(1), ms(100));
    cfg.record_trace = true;
    let mut sim = Simulation::<Node>::new(cfg, script);
    sim.schedule_fault(Time::from_millis(10), Fault::Crash(Target::Leader));
    sim.schedule_fault(Time::from_millis(20), Fault::Crash(Target::Leader));
    sim.schedule_fault(Time::from_millis(25), Fault::Crash(n(0)));
    sim.schedule_fault(Time::from_millis(30), Fault::Restart(Target::Crashed));
    let report = sim.run();
    // The highest term first (n3), then the highest among the live (n4).
    let hits = fault_hits(&report.trace);
    assert_eq!(hits[..3], [(10, Some(3)), (20, Some(4)), (25, Some(0))]);
    let recovered: Vec<u32> = report
        .trace
        .iter()
        .filter(|e| e.kind == sim::RecordKind::Restart)
        .map(|e| e.node.unwrap())
        .collect();
    assert_eq!(
        recovered,
        vec![0, 3, 4],
        "Restart(Crashed) restarts all crashed nodes"
    );
    for i in 0..6 {
        assert_eq!(sim.view().status(NodeId(i)), NodeStatus::Up);
    }
}

#[test]
fn random_and_follower_targets_pick_live_nodes() {
    let script = Script {
        start: leaders_start,
        ..Script::default()
    };
    let mut cfg = config(8, 9, constant_ms(1), ms(1000));
    cfg.record_trace = true;
    let mut sim = Simulation::<Node>::new(cfg, script);
    sim.schedule_fault(
        Time::from_millis(1),
        Fault::Crash(Target::Nodes(vec![NodeId(0), NodeId(2)])),
    );
    // A zero clock jump changes nothing but records which node it hit.
    for i in 0..200 {
        let target = if i % 2 == 0 {
            Target::Random
        } else {
            Target::Follower
        };
        sim.schedule_fault(
            Time::from_millis(10 + i),
            Fault::ClockJump {
                target,
                by: sim::units::SignedDur(0),
            },
        );
    }
    let report = sim.run();
    let hits = fault_hits(&report.trace);
    let pick = |parity: u64| -> std::collections::BTreeSet<u32> {
        hits.iter()
            .filter(|(t, _)| *t >= 10 && (t - 10) % 2 == parity)
            .map(|(_, node)| node.expect("one node hit"))
            .collect()
    };
    // Live nodes are n1, n3..n7; of those, n1 (term 3), n3 and n4 lead.
    assert_eq!(
        pick(0).into_iter().collect::<Vec<_>>(),
        vec![1, 3, 4, 5, 6, 7]
    );
    assert_eq!(pick(1).into_iter().collect::<Vec<_>>(), vec![5, 6, 7]);
}

#[test]
fn a_cut_after_arrival_does_not_drop_a_message_held_by_a_paused_node() {
    // n0 sends at 12 ms; the message reaches the paused n1 at 13 ms and waits there. The link
    // is cut (20 ms) and healed (30 ms) after it arrived; the message is no longer in flight,
    // so the node must still handle it when it resumes at 40 ms.
    let script = Script {
        start: |_, ctx| {
            if ctx.id() == NodeId(0) {
                ctx.set_timer(ms(12), 0);
            }
        },
        timer: |_, ctx, _| ctx.send(NodeId(1), 5),
        ..Script::default()
    };
    let mut sim = Simulation::<Node>::new(config(2, 1, constant_ms(1), ms(100)), script);
    sim.schedule_fault(Time::from_millis(10), Fault::Pause(n(1)));
    sim.schedule_fault(
        Time::from_millis(20),
        Fault::CutLink(Target::Node(NodeId(0)), Target::Node(NodeId(1))),
    );
    sim.schedule_fault(Time::from_millis(30), Fault::Heal);
    sim.schedule_fault(Time::from_millis(40), Fault::Resume(n(1)));
    let report = sim.run();
    let got: Vec<(Time, u64)> = node(&sim, 1).got.iter().map(|g| (g.at, g.msg)).collect();
    assert_eq!(got, vec![(Time::from_millis(40), 5)]);
    assert_eq!(report.metrics.counter("net.dropped_in_flight"), 0);
}
